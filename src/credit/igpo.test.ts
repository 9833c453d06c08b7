import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose, stepsOfRollout } from './testing.js';

describe('igpo credit (information gain)', () => {
  // mechanics-A §12: p = [0.10, 0.30, 0.25] → IG = [0.20, −0.05]; with F1 = 1 the turn rewards are
  // [0.2, −0.05, 1.0] and the return from turn 1 is 1.15.
  const b = batchOf(
    [
      { outcome: 1, steps: blankSteps(3) },
      { outcome: 1, steps: blankSteps(2) },
    ],
    { p: [[0.3, 0.25, 0.9], [0.1, null]] },
  );

  it('mechanics-A §12 example; released advantage = return − per-position group mean (ended rollouts count 0)', () => {
    const out = buildCredit({ method: 'igpo', signal: 'p', prior: 0.1 }).compute(b);
    expectClose(out.reward, [0.2, -0.05, 1, 0, 1]);
    expectClose(out.returns, [1.15, 1]);
    // G1 = [1.15, 0.95, 1], G2 = [1, 1]; baselines [1.075, 0.975, 0.5].
    expectClose(out.advantage, [0.075, -0.025, 0.5, -0.075, 0.025]);
    // Equal outcomes (F1 = 1 for both), yet non-zero advantages: no advantage collapse.
    expect(out.advantage.every((a) => Math.abs(a) > 1e-3)).toBe(true);
    // The prior is shared by the group, so with ≥ 2 steps everywhere it cancels out of the advantages.
    expectClose(buildCredit({ method: 'igpo', signal: 'p', prior: 0.6 }).compute(b).advantage, out.advantage, 1e-12);
  });

  it('paper variant: group z-normalised turn rewards, then (discounted) sums', () => {
    const out = buildCredit({ method: 'igpo', signal: 'p', prior: 0.1, variant: 'paper', gamma: 0.5 }).compute(b);
    const r = [0.2, -0.05, 1, 0, 1];
    const mean = r.reduce((s, x) => s + x, 0) / 5;
    const sd = Math.sqrt(r.reduce((s, x) => s + (x - mean) ** 2, 0) / 4) + 1e-6;
    const z = r.map((x) => (x - mean) / sd);
    expectClose(out.advantage, [z[0] + 0.5 * z[1] + 0.25 * z[2], z[1] + 0.5 * z[2], z[2], z[3] + 0.5 * z[4], z[4]]);
    expectClose(out.returns, [0.2 - 0.025 + 0.25, 0.5]);
  });

  it('outcome_weight, null outcomes, rollouts without steps, and a missing p on a non-final step', () => {
    const c = batchOf([{ outcome: 0.5, steps: blankSteps(1) }, { outcome: null, steps: blankSteps(2) }, { outcome: 1 }], { p: [null, null, null] });
    const out = buildCredit({ method: 'igpo', signal: 'p', outcome_weight: 2 }).compute(c);
    expectClose(out.reward, [1, NaN, NaN]);
    expectClose(out.returns, [1, NaN, 2]);
    // Position 0: rollout 0 (G = 1) and rollout 2 (no steps, 0) → baseline 0.5.
    expectClose(out.advantage, [0.5, 0, 0]);
    const bad = batchOf([{ outcome: 1, steps: blankSteps(3) }], { p: [0.2, null, 0.4] });
    expect(() => buildCredit({ method: 'igpo', signal: 'p' }).compute(bad)).toThrow(/rollout 0: steps\[1\] has no value for signal "p" \(credit\.signal\)/);
  });

  it('property: gains telescope to p_{T−2} − prior; per position, the group’s advantages (ended rollouts at −baseline) sum to 0', () => {
    const prob = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.record({ g: fc.integer({ min: 0, max: 1 }), o: fc.double({ min: 0, max: 1, noNaN: true }), p: fc.array(prob, { minLength: 1, maxLength: 6 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        prob,
        (xs, prior) => {
          const c = batchOf(
            xs.map((x) => ({ group: `g${x.g}`, outcome: x.o, steps: blankSteps(x.p.length) })),
            { p: xs.map((x) => x.p) },
          );
          const out = buildCredit({ method: 'igpo', signal: 'p', prior }).compute(c);
          xs.forEach((x, i) => {
            const r = stepsOfRollout(c, out.reward, i);
            const gains = r.slice(0, -1).reduce((s, v) => s + v, 0);
            const T = x.p.length;
            expectClose([gains], [T >= 2 ? x.p[T - 2] - prior : 0], 1e-9);
            expectClose([r[T - 1]], [x.o]);
          });
          for (const g of [0, 1]) {
            for (let t = 0; t < 6; t++) {
              const members = xs.map((x, i) => ({ x, i })).filter(({ x }) => x.g === g);
              const active = members.filter(({ x }) => t < x.p.length);
              if (active.length === 0) continue;
              const G = (i: number) => stepsOfRollout(c, out.reward, i).slice(t).reduce((s, v) => s + v, 0);
              const baseline = G(active[0].i) - out.advantage[c.offsets[active[0].i] + t];
              let sum = 0;
              for (const { i } of active) sum += out.advantage[c.offsets[i] + t];
              sum -= (members.length - active.length) * baseline;
              expect(Math.abs(sum)).toBeLessThanOrEqual(1e-9 * (1 + members.length * 4));
            }
          }
        },
      ),
    );
  });
});
