import { defineCombiner } from './types.js';
import { weightedComponents } from './terms.js';

/**
 * `product` — `R = Π_k c_k^{w_k}`; with the default weights (all 1) the plain product. A conjunctive
 * reward for scores in [0, 1] (probabilities, pass rates): one zero zeroes the reward, and weights act
 * as exponents (`exp(Σ w·log c)`, a weighted geometric combination). Components with weight 0 are not read.
 *
 * Signs: powers are JavaScript's `Math.pow`. With integer weights a negative value keeps its algebraic
 * sign (`(-0.5)·0.8 = -0.4`); a negative value raised to a fractional exponent has no real value, and a
 * zero raised to a negative weight is infinite — both make the reward null, as does any non-finite result.
 * Use it for non-negative components; for signed scores prefer `weighted_sum` or `formula`.
 *
 * Nulls: `exclude` (default) treats a null factor as a criterion that does not hold: it counts as 0
 * (so the reward is 0, or null for a negative weight), never as a neutral factor 1 that would pay an
 * unjudged rollout more than a failed one; every component null gives null. `zero` is the same but
 * gives 0 when every component is null. `renormalize` scales every exponent by Σ|w| / Σ|w|_present
 * (the log-space analogue of `weighted_sum`: a missing factor is imputed by the weighted geometric
 * mean of the present ones — warning: this pays for a null); `null` makes the reward null.
 *
 * @example
 * # spec: components correct, confidence (weight 1 each)
 * combine: {type: product}
 * # correct = 1, confidence = 0.8 → 0.8
 * # correct = 0.5, confidence = null → exclude / zero: 0; renormalize: 0.5^2 = 0.25; null: null
 */
export const productCombiner = defineCombiner({
  type: 'product',
  summary: 'Π component^weight (plain product with default weights).',
  params: {},
  create(params, ctx) {
    const { idx, w } = weightedComponents(ctx);
    const policy = params.on_null;
    let absAll = 0;
    for (const x of w) absAll += Math.abs(x);
    return {
      combine(row) {
        let nNull = 0;
        let absPresent = 0;
        for (let j = 0; j < idx.length; j++) {
          if (Number.isNaN(row[idx[j]])) nNull++;
          else absPresent += Math.abs(w[j]);
        }
        if (nNull > 0 && (policy === 'null' || (policy !== 'zero' && nNull === idx.length))) return NaN;
        const scale = nNull > 0 && policy === 'renormalize' ? absAll / absPresent : 1;
        let p = 1;
        for (let j = 0; j < idx.length; j++) {
          const v = row[idx[j]];
          if (Number.isNaN(v)) {
            if (policy === 'zero' || policy === 'exclude') p *= Math.pow(0, w[j]);
          } else p *= Math.pow(v, w[j] * scale);
        }
        return Number.isFinite(p) ? p : NaN;
      },
    };
  },
});
