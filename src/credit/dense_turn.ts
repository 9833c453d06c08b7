import * as z from 'zod';
import { creditThenBroadcast, defineCredit, groupEstimator, groupEstimatorParam } from './types.js';

/**
 * `dense_turn` — dense turn-level rewards with the normalisation of "A Practitioner's Guide to
 * Multi-turn Agentic Reinforcement Learning" (repo pearls-lab/meow-tea-taro,
 * `agentic_utils/reward_manager/agentic_verified.py`). Each step's given `reward` is the
 * intermediate reward `interm_k` (missing = 0). Win (episode reward > 0): `reward_k = interm_k / N`
 * with N = #{interm > 0}; loss: N = `max_total_rewards` (the environment's maximum number of reward
 * events); N = max(1, N). A win with every reward event at 1 so sums to 1, a loss to its fraction of
 * progress. The rollout's return is Σ reward_k; the advantage is GRPO (or RLOO) of the returns within
 * the group, broadcast to every step — GRPO/RLOO sum the turn rewards, so the placement of the
 * rewards is lost (which is why dense rewards help PPO/GAE most: use `gae` for placement-aware credit).
 * Reference: mechanics-A §19 [SRC].
 *
 * @example
 * # interm [1, 0, 1], win → [0.5, 0, 0.5]; loss with max_total_rewards 4 → [0.25, 0, 0.25]
 */
export const denseTurnCredit = defineCredit({
  method: 'dense_turn',
  summary: "Practitioner's Guide dense turn rewards: interm/N (win: N = #positive, loss: N = max_total_rewards).",
  params: {
    max_total_rewards: z.number().int().positive().describe('Loss normaliser N: the maximum number of reward events of the environment.'),
    estimator: groupEstimatorParam,
    eps: z.number().nonnegative().default(1e-6).describe('GRPO: added to the group std (verl 1e-6).'),
  },
  create(p) {
    const est = groupEstimator(p.estimator, p.eps);
    return {
      compute(b) {
        const reward = b.reward;
        return creditThenBroadcast(b, est, (s, e, o, out) => {
          let N = p.max_total_rewards;
          if (o > 0) {
            N = 0;
            for (let k = s; k < e; k++) if (reward[k] > 0) N++;
          }
          N = Math.max(1, N);
          let sum = 0;
          for (let k = s; k < e; k++) {
            const v = reward[k] === reward[k] ? reward[k] / N : 0;
            out[k] = v;
            sum += v;
          }
          return sum;
        });
      },
    };
  },
});
