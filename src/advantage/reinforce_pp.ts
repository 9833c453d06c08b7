import * as z from 'zod';
import { checkBatch, defineEstimator, outputFor, zeroNullAdvantages } from './types.js';
import { whiten } from './whiten.js';

/**
 * `reinforce_pp` — REINFORCE++ on outcome rewards: batch whitening `A_i = (r_i − μ)/√(var + 1e-8)`
 * over every non-null reward of the batch (no group baseline), var with Bessel's correction.
 *
 * Paper: "REINFORCE++: A Simple and Efficient Approach for Aligning Large Language Models" (Hu,
 * 2025, arXiv 2501.03262). Numerics [SRC]: verl `compute_reinforce_plus_plus_outcome_advantage`
 * + `masked_whiten`. verl computes token returns `G_t = r_t + γ·G_{t+1}` and whitens over all
 * tokens; with one outcome reward per rollout and γ = 1 every token of rollout i has G = r_i, so
 * this is the same computation one value per rollout. Token weighting (long responses weigh more
 * in μ and var, as in verl) applies when the batch carries `tokenLengths`; without it each rollout
 * counts once. γ < 1 (which makes the advantage vary along the tokens) is not supported. A batch
 * with total weight ≤ 1 gets 0 (verl raises).
 *
 * @example
 * # rewards [1, 1, 1, 0, 0]: μ 0.6, var 0.3 → [0.7303, 0.7303, 0.7303, −1.0954, −1.0954]
 */
export const reinforcePpEstimator = defineEstimator({
  estimator: 'reinforce_pp',
  summary: 'REINFORCE++: batch whitening of outcome rewards (token-weighted when token lengths are given).',
  params: {
    eps: z.number().nonnegative().default(1e-8).describe('Added to the variance under the square root (verl masked_whiten 1e-8).'),
  },
  create(p) {
    return {
      compute(b, dest) {
        checkBatch(b);
        return zeroNullAdvantages(b.rewards, whiten(b.rewards, outputFor(b.rewards.length, dest), p.eps, b.tokenLengths));
      },
    };
  },
});
