import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from '../advantage/batch.js';
import { buildEstimator } from '../advantage/registry.js';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf, stepsOfRollout } from './testing.js';

describe('outcome credit', () => {
  it('broadcasts the episode reward and its GRPO advantage (mechanics-A §0.1 example)', () => {
    const b = batchOf([1, 0, 0, 1].map((o) => ({ outcome: o, steps: stepsOf([0.3, undefined]) })));
    const out = buildCredit({ method: 'outcome' }).compute(b);
    const a = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
    expectClose(out.advantage, [a, a, -a, -a, -a, -a, a, a]);
    expectClose(out.reward, [1, 1, 0, 0, 0, 0, 1, 1]);
    expectClose(out.returns, [1, 0, 0, 1]);
  });

  it('rloo; null outcomes give advantage 0 (return NaN); a rollout without steps keeps its return', () => {
    const b = batchOf([{ outcome: 1, steps: stepsOf([0]) }, { outcome: 0 }, { outcome: null, steps: stepsOf([0, 0]) }, { outcome: 0, steps: stepsOf([1]) }]);
    const out = buildCredit({ method: 'outcome', estimator: 'rloo' }).compute(b);
    expectClose(out.returns, [1, 0, NaN, 0]);
    expectClose(out.advantage, [1 - 0, 0, 0, 0 - 0.5]);
  });

  it('property: every step of a rollout carries the estimator advantage of its outcome', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ o: fc.integer({ min: -3, max: 3 }), g: fc.integer({ min: 0, max: 2 }), L: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 12 }), (xs) => {
        const b = batchOf(xs.map((x) => ({ group: `g${x.g}`, outcome: x.o, steps: stepsOf(Array(x.L).fill(1)) })));
        const out = buildCredit({ method: 'outcome' }).compute(b);
        const want = buildEstimator({ estimator: 'grpo' }).compute(buildAdvantageBatch({ rewards: xs.map((x) => x.o), groups: xs.map((x) => `g${x.g}`) }).batch);
        xs.forEach((x, i) => expectClose(stepsOfRollout(b, out.advantage, i), Array(x.L).fill(want[i])));
      }),
    );
  });
});
