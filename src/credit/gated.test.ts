import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf, stepsOfRollout } from './testing.js';

describe('gated credit (G-RA)', () => {
  it('mechanics-A §2 example: Δ = 0, r_low [0.2, 0.3]; r_high −1 → R = −1, r_high 1 → R = 1.5', () => {
    const b = batchOf([
      { outcome: -1, steps: stepsOf([0.2, 0.3]) },
      { outcome: 1, steps: stepsOf([0.2, 0.3]) },
      { outcome: 0.4, group: 'h' },
    ]);
    const out = buildCredit({ method: 'gated', threshold: 0 }).compute(b);
    expectClose(out.returns, [-1, 1.5, 0.4]);
    expectClose(out.reward, [0, -1, 0.2, 1.3]);
    const a = 1.25 / (Math.sqrt(2 * 1.25 ** 2) + 1e-6);
    expectClose(out.advantage, [-a, -a, a, a]);
  });

  it('property: never gives step credit to a failed episode; open episodes accumulate every step reward', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            o: fc.double({ min: -2, max: 2, noNaN: true }),
            low: fc.array(fc.option(fc.double({ min: -5, max: 5, noNaN: true }), { nil: undefined }), { maxLength: 5 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (xs, threshold) => {
          const b = batchOf(xs.map((x) => ({ outcome: x.o, steps: stepsOf(x.low) })));
          const out = buildCredit({ method: 'gated', threshold }).compute(b);
          xs.forEach((x, i) => {
            const steps = stepsOfRollout(b, out.reward, i);
            if (x.o < threshold) {
              expect(out.returns[i] + 0).toBe(x.o + 0);
              expect(steps.slice(0, -1).every((v) => v === 0)).toBe(true);
              if (steps.length > 0) expect(steps[steps.length - 1] + 0).toBe(x.o + 0);
            } else {
              const sum = x.low.reduce<number>((s, v) => s + (v ?? 0), 0);
              expectClose([out.returns[i]], [x.o + sum], 1e-9);
              if (steps.length > 0) expectClose([steps.reduce((s, v) => s + v, 0)], [out.returns[i]], 1e-9);
            }
          });
        },
      ),
    );
  });
});
