import { allocMoments, groupMoments } from '../shape/stats.js';

/** What {@link neutralRewards} returns. */
export interface NeutralRewards {
  /** The reward to send per rollout: its own when judged, else the neutral value. */
  values: Float64Array;
  /** 1 where the rollout's reward was judged (non-null), 0 where a neutral value was sent. */
  judged: Uint8Array;
  /** Null rewards replaced by their group's mean judged reward. */
  groupMean: number;
  /** Null rewards in a group without any judged reward, replaced by `fallback`. */
  noJudged: number;
}

/**
 * For reward-only protocols (OpenRLHF `/get_reward`, verl `compute_score`, TRL reward functions),
 * where the trainer computes the advantages and a null cannot be sent: the value that makes a
 * rollout the reward cannot judge neutral for a group-relative estimator. A null reward becomes the
 * mean of its group's judged rewards, so its GRPO / Dr.GRPO / RLOO advantage is exactly 0 (the others
 * keep their sign and order; their scale changes slightly, as in a group one larger; a group with a
 * single judged rollout then ties, advantage 0, where verl's group-of-one rule would have kept its
 * raw reward); in a group
 * with no judged reward every rollout gets `fallback` (default 0) — a constant group, advantage 0
 * under any group-relative estimator. Not neutral for batch-level estimators without a group
 * baseline (REINFORCE++ `reinforce_plus_plus`): there the rollout is compared with the batch mean.
 *
 * @example
 * neutralRewards(Float64Array.of(1, 0, NaN, NaN), Int32Array.of(0, 0, 0, 1), 2)
 * // values [1, 0, 0.5, 0], judged [1, 1, 0, 0], groupMean 1, noJudged 1
 */
export function neutralRewards(rewards: Float64Array, groupOf: Int32Array, groupCount: number, fallback = 0): NeutralRewards {
  const n = rewards.length;
  const m = groupMoments(rewards, groupOf, allocMoments(groupCount));
  const values = new Float64Array(n);
  const judged = new Uint8Array(n);
  let groupMean = 0;
  let noJudged = 0;
  for (let i = 0; i < n; i++) {
    const r = rewards[i]!;
    if (r === r) {
      values[i] = r;
      judged[i] = 1;
      continue;
    }
    const g = groupOf[i]!;
    if (m.count[g]! > 0) {
      values[i] = m.pivot[g]! + m.shift[g]!;
      groupMean++;
    } else {
      values[i] = fallback;
      noJudged++;
    }
  }
  return { values, judged, groupMean, noJudged };
}
