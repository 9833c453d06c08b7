import type { Rollout } from '../rollout/types.js';
import { ErrorTally, uniqueLabels, type RewardSource } from './source.js';
import { EvalInputError, isPlainObject, kindOf, RecordReader } from './io.js';
import { bonRollouts, parseBonRow, type BonInput } from './bon.js';
import { evaluatePairs, PairRowError, type PairsOptions, type PairsResult, type RunOptions } from './pairs.js';
import { finiteOrNull, normalQuantile, pearson, spearman } from './stats.js';

/**
 * `eval downstream`: is a pairwise benchmark a good proxy for what a reward model does downstream?
 * "Personalized RewardBench: Evaluating Reward Models with Human Aligned Personalization" ([TXT],
 * mechanics-B §2) judges a benchmark by the correlation, across reward models, between their
 * benchmark accuracy and their downstream best-of-N (and PPO) performance. For each scorer m:
 *
 * - benchmark: `eval pairs` on the pairs file — accuracy, mean per-user accuracy, worst-user accuracy;
 * - downstream best-of-N [INF, the reference's standard form]: mean over prompts of the gold score of
 *   `argmax_i r_m(y_i)` among the N candidates, with a tie at the top broken uniformly (the expected
 *   gold over the tied candidates) and null scores never picked (all null → the worst candidate:
 *   a scorer that cannot judge gets no credit);
 *
 * then Pearson and Spearman correlations over the M scorers between each benchmark statistic and the
 * downstream score, with Fisher-z intervals (Spearman's with the Fieller–Hartley–Pearson variance
 * 1.06/(M − 3)); the intervals need at least 4 scorers. With `user` on both files, the same correlation
 * over (scorer, user) cells — whether per-user accuracy predicts per-user best-of-N.
 */

/** One best-of-N row with a gold score per candidate. */
export interface DownstreamRow extends BonInput {
  gold: Float64Array;
  user: string | null;
}

/**
 * Reads a downstream row: `{prompt, responses: [...], gold: [number per response], user?, id?}`, or
 * any `eval bon` row (`correct` / chosen+rejected: gold 1 for a correct candidate, else 0).
 */
export function parseDownstreamRow(v: unknown, line: number): DownstreamRow {
  if (!isPlainObject(v)) throw new PairRowError('(record)', `expected a JSON object, got ${kindOf(v)}`);
  let gold: Float64Array | null = null;
  let row = v;
  if (v.gold !== undefined) {
    if (!Array.isArray(v.responses)) throw new PairRowError('responses', 'is required with gold');
    if (!Array.isArray(v.gold) || v.gold.length !== v.responses.length) throw new PairRowError('gold', `expected one number per response (${v.responses.length}), got ${JSON.stringify(v.gold)?.slice(0, 80)}`);
    gold = new Float64Array(v.gold.length);
    v.gold.forEach((g, i) => {
      if (typeof g !== 'number' || !Number.isFinite(g)) throw new PairRowError(`gold[${i}]`, `expected a finite number, got ${JSON.stringify(g)}`);
      gold![i] = g;
    });
    row = { ...v, correct: 0 };
  }
  const b = parseBonRow(row, line);
  if (v.user !== undefined && v.user !== null && typeof v.user !== 'string') throw new PairRowError('user', `expected a string, got ${kindOf(v.user)}`);
  return { ...b, gold: gold ?? Float64Array.from(b.correct, (c) => (c ? 1 : 0)), user: typeof v.user === 'string' ? v.user : null };
}

/**
 * Expected gold score of the scorer's best-of-N pick: the mean gold over the candidates that share the
 * top score; null scores (NaN) are never picked, and when every score is null the pick is the worst
 * candidate.
 *
 * @example
 * bonGold([0.2, 0.9, 0.9], [1, 0, 0.5]) // → 0.25 (tie between candidates 1 and 2)
 */
export function bonGold(scores: ArrayLike<number>, gold: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s === s && s > max) max = s;
  }
  if (max === -Infinity) {
    let worst = Infinity;
    for (let i = 0; i < gold.length; i++) worst = Math.min(worst, gold[i]!);
    return worst;
  }
  let sum = 0;
  let k = 0;
  for (let i = 0; i < scores.length; i++)
    if (scores[i] === max) {
      sum += gold[i]!;
      k++;
    }
  return sum / k;
}

/** A correlation with its Fisher-z interval (null when it cannot be computed). */
export interface Correlation {
  n: number;
  r: number | null;
  ci: { low: number; high: number } | null;
}

/**
 * Pearson (or Spearman with `spearmanVariance`) correlation with a Fisher-z interval:
 * z = atanh r ± q·se, se = √(1/(n−3)) (Pearson) or √(1.06/(n−3)) (Spearman, Fieller et al. 1957).
 * The interval is null for n < 4 or |r| = 1.
 *
 * @example
 * correlation([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]).r // → 0.8
 */
export function correlation(x: ArrayLike<number>, y: ArrayLike<number>, kind: 'pearson' | 'spearman' = 'pearson', level = 0.95): Correlation {
  const r = kind === 'pearson' ? pearson(x, y) : spearman(x, y);
  const n = x.length;
  if (!Number.isFinite(r)) return { n, r: null, ci: null };
  if (n < 4 || Math.abs(r) >= 1) return { n, r, ci: null };
  const se = Math.sqrt((kind === 'pearson' ? 1 : 1.06) / (n - 3));
  const q = normalQuantile(1 - (1 - level) / 2);
  const z = Math.atanh(r);
  return { n, r, ci: { low: Math.tanh(z - q * se), high: Math.tanh(z + q * se) } };
}

/** The stable JSON of `eval downstream`. */
export interface DownstreamResult {
  eval: 'downstream';
  input: string;
  bon_input: string;
  scorers: string[];
  per_scorer: Record<
    string,
    {
      accuracy: number | null;
      mean_user_accuracy: number | null;
      worst_user_accuracy: number | null;
      /** Mean gold score of the best-of-N pick. */
      bon: number | null;
      /** Best-of-N per user (rows with `user`). */
      bon_by_user: Record<string, number>;
      accuracy_by_user: Record<string, number>;
    }
  >;
  /** Gold of a uniformly random pick (mean gold per row) and of the best candidate (oracle), averaged over rows. */
  bon_random: number | null;
  bon_oracle: number | null;
  /** Across scorers: each benchmark statistic against best-of-N. */
  correlations: Record<'accuracy' | 'mean_user_accuracy' | 'worst_user_accuracy', { pearson: Correlation; spearman: Correlation }>;
  /** Across (scorer, user) cells present in both files: per-user accuracy against per-user best-of-N. */
  user_cells: { pearson: Correlation; spearman: Correlation } | null;
  pairs: number;
  bon_rows: number;
  bad_lines: number;
  scoring_errors: number;
}

/** Scores a downstream best-of-N file with every source: per source, the mean gold of its pick overall and per user. */
export async function downstreamBon(
  path: string,
  sources: readonly RewardSource[],
  o: RunOptions & { batchRollouts?: number } = {},
): Promise<{ bon: Float64Array; byUser: Map<string, number>[]; rows: number; random: number; oracle: number; badLines: number; errors: number }> {
  const reader = new RecordReader(path, { strict: o.strict, log: o.log });
  const M = sources.length;
  const sums = new Float64Array(M);
  const userSums = sources.map(() => new Map<string, number>());
  const userCounts = new Map<string, number>();
  const tallies = sources.map(() => new ErrorTally());
  let rows: DownstreamRow[] = [];
  let orders: number[][] = [];
  let rollouts: Rollout[] = [];
  let index = 0;
  let done = 0;
  let random = 0;
  let oracle = 0;
  const size = o.batchRollouts ?? 4096;
  const flush = async () => {
    if (rows.length === 0) return;
    for (let m = 0; m < M; m++) {
      const s = await sources[m]!.score(rollouts);
      tallies[m]!.add(s);
      let k = 0;
      rows.forEach((b, r) => {
        const sc = new Float64Array(b.candidates.length);
        orders[r]!.forEach((c, j) => (sc[c] = s.rewards[k + j]!));
        k += b.candidates.length;
        const g = bonGold(sc, b.gold);
        sums[m]! += g;
        if (b.user !== null) userSums[m]!.set(b.user, (userSums[m]!.get(b.user) ?? 0) + g);
      });
    }
    for (const b of rows) {
      let s = 0;
      let mx = -Infinity;
      for (const g of b.gold) {
        s += g;
        mx = Math.max(mx, g);
      }
      random += s / b.gold.length;
      oracle += mx;
      if (b.user !== null) userCounts.set(b.user, (userCounts.get(b.user) ?? 0) + 1);
    }
    done += rows.length;
    o.progress?.(done);
    rows = [];
    orders = [];
    rollouts = [];
  };
  for await (const b of reader.rows(parseDownstreamRow, PairRowError)) {
    const meta = b.user !== null ? { ...b.meta, user: b.user } : b.meta;
    const { rollouts: rs, order } = bonRollouts({ ...b, meta }, `downstream:${index}`, index);
    index++;
    rows.push(b);
    orders.push(order);
    rollouts.push(...rs);
    if (rollouts.length >= size) await flush();
  }
  await flush();
  let errors = 0;
  tallies.forEach((t, m) => {
    errors += t.count;
    const msg = t.message(sources[m]!.label);
    if (msg) o.log?.(`warning: ${msg}`);
  });
  if (done === 0) throw new EvalInputError(`${path}: no usable best-of-N rows (${reader.badLines} bad lines)`);
  const byUser = userSums.map((mp) => new Map([...mp].map(([u, s]) => [u, s / userCounts.get(u)!])));
  return { bon: sums.map((s) => s / done), byUser, rows: done, random: random / done, oracle: oracle / done, badLines: reader.badLines, errors };
}

/**
 * Runs the benchmark (`eval pairs` on `pairsPath`) and the downstream best-of-N (`bonPath`) for every
 * source and correlates them. Needs at least two sources; intervals need four.
 */
export async function evaluateDownstream(
  pairsPath: string,
  bonPath: string,
  sources: readonly RewardSource[],
  o: PairsOptions & RunOptions & { level?: number } = {},
): Promise<DownstreamResult> {
  if (sources.length < 2) throw new EvalInputError('eval downstream needs at least two scorers (a correlation over reward models)');
  const level = o.level ?? 0.95;
  const labels = uniqueLabels(sources.map((s) => s.label));
  const benches: PairsResult[] = [];
  for (const s of sources) benches.push(await evaluatePairs(pairsPath, s, { ...o, progress: undefined }));
  const down = await downstreamBon(bonPath, sources, o);
  const per: DownstreamResult['per_scorer'] = {};
  const stat = {
    accuracy: new Float64Array(sources.length),
    mean_user_accuracy: new Float64Array(sources.length),
    worst_user_accuracy: new Float64Array(sources.length),
  };
  const cellAcc: number[] = [];
  const cellBon: number[] = [];
  labels.forEach((label, m) => {
    const b = benches[m]!;
    const accByUser: Record<string, number> = {};
    for (const [u, c] of Object.entries(b.users?.per_user ?? {})) if (c.accuracy !== null) accByUser[u] = c.accuracy;
    const bonByUser = Object.fromEntries(down.byUser[m]!);
    for (const [u, a] of Object.entries(accByUser))
      if (bonByUser[u] !== undefined) {
        cellAcc.push(a);
        cellBon.push(bonByUser[u]!);
      }
    per[label] = {
      accuracy: b.accuracy,
      mean_user_accuracy: b.users?.mean_accuracy ?? null,
      worst_user_accuracy: b.users?.worst?.accuracy ?? null,
      bon: finiteOrNull(down.bon[m]!),
      bon_by_user: bonByUser,
      accuracy_by_user: accByUser,
    };
    stat.accuracy[m] = b.accuracy ?? NaN;
    stat.mean_user_accuracy[m] = b.users?.mean_accuracy ?? NaN;
    stat.worst_user_accuracy[m] = b.users?.worst?.accuracy ?? NaN;
  });
  const both = (x: Float64Array) => ({ pearson: correlation(x, down.bon, 'pearson', level), spearman: correlation(x, down.bon, 'spearman', level) });
  return {
    eval: 'downstream',
    input: pairsPath,
    bon_input: bonPath,
    scorers: labels,
    per_scorer: per,
    bon_random: finiteOrNull(down.random),
    bon_oracle: finiteOrNull(down.oracle),
    correlations: { accuracy: both(stat.accuracy), mean_user_accuracy: both(stat.mean_user_accuracy), worst_user_accuracy: both(stat.worst_user_accuracy) },
    user_cells: cellAcc.length >= 2 ? { pearson: correlation(cellAcc, cellBon, 'pearson', level), spearman: correlation(cellAcc, cellBon, 'spearman', level) } : null,
    pairs: benches[0]!.n,
    bon_rows: down.rows,
    bad_lines: benches[0]!.bad_lines + down.badLines,
    scoring_errors: benches.reduce((t, b) => t + b.scoring_errors, 0) + down.errors,
  };
}
