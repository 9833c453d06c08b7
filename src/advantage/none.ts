import { checkBatch, defineEstimator, outputFor, zeroNullAdvantages } from './types.js';

/**
 * `none` — no baseline, no scaling: the advantage is the reward itself (plain REINFORCE). Useful to
 * pass rewards through a pipeline that expects an `advantage` field, or as a control.
 *
 * @example
 * # rewards [1, 0, null] → [1, 0, 0] (a null reward does not move the policy)
 */
export const noneEstimator = defineEstimator({
  estimator: 'none',
  summary: 'Advantage = reward (no baseline, no scaling).',
  params: {},
  create() {
    return {
      compute(b, dest) {
        checkBatch(b);
        const out = outputFor(b.rewards.length, dest);
        out.set(b.rewards);
        return zeroNullAdvantages(b.rewards, out);
      },
    };
  },
});
