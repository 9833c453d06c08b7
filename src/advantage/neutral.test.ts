import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { neutralRewards } from './neutral.js';
import { buildEstimator, type AdvantageSpecInput } from './registry.js';

describe('neutralRewards (reward-only protocols)', () => {
  it('sends the group mean of the judged rewards for a null one, the fallback when none is judged', () => {
    const r = neutralRewards(Float64Array.of(1, 0, NaN, NaN, NaN), Int32Array.of(0, 0, 0, 1, 1), 2);
    expect(Array.from(r.values)).toEqual([1, 0, 0.5, 0, 0]);
    expect(Array.from(r.judged)).toEqual([1, 1, 0, 0, 0]);
    expect([r.groupMean, r.noJudged]).toEqual([1, 2]);
    expect(Array.from(neutralRewards(Float64Array.of(NaN), Int32Array.of(0), 1, -1).values)).toEqual([-1]);
  });

  it('property: the trainer\'s GRPO / Dr.GRPO / RLOO advantage of a substituted rollout is 0, the others keep their sign (groups of ≥ 2 judged)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ r: fc.option(fc.integer({ min: -4, max: 4 }), { freq: 3 }), g: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 }),
        (rows) => {
          const { batch } = buildAdvantageBatch({ rewards: rows.map((x) => x.r), groups: rows.map((x) => x.g) });
          const sent = neutralRewards(batch.rewards, batch.groupOf, batch.groupCount);
          const withNulls = buildEstimator({ estimator: 'dr_grpo' }).compute(batch);
          const judged = new Map<number, number>();
          rows.forEach((x) => x.r !== null && judged.set(x.g, (judged.get(x.g) ?? 0) + 1));
          for (const estimator of ['grpo', 'dr_grpo', 'rloo'] as const) {
            // what the trainer computes from the values it received (no nulls any more)
            const a = buildEstimator({ estimator } as AdvantageSpecInput).compute({ ...batch, rewards: sent.values });
            rows.forEach((x, i) => {
              if (x.r === null) expect(Math.abs(a[i]!), `${estimator} rollout ${i}`).toBeLessThanOrEqual(1e-9);
              // (a group with a single judged reward ties with its substitutes: 0, where verl's
              // group-of-one rule would have compared it with 0)
              else if (judged.get(x.g)! > 1) expect(Math.sign(Math.round(a[i]! * 1e9)), `${estimator} rollout ${i}`).toBe(Math.sign(Math.round(withNulls[i]! * 1e9)));
            });
          }
        },
      ),
    );
  });
});
