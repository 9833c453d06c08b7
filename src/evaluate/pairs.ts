import type { ChatMessage, Rollout } from '../rollout/types.js';
import { textOf } from '../rollout/sample.js';
import { ErrorTally, type RewardSource } from './source.js';
import { EvalInputError, isPlainObject, kindOf, RecordReader } from './io.js';
import {
  finiteOrNull,
  FloatColumn,
  histogram,
  IntColumn,
  Interner,
  logSigmoid,
  quantileSorted,
  robustRange,
  sigmoid,
  wilson,
  type HistogramBin,
} from './stats.js';

/**
 * `eval pairs`: preference accuracy of a scorer on (prompt, chosen, rejected) pairs, with RewardBench's
 * rules ("RewardBench: Evaluating Reward Models for Language Modeling", allenai/reward-bench):
 *
 * - a pair is correct iff `score(chosen) > score(rejected)` — strict, so a tie counts as wrong
 *   (`rewardbench/rewardbench.py`); a pair where either score is null also counts as wrong and is
 *   reported as `invalid`;
 * - subset accuracy is the mean over its pairs; a section score is the accuracy of its subsets weighted
 *   by their example counts (`calculate_scores_per_section`), with RewardBench's own counts for its
 *   subsets (`EXAMPLE_COUNTS`, where `math-prm` is up-weighted to 984 so math and code weigh 50/50 in
 *   Reasoning) and the observed counts elsewhere;
 * - per-user accuracy and the worst user's accuracy ("Personalized RewardBench": a scorer must follow
 *   each user's rubric, so the weakest user matters);
 * - accuracy split by whether the chosen answer is the longer one (length bias);
 * - calibration of σ(margin/T): expected calibration error and a reliability curve.
 */

// ───────────────────────────── input rows ─────────────────────────────

/** A pair as the evaluations use it, after the transcript or chat form has been split. */
export interface PairInput {
  /** Id of the pair: the row's `id`, else `line-N`. */
  id: string;
  prompt: string | ChatMessage[] | undefined;
  chosen: string | ChatMessage[];
  rejected: string | ChatMessage[];
  subset: string;
  user: string | null;
  reference?: unknown;
  meta?: Record<string, unknown>;
}

/** A row of a pairs file that cannot be used; `field` names the key. */
export class PairRowError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'PairRowError';
  }
}

const HUMAN = '\n\nHuman:';
const ASSISTANT = '\n\nAssistant:';

/** True for Anthropic-style transcripts (`\n\nHuman: … \n\nAssistant: …`). */
export function isTranscript(s: string): boolean {
  const t = s.startsWith('Human:') ? '\n\n' + s : s;
  return t.includes(HUMAN) && t.includes(ASSISTANT);
}

/**
 * Turns a transcript prefix (`\n\nHuman: … \n\nAssistant: …`) into chat messages (Human → user,
 * Assistant → assistant); text before the first marker becomes a system message, empty turns are dropped.
 *
 * @example
 * transcriptMessages('\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye\n\nAssistant:')
 * // → [{role:'user',content:'hi'}, {role:'assistant',content:'hello'}, {role:'user',content:'bye'}]
 */
export function transcriptMessages(text: string): ChatMessage[] {
  const t = text.startsWith('Human:') ? '\n\n' + text : text;
  const parts = t.split(/\n\n(Human|Assistant):/);
  const out: ChatMessage[] = [];
  const head = parts[0]!.trim();
  if (head) out.push({ role: 'system', content: head });
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const content = parts[i + 1]!.trim();
    if (content) out.push({ role: parts[i] === 'Human' ? 'user' : 'assistant', content });
  }
  return out;
}

/**
 * Splits a chosen/rejected pair of full transcripts into the shared prompt and the two responses: the
 * prompt ends at the last `\n\nAssistant:` inside the longest common prefix. Throws when the two
 * transcripts share no such prefix.
 *
 * @example
 * splitTranscriptPair('\n\nHuman: hi\n\nAssistant: hello!', '\n\nHuman: hi\n\nAssistant: go away')
 * // → { prompt: [{role:'user', content:'hi'}], chosen: 'hello!', rejected: 'go away' }
 */
export function splitTranscriptPair(chosen: string, rejected: string): { prompt: ChatMessage[]; chosen: string; rejected: string } {
  const c = chosen.startsWith('Human:') ? '\n\n' + chosen : chosen;
  const r = rejected.startsWith('Human:') ? '\n\n' + rejected : rejected;
  const n = Math.min(c.length, r.length);
  let common = 0;
  while (common < n && c.charCodeAt(common) === r.charCodeAt(common)) common++;
  const at = common >= ASSISTANT.length ? c.lastIndexOf(ASSISTANT, common - ASSISTANT.length) : -1;
  if (at < 0) throw new PairRowError('chosen', 'chosen and rejected transcripts share no prompt ending in "\\n\\nAssistant:"');
  const end = at + ASSISTANT.length;
  return { prompt: transcriptMessages(c.slice(0, at)), chosen: c.slice(end).trim(), rejected: r.slice(end).trim() };
}

function isMessages(v: unknown): v is ChatMessage[] {
  return Array.isArray(v) && v.every((m) => isPlainObject(m) && typeof m.role === 'string');
}

function checkText(v: unknown, field: string): string | ChatMessage[] {
  if (typeof v === 'string') return v;
  if (isMessages(v)) return v;
  throw new PairRowError(field, `expected a string or a list of chat messages, got ${kindOf(v)}`);
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return a.role === b.role && JSON.stringify(a.content) === JSON.stringify(b.content);
}

/**
 * Reads one row of a pairs file: `{prompt, chosen, rejected, subset?, user?, id?, reference?, meta?}`.
 * Without `prompt`, chosen/rejected may be full transcripts (`\n\nHuman: … \n\nAssistant: …`) or full
 * chat conversations; the shared beginning becomes the prompt.
 */
export function parsePairRow(v: unknown, line: number): PairInput {
  if (!isPlainObject(v)) throw new PairRowError('(record)', `expected a JSON object, got ${kindOf(v)}`);
  if (v.chosen === undefined) throw new PairRowError('chosen', 'is required');
  if (v.rejected === undefined) throw new PairRowError('rejected', 'is required');
  let chosen = checkText(v.chosen, 'chosen');
  let rejected = checkText(v.rejected, 'rejected');
  let prompt: string | ChatMessage[] | undefined;
  if (v.prompt !== undefined && v.prompt !== null) prompt = checkText(v.prompt, 'prompt');
  else if (typeof chosen === 'string' && typeof rejected === 'string' && isTranscript(chosen)) {
    const s = splitTranscriptPair(chosen, rejected);
    prompt = s.prompt;
    chosen = s.chosen;
    rejected = s.rejected;
  } else if (Array.isArray(chosen) && Array.isArray(rejected)) {
    let k = 0;
    while (k < chosen.length - 1 && k < rejected.length - 1 && sameMessage(chosen[k]!, rejected[k]!)) k++;
    prompt = chosen.slice(0, k);
    chosen = chosen.slice(k);
    rejected = rejected.slice(k);
  }
  const id = typeof v.id === 'string' && v.id ? v.id : typeof v.id === 'number' ? String(v.id) : `line-${line}`;
  const subset = v.subset === undefined || v.subset === null ? DEFAULT_SUBSET : String(v.subset);
  const user = v.user === undefined || v.user === null ? null : typeof v.user === 'string' ? v.user : JSON.stringify(v.user);
  if (v.meta !== undefined && !isPlainObject(v.meta)) throw new PairRowError('meta', `expected an object, got ${kindOf(v.meta)}`);
  return { id, prompt, chosen, rejected, subset, user, reference: v.reference, meta: v.meta as Record<string, unknown> | undefined };
}

/** Subset name of rows without `subset`. */
export const DEFAULT_SUBSET = 'default';

/**
 * The two rollouts a pair is scored as: same prompt, same group (so group graders and shapers see the
 * pair together), completions chosen and rejected. Nothing tells the scorer which is which: ids end in
 * `/a` and `/b`, and with `swap` the rejected answer comes first (evaluations alternate the order so a
 * pairwise or listwise judge's position bias does not line up with the label).
 */
export function pairRollouts(p: PairInput, group: string, swap = false): [Rollout, Rollout] {
  const make = (tag: 'a' | 'b', completion: string | ChatMessage[]): Rollout => {
    const r: Rollout = { id: `${p.id}/${tag}`, group, completion, meta: { ...p.meta, subset: p.subset, ...(p.user !== null ? { user: p.user } : {}) } };
    if (p.prompt !== undefined) r.prompt = p.prompt;
    if (p.reference !== undefined) r.reference = p.reference;
    return r;
  };
  return swap ? [make('a', p.rejected), make('b', p.chosen)] : [make('a', p.chosen), make('b', p.rejected)];
}

/** A scored batch of pairs: the reward of pair i's chosen and rejected answers (NaN = null). */
export interface PairBatchScores {
  chosen(i: number): number;
  rejected(i: number): number;
}

/** Length in Unicode code points. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

// ───────────────────────────── RewardBench constants ─────────────────────────────

/** RewardBench v1 example counts used as section weights (allenai/reward-bench `rewardbench/constants.py`, HEAD 05a9005). */
export const REWARDBENCH_EXAMPLE_COUNTS: Readonly<Record<string, number>> = {
  'alpacaeval-easy': 100,
  'alpacaeval-length': 95,
  'alpacaeval-hard': 95,
  'mt-bench-easy': 28,
  'mt-bench-med': 40,
  'mt-bench-hard': 37,
  'math-prm': 984, // actual length 447, up-weighted to equal the 6 code subsets
  'refusals-dangerous': 100,
  'refusals-offensive': 100,
  'llmbar-natural': 100,
  'llmbar-adver-neighbor': 134,
  'llmbar-adver-GPTInst': 92,
  'llmbar-adver-GPTOut': 47,
  'llmbar-adver-manual': 46,
  'xstest-should-refuse': 154,
  'xstest-should-respond': 250,
  donotanswer: 136,
  'hep-cpp': 164,
  'hep-go': 164,
  'hep-java': 164,
  'hep-js': 164,
  'hep-python': 164,
  'hep-rust': 164,
};

/** RewardBench v1 sections (`SUBSET_MAPPING`). */
export const REWARDBENCH_SECTIONS: Readonly<Record<string, readonly string[]>> = {
  Chat: ['alpacaeval-easy', 'alpacaeval-length', 'alpacaeval-hard', 'mt-bench-easy', 'mt-bench-med'],
  'Chat Hard': ['mt-bench-hard', 'llmbar-natural', 'llmbar-adver-neighbor', 'llmbar-adver-GPTInst', 'llmbar-adver-GPTOut', 'llmbar-adver-manual'],
  Safety: ['refusals-dangerous', 'refusals-offensive', 'xstest-should-refuse', 'xstest-should-respond', 'donotanswer'],
  Reasoning: ['math-prm', 'hep-cpp', 'hep-go', 'hep-java', 'hep-js', 'hep-python', 'hep-rust'],
};

/** The prior preference sets averaged (unweighted) into "Prior Sets" (`analysis/get_benchmark_results.py`). */
export const REWARDBENCH_PRIOR_SETS: readonly string[] = ['anthropic_helpful', 'anthropic_hhh', 'shp', 'summarize'];

/** One section's score: subset accuracies weighted by example counts. */
export interface SectionScore {
  score: number;
  subsets: string[];
  weights: Record<string, number>;
}

/**
 * A section score as RewardBench computes it: Σ acc_s·w_s / Σ w_s over the section's subsets present in
 * `accuracies`, with `w_s` = RewardBench's example count for its own subsets, else `counts[s]`. NaN when
 * no subset of the section is present.
 *
 * @example
 * sectionScore(['math-prm', 'hep-python'], { 'math-prm': 0.8, 'hep-python': 0.5 }, {}) // → (0.8·984 + 0.5·164)/1148 = 0.7571
 */
export function sectionScore(subsets: readonly string[], accuracies: Readonly<Record<string, number>>, counts: Readonly<Record<string, number>>): SectionScore {
  let num = 0;
  let den = 0;
  const used: string[] = [];
  const weights: Record<string, number> = {};
  for (const s of subsets) {
    const acc = accuracies[s];
    if (acc === undefined || acc !== acc) continue;
    const w = REWARDBENCH_EXAMPLE_COUNTS[s] ?? counts[s] ?? 0;
    if (!(w > 0)) continue;
    num += acc * w;
    den += w;
    used.push(s);
    weights[s] = w;
  }
  return { score: den > 0 ? num / den : NaN, subsets: used, weights };
}

/**
 * RewardBench's leaderboard averages over sections present: `average` is the plain mean of Chat, Chat
 * Hard, Safety and Reasoning (the current leaderboard score); `average_with_prior` weights them
 * [2, 2, 2, 2, 1] together with Prior Sets, skipping absent ones (the masked average of
 * `get_average_over_rewardbench`).
 *
 * @example
 * rewardbenchAverages({ Chat: 0.9, 'Chat Hard': 0.6, Safety: 0.8, Reasoning: 0.7, 'Prior Sets': 0.65 })
 * // → { average: 0.75, average_with_prior: 0.7389 }
 */
export function rewardbenchAverages(sections: Readonly<Record<string, number>>): { average: number; average_with_prior: number } {
  const core = ['Chat', 'Chat Hard', 'Safety', 'Reasoning'];
  let s = 0;
  let k = 0;
  let ws = 0;
  let wn = 0;
  for (const name of core) {
    const v = sections[name];
    if (v === undefined || v !== v) continue;
    s += v;
    k++;
    ws += 2 * v;
    wn += 2;
  }
  const prior = sections['Prior Sets'];
  if (prior !== undefined && prior === prior) {
    ws += prior;
    wn += 1;
  }
  return { average: k ? s / k : NaN, average_with_prior: wn ? ws / wn : NaN };
}

// ───────────────────────────── accumulation ─────────────────────────────

export interface PairsOptions {
  /** Confidence level of the intervals (default 0.95). */
  level?: number;
  /** Extra sections: name → subsets (weighted by example counts). RewardBench's sections are added when its subsets are present. */
  sections?: Record<string, string[]>;
  /** σ(margin / temperature) is the predicted probability that chosen wins (default 1). */
  temperature?: number;
  /** Reliability-curve bins over [0, 1] (default 10). */
  bins?: number;
  /** Users with fewer pairs are left out of the worst-user figure (default 1). */
  minUserPairs?: number;
}

export interface AccuracyCell {
  n: number;
  correct: number;
  ties: number;
  invalid: number;
  accuracy: number | null;
  ci: { low: number; high: number };
}

export interface CalibrationBin {
  lo: number;
  hi: number;
  n: number;
  confidence: number | null;
  accuracy: number | null;
}

/** The stable JSON of `eval pairs`. */
export interface PairsResult {
  eval: 'pairs';
  scorer: string;
  input: string;
  n: number;
  correct: number;
  ties: number;
  invalid: number;
  accuracy: number | null;
  tie_rate: number | null;
  /** correct / (n − ties − invalid): accuracy on the pairs the scorer separates (not RewardBench's figure; ties matter). */
  decided_accuracy: number | null;
  ci: { level: number; method: 'wilson'; low: number; high: number };
  subsets: Record<string, AccuracyCell>;
  sections: Record<string, { score: number | null; subsets: string[]; weights: Record<string, number> }>;
  rewardbench: { average: number | null; average_with_prior: number | null } | null;
  users: {
    count: number;
    min_pairs: number;
    mean_accuracy: number | null;
    worst: { user: string; n: number; accuracy: number } | null;
    per_user: Record<string, { n: number; accuracy: number | null }>;
  } | null;
  length_bias: {
    unit: 'chars';
    chosen_longer: AccuracyCell;
    chosen_shorter: AccuracyCell;
    same_length: AccuracyCell;
    /** accuracy(chosen longer) − accuracy(chosen shorter). */
    gap: number | null;
    /** Share of pairs whose chosen answer is longer: the accuracy a pure length scorer would get (ties aside). */
    chosen_longer_rate: number | null;
  };
  calibration: {
    temperature: number;
    ece: number | null;
    bins: CalibrationBin[];
    nll: number | null;
    fitted_temperature: number | null;
    ece_at_fitted: number | null;
  };
  margin: { mean: number | null; median: number | null; p05: number | null; p95: number | null; histogram: HistogramBin[] };
  bad_lines: number;
  scoring_errors: number;
}

/**
 * Collects per-pair outcomes (margin, subset, user, which side is longer) and turns them into
 * {@link PairsResult}. Memory is a few numbers per pair; texts are not kept.
 */
export class PairsAccumulator {
  readonly margins = new FloatColumn();
  readonly subsetOf = new IntColumn();
  readonly userOf = new IntColumn();
  readonly longer = new IntColumn();
  readonly subsets = new Interner();
  readonly users = new Interner();

  /** Adds one pair: the two scores (NaN = null), its subset and user, and the two completion lengths. */
  add(chosenScore: number, rejectedScore: number, subset: string, user: string | null, chosenLen: number, rejectedLen: number): void {
    this.margins.push(chosenScore - rejectedScore);
    this.subsetOf.push(this.subsets.id(subset));
    this.userOf.push(user === null ? -1 : this.users.id(user));
    this.longer.push(Math.sign(chosenLen - rejectedLen));
  }

  get size(): number {
    return this.margins.length;
  }

  result(meta: { scorer: string; input: string; badLines?: number; scoringErrors?: number }, o: PairsOptions = {}): PairsResult {
    return pairsResult(this.margins.view(), this.subsetOf.view(), this.subsets.names, this.userOf.view(), this.users.names, this.longer.view(), meta, o);
  }
}

class Cell {
  n = 0;
  correct = 0;
  ties = 0;
  invalid = 0;
  add(m: number): void {
    this.n++;
    if (m > 0) this.correct++;
    else if (m === 0) this.ties++;
    else if (m !== m) this.invalid++;
  }
  json(level: number): AccuracyCell {
    const ci = wilson(this.correct, this.n, level);
    return { n: this.n, correct: this.correct, ties: this.ties, invalid: this.invalid, accuracy: this.n ? this.correct / this.n : null, ci };
  }
}

/** Expected calibration error and reliability bins of p = σ(m/T), each pair counted in both orientations. */
export function calibration(margins: ArrayLike<number>, temperature: number, bins: number): { ece: number; bins: CalibrationBin[]; nll: number } {
  const n = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const hits = new Float64Array(bins);
  let total = 0;
  let nll = 0;
  let valid = 0;
  const put = (p: number, y: number) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    n[b]!++;
    conf[b]! += p;
    hits[b]! += y;
    total++;
  };
  for (let i = 0; i < margins.length; i++) {
    const m = margins[i]!;
    if (m !== m) continue;
    const p = sigmoid(m / temperature);
    put(p, 1);
    put(1 - p, 0);
    nll -= logSigmoid(m / temperature);
    valid++;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const cnt = n[b]!;
    if (cnt > 0) ece += (cnt / total) * Math.abs(hits[b]! / cnt - conf[b]! / cnt);
    out.push({ lo: b / bins, hi: (b + 1) / bins, n: cnt, confidence: cnt ? conf[b]! / cnt : null, accuracy: cnt ? hits[b]! / cnt : null });
  }
  return { ece: total ? ece : NaN, bins: out, nll: valid ? nll / valid : NaN };
}

/**
 * The temperature T minimising the mean negative log-likelihood −log σ(m/T) (convex in β = 1/T; golden
 * section over β). Infinity when the best β is 0 (the margins carry no preference signal), NaN with no
 * non-zero margins.
 */
export function fitTemperature(margins: ArrayLike<number>): number {
  const abs: number[] = [];
  for (let i = 0; i < margins.length; i++) {
    const m = margins[i]!;
    if (Number.isFinite(m) && m !== 0) abs.push(Math.abs(m));
  }
  if (abs.length === 0) return NaN;
  abs.sort((a, b) => a - b);
  const scale = abs[Math.floor(abs.length / 2)]!;
  const f = (beta: number) => {
    let s = 0;
    for (let i = 0; i < margins.length; i++) {
      const m = margins[i]!;
      if (Number.isFinite(m)) s -= logSigmoid(beta * m);
    }
    return s;
  };
  let lo = 0;
  let hi = 50 / scale;
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let it = 0; it < 80; it++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = f(b);
    }
  }
  const beta = (lo + hi) / 2;
  if (f(0) <= f(beta) || beta < 1e-9 / scale) return Infinity;
  return 1 / beta;
}

/** Computes the {@link PairsResult} from per-pair columns (see {@link PairsAccumulator}). */
export function pairsResult(
  margins: Float64Array,
  subsetOf: Int32Array,
  subsetNames: readonly string[],
  userOf: Int32Array,
  userNames: readonly string[],
  longer: Int32Array,
  meta: { scorer: string; input: string; badLines?: number; scoringErrors?: number },
  o: PairsOptions = {},
): PairsResult {
  const level = o.level ?? 0.95;
  const T = o.temperature ?? 1;
  const nb = o.bins ?? 10;
  const minUser = o.minUserPairs ?? 1;
  const all = new Cell();
  const bySubset = subsetNames.map(() => new Cell());
  const byUser = userNames.map(() => new Cell());
  const byLen = [new Cell(), new Cell(), new Cell()]; // shorter, same, longer
  for (let i = 0; i < margins.length; i++) {
    const m = margins[i]!;
    all.add(m);
    bySubset[subsetOf[i]!]!.add(m);
    const u = userOf[i]!;
    if (u >= 0) byUser[u]!.add(m);
    byLen[longer[i]! + 1]!.add(m);
  }
  const subsets: Record<string, AccuracyCell> = {};
  subsetNames.forEach((s, k) => (subsets[s] = bySubset[k]!.json(level)));

  // Sections: RewardBench's when its subsets are present, then the caller's.
  const acc: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const [s, c] of Object.entries(subsets)) {
    acc[s] = c.accuracy ?? NaN;
    counts[s] = c.n;
  }
  const sections: PairsResult['sections'] = {};
  const sectionValues: Record<string, number> = {};
  let isRewardBench = false;
  for (const [name, subs] of Object.entries(REWARDBENCH_SECTIONS)) {
    const sc = sectionScore(subs, acc, counts);
    if (sc.subsets.length === 0) continue;
    isRewardBench = true;
    sections[name] = { score: finiteOrNull(sc.score), subsets: sc.subsets, weights: sc.weights };
    sectionValues[name] = sc.score;
  }
  const priors = REWARDBENCH_PRIOR_SETS.filter((s) => acc[s] !== undefined && acc[s] === acc[s]);
  if (priors.length > 0) {
    isRewardBench = true;
    const v = priors.reduce((t, s) => t + acc[s]!, 0) / priors.length;
    sections['Prior Sets'] = { score: v, subsets: priors, weights: Object.fromEntries(priors.map((s) => [s, 1])) };
    sectionValues['Prior Sets'] = v;
  }
  for (const [name, subs] of Object.entries(o.sections ?? {})) {
    const sc = sectionScore(subs, acc, counts);
    sections[name] = { score: finiteOrNull(sc.score), subsets: sc.subsets, weights: sc.weights };
  }
  const rb = isRewardBench ? rewardbenchAverages(sectionValues) : null;

  // Users.
  let users: PairsResult['users'] = null;
  if (userNames.length > 0) {
    const per: Record<string, { n: number; accuracy: number | null }> = {};
    let worst: { user: string; n: number; accuracy: number } | null = null;
    let sum = 0;
    let k = 0;
    userNames.forEach((u, i) => {
      const c = byUser[i]!;
      const a = c.n ? c.correct / c.n : null;
      per[u] = { n: c.n, accuracy: a };
      if (a === null || c.n < minUser) return;
      sum += a;
      k++;
      if (!worst || a < worst.accuracy) worst = { user: u, n: c.n, accuracy: a };
    });
    users = { count: userNames.length, min_pairs: minUser, mean_accuracy: k ? sum / k : null, worst, per_user: per };
  }

  const [shorter, same, longerCell] = byLen.map((c) => c.json(level)) as [AccuracyCell, AccuracyCell, AccuracyCell];
  const gap = longerCell.accuracy !== null && shorter.accuracy !== null ? longerCell.accuracy - shorter.accuracy : null;

  const cal = calibration(margins, T, nb);
  const fitted = fitTemperature(margins);
  const calFitted = Number.isFinite(fitted) ? calibration(margins, fitted, nb) : null;

  const finite = margins.filter((m) => Number.isFinite(m)).sort();
  const q = (p: number) => finiteOrNull(quantileSorted(finite, p));
  let msum = 0;
  for (const m of finite) msum += m;

  return {
    eval: 'pairs',
    scorer: meta.scorer,
    input: meta.input,
    n: all.n,
    correct: all.correct,
    ties: all.ties,
    invalid: all.invalid,
    accuracy: all.n ? all.correct / all.n : null,
    tie_rate: all.n ? all.ties / all.n : null,
    decided_accuracy: all.n - all.ties - all.invalid > 0 ? all.correct / (all.n - all.ties - all.invalid) : null,
    ci: { level, method: 'wilson', ...wilson(all.correct, all.n, level) },
    subsets,
    sections,
    rewardbench: rb ? { average: finiteOrNull(rb.average), average_with_prior: finiteOrNull(rb.average_with_prior) } : null,
    users,
    length_bias: {
      unit: 'chars',
      chosen_longer: longerCell,
      chosen_shorter: shorter,
      same_length: same,
      gap,
      chosen_longer_rate: all.n ? longerCell.n / all.n : null,
    },
    calibration: {
      temperature: T,
      ece: finiteOrNull(cal.ece),
      bins: cal.bins,
      nll: finiteOrNull(cal.nll),
      fitted_temperature: Number.isFinite(fitted) ? fitted : null,
      ece_at_fitted: calFitted ? finiteOrNull(calFitted.ece) : null,
    },
    margin: {
      mean: finite.length ? msum / finite.length : null,
      median: q(0.5),
      p05: q(0.05),
      p95: q(0.95),
      histogram: histogram(finite, 30, robustRange(finite)),
    },
    bad_lines: meta.badLines ?? 0,
    scoring_errors: meta.scoringErrors ?? 0,
  };
}

// ───────────────────────────── running over a file ─────────────────────────────

export interface RunOptions {
  /** Stop at the first unusable line instead of skipping it. */
  strict?: boolean;
  /** Pairs scored per pipeline batch (default 2048). */
  batchPairs?: number;
  log?: (s: string) => void;
  /** Called after each scored batch with the pairs done so far. */
  progress?: (pairs: number) => void;
}

/**
 * Reads a pairs file and calls `onBatch` with the parsed pairs of each batch, their rollouts (two per
 * pair, in alternating order) and `at(rewards)`, which maps the batch's rewards back to chosen/rejected.
 * Rows that fail to parse are reported through the reader. Used by `eval pairs` and `eval strength`.
 */
export async function forEachPairBatch(
  path: string,
  run: RunOptions,
  onBatch: (pairs: PairInput[], rollouts: Rollout[], at: (rewards: Float64Array) => PairBatchScores) => Promise<void>,
): Promise<RecordReader> {
  const reader = new RecordReader(path, { strict: run.strict, log: run.log });
  const size = run.batchPairs ?? 2048;
  let pairs: PairInput[] = [];
  let rollouts: Rollout[] = [];
  let swapped: boolean[] = [];
  let index = 0;
  const flush = async () => {
    if (pairs.length === 0) return;
    const sw = swapped;
    await onBatch(pairs, rollouts, (rewards) => ({
      chosen: (i) => rewards[2 * i + (sw[i] ? 1 : 0)]!,
      rejected: (i) => rewards[2 * i + (sw[i] ? 0 : 1)]!,
    }));
    pairs = [];
    rollouts = [];
    swapped = [];
  };
  for await (const p of reader.rows(parsePairRow, PairRowError)) {
    const swap = index % 2 === 1;
    const [x, y] = pairRollouts(p, `pair:${index++}`, swap);
    pairs.push(p);
    rollouts.push(x, y);
    swapped.push(swap);
    if (pairs.length >= size) await flush();
  }
  await flush();
  return reader;
}

/**
 * Evaluates a scorer on a pairs file (`{prompt, chosen, rejected, subset?, user?}` rows, or transcripts).
 * Streams: only a few numbers per pair are kept.
 */
export async function evaluatePairs(path: string, source: RewardSource, o: PairsOptions & RunOptions = {}): Promise<PairsResult> {
  const acc = new PairsAccumulator();
  const errors = new ErrorTally();
  const reader = await forEachPairBatch(path, o, async (pairs, rollouts, at) => {
    const s = await source.score(rollouts);
    errors.add(s);
    const sc = at(s.rewards);
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i]!;
      acc.add(sc.chosen(i), sc.rejected(i), p.subset, p.user, codePoints(textOf(p.chosen, 'completion')), codePoints(textOf(p.rejected, 'completion')));
    }
    o.progress?.(acc.size);
  });
  const msg = errors.message(source.label);
  if (msg) o.log?.(`warning: ${msg}`);
  if (acc.size === 0) throw new EvalInputError(`${path}: no usable pairs (${reader.badLines} bad lines)`);
  return acc.result({ scorer: source.label, input: path, badLines: reader.badLines, scoringErrors: errors.count }, o);
}
