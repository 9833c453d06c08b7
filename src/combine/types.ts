import * as z from 'zod';

/**
 * How a combiner treats `null` components (a grader could not judge: no usable reference, a backend
 * or grader failure, a component that declares itself not applicable):
 * - `exclude` (default): a null component adds nothing and rescales nothing — TRL's `nansum`. In a
 *   sum it is left out; in a mean its weight stays in the denominator; in `min` and `product` (a
 *   conjunction) it is a criterion that does not hold, i.e. it counts as 0. So a null never pays more
 *   than a 0 in that component would. A reward whose every read component is null is null.
 * - `renormalize` (opt-in): drop null components and rescale the remaining weights to the original
 *   weight total. **Warning:** it inflates the other components when one is null, so a rollout whose
 *   answer cannot be judged can outscore a wrong one (the format term of an unjudged answer is
 *   rescaled up to the weight of correctness). Use it only where a null is never the policy's doing.
 * - `zero`: count nulls as 0, even when all are null (reward 0, never null);
 * - `null`: the reward itself becomes `null` (the rollout then gets advantage 0 and is left out of
 *   its group's statistics).
 * A reward whose every component is null is `null` under all policies but `zero`.
 * Each combiner type documents what the policies mean for it and which ones it accepts.
 */
export const onNullSchema = z
  .enum(['renormalize', 'exclude', 'zero', 'null'])
  .describe('How null components (cannot judge: no reference, grader failure) are treated: exclude (count as 0, TRL nansum) | renormalize (rescale the others up; can pay for a null) | zero | null.');
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
  /** `on_null` policies this type accepts; the first is its default. Omitted: all four, `exclude` first. */
  nullPolicies?: readonly [OnNull, ...OnNull[]];
  /** Throw `ParamError` (from graders/types) naming the param for unknown component names etc. */
  create(params: z.infer<z.ZodObject<Shape>> & { on_null: OnNull }, ctx: CombineContext): Combiner;
}

export function defineCombiner<Shape extends z.ZodRawShape, const Type extends string>(
  kind: CombinerKind<Shape, Type>,
): CombinerKind<Shape, Type> {
  return kind;
}
