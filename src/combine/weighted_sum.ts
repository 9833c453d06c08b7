import { defineCombiner } from './types.js';
import { finishSum, weightedComponents } from './terms.js';

/**
 * `weighted_sum` (the default) — `R = Σ_k w_k·c_k` over the components, `w_k` being each component's
 * `weight` (default 1). This is the multi-reward baseline of GRPO trainers (TRL `reward_weights`,
 * verl's summed reward functions). Components with weight 0 are not read (logged only).
 *
 * Nulls: `exclude` (default, TRL's `nansum`) sums the present terms, so a null term adds 0 and never
 * pays more than a wrong (0) answer; `renormalize` scales the sum of the present terms by
 * Σ|w| / Σ|w|_present (with positive weights: a missing component is imputed by the weighted mean of
 * the present ones — warning: an answer that cannot be judged then earns its format term rescaled
 * up, more than a wrong answer); `zero` counts nulls as 0; `null` makes the reward null. Every
 * component null: null (0 under `zero`).
 *
 * @example
 * # spec
 * components:
 *   - {name: correct, grader: numeric, weight: 1.0}
 *   - {name: format, grader: regex, pattern: '…', weight: 0.2}
 * combine: {type: weighted_sum}
 * # correct = 1, format = 0.5 → 1·1 + 0.2·0.5 = 1.1
 * # correct = 1, format = null → exclude: 1; zero: 1; null: null; renormalize: 1·1 · (1.2 / 1) = 1.2
 * # correct = null, format = 1 → exclude: 0.2 (as a wrong answer with format 1); renormalize: 1.2 (!)
 */
export const weightedSumCombiner = defineCombiner({
  type: 'weighted_sum',
  summary: 'Σ weight·component (the default).',
  params: {},
  create(params, ctx) {
    const { idx, w } = weightedComponents(ctx);
    const policy = params.on_null;
    let absAll = 0;
    for (const x of w) absAll += Math.abs(x);
    return {
      combine(row) {
        let sum = 0;
        let absPresent = 0;
        let nNull = 0;
        for (let j = 0; j < idx.length; j++) {
          const v = row[idx[j]];
          if (Number.isNaN(v)) nNull++;
          else {
            sum += w[j] * v;
            absPresent += Math.abs(w[j]);
          }
        }
        return finishSum(policy, sum, absAll, absPresent, nNull, idx.length - nNull);
      },
    };
  },
});
