import { z } from 'zod';
import { grpoEstimator } from '../advantage/grpo.js';
import { rlooEstimator } from '../advantage/rloo.js';
import type { Estimator } from '../advantage/types.js';
import { whiten } from '../advantage/whiten.js';
import type { Rollout } from '../rollout/types.js';

/**
 * One batch of multi-turn rollouts, columnar, as the credit methods see it. Steps of rollout i are
 * `offsets[i] … offsets[i+1]−1` in every per-step column. `NaN` is "missing" everywhere.
 */
export interface StepBatch {
  /** Step offset per rollout, length n + 1, non-decreasing, `offsets[0] = 0`, `offsets[n]` = step count. */
  offsets: Int32Array;
  /** Per step: the step's given `reward` (NaN = missing). */
  reward: Float64Array;
  /** Per step: the critic's `value` V(s_t) (NaN = missing). */
  value: Float64Array;
  /** Per step: the potential Φ(s_t) of the state the step is taken in (NaN = missing). */
  potential: Float64Array;
  /** Per rollout: the episode (outcome) reward; NaN = null, which makes every output of the rollout NaN. */
  outcome: Float64Array;
  /** Per rollout: group index in [0, groupCount). */
  groupOf: Int32Array;
  groupCount: number;
}

/** What a credit method returns. */
export interface CreditOutput {
  /** Per step: the credited step reward (NaN for rollouts with a null outcome). */
  reward: Float64Array;
  /** Per step: the step's advantage (NaN for rollouts with a null outcome). */
  advantage: Float64Array;
  /** Per rollout: the (discounted) return Σ_t γ^t reward_t of the credited rewards; NaN for a null outcome. */
  returns: Float64Array;
}

/** Turns a step batch into step rewards and advantages. Pure with respect to the batch. */
export interface Credit {
  compute(batch: StepBatch): CreditOutput;
}

/** One credit method (`credit: {method: …}`): params schema (zod shape, `method` excluded) and factory. */
export interface CreditKind<Name extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape> {
  method: Name;
  /** One line for listings and the JSON Schema description. */
  summary: string;
  /** Every key carries `.describe(…)`. */
  params: Shape;
  create(params: z.infer<z.ZodObject<Shape>>): Credit;
}

export function defineCredit<const Name extends string, Shape extends z.ZodRawShape>(
  kind: CreditKind<Name, Shape>,
): CreditKind<Name, Shape> {
  return kind;
}

/** A bad value in the input, named by its path (`rollouts[3].steps[1].reward`). */
export class StepFieldError extends Error {
  constructor(
    readonly path: string,
    readonly value: unknown,
    detail = 'must be a finite number or null',
  ) {
    super(`${path} is ${typeof value === 'string' ? JSON.stringify(value) : String(value)}; ${detail}`);
    this.name = 'StepFieldError';
  }
}

const STEP_FIELDS = ['reward', 'value', 'potential'] as const;

function numberOrNaN(v: unknown, path: string): number {
  if (v === undefined || v === null) return NaN;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new StepFieldError(path, v);
}

/**
 * Builds a {@link StepBatch} from (validated) rollouts and their episode rewards (`outcomes[i]`, null
 * = no reward). Reads `steps[j].reward/value/potential` (missing or null → NaN). Groups are
 * `rollout.group`, else the prompt (one group per distinct prompt), numbered in order of first
 * appearance; `groupKeys[g]` gives the key. A rollout without `steps` has zero steps.
 *
 * Errors (`StepFieldError`) name the path: `rollouts[2].steps[0].value is "x"; must be a finite
 * number or null`, `rollouts[1].steps is an object; must be a list`, `outcomes[4] is NaN; …`.
 *
 * @example
 * const { batch } = buildStepBatch([{ id: 'a', completion: '', steps: [{ reward: 1 }, {}] }], [1]);
 * // batch.offsets = [0, 2], batch.reward = [1, NaN], batch.outcome = [1]
 */
export function buildStepBatch(
  rollouts: readonly Rollout[],
  outcomes: ArrayLike<number | null | undefined>,
): { batch: StepBatch; groupKeys: string[] } {
  const n = rollouts.length;
  if (outcomes.length !== n) throw new RangeError(`outcomes has ${outcomes.length} entries for ${n} rollouts`);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const r = rollouts[i];
    if (r === null || typeof r !== 'object') throw new StepFieldError(`rollouts[${i}]`, r, 'must be an object');
    const steps = r.steps;
    if (steps !== undefined && steps !== null && !Array.isArray(steps)) {
      throw new StepFieldError(`rollouts[${i}].steps`, typeof steps === 'object' ? 'an object' : steps, 'must be a list of steps');
    }
    offsets[i + 1] = offsets[i] + (Array.isArray(steps) ? steps.length : 0);
  }
  const total = offsets[n];
  const cols = { reward: new Float64Array(total), value: new Float64Array(total), potential: new Float64Array(total) };
  const outcome = new Float64Array(n);
  const groupOf = new Int32Array(n);
  const index = new Map<string, number>();
  const groupKeys: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rollouts[i];
    outcome[i] = numberOrNaN(outcomes[i], `outcomes[${i}]`);
    const steps = Array.isArray(r.steps) ? r.steps : [];
    for (let j = 0; j < steps.length; j++) {
      const s = steps[j];
      if (s === null || typeof s !== 'object' || Array.isArray(s)) {
        throw new StepFieldError(`rollouts[${i}].steps[${j}]`, s, 'must be an object');
      }
      for (const f of STEP_FIELDS) cols[f][offsets[i] + j] = numberOrNaN(s[f], `rollouts[${i}].steps[${j}].${f}`);
    }
    const key = typeof r.group === 'string' ? r.group : typeof r.prompt === 'string' ? r.prompt : JSON.stringify(r.prompt ?? null);
    let g = index.get(key);
    if (g === undefined) {
      g = groupKeys.length;
      index.set(key, g);
      groupKeys.push(key);
    }
    groupOf[i] = g;
  }
  return { batch: { offsets, ...cols, outcome, groupOf, groupCount: groupKeys.length }, groupKeys };
}

/** Checks the shape of a batch: offsets, column lengths, group indices; no ±Infinity anywhere. */
export function checkStepBatch(b: StepBatch): void {
  const n = b.outcome.length;
  if (b.offsets.length !== n + 1) throw new RangeError(`offsets has ${b.offsets.length} entries for ${n} rollouts (need ${n + 1})`);
  if (b.offsets[0] !== 0) throw new RangeError(`offsets[0] is ${b.offsets[0]}; must be 0`);
  for (let i = 0; i < n; i++) {
    if (b.offsets[i + 1] < b.offsets[i]) throw new RangeError(`offsets[${i + 1}] = ${b.offsets[i + 1]} is below offsets[${i}] = ${b.offsets[i]}`);
  }
  const total = b.offsets[n];
  for (const f of ['reward', 'value', 'potential'] as const) {
    const c = b[f];
    if (c.length !== total) throw new RangeError(`${f} has ${c.length} entries for ${total} steps`);
    for (let k = 0; k < total; k++) if (c[k] === Infinity || c[k] === -Infinity) throw new RangeError(`step ${k}: ${f} is ${c[k]}; must be finite or NaN`);
  }
  if (b.groupOf.length !== n) throw new RangeError(`groupOf has ${b.groupOf.length} entries for ${n} rollouts`);
  for (let i = 0; i < n; i++) {
    const o = b.outcome[i];
    if (o === Infinity || o === -Infinity) throw new RangeError(`rollout ${i}: outcome is ${o}; must be finite or NaN`);
    const g = b.groupOf[i];
    if (!(g >= 0 && g < b.groupCount)) throw new RangeError(`rollout ${i}: group index ${g} outside [0, ${b.groupCount})`);
  }
}

/** Index of the rollout owning each step (length = step count). */
export function rolloutOfSteps(offsets: Int32Array): Int32Array {
  const n = offsets.length - 1;
  const out = new Int32Array(offsets[n]);
  for (let i = 0; i < n; i++) out.fill(i, offsets[i], offsets[i + 1]);
  return out;
}

/** Output arrays of a batch, zero-filled. */
export function newOutput(b: StepBatch): CreditOutput {
  const total = b.offsets[b.offsets.length - 1];
  return { reward: new Float64Array(total), advantage: new Float64Array(total), returns: new Float64Array(b.outcome.length) };
}

/** The shared `outcome` param: whether the episode reward is added to the last step's reward. */
export const outcomeParam = z
  .enum(['last_step', 'ignore'])
  .default('last_step')
  .describe('last_step: the episode reward is added to the reward of the last step; ignore: only the steps’ own rewards count.');

/**
 * Base step rewards: each step's given reward (missing = 0), plus the episode reward on the last
 * step with `outcome: last_step`. Rollouts with a null outcome get NaN on every step.
 */
export function baseStepRewards(b: StepBatch, outcome: 'last_step' | 'ignore', out: Float64Array): Float64Array {
  const { offsets } = b;
  for (let i = 0; i < b.outcome.length; i++) {
    const o = b.outcome[i];
    const s = offsets[i];
    const e = offsets[i + 1];
    if (o !== o) {
      out.fill(NaN, s, e);
      continue;
    }
    for (let k = s; k < e; k++) out[k] = b.reward[k] === b.reward[k] ? b.reward[k] : 0;
    if (outcome === 'last_step' && e > s) out[e - 1] += o;
  }
  return out;
}

/** Per rollout Σ_t γ^t r_t over its steps (NaN when the first reward is NaN). With no steps: `empty[i]`. */
export function discountedReturns(b: StepBatch, r: Float64Array, gamma: number, out: Float64Array, empty: Float64Array): Float64Array {
  const { offsets } = b;
  for (let i = 0; i < out.length; i++) {
    const s = offsets[i];
    const e = offsets[i + 1];
    if (e === s) {
      out[i] = empty[i];
      continue;
    }
    let g = 0;
    let d = 1;
    for (let k = s; k < e; k++) {
      g += d * r[k];
      d *= gamma;
    }
    out[i] = g;
  }
  return out;
}

/** Group estimators usable on per-rollout returns. */
export const groupEstimatorParam = z
  .enum(['grpo', 'rloo'])
  .default('grpo')
  .describe('Estimator applied to the per-rollout returns within each group; its advantage is broadcast to every step.');

/** Builds a GRPO (verl numerics) or RLOO estimator for returns. */
export function groupEstimator(name: 'grpo' | 'rloo', eps = 1e-6): Estimator {
  return name === 'grpo' ? grpoEstimator.create({ eps, std: 'sample', scale: 'group' }) : rlooEstimator.create({});
}

/** Runs `est` on the per-rollout `returns` (NaN = null) and writes its advantage to every step of the rollout. */
export function broadcastGroupAdvantage(b: StepBatch, est: Estimator, returns: Float64Array, out: Float64Array): Float64Array {
  const adv = est.compute({ rewards: returns, components: [], weights: new Float64Array(0), groupOf: b.groupOf, groupCount: b.groupCount });
  for (let i = 0; i < adv.length; i++) out.fill(adv[i], b.offsets[i], b.offsets[i + 1]);
  return out;
}

/**
 * verl `masked_whiten` over every non-NaN step: `(x − μ)/√(var + 1e-8)`, Bessel-corrected variance.
 * With fewer than two steps every advantage is 0.
 */
export function whitenSteps(x: Float64Array): Float64Array {
  return whiten(x, x, 1e-8);
}
