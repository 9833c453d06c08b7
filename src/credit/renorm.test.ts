import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose, stepsOf } from './testing.js';

describe('renorm credit (PPR + ReNorm, inferred reading)', () => {
  it('shift: r_t = p_t + o − 1, a step without a process score gets o (p = [0.8, 0.6, –])', () => {
    const b = batchOf([
      { outcome: 1, steps: stepsOf([0.8, 0.6, undefined]) },
      { outcome: 0, steps: stepsOf([0.8, 0.6, undefined]) },
      { outcome: 0.5 },
    ]);
    const out = buildCredit({ method: 'renorm', whiten: false }).compute(b);
    expectClose(out.reward, [0.8, 0.6, 1, -0.2, -0.4, 0]);
    expectClose(out.returns, [2.4, -0.6, 0.5]);
    expectClose(out.advantage, [2.4, 1.6, 1, -0.6, -0.4, 0]);
  });

  it('reads the process score from a named signal when given', () => {
    const b = batchOf([{ outcome: 1, steps: stepsOf([5, 5]) }], { ppr: [0.9, null] });
    const out = buildCredit({ method: 'renorm', process: 'ppr', advantage: 'grpo' }).compute(b);
    expectClose(out.reward, [0.9, 1]);
    expectClose(out.returns, [1.9]);
  });

  it('group_norm: process scores and outcomes z-normalised separately within the group', () => {
    const b = batchOf([
      { outcome: 1, steps: stepsOf([0.8, 0.6]) },
      { outcome: 0, steps: stepsOf([0.2]) },
      { outcome: 1, group: 'alone', steps: stepsOf([0.4]) },
      { outcome: null, steps: stepsOf([0.9]) },
    ]);
    const out = buildCredit({ method: 'renorm', mode: 'group_norm', process_weight: 2, whiten: false }).compute(b);
    const pm = 1.6 / 3;
    const ps = Math.sqrt(((0.8 - pm) ** 2 + (0.6 - pm) ** 2 + (0.2 - pm) ** 2) / 2) + 1e-6;
    const zp = (x: number) => (x - pm) / ps;
    const zo = 0.5 / (Math.SQRT1_2 + 1e-6);
    // The lone group keeps its values (mean 0, std 1): 2·0.4 + 1.
    expectClose(out.reward, [2 * zp(0.8), 2 * zp(0.6) + zo, 2 * zp(0.2) - zo, 1.8, NaN]);
    expectClose(out.returns, [2 * zp(0.8) + 2 * zp(0.6) + zo, 2 * zp(0.2) - zo, 1.8, NaN]);
  });

  it('property (mechanics-A §4): with the same p, no step of an o = 0 rollout outscores the same step of an o = 1 rollout', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), { minLength: 1, maxLength: 6 }), (p) => {
        const b = batchOf([
          { outcome: 1, steps: stepsOf(p) },
          { outcome: 0, steps: stepsOf(p) },
        ]);
        const r = buildCredit({ method: 'renorm' }).compute(b).reward;
        for (let t = 0; t < p.length; t++) {
          expect(r[p.length + t]).toBeLessThanOrEqual(r[t]);
          expect(r[p.length + t]).toBeLessThanOrEqual(0);
          expect(r[t]).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('a named process signal missing from the batch is an error', () => {
    expect(() => buildCredit({ method: 'renorm', process: 'ppr' }).compute(batchOf([{ outcome: 1, steps: blankSteps(1) }]))).toThrow(/credit\.process is "ppr"/);
  });
});
