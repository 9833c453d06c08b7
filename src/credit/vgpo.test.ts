import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf } from './testing.js';

describe('vgpo credit (temporal cumulative reward + adaptive dual advantage, [INF] reading)', () => {
  const b = batchOf([
    { outcome: 0.6, steps: stepsOf([0.1, 0.2, 0]) },
    { outcome: 0.2, steps: stepsOf([0.3, 0.1, 0]) },
  ]);

  it('worked example: Q_A = [0.9, 0.8, 0.6], Q_B = [0.6, 0.3, 0.2]; A = z ± λ(Q − 0.5)', () => {
    const out = buildCredit({ method: 'vgpo', anchor: 0.5 }).compute(b);
    expectClose(out.reward, [0.1, 0.2, 0.6, 0.3, 0.1, 0.2]);
    expectClose(out.returns, [0.9, 0.6]);
    // each step index: two values d apart → sample std d/√2, z = ±(d/2)/(d/√2 + 1e-6) ≈ ±0.70711
    const z = (d: number) => d / 2 / (d / Math.SQRT2 + 1e-6);
    expectClose(out.advantage, [z(0.3) + 0.4, z(0.5) + 0.3, z(0.4) + 0.1, -z(0.3) + 0.1, -z(0.5) - 0.2, -z(0.4) - 0.3]);
    expectClose(out.advantage, [1.1071, 1.0071, 0.8071, -0.6071, -0.9071, -1.0071], 1e-4);
  });

  it('a collapsed group (all equal) keeps a signal only through the absolute term; weight 0 is the relative term only', () => {
    const tie = batchOf([
      { outcome: 1, steps: stepsOf([0.5, 0]) },
      { outcome: 1, steps: stepsOf([0.5, 0]) },
    ]);
    // Q = [1.5, 1] for both → z = 0; A = λ(Q − 0.2) = [1.3, 0.8]·2
    expectClose(buildCredit({ method: 'vgpo', anchor: 0.2, weight: 2 }).compute(tie).advantage, [2.6, 1.6, 2.6, 1.6]);
    expectClose(buildCredit({ method: 'vgpo', weight: 0 }).compute(tie).advantage, [0, 0, 0, 0]);
  });

  it('gamma discounts the cumulative reward; threshold restricts the absolute term to low-std cells', () => {
    const out = buildCredit({ method: 'vgpo', gamma: 0.5, weight: 0 }).compute(b);
    // Q_A = [0.1 + 0.5·(0.2 + 0.5·0.6), 0.2 + 0.3, 0.6] = [0.35, 0.5, 0.6]; Q_B = [0.3 + 0.5·(0.1 + 0.1), 0.2, 0.2] = [0.4, 0.2, 0.2]
    expectClose(out.returns, [0.35, 0.4]);
    expect(out.advantage[0]).toBeLessThan(0); // 0.35 < 0.4 at step 0
    const thr = buildCredit({ method: 'vgpo', anchor: 0.5, threshold: 0.01 }).compute(b);
    const rel = buildCredit({ method: 'vgpo', weight: 0 }).compute(b);
    expectClose(thr.advantage, rel.advantage);
  });

  it('a null outcome gets advantage 0 and leaves the others unchanged', () => {
    const withNull = batchOf([
      { outcome: 0.6, steps: stepsOf([0.1, 0.2, 0]) },
      { outcome: 0.2, steps: stepsOf([0.3, 0.1, 0]) },
      { outcome: null, steps: stepsOf([5, 5, 5]) },
    ]);
    const a = buildCredit({ method: 'vgpo', anchor: 0.5 }).compute(withNull);
    const ref = buildCredit({ method: 'vgpo', anchor: 0.5 }).compute(b);
    expectClose(a.advantage, [...ref.advantage, 0, 0, 0]);
    expect(a.returns[2]).toBeNaN();
  });
});
