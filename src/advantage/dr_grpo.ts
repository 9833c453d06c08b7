import { Scratch, checkBatch, defineEstimator, groupCentred, zeroNullAdvantages } from './types.js';

/**
 * `dr_grpo` — GRPO without the std division: `A_i = r_i − mean_g` (a group of one: mean 0, so A = r).
 *
 * Paper: "Understanding R1-Zero-Like Training: A Critical Perspective" (Liu et al., 2025), which
 * also changes the loss aggregation (out of scope here). Numerics [SRC]: verl
 * `compute_grpo_outcome_advantage` with `norm_adv_by_std_in_grpo=False`; TRL `scale_rewards: none`.
 *
 * @example
 * # one group, rewards [1, 0, 0, 1] → [0.5, −0.5, −0.5, 0.5]
 */
export const drGrpoEstimator = defineEstimator({
  estimator: 'dr_grpo',
  summary: 'Group mean baseline without std scaling: r − group mean.',
  params: {},
  create() {
    const scratch = new Scratch();
    return {
      compute(b, dest) {
        checkBatch(b);
        return zeroNullAdvantages(b.rewards, groupCentred(b, scratch, dest).out);
      },
    };
  },
});
