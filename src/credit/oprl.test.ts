import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose } from './testing.js';

describe('oprl credit (iStar implicit step rewards)', () => {
  // mechanics-C §11 worked example: A (R 1) s = [0.3, 0.5]; B (R 0) s = [−0.2, 0.1]; C (R 0) s = [0].
  const b = batchOf(
    [
      { outcome: 1, steps: blankSteps(2) },
      { outcome: 0, steps: blankSteps(2) },
      { outcome: 0, steps: blankSteps(1) },
    ],
    { s: [0.3, 0.5, -0.2, 0.1, 0] },
  );

  it('mechanics-C §11 example (RLOO, α = 1, first-step baseline): A = [1.40, 1.70, −0.85, −0.40, −0.55]', () => {
    const out = buildCredit({ method: 'oprl', signal: 's', step_norm: 'none' }).compute(b);
    expectClose(out.advantage, [1.4, 1.7, -0.85, -0.4, -0.55]);
    expectClose(out.reward, [0.3, 1.5, -0.2, 0.1, 0]);
    expectClose(out.returns, [1.8, -0.1, 0]);
  });

  it('batch_max divides by the batch max |reverse cumulative sum| + 1e-6 (mechanics-C §11), not max |s|', () => {
    // Reverse cumsums: A [0.8, 0.5], B [−0.1, 0.1], C [0] → Z = 0.8 + 1e-6; max |s| would be 0.5.
    // s/Z = [0.375, 0.625, −0.25, 0.125, 0]; first-step baseline (0.375 − 0.25 + 0)/3 = 0.041667;
    // A^S = 1.5·(s/Z − 0.041667) = [0.5, 0.875, −0.4375, 0.125, −0.0625]; A = A^E + A^S.
    const out = buildCredit({ method: 'oprl', signal: 's' }).compute(b);
    expectClose(out.advantage, [1.5, 1.875, -0.9375, -0.375, -0.5625], 1e-5);
    expectClose(out.reward, [0.375, 1.625, -0.25, 0.125, 0], 1e-5);
    // by hand with the exact epsilon
    const k = 1 / (0.8 + 1e-6);
    expect(out.reward[0]).toBeCloseTo(0.3 * k, 12);
    // the older reading (max |s| = 0.5) gives different numbers
    const old = buildCredit({ method: 'oprl', signal: 's', step_norm: 'batch_max_step' }).compute(b);
    const k2 = 1 / (0.5 + 1e-6);
    expectClose(old.reward, [0.3 * k2, 0.5 * k2 + 1, -0.2 * k2, 0.1 * k2, 0]);
    expect(Math.abs(old.reward[0] - out.reward[0])).toBeGreaterThan(0.2);
  });

  it('batch_max: a negative tail counts by absolute value; every trajectory with one step reduces to max |s|', () => {
    const neg = batchOf([{ outcome: 0, steps: blankSteps(3) }, { outcome: 1, steps: blankSteps(1) }], { s: [-0.4, -0.4, 0.2, 0.5] });
    // reverse cumsums [−0.6, −0.2, 0.2] and [0.5] → Z = 0.6 + 1e-6
    const out = buildCredit({ method: 'oprl', signal: 's', step_weight: 1 }).compute(neg);
    expect(out.reward[3] - 1).toBeCloseTo(0.5 / 0.600001, 12);
    const single = batchOf([{ outcome: 0, steps: blankSteps(1) }, { outcome: 1, steps: blankSteps(1) }], { s: [-0.4, 0.2] });
    const a = buildCredit({ method: 'oprl', signal: 's', step_norm: 'batch_max' }).compute(single);
    const c = buildCredit({ method: 'oprl', signal: 's', step_norm: 'batch_max_step' }).compute(single);
    expectClose(a.advantage, c.advantage, 1e-12);
    expect(a.reward[0]).toBeCloseTo(-0.4 / 0.400001, 12);
  });

  it('grpo (mean_norm and mean_std_norm), the all-steps baseline and step_weight', () => {
    const s = [0.3, 0.5, -0.2, 0.1, 0];
    const grpo = buildCredit({ method: 'oprl', signal: 's', step_norm: 'none', estimator: 'grpo' }).compute(b);
    const m1 = 0.1 / 3;
    expectClose(grpo.advantage, [2 / 3 + s[0] - m1, 2 / 3 + s[1] - m1, -1 / 3 + s[2] - m1, -1 / 3 + s[3] - m1, -1 / 3 + s[4] - m1]);
    const std = buildCredit({ method: 'oprl', signal: 's', step_norm: 'none', estimator: 'grpo', std_norm: true, step_weight: 0.5 }).compute(b);
    const sdE = Math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2) + 1e-6;
    const firsts = [0.3, -0.2, 0];
    const sdS = Math.sqrt(firsts.reduce((a, x) => a + (x - m1) ** 2, 0) / 2) + 1e-6;
    const aE = [2 / 3, 2 / 3, -1 / 3, -1 / 3, -1 / 3].map((x) => x / sdE);
    expectClose(std.advantage, s.map((x, k) => aE[k] + (0.5 * (x - m1)) / sdS));
    const all = buildCredit({ method: 'oprl', signal: 's', step_norm: 'none', step_baseline: 'all_steps' }).compute(b);
    const aE2 = [1, 1, -0.5, -0.5, -0.5];
    expectClose(all.advantage, s.map((x, k) => aE2[k] + 1.25 * (x - 0.14)));
  });

  it('a single trajectory keeps its values; null outcomes give advantage 0; a missing step reward is an error', () => {
    const one = batchOf([{ outcome: 1, group: 'x', steps: blankSteps(2) }, { outcome: null, group: 'x', steps: blankSteps(1) }], { s: [0.2, 0.4, null] });
    const out = buildCredit({ method: 'oprl', signal: 's', step_norm: 'none' }).compute(one);
    expectClose(out.advantage, [1.2, 1.4, 0]);
    expectClose(out.returns, [1.6, NaN]);
    const bad = batchOf([{ outcome: 1, steps: blankSteps(2) }], { s: [0.2, null] });
    expect(() => buildCredit({ method: 'oprl', signal: 's' }).compute(bad)).toThrow(/rollout 0: steps\[1\] has no value for signal "s"/);
  });

  it('property: A = A^E + α·A^S — α = 0 is the outcome RLOO advantage, and A is linear in α', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            g: fc.integer({ min: 0, max: 2 }),
            o: fc.integer({ min: 0, max: 1 }),
            s: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.constantFrom('first_step' as const, 'all_steps' as const),
        (xs, alpha, step_baseline) => {
          const c = batchOf(
            xs.map((x) => ({ group: `g${x.g}`, outcome: x.o, steps: blankSteps(x.s.length) })),
            { s: xs.map((x) => x.s) },
          );
          const run = (w: number) => buildCredit({ method: 'oprl', signal: 's', step_weight: w, step_baseline }).compute(c).advantage;
          const a0 = run(0);
          const a1 = run(1);
          const outcome = buildCredit({ method: 'outcome', estimator: 'rloo' }).compute(c).advantage;
          expectClose(a0, outcome, 1e-9);
          expectClose(run(alpha), Array.from(a0, (v, k) => v + alpha * (a1[k] - v)), 1e-9);
        },
      ),
    );
  });
});
