import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { buildEstimator } from './registry.js';

const run = (estimator: 'rloo' | 'dr_grpo', rewards: (number | null)[], groups: (number | string)[]) =>
  Array.from(buildEstimator({ estimator }).compute(buildAdvantageBatch({ rewards, groups }).batch));

describe('dr_grpo', () => {
  it('[1,0,0,1] gives [0.5,−0.5,−0.5,0.5]; a group of one keeps its reward', () => {
    expect(run('dr_grpo', [1, 0, 0, 1], [0, 0, 0, 0])).toEqual([0.5, -0.5, -0.5, 0.5]);
    expect(run('dr_grpo', [0.3], ['x'])).toEqual([0.3]);
    expect(run('dr_grpo', [0.1, 0.1, 0.1], [0, 0, 0])).toEqual([0, 0, 0]);
  });
});

describe('rloo', () => {
  it('[1,0,0,1] gives ±2/3, i.e. r − mean of the others', () => {
    const a = run('rloo', [1, 0, 0, 1], [0, 0, 0, 0]);
    for (const [i, s] of [1, -1, -1, 1].entries()) expect(Math.abs(a[i] - (s * 2) / 3)).toBeLessThan(1e-12);
  });

  it('equals r_i − mean_{j≠i} r_j and n/(n−1)·Dr.GRPO to 1e-9 on random batches', () => {
    const arb = fc.array(fc.record({ r: fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { freq: 8 }), g: fc.integer({ min: 0, max: 4 }) }), { maxLength: 40 });
    fc.assert(
      fc.property(arb, (rows) => {
        const rewards = rows.map((x) => x.r);
        const groups = rows.map((x) => x.g);
        const a = run('rloo', rewards, groups);
        const d = run('dr_grpo', rewards, groups);
        rows.forEach((row, i) => {
          if (row.r === null) {
            expect(a[i]).toBe(0);
            return;
          }
          const others = rows.filter((o, j) => j !== i && o.g === row.g && o.r !== null).map((o) => o.r as number);
          const n = others.length + 1;
          const loo = n === 1 ? row.r : row.r - others.reduce((s, x) => s + x, 0) / others.length;
          expect(Math.abs(a[i] - loo)).toBeLessThanOrEqual(1e-9);
          expect(Math.abs(a[i] - (n === 1 ? 1 : n / (n - 1)) * d[i])).toBeLessThanOrEqual(1e-9);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives a group of one its reward (verl)', () => {
    expect(run('rloo', [0.7, 1, 0], ['a', 'b', 'b'])).toEqual([0.7, 1, -1]);
  });
});
