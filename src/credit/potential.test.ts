import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shapedReturn } from '../shape/potential.js';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf } from './testing.js';

describe('potential credit', () => {
  it('mechanics-A §0.6 example: Φ = [0, 0.5, 1, 0], γ = 1 → F = [0.5, 0.5, −1], sum 0', () => {
    const b = batchOf([{ outcome: 0, steps: stepsOf([0, 0, 0], undefined, [0, 0.5, 1]) }]);
    const out = buildCredit({ method: 'potential', whiten: false }).compute(b);
    expectClose(out.reward, [0.5, 0.5, -1]);
    expectClose(out.returns, [0]);
    expectClose(out.advantage, [0, -0.5, -1]);
  });

  it('adds the outcome on the last step; leaves rollouts without potentials unshaped; rejects partial potentials', () => {
    const b = batchOf([
      { outcome: 1, steps: stepsOf([0.1, 0], undefined, [0.2, 0.4]) },
      { outcome: 2, steps: stepsOf([0, 0]) },
    ]);
    const out = buildCredit({ method: 'potential', gamma: 0.5, advantage: 'grpo' }).compute(b);
    expectClose(out.reward, [0.1 + 0.5 * 0.4 - 0.2, 1 - 0.4, 0, 2]);
    expectClose(out.returns, [0.1 + 0.5 * 1 - 0.2, 1]);
    const bad = batchOf([{ outcome: 1, steps: [{ potential: 0.2 }, {}] }]);
    expect(() => buildCredit({ method: 'potential' }).compute(bad)).toThrow(/rollout 0: steps\[1\]\.potential is missing/);
  });

  it('property: shaped return − original return = γ^T Φ(s_T) − Φ(s_0)', () => {
    const v = fc.double({ min: -3, max: 3, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v, v), { minLength: 1, maxLength: 8 }),
        v,
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        v,
        (steps, outcome, gamma, terminal) => {
          const rewards = steps.map((s) => s[0]);
          const phi = steps.map((s) => s[1]);
          const b = batchOf([{ outcome, steps: stepsOf(rewards, undefined, phi) }]);
          const out = buildCredit({ method: 'potential', gamma, terminal_potential: terminal }).compute(b);
          const T = rewards.length;
          let original = 0;
          for (let t = 0; t < T; t++) original += gamma ** t * (rewards[t] + (t === T - 1 ? outcome : 0));
          expectClose([out.returns[0] - original], [gamma ** T * terminal - phi[0]], 1e-9);
          expectClose([out.returns[0]], [shapedReturn(original, phi, gamma, terminal)], 1e-9);
        },
      ),
    );
  });
});
