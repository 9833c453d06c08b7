import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { gdpoDecoupledSum } from './gdpo.js';
import { buildEstimator } from './registry.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/** NVlabs/GDPO TRL version written naively (nan_to_num, per-group torch.std + eps, nansum, batch norm), verl rule for a group of one. */
function naiveGdpo(R: (number | null)[][], groups: number[], w: number[], eps = 1e-4): { pre: number[]; adv: number[] } {
  const n = R.length;
  const K = w.length;
  const pre = new Array<number>(n).fill(0);
  for (let k = 0; k < K; k++) {
    const col = R.map((row) => row[k] ?? 0);
    for (let i = 0; i < n; i++) {
      const xs = col.filter((_, j) => groups[j] === groups[i]);
      const mu = xs.length === 1 ? 0 : mean(xs);
      const sd = xs.length === 1 ? 1 : sampleStd(xs);
      pre[i] += w[k] * ((col[i] - mu) / (sd + eps));
    }
  }
  const mu = mean(pre);
  const sd = n > 1 ? sampleStd(pre) : 0;
  return { pre, adv: pre.map((p) => (p - mu) / (sd + eps)) };
}

function batchOf(R: (number | null)[][], groups: (number | string)[], w: number[], rewards?: (number | null)[]) {
  const components = w.map((_, k) => R.map((row) => row[k]));
  const combined = rewards ?? R.map((row) => row.reduce<number>((s, x, k) => s + (x ?? 0) * w[k], 0));
  return buildAdvantageBatch({ rewards: combined, groups, components, weights: w }).batch;
}

describe('gdpo', () => {
  // Reference §1: group A (1,0),(0,0); group B (1,1),(0,0).
  const R = [
    [1, 0],
    [0, 0],
    [1, 1],
    [0, 0],
  ];
  const groups = [0, 0, 1, 1];

  it('two-group example: GRPO gives identical ±0.707, GDPO ±0.707 vs ±1.414 before batch normalisation', () => {
    const b = batchOf(R, groups, [1, 1]);
    const grpo = buildEstimator({ estimator: 'grpo' }).compute(b);
    expect(grpo[0]).toBeCloseTo(0.7071, 4);
    expect(grpo[2]).toBeCloseTo(0.7071, 4);
    expect(Math.abs(grpo[0] - grpo[2])).toBeLessThan(1e-6); // the same up to eps effects

    const pre = gdpoDecoupledSum(b, 1e-4, 0);
    const z = 0.5 / (Math.SQRT1_2 + 1e-4);
    [z, -z, 2 * z, -2 * z].forEach((w, i) => expect(Math.abs(pre[i] - w)).toBeLessThanOrEqual(1e-9));
    expect(pre[0]).toBeCloseTo(0.7071, 3);
    expect(pre[2]).toBeCloseTo(1.4142, 3);

    const adv = buildEstimator({ estimator: 'gdpo' }).compute(b);
    const want = naiveGdpo(R, groups, [1, 1]).adv;
    want.forEach((w, i) => expect(Math.abs(adv[i] - w)).toBeLessThanOrEqual(1e-9));
    expect(adv[2] / adv[0]).toBeCloseTo(2, 9); // the difference survives the batch normalisation
    expect(adv[0]).toBeCloseTo(0.5477, 4);
  });

  it('a single group holding (0,1) and (1,0) gives 0 under both methods', () => {
    const b = batchOf([[0, 1], [1, 0]], [0, 0], [1, 1]);
    expect(Array.from(buildEstimator({ estimator: 'gdpo' }).compute(b))).toEqual([0, 0]);
    expect(Array.from(buildEstimator({ estimator: 'grpo' }).compute(b))).toEqual([0, 0]);
  });

  it('agrees with the authors\' formula to 1e-9 on random multi-reward batches (weights, nulls as 0)', () => {
    const arb = fc.integer({ min: 2, max: 4 }).chain((K) =>
      fc.record({
        w: fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: K, maxLength: K }),
        rows: fc.array(
          fc.record({
            x: fc.array(fc.option(fc.integer({ min: -3, max: 3 }), { freq: 6 }), { minLength: K, maxLength: K }),
            g: fc.integer({ min: 0, max: 4 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ w, rows }) => {
        const R = rows.map((r) => r.x);
        const g = rows.map((r) => r.g);
        const adv = buildEstimator({ estimator: 'gdpo' }).compute(batchOf(R, g, w));
        naiveGdpo(R, g, w).adv.forEach((want, i) => expect(Math.abs(adv[i] - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want))));
      }),
      { numRuns: 300 },
    );
  });

  it('null_components skip leaves a null component out of its group statistics and the sum', () => {
    const b = batchOf([[1, null], [0, 1], [1, 0]], [0, 0, 0], [1, 1]);
    const pre = gdpoDecoupledSum(b, 1e-4, undefined);
    const z1 = (x: number) => (x - 2 / 3) / (sampleStd([1, 0, 1]) + 1e-4);
    const z2 = (x: number) => (x - 0.5) / (sampleStd([1, 0]) + 1e-4);
    [z1(1), z1(0) + z2(1), z1(1) + z2(0)].forEach((w, i) => expect(Math.abs(pre[i] - w)).toBeLessThanOrEqual(1e-9));
    const zero = gdpoDecoupledSum(b, 1e-4, 0);
    const z2z = (x: number) => (x - 1 / 3) / (sampleStd([0, 1, 0]) + 1e-4);
    [z1(1) + z2z(0), z1(0) + z2z(1), z1(1) + z2z(0)].forEach((w, i) => expect(Math.abs(zero[i] - w)).toBeLessThanOrEqual(1e-9));
  });

  it('leaves null-reward rollouts out and gives them advantage 0', () => {
    const withNull = batchOf([[1, 0], [0, 0], [5, 5], [1, 1], [0, 0]], [0, 0, 0, 1, 1], [1, 1], [1, 0, null, 2, 0]);
    const without = batchOf([[1, 0], [0, 0], [1, 1], [0, 0]], [0, 0, 1, 1], [1, 1]);
    const a = buildEstimator({ estimator: 'gdpo' }).compute(withNull);
    const b = buildEstimator({ estimator: 'gdpo' }).compute(without);
    expect(a[2]).toBe(0);
    [a[0], a[1], a[3], a[4]].forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThanOrEqual(1e-12));
  });

  it('with eps 0, a tied component contributes exactly 0 (not 0·∞)', () => {
    const b = batchOf([[1, 1], [0, 1], [1, 1], [0, 1]], [0, 0, 1, 1], [1, 1]);
    const pre = gdpoDecoupledSum(b, 0, 0);
    expect(Array.from(pre)).toEqual([Math.SQRT1_2, -Math.SQRT1_2, Math.SQRT1_2, -Math.SQRT1_2].map((x) => expect.closeTo(x, 12)));
    const adv = buildEstimator({ estimator: 'gdpo', eps: 0 }).compute(b);
    expect(Array.from(adv).every(Number.isFinite)).toBe(true);
    const tied = batchOf([[1, 1], [1, 1]], [0, 0], [1, 1]);
    expect(Array.from(buildEstimator({ estimator: 'gdpo', eps: 0 }).compute(tied))).toEqual([0, 0]);
  });

  it('falls back to GRPO with eps 1e-4 for fewer than two components', () => {
    const b = batchOf([[1], [0], [0]], [0, 0, 0], [1]);
    const want = buildEstimator({ estimator: 'grpo', eps: 1e-4 }).compute(b);
    expect(Array.from(buildEstimator({ estimator: 'gdpo' }).compute(b))).toEqual(Array.from(want));
  });

  it('rejects an infinite component naming the rollout', () => {
    const b = batchOf([[1, 0], [0, 0]], [0, 0], [1, 1]);
    (b.components[1] as Float64Array)[1] = -Infinity;
    expect(() => buildEstimator({ estimator: 'gdpo' }).compute(b)).toThrow(/rollout 1: component 1 is -Infinity/);
  });
});
