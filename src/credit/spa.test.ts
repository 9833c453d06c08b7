import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Step } from '../rollout/types.js';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose, stepsOfRollout } from './testing.js';

const exec = (...flags: (boolean | undefined)[]): Step[] => flags.map((e) => (e === undefined ? {} : { executable: e }));

describe('spa credit (stepwise progress attribution)', () => {
  it('mechanics-A §13 example: c = [0.1, 0.3, 0.5], actions valid, invalid, valid → r = [0.6, 0.3, 1.0]', () => {
    const b = batchOf([{ outcome: 0.9, steps: exec(true, false, undefined) }], { phi: [1, 3, 5] });
    const out = buildCredit({ method: 'spa', features: ['phi'], ridge: 0, intercept: false, advantage: 'reward_to_go', whiten: false }).compute(b);
    expectClose(out.reward, [0.6, 0.3, 1.0]);
    expectClose(out.returns, [1.9]);
    expectClose(out.advantage, [1.9, 1.3, 1.0]);
  });

  it('closed-form ridge: w = Σx·R / (Σx² + λ) for one feature; residual none keeps the fit, spread restores the sums', () => {
    const b = batchOf(
      [
        { outcome: 1, steps: blankSteps(2) },
        { outcome: 0, steps: blankSteps(1) },
      ],
      { phi: [1, 2, 2] },
    );
    const w = (3 * 1 + 2 * 0) / (9 + 4 + 0.5);
    const none = buildCredit({ method: 'spa', features: ['phi'], ridge: 0.5, intercept: false, residual: 'none', executable_bonus: 0, whiten: false }).compute(b);
    expectClose(none.reward, [w, 2 * w, 2 * w]);
    const spread = buildCredit({ method: 'spa', features: ['phi'], ridge: 0.5, intercept: false, executable_bonus: 0, whiten: false }).compute(b);
    const fix0 = (1 - 3 * w) / 2;
    expectClose(spread.reward, [w + fix0, 2 * w + fix0, 0]);
    expectClose(spread.returns, [1, 0]);
  });

  it('recovers the weights and intercept of exactly linear progress', () => {
    const rows = [
      [0.2, 1],
      [0.5, 0],
      [0.9, 1],
      [0.1, 0],
      [0.4, 0],
      [0.7, 1],
    ];
    // Three rollouts of two steps: R = Σ_t (0.6·f + 0.3·g − 0.1).
    const R = [0, 1, 2].map((i) => rows.slice(2 * i, 2 * i + 2).reduce((s, [f, g]) => s + 0.6 * f + 0.3 * g - 0.1, 0));
    const eps = [0, 1, 2].map((i) => ({ outcome: R[i], steps: blankSteps(2) }));
    // A fourth rollout of one step pins the intercept apart from the features.
    eps.push({ outcome: 0.6 * 0.3 + 0.3 * 1 - 0.1, steps: blankSteps(1) });
    const b = batchOf(eps, { f: [...rows.map((r) => r[0]), 0.3], g: [...rows.map((r) => r[1]), 1] });
    const out = buildCredit({ method: 'spa', features: ['f', 'g'], ridge: 1e-12, residual: 'none', executable_bonus: 0, whiten: false }).compute(b);
    expectClose(out.reward, [...rows.map(([f, g]) => 0.6 * f + 0.3 * g - 0.1), 0.6 * 0.3 + 0.3 - 0.1], 1e-6);
  });

  it('property: with residual spread the step contributions of every rollout sum to its outcome', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            o: fc.double({ min: 0, max: 1, noNaN: true }),
            f: fc.array(fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 6 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.boolean(),
        (xs, ridge, intercept) => {
          const b = batchOf(
            xs.map((x) => ({ outcome: x.o, steps: blankSteps(x.f.length) })),
            { a: xs.map((x) => x.f.map((t) => t[0])), c: xs.map((x) => x.f.map((t) => t[1])) },
          );
          const out = buildCredit({ method: 'spa', features: ['a', 'c'], ridge, intercept, executable_bonus: 0 }).compute(b);
          xs.forEach((x, i) => {
            const sum = stepsOfRollout(b, out.reward, i).reduce((s, v) => s + v, 0);
            expect(Math.abs(sum - x.o)).toBeLessThanOrEqual(1e-9);
            expect(Math.abs(out.returns[i] - x.o)).toBeLessThanOrEqual(1e-9);
          });
        },
      ),
    );
  });

  it('property: for equal progress an invalid action gets a lower step reward than a valid one', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), (phi, bonus) => {
        const b = batchOf(
          [
            { outcome: 1, steps: exec(true, true) },
            { outcome: 1, steps: exec(false, true) },
          ],
          { phi: [phi, 1, phi, 1] },
        );
        const out = buildCredit({ method: 'spa', features: ['phi'], executable_bonus: bonus }).compute(b);
        expectClose([out.reward[0] - out.reward[2]], [bonus], 1e-9);
      }),
    );
  });

  it('errors: missing executable (unless the bonus is 0), missing feature values, a singular fit without ridge', () => {
    const b = batchOf([{ outcome: 1, steps: exec(undefined, undefined) }], { phi: [1, 2] });
    expect(() => buildCredit({ method: 'spa', features: ['phi'] }).compute(b)).toThrow(/rollout 0: steps\[0\] has no `executable` flag; spa needs it on every step but the last for executable_bonus/);
    expect(() => buildCredit({ method: 'spa', features: ['phi'], executable_bonus: 0 }).compute(b)).not.toThrow();
    const gap = batchOf([{ outcome: 1, steps: blankSteps(2) }], { phi: [1, null] });
    expect(() => buildCredit({ method: 'spa', features: ['phi'], executable_bonus: 0 }).compute(gap)).toThrow(
      /steps\[1\] has no value for feature "phi" \(credit\.features\[0\]\)/,
    );
    const twin = batchOf([{ outcome: 1, steps: blankSteps(1) }], { a: [1], c: [2] });
    expect(() => buildCredit({ method: 'spa', features: ['a', 'c'], ridge: 0, intercept: false, executable_bonus: 0 }).compute(twin)).toThrow(/singular.*set ridge > 0/);
  });
});
