import { defineCombiner } from './types.js';
import { requireNonNegativeWeights, weightedComponents } from './terms.js';

/**
 * `min` — `R = min_k c_k`: the reward is the worst criterion, so no component can compensate for
 * another (a conjunctive "all criteria must hold" reward). Weights do not scale the values — a
 * scaled min would mostly pick whichever component has the smallest weight — they only select:
 * a component with weight 0 is not read (logged only), negative weights are rejected.
 *
 * Nulls: `exclude` (default) treats a null as a criterion that does not hold: it counts as 0
 * (`min(present…, 0)`), so a rollout cannot escape its worst criterion by making it unjudgeable;
 * every component null gives null. `zero` is the same but gives 0 when every component is null.
 * `renormalize` takes the min of the present values only (warning: an unjudged criterion is then
 * ignored, so it can pay more than a failed one); `null` makes the reward null.
 *
 * @example
 * # spec: components helpful, harmless, honest (weight 1 each)
 * combine: {type: min}
 * # helpful = 0.9, harmless = 0.4, honest = 0.7 → 0.4
 * # helpful = 0.9, harmless = null, honest = 0.7 → exclude / zero: 0; renormalize: 0.7; null: null
 */
export const minCombiner = defineCombiner({
  type: 'min',
  summary: 'Smallest component value (weights only select: weight 0 = not read).',
  params: {},
  create(params, ctx) {
    requireNonNegativeWeights(ctx, 'min');
    const { idx } = weightedComponents(ctx);
    const policy = params.on_null;
    return {
      combine(row) {
        let m = Infinity;
        let nNull = 0;
        for (let j = 0; j < idx.length; j++) {
          const v = row[idx[j]];
          if (Number.isNaN(v)) nNull++;
          else if (v < m) m = v;
        }
        if (nNull > 0) {
          if (policy === 'null') return NaN;
          if (policy === 'zero' || (policy === 'exclude' && nNull < idx.length)) return Math.min(m, 0);
        }
        // No value read (all null, or no weighted component): the min of nothing is null.
        return nNull === idx.length ? NaN : m;
      },
    };
  },
});
