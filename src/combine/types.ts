import { z } from 'zod';

/**
 * How a combiner treats `null` components (a grader said "not applicable" or failed):
 * - `renormalize` (default): drop them and rescale the remaining weights to the original weight total,
 *   so a reward keeps its scale when a component is missing;
 * - `exclude`: drop them without rescaling (TRL's `nansum` behaviour);
 * - `zero`: count them as 0;
 * - `null`: the reward itself becomes `null`.
 * A reward whose every component is null is `null` under all policies but `zero`.
 * Each combiner type documents what the policies mean for it and which ones it accepts.
 */
export const onNullSchema = z
  .enum(['renormalize', 'exclude', 'zero', 'null'])
  .describe('How null components (not applicable or failed) are treated: renormalize | exclude | zero | null.');
export type OnNull = z.infer<typeof onNullSchema>;

/** What a combiner is built with: the spec's components in order. */
export interface CombineContext {
  /** Component names, in spec order; row index k holds component names[k]. */
  names: readonly string[];
  /** Component weights (spec `weight`, default 1), same order. */
  weights: Float64Array;
}

/**
 * Turns one rollout's component vector into one reward. `row[k]` is component k, `NaN` meaning null.
 * Returns the reward, `NaN` meaning null. Must be pure and allocation-free: the pipeline calls it in
 * its hot loop with a reused row.
 */
export interface Combiner {
  combine(row: Float64Array): number;
}

/**
 * One combiner type (`combine: {type: …}`): params schema (zod shape, `type` and `on_null` excluded)
 * and factory. The registry adds `type` and `on_null` to the schema and resolves `on_null` before
 * calling `create`.
 */
export interface CombinerKind<Shape extends z.ZodRawShape = z.ZodRawShape, Type extends string = string> {
  type: Type;
  summary: string;
  params: Shape;
  /** `on_null` policies this type accepts; the first is its default. Omitted: all four, `renormalize` first. */
  nullPolicies?: readonly [OnNull, ...OnNull[]];
  /** Throw `ParamError` (from graders/types) naming the param for unknown component names etc. */
  create(params: z.infer<z.ZodObject<Shape>> & { on_null: OnNull }, ctx: CombineContext): Combiner;
}

export function defineCombiner<Shape extends z.ZodRawShape, const Type extends string>(
  kind: CombinerKind<Shape, Type>,
): CombinerKind<Shape, Type> {
  return kind;
}
