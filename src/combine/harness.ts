import type { CombineContext } from './types.js';
import { buildCombiner, type CombineSpecInput } from './registry.js';

/**
 * A {@link CombineContext} from component names → weights (spec order = key order), or from names
 * alone (weight 1 each). For tests and library users who combine without a spec.
 *
 * @example
 * contextOf({ correct: 1, format: 0.2 }); // names [correct, format], weights [1, 0.2]
 */
export function contextOf(components: Record<string, number> | readonly string[]): CombineContext {
  const entries: [string, number][] = Array.isArray(components)
    ? components.map((n: string) => [n, 1])
    : Object.entries(components);
  return { names: entries.map(([n]) => n), weights: Float64Array.from(entries, ([, w]) => w) };
}

/** The component row for `values` (name → value; `null` or a missing name = null, stored as NaN). */
export function rowOf(ctx: CombineContext, values: Record<string, number | null>): Float64Array {
  return Float64Array.from(ctx.names, (n) => values[n] ?? NaN);
}

/**
 * Combines one rollout's components with the combiner `spec` describes; `null` for a null reward.
 *
 * @example
 * combineOnce({ type: 'weighted_mean' }, { a: 1, b: 1 }, { a: 1, b: 0 }); // 0.5
 */
export function combineOnce(
  spec: CombineSpecInput,
  components: Record<string, number> | readonly string[],
  values: Record<string, number | null>,
): number | null {
  const ctx = contextOf(components);
  const r = buildCombiner(spec, ctx).combine(rowOf(ctx, values));
  return Number.isNaN(r) ? null : r;
}
