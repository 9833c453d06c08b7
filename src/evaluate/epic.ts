import type { Rollout } from '../rollout/types.js';
import { RolloutError, validateRollout } from '../rollout/validate.js';
import { groupKey, textOf } from '../rollout/sample.js';
import { ErrorTally, readPath, uniqueLabels, type RewardSource } from './source.js';
import { EvalInputError, isPlainObject, RecordReader } from './io.js';
import { FloatColumn, IntColumn, Interner, mulberry32 } from './stats.js';

/**
 * EPIC — Equivalent-Policy Invariant Comparison ("Quantifying Differences in Reward Functions",
 * Gleave et al. 2021; HumanCompatibleAI/evaluating-rewards `distances/tabular.py`), the distance the
 * StateFactory paper uses to compare step-wise rewards.
 *
 * Two rewards that differ only by potential shaping (R + γΦ(s') − Φ(s)) and positive scaling induce the
 * same optimal policies. EPIC removes the shaping by canonicalising each reward,
 *
 *   C(R)(s,a,s') = R(s,a,s') + γ·E[R(s',A,S')] − E[R(s,A,S')] − γ·E[R(S,A,S')],  S,S' ~ D_S, A ~ D_A,
 *
 * then compares the canonical rewards with the Pearson distance D_ρ = sqrt((1 − ρ)/2) over a coverage
 * distribution. The result is a pseudometric in [0, 1]: 0 for equivalent rewards, 1 for opposite ones.
 *
 * Two forms here:
 * - **Single-turn LLM rewards** (γ = 0): the state is the prompt, the action the completion, and the
 *   episode ends. C(R)(x, y) = R(x, y) − E_{y'}[R(x, y')], where y' ranges over the rollouts of the same
 *   prompt (its group) — a group-centred reward, exactly what GRPO-style training sees. Coverage is
 *   uniform over the rollouts. A per-prompt offset (the γ = 0 potential) and positive scaling leave it
 *   unchanged.
 * - **Transitions** (rollouts with `steps` carrying `state`, optional `action`, `next_state`): the
 *   general tabular form with γ, uniform D_S, D_A and coverage over S×A×S, as the reference code. It
 *   needs the reward of every (state, action, next state); the final step of a rollout without
 *   `next_state` moves to an absorbing terminal state whose own rewards are 0.
 */

/**
 * Pearson distance sqrt((1 − ρ)/2) of two reward vectors, optionally weighted by a coverage
 * distribution (weights need not sum to 1). ρ is clipped to ≤ 1 against rounding; NaN when either
 * vector is constant (a reward equivalent to 0 has no direction to compare).
 */
export function pearsonDistance(x: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  return distanceOf(weightedCorrelation(x, y, w));
}

/** D_ρ = sqrt((1 − ρ)/2), ρ clipped to ≤ 1; NaN stays NaN. */
function distanceOf(rho: number): number {
  return rho === rho ? Math.sqrt(0.5 * (1 - Math.min(1, rho))) : NaN;
}

/** Mean square of the finite values: the scale below which a canonical reward's spread is rounding noise. */
function meanSquare(x: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isFinite(v)) {
      s += v * v;
      n++;
    }
  }
  return n ? s / n : 0;
}

/** Relative size under which a variance counts as zero (std below 1e-9 of the raw reward's RMS). */
const NEGLIGIBLE = 1e-18;

/**
 * Weighted Pearson correlation. `scaleX`/`scaleY` are the mean squares of the rewards before
 * canonicalisation: a canonical reward whose variance is negligible next to them is constant up to
 * rounding (the reward is equivalent to 0) and the correlation is undefined (NaN).
 */
function weightedCorrelation(x: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>, scaleX = meanSquare(x), scaleY = meanSquare(y)): number {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    sx += wi * x[i]!;
    sy += wi * y[i]!;
  }
  if (!(sw > 0)) return NaN;
  const mx = sx / sw;
  const my = sy / sw;
  let vx = 0;
  let vy = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w ? w[i]! : 1;
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    vx += wi * dx * dx;
    vy += wi * dy * dy;
    c += wi * dx * dy;
  }
  if (!(vx / sw > NEGLIGIBLE * scaleX) || !(vy / sw > NEGLIGIBLE * scaleY)) return NaN;
  return c / Math.sqrt(vx * vy);
}

// ───────────────────────────── tabular form ─────────────────────────────

/** A reward over a finite MDP: R[s][a][s'] stored flat at (s·A + a)·S + s'. */
export interface RewardTable {
  S: number;
  A: number;
  data: Float64Array;
}

/** Builds a {@link RewardTable} from a function of (s, a, s'). */
export function rewardTable(S: number, A: number, f: (s: number, a: number, s2: number) => number): RewardTable {
  const data = new Float64Array(S * A * S);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) for (let s2 = 0; s2 < S; s2++) data[(s * A + a) * S + s2] = f(s, a, s2);
  return { S, A, data };
}

/** Potential shaping R'(s,a,s') = R(s,a,s') + γΦ(s') − Φ(s) (reference `shape`). */
export function shapeTable(R: RewardTable, potential: ArrayLike<number>, gamma: number): RewardTable {
  return rewardTable(R.S, R.A, (s, a, s2) => R.data[(s * R.A + a) * R.S + s2]! + gamma * potential[s2]! - potential[s]!);
}

function normalised(d: ArrayLike<number> | undefined, n: number): Float64Array {
  if (!d) return new Float64Array(n).fill(1 / n);
  let t = 0;
  for (let i = 0; i < n; i++) t += d[i]!;
  return Float64Array.from({ length: n }, (_, i) => d[i]! / t);
}

/**
 * EPIC canonicalisation of a tabular reward (reference `fully_connected_random_canonical_reward`):
 * mean_sa = E_{S'}R(s,a,S'); mean_s = E_A mean_sa; mean = E_S mean_s; C = shape(R, mean_s, γ) − γ·mean.
 * `dS` (over states, for S and S') and `dA` default to uniform.
 */
export function canonicalizeTable(R: RewardTable, gamma: number, dS?: ArrayLike<number>, dA?: ArrayLike<number>): RewardTable {
  const { S, A, data } = R;
  const ps = normalised(dS, S);
  const pa = normalised(dA, A);
  const meanS = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let m = 0;
    for (let a = 0; a < A; a++) {
      let sa = 0;
      for (let s2 = 0; s2 < S; s2++) sa += ps[s2]! * data[(s * A + a) * S + s2]!;
      m += pa[a]! * sa;
    }
    meanS[s] = m;
  }
  let mean = 0;
  for (let s = 0; s < S; s++) mean += ps[s]! * meanS[s]!;
  return rewardTable(S, A, (s, a, s2) => data[(s * A + a) * S + s2]! + gamma * meanS[s2]! - meanS[s]! - gamma * mean);
}

/**
 * EPIC distance between two tabular rewards: Pearson distance of their canonical forms under the
 * coverage distribution (default uniform over S×A×S).
 *
 * @example
 * // 2 states, 1 action, γ = 0.9: R = 1[s' = 1] vs R3 = 1[s = 0 ∧ s' = 1]
 * epicTable(rewardTable(2, 1, (s, a, t) => +(t === 1)), rewardTable(2, 1, (s, a, t) => +(s === 0 && t === 1)), 0.9) // → 0.671
 */
export function epicTable(RA: RewardTable, RB: RewardTable, gamma: number, o: { dS?: ArrayLike<number>; dA?: ArrayLike<number>; coverage?: ArrayLike<number> } = {}): number {
  if (RA.S !== RB.S || RA.A !== RB.A) throw new RangeError('epicTable: the two rewards must have the same states and actions');
  const ca = canonicalizeTable(RA, gamma, o.dS, o.dA);
  const cb = canonicalizeTable(RB, gamma, o.dS, o.dA);
  return distanceOf(weightedCorrelation(ca.data, cb.data, o.coverage, meanSquare(RA.data), meanSquare(RB.data)));
}

// ───────────────────────────── single-turn (grouped) form ─────────────────────────────

/**
 * γ = 0 canonicalisation for single-turn rewards: each reward minus the mean reward of its group
 * (the rollouts of the same prompt). NaN rewards stay NaN and are left out of the means.
 */
export function canonicalizeGrouped(r: ArrayLike<number>, groupOf: ArrayLike<number>, groupCount: number): Float64Array {
  const sum = new Float64Array(groupCount);
  const cnt = new Float64Array(groupCount);
  for (let i = 0; i < r.length; i++) {
    const x = r[i]!;
    if (x !== x) continue;
    sum[groupOf[i]!]! += x;
    cnt[groupOf[i]!]!++;
  }
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const g = groupOf[i]!;
    out[i] = r[i]! - sum[g]! / cnt[g]!;
  }
  return out;
}

/** Per-group sufficient statistics of two canonical columns, for the distance and its bootstrap. */
interface GroupStats {
  n: Float64Array;
  a: Float64Array;
  b: Float64Array;
  aa: Float64Array;
  bb: Float64Array;
  ab: Float64Array;
}

function groupStats(ca: Float64Array, cb: Float64Array, groupOf: ArrayLike<number>, G: number): GroupStats {
  const st: GroupStats = { n: new Float64Array(G), a: new Float64Array(G), b: new Float64Array(G), aa: new Float64Array(G), bb: new Float64Array(G), ab: new Float64Array(G) };
  for (let i = 0; i < ca.length; i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x !== x || y !== y) continue;
    const g = groupOf[i]!;
    st.n[g]!++;
    st.a[g]! += x;
    st.b[g]! += y;
    st.aa[g]! += x * x;
    st.bb[g]! += y * y;
    st.ab[g]! += x * y;
  }
  return st;
}

function rhoFromSums(n: number, a: number, b: number, aa: number, bb: number, ab: number, scaleA: number, scaleB: number): number {
  if (n < 2) return NaN;
  const va = aa - (a * a) / n;
  const vb = bb - (b * b) / n;
  if (!(va / n > NEGLIGIBLE * scaleA) || !(vb / n > NEGLIGIBLE * scaleB)) return NaN;
  return (ab - (a * b) / n) / Math.sqrt(va * vb);
}

/** Keeps x[i] where both x[i] and y[i] are non-null, else NaN. */
function whereBoth(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => (x[i]! === x[i]! && y[i]! === y[i]! ? x[i]! : NaN));
}

/** Pearson distance of two reward columns after keeping only rollouts where both are non-null and re-centring within groups. */
export function epicGrouped(ra: ArrayLike<number>, rb: ArrayLike<number>, groupOf: ArrayLike<number>, groupCount: number): { distance: number; rho: number; n: number } {
  const xa = whereBoth(ra, rb);
  const xb = whereBoth(rb, ra);
  const st = groupStats(canonicalizeGrouped(xa, groupOf, groupCount), canonicalizeGrouped(xb, groupOf, groupCount), groupOf, groupCount);
  let n = 0;
  let a = 0;
  let b = 0;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let g = 0; g < groupCount; g++) {
    n += st.n[g]!;
    a += st.a[g]!;
    b += st.b[g]!;
    aa += st.aa[g]!;
    bb += st.bb[g]!;
    ab += st.ab[g]!;
  }
  const rho = rhoFromSums(n, a, b, aa, bb, ab, meanSquare(xa), meanSquare(xb));
  return { distance: distanceOf(rho), rho, n };
}

/**
 * Percentile bootstrap interval of the grouped EPIC distance, resampling whole groups (prompts) with
 * replacement — rollouts of one prompt are not independent. Deterministic for a given seed.
 */
export function bootstrapGrouped(
  ra: ArrayLike<number>,
  rb: ArrayLike<number>,
  groupOf: ArrayLike<number>,
  groupCount: number,
  resamples = 200,
  level = 0.95,
  seed = 1,
): { low: number; high: number } | null {
  if (resamples <= 0 || groupCount < 2) return null;
  const xa = whereBoth(ra, rb);
  const xb = whereBoth(rb, ra);
  const scaleA = meanSquare(xa);
  const scaleB = meanSquare(xb);
  const st = groupStats(canonicalizeGrouped(xa, groupOf, groupCount), canonicalizeGrouped(xb, groupOf, groupCount), groupOf, groupCount);
  const rand = mulberry32(seed);
  const ds: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let n = 0;
    let a = 0;
    let b = 0;
    let aa = 0;
    let bb = 0;
    let ab = 0;
    for (let k = 0; k < groupCount; k++) {
      const g = Math.floor(rand() * groupCount);
      n += st.n[g]!;
      a += st.a[g]!;
      b += st.b[g]!;
      aa += st.aa[g]!;
      bb += st.bb[g]!;
      ab += st.ab[g]!;
    }
    const rho = rhoFromSums(n, a, b, aa, bb, ab, scaleA, scaleB);
    if (rho === rho) ds.push(distanceOf(rho));
  }
  if (ds.length === 0) return null;
  ds.sort((x, y) => x - y);
  const q = (p: number) => {
    const pos = (ds.length - 1) * p;
    const lo = Math.floor(pos);
    return ds[lo]! + (ds[Math.ceil(pos)]! - ds[lo]!) * (pos - lo);
  };
  return { low: q((1 - level) / 2), high: q(1 - (1 - level) / 2) };
}

// ───────────────────────────── transitions from steps ─────────────────────────────

/** Terminal state name (an absorbing state with zero reward), for rollouts whose last step has no `next_state`. */
export const TERMINAL = '(terminal)';

/** One transition read from a rollout's steps, with one reward per source. */
export interface Transition {
  s: string;
  a: string;
  s2: string;
  rewards: number[];
}

function keyOf(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The transitions of one rollout: state `steps[t].state`; action `steps[t].action`, else its `content`,
 * else the step index; next state `steps[t].next_state`, else `steps[t+1].state`, else {@link TERMINAL}.
 * `keys` are dotted paths inside a step (`reward`, `meta.gold`). Throws naming the step on a missing state.
 */
export function transitionsOf(r: Rollout, keys: readonly string[]): Transition[] {
  const steps = r.steps ?? [];
  return steps.map((st, t) => {
    if (st.state === undefined || st.state === null) throw new RolloutError(`steps[${t}].state`, 'is required for the transition form of EPIC (a state key)');
    const a = st.action !== undefined ? keyOf(st.action) : st.content !== undefined ? keyOf(st.content) : String(t);
    const next = st.next_state !== undefined && st.next_state !== null ? keyOf(st.next_state) : t + 1 < steps.length ? keyOf(steps[t + 1]!.state) : TERMINAL;
    const rewards = keys.map((k) => {
      const v = readPath(st, k);
      return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
    });
    return { s: keyOf(st.state), a, s2: next, rewards };
  });
}

/**
 * Builds one reward table per source from observed transitions (repeats averaged). Rows of the terminal
 * state are 0. Throws {@link EvalInputError} when some (state, action, next state) has no observation
 * or a null reward: the general form needs the reward everywhere.
 */
export function tablesFromTransitions(ts: readonly Transition[], K: number): { states: string[]; actions: string[]; tables: RewardTable[] } {
  const states = new Interner();
  const actions = new Interner();
  for (const t of ts) {
    states.id(t.s);
    states.id(t.s2);
    actions.id(t.a);
  }
  const S = states.size;
  const A = actions.size;
  const sums = Array.from({ length: K }, () => new Float64Array(S * A * S));
  const counts = new Float64Array(S * A * S);
  for (const t of ts) {
    const idx = (states.id(t.s) * A + actions.id(t.a)) * S + states.id(t.s2);
    counts[idx]!++;
    for (let k = 0; k < K; k++) sums[k]![idx]! += t.rewards[k]!;
  }
  const terminal = states.names.indexOf(TERMINAL);
  let missing = 0;
  let nulls = 0;
  let example = '';
  for (let s = 0; s < S; s++)
    for (let a = 0; a < A; a++)
      for (let s2 = 0; s2 < S; s2++) {
        const idx = (s * A + a) * S + s2;
        if (s === terminal) {
          for (let k = 0; k < K; k++) sums[k]![idx] = 0;
          counts[idx] = 1;
          continue;
        }
        if (counts[idx] === 0) {
          missing++;
          example ||= `(${states.names[s]}, ${actions.names[a]}, ${states.names[s2]})`;
        } else if (sums.some((c) => c[idx] !== c[idx])) nulls++;
      }
  if (missing > 0 || nulls > 0) {
    const cells = (S - (terminal >= 0 ? 1 : 0)) * A * S;
    throw new EvalInputError(
      `EPIC's transition form needs the reward of every (state, action, next state): ${cells - missing} of ${cells} observed` +
        (missing ? ` (missing e.g. ${example})` : '') +
        (nulls ? `, ${nulls} with a null reward` : '') +
        '. Use rollouts covering the full table (a tabular environment), or compare whole-rollout rewards (a spec or field: source) with the single-turn form.',
    );
  }
  const tables = sums.map((sum) => ({ S, A, data: Float64Array.from(sum, (x, i) => x / counts[i]!) }));
  return { states: states.names, actions: actions.names, tables };
}

// ───────────────────────────── running over a file ─────────────────────────────

/** A step-level source for the transition form: `step:KEY` reads steps[t].KEY. */
export interface StepSource {
  label: string;
  kind: 'step';
  key: string;
}

export function stepSource(arg: string): StepSource {
  return { label: arg, kind: 'step', key: arg.replace(/^step:/, '') };
}

/** The stable JSON of `eval epic`. */
export interface EpicResult {
  eval: 'epic';
  mode: 'rollouts' | 'transitions';
  input: string;
  gamma: number;
  names: string[];
  /** EPIC distance between the first two sources. */
  distance: number | null;
  /** Pearson correlation of their canonical rewards. */
  rho: number | null;
  ci: { level: number; low: number; high: number; resamples: number; method: 'group bootstrap' } | null;
  /** Pairwise distances (symmetric, 0 on the diagonal; null where undefined). */
  matrix: (number | null)[][];
  /** Rollouts (or transitions) read, and those used (non-null under every source). */
  n: number;
  used: number;
  groups: number;
  /** Groups with a single rollout: their canonical reward is 0 (γ = 0 form), so they carry no information. */
  singleton_groups: number;
  states?: number;
  actions?: number;
  /** Up to 1,000 (canonical A, canonical B) points, for a scatter plot. */
  sample: { x: number; y: number }[];
  bad_lines: number;
  scoring_errors: number;
}

function toNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function samplePoints(ca: Float64Array, cb: Float64Array, max = 1000): { x: number; y: number }[] {
  const idx: number[] = [];
  for (let i = 0; i < ca.length; i++) if (ca[i]! === ca[i]! && cb[i]! === cb[i]!) idx.push(i);
  const m = Math.min(max, idx.length);
  const out: { x: number; y: number }[] = [];
  for (let k = 0; k < m; k++) {
    const i = idx[Math.floor((k * idx.length) / m)]!;
    out.push({ x: ca[i]!, y: cb[i]! });
  }
  return out;
}

export interface EpicOptions {
  /** Discount of the transition form (default 0.99); the single-turn form is γ = 0. */
  gamma?: number;
  /** Bootstrap resamples of the distance's interval (default 200; 0 = none). */
  bootstrap?: number;
  level?: number;
  seed?: number;
  strict?: boolean;
  /** Rollouts per scoring batch, closed at a group boundary (default 4096). */
  batchSize?: number;
  log?: (s: string) => void;
  progress?: (rollouts: number) => void;
}

/**
 * EPIC between two or more sources on a rollouts file. Spec and `field:` sources use the single-turn
 * (group-centred) form; `step:` sources use the transition form.
 */
export async function evaluateEpic(path: string, sources: readonly (RewardSource | StepSource)[], o: EpicOptions = {}): Promise<EpicResult> {
  if (sources.length < 2) throw new EvalInputError('eval epic needs at least two reward sources');
  const steps = sources.filter((s): s is StepSource => s.kind === 'step');
  if (steps.length > 0 && steps.length < sources.length)
    throw new EvalInputError('mix of step: sources and whole-rollout sources: EPIC compares rewards over the same space (transitions or rollouts)');
  const names = uniqueLabels(sources.map((s) => s.label));
  const reader = new RecordReader(path, { strict: o.strict, log: o.log });
  if (steps.length > 0) return epicTransitions(reader, steps, names, o);
  const rs = sources as RewardSource[];
  const K = rs.length;
  const cols = rs.map(() => new FloatColumn(1 << 16));
  const groupOf = new IntColumn(1 << 16);
  const groups = new Interner();
  const tallies = rs.map(() => new ErrorTally());
  let n = 0;
  for await (const batch of reader.rolloutBatches(o.batchSize ?? 4096)) {
    for (let k = 0; k < K; k++) {
      const s = await rs[k]!.score(batch);
      tallies[k]!.add(s);
      for (let i = 0; i < s.rewards.length; i++) cols[k]!.push(s.rewards[i]!);
    }
    for (const r of batch) groupOf.push(groups.id(groupKey(r, textOf(r.prompt, 'prompt'))));
    n += batch.length;
    o.progress?.(n);
  }
  rs.forEach((s, k) => {
    const msg = tallies[k]!.message(s.label);
    if (msg) o.log?.(`warning: ${msg}`);
  });
  if (n === 0) throw new EvalInputError(`${path}: no usable rollouts (${reader.badLines} bad lines)`);
  const G = groups.size;
  const go = groupOf.view();
  const vals = cols.map((c) => c.view());
  const sizes = new Int32Array(G);
  for (let i = 0; i < n; i++) sizes[go[i]!]!++;
  let singletons = 0;
  for (let g = 0; g < G; g++) if (sizes[g] === 1) singletons++;
  let used = 0;
  for (let i = 0; i < n; i++) if (vals.every((v) => v[i]! === v[i]!)) used++;
  const matrix: (number | null)[][] = names.map(() => names.map(() => 0));
  let first = { distance: NaN, rho: NaN, n: 0 };
  for (let a = 0; a < K; a++)
    for (let b = a + 1; b < K; b++) {
      const d = epicGrouped(vals[a]!, vals[b]!, go, G);
      if (a === 0 && b === 1) first = d;
      matrix[a]![b] = matrix[b]![a] = toNull(d.distance);
    }
  const level = o.level ?? 0.95;
  const resamples = o.bootstrap ?? 200;
  const ci = first.distance === first.distance ? bootstrapGrouped(vals[0]!, vals[1]!, go, G, resamples, level, o.seed ?? 1) : null;
  const ca = canonicalizeGrouped(whereBoth(vals[0]!, vals[1]!), go, G);
  const cb = canonicalizeGrouped(whereBoth(vals[1]!, vals[0]!), go, G);
  return {
    eval: 'epic',
    mode: 'rollouts',
    input: path,
    gamma: 0,
    names,
    distance: toNull(first.distance),
    rho: toNull(first.rho),
    ci: ci ? { level, ...ci, resamples, method: 'group bootstrap' } : null,
    matrix,
    n,
    used,
    groups: G,
    singleton_groups: singletons,
    sample: samplePoints(ca, cb),
    bad_lines: reader.badLines,
    scoring_errors: tallies.reduce((t, x) => t + x.count, 0),
  };
}

async function epicTransitions(reader: RecordReader, sources: readonly StepSource[], names: string[], o: EpicOptions): Promise<EpicResult> {
  const gamma = o.gamma ?? 0.99;
  if (!(gamma >= 0 && gamma <= 1)) throw new EvalInputError(`--gamma must be in [0, 1], got ${gamma}`);
  const ts: Transition[] = [];
  let rollouts = 0;
  for await (const chunk of reader.chunks()) {
    for (const rec of chunk) {
      try {
        const r = validateRollout(rec.value);
        if (!r.steps || r.steps.length === 0) throw new RolloutError('steps', 'step: sources need rollouts with steps');
        for (const st of r.steps) if (!isPlainObject(st)) throw new RolloutError('steps', 'expected objects');
        ts.push(...transitionsOf(r, sources.map((s) => s.key)));
        rollouts++;
      } catch (e) {
        if (e instanceof RolloutError) {
          reader.bad(rec.line, e.message);
          continue;
        }
        throw e;
      }
    }
  }
  if (ts.length === 0) throw new EvalInputError(`${reader.path}: no usable transitions (${reader.badLines} bad lines)`);
  const { states, actions, tables } = tablesFromTransitions(ts, sources.length);
  const canon = tables.map((t) => canonicalizeTable(t, gamma));
  const scales = tables.map((t) => meanSquare(t.data));
  const matrix: (number | null)[][] = names.map(() => names.map(() => 0));
  for (let a = 0; a < tables.length; a++)
    for (let b = a + 1; b < tables.length; b++) matrix[a]![b] = matrix[b]![a] = toNull(distanceOf(weightedCorrelation(canon[a]!.data, canon[b]!.data, undefined, scales[a], scales[b])));
  const rho = weightedCorrelation(canon[0]!.data, canon[1]!.data, undefined, scales[0], scales[1]);
  return {
    eval: 'epic',
    mode: 'transitions',
    input: reader.path,
    gamma,
    names,
    distance: matrix[0]![1]!,
    rho: toNull(rho),
    ci: null,
    matrix,
    n: ts.length,
    used: ts.length,
    groups: rollouts,
    singleton_groups: 0,
    states: states.length,
    actions: actions.length,
    sample: samplePoints(canon[0]!.data, canon[1]!.data),
    bad_lines: reader.badLines,
    scoring_errors: 0,
  };
}
