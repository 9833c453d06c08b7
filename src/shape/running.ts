import * as z from 'zod';
import { moments } from './stats.js';

/**
 * Running mean and population variance over every non-null reward seen, merged batch by batch
 * (Chan et al.'s parallel update, as PAR's `RunningStats.update`): the variance is M2/n, and 0 until
 * two rewards have been seen. JSON state `{n, mean, m2}`.
 */
export class RunningMoments {
  n = 0;
  mean = 0;
  m2 = 0;

  update(x: Float64Array): void {
    const b = moments(x);
    if (b.count === 0) return;
    const total = this.n + b.count;
    const delta = b.mean - this.mean;
    this.mean += delta * (b.count / total);
    this.m2 += b.m2 + delta * delta * ((this.n * b.count) / total);
    this.n = total;
  }

  get variance(): number {
    return this.n > 1 ? this.m2 / this.n : 0;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  save(): { n: number; mean: number; m2: number } {
    return { n: this.n, mean: this.mean, m2: this.m2 };
  }

  load(s: unknown): void {
    const v = momentsState.parse(s);
    this.n = v.n;
    this.mean = v.mean;
    this.m2 = v.m2;
  }

  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.m2 = 0;
  }
}

const momentsState = z.strictObject({
  n: z.number().int().nonnegative(),
  mean: z.number(),
  m2: z.number().nonnegative(),
});

/** Running min and max of every non-null reward seen. JSON state `{min, max}` (null before any reward). */
export class RunningRange {
  min = Infinity;
  max = -Infinity;

  update(x: Float64Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
  }

  save(): { min: number | null; max: number | null } {
    return this.min <= this.max ? { min: this.min, max: this.max } : { min: null, max: null };
  }

  load(s: unknown): void {
    const v = rangeState.parse(s);
    this.min = v.min ?? Infinity;
    this.max = v.max ?? -Infinity;
  }

  reset(): void {
    this.min = Infinity;
    this.max = -Infinity;
  }
}

const rangeState = z
  .strictObject({ min: z.number().nullable(), max: z.number().nullable() })
  .refine((v) => (v.min === null) === (v.max === null) && (v.min === null || v.min <= (v.max as number)), {
    message: 'min and max must both be null or min ≤ max',
  });
