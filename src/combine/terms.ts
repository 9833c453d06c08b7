import { ParamError } from '../graders/types.js';
import type { CombineContext, OnNull } from './types.js';

/** Lists the spec's components for error messages. */
export function knownComponents(ctx: CombineContext): string {
  return ctx.names.length === 0 ? '(the spec has no components)' : ctx.names.map((n) => JSON.stringify(n)).join(', ');
}

/** Row index of component `name`; a {@link ParamError} naming `param` and the known components if there is none. */
export function componentIndex(ctx: CombineContext, param: string, name: string): number {
  const k = ctx.names.indexOf(name);
  if (k < 0) throw new ParamError(param, `unknown component ${JSON.stringify(name)}; known components: ${knownComponents(ctx)}`);
  return k;
}

/** The components weight-based combiners read: those with a nonzero weight, in spec order. */
export function weightedComponents(ctx: CombineContext): { idx: Int32Array; w: Float64Array } {
  const keep: number[] = [];
  for (let k = 0; k < ctx.names.length; k++) if (ctx.weights[k] !== 0) keep.push(k);
  return { idx: Int32Array.from(keep), w: Float64Array.from(keep, (k) => ctx.weights[k]) };
}

/** Rejects negative component weights for combiners where they have no meaning (means, min). */
export function requireNonNegativeWeights(ctx: CombineContext, type: string): void {
  for (let k = 0; k < ctx.names.length; k++) {
    const w = ctx.weights[k];
    if (!(w >= 0)) {
      throw new ParamError('type', `${type} needs component weights ≥ 0, but component ${JSON.stringify(ctx.names[k])} has weight ${w}`);
    }
  }
}

/**
 * The reward of a weighted sum over a set of terms under `policy`, given what the caller tallied:
 * `sum` = Σ w·c over the non-null terms, `absAll` / `absPresent` = Σ|w| over all / non-null terms,
 * `nNull` / `nPresent` = how many terms were null / not.
 *
 * `exclude` is the sum of the present terms (a null term adds 0; null when every term is null).
 * `renormalize` scales by Σ|w| (not Σw) so a negative-weight penalty cannot flip the sign of the scale;
 * with non-negative weights this equals imputing each missing term by the weighted mean of the present
 * ones — which is why it can pay for a null. A set with no terms at all sums to 0 (nothing was null).
 */
export function finishSum(policy: OnNull, sum: number, absAll: number, absPresent: number, nNull: number, nPresent: number): number {
  if (nNull === 0) return sum;
  switch (policy) {
    case 'zero':
      return sum;
    case 'null':
      return NaN;
    case 'exclude':
      return nPresent === 0 ? NaN : sum;
    case 'renormalize':
      // absPresent = 0 with present terms: only zero-weight gates were known, every weighted term was null.
      return nPresent === 0 || absPresent === 0 ? NaN : sum * (absAll / absPresent);
  }
}
