import * as z from 'zod';
import { checkStepBatch, defineCredit, missingStepValue, newOutput, signalOf, stepAdvantage, stepAdvantageParam, whitenParam, voidRollout } from './types.js';

/**
 * `rest_mcts` — process-reward (value) inference along a path, from "ReST-MCTS*: LLM Self-Training
 * via Process Reward Guided Tree Search" (Zhang et al., 2024; repo THUDM/ReST-MCTS). Reference:
 * mechanics-B §18 [TXT: the paper's formula; the code was not conclusive].
 *
 * For the partial solution ending at step k: `w_k = (1 − v_{k−1})/(m_k + 1)·(1 − 2·r_k)` and
 * `v_k = max(v_{k−1} + w_k, 0)`, v before the first step = 0. r_k ∈ {0, 1} is the single-step
 * process reward (0 = correct/useful step): `r_k = 1 − q_k` with q_k the step signal named by
 * `quality` (1 = correct; values in between are taken as they are — an extension), or 0 for every
 * step without `quality`. m_k is the reasoning distance, the fewest steps from s_k to the correct
 * answer: the step signal named by `distance` when given (≥ 0); otherwise inferred from the rollout
 * itself [INF, the project's reading]: on a rollout whose episode reward reaches `threshold` the path
 * is a way to the answer, so m_k = the steps left after k (0 on the last step, which then ends at
 * v = 1); a rollout below the threshold never reaches the answer, its distance is infinite and every
 * v stays 0. Along a correct path without quality scores v grows linearly, v_k = (k+1)/T.
 * v stays in [0, 1]; an incorrect step (r = 1) never raises it.
 *
 * Step rewards are the value increments `v_k − v_{k−1}` (they sum to the final v, the return; 0 for
 * a rollout without steps); the advantage follows `advantage` (with γ = 1).
 *
 * @example
 * # correct path, m = [2, 1, 0], r = 0 → v = [0.333, 0.667, 1]
 * # wrong 2nd step: r = [0, 1, 0], m = [2, 2, 1] → v = [0.333, 0.111, 0.556]
 */
export const restMctsCredit = defineCredit({
  method: 'rest_mcts',
  summary: 'ReST-MCTS* value inference along a path: v_k = max(v + (1 − v)/(m + 1)·(1 − 2r), 0); step reward = v increment.',
  params: {
    quality: z.string().min(1).optional().describe('Step signal: the step’s correctness q in [0, 1] (1 = correct), r = 1 − q; default: every step correct.'),
    distance: z.string().min(1).optional().describe('Step signal: the reasoning distance m_k ≥ 0 to the correct answer; default: steps left on a successful rollout, infinite on a failed one.'),
    threshold: z.number().default(1).describe('A rollout whose episode reward is ≥ threshold reached the correct answer (used when distance is not given).'),
    advantage: stepAdvantageParam,
    whiten: whitenParam,
  },
  signals: (p) => [
    ...(p.quality === undefined ? [] : [{ param: 'quality', signal: p.quality }]),
    ...(p.distance === undefined ? [] : [{ param: 'distance', signal: p.distance }]),
  ],
  create(p) {
    const advantage = stepAdvantage(p.advantage, 1, p.whiten);
    return {
      compute(b) {
        checkStepBatch(b);
        const Q = p.quality === undefined ? undefined : signalOf(b, p.quality, 'quality');
        const M = p.distance === undefined ? undefined : signalOf(b, p.distance, 'distance');
        const out = newOutput(b);
        const { offsets } = b;
        const r = out.reward;
        for (let i = 0; i < b.outcome.length; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const o = b.outcome[i];
          if (o !== o) {
            voidRollout(out, i, s, e);
            continue;
          }
          const reached = o >= p.threshold;
          let v = 0;
          for (let k = s; k < e; k++) {
            let m: number;
            if (M !== undefined) {
              m = M[k];
              if (m !== m) throw missingStepValue(b, k, `value for signal "${p.distance}" (credit.distance)`, 'rest_mcts needs one on every step');
              if (m < 0) throw new RangeError(`rollout ${i}: steps[${k - s}] has distance ${m} (signal "${p.distance}"); must be ≥ 0`);
            } else m = reached ? e - 1 - k : Infinity;
            let bad = 0;
            if (Q !== undefined) {
              const q = Q[k];
              if (q !== q) throw missingStepValue(b, k, `value for signal "${p.quality}" (credit.quality)`, 'rest_mcts needs one on every step');
              if (q < 0 || q > 1) throw new RangeError(`rollout ${i}: steps[${k - s}] has quality ${q} (signal "${p.quality}"); must be in [0, 1]`);
              bad = 1 - q;
            }
            const next = Math.max(v + ((1 - v) / (m + 1)) * (1 - 2 * bad), 0);
            r[k] = next - v;
            v = next;
          }
          out.returns[i] = v;
        }
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
