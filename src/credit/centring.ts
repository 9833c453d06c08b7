/**
 * ProRL's Stepwise Reward Centering (repo hongruhou89/ProRL, `MultiObjectiveRewardNormalizer`;
 * reference mechanics-A §11 [SRC]) for one metric: a running Welford mean μ and unbiased std σ over
 * every value seen so far, σ floored at `minStd` (ProRL `mo_min_std` = 0.1; also σ = minStd while
 * count ≤ 1), and `r̃ = (r − μ)/σ`. Stats can be frozen. Use one instance per metric; feed it only
 * "real" items (ProRL skips hallucinated and duplicate items when updating).
 *
 * After `update(x)` on a fresh centrer, the centred values of x have mean exactly 0 (up to rounding):
 * a step of average reward contributes 0 to the return, so extending a path with average steps
 * leaves its expected return unchanged (no length bias).
 *
 * @example
 * const c = new StepwiseCentring(); c.update([1, 2, 3]); c.apply([1, 2, 3]) // → [−1, 0, 1]
 */
export class StepwiseCentring {
  count = 0;
  mean = 0;
  private m2 = 0;
  frozen = false;

  constructor(readonly minStd = 0.1) {
    if (!(minStd > 0 && Number.isFinite(minStd))) throw new RangeError(`minStd must be a finite number > 0, got ${minStd}`);
  }

  /** Adds the non-NaN values to the running stats (no-op when frozen); ±Infinity is rejected. */
  update(values: ArrayLike<number>): this {
    if (this.frozen) return this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== v) continue;
      if (!Number.isFinite(v)) throw new RangeError(`value ${i} is ${v}; must be finite or NaN`);
      this.count++;
      const d = v - this.mean;
      this.mean += d / this.count;
      this.m2 += d * (v - this.mean);
    }
    return this;
  }

  /** Current σ: the unbiased running std, floored at minStd (minStd while count ≤ 1). */
  get std(): number {
    return this.count > 1 ? Math.max(this.minStd, Math.sqrt(this.m2 / (this.count - 1))) : this.minStd;
  }

  /** JSON state `{count, mean, m2}` (the frozen flag is configuration, not state). */
  save(): { count: number; mean: number; m2: number } {
    return { count: this.count, mean: this.mean, m2: this.m2 };
  }

  /** Restores `save()`'s value; throws a TypeError naming the bad field. */
  load(s: unknown): void {
    const o = s as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object') throw new TypeError('centring state must be an object {count, mean, m2}');
    const { count, mean, m2 } = o;
    if (!(typeof count === 'number' && Number.isInteger(count) && count >= 0)) throw new TypeError(`centring state count is ${String(count)}; must be an integer ≥ 0`);
    if (!(typeof mean === 'number' && Number.isFinite(mean))) throw new TypeError(`centring state mean is ${String(mean)}; must be a finite number`);
    if (!(typeof m2 === 'number' && Number.isFinite(m2) && m2 >= 0)) throw new TypeError(`centring state m2 is ${String(m2)}; must be a finite number ≥ 0`);
    this.count = count;
    this.mean = mean;
    this.m2 = m2;
  }

  /** Forgets the running stats. */
  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
  }

  /** `(v − μ)/σ` for each value (NaN stays NaN), into `out` (which may be `values`). */
  apply(values: ArrayLike<number>, out: Float64Array = new Float64Array(values.length)): Float64Array {
    const mu = this.mean;
    const sd = this.std;
    for (let i = 0; i < values.length; i++) out[i] = (values[i] - mu) / sd;
    return out;
  }
}
