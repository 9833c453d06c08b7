import * as z from 'zod';
import { Scratch, checkBatch, defineEstimator, groupCentred, zeroNullAdvantages } from './types.js';
import { whiten } from './whiten.js';

/**
 * `reinforce_pp_baseline` — REINFORCE++ with a group baseline: `d_i = r_i − mean_g` (a group of one:
 * mean 0), then batch whitening of d as in {@link reinforcePpEstimator `reinforce_pp`}
 * (token-weighted when the batch carries `tokenLengths`).
 *
 * Paper: "REINFORCE++: A Simple and Efficient Approach for Aligning Large Language Models" (Hu,
 * 2025). Numerics [SRC]: verl `compute_reinforce_plus_plus_baseline_outcome_advantage`.
 *
 * @example
 * # groups [1, 0] and [1, 1, 0]: d = [0.5, −0.5, 0.3333, 0.3333, −0.6667]; μ_d = 0,
 * # var_d = 1.1667/4 → [0.9258, −0.9258, 0.6172, 0.6172, −1.2344]
 */
export const reinforcePpBaselineEstimator = defineEstimator({
  estimator: 'reinforce_pp_baseline',
  summary: 'REINFORCE++-baseline: group mean subtracted, then batch whitening.',
  params: {
    eps: z.number().nonnegative().default(1e-8).describe('Added to the variance under the square root (verl masked_whiten 1e-8).'),
  },
  create(p) {
    const scratch = new Scratch();
    return {
      compute(b, dest) {
        checkBatch(b);
        const d = groupCentred(b, scratch, dest).out;
        return zeroNullAdvantages(b.rewards, whiten(d, d, p.eps, b.tokenLengths));
      },
    };
  },
});
