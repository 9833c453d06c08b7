import { openJsonlWriter } from '../rollout/jsonl.js';
import { ErrorTally, type RewardSource } from './source.js';
import { EvalInputError, isPlainObject, RecordReader } from './io.js';
import { forEachPairBatch, parsePairRow, PairRowError, type RunOptions } from './pairs.js';
import { FloatColumn, finiteOrNull, histogram, robustRange, type HistogramBin } from './stats.js';

/**
 * `eval strength`: preference strength over an ensemble of scorers ("Secrets of RLHF in Large Language
 * Models Part II: Reward Modeling", §3). For pair i and scorer m, d_{i,m} = r_m(chosen) − r_m(rejected);
 * the strength is û_i = mean_m d_{i,m} and its spread σ̂_i = sqrt(mean_m (d_{i,m} − û_i)²) (population
 * std). The paper finds the lowest ~20% by û mostly mislabelled and the next 20% ambiguous; it flips
 * the labels of the former (or of û < 0) and uses û as an adaptive margin.
 *
 * Here a pair is
 * - `mislabelled` when û < 0 (or, with `flipQuantile`, when it is in the lowest fraction by û);
 * - `ambiguous` when it is not mislabelled and the ensemble cannot settle the sign: û = 0 or |û| < σ̂;
 * - `normal` otherwise.
 * Margins of scorers on different scales (a length in characters next to a probability) would let one
 * scorer dominate û; `normalize: 'std'` divides each scorer's margins by their standard deviation first.
 */

export interface StrengthOptions {
  /** `none` (default, as the paper: scorers share a scale) or `std` (divide each scorer's margins by their std over pairs). */
  normalize?: 'none' | 'std';
  /** Flag the lowest fraction of pairs by û as mislabelled instead of û < 0 (the paper uses 0.2). */
  flipQuantile?: number;
  /** Buckets of the strength table (default 10: deciles by û). */
  buckets?: number;
}

/** Per-pair strength: ensemble mean and population std of the margins. NaN where any margin is NaN. */
export function preferenceStrength(margins: readonly ArrayLike<number>[]): { mean: Float64Array; std: Float64Array } {
  const M = margins.length;
  const n = M ? margins[0]!.length : 0;
  const mean = new Float64Array(n);
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += margins[m]![i]!;
    const u = s / M;
    let v = 0;
    for (let m = 0; m < M; m++) {
      const d = margins[m]![i]! - u;
      v += d * d;
    }
    mean[i] = u;
    std[i] = Math.sqrt(v / M);
  }
  return { mean, std };
}

export type StrengthLabel = 'normal' | 'ambiguous' | 'mislabelled' | 'invalid';

/** Labels each pair from its strength (see the module doc). */
export function strengthLabels(mean: Float64Array, std: Float64Array, flipQuantile?: number): StrengthLabel[] {
  let cut = 0;
  let strictBelow = true;
  if (flipQuantile !== undefined) {
    const valid = mean.filter((x) => x === x).sort();
    const k = Math.floor(flipQuantile * valid.length);
    cut = k > 0 ? valid[k - 1]! : -Infinity;
    strictBelow = false;
  }
  return Array.from(mean, (u, i) => {
    if (u !== u) return 'invalid';
    if (strictBelow ? u < cut : u <= cut) return 'mislabelled';
    if (u === 0 || Math.abs(u) < std[i]!) return 'ambiguous';
    return 'normal';
  });
}

export interface StrengthBucket {
  /** Quantile range of û covered by the bucket. */
  q_lo: number;
  q_hi: number;
  n: number;
  mean: number | null;
  mean_std: number | null;
  negative_rate: number | null;
  /** Mean over scorers of the share of pairs each scorer gets right (margin > 0). */
  agreement: number | null;
}

/** The stable JSON of `eval strength`. */
export interface StrengthResult {
  eval: 'strength';
  scorers: string[];
  input: string;
  n: number;
  invalid: number;
  normalize: 'none' | 'std';
  mean_strength: number | null;
  mislabelled: { count: number; rate: number | null; rule: string };
  ambiguous: { count: number; rate: number | null; rule: string };
  normal: number;
  /** Share of valid pairs where every scorer puts chosen above rejected / below. */
  unanimous_correct: number | null;
  unanimous_wrong: number | null;
  per_scorer: Record<string, { accuracy: number | null; margin_std: number | null }>;
  buckets: StrengthBucket[];
  histogram: HistogramBin[];
  out: { path: string; action: 'annotate' | 'clean' | 'flip'; written: number; flipped: number; dropped: number } | null;
  bad_lines: number;
  scoring_errors: number;
}

/** Computes the {@link StrengthResult} from the margin columns (one per scorer, raw). */
export function strengthResult(
  raw: readonly Float64Array[],
  scorers: string[],
  meta: { input: string; badLines?: number; scoringErrors?: number },
  o: StrengthOptions = {},
): { result: StrengthResult; mean: Float64Array; std: Float64Array; labels: StrengthLabel[]; margins: Float64Array[] } {
  const normalize = o.normalize ?? 'none';
  const n = raw[0]?.length ?? 0;
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) valid[i] = raw.every((c) => Number.isFinite(c[i]!)) ? 1 : 0;
  const stdOf = (c: Float64Array) => {
    let s = 0;
    let k = 0;
    for (let i = 0; i < n; i++) if (valid[i]) (s += c[i]!), k++;
    const m = k ? s / k : 0;
    let v = 0;
    for (let i = 0; i < n; i++) if (valid[i]) v += (c[i]! - m) ** 2;
    return k ? Math.sqrt(v / k) : NaN;
  };
  const scales = raw.map(stdOf);
  const margins = raw.map((c, m) => {
    const out = new Float64Array(n);
    const sc = normalize === 'std' && scales[m]! > 0 ? scales[m]! : 1;
    for (let i = 0; i < n; i++) out[i] = valid[i] ? c[i]! / sc : NaN;
    return out;
  });
  const { mean, std } = preferenceStrength(margins);
  const labels = strengthLabels(mean, std, o.flipQuantile);
  let mis = 0;
  let amb = 0;
  let normal = 0;
  let invalid = 0;
  let uc = 0;
  let uw = 0;
  let sumU = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l === 'invalid') {
      invalid++;
      continue;
    }
    if (l === 'mislabelled') mis++;
    else if (l === 'ambiguous') amb++;
    else normal++;
    sumU += mean[i]!;
    if (margins.every((c) => c[i]! > 0)) uc++;
    if (margins.every((c) => c[i]! < 0)) uw++;
  }
  const nv = n - invalid;
  const perScorer: StrengthResult['per_scorer'] = {};
  scorers.forEach((s, m) => {
    let k = 0;
    for (let i = 0; i < n; i++) if (valid[i] && margins[m]![i]! > 0) k++;
    perScorer[s] = { accuracy: nv ? k / nv : null, margin_std: finiteOrNull(scales[m]!) };
  });

  // Buckets by quantile of û.
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => valid[i])
    .sort((a, b) => mean[a]! - mean[b]!);
  const B = Math.max(1, Math.min(o.buckets ?? 10, order.length || 1));
  const buckets: StrengthBucket[] = [];
  for (let b = 0; b < B; b++) {
    const lo = Math.floor((b * order.length) / B);
    const hi = Math.floor(((b + 1) * order.length) / B);
    const idx = order.slice(lo, hi);
    const k = idx.length;
    let su = 0;
    let ss = 0;
    let neg = 0;
    let agree = 0;
    for (const i of idx) {
      su += mean[i]!;
      ss += std[i]!;
      if (mean[i]! < 0) neg++;
      let c = 0;
      for (const col of margins) if (col[i]! > 0) c++;
      agree += c / margins.length;
    }
    buckets.push({ q_lo: b / B, q_hi: (b + 1) / B, n: k, mean: k ? su / k : null, mean_std: k ? ss / k : null, negative_rate: k ? neg / k : null, agreement: k ? agree / k : null });
  }
  const finiteMeans = mean.filter((x) => x === x);
  const result: StrengthResult = {
    eval: 'strength',
    scorers,
    input: meta.input,
    n,
    invalid,
    normalize,
    mean_strength: nv ? sumU / nv : null,
    mislabelled: { count: mis, rate: nv ? mis / nv : null, rule: o.flipQuantile !== undefined ? `lowest ${o.flipQuantile} by mean margin` : 'mean margin < 0' },
    ambiguous: { count: amb, rate: nv ? amb / nv : null, rule: 'not mislabelled, and mean margin = 0 or |mean| < std' },
    normal,
    unanimous_correct: nv ? uc / nv : null,
    unanimous_wrong: nv ? uw / nv : null,
    per_scorer: perScorer,
    buckets,
    histogram: histogram(finiteMeans, 30, robustRange(finiteMeans)),
    out: null,
    bad_lines: meta.badLines ?? 0,
    scoring_errors: meta.scoringErrors ?? 0,
  };
  return { result, mean, std, labels, margins };
}

export interface StrengthRunOptions extends StrengthOptions, RunOptions {
  /** Write the pairs again: `annotate` adds `strength` to every row, `clean` drops mislabelled rows, `flip` swaps their chosen/rejected. */
  out?: string;
  action?: 'annotate' | 'clean' | 'flip';
  /** With `clean`, drop ambiguous pairs too. */
  dropAmbiguous?: boolean;
}

/** Scores a pairs file with every source, computes strengths and optionally writes the cleaned/relabelled file. */
export async function evaluateStrength(path: string, sources: readonly RewardSource[], o: StrengthRunOptions = {}): Promise<StrengthResult> {
  if (sources.length < 2) throw new EvalInputError('eval strength needs at least two scorers (an ensemble)');
  if (o.out && path === '-') throw new EvalInputError('--out needs the input as a file (it is read twice), not stdin');
  if (o.out === '-') throw new EvalInputError('--out needs a file: stdout carries the result');
  const cols = sources.map(() => new FloatColumn());
  const tallies = sources.map(() => new ErrorTally());
  const reader = await forEachPairBatch(path, o, async (pairs, rollouts, at) => {
    for (let m = 0; m < sources.length; m++) {
      const s = await sources[m]!.score(rollouts);
      tallies[m]!.add(s);
      const sc = at(s.rewards);
      for (let i = 0; i < pairs.length; i++) cols[m]!.push(sc.chosen(i) - sc.rejected(i));
    }
    o.progress?.(cols[0]!.length);
  });
  sources.forEach((s, m) => {
    const msg = tallies[m]!.message(s.label);
    if (msg) o.log?.(`warning: ${msg}`);
  });
  if (cols[0]!.length === 0) throw new EvalInputError(`${path}: no usable pairs (${reader.badLines} bad lines)`);
  const labels = sources.map((s) => s.label);
  const { result, mean, std, labels: kinds, margins } = strengthResult(
    cols.map((c) => c.view()),
    labels,
    { input: path, badLines: reader.badLines, scoringErrors: tallies.reduce((t, x) => t + x.count, 0) },
    o,
  );
  if (o.out) result.out = await writeStrengthFile(path, o.out, o.action ?? 'annotate', !!o.dropAmbiguous, labels, margins, mean, std, kinds);
  return result;
}

/**
 * Second pass over the input: writes each usable row again (as it was, plus `strength`), in the order
 * read, dropping or flipping per `action`. Rows that did not parse the first time are skipped again.
 */
async function writeStrengthFile(
  input: string,
  out: string,
  action: 'annotate' | 'clean' | 'flip',
  dropAmbiguous: boolean,
  scorers: string[],
  margins: Float64Array[],
  mean: Float64Array,
  std: Float64Array,
  kinds: StrengthLabel[],
): Promise<NonNullable<StrengthResult['out']>> {
  const reader = new RecordReader(input, {});
  const w = openJsonlWriter(out);
  let i = 0;
  let written = 0;
  let flipped = 0;
  let dropped = 0;
  for await (const chunk of reader.chunks()) {
    let text = '';
    for (const rec of chunk) {
      try {
        parsePairRow(rec.value, rec.line);
      } catch (e) {
        if (e instanceof PairRowError) continue;
        throw e;
      }
      const k = i++;
      const kind = kinds[k]!;
      const row = { ...(rec.value as Record<string, unknown>) };
      const strength: Record<string, unknown> = {
        mean: finiteOrNull(mean[k]!),
        std: finiteOrNull(std[k]!),
        label: kind,
        margins: Object.fromEntries(scorers.map((s, m) => [s, finiteOrNull(margins[m]![k]!)])),
      };
      if (action === 'clean' && (kind === 'mislabelled' || (dropAmbiguous && kind === 'ambiguous'))) {
        dropped++;
        continue;
      }
      if (action === 'flip' && kind === 'mislabelled') {
        [row.chosen, row.rejected] = [row.rejected, row.chosen];
        strength.flipped = true;
        strength.mean = finiteOrNull(-mean[k]!);
        strength.margins = Object.fromEntries(scorers.map((s, m) => [s, finiteOrNull(-margins[m]![k]!)]));
        flipped++;
      }
      if (isPlainObject(row)) row.strength = strength;
      text += JSON.stringify(row) + '\n';
      written++;
    }
    if (text) await w.write(text);
  }
  await w.close();
  return { path: out, action, written, flipped, dropped };
}
