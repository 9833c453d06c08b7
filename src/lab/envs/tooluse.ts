/**
 * A multi-turn tool-use toy: an agent fixes a bug over at most `horizon` turns by choosing one
 * action per turn — `search` (find the file), `edit` (write a patch), `run_tests` (a check that
 * makes no progress), `submit` (ends the episode) and `ask` (a clarifying question to the user).
 *
 * - Progress: stage 0 (start) →`search` (prob. `pSearch`)→ 1 (file found) →`edit` (prob. `pEdit`)→
 *   2 (patched). Editing again at stage 2 rewrites the patch.
 * - Ambiguity: with probability `ambiguity` the task is ambiguous — the request has `options`
 *   readings, and until the agent `ask`s, a patch implements a uniformly random one (right with
 *   probability 1/options). `ask` on an ambiguous, unresolved task resolves it (a *necessary* ask);
 *   any other `ask` is an over-ask that changes nothing. The agent sees whether the request is
 *   ambiguous and whether it has been resolved (clear / ambiguous / resolved), not the patch's reading.
 * - Outcome (the episode's high-level reward r_high, mechanics-C §3's SWE levels): no submit by the
 *   horizon → `levels.noSubmit`; submit before a patch → `levels.empty`; submit a patch → `levels.pass`
 *   with probability `pPass` when the patch implements the right reading, else `levels.fail`.
 * - Step rewards (the low-level reward r_low of a rule-based step verifier): every `search`, `edit`
 *   and `run_tests` call is a well-formed tool call and earns `stepReward`, whether or not it helps
 *   — the flaw a policy can farm.
 *
 * States are `stage · 3 + clarity` (9 states), actions {@link TOOL_ACTIONS}. Episodes are written
 * into an {@link EpisodeBuffer} (typed arrays, one row per step).
 */
import type { Rng } from '../rng.js';
import type { SoftmaxPolicy } from '../learners/softmax.js';
import type { StepBatch } from '../../credit/types.js';

/** The actions, in policy order. */
export const TOOL_ACTIONS = ['search', 'edit', 'run_tests', 'submit', 'ask'] as const;
export const SEARCH = 0, EDIT = 1, RUN_TESTS = 2, SUBMIT = 3, ASK = 4;
/** Clarity of a state: the request is clear, ambiguous and unresolved, or resolved by an ask. */
export const CLEAR = 0, AMBIGUOUS = 1, RESOLVED = 2;
/** Number of states: 3 stages × 3 clarities. */
export const TOOL_STATES = 9;

/** Outcome codes per episode. */
export const NO_SUBMIT = 0, EMPTY = 1, FAIL = 2, PASS = 3;

/** Configuration of the toy. */
export interface ToolTaskConfig {
  /** Maximum number of turns (actions) per episode. */
  horizon: number;
  /** P(search finds the file). */
  pSearch: number;
  /** P(an edit produces a patch). */
  pEdit: number;
  /** P(tests pass | the patch implements the right reading). */
  pPass: number;
  /** P(a task is ambiguous). */
  ambiguity: number;
  /** Readings of an ambiguous request (≥ 2). */
  options: number;
  /** r_low of every search / edit / run_tests call. */
  stepReward: number;
  /** r_high per outcome. */
  levels: { noSubmit: number; empty: number; fail: number; pass: number };
}

/** Defaults: 10 turns, a task solvable in 3, no ambiguity, step reward 0.2, levels 0 / 0 / 0.25 / 1. */
export const TOOL_DEFAULTS: ToolTaskConfig = {
  horizon: 10,
  pSearch: 0.8,
  pEdit: 0.7,
  pPass: 0.9,
  ambiguity: 0,
  options: 3,
  stepReward: 0.2,
  levels: { noSubmit: 0, empty: 0, fail: 0.25, pass: 1 },
};

/**
 * Logits of a "pretrained" agent: in every state the action that makes progress (search at stage 0,
 * edit at stage 1, submit at stage 2) gets `+prior`, the others 0.
 */
export function pretrainedLogits(prior: number): Float64Array {
  const th = new Float64Array(TOOL_STATES * TOOL_ACTIONS.length);
  for (let s = 0; s < TOOL_STATES; s++) th[s * TOOL_ACTIONS.length + [SEARCH, EDIT, SUBMIT][Math.floor(s / 3)]] = prior;
  return th;
}

/** Checks a config; errors name the field. */
export function checkToolConfig(c: ToolTaskConfig): ToolTaskConfig {
  const prob = (v: number, f: string) => {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`tool task: ${f} is ${v}; must be a probability in [0, 1]`);
  };
  if (!(Number.isInteger(c.horizon) && c.horizon >= 1)) throw new RangeError(`tool task: horizon is ${c.horizon}; must be an integer ≥ 1`);
  prob(c.pSearch, 'pSearch');
  prob(c.pEdit, 'pEdit');
  prob(c.pPass, 'pPass');
  prob(c.ambiguity, 'ambiguity');
  if (!(Number.isInteger(c.options) && c.options >= 2)) throw new RangeError(`tool task: options is ${c.options}; must be an integer ≥ 2`);
  if (!Number.isFinite(c.stepReward)) throw new RangeError(`tool task: stepReward is ${c.stepReward}; must be finite`);
  for (const k of ['noSubmit', 'empty', 'fail', 'pass'] as const) {
    if (!Number.isFinite(c.levels[k])) throw new RangeError(`tool task: levels.${k} is ${c.levels[k]}; must be finite`);
  }
  return c;
}

/**
 * Episodes of one batch, columnar: steps of episode i are `offsets[i] … offsets[i+1]−1`.
 */
export class EpisodeBuffer {
  readonly offsets: Int32Array;
  readonly state: Int32Array;
  readonly action: Int32Array;
  /** r_low per step. */
  readonly stepReward: Float64Array;
  /** r_high per episode. */
  readonly outcome: Float64Array;
  /** {@link NO_SUBMIT} / {@link EMPTY} / {@link FAIL} / {@link PASS} per episode. */
  readonly code: Uint8Array;
  /** 1 when the episode's task was ambiguous. */
  readonly ambiguous: Uint8Array;
  /** Necessary asks (the first ask on an ambiguous task) and over-asks, per episode. */
  readonly necessaryAsks: Int32Array;
  readonly overAsks: Int32Array;
  /** Number of episodes written so far. */
  size = 0;

  constructor(
    readonly capacity: number,
    readonly horizon: number,
  ) {
    this.offsets = new Int32Array(capacity + 1);
    this.state = new Int32Array(capacity * horizon);
    this.action = new Int32Array(capacity * horizon);
    this.stepReward = new Float64Array(capacity * horizon);
    this.outcome = new Float64Array(capacity);
    this.code = new Uint8Array(capacity);
    this.ambiguous = new Uint8Array(capacity);
    this.necessaryAsks = new Int32Array(capacity);
    this.overAsks = new Int32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  /** Steps written so far. */
  get steps(): number {
    return this.offsets[this.size];
  }

  /** Turns of episode i. */
  turns(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }
}

/**
 * Runs one episode of the toy with `policy` (its frozen π) and appends it to `buf`.
 * `ambiguous` fixes whether this task is ambiguous (a group shares its task).
 *
 * @example
 * const buf = new EpisodeBuffer(1, TOOL_DEFAULTS.horizon);
 * runToolEpisode(TOOL_DEFAULTS, policy, rng, false, buf); // buf.code[0] is PASS, FAIL, EMPTY or NO_SUBMIT
 */
export function runToolEpisode(cfg: ToolTaskConfig, policy: SoftmaxPolicy, rng: Rng, ambiguous: boolean, buf: EpisodeBuffer): void {
  if (buf.size >= buf.capacity) throw new RangeError(`EpisodeBuffer is full (${buf.capacity} episodes)`);
  if (policy.states !== TOOL_STATES || policy.actions !== TOOL_ACTIONS.length) throw new RangeError(`tool task: the policy must be ${TOOL_STATES} states × ${TOOL_ACTIONS.length} actions`);
  const i = buf.size;
  let k = buf.offsets[i];
  let stage = 0;
  let clarity = ambiguous ? AMBIGUOUS : CLEAR;
  let patchRight = false;
  let code = NO_SUBMIT;
  let nec = 0, over = 0;
  for (let t = 0; t < cfg.horizon; t++) {
    const s = stage * 3 + clarity;
    const a = policy.sample(s, rng);
    buf.state[k] = s;
    buf.action[k] = a;
    buf.stepReward[k] = a === SEARCH || a === EDIT || a === RUN_TESTS ? cfg.stepReward : 0;
    k++;
    if (a === SEARCH) {
      if (stage === 0 && rng.next() < cfg.pSearch) stage = 1;
    } else if (a === EDIT) {
      if (stage >= 1 && rng.next() < cfg.pEdit) {
        stage = 2;
        patchRight = clarity === AMBIGUOUS ? rng.int(cfg.options) === 0 : true;
      }
    } else if (a === ASK) {
      if (clarity === AMBIGUOUS) {
        clarity = RESOLVED;
        nec++;
      } else over++;
    } else if (a === SUBMIT) {
      code = stage < 2 ? EMPTY : patchRight && rng.next() < cfg.pPass ? PASS : FAIL;
      break;
    }
  }
  buf.offsets[i + 1] = k;
  buf.code[i] = code;
  buf.outcome[i] = code === PASS ? cfg.levels.pass : code === FAIL ? cfg.levels.fail : code === EMPTY ? cfg.levels.empty : cfg.levels.noSubmit;
  buf.ambiguous[i] = ambiguous ? 1 : 0;
  buf.necessaryAsks[i] = nec;
  buf.overAsks[i] = over;
  buf.size = i + 1;
}

/**
 * The {@link StepBatch} of the buffer's episodes for the credit methods (`src/credit/`): step
 * rewards are r_low, outcomes r_high, episodes grouped `groupSize` at a time in buffer order.
 * The columns are views or fresh arrays; the credit method does not keep them.
 */
export function toStepBatch(buf: EpisodeBuffer, groupSize: number): StepBatch {
  const n = buf.size;
  if (n % groupSize !== 0) throw new RangeError(`toStepBatch: ${n} episodes are not whole groups of ${groupSize}`);
  const total = buf.steps;
  const groupOf = new Int32Array(n);
  for (let i = 0; i < n; i++) groupOf[i] = Math.floor(i / groupSize);
  const nan = new Float64Array(total).fill(NaN);
  return {
    offsets: buf.offsets.subarray(0, n + 1),
    reward: buf.stepReward.subarray(0, total),
    value: nan,
    potential: nan,
    executable: nan,
    agent: new Int32Array(total).fill(-1),
    agents: [],
    signals: new Map(),
    outcome: buf.outcome.subarray(0, n),
    groupOf,
    groupCount: n / groupSize,
  };
}

/** Averages of a batch of episodes (or of an evaluation). */
export interface ToolStats {
  pass: number;
  /** Pass rate on ambiguous / clear tasks (NaN when there were none). */
  passAmbiguous: number;
  passClear: number;
  turns: number;
  /** run_tests calls per episode (the farmable call that makes no progress). */
  farmCalls: number;
  /** Σ r_low per episode. */
  stepReward: number;
  /** Asks per episode on clear tasks (over-asks) and P(≥ 1 ask) on ambiguous tasks. */
  overAsksClear: number;
  askedAmbiguous: number;
}

/** {@link ToolStats} of the episodes in `buf`. */
export function toolStats(buf: EpisodeBuffer): ToolStats {
  let pass = 0, pa = 0, na = 0, pc = 0, nc = 0, turns = 0, farm = 0, sr = 0, overClear = 0, askedAmb = 0;
  for (let i = 0; i < buf.size; i++) {
    const ok = buf.code[i] === PASS ? 1 : 0;
    pass += ok;
    if (buf.ambiguous[i]) {
      na++;
      pa += ok;
      if (buf.necessaryAsks[i] > 0) askedAmb++;
    } else {
      nc++;
      pc += ok;
      overClear += buf.overAsks[i];
    }
    turns += buf.turns(i);
    for (let k = buf.offsets[i]; k < buf.offsets[i + 1]; k++) {
      if (buf.action[k] === RUN_TESTS) farm++;
      sr += buf.stepReward[k];
    }
  }
  const n = Math.max(1, buf.size);
  return {
    pass: pass / n,
    passAmbiguous: na ? pa / na : NaN,
    passClear: nc ? pc / nc : NaN,
    turns: turns / n,
    farmCalls: farm / n,
    stepReward: sr / n,
    overAsksClear: nc ? overClear / nc : NaN,
    askedAmbiguous: na ? askedAmb / na : NaN,
  };
}

/**
 * Evaluates `policy` on `episodes` fresh tasks (a share `cfg.ambiguity` of them ambiguous, drawn per
 * task) and returns their {@link ToolStats}. `buf` must hold `episodes` episodes.
 */
export function evaluateToolPolicy(cfg: ToolTaskConfig, policy: SoftmaxPolicy, rng: Rng, episodes: number, buf: EpisodeBuffer = new EpisodeBuffer(episodes, cfg.horizon)): ToolStats {
  policy.refresh();
  buf.clear();
  for (let i = 0; i < episodes; i++) runToolEpisode(cfg, policy, rng, rng.next() < cfg.ambiguity, buf);
  return toolStats(buf);
}
