/**
 * Statistics over seeds for lab claims: mean with a Student-t confidence interval, paired
 * differences, and the claim decision ("the whole interval lies on the claimed side").
 */
import { normalQuantile } from '../evaluate/stats.js';
import type { ClaimResult } from './types.js';

/**
 * Two-sided Student-t quantile t_{df, p} (p in (0,1)), by the Cornish–Fisher expansion around the
 * normal quantile (Abramowitz & Stegun 26.7.5), accurate to ~1e-3 for df ≥ 3, exact as df → ∞.
 * @example tQuantile(0.975, 9) // ≈ 2.262
 */
export function tQuantile(p: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`tQuantile: df must be > 0, got ${df}`);
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

/** Mean and t-interval of a sample (one value per seed). With one value the interval is the point. */
export function meanCi(xs: ArrayLike<number>, level = 0.95): { mean: number; ci: [number, number] } {
  const n = xs.length;
  if (n === 0) throw new RangeError('meanCi: no values');
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const m = s / n;
  if (n === 1) return { mean: m, ci: [m, m] };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - m) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n);
  const h = tQuantile(1 - (1 - level) / 2, n - 1) * se;
  return { mean: m, ci: [m - h, m + h] };
}

/**
 * A claim decided on the mean of per-seed values (usually paired differences `a[i] - b[i]`):
 * holds when the whole interval lies on the claimed side of `threshold` (default 0).
 * @example claimOnMean('GDPO beats GRPO', 'final joint reward, GDPO − GRPO, paired by seed', diffs, 'greater')
 */
export function claimOnMean(
  claim: string,
  statisticName: string,
  values: ArrayLike<number>,
  direction: 'greater' | 'less',
  threshold = 0,
  level = 0.95,
): ClaimResult {
  const { mean, ci } = meanCi(values, level);
  const holds = direction === 'greater' ? ci[0] > threshold : ci[1] < threshold;
  return { claim, statistic: mean, ci, level, holds, statisticName };
}

/** `a[i] - b[i]` per seed. */
export function pairedDiff(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new RangeError(`pairedDiff: ${a.length} vs ${b.length} values`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * Mean curve with a t-band from per-seed curves (`runs[seed][t]`, equal lengths).
 */
export function band(runs: ArrayLike<number>[], level = 0.95): { mean: number[]; lo: number[]; hi: number[] } {
  if (runs.length === 0) throw new RangeError('band: no runs');
  const T = runs[0].length;
  const mean: number[] = [], lo: number[] = [], hi: number[] = [];
  const col = new Float64Array(runs.length);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < runs.length; s++) col[s] = runs[s][t];
    const r = meanCi(col, level);
    mean.push(r.mean);
    lo.push(r.ci[0]);
    hi.push(r.ci[1]);
  }
  return { mean, lo, hi };
}
