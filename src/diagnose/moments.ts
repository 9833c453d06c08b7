/** Mergeable statistics for the diagnostics: exact across batches (Chan et al.'s parallel update). */

/** Count, mean, M2, min and max of the non-null values of a column. */
export class Moments {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds the non-null `x[i]` for rows whose `mask[i]` is not NaN (no mask: all rows). */
  addColumn(x: Float64Array, mask?: Float64Array): void {
    let n = 0;
    let pivot = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== v || (mask !== undefined && mask[i] !== mask[i])) continue;
      if (n === 0) pivot = v;
      n++;
      sum += v - pivot;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) return;
    const shift = sum / n;
    let m2 = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== v || (mask !== undefined && mask[i] !== mask[i])) continue;
      const d = v - pivot - shift;
      m2 += d * d;
    }
    this.merge(n, pivot + shift, m2, min, max);
  }

  merge(n: number, mean: number, m2: number, min: number, max: number): void {
    if (n === 0) return;
    const total = this.n + n;
    const delta = mean - this.mean;
    this.mean = this.n === 0 ? mean : this.mean + (delta * n) / total;
    this.m2 += m2 + (delta * delta * this.n * n) / total;
    this.n = total;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  get std(): number | null {
    return this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : null;
  }
}

/** Co-moments of two columns over rows where both are non-null: exact Pearson across batches. */
export class CoMoments {
  n = 0;
  ma = 0;
  mb = 0;
  m2a = 0;
  m2b = 0;
  c = 0;

  add(a: Float64Array, b: Float64Array, mask?: Float64Array): void {
    let n = 0;
    let pa = 0;
    let pb = 0;
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== x || y !== y || (mask !== undefined && mask[i] !== mask[i])) continue;
      if (n === 0) {
        pa = x;
        pb = y;
      }
      n++;
      sa += x - pa;
      sb += y - pb;
    }
    if (n === 0) return;
    const ha = sa / n;
    const hb = sb / n;
    let m2a = 0;
    let m2b = 0;
    let c = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== x || y !== y || (mask !== undefined && mask[i] !== mask[i])) continue;
      const da = x - pa - ha;
      const db = y - pb - hb;
      m2a += da * da;
      m2b += db * db;
      c += da * db;
    }
    const total = this.n + n;
    const ma = pa + ha;
    const mb = pb + hb;
    const dA = ma - this.ma;
    const dB = mb - this.mb;
    const f = (this.n * n) / total;
    this.m2a += m2a + dA * dA * f;
    this.m2b += m2b + dB * dB * f;
    this.c += c + dA * dB * f;
    this.ma = this.n === 0 ? ma : this.ma + (dA * n) / total;
    this.mb = this.n === 0 ? mb : this.mb + (dB * n) / total;
    this.n = total;
  }

  /** Pearson r, null with fewer than two pairs or a constant column. */
  get pearson(): number | null {
    if (this.n < 2 || !(this.m2a > 0) || !(this.m2b > 0)) return null;
    const r = this.c / Math.sqrt(this.m2a * this.m2b);
    return r > 1 ? 1 : r < -1 ? -1 : r;
  }
}

/** Ranks (1-based, ties get their average rank) of `x[0..n)`. */
export function averageRanks(x: Float64Array, n: number): Float64Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && x[idx[j]] === x[idx[i]]) j++;
    const r = (i + j + 1) / 2;
    for (let k = i; k < j; k++) ranks[idx[k]] = r;
    i = j;
  }
  return ranks;
}

/** Spearman's ρ of the first n pairs: Pearson of average ranks. Null when undefined. */
export function spearman(a: Float64Array, b: Float64Array, n: number): number | null {
  if (n < 2) return null;
  const cm = new CoMoments();
  cm.add(averageRanks(a, n), averageRanks(b, n));
  return cm.pearson;
}

/**
 * A uniform sample of at most `cap` (x, y) pairs from a stream (Vitter's Algorithm R with a
 * fixed-seed PRNG, so reports are reproducible). Holds every pair while fewer than `cap` were seen.
 */
export class PairReservoir {
  seen = 0;
  size = 0;
  x: Float64Array;
  y: Float64Array;
  private state = 0x9e3779b9;

  constructor(readonly cap: number) {
    this.x = new Float64Array(Math.min(cap, 1024));
    this.y = new Float64Array(this.x.length);
  }

  get exact(): boolean {
    return this.seen <= this.cap;
  }

  /** mulberry32 */
  private random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  add(x: number, y: number): void {
    this.seen++;
    if (this.size < this.cap) {
      if (this.size === this.x.length) this.grow();
      this.x[this.size] = x;
      this.y[this.size] = y;
      this.size++;
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.cap) {
      this.x[j] = x;
      this.y[j] = y;
    }
  }

  private grow(): void {
    const len = Math.min(this.cap, this.x.length * 2);
    const nx = new Float64Array(len);
    const ny = new Float64Array(len);
    nx.set(this.x);
    ny.set(this.y);
    this.x = nx;
    this.y = ny;
  }
}
