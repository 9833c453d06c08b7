import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf } from './testing.js';

describe('gae credit', () => {
  it('mechanics-A §0.5 example: r = [0, 0, 1], V = [0.5, 0.6, 0.8], γ = 1, λ = 0.95 → [0.4705, 0.39, 0.2]', () => {
    const b = batchOf([{ outcome: 0, steps: stepsOf([0, 0, 1], [0.5, 0.6, 0.8]) }]);
    const out = buildCredit({ method: 'gae', gamma: 1, lambda: 0.95, whiten: false }).compute(b);
    expectClose(out.advantage, [0.4705, 0.39, 0.2]);
    expectClose(out.returns, [1]);
    // Same rewards with the 1 given as the episode outcome on the last step.
    const b2 = batchOf([{ outcome: 1, steps: stepsOf([0, 0, 0], [0.5, 0.6, 0.8]) }]);
    expectClose(buildCredit({ method: 'gae', whiten: false }).compute(b2).advantage, [0.4705, 0.39, 0.2]);
  });

  it('whitening gives mean 0 and unit sample variance over the batch steps; null outcomes get advantage 0', () => {
    const b = batchOf([
      { outcome: 0, steps: stepsOf([0, 0, 1], [0.5, 0.6, 0.8]) },
      { outcome: 1, steps: stepsOf([0.3], [0.1]) },
      { outcome: null, steps: stepsOf([1], [0]) },
    ]);
    const a = Array.from(buildCredit({ method: 'gae' }).compute(b).advantage);
    expect(a[4]).toBe(0);
    const xs = a.slice(0, 4);
    const mean = xs.reduce((s, x) => s + x, 0) / 4;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / 3;
    expect(Math.abs(mean)).toBeLessThan(1e-12);
    expect(Math.abs(v - 1)).toBeLessThan(1e-6);
  });

  it('rejects a missing value', () => {
    const b = batchOf([{ outcome: 1, steps: [{ value: 0.1 }, {}] }]);
    expect(() => buildCredit({ method: 'gae' }).compute(b)).toThrow(/rollout 0: steps\[1\]\.value is missing/);
  });
});
