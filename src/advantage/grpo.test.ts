import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { buildEstimator } from './registry.js';

/** verl's compute_grpo_outcome_advantage, written naively from the formula (dict of lists per group). */
function verlGrpo(rewards: (number | null)[], groups: number[], eps = 1e-6, scale: 'group' | 'batch' | 'none' = 'group'): number[] {
  const byGroup = new Map<number, number[]>();
  rewards.forEach((r, i) => {
    if (r === null) return;
    byGroup.set(groups[i], [...(byGroup.get(groups[i]) ?? []), r]);
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
  const all = rewards.filter((r): r is number => r !== null);
  const batchStd = all.length > 1 ? std(all) : 0;
  return rewards.map((r, i) => {
    if (r === null) return 0;
    const xs = byGroup.get(groups[i])!;
    const mu = xs.length === 1 ? 0 : mean(xs);
    const sd = xs.length === 1 ? 1 : std(xs);
    if (scale === 'none') return r - mu;
    return (r - mu) / ((scale === 'group' ? sd : batchStd) + eps);
  });
}

function grpo(rewards: (number | null)[], groups: (number | string)[], spec: Record<string, unknown> = {}) {
  const { batch } = buildAdvantageBatch({ rewards, groups });
  return Array.from(buildEstimator({ estimator: 'grpo', ...spec } as never).compute(batch));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-9) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `index ${i}`).toBeNaN();
    else expect(Math.abs(got[i] - want[i]), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  }
}

/** Random batches: non-contiguous groups of varied size, some null rewards. */
const batchArb = fc
  .array(fc.record({ r: fc.option(fc.double({ min: -5, max: 5, noNaN: true }), { freq: 8 }), g: fc.integer({ min: 0, max: 6 }) }), { maxLength: 60 })
  .map((rows) => ({ rewards: rows.map((x) => x.r), groups: rows.map((x) => x.g) }));

describe('grpo', () => {
  it('[1,0,0,1] gives ±0.866 (verl: mean 0.5, std 0.5774, eps 1e-6)', () => {
    const a = grpo([1, 0, 0, 1], [0, 0, 0, 0]);
    const want = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
    expectClose(a, [want, -want, -want, want]);
    expect(a[0]).toBeCloseTo(0.866, 3);
  });

  it('agrees with the verl formula to 1e-9 on random batches (all scales)', () => {
    fc.assert(
      fc.property(batchArb, fc.constantFrom('group', 'batch', 'none' as const), ({ rewards, groups }, scale) => {
        const { batch } = buildAdvantageBatch({ rewards, groups });
        const got = buildEstimator({ estimator: 'grpo', scale }).compute(batch);
        expectClose(got, verlGrpo(rewards, groups, 1e-6, scale));
      }),
      { numRuns: 300 },
    );
  });

  it('is invariant to a positive affine transform of the rewards within each group', () => {
    const arb = fc.record({
      groups: fc.array(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 2, maxLength: 16 }), { minLength: 1, maxLength: 6 }),
      a: fc.array(fc.double({ min: 0.5, max: 5, noNaN: true }), { minLength: 6, maxLength: 6 }),
      b: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 }),
    });
    fc.assert(
      fc.property(arb, ({ groups, a, b }) => {
        const rewards = groups.flat();
        const gid = groups.flatMap((xs, g) => xs.map(() => g));
        const moved = groups.flatMap((xs, g) => xs.map((x) => a[g] * x + b[g]));
        // exact at eps 0 (tied groups stay 0) …
        expectClose(grpo(moved, gid, { eps: 0 }), grpo(rewards, gid, { eps: 0 }), 1e-9);
        // … and up to O(eps/std) with verl's eps (integer rewards: a non-tied group has std ≥ 0.25).
        expectClose(grpo(moved, gid), grpo(rewards, gid), 1e-4);
      }),
      { numRuns: 200 },
    );
  });

  it('gives a group of one r/(1 + eps) (verl: mean 0, std 1)', () => {
    expectClose(grpo([3, 1, 0], [0, 1, 1]), [3 / (1 + 1e-6), 0.5 / (Math.SQRT1_2 + 1e-6), -0.5 / (Math.SQRT1_2 + 1e-6)]);
  });

  it('gives exactly 0 for a tied group, even when the mean is inexact', () => {
    expect(grpo([0.1, 0.1, 0.1], [0, 0, 0])).toEqual([0, 0, 0]);
    expect(grpo([0.1, 0.1, 0.1], [0, 0, 0], { eps: 0 })).toEqual([0, 0, 0]);
    expect(grpo([1e9 + 0.3, 1e9 + 0.3], ['a', 'a'])).toEqual([0, 0]);
  });

  it('leaves null rewards out of the statistics and gives them advantage 0', () => {
    const a = grpo([1, null, 0], [0, 0, 0]);
    const b = grpo([1, 0], [0, 0]);
    expect(a[1]).toBe(0);
    expectClose([a[0], a[2]], b);
    expect(grpo([null, null], [0, 0])).toEqual([0, 0]);
  });

  it('handles non-contiguous groups', () => {
    expectClose(grpo([1, 5, 0, 7], ['a', 'b', 'a', 'b']), [...verlGrpo([1, 5, 0, 7], [0, 1, 0, 1])]);
  });

  it('scale batch divides by the batch std (TRL scale_rewards=batch); none = r − mean', () => {
    const r = [1, 0, 3, 1];
    const g = [0, 0, 1, 1];
    const sd = Math.sqrt(((1 - 1.25) ** 2 + 1.25 ** 2 + 1.75 ** 2 + 0.25 ** 2) / 3);
    expectClose(grpo(r, g, { scale: 'batch', eps: 1e-4 }), [0.5 / (sd + 1e-4), -0.5 / (sd + 1e-4), 1 / (sd + 1e-4), -1 / (sd + 1e-4)]);
    expectClose(grpo(r, g, { scale: 'none' }), [0.5, -0.5, 1, -1]);
  });

  it('std population uses ddof 0', () => {
    expectClose(grpo([1, 0, 0, 1], [0, 0, 0, 0], { std: 'population', eps: 0 }), [1, -1, -1, 1]);
  });

  it('value_anchor (VGPO [INF]) adds λ·(r − anchor) to every group: A = z + λ(R − anchor)', () => {
    const r = [1, 1, 1, 0, 0, 1, 0];
    const g = [0, 0, 0, 1, 1, 2, 2];
    const plain = grpo(r, g);
    expect(plain.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    // group 2 = [1, 0]: mean 0.5, sample std 0.70711 → z = ±0.70711 (·1/(1 + 1e-6/0.70711))
    const z = 0.5 / (Math.SQRT1_2 + 1e-6);
    expect(plain[5]).toBeCloseTo(0.7071058, 6);
    const anchored = grpo(r, g, { value_anchor: { anchor: 0.5 } });
    expectClose(anchored, [0.5, 0.5, 0.5, -0.5, -0.5, z + 0.5, -z - 0.5]);
    expect(anchored[5]).toBeCloseTo(1.2071, 4);
    const bm = grpo(r, g, { value_anchor: { anchor: 'batch_mean', weight: 2 } });
    expectClose(bm, r.map((x, i) => plain[i] + 2 * (x - 4 / 7)));
  });

  it('value_anchor threshold (project variant, off by default) restricts the absolute term to low-std groups', () => {
    const r = [1, 1, 1, 0, 0, 1, 0];
    const g = [0, 0, 0, 1, 1, 2, 2];
    const plain = grpo(r, g);
    const low = grpo(r, g, { value_anchor: { anchor: 0.5, threshold: 1e-6 } });
    expectClose(low, [0.5, 0.5, 0.5, -0.5, -0.5, plain[5], plain[6]]);
    const all = grpo([1, 0], [0, 0], { value_anchor: { threshold: 10, anchor: 0 } });
    expectClose(all, [plain[5] + 1, plain[6]]);
  });

  it('empty batch gives an empty result', () => {
    expect(grpo([], [])).toEqual([]);
  });

  it('rejects ±Infinity naming the rollout index', () => {
    const { batch } = buildAdvantageBatch({ rewards: [1, 0, 1], groups: [0, 0, 0] });
    batch.rewards[2] = Infinity;
    expect(() => buildEstimator({ estimator: 'grpo' }).compute(batch)).toThrow(/rollout 2: reward is Infinity/);
  });
});
