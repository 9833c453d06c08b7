import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import type { Rollout, Step } from '../rollout/types.js';
import { buildShapeBatch } from './batch.js';
import { shapedReturn } from './potential.js';
import { buildShapers } from './registry.js';

function run(spec: Record<string, unknown>, rewards: (number | null)[], steps: (Step[] | undefined)[]) {
  const samples = rewards.map((_, i) => toSample({ id: `r${i}`, group: 'g', completion: 'x', steps: steps[i] } as Rollout));
  const b = buildShapeBatch(samples, rewards);
  buildShapers([{ type: 'potential', ...spec } as never]).apply(b);
  return Array.from(b.rewards);
}

describe('potential', () => {
  it('reference example: Φ = [0, 0.5, 1, 0], γ = 1 → F = [0.5, 0.5, −1], the return is unchanged', () => {
    const steps = [{ potential: 0 }, { potential: 0.5 }, { potential: 1 }];
    expect(run({}, [1], [steps])).toEqual([1]);
    // with Φ(s_0) ≠ 0 the return moves by −Φ(s_0)
    expect(run({}, [1], [[{ potential: 0.25 }, { potential: 2 }]])[0]).toBeCloseTo(0.75, 12);
  });

  it('changes a trajectory\'s return by exactly γ^T Φ(s_T) − Φ(s_0)', () => {
    const arb = fc.record({
      phi: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 20 }),
      rewards: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 20, maxLength: 20 }),
      gamma: fc.double({ min: 0.5, max: 1, noNaN: true }),
      terminal: fc.double({ min: -5, max: 5, noNaN: true }),
      outcome: fc.double({ min: -3, max: 3, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ phi, rewards, gamma, terminal, outcome }) => {
        const T = phi.length;
        const delta = gamma ** T * terminal - phi[0];
        const steps = phi.map((p, t) => ({ potential: p, reward: rewards[t] }));
        const [shaped] = run({ gamma, terminal_potential: terminal }, [outcome], [steps]);
        expect(Math.abs(shaped - (outcome + delta))).toBeLessThanOrEqual(1e-9);
        const original = rewards.slice(0, T).reduce((s, r, t) => s + gamma ** t * r, 0);
        const [fromSteps] = run({ gamma, terminal_potential: terminal, base: 'steps' }, [outcome], [steps]);
        expect(Math.abs(fromSteps - (original + delta))).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(shapedReturn(0, phi, gamma, terminal) - delta)).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps rollouts without potentials and null rewards; errors on a step without potential', () => {
    expect(run({}, [2, null, 3], [undefined, [{ potential: 1 }], [{ reward: 1 }]])).toEqual([2, NaN, 3]);
    expect(() => run({}, [1], [[{ potential: 1 }, { reward: 0 }]])).toThrow(/rollout 0: steps\[1\].potential is missing/);
    expect(() => run({}, [1], [[{ potential: 'high' as never }]])).toThrow(/rollout 0: steps\[0\].potential is high/);
  });
});
