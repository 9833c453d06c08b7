import { describe, expect, it } from 'vitest';
import { band, claimOnMean, meanCi, pairedDiff, tQuantile } from './stats.js';
import { Rng, softmax } from './rng.js';

describe('lab statistics', () => {
  it('t quantiles match tables', () => {
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262, 2);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776, 1);
    expect(tQuantile(0.975, 29)).toBeCloseTo(2.045, 3);
    expect(tQuantile(0.975, 1e9)).toBeCloseTo(1.96, 3);
  });
  it('meanCi and claims', () => {
    const r = meanCi([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.mean).toBe(5.5);
    // sd = 3.0277, se = 0.9574, t = 2.262 → half-width 2.166
    expect(r.ci[0]).toBeCloseTo(5.5 - 2.166, 2);
    expect(claimOnMean('up', 'x', [0.1, 0.2, 0.15, 0.12], 'greater').holds).toBe(true);
    expect(claimOnMean('up', 'x', [0.1, -0.2, 0.15, 0.12], 'greater').holds).toBe(false);
    expect(claimOnMean('down', 'x', [-1, -2, -1.5], 'less').holds).toBe(true);
    expect(Array.from(pairedDiff([3, 4], [1, 1]))).toEqual([2, 3]);
    expect(band([[1, 2], [3, 4]]).mean).toEqual([2, 3]);
  });
  it('the generator is deterministic and roughly uniform', () => {
    const a = new Rng(42), b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b.next()));
    const r = new Rng(1);
    let s = 0;
    for (let i = 0; i < 100_000; i++) s += r.next();
    expect(s / 100_000).toBeCloseTo(0.5, 2);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[r.categorical([1, 2, 7])]++;
    expect(counts[2] / 30_000).toBeCloseTo(0.7, 1);
    const sm = softmax([0, Math.log(3)]);
    expect(sm[0]).toBeCloseTo(0.25, 12);
    expect(sm[1]).toBeCloseTo(0.75, 12);
  });
});
