import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import type { Rollout, Step } from '../rollout/types.js';
import { buildShapeBatch } from './batch.js';
import { buildShapers } from './registry.js';

function run(spec: Record<string, unknown>, rewards: (number | null)[], steps: (Step[] | undefined)[], groups?: string[]) {
  const samples = rewards.map((_, i) => toSample({ id: `r${i}`, group: groups?.[i] ?? 'g', completion: 'x', steps: steps[i] } as Rollout));
  const b = buildShapeBatch(samples, rewards);
  buildShapers([{ type: 'renorm', ...spec } as never]).apply(b);
  return Array.from(b.rewards);
}

const ps = (...p: number[]) => p.map((reward) => ({ reward }));

describe('renorm (inferred reading)', () => {
  it('shift: r_t = p_t + o − 1, averaged (or summed)', () => {
    const v = run({}, [1, 0], [ps(0.8, 0.6), ps(0.8, 0.6)]);
    expect(v[0]).toBeCloseTo(0.7, 12);
    expect(v[1]).toBeCloseTo(-0.3, 12);
    expect(run({ aggregate: 'sum' }, [0], [ps(0.8, 0.6)])[0]).toBeCloseTo(-0.6, 12);
    expect(run({}, [1, null], [undefined, ps(1)])).toEqual([1, NaN]);
  });

  it('shift: with the same process rewards an o = 0 rollout never outscores an o = 1 one, and the reward is monotone in every p_t', () => {
    const arb = fc.record({
      p: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
      q: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
      bump: fc.double({ min: 0, max: 0.5, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ p, q, bump }) => {
        const [fail, pass, failOther] = run({}, [0, 1, 0], [ps(...p), ps(...p), ps(...q)]);
        expect(fail).toBeLessThan(pass);
        expect(fail).toBeLessThanOrEqual(0);
        expect(failOther).toBeLessThanOrEqual(0);
        expect(pass).toBeGreaterThanOrEqual(0);
        const [higher] = run({}, [1], [ps(...p.map((x, t) => (t === 0 ? x + bump : x)))]);
        expect(higher).toBeGreaterThanOrEqual(pass - 1e-15);
      }),
      { numRuns: 200 },
    );
  });

  it('group_norm: z(o) + w·z(mean p) within each group', () => {
    const v = run({ mode: 'group_norm', process_weight: 0.5 }, [1, 0, 1], [ps(0.9, 0.7), ps(0.2), undefined], ['a', 'a', 'b']);
    const zo = 0.5 / (Math.SQRT1_2 + 1e-6);
    const zp = 0.3 / (Math.sqrt(2 * 0.3 ** 2) + 1e-6);
    expect(v[0]).toBeCloseTo(zo + 0.5 * zp, 12);
    expect(v[1]).toBeCloseTo(-zo - 0.5 * zp, 12);
    expect(v[2]).toBeCloseTo(1 / (1 + 1e-6), 12); // a group of one keeps its value (verl rule), no process term
  });

  it('errors on a non-numeric process reward, naming rollout and step', () => {
    expect(() => run({}, [1], [[{ reward: 0.5 }, { reward: 'good' as never }]])).toThrow(/rollout 0: steps\[1\].reward is good/);
  });
});
