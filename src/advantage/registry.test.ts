import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { advantageSchema, buildEstimator, estimators, type AdvantageSpecInput } from './registry.js';
import type { AdvantageBatch } from './types.js';

const names = Object.keys(estimators) as (keyof typeof estimators)[];

function permute(b: AdvantageBatch, perm: number[]): AdvantageBatch {
  const pick = (x: Float64Array) => Float64Array.from(perm, (j) => x[j]);
  return {
    rewards: pick(b.rewards),
    components: b.components.map(pick),
    weights: b.weights,
    groupOf: Int32Array.from(perm, (j) => b.groupOf[j]),
    groupCount: b.groupCount,
  };
}

describe('advantage registry', () => {
  it('fills defaults and rejects unknown keys and estimators', () => {
    expect(advantageSchema.parse({ estimator: 'grpo' })).toEqual({ estimator: 'grpo', eps: 1e-6, std: 'sample', scale: 'group' });
    expect(advantageSchema.parse({ estimator: 'gdpo' })).toEqual({ estimator: 'gdpo', eps: 1e-4, null_components: 'zero' });
    expect(() => advantageSchema.parse({ estimator: 'grpo', epsilon: 1 })).toThrow(/epsilon/);
    expect(() => advantageSchema.parse({ estimator: 'ppo' })).toThrow(/discriminator/);
    expect(() => buildEstimator({ estimator: 'grpo', scale: 'token' } as never)).toThrow();
  });

  it('documents every param', () => {
    for (const kind of Object.values(estimators)) {
      for (const [key, schema] of Object.entries(kind.params)) expect((schema as { description?: string }).description, `${kind.estimator}.${key}`).toBeTruthy();
    }
  });

  describe.each(names)('%s', (name) => {
    const est = buildEstimator({ estimator: name } as AdvantageSpecInput);

    it('returns an empty result for an empty batch', () => {
      const { batch } = buildAdvantageBatch({ rewards: [], groups: [], components: [[], []] });
      expect(est.compute(batch).length).toBe(0);
    });

    it('handles a group of one, an all-equal group and an all-null group', () => {
      const { batch } = buildAdvantageBatch({
        rewards: [2, 1, 1, 1, null, null, 1, 0],
        groups: ['one', 'tie', 'tie', 'tie', 'nul', 'nul', 'x', 'x'],
        components: [
          [1, 1, 1, 1, 0, 0, 1, 0],
          [1, 0, 0, 0, 0, 0, 0, 0],
        ],
      });
      const a = est.compute(batch);
      expect(a.length).toBe(8);
      expect(Number.isFinite(a[0])).toBe(true);
      expect(a[4]).toBe(0);
      expect(a[5]).toBe(0);
      for (const i of [0, 1, 2, 3, 6, 7]) expect(Number.isFinite(a[i]), `rollout ${i}`).toBe(true);
      expect(a[1]).toBe(a[2]);
      expect(a[2]).toBe(a[3]);
    });

    it('rejects ±Infinity with the rollout index', () => {
      const { batch } = buildAdvantageBatch({ rewards: [1, 0, 1], groups: [0, 0, 0], components: [[1, 0, 1], [0, 0, 0]] });
      batch.rewards[1] = -Infinity;
      expect(() => est.compute(batch)).toThrow(/rollout 1: reward is -Infinity/);
    });

    it('rejects a group index out of range', () => {
      const { batch } = buildAdvantageBatch({ rewards: [1, 0], groups: [0, 0], components: [[1, 0], [0, 0]] });
      batch.groupOf[1] = 3;
      expect(() => est.compute(batch)).toThrow(/rollout 1: group index/);
    });

    it('commutes with any reordering of the rollouts (groups need not be contiguous)', () => {
      const arb = fc
        .array(fc.record({ r: fc.option(fc.integer({ min: -4, max: 4 }), { freq: 8 }), c: fc.integer({ min: 0, max: 2 }), g: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 })
        .chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows.map((_, i) => i), { minLength: rows.length, maxLength: rows.length })));
      fc.assert(
        fc.property(arb, ([rows, perm]) => {
          const { batch } = buildAdvantageBatch({
            rewards: rows.map((x) => x.r),
            groups: rows.map((x) => x.g),
            components: [rows.map((x) => x.r), rows.map((x) => x.c)],
          });
          const a = est.compute(batch);
          const b = est.compute(permute(batch, perm));
          perm.forEach((j, i) => {
            if (Number.isNaN(a[j])) expect(b[i]).toBeNaN();
            else expect(Math.abs(b[i] - a[j])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a[j])));
          });
        }),
        { numRuns: 100 },
      );
    });
  });
});
