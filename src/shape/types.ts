import type { z } from 'zod';
import type { Sample } from '../rollout/types.js';

/**
 * What a shaper sees: one batch of rollouts, columnar. Shapers rewrite `rewards` in place, in spec
 * order, before the estimator. `NaN` in `rewards` is a null reward: shapers leave it null.
 */
export interface ShapeBatch {
  /** Combined reward per rollout (NaN = null); rewritten in place. */
  rewards: Float64Array;
  /** Group index per rollout in [0, groupCount); groups need not be contiguous. */
  groupOf: Int32Array;
  groupCount: number;
  /** Completion length in characters (`Sample.completion.length`), NaN = unknown. */
  lengths: Float64Array;
  /** Completion length in tokens, when the rollouts carry it (NaN = unknown). Needed by `unit: tokens`. */
  tokenLengths?: Float64Array;
  /** The rollouts, same order: shapers read `meta.ref_rewards`, `steps` and the completion text. */
  samples: readonly Sample[];
}

/** Running state a shaper keeps across batches (running mean/std, min/max). JSON-serialisable. */
export interface ShaperState {
  save(): unknown;
  /** Restores a value returned by `save()`; throws on a malformed value. */
  load(s: unknown): void;
  reset(): void;
}

export interface Shaper {
  apply(batch: ShapeBatch): void;
  state?: ShaperState;
}

/** One shaper type (`shape: [{type: …}]`): params schema (zod shape, `type` excluded) and factory. */
export interface ShaperKind<Type extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape> {
  type: Type;
  /** One line for listings and the JSON Schema description. */
  summary: string;
  /** Every key carries `.describe(…)`. */
  params: Shape;
  /** Throw `ParamError` (graders/types) for params that are individually valid but wrong together. */
  create(params: z.infer<z.ZodObject<Shape>>): Shaper;
}

export function defineShaper<const Type extends string, Shape extends z.ZodRawShape>(
  kind: ShaperKind<Type, Shape>,
): ShaperKind<Type, Shape> {
  return kind;
}

/** Applies `f` to every non-null reward in place. */
export function mapRewards(rewards: Float64Array, f: (r: number, i: number) => number): void {
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i];
    if (r === r) rewards[i] = f(r, i);
  }
}
