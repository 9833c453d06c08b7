import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { onNullSchema, type Combiner, type CombineContext, type CombinerKind, type OnNull } from './types.js';
import { weightedSumCombiner } from './weighted_sum.js';
import { weightedMeanCombiner } from './weighted_mean.js';
import { minCombiner } from './min.js';
import { productCombiner } from './product.js';
import { gatedCombiner } from './gated.js';
import { hierarchicalCombiner } from './hierarchical.js';
import { formulaCombiner } from './formula.js';

/** Every combiner type, in the order `rewardkit` lists them. */
export const combiners = [
  weightedSumCombiner,
  weightedMeanCombiner,
  minCombiner,
  productCombiner,
  gatedCombiner,
  hierarchicalCombiner,
  formulaCombiner,
] as const;

const ALL_POLICIES: readonly [OnNull, ...OnNull[]] = ['exclude', 'renormalize', 'zero', 'null'];

function nullPolicies(kind: CombinerKind): readonly [OnNull, ...OnNull[]] {
  return kind.nullPolicies ?? ALL_POLICIES;
}

/** The spec object for one combiner type: `{type, on_null?, …params}`, unknown keys rejected. */
function member<S extends z.ZodRawShape, T extends string>(kind: CombinerKind<S, T>) {
  const policies = nullPolicies(kind as unknown as CombinerKind);
  return z
    .strictObject({
      type: z.literal(kind.type).describe(kind.summary),
      on_null: onNullSchema
        .optional()
        .describe(`How null components are treated: ${policies.join(' | ')} (default ${policies[0]}).`),
      ...kind.params,
    })
    .describe(`${kind.type}: ${kind.summary}`);
}

/**
 * The spec's `combine` section: one of the combiner types, chosen by `type`;
 * `{type: weighted_sum}` when the spec has no `combine`.
 */
export const combineSchema = z
  .discriminatedUnion('type', [
    member(weightedSumCombiner),
    member(weightedMeanCombiner),
    member(minCombiner),
    member(productCombiner),
    member(gatedCombiner),
    member(hierarchicalCombiner),
    member(formulaCombiner),
  ])
  .prefault({ type: 'weighted_sum' })
  .describe('How the components of a rollout become its reward (default: weighted_sum).');

/** A validated `combine` section. */
export type CombineSpec = z.output<typeof combineSchema>;
/** A `combine` section as written in a spec (`undefined` = the default). */
export type CombineSpecInput = z.input<typeof combineSchema>;

/**
 * Builds the combiner a `combine` section describes for the spec's components. Validates `spec` with
 * {@link combineSchema} (a `ZodError` for a malformed section), then throws {@link ParamError} naming
 * the param for what only the components can tell: unknown component names, an `on_null` the type does
 * not support, weights the type cannot use.
 *
 * @example
 * const c = buildCombiner({ type: 'gated', gate: 'correct', threshold: 1 },
 *   { names: ['correct', 'format'], weights: Float64Array.of(1, 0.2) });
 * c.combine(Float64Array.of(1, 1)); // 1.2
 * c.combine(Float64Array.of(0, 1)); // 0
 */
export function buildCombiner(spec: CombineSpecInput, ctx: CombineContext): Combiner {
  if (ctx.names.length !== ctx.weights.length) {
    throw new Error(`combine context has ${ctx.names.length} names but ${ctx.weights.length} weights`);
  }
  const parsed = combineSchema.parse(spec);
  const kind = combiners.find((c) => c.type === parsed.type) as CombinerKind | undefined;
  if (kind === undefined) throw new ParamError('type', `unknown combiner type ${JSON.stringify(parsed.type)}`);
  const policies = nullPolicies(kind);
  const onNull = parsed.on_null ?? policies[0];
  if (!policies.includes(onNull)) {
    throw new ParamError('on_null', `${kind.type} supports on_null ${policies.join(' | ')}, not ${onNull}`);
  }
  const { type: _type, ...params } = parsed;
  return kind.create({ ...params, on_null: onNull }, ctx);
}
