import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { buildEstimator, type AdvantageSpecInput } from './registry.js';

/** verl masked_whiten over tokens, naively: each rollout's value repeated once per token. */
function tokenWhiten(values: number[], lengths: number[], eps = 1e-8): number[] {
  const tokens = values.flatMap((v, i) => Array(lengths[i]).fill(v) as number[]);
  const mu = tokens.reduce((a, b) => a + b, 0) / tokens.length;
  const v = tokens.reduce((a, x) => a + (x - mu) ** 2, 0) / tokens.length;
  const unbiased = (v * tokens.length) / (tokens.length - 1);
  return values.map((x) => (x - mu) / Math.sqrt(unbiased + eps));
}

function run(estimator: 'reinforce_pp' | 'reinforce_pp_baseline', rewards: (number | null)[], groups: number[], tokenLengths?: number[]) {
  const { batch } = buildAdvantageBatch({ rewards, groups, tokenLengths });
  return Array.from(buildEstimator({ estimator } as AdvantageSpecInput).compute(batch));
}

describe('reinforce_pp', () => {
  it('reference example: G = [1,1,1,0,0] → [0.730, 0.730, 0.730, −1.095, −1.095]', () => {
    const a = run('reinforce_pp', [1, 1, 1, 0, 0], [0, 1, 2, 3, 4]);
    const s = Math.sqrt(0.3 + 1e-8);
    [0.4 / s, 0.4 / s, 0.4 / s, -0.6 / s, -0.6 / s].forEach((w, i) => expect(Math.abs(a[i] - w)).toBeLessThanOrEqual(1e-9));
    expect(a[0]).toBeCloseTo(0.7303, 4);
    expect(a[3]).toBeCloseTo(-1.0954, 4);
  });

  it('ignores groups: whitening is over the whole batch', () => {
    expect(run('reinforce_pp', [1, 1, 1, 0, 0], [0, 0, 0, 0, 0])).toEqual(run('reinforce_pp', [1, 1, 1, 0, 0], [0, 1, 2, 3, 4]));
  });

  it('with token lengths equals verl token-level whitening to 1e-9', () => {
    const arb = fc.array(fc.record({ r: fc.double({ min: -2, max: 2, noNaN: true }), len: fc.integer({ min: 1, max: 20 }) }), { minLength: 2, maxLength: 30 });
    fc.assert(
      fc.property(arb, (rows) => {
        const a = run('reinforce_pp', rows.map((x) => x.r), rows.map(() => 0), rows.map((x) => x.len));
        const want = tokenWhiten(rows.map((x) => x.r), rows.map((x) => x.len));
        want.forEach((w, i) => expect(Math.abs(a[i] - w)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w))));
      }),
      { numRuns: 200 },
    );
  });

  it('gives 0 when the total weight is ≤ 1, 0 for null rewards, [] for an empty batch', () => {
    expect(run('reinforce_pp', [5], [0])).toEqual([0]);
    expect(run('reinforce_pp', [5, null], [0, 0])).toEqual([0, 0]);
    expect(run('reinforce_pp', [], [])).toEqual([]);
    expect(run('reinforce_pp', [2, 2, 2], [0, 0, 1])).toEqual([0, 0, 0]);
  });

  it('rejects a negative token length naming the rollout', () => {
    expect(() => run('reinforce_pp', [1, 0], [0, 0], [3, -1])).toThrow(/rollout 1: token length/);
  });
});

describe('reinforce_pp_baseline', () => {
  it('subtracts the group mean, then whitens over the batch', () => {
    const a = run('reinforce_pp_baseline', [1, 0, 1, 1, 0], [0, 0, 1, 1, 1]);
    const d = [0.5, -0.5, 1 / 3, 1 / 3, -2 / 3];
    const want = tokenWhiten(d, [1, 1, 1, 1, 1]);
    want.forEach((w, i) => expect(Math.abs(a[i] - w)).toBeLessThanOrEqual(1e-9));
    expect(a[0]).toBeCloseTo(0.9258, 4);
    expect(a[4]).toBeCloseTo(-1.2344, 4);
  });

  it('equals reinforce_pp applied to dr_grpo advantages', () => {
    const rewards = [3, 1, 2, 0, 0, 5, 1];
    const groups = [0, 0, 1, 1, 1, 2, 3];
    const d = Array.from(buildEstimator({ estimator: 'dr_grpo' }).compute(buildAdvantageBatch({ rewards, groups }).batch));
    const want = run('reinforce_pp', d, groups);
    run('reinforce_pp_baseline', rewards, groups).forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThanOrEqual(1e-12));
  });
});
