/**
 * Small numeric helpers shared by the evaluations: intervals, correlation, quantiles, histograms.
 * Everything works on plain arrays or typed arrays; NaN means "no value" and is skipped where stated.
 */

/** Logistic function σ(x) = 1/(1 + e^{−x}), computed without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log σ(x), stable for large |x|. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/**
 * Quantile of the standard normal distribution (Acklam's rational approximation, relative error
 * below 1.2e-9). `normalQuantile(0.975)` → 1.959964.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** A two-sided confidence interval. */
export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion k/n at confidence `level` (default 0.95). Unlike the
 * normal ("Wald") interval it stays inside [0, 1] and is sensible at k = 0 or k = n. n = 0 → [0, 1].
 *
 * @example
 * wilson(80, 100) // → { low: 0.7112, high: 0.8666 }
 */
export function wilson(k: number, n: number, level = 0.95): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Arithmetic mean of the non-NaN values; NaN when there are none. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x === x) {
      s += x;
      n++;
    }
  }
  return n ? s / n : NaN;
}

/** Population standard deviation (divides by n) of the non-NaN values; NaN when there are none. */
export function populationStd(xs: ArrayLike<number>): number {
  const m = mean(xs);
  if (m !== m) return NaN;
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x === x) {
      s += (x - m) * (x - m);
      n++;
    }
  }
  return Math.sqrt(s / n);
}

/**
 * Pearson correlation of x and y, optionally weighted (weights need not sum to 1). Pairs where either
 * value is NaN are skipped. NaN when either side has zero variance or fewer than two pairs.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a !== a || b !== b) continue;
    const wi = w ? w[i]! : 1;
    sw += wi;
    sx += wi * a;
    sy += wi * b;
  }
  if (!(sw > 0)) return NaN;
  const mx = sx / sw;
  const my = sy / sw;
  let vx = 0;
  let vy = 0;
  let cxy = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a !== a || b !== b) continue;
    const wi = w ? w[i]! : 1;
    const dx = a - mx;
    const dy = b - my;
    vx += wi * dx * dx;
    vy += wi * dy * dy;
    cxy += wi * dx * dy;
    count++;
  }
  if (count < 2 || vx <= 0 || vy <= 0) return NaN;
  const r = cxy / Math.sqrt(vx * vy);
  return Math.max(-1, Math.min(1, r));
}

/** Average ranks (1-based; ties share the mean of their ranks), as scipy's `rankdata`. */
export function averageRanks(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation (Pearson of average ranks); NaN when either side is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Exact quantile of ascending-sorted values with linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** One bin of a histogram: [lo, hi) (the last bin includes hi). */
export interface HistogramBin {
  lo: number;
  hi: number;
  count: number;
}

/**
 * Equal-width histogram of the finite values. The range is [min, max] unless given; `clip` puts values
 * outside the range into the edge bins (so a few outliers do not squash the picture). All-equal values
 * give one bin.
 */
export function histogram(xs: ArrayLike<number>, bins = 30, range?: [number, number]): HistogramBin[] {
  let lo = Infinity;
  let hi = -Infinity;
  if (range) [lo, hi] = range;
  else
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (!Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  if (!(lo <= hi)) return [];
  if (lo === hi) {
    let c = 0;
    for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) c++;
    return [{ lo, hi, count: c }];
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!Number.isFinite(x)) continue;
    let b = Math.floor((x - lo) / width);
    if (b < 0) b = 0;
    if (b >= bins) b = bins - 1;
    counts[b]!++;
  }
  return counts.map((count, b) => ({ lo: lo + b * width, hi: b === bins - 1 ? hi : lo + (b + 1) * width, count }));
}

/**
 * A histogram range that keeps the bulk of a heavy-tailed distribution readable: the [0.5%, 99.5%]
 * quantiles, widened to include 0 when the data straddle it. Values outside go to the edge bins.
 */
export function robustRange(xs: ArrayLike<number>): [number, number] | undefined {
  const vals: number[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) vals.push(xs[i]!);
  if (vals.length === 0) return undefined;
  const s = Float64Array.from(vals).sort();
  let lo = quantileSorted(s, 0.005);
  let hi = quantileSorted(s, 0.995);
  if (lo === hi) {
    lo = s[0]!;
    hi = s[s.length - 1]!;
  }
  return [lo, hi];
}

/** Deterministic 32-bit PRNG (mulberry32): the same seed gives the same stream on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A growable Float64Array (amortised doubling), for streaming numbers without boxing them. */
export class FloatColumn {
  private data: Float64Array;
  length = 0;
  constructor(initial = 1024) {
    this.data = new Float64Array(initial);
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  /** A view of the values pushed so far (shares memory; copy it if you keep pushing). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** A growable Int32Array, as {@link FloatColumn}. */
export class IntColumn {
  private data: Int32Array;
  length = 0;
  constructor(initial = 1024) {
    this.data = new Int32Array(initial);
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Interns strings to dense integer ids, keeping first-seen order. */
export class Interner {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(name, i);
      this.names.push(name);
    }
    return i;
  }
  get size(): number {
    return this.names.length;
  }
}

/** A finite number or null (JSON has no NaN/Infinity). */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
