import { Scratch, checkBatch, defineEstimator, groupCentred, zeroNullAdvantages } from './types.js';

/**
 * `rloo` — REINFORCE leave-one-out: `A_i = r_i − mean_{j≠i} r_j = n/(n−1)·(r_i − mean_g)`, i.e.
 * n/(n−1) times `dr_grpo`, n counting the group's non-null rewards only. A group of one gets A = r
 * (no other sample to compare with).
 *
 * Paper: "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback
 * in LLMs" (Ahmadian et al., 2024). Numerics [SRC]: verl `compute_rloo_outcome_advantage`.
 *
 * @example
 * # one group, rewards [1, 0, 0, 1] → [0.6667, −0.6667, −0.6667, 0.6667]
 */
export const rlooEstimator = defineEstimator({
  estimator: 'rloo',
  summary: 'Leave-one-out baseline: r − mean of the other rollouts of the group.',
  params: {},
  create() {
    const scratch = new Scratch();
    return {
      compute(b, dest) {
        checkBatch(b);
        const { out, moments } = groupCentred(b, scratch, dest);
        const count = moments.count;
        const groupOf = b.groupOf;
        for (let i = 0; i < out.length; i++) {
          const n = count[groupOf[i]];
          if (n > 1) out[i] *= n / (n - 1);
        }
        return zeroNullAdvantages(b.rewards, out);
      },
    };
  },
});
