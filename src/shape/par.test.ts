import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { buildShapeBatch } from './batch.js';
import { buildShapers } from './registry.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** One rollout per reward, all with the same reference rewards in meta (or none). */
function shape(spec: Record<string, unknown>, rewards: (number | null)[], refs?: number[]): number[] {
  const rollouts: Rollout[] = rewards.map((_, i) => ({ id: `r${i}`, group: 'g', completion: 'x', ...(refs ? { meta: { ref_rewards: refs } } : {}) }));
  const batch = buildShapeBatch(rollouts.map(toSample), rewards);
  buildShapers([spec as never]).apply(batch);
  return Array.from(batch.rewards);
}

describe('par', () => {
  it('reference example: refs [0.5, 1.5], r = 1 → 0.5', () => {
    const [v] = shape({ type: 'par' }, [1], [0.5, 1.5]);
    expect(Math.abs(v - (sig(0.5) + sig(-0.5)) / 2)).toBeLessThanOrEqual(1e-12);
    expect(v).toBeCloseTo(0.5, 12);
  });

  it('is bounded in (0, 1) and monotone in r', () => {
    const arb = fc.record({
      refs: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 }),
      a: fc.double({ min: -30, max: 30, noNaN: true }),
      b: fc.double({ min: -30, max: 30, noNaN: true }),
      k: fc.double({ min: 0.1, max: 3, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ refs, a, b, k }) => {
        const [pa, pb] = shape({ type: 'par', k }, [Math.min(a, b), Math.max(a, b)], refs);
        expect(pa).toBeGreaterThanOrEqual(0);
        expect(pb).toBeLessThanOrEqual(1);
        expect(pa).toBeLessThanOrEqual(pb);
        // strictly inside (0,1) wherever σ is not saturated in double precision
        if (Math.abs(a) < 15 && Math.abs(b) < 15) {
          expect(pa).toBeGreaterThan(0);
          expect(pb).toBeLessThan(1);
          // strictly increasing where the difference is representable: away from saturation (σ′ > ~1e-6)
          if (Math.abs(a - b) > 1e-6 && pa > 1e-6 && pb < 1 - 1e-6) expect(pa).toBeLessThan(pb);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is 0.5 at the median of a symmetric ref set and invariant to a common shift', () => {
    const [m] = shape({ type: 'par' }, [2], [0, 1, 3, 4]);
    expect(m).toBeCloseTo(0.5, 12);
    const [a] = shape({ type: 'par' }, [1.3], [0.2, 2, -1]);
    const [b] = shape({ type: 'par' }, [1.3 + 7], [7.2, 9, 6]);
    expect(Math.abs(a - b)).toBeLessThan(1e-12);
  });

  it('uses the first max_refs references, then the spec list, and errors without refs', () => {
    const [v] = shape({ type: 'par', max_refs: 1 }, [1], [0.5, 100]);
    expect(v).toBeCloseTo(sig(0.5), 12);
    const [w] = shape({ type: 'par', refs: [1] }, [1]);
    expect(w).toBeCloseTo(0.5, 12);
    expect(() => shape({ type: 'par' }, [1])).toThrow(/rollout 0: meta.ref_rewards is missing/);
    expect(() => shape({ type: 'par' }, [1], ['a' as never])).toThrow(/rollout 0: meta.ref_rewards/);
  });

  it('leaves null rewards null', () => {
    const v = shape({ type: 'par' }, [null, 1], [1]);
    expect(v[0]).toBeNaN();
    expect(v[1]).toBeCloseTo(0.5, 12);
  });
});
