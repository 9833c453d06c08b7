import type { ComponentError, Rollout, Sample, ScoredRollout, Step } from './rollout/types.js';
import { toSample } from './rollout/sample.js';
import { stepSamples } from './rollout/step_sample.js';
import type { GradeOutput, Grader } from './graders/types.js';
import type { CompiledSpec, StepComponents } from './spec/compile.js';
import { buildStepBatch, type CreditOutput } from './credit/types.js';
import { StepCreditTally } from './credit/diagnostics.js';
import { stepsToTokens } from './credit/tokens.js';
import { addTokenSignal } from './credit/token_rewards.js';
import { rolloutTokenCount } from './tokenize/count.js';
import { estimateTokens } from './tokenize/estimate.js';
import { countReason, reasonOfError, reasonOfNull, type ReasonCounts } from './diagnose/reasons.js';
import type { DiagnoseInput } from './diagnose/types.js';
import { nameRecord } from './spec/names.js';

/**
 * The one flow: rollouts → grade → combine → shape → advantage → (diagnostics inputs) → output.
 * Used by the CLI, the server and the library alike. Hot loops work on typed columns:
 * one Float64Array per component, `NaN` meaning null.
 */

export interface ScoreOptions {
  /** Attach each grader's details to the output rollouts (`details`). */
  details?: boolean;
  /**
   * Results carry only `id`, `group` and the scoring fields (reward, components, advantage, details,
   * errors, steps, token values) instead of the whole input rollout: for callers that send results back
   * without the input (the server), sparing a copy of every rollout.
   */
  slim?: boolean;
}

/** The columns of one scored batch, for estimators, diagnostics and summaries. */
export interface BatchColumns {
  /** One column per component (spec order), NaN = null. */
  components: Float64Array[];
  /** Combined (and shaped) reward, NaN = null. */
  rewards: Float64Array;
  /** Advantages when the spec has an estimator. */
  advantages: Float64Array | null;
  /** Group index per rollout, in [0, groupCount). */
  groupOf: Int32Array;
  groupCount: number;
  /** Group keys, by group index. */
  groupKeys: string[];
  /** Completion length in characters, and in tokens (the rollout's token data, else the estimate of src/tokenize/estimate.ts). */
  charLengths: Float64Array;
  tokenLengths: Float64Array;
  /** Per component: rollouts whose value is null (not applicable or failed) and rollouts whose grader failed. */
  nullCounts: Int32Array;
  errorCounts: Int32Array;
  /**
   * Per component: why its values were null — `details.reason` of a null score (kept even when
   * details are not), `error: <message>` of a grader error — with counts.
   */
  nullReasons: ReasonCounts[];
  /** Step-level credit facts of the batch (when the spec has `credit` and the batch has steps). */
  steps?: StepCreditTally;
}

export interface BatchResult {
  results: ScoredRollout[];
  columns: BatchColumns;
}

/**
 * Token length of a rollout for the batch's length columns: its own token data (`completion_ids`,
 * `response_length`) when it has some, else the tokenizer-free estimate (O(n), no allocation; see
 * src/tokenize/estimate.ts). Never a whitespace word count: removing spaces cannot shrink it.
 */
function tokenCount(r: Rollout, completion: string): number {
  return rolloutTokenCount(r) ?? estimateTokens(completion);
}

/**
 * `{ ...src, reward, components }`, without V8's object spread: on Node 20 spreading a rollout parsed
 * from JSON costs ~2.5 µs, copying its keys one by one ~0.1 µs. Same result: `src`'s own enumerable
 * keys in their order (symbols after), then `reward` and `components` (in place if `src` has them). An
 * own `__proto__` key, which JSON.parse makes, stays an own property, as a spread keeps it.
 */
function copyRollout(src: Rollout, reward: number | null, components: Record<string, number | null>): ScoredRollout {
  const out: Record<PropertyKey, unknown> = {};
  const from = src as unknown as Record<PropertyKey, unknown>;
  for (const k of Object.keys(src)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: from[k], enumerable: true, writable: true, configurable: true });
    else out[k] = from[k];
  }
  for (const k of Object.getOwnPropertySymbols(src)) if (Object.prototype.propertyIsEnumerable.call(src, k)) out[k] = from[k];
  out.reward = reward;
  out.components = components;
  return out as unknown as ScoredRollout;
}

/** A slim result: `id`, `group` when the rollout has one, `reward`, `components` (no spread: see {@link copyRollout}). */
function slimResult(src: Rollout, reward: number | null, components: Record<string, number | null>): ScoredRollout {
  const out = { id: src.id } as ScoredRollout;
  if (src.group !== undefined) out.group = src.group;
  out.reward = reward;
  out.components = components;
  return out;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/**
 * Writes one grade output into the column; returns an error message when the output is unusable.
 * A null score's reason (`details.reason`) is counted into `reasons`.
 */
function record(out: GradeOutput, col: Float64Array, i: number, details: (Record<string, unknown> | undefined)[] | null, reasons: ReasonCounts): string | null {
  let score: number | null;
  if (out === null || typeof out === 'number') score = out;
  else if (typeof out === 'object' && 'score' in out) {
    score = out.score;
    if (details && out.details) details[i] = out.details;
  } else return `grader returned ${typeof out}, expected a number, null or {score, details}`;
  if (score === null) {
    countReason(reasons, reasonOfNull(out));
    return null;
  }
  if (typeof score !== 'number' || !Number.isFinite(score)) return `grader returned a non-finite score (${String(score)})`;
  col[i] = score;
  return null;
}

interface GradeState {
  col: Float64Array;
  details: (Record<string, unknown> | undefined)[] | null;
  errors: (ComponentError[] | undefined)[];
  errorCount: number;
  /** Why values were null (reasons and error messages), with counts. */
  reasons: ReasonCounts;
}

function fail(st: GradeState, name: string, i: number, message: string): void {
  (st.errors[i] ??= []).push({ component: name, message });
  st.errorCount++;
  countReason(st.reasons, reasonOfError(message));
}

/** Runs one component over the batch. Sync graders stay sync; promises are awaited together. */
async function gradeComponent(grader: Grader, name: string, samples: Sample[], groups: number[][], st: GradeState): Promise<void> {
  const pending: Promise<void>[] = [];
  if (grader.scope === 'rollout') {
    for (let i = 0; i < samples.length; i++) {
      let out: GradeOutput | Promise<GradeOutput>;
      try {
        out = grader.grade(samples[i]!);
      } catch (e) {
        fail(st, name, i, errorMessage(e));
        continue;
      }
      if (out instanceof Promise) {
        pending.push(
          out.then(
            (o) => {
              const msg = record(o, st.col, i, st.details, st.reasons);
              if (msg) fail(st, name, i, msg);
            },
            (e) => fail(st, name, i, errorMessage(e)),
          ),
        );
      } else {
        const msg = record(out, st.col, i, st.details, st.reasons);
        if (msg) fail(st, name, i, msg);
      }
    }
  } else {
    for (const members of groups) {
      const groupSamples = members.map((i) => samples[i]!);
      const apply = (outs: GradeOutput[]) => {
        if (!Array.isArray(outs) || outs.length !== members.length) {
          for (const i of members) fail(st, name, i, `group grader returned ${Array.isArray(outs) ? outs.length : typeof outs} results for ${members.length} rollouts`);
          return;
        }
        members.forEach((i, j) => {
          const msg = record(outs[j]!, st.col, i, st.details, st.reasons);
          if (msg) fail(st, name, i, msg);
        });
      };
      try {
        const outs = grader.gradeGroup(groupSamples);
        if (outs instanceof Promise)
          pending.push(
            outs.then(apply, (e) => {
              for (const i of members) fail(st, name, i, errorMessage(e));
            }),
          );
        else apply(outs);
      } catch (e) {
        for (const i of members) fail(st, name, i, errorMessage(e));
      }
    }
  }
  if (pending.length > 0) await Promise.all(pending);
}

/** Per-step columns of the step-scoped components, over every step of the batch (rollout i's steps at offsets[i]…). */
interface StepGrades {
  offsets: Int32Array;
  /** One column per step component, NaN = null. */
  columns: Float64Array[];
  /** Weighted sum of the non-null step components per step; NaN where all are null. */
  reward: Float64Array;
  details: ((Record<string, unknown> | undefined)[] | null)[];
}

/**
 * Grades every step of every rollout with the step-scoped components. A failure on step j is reported
 * on its rollout as `{component, message: "steps[j]: …"}`.
 */
async function gradeSteps(steps: StepComponents, rollouts: readonly Rollout[], errors: (ComponentError[] | undefined)[], details: boolean): Promise<StepGrades> {
  const n = rollouts.length;
  const offsets = new Int32Array(n + 1);
  const samples: Sample[] = [];
  const owner: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rollouts[i]!;
    const s = Array.isArray(r.steps) ? stepSamples(r) : [];
    for (const x of s) {
      samples.push(x);
      owner.push(i);
    }
    offsets[i + 1] = samples.length;
  }
  const total = samples.length;
  const stepErrors = new Array<ComponentError[] | undefined>(total);
  const states: GradeState[] = steps.names.map(() => ({
    col: new Float64Array(total).fill(NaN),
    details: details ? new Array(total) : null,
    errors: stepErrors,
    errorCount: 0,
    reasons: new Map(),
  }));
  await Promise.all(steps.graders.map((g, k) => gradeComponent(g, steps.names[k]!, samples, [], states[k]!)));
  for (let t = 0; t < total; t++) {
    const errs = stepErrors[t];
    if (!errs) continue;
    const i = owner[t]!;
    const j = t - offsets[i]!;
    for (const e of errs) (errors[i] ??= []).push({ component: e.component, message: `steps[${j}]: ${e.message}` });
  }
  const reward = new Float64Array(total);
  for (let t = 0; t < total; t++) {
    let sum = 0;
    let any = false;
    for (let k = 0; k < states.length; k++) {
      const v = states[k]!.col[t]!;
      if (v === v) {
        sum += steps.weights[k]! * v;
        any = true;
      }
    }
    reward[t] = any ? sum : NaN;
  }
  return { offsets, columns: states.map((s) => s.col), reward, details: states.map((s) => s.details) };
}

/** The output steps of rollout i: credit's `reward`/`advantage` and the step components (with details). */
function stepOutputs(
  steps: Step[],
  i: number,
  credit: CreditOutput | null,
  creditOffsets: Int32Array | null,
  grades: StepGrades | null,
  comps: StepComponents | null,
): Step[] {
  return steps.map((step, j) => {
    const out: Record<string, unknown> = { ...step };
    if (grades && comps) {
      const t = grades.offsets[i]! + j;
      // Null-prototype records: a component may be named __proto__ or constructor (spec/names.ts).
      const c = nameRecord<number | null>();
      const d = nameRecord<unknown>();
      comps.names.forEach((name, k) => {
        const v = grades.columns[k]![t]!;
        c[name] = v === v ? v : null;
        const det = grades.details[k]?.[t];
        if (det !== undefined) d[name] = det;
      });
      out.components = c;
      if (grades.details[0]) out.details = d;
      if (!credit) {
        const r = grades.reward[t]!;
        if (typeof step.reward !== 'number') out.reward = r === r ? r : null;
      }
    }
    if (credit && creditOffsets) {
      const r = credit.reward[creditOffsets[i]! + j]!;
      const a = credit.advantage[creditOffsets[i]! + j]!;
      out.reward = r === r ? r : null;
      out.advantage = a === a ? a : null;
    }
    return out as Step;
  });
}

/**
 * `credit.token_rewards`: rollout i's credited step rewards and advantages on its response tokens
 * (each step's value on its `last_token`, 0 elsewhere; null where the value is null). Needs every
 * step's `last_token` and the rollout's `response_length`; throws naming the missing field.
 */
function tokenValues(r: Rollout, credit: CreditOutput, base: number, signal: TokenSignal | null): { token_rewards: (number | null)[]; token_advantages: (number | null)[] } {
  const steps = r.steps ?? [];
  const len = r.response_length;
  if (typeof len !== 'number') throw new Error('response_length (the response length in tokens) is required with credit.token_rewards');
  const last = steps.map((s, j) => {
    if (typeof s.last_token !== 'number') throw new Error(`steps[${j}].last_token (index of the step's last response token) is required with credit.token_rewards`);
    return s.last_token;
  });
  const offsets = Int32Array.of(0, steps.length);
  const end = base + steps.length;
  const nullable = (x: Float64Array) => Array.from(x, (v) => (v === v ? v : null));
  try {
    const rewards = stepsToTokens(offsets, credit.reward.subarray(base, end), last, [len])[0]!;
    return {
      token_rewards: nullable(signal ? addTokenSignal(rewards, signal.values, signal.weight) : rewards),
      token_advantages: nullable(stepsToTokens(offsets, credit.advantage.subarray(base, end), last, [len])[0]!),
    };
  } catch (e) {
    // stepsToTokens numbers rollouts within its call, which here holds this rollout alone.
    throw new Error(errorMessage(e).replace(/^rollout 0: /, ''));
  }
}

/** A rollout's token-level signal for `credit.token_rewards: {signal, weight}`: one value per response token. */
interface TokenSignal {
  values: number[];
  weight: number;
}

/**
 * The token-level signal of rollout i: the signal component's `details.token_rewards`, checked to be
 * finite numbers, one per response token (the rollout's `completion_ids` count or `response_length`).
 * Throws naming what is wrong; a null score (the component could not judge) has no signal.
 */
function tokenSignalOf(r: Rollout, name: string, score: number, details: Record<string, unknown> | undefined, weight: number): TokenSignal {
  if (score !== score) throw new Error(`the token signal "${name}" is null for this rollout: no token rewards`);
  const v = details?.token_rewards;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new Error(`component "${name}" gave no details.token_rewards (a list of numbers, one per token): use grader token_reward`);
  const len = rolloutTokenCount(r);
  if (len === undefined) throw new Error('response_length or completion_ids (the response length in tokens) is required with credit.token_rewards.signal');
  if (v.length !== len) throw new Error(`the token signal "${name}" has ${v.length} tokens for a response of ${len}: its backend must tokenize as the policy does`);
  return { values: v as number[], weight };
}

/**
 * `credit.token_rewards: {signal}` on a rollout without steps: the whole response is one step ending on
 * its last token, which carries the rollout's reward (null when the reward is), plus the signal on
 * every token.
 */
function singleStepTokenRewards(reward: number, signal: TokenSignal): (number | null)[] {
  const base = new Float64Array(signal.values.length);
  if (base.length > 0) base[base.length - 1] = reward;
  return Array.from(addTokenSignal(base, signal.values, signal.weight), (v) => (v === v ? v : null));
}

/**
 * Scores one batch of validated rollouts with a compiled spec. Groups are formed from `group` (or the
 * prompt) within the batch; the estimator and shapers see the whole batch. A grader that throws on a
 * rollout leaves that component null and adds an entry to the rollout's `errors`; the batch goes on.
 *
 * @example
 * const compiled = compileSpec(parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }));
 * const { results } = await scoreBatch(compiled, [{ id: 'a', completion: '42', reference: '42' }]);
 * // results[0] → { id: 'a', completion: '42', reference: '42', reward: 1, components: { ok: 1 } }
 */
export async function scoreBatch(compiled: CompiledSpec, rollouts: readonly Rollout[], opts: ScoreOptions = {}): Promise<BatchResult> {
  const n = rollouts.length;
  const K = compiled.names.length;
  const samples = new Array<Sample>(n);
  const groupOf = new Int32Array(n);
  const groupIndex = new Map<string, number>();
  const groupKeys: string[] = [];
  const groups: number[][] = [];
  const charLengths = new Float64Array(n);
  const tokenLengths = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = toSample(rollouts[i]!);
    samples[i] = s;
    let g = groupIndex.get(s.group);
    if (g === undefined) {
      g = groupKeys.length;
      groupIndex.set(s.group, g);
      groupKeys.push(s.group);
      groups.push([]);
    }
    groupOf[i] = g;
    groups[g]!.push(i);
    charLengths[i] = s.completion.length;
    tokenLengths[i] = tokenCount(s.rollout, s.completion);
  }

  const errors = new Array<ComponentError[] | undefined>(n);
  const tokenSpec = compiled.spec.credit?.token_rewards;
  const signalIndex = typeof tokenSpec === 'object' ? compiled.names.indexOf(tokenSpec.signal) : -1;
  const states: GradeState[] = compiled.names.map((_, k) => ({
    col: new Float64Array(n).fill(NaN),
    details: opts.details || k === signalIndex ? new Array(n) : null,
    errors,
    errorCount: 0,
    reasons: new Map(),
  }));
  await Promise.all(compiled.graders.map((g, k) => gradeComponent(g, compiled.names[k]!, samples, groups, states[k]!)));

  const components = states.map((s) => s.col);
  const nullCounts = new Int32Array(K);
  const errorCounts = Int32Array.from(states.map((s) => s.errorCount));
  const rewards = new Float64Array(n);
  const row = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const v = components[k]![i]!;
      row[k] = v;
      if (v !== v) nullCounts[k]!++;
    }
    rewards[i] = compiled.combiner.combine(row);
  }

  if (compiled.shapers) compiled.shapers.apply({ rewards, groupOf, groupCount: groupKeys.length, lengths: charLengths, tokenLengths, samples });
  const advantages = compiled.estimator
    ? compiled.estimator.compute({ rewards, components, weights: compiled.weights, groupOf, groupCount: groupKeys.length, completionLengths: tokenLengths })
    : null;

  const hasSteps = rollouts.some((r) => Array.isArray(r.steps) && r.steps.length > 0);
  const stepGrades = compiled.steps && hasSteps ? await gradeSteps(compiled.steps, rollouts, errors, opts.details === true) : null;

  // Step-level credit: the episode reward is the outcome; a failure is reported on every rollout
  // with steps (their step outputs are left out), never losing the batch's rewards.
  let credit: CreditOutput | null = null;
  let stepOffsets: Int32Array | null = null;
  let stepTally: StepCreditTally | undefined;
  if (compiled.credit && hasSteps) {
    try {
      const signals = stepGrades && compiled.steps ? new Map(compiled.steps.names.map((name, k) => [name, stepGrades.columns[k]!])) : undefined;
      const { batch } = buildStepBatch(rollouts, Array.from(rewards, (r) => (r === r ? r : null)), signals);
      batch.groupOf = groupOf;
      batch.groupCount = groupKeys.length;
      if (stepGrades) {
        // A step's given `reward` wins; otherwise its step components' weighted sum is the step reward.
        for (let t = 0; t < batch.reward.length; t++) if (batch.reward[t] !== batch.reward[t]) batch.reward[t] = stepGrades.reward[t]!;
      }
      credit = compiled.credit.compute(batch);
      stepOffsets = batch.offsets;
      stepTally = new StepCreditTally().add(batch, credit);
    } catch (e) {
      for (let i = 0; i < n; i++) if (rollouts[i]!.steps?.length) (errors[i] ??= []).push({ component: 'credit', message: errorMessage(e) });
    }
  }

  const results = new Array<ScoredRollout>(n);
  for (let i = 0; i < n; i++) {
    // Null-prototype records: a component may be named __proto__ or constructor (spec/names.ts).
    const comps = nameRecord<number | null>();
    for (let k = 0; k < K; k++) {
      const v = components[k]![i]!;
      comps[compiled.names[k]!] = v === v ? v : null;
    }
    const r = rewards[i]!;
    const src = rollouts[i]!;
    const out: ScoredRollout = opts.slim ? slimResult(src, r === r ? r : null, comps) : copyRollout(src, r === r ? r : null, comps);
    if (advantages) {
      const a = advantages[i]!;
      out.advantage = a === a ? a : null;
    } else if ('advantage' in src) delete out.advantage;
    if (opts.details) {
      const d = nameRecord<unknown>();
      for (let k = 0; k < K; k++) {
        const det = states[k]!.details![i];
        if (det !== undefined) d[compiled.names[k]!] = det;
      }
      out.details = d;
    } else if ('details' in src) delete out.details;
    if ((credit || stepGrades) && Array.isArray(src.steps)) out.steps = stepOutputs(src.steps, i, credit, stepOffsets, stepGrades, compiled.steps);
    const withSteps = Array.isArray(src.steps) && src.steps.length > 0;
    if (tokenSpec && (withSteps ? credit && stepOffsets : signalIndex >= 0)) {
      try {
        const signal = signalIndex >= 0 ? tokenSignalOf(src, compiled.names[signalIndex]!, components[signalIndex]![i]!, states[signalIndex]!.details![i], (tokenSpec as { weight: number }).weight) : null;
        if (withSteps) Object.assign(out, tokenValues(src, credit!, stepOffsets![i]!, signal));
        else out.token_rewards = singleStepTokenRewards(r, signal!);
      } catch (e) {
        (errors[i] ??= []).push({ component: 'credit', message: errorMessage(e) });
      }
    }
    if (errors[i]) out.errors = errors[i];
    else if ('errors' in src) delete out.errors;
    results[i] = out;
  }
  return {
    results,
    columns: {
      components,
      rewards,
      advantages,
      groupOf,
      groupCount: groupKeys.length,
      groupKeys,
      charLengths,
      tokenLengths,
      nullCounts,
      errorCounts,
      nullReasons: states.map((s) => s.reasons),
      ...(stepTally ? { steps: stepTally } : {}),
    },
  };
}

/**
 * The diagnostics' view of a scored batch: its columns as {@link DiagnoseInput} (rewards, components,
 * advantages, groups, token lengths, null and error counts, null reasons, step credit), for
 * `diagnoseBatch`. `groupNames` names flagged groups (default: batch index).
 *
 * @example
 * const { columns } = await scoreBatch(compiled, rollouts);
 * const d = diagnoseBatch(diagnoseInputOf(columns, compiled.names), compiled.spec.diagnostics);
 */
export function diagnoseInputOf(columns: BatchColumns, names: readonly string[], groupNames?: readonly string[]): DiagnoseInput {
  return {
    rewards: columns.rewards,
    components: columns.components,
    names,
    advantages: columns.advantages ?? undefined,
    groupOf: columns.groupOf,
    groupCount: columns.groupCount,
    lengths: columns.tokenLengths,
    nullCounts: columns.nullCounts,
    errorCounts: columns.errorCounts,
    nullReasons: columns.nullReasons,
    groupNames,
    steps: columns.steps,
  };
}
