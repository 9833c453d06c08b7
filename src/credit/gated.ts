import * as z from 'zod';
import { creditThenBroadcast, defineCredit, groupEstimator, groupEstimatorParam } from './types.js';

/**
 * `gated` — step-level G-RA, Gated Reward Accumulation ("Stabilizing Long-term Multi-turn Reinforcement
 * Learning with Gated Rewards", Sun et al. 2025, arXiv 2508.10548). The episode reward is the
 * high-level reward r_high, each step's given `reward` the low-level reward r_low_t (missing = 0):
 * `r̃_t = r_low_t if r_high ≥ threshold else 0`, and `R = r_high + Σ_t r̃_t`. The step rewards
 * written out are r̃_t, with r_high added to the last step, so they sum to R (a rollout without
 * steps has R = r_high). The advantage is GRPO (or RLOO) of R within the group, broadcast to every
 * step. A failed episode (r_high < threshold) never gets step credit: no amount of r_low can raise
 * its R (the paper's anti-hacking claim; D-RA, ungated accumulation, collapses).
 * Reference: mechanics-A §2 [SEC].
 *
 * @example
 * # threshold 0, r_low [0.2, 0.3]: r_high −1 → R = −1 (rewards [0, −1]); r_high 1 → R = 1.5 ([0.2, 1.3])
 */
export const gatedCredit = defineCredit({
  method: 'gated',
  summary: 'G-RA: step rewards accumulate only when the episode reward reaches the threshold.',
  params: {
    threshold: z.number().default(0).describe('Δ: step rewards count only when the episode reward is ≥ Δ.'),
    estimator: groupEstimatorParam,
    eps: z.number().nonnegative().default(1e-6).describe('GRPO: added to the group std (verl 1e-6).'),
  },
  create(p) {
    const est = groupEstimator(p.estimator, p.eps);
    return {
      compute(b) {
        const reward = b.reward;
        return creditThenBroadcast(b, est, (s, e, o, out) => {
          const open = o >= p.threshold;
          let R = o;
          for (let k = s; k < e; k++) {
            const v = open && reward[k] === reward[k] ? reward[k] : 0;
            out[k] = v;
            R += v;
          }
          if (e > s) out[e - 1] += o;
          return R;
        });
      },
    };
  },
});
