import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, expectClose, stepsOf } from './testing.js';

describe('prorl credit (position-specific advantage)', () => {
  it('mechanics-A §11 example: r1 = [1, 0.5], r2 = [0.2] with EOS → A1 = [0.65, 0.25], A2 = [−0.65]', () => {
    const b = batchOf([
      { outcome: 0, steps: stepsOf([1, 0.5]) },
      { outcome: 0, steps: stepsOf([0.2]) },
    ]);
    const out = buildCredit({ method: 'prorl', outcome: 'ignore' }).compute(b);
    expectClose(out.advantage, [0.65, 0.25, -0.65]);
    expectClose(out.returns, [1.5, 0.2]);
    // Without the EOS position, position 1 has only rollout 1 active: A = 0 there.
    expectClose(buildCredit({ method: 'prorl', outcome: 'ignore', eos: false }).compute(b).advantage, [0.65, 0, -0.65]);
  });

  it('baselines per group unless baseline: batch; null outcomes are left out', () => {
    const b = batchOf([
      { group: 'a', outcome: 1, steps: stepsOf([0]) },
      { group: 'b', outcome: 0, steps: stepsOf([0]) },
      { group: 'a', outcome: null, steps: stepsOf([5]) },
    ]);
    expectClose(buildCredit({ method: 'prorl' }).compute(b).advantage, [0, 0, 0]);
    expectClose(buildCredit({ method: 'prorl', baseline: 'batch' }).compute(b).advantage, [0.5, -0.5, 0]);
  });

  it('center: step rewards are centred with running stats (std floor 0.1) before the returns', () => {
    const b = batchOf([
      { outcome: 0, steps: stepsOf([1, 3]) },
      { outcome: 0, steps: stepsOf([2]) },
    ]);
    const credit = buildCredit({ method: 'prorl', outcome: 'ignore', center: {} });
    const out = credit.compute(b);
    // μ = 2, σ = 1 → centred [−1, 1], [0]; G = [0, 1], [0]; b = [0, (1 + 0)/2] (EOS of rollout 2 at t = 1).
    expectClose(out.reward, [-1, 1, 0]);
    expectClose(out.advantage, [0, 0.5, 0]);
    // Stats persist: a second batch [2, 2] with μ = 2 over 5 values centres to 0.
    const saved = JSON.parse(JSON.stringify(credit.state!.save()));
    expect(saved).toEqual({ count: 3, mean: 2, m2: 2 });
    expectClose(credit.compute(batchOf([{ outcome: 0, steps: stepsOf([2, 2]) }])).reward, [0, 0]);
    // A restarted instance with the saved state centres as the long-running one did.
    const restarted = buildCredit({ method: 'prorl', outcome: 'ignore', center: {} });
    restarted.state!.load(saved);
    expectClose(restarted.compute(batchOf([{ outcome: 0, steps: stepsOf([2, 2]) }])).reward, [0, 0]);
    expect(restarted.state!.save()).toEqual(credit.state!.save());
    expect(buildCredit({ method: 'prorl' }).state).toBeUndefined();
  });

  it('property: at every position the advantages of the active rollouts (EOS included) sum to 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ g: fc.integer({ min: 0, max: 1 }), r: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { maxLength: 5 }) }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, eos, gamma) => {
          const b = batchOf(xs.map((x) => ({ group: `g${x.g}`, outcome: 0, steps: stepsOf(x.r) })));
          const out = buildCredit({ method: 'prorl', outcome: 'ignore', eos, gamma }).compute(b);
          for (const g of [0, 1]) {
            for (let t = 0; t <= 5; t++) {
              let sum = 0;
              let scale = 1;
              let baseline: number | undefined;
              let eosCount = 0;
              xs.forEach((x, i) => {
                if (x.g !== g) return;
                if (t < x.r.length) {
                  const a = out.advantage[b.offsets[i] + t];
                  let G = 0;
                  for (let k = x.r.length - 1; k >= t; k--) G = x.r[k] + gamma * G;
                  baseline = G - a;
                  sum += a;
                  scale += Math.abs(a);
                } else if (t === x.r.length && eos) eosCount++;
              });
              if (baseline === undefined) continue;
              sum -= eosCount * baseline;
              expect(Math.abs(sum)).toBeLessThanOrEqual(1e-9 * scale);
            }
          }
        },
      ),
    );
  });
});
