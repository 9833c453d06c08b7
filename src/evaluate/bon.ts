import type { ChatMessage, Rollout } from '../rollout/types.js';
import { ErrorTally, type RewardSource } from './source.js';
import { EvalInputError, isPlainObject, kindOf, RecordReader } from './io.js';
import { DEFAULT_SUBSET, PairRowError } from './pairs.js';
import { finiteOrNull } from './stats.js';

/**
 * `eval bon`: does the scorer pick a correct answer out of N candidates? RewardBench 2's best-of-N rule
 * (allenai/reward-bench `reroll_and_score_dataset`): with the correct answer at index 0,
 * `credit = 1/#{i: s_i = max} if s_0 = max else 0` — a tie at the top shares the credit, so a scorer
 * cannot win by giving everything the same score. With several correct candidates the credit is
 * `#correct among the tied top / #tied top`, the chance that a uniform tie-break picks a correct one
 * (the same rule when one is correct). A null score never wins the max.
 *
 * The RewardBench 2 "Ties" subset (rows of subset `ties` with ids `ref:K` / `tied:K`) is scored with its
 * own rule (`process_single_model`): 0.30·tied accuracy + 0.30·reference accuracy
 * + 0.20·P(correct–incorrect margin > spread of correct answers) + 0.20·the same with the smaller of the
 * two margins + 0.01·mean tanh(min margin / spread − 1), where a prompt is accurate when its worst
 * correct answer outscores its best incorrect one.
 *
 * The overall `score` is, as on RewardBench 2's leaderboard, the unweighted mean of the subset scores.
 */

/** One best-of-N row: candidates and which of them are correct. */
export interface BonInput {
  id: string;
  prompt: string | ChatMessage[] | undefined;
  candidates: (string | ChatMessage[])[];
  correct: boolean[];
  subset: string;
  reference?: unknown;
  meta?: Record<string, unknown>;
}

function textOrMessages(v: unknown, field: string): string | ChatMessage[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((m) => isPlainObject(m) && typeof m.role === 'string')) return v as ChatMessage[];
  throw new PairRowError(field, `expected a string or a list of chat messages, got ${kindOf(v)}`);
}

/**
 * Reads a best-of-N row. Two forms:
 * - RewardBench 2: `{prompt, chosen: answer | [answers], rejected: [answers], subset?, id?}`: the chosen
 *   answers are the correct ones;
 * - `{prompt, responses: [answers], correct: index | [indices], subset?, id?}`.
 */
export function parseBonRow(v: unknown, line: number): BonInput {
  if (!isPlainObject(v)) throw new PairRowError('(record)', `expected a JSON object, got ${kindOf(v)}`);
  const prompt = v.prompt === undefined || v.prompt === null ? undefined : textOrMessages(v.prompt, 'prompt');
  let candidates: (string | ChatMessage[])[];
  let correct: boolean[];
  if (v.responses !== undefined) {
    if (!Array.isArray(v.responses) || v.responses.length === 0) throw new PairRowError('responses', 'expected a non-empty list of answers');
    candidates = v.responses.map((r, i) => textOrMessages(r, `responses[${i}]`));
    const idx = Array.isArray(v.correct) ? v.correct : [v.correct];
    correct = candidates.map(() => false);
    for (const k of idx) {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= candidates.length)
        throw new PairRowError('correct', `expected an index (or list of indices) into responses, got ${JSON.stringify(v.correct)}`);
      correct[k] = true;
    }
  } else if (v.chosen !== undefined) {
    const chosen = Array.isArray(v.chosen) && !(v.chosen.length > 0 && isPlainObject(v.chosen[0])) ? v.chosen : [v.chosen];
    if (!Array.isArray(v.rejected) || v.rejected.length === 0) throw new PairRowError('rejected', 'expected a non-empty list of answers');
    if (chosen.length === 0) throw new PairRowError('chosen', 'expected at least one correct answer');
    candidates = [...chosen.map((c, i) => textOrMessages(c, `chosen[${i}]`)), ...v.rejected.map((r, i) => textOrMessages(r, `rejected[${i}]`))];
    correct = candidates.map((_, i) => i < chosen.length);
  } else throw new PairRowError('responses', 'is required (or chosen + rejected)');
  const id = typeof v.id === 'string' && v.id ? v.id : typeof v.id === 'number' ? String(v.id) : `line-${line}`;
  const subset = v.subset === undefined || v.subset === null ? DEFAULT_SUBSET : String(v.subset);
  return { id, prompt, candidates, correct, subset, reference: v.reference, meta: isPlainObject(v.meta) ? v.meta : undefined };
}

/**
 * Best-of-N credit with RewardBench 2's tie rule; null scores (NaN) never reach the max.
 *
 * @example
 * bonCredit([2, 2, 1, 0.5], [true, false, false, false]) // → 0.5 (the correct answer shares the top with one other)
 */
export function bonCredit(scores: ArrayLike<number>, correct: readonly boolean[]): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s === s && s > max) max = s;
  }
  if (max === -Infinity) return 0;
  let top = 0;
  let topCorrect = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] === max) {
      top++;
      if (correct[i]) topCorrect++;
    }
  }
  return topCorrect / top;
}

/** Rank (1 = best) of the best-scored correct candidate, counting candidates strictly above it; null scores rank last. */
export function correctRank(scores: ArrayLike<number>, correct: readonly boolean[]): number {
  let best = -Infinity;
  for (let i = 0; i < scores.length; i++) if (correct[i] && scores[i]! > best) best = scores[i]!;
  let above = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s === s && s > best) above++;
  }
  return above + 1;
}

/** RewardBench 2 Ties subset statistics. */
export interface TiesScore {
  score: number;
  ref_accuracy: number;
  tied_accuracy: number;
  correctness_preferred: number;
  correctness_preferred_hard: number;
  margin_score: number;
  prompts: number;
}

/**
 * The Ties subset score of RewardBench 2 (`process_single_model`). Each row: `id` = `ref:K` (one correct
 * answer) or `tied:K` (several), `scores`, `numCorrect` (the first `numCorrect` scores are correct).
 * Returns null when no row has that id form.
 */
export function tiesScore(rows: readonly { id: string; scores: ArrayLike<number>; numCorrect: number }[]): TiesScore | null {
  const stats = { ref: new Map<string, [boolean, number | null, number]>(), tied: new Map<string, [boolean, number | null, number]>() };
  for (const r of rows) {
    const m = /^(ref|tied):(.+)$/.exec(r.id);
    if (!m) continue;
    let bestC = -Infinity;
    let worstC = Infinity;
    let bestI = -Infinity;
    let nc = 0;
    for (let i = 0; i < r.scores.length; i++) {
      const s = r.scores[i]!;
      if (i < r.numCorrect) {
        nc++;
        if (s > bestC) bestC = s;
        if (s < worstC) worstC = s;
      } else if (s > bestI) bestI = s;
    }
    const margin = worstC - bestI;
    stats[m[1] as 'ref' | 'tied'].set(m[2]!, [margin > 0, nc > 1 ? bestC - worstC : null, margin]);
  }
  if (stats.ref.size === 0 && stats.tied.size === 0) return null;
  const accOf = (mp: Map<string, [boolean, number | null, number]>) => {
    let k = 0;
    for (const v of mp.values()) if (v[0]) k++;
    return mp.size ? k / mp.size : 0;
  };
  const both = [...stats.tied.keys()].filter((k) => stats.ref.has(k));
  let pref = 0;
  let prefHard = 0;
  let marginSum = 0;
  for (const k of both) {
    const t = stats.tied.get(k)!;
    const r = stats.ref.get(k)!;
    const spread = t[1] ?? NaN;
    const ties = t[2];
    const ref = r[2];
    if (ties > spread) pref++;
    const mn = Math.min(ref, ties);
    if (mn > spread) prefHard++;
    const ms = Math.tanh(mn / spread - 1);
    marginSum += Number.isNaN(ms) ? 0 : ms;
  }
  const n = both.length;
  const tied = accOf(stats.tied);
  const ref = accOf(stats.ref);
  const cp = n ? pref / n : NaN;
  const cph = n ? prefHard / n : NaN;
  const msc = n ? marginSum / n : NaN;
  const score = 0.3 * tied + 0.3 * ref + 0.2 * (cp === cp ? cp : 0) + 0.2 * (cph === cph ? cph : 0) + 0.01 * (msc === msc ? msc : 0);
  return { score, ref_accuracy: ref, tied_accuracy: tied, correctness_preferred: cp, correctness_preferred_hard: cph, margin_score: msc, prompts: n };
}

export interface BonSubset {
  n: number;
  score: number | null;
  rule: 'best_of_n' | 'ties';
  ties_at_top: number;
  random_baseline: number | null;
  ties?: TiesScore;
}

/** The stable JSON of `eval bon`. */
export interface BonResult {
  eval: 'bon';
  scorer: string;
  input: string;
  /** Unweighted mean of the subset scores (RewardBench 2's leaderboard average); the row mean with one subset. */
  score: number | null;
  /** Mean best-of-N credit over all rows outside a Ties subset. */
  row_mean: number | null;
  n: number;
  /** Rows where more than one candidate shares the top score. */
  ties_at_top: number;
  /** Rows with at least one null score. */
  rows_with_nulls: number;
  /** Expected credit of a scorer that ranks at random: mean of #correct/#candidates. */
  random_baseline: number | null;
  subsets: Record<string, BonSubset>;
  /** How many rows had their best correct answer at rank 1, 2, … (ties at the top count as rank 1). */
  rank_histogram: { rank: number; count: number }[];
  bad_lines: number;
  scoring_errors: number;
}

/** Accumulates best-of-N rows (scores per candidate) into a {@link BonResult}. */
export class BonAccumulator {
  private readonly subsets = new Map<string, { n: number; credit: number; topTies: number; random: number; rows: { id: string; scores: Float64Array; numCorrect: number }[] }>();
  private readonly ranks = new Map<number, number>();
  private nulls = 0;

  add(id: string, subset: string, scores: Float64Array, correct: readonly boolean[]): void {
    let s = this.subsets.get(subset);
    if (!s) this.subsets.set(subset, (s = { n: 0, credit: 0, topTies: 0, random: 0, rows: [] }));
    s.n++;
    s.credit += bonCredit(scores, correct);
    let max = -Infinity;
    let atMax = 0;
    let anyNull = false;
    for (const x of scores) {
      if (x !== x) anyNull = true;
      else if (x > max) {
        max = x;
        atMax = 1;
      } else if (x === max) atMax++;
    }
    if (atMax > 1) s.topTies++;
    if (anyNull) this.nulls++;
    s.random += correct.filter(Boolean).length / correct.length;
    const rank = correctRank(scores, correct);
    this.ranks.set(rank, (this.ranks.get(rank) ?? 0) + 1);
    if (subset.toLowerCase() === 'ties') {
      const ok = correct.every((c, i) => c === i < correct.filter(Boolean).length);
      if (ok) s.rows.push({ id, scores, numCorrect: correct.filter(Boolean).length });
    }
  }

  result(meta: { scorer: string; input: string; badLines?: number; scoringErrors?: number }): BonResult {
    const subsets: Record<string, BonSubset> = {};
    let n = 0;
    let rowCredit = 0;
    let rowN = 0;
    let ties = 0;
    let random = 0;
    const scores: number[] = [];
    for (const [name, s] of this.subsets) {
      n += s.n;
      ties += s.topTies;
      random += s.random;
      const t = name.toLowerCase() === 'ties' ? tiesScore(s.rows) : null;
      if (t) {
        subsets[name] = { n: s.n, score: t.score, rule: 'ties', ties_at_top: s.topTies, random_baseline: s.random / s.n, ties: t };
        scores.push(t.score);
      } else {
        rowCredit += s.credit;
        rowN += s.n;
        subsets[name] = { n: s.n, score: s.credit / s.n, rule: 'best_of_n', ties_at_top: s.topTies, random_baseline: s.random / s.n };
        scores.push(s.credit / s.n);
      }
    }
    return {
      eval: 'bon',
      scorer: meta.scorer,
      input: meta.input,
      score: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      row_mean: rowN ? rowCredit / rowN : null,
      n,
      ties_at_top: ties,
      rows_with_nulls: this.nulls,
      random_baseline: finiteOrNull(n ? random / n : NaN),
      subsets,
      rank_histogram: [...this.ranks.entries()].sort((a, b) => a[0] - b[0]).map(([rank, count]) => ({ rank, count })),
      bad_lines: meta.badLines ?? 0,
      scoring_errors: meta.scoringErrors ?? 0,
    };
  }
}

/**
 * The rollouts of one best-of-N row: one per candidate, all in one group. The correctness label is not
 * passed to the scorer, and the candidates are rotated by `shift` (evaluations rotate by the row index)
 * so the correct answer — first in RewardBench 2's files — does not always sit in the same position for
 * a listwise judge. `order[j]` is the candidate index of rollout j.
 */
export function bonRollouts(b: BonInput, group: string, shift = 0): { rollouts: Rollout[]; order: number[] } {
  const n = b.candidates.length;
  const order = Array.from({ length: n }, (_, j) => (j + shift) % n);
  const rollouts = order.map((c, j) => {
    const r: Rollout = { id: `${b.id}/${j}`, group, completion: b.candidates[c]!, meta: { ...b.meta, subset: b.subset } };
    if (b.prompt !== undefined) r.prompt = b.prompt;
    if (b.reference !== undefined) r.reference = b.reference;
    return r;
  });
  return { rollouts, order };
}

/** Evaluates a scorer on a best-of-N file. */
export async function evaluateBon(
  path: string,
  source: RewardSource,
  o: { strict?: boolean; batchRollouts?: number; log?: (s: string) => void; progress?: (rows: number) => void } = {},
): Promise<BonResult> {
  const reader = new RecordReader(path, { strict: o.strict, log: o.log });
  const acc = new BonAccumulator();
  const errors = new ErrorTally();
  const size = o.batchRollouts ?? 4096;
  let rows: BonInput[] = [];
  let orders: number[][] = [];
  let rollouts: Rollout[] = [];
  let index = 0;
  let done = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const s = await source.score(rollouts);
    errors.add(s);
    let k = 0;
    rows.forEach((b, r) => {
      const sc = new Float64Array(b.candidates.length);
      orders[r]!.forEach((c, j) => (sc[c] = s.rewards[k + j]!));
      k += b.candidates.length;
      acc.add(b.id, b.subset, sc, b.correct);
    });
    done += rows.length;
    o.progress?.(done);
    rows = [];
    orders = [];
    rollouts = [];
  };
  for await (const b of reader.rows(parseBonRow, PairRowError)) {
    const { rollouts: rs, order } = bonRollouts(b, `bon:${index}`, index);
    index++;
    rows.push(b);
    orders.push(order);
    rollouts.push(...rs);
    if (rollouts.length >= size) await flush();
  }
  await flush();
  const msg = errors.message(source.label);
  if (msg) o.log?.(`warning: ${msg}`);
  if (done === 0) throw new EvalInputError(`${path}: no usable best-of-N rows (${reader.badLines} bad lines)`);
  return acc.result({ scorer: source.label, input: path, badLines: reader.badLines, scoringErrors: errors.count });
}
