import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf, stepsOfRollout } from './testing.js';

describe('dense_turn credit', () => {
  it("Practitioner's Guide example (mechanics-A §19): win [0.5, 0, 0.5], loss with max 4 [0.25, 0, 0.25]", () => {
    const b = batchOf([
      { outcome: 1, steps: stepsOf([1, 0, 1]) },
      { outcome: 0, steps: stepsOf([1, undefined, 1]) },
    ]);
    const out = buildCredit({ method: 'dense_turn', max_total_rewards: 4 }).compute(b);
    expectClose(out.reward, [0.5, 0, 0.5, 0.25, 0, 0.25]);
    expectClose(out.returns, [1, 0.5]);
    const a = 0.25 / (Math.sqrt(0.125) + 1e-6);
    expectClose(out.advantage, [a, a, a, -a, -a, -a]);
  });

  it('a win without positive rewards uses N = 1; a null outcome gives NaN', () => {
    const b = batchOf([{ outcome: 1, steps: stepsOf([0, 0]) }, { outcome: null, steps: stepsOf([1]) }]);
    const out = buildCredit({ method: 'dense_turn', max_total_rewards: 2 }).compute(b);
    expectClose(out.reward, [0, 0, NaN]);
    expectClose(out.returns, [0, NaN]);
  });

  const episodes = fc.array(
    fc.record({
      g: fc.integer({ min: 0, max: 2 }),
      win: fc.boolean(),
      interm: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 5 }),
    }),
    { minLength: 2, maxLength: 10 },
  );

  it('property: GRPO and RLOO give the same advantages for dense and sparse rewards with the same total', () => {
    fc.assert(
      fc.property(episodes, fc.constantFrom('grpo' as const, 'rloo' as const), (xs, estimator) => {
        const eps = xs.map((x) => ({ group: `g${x.g}`, outcome: x.win ? 1 : 0, steps: stepsOf(x.interm) }));
        const dense = buildCredit({ method: 'dense_turn', max_total_rewards: 5, estimator }).compute(batchOf(eps));
        // Sparse: the same total as a single reward on the last step, credited by outcome broadcast.
        const sparse = batchOf(xs.map((x, i) => ({ group: `g${x.g}`, outcome: dense.returns[i], steps: stepsOf(x.interm.map(() => 0)) })));
        const out = buildCredit({ method: 'outcome', estimator }).compute(sparse);
        expectClose(dense.advantage, out.advantage);
      }),
    );
  });

  it('property: GAE gives different advantages for dense and sparse rewards with the same total', () => {
    fc.assert(
      fc.property(episodes, (xs) => {
        const gae = buildCredit({ method: 'gae', gamma: 1, lambda: 0.95, outcome: 'ignore', whiten: false });
        const dense = buildCredit({ method: 'dense_turn', max_total_rewards: 5 }).compute(
          batchOf(xs.map((x) => ({ outcome: x.win ? 1 : 0, steps: stepsOf(x.interm) }))),
        );
        const db = batchOf(xs.map((x) => ({ outcome: 0, steps: stepsOf(x.interm.map(() => 0)) })));
        const denseRewards = dense.reward.slice();
        const sparseRewards = new Float64Array(denseRewards.length);
        for (let i = 0; i < xs.length; i++) sparseRewards[db.offsets[i + 1] - 1] = dense.returns[i];
        const values = new Float64Array(denseRewards.length).fill(0.5);
        const aDense = gae.compute({ ...db, reward: denseRewards, value: values });
        const aSparse = gae.compute({ ...db, reward: sparseRewards, value: values });
        xs.forEach((x, i) => {
          const earlyReward = x.interm.slice(0, -1).some((v) => v > 0);
          const first = db.offsets[i];
          // Rewards moved earlier raise the first step's advantage (non-negative rewards, λ < 1).
          if (earlyReward) expect(aDense.advantage[first]).toBeGreaterThan(aSparse.advantage[first] + 1e-12);
          else expectClose(stepsOfRollout(db, aDense.advantage, i), stepsOfRollout(db, aSparse.advantage, i));
        });
      }),
    );
  });

  it('GAE differs on the worked example while GRPO does not', () => {
    const gae = buildCredit({ method: 'gae', outcome: 'ignore', whiten: false });
    const b = batchOf([
      { outcome: 0, steps: stepsOf([0.5, 0, 0.5], [0, 0, 0]) },
      { outcome: 0, steps: stepsOf([0, 0, 1], [0, 0, 0]) },
    ]);
    const a = gae.compute(b).advantage;
    expect(a[0]).not.toBeCloseTo(a[3], 6);
  });
});
