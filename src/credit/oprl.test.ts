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

  it('batch_max step normalisation divides every step reward by max |s| + 1e-6', () => {
    const out = buildCredit({ method: 'oprl', signal: 's' }).compute(b);
    const k = 1 / (0.5 + 1e-6);
    const base = (0.3 - 0.2 + 0) / 3;
    const aS = [0.3, 0.5, -0.2, 0.1, 0].map((s) => 1.5 * (s * k - base * k));
    expectClose(out.advantage, [1 + aS[0], 1 + aS[1], -0.5 + aS[2], -0.5 + aS[3], -0.5 + aS[4]]);
    expectClose(out.reward, [0.3 * k, 0.5 * k + 1, -0.2 * k, 0.1 * k, 0]);
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
