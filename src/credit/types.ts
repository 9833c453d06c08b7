import * as z from 'zod';
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
  /** Per step: the step's `executable` flag, 1 (true) or 0 (false); NaN = not given. */
  executable: Float64Array;
  /** Per step: index into `agents` of the step's `agent`, −1 when the step names none. */
  agent: Int32Array;
  /** Agent names, in order of first appearance in the batch. */
  agents: string[];
  /**
   * Named per-step numeric columns (NaN = missing), each `offsets[n]` long: the scores of step-scoped
   * graders under their component names. Methods that need model numbers take a signal's name as a
   * param (`signal`, `features`, …) and never compute them themselves.
   */
  signals: ReadonlyMap<string, Float64Array>;
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
  /**
   * Per step: the step's advantage. Methods write NaN for rollouts with a null outcome;
   * `buildCredit` turns those into 0 (a rollout the reward cannot judge does not move the policy).
   */
  advantage: Float64Array;
  /** Per rollout: the (discounted) return Σ_t γ^t reward_t of the credited rewards; NaN for a null outcome. */
  returns: Float64Array;
}

/**
 * Running state a credit method carries across batches (a fitted decoder, running statistics).
 * JSON-serialisable, like the shapers' state, so a restarted server continues where it stopped.
 */
export interface CreditState {
  save(): unknown;
  /** Restores a value returned by `save()` of the same spec; throws on a malformed value. */
  load(state: unknown): void;
  /** Forgets everything learnt so far. */
  reset(): void;
}

/**
 * Turns a step batch into step rewards and advantages. Pure with respect to the batch; a method
 * with `state` also learns from each batch it sees (one `compute` at a time per instance).
 */
export interface Credit {
  compute(batch: StepBatch): CreditOutput;
  state?: CreditState;
}

/** A step signal named by a method's params: the param's path (`features[1]`) and the signal name. */
export interface SignalRef {
  param: string;
  signal: string;
}

/** One credit method (`credit: {method: …}`): params schema (zod shape, `method` excluded) and factory. */
export interface CreditKind<Name extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape> {
  method: Name;
  /** One line for listings and the JSON Schema description. */
  summary: string;
  /** Every key carries `.describe(…)`. */
  params: Shape;
  /** Throws `ParamError` (graders/types) for params that are individually valid but wrong together. */
  create(params: z.infer<z.ZodObject<Shape>>): Credit;
  /** The step signals the (parsed) params name, so a spec naming a missing component can be rejected up front. */
  signals?(params: z.infer<z.ZodObject<Shape>>): SignalRef[];
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
 * A step signal as given to {@link buildStepBatch}: one value per step of the batch (rollouts in
 * order, steps in order), or one list per rollout. `null`, `undefined` and `NaN` are "missing".
 */
export type StepSignalInput =
  | ArrayLike<number | null | undefined>
  | ReadonlyArray<ArrayLike<number | null | undefined> | null | undefined>;

function signalValue(v: unknown, path: string): number {
  if (v === undefined || v === null || (typeof v === 'number' && v !== v)) return NaN;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new StepFieldError(path, v, 'must be a finite number, NaN or null');
}

function signalColumnOf(name: string, input: StepSignalInput, offsets: Int32Array): Float64Array {
  const n = offsets.length - 1;
  const total = offsets[n];
  const path = `signals.${name}`;
  if (input === null || typeof input !== 'object' || typeof input.length !== 'number') {
    throw new StepFieldError(path, input, 'must be a list of per-step values');
  }
  const list = input as ArrayLike<unknown>;
  // Per rollout when any entry is a list, or when it is n nulls (no rollout scored) and not one per step.
  let nested = false;
  for (let k = 0; k < list.length && !nested; k++) nested = list[k] !== null && typeof list[k] === 'object';
  if (!nested && list.length !== total && list.length === n) {
    nested = true;
    for (let k = 0; k < n; k++) if (list[k] !== null && list[k] !== undefined) nested = false;
  }
  const col = new Float64Array(total);
  if (!nested) {
    if (list.length !== total) throw new RangeError(`${path} has ${list.length} entries for ${total} steps (one per step, or one list per rollout)`);
    for (let k = 0; k < total; k++) col[k] = signalValue(list[k], `${path}[${k}]`);
    return col;
  }
  if (list.length !== n) throw new RangeError(`${path} has ${list.length} lists for ${n} rollouts`);
  for (let i = 0; i < n; i++) {
    const row = list[i] as ArrayLike<unknown> | null | undefined;
    const len = offsets[i + 1] - offsets[i];
    if (row === null || row === undefined) {
      col.fill(NaN, offsets[i], offsets[i + 1]);
      continue;
    }
    if (typeof row !== 'object' || typeof row.length !== 'number') throw new StepFieldError(`${path}[${i}]`, row, 'must be a list of per-step values or null');
    if (row.length !== len) throw new RangeError(`${path}[${i}] has ${row.length} entries for rollout ${i}'s ${len} steps`);
    for (let j = 0; j < len; j++) col[offsets[i] + j] = signalValue(row[j], `${path}[${i}][${j}]`);
  }
  return col;
}

/**
 * Builds a {@link StepBatch} from (validated) rollouts and their episode rewards (`outcomes[i]`, null
 * = no reward). Reads `steps[j].reward/value/potential` (missing or null → NaN), `steps[j].executable`
 * (true → 1, false → 0, missing or null → NaN) and `steps[j].agent` (a name; missing or null → −1).
 * Groups are `rollout.group`, else the prompt (one group per distinct prompt), numbered in order of
 * first appearance; `groupKeys[g]` gives the key. A rollout without `steps` has zero steps.
 *
 * `signals` (optional) are named per-step columns, e.g. the scores of step-scoped graders by
 * component name: each one value per step of the batch (rollout order), or one list per rollout
 * (null for a rollout without scores); null, undefined and NaN mean missing.
 *
 * Errors (`StepFieldError`) name the path: `rollouts[2].steps[0].value is "x"; must be a finite
 * number or null`, `rollouts[1].steps is an object; must be a list`, `outcomes[4] is NaN; …`,
 * `signals.judge[3] is Infinity; …`; a signal of the wrong length is a RangeError naming it.
 *
 * @example
 * const { batch } = buildStepBatch([{ id: 'a', completion: '', steps: [{ reward: 1, agent: 'planner' }, {}] }], [1], { p: [0.2, 0.5] });
 * // batch.offsets = [0, 2], batch.reward = [1, NaN], batch.agent = [0, −1], batch.agents = ['planner'],
 * // batch.signals.get('p') = [0.2, 0.5], batch.outcome = [1]
 */
export function buildStepBatch(
  rollouts: readonly Rollout[],
  outcomes: ArrayLike<number | null | undefined>,
  signals?: ReadonlyMap<string, StepSignalInput> | Readonly<Record<string, StepSignalInput>>,
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
  const executable = new Float64Array(total);
  const agent = new Int32Array(total);
  const agents: string[] = [];
  const agentIndex = new Map<string, number>();
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
      const k = offsets[i] + j;
      if (s === null || typeof s !== 'object' || Array.isArray(s)) {
        throw new StepFieldError(`rollouts[${i}].steps[${j}]`, s, 'must be an object');
      }
      for (const f of STEP_FIELDS) cols[f][k] = numberOrNaN(s[f], `rollouts[${i}].steps[${j}].${f}`);
      const x = s.executable;
      if (x === undefined || x === null) executable[k] = NaN;
      else if (typeof x === 'boolean') executable[k] = x ? 1 : 0;
      else throw new StepFieldError(`rollouts[${i}].steps[${j}].executable`, x, 'must be true, false or null');
      const a = s.agent;
      if (a === undefined || a === null) agent[k] = -1;
      else if (typeof a === 'string') {
        let ai = agentIndex.get(a);
        if (ai === undefined) {
          ai = agents.length;
          agentIndex.set(a, ai);
          agents.push(a);
        }
        agent[k] = ai;
      } else throw new StepFieldError(`rollouts[${i}].steps[${j}].agent`, a, 'must be a string (the agent name) or null');
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
  const sig = new Map<string, Float64Array>();
  if (signals !== undefined) {
    const entries = signals instanceof Map ? [...signals.entries()] : Object.entries(signals as Record<string, StepSignalInput>);
    for (const [name, input] of entries) sig.set(name, signalColumnOf(name, input, offsets));
  }
  return {
    batch: { offsets, ...cols, executable, agent, agents, signals: sig, outcome, groupOf, groupCount: groupKeys.length },
    groupKeys,
  };
}

/** ±Infinity (x − x is NaN for ±Infinity and NaN, 0 for finite x). */
function isInfinite(x: number): boolean {
  return x - x !== 0 && x === x;
}

/**
 * Checks the shape of a batch: offsets, column lengths (signals included), group and agent indices,
 * executable flags in {0, 1, NaN}; no ±Infinity in the step columns and outcomes (signal values
 * are checked when a method reads the signal, {@link signalOf}).
 */
export function checkStepBatch(b: StepBatch): void {
  const n = b.outcome.length;
  if (b.offsets.length !== n + 1) throw new RangeError(`offsets has ${b.offsets.length} entries for ${n} rollouts (need ${n + 1})`);
  if (b.offsets[0] !== 0) throw new RangeError(`offsets[0] is ${b.offsets[0]}; must be 0`);
  for (let i = 0; i < n; i++) {
    if (b.offsets[i + 1] < b.offsets[i]) throw new RangeError(`offsets[${i + 1}] = ${b.offsets[i + 1]} is below offsets[${i}] = ${b.offsets[i]}`);
  }
  const total = b.offsets[n];
  const { reward, value, potential, executable, agent } = b;
  for (const [c, what] of [
    [reward, 'reward'],
    [value, 'value'],
    [potential, 'potential'],
    [executable, 'executable'],
    [agent, 'agent'],
  ] as const) {
    if (c.length !== total) throw new RangeError(`${what} has ${c.length} entries for ${total} steps`);
  }
  const A = b.agents.length;
  // One pass over every step column (five separate passes cost twice as much at a million steps).
  for (let k = 0; k < total; k++) {
    const r = reward[k];
    const v = value[k];
    const p = potential[k];
    if (isInfinite(r) || isInfinite(v) || isInfinite(p)) {
      const [what, x] = isInfinite(r) ? ['reward', r] : isInfinite(v) ? ['value', v] : ['potential', p];
      throw new RangeError(`step ${k}: ${what} is ${x}; must be finite or NaN`);
    }
    const x = executable[k];
    if (x === x && x !== 0 && x !== 1) throw new RangeError(`step ${k}: executable is ${x}; must be 0, 1 or NaN`);
    const a = agent[k];
    if (a < -1 || a >= A) throw new RangeError(`step ${k}: agent index ${a} outside [−1, ${A})`);
  }
  // Signal values are checked by signalOf, only for the signals a method reads.
  for (const [name, col] of b.signals) if (col.length !== total) throw new RangeError(`signal "${name}" has ${col.length} entries for ${total} steps`);
  if (b.groupOf.length !== n) throw new RangeError(`groupOf has ${b.groupOf.length} entries for ${n} rollouts`);
  for (let i = 0; i < n; i++) {
    const o = b.outcome[i];
    if (o === Infinity || o === -Infinity) throw new RangeError(`rollout ${i}: outcome is ${o}; must be finite or NaN`);
    const g = b.groupOf[i];
    if (!(g >= 0 && g < b.groupCount)) throw new RangeError(`rollout ${i}: group index ${g} outside [0, ${b.groupCount})`);
  }
}

/**
 * The column of the signal a method's param names, checked for ±Infinity. A batch without it is a
 * {@link StepFieldError} naming the param path and the signal: `credit.signal is "p_gold"; names no
 * step signal of the batch (signals: judge)`.
 */
export function signalOf(b: StepBatch, name: string, param: string): Float64Array {
  const col = b.signals.get(name);
  if (col !== undefined) {
    for (let k = 0; k < col.length; k++) {
      if (col[k] === Infinity || col[k] === -Infinity) throw new RangeError(`step ${k}: signal "${name}" (credit.${param}) is ${col[k]}; must be finite or NaN`);
    }
    return col;
  }
  const have = [...b.signals.keys()];
  throw new StepFieldError(`credit.${param}`, name, `names no step signal of the batch (signals: ${have.length > 0 ? have.join(', ') : 'none'})`);
}

/**
 * The error for step `k` (batch index) of a non-null rollout without a value a method needs, named
 * by rollout and step: `rollout 2: steps[1] has no value for signal "p" (credit.signal); igpo needs one on every step but the last`.
 */
export function missingStepValue(b: StepBatch, k: number, what: string, why: string): RangeError {
  let lo = 0;
  let hi = b.offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (b.offsets[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return new RangeError(`rollout ${lo}: steps[${k - b.offsets[lo]}] has no ${what}; ${why}`);
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

/** Marks rollout i (steps s … e−1) as having a null outcome: NaN step rewards, advantages and return. */
export function voidRollout(out: CreditOutput, i: number, s: number, e: number): void {
  out.reward.fill(NaN, s, e);
  out.advantage.fill(NaN, s, e);
  out.returns[i] = NaN;
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
  const { offsets } = b;
  // A plain loop: a ranged fill() per rollout costs more than the copy for short rollouts.
  for (let i = 0; i < adv.length; i++) {
    const a = adv[i];
    for (let k = offsets[i]; k < offsets[i + 1]; k++) out[k] = a;
  }
  return out;
}

/**
 * The skeleton of methods whose steps share their rollout's group advantage: checks the batch, voids
 * rollouts with a null outcome, lets `creditSteps(s, e, outcome, reward)` write the credited rewards
 * of steps s … e−1 into `reward` and return the rollout's return, then broadcasts the group
 * advantage of the returns (see {@link broadcastGroupAdvantage}).
 */
export function creditThenBroadcast(
  b: StepBatch,
  est: Estimator,
  creditSteps: (s: number, e: number, outcome: number, reward: Float64Array) => number,
): CreditOutput {
  checkStepBatch(b);
  const out = newOutput(b);
  const { offsets } = b;
  for (let i = 0; i < b.outcome.length; i++) {
    const s = offsets[i];
    const e = offsets[i + 1];
    const o = b.outcome[i];
    if (o !== o) voidRollout(out, i, s, e);
    else out.returns[i] = creditSteps(s, e, o, out.reward);
  }
  broadcastGroupAdvantage(b, est, out.returns, out.advantage);
  return out;
}

/** The shared `advantage` param of methods that write per-step rewards. */
export const stepAdvantageParam = z
  .enum(['reward_to_go', 'grpo', 'rloo'])
  .default('reward_to_go')
  .describe('reward_to_go: discounted return from each step (whitened over the batch with `whiten`); grpo/rloo: group advantage of the rollout return, broadcast to its steps.');

/** The shared `whiten` param that goes with {@link stepAdvantageParam}. */
export const whitenParam = z.boolean().default(true).describe('reward_to_go: whiten over every step of the batch (verl masked_whiten).');

/**
 * Advantages from per-step rewards `r` (NaN on null rollouts) and per-rollout `returns`:
 * `reward_to_go` — G_t = Σ_{k≥t} γ^{k−t} r_k per step, whitened over every step of the batch when
 * `whiten` (REINFORCE++-style, mechanics-A §0.4); `grpo`/`rloo` — the group advantage of the
 * returns, broadcast to every step of the rollout. Build once per method instance (it holds the estimator).
 *
 * @example
 * const adv = stepAdvantage('reward_to_go', 1, false);
 * adv(batch, Float64Array.of(0.5, 0.5, -1), returns, out) // out = [0, −0.5, −1] for one 3-step rollout
 */
export function stepAdvantage(
  mode: 'reward_to_go' | 'grpo' | 'rloo',
  gamma: number,
  whiten: boolean,
): (b: StepBatch, r: Float64Array, returns: Float64Array, out: Float64Array) => Float64Array {
  if (mode !== 'reward_to_go') {
    const est = groupEstimator(mode);
    return (b, _r, returns, out) => broadcastGroupAdvantage(b, est, returns, out);
  }
  return (b, r, _returns, out) => {
    const { offsets } = b;
    for (let i = 0; i < b.outcome.length; i++) {
      let acc = 0;
      for (let k = offsets[i + 1] - 1; k >= offsets[i]; k--) {
        acc = r[k] + gamma * acc;
        out[k] = acc;
      }
    }
    if (whiten) whitenSteps(out);
    return out;
  };
}

/**
 * verl `masked_whiten` over every non-NaN step: `(x − μ)/√(var + 1e-8)`, Bessel-corrected variance.
 * With fewer than two steps every advantage is 0.
 */
export function whitenSteps(x: Float64Array): Float64Array {
  return whiten(x, x, 1e-8);
}
