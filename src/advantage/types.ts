import type { z } from 'zod';
import { InvalidValueError, assertFiniteOrNull, assertGroups, assertLength } from '../shape/columns.js';
import { groupMoments, type GroupMoments } from '../shape/stats.js';

export { InvalidValueError };

/**
 * One batch of rollouts, columnar, as the estimators see it. `NaN` is null everywhere.
 * A rollout with a null reward (the reward cannot judge it) gets advantage exactly 0 — it does not
 * move the policy — and is left out of every group and batch statistic (means, stds, leave-one-out
 * counts, whitening), so adding it to a group leaves the other rollouts' advantages unchanged.
 * Groups need not be contiguous.
 */
export interface AdvantageBatch {
  /** Combined (and shaped) reward per rollout; NaN = null reward. */
  rewards: Float64Array;
  /** One column per spec component, NaN = null component. Only GDPO reads them. */
  components: readonly Float64Array[];
  /** Component weights, same order as `components` (GDPO uses them). */
  weights: Float64Array;
  /** Group index per rollout in [0, groupCount). */
  groupOf: Int32Array;
  groupCount: number;
  /**
   * Optional completion length in tokens per rollout. When given, `reinforce_pp` and
   * `reinforce_pp_baseline` whiten token-weighted as verl does (each rollout counts once per token);
   * without it every rollout counts once.
   */
  tokenLengths?: Float64Array;
  /**
   * Optional completion length in tokens per rollout, for estimators that select by length (`dcpo`).
   * Unlike `tokenLengths` it does not switch `reinforce_pp` to token weighting; the pipeline always fills it.
   */
  completionLengths?: Float64Array;
}

/**
 * Turns a batch's rewards into one advantage per rollout (exactly 0 where the reward is null, see
 * {@link AdvantageBatch}; every estimator ends with {@link zeroNullAdvantages}). Pure with
 * respect to the batch. `out` (length = rollouts) receives the advantages and is returned; without
 * it a new array is allocated. Reusing `out` across batches avoids faulting in fresh memory for
 * every batch, which dominates the cost at a million rollouts. An estimator keeps scratch buffers
 * between calls, so one instance must not run two `compute` calls at once (JS never does).
 */
export interface Estimator {
  compute(batch: AdvantageBatch, out?: Float64Array): Float64Array;
}

/** One estimator (`advantage: {estimator: …}`): params schema (zod shape, `estimator` excluded) and factory. */
export interface EstimatorKind<Name extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape> {
  estimator: Name;
  /** One line for listings and the JSON Schema description. */
  summary: string;
  /** Every key carries `.describe(…)`. */
  params: Shape;
  /** Throw `ParamError` (graders/types) for params that are individually valid but wrong together. */
  create(params: z.infer<z.ZodObject<Shape>>): Estimator;
}

export function defineEstimator<const Name extends string, Shape extends z.ZodRawShape>(
  kind: EstimatorKind<Name, Shape>,
): EstimatorKind<Name, Shape> {
  return kind;
}

/**
 * Checks a batch: column lengths, group indices in range, no ±Infinity in rewards, non-negative
 * finite token lengths, and with `components` the component columns too (lengths, finite weights,
 * no ±Infinity). Errors name the rollout index.
 */
export function checkBatch(b: AdvantageBatch, components = false): void {
  if (components) {
    checkComponentShape(b);
    for (let k = 0; k < b.components.length; k++) assertFiniteOrNull(b.components[k], `component ${k}`);
    return;
  }
  assertGroups(b.groupOf, b.groupCount, b.rewards.length);
  assertFiniteOrNull(b.rewards, 'reward');
  checkTokenLengths(b);
}

/**
 * {@link checkBatch} with the component columns' lengths and weights checked but not their values:
 * for estimators that detect ±Infinity in a component from its group statistics (GDPO), sparing a pass.
 */
export function checkComponentShape(b: AdvantageBatch): void {
  const n = b.rewards.length;
  assertGroups(b.groupOf, b.groupCount, n);
  assertFiniteOrNull(b.rewards, 'reward');
  if (b.weights.length !== b.components.length) throw new RangeError(`weights has ${b.weights.length} entries for ${b.components.length} components`);
  for (let k = 0; k < b.components.length; k++) {
    assertLength(b.components[k], n, `component ${k}`);
    if (!Number.isFinite(b.weights[k])) throw new RangeError(`weight of component ${k} is ${b.weights[k]}; must be finite`);
  }
  checkTokenLengths(b);
}

function checkTokenLengths(b: AdvantageBatch): void {
  const len = b.tokenLengths;
  const n = b.rewards.length;
  if (len !== undefined) {
    assertLength(len, n, 'tokenLengths');
    for (let i = 0; i < n; i++) {
      const v = len[i];
      if (b.rewards[i] === b.rewards[i] && !(v >= 0 && v < Infinity)) {
        throw new InvalidValueError(i, 'token length', v, 'must be a finite number ≥ 0');
      }
    }
  }
}

/**
 * Group moments of the rewards with verl's rule for a group of one applied: its mean is 0 (pivot
 * and shift 0) so that `x − pivot − shift` is the raw value. Std of a group = `groupStd(m, g, ddof)`.
 */
export function groupCentres(x: Float64Array, groupOf: Int32Array, groupCount: number, out: GroupMoments, skip?: Float64Array, nullAs?: number): GroupMoments {
  const m = groupMoments(x, groupOf, out, skip, nullAs);
  for (let g = 0; g < groupCount; g++) {
    if (m.count[g] === 1) {
      m.pivot[g] = 0;
      m.shift[g] = 0;
    }
  }
  return m;
}

/** Std of group g: 1 for a group of one (verl), else √(m2 / (n − ddof)); 0 for an empty group. */
export function groupStd(m: GroupMoments, g: number, ddof: number): number {
  const c = m.count[g];
  if (c === 1) return 1;
  return c > ddof ? Math.sqrt(m.m2[g] / (c - ddof)) : 0;
}

/**
 * Buffers an estimator reuses from batch to batch (grown on demand, never shrunk), so that per-group
 * statistics do not fault in fresh memory on every call. Contents are not cleared between calls.
 */
export class Scratch {
  private readonly bufs = new Map<string, Float64Array>();

  f64(key: string, n: number): Float64Array {
    let b = this.bufs.get(key);
    if (b === undefined || b.length < n) {
      b = new Float64Array(Math.max(n, 16));
      this.bufs.set(key, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }

  /** Group moments of `groupCount` groups; `groupMoments` resets them before use. */
  moments(groupCount: number, key = 'm'): GroupMoments {
    return {
      count: this.f64(`${key}.count`, groupCount),
      pivot: this.f64(`${key}.pivot`, groupCount),
      shift: this.f64(`${key}.shift`, groupCount),
      m2: this.f64(`${key}.m2`, groupCount),
    };
  }
}

/** `out` when given (checked against the batch size), else a new array of `n`. */
export function outputFor(n: number, out?: Float64Array): Float64Array {
  if (out === undefined) return new Float64Array(n);
  if (out.length !== n) throw new RangeError(`out has ${out.length} entries for ${n} rollouts`);
  return out;
}

/**
 * `r − group mean` per rollout into `dest` (a group of one: mean 0, so the raw reward), the group
 * baseline that dr_grpo, rloo and reinforce_pp_baseline share. Returns the group moments too.
 */
export function groupCentred(b: AdvantageBatch, scratch: Scratch, dest?: Float64Array): { out: Float64Array; moments: GroupMoments } {
  const r = b.rewards;
  const groupOf = b.groupOf;
  const moments = groupCentres(r, groupOf, b.groupCount, scratch.moments(b.groupCount));
  const { pivot, shift } = moments;
  const out = outputFor(r.length, dest);
  for (let i = 0; i < r.length; i++) {
    const g = groupOf[i];
    out[i] = r[i] - pivot[g] - shift[g];
  }
  return { out, moments };
}

/**
 * Sets the advantage of every null-reward rollout to exactly 0: a rollout the reward cannot judge
 * must not move the policy. Estimators compute with NaN for those rows (which keeps them out of every
 * statistic) and call this last. Returns `out`.
 *
 * @example
 * zeroNullAdvantages(Float64Array.of(1, NaN), Float64Array.of(0.7, NaN)); // [0.7, 0]
 */
export function zeroNullAdvantages(rewards: Float64Array, out: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i++) if (rewards[i] !== rewards[i]) out[i] = 0;
  return out;
}
