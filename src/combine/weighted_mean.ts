import { defineCombiner } from './types.js';
import { requireNonNegativeWeights, weightedComponents } from './terms.js';

/**
 * `weighted_mean` — `R = Σ_k w_k·c_k / Σ_k w_k`; with the default weights (all 1) the plain mean.
 * Rubric-style scoring (HeRL's rubric judge: `Σ w·1[met] / Σ w`). Weights must be ≥ 0 so the reward
 * stays within [min, max] of the components; components with weight 0 are not read.
 *
 * Nulls: `exclude` (default) leaves a null out of the numerator but keeps its weight in the
 * denominator, `Σ_present w·c / Σ_all w` — a null adds nothing, as a 0 would; `renormalize` takes the
 * mean over the present components only (`Σ_present w·c / Σ_present w`: warning — the present
 * components are scaled up, so an unjudged answer can outscore a wrong one); `zero` is `exclude` but
 * gives 0 instead of null when every component is null; `null` makes the reward null.
 *
 * @example
 * # spec: components a (weight 3), b (weight 1)
 * combine: {type: weighted_mean}
 * # a = 1, b = 0 → (3·1 + 1·0) / 4 = 0.75
 * # a = null, b = 0.5 → exclude / zero: (0 + 0.5) / 4 = 0.125; renormalize: 0.5
 */
export const weightedMeanCombiner = defineCombiner({
  type: 'weighted_mean',
  summary: 'Σ weight·component / Σ weight (plain mean with default weights).',
  params: {},
  create(params, ctx) {
    requireNonNegativeWeights(ctx, 'weighted_mean');
    const { idx, w } = weightedComponents(ctx);
    const policy = params.on_null;
    let wAll = 0;
    for (const x of w) wAll += x;
    return {
      combine(row) {
        let sum = 0;
        let wPresent = 0;
        let nNull = 0;
        for (let j = 0; j < idx.length; j++) {
          const v = row[idx[j]];
          if (Number.isNaN(v)) nNull++;
          else {
            sum += w[j] * v;
            wPresent += w[j];
          }
        }
        // With no components read at all this is 0/0: the mean of nothing is null.
        if (nNull === 0) return sum / wPresent;
        if (policy === 'zero') return sum / wAll;
        if (policy === 'null' || nNull === idx.length) return NaN;
        return policy === 'exclude' ? sum / wAll : sum / wPresent;
      },
    };
  },
});
