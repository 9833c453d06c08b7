import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from '../advantage/batch.js';
import { buildEstimator } from '../advantage/registry.js';
import { rankConsistency } from './comam.js';
import { buildCredit } from './registry.js';
import { batchOf, expectClose } from './testing.js';

const grpo = (xs: number[]) =>
  Array.from(buildEstimator({ estimator: 'grpo' }).compute(buildAdvantageBatch({ rewards: xs, groups: xs.map(() => 'g') }).batch));

/** Two agents per rollout: `mem` (one step) then `qa` (one step), with the given local rewards. */
function twoAgents(mem: number[], qa: number[], outcomes: number[]) {
  return batchOf(outcomes.map((o, i) => ({ outcome: o, steps: [{ agent: 'mem', reward: mem[i] }, { agent: 'qa', reward: qa[i] }] })));
}

describe('comam credit (rank-consistency weights across agents)', () => {
  it('mechanics-B §23 example: local [0.2, 0.5, 0.9, 0.4] vs global [0, 1, 1, 0] → Spearman 0.894', () => {
    expect(rankConsistency([0.2, 0.5, 0.9, 0.4], [0, 1, 1, 0], 'spearman')).toBeCloseTo(4 / Math.sqrt(20), 12);
    expect(rankConsistency([0.2, 0.5, 0.9, 0.4], [0, 1, 1, 0], 'kendall')).toBeCloseTo(4 / Math.sqrt(24), 12);
    expect(rankConsistency([1, 2, 3], [10, 20, 30], 'spearman')).toBeCloseTo(1, 12);
    expect(rankConsistency([1, 2, 3], [3, 2, 1], 'kendall')).toBeCloseTo(-1, 12);
    expect(rankConsistency([1, 2, 3], [1, 1, 1], 'spearman')).toBeNaN();
    expect(rankConsistency([1], [1], 'spearman')).toBeNaN();
  });

  it('each agent gets its local reward plus w·R on its last step; advantages are per agent', () => {
    const mem = [0.2, 0.5, 0.9, 0.4];
    const qa = [0.9, 0.1, 0.2, 0.8];
    const R = [0, 1, 1, 0];
    const b = twoAgents(mem, qa, R);
    const w = 4 / Math.sqrt(20);
    const out = buildCredit({ method: 'comam' }).compute(b);
    // qa ranks the rollouts against the outcome (ρ = −0.894): clipped to 0.
    expectClose(out.reward, mem.flatMap((m, i) => [m + w * R[i], qa[i]]));
    expectClose(out.returns, mem.map((m, i) => m + w * R[i] + qa[i]));
    const aMem = grpo(mem.map((m, i) => m + w * R[i]));
    const aQa = grpo(qa);
    expectClose(out.advantage, aMem.flatMap((a, i) => [a, aQa[i]]));
    const soft = buildCredit({ method: 'comam', weights: 'softmax', temperature: 0.5 }).compute(b);
    const wm = Math.exp(w / 0.5) / (Math.exp(w / 0.5) + Math.exp(-w / 0.5));
    expectClose(soft.reward, mem.flatMap((m, i) => [m + wm * R[i], qa[i] + (1 - wm) * R[i]]));
  });

  it('a constant global reward gives w = 0; local rewards from a signal; a step without an agent is an error', () => {
    const b = twoAgents([0.1, 0.2], [0.3, 0.4], [1, 1]);
    expectClose(buildCredit({ method: 'comam' }).compute(b).reward, [0.1, 0.3, 0.2, 0.4]);
    const s = batchOf([{ outcome: 1, steps: [{ agent: 'a' }, { agent: 'a' }] }, { outcome: 0, steps: [{ agent: 'a' }] }], { recall: [0.5, 0.4, 0.1] });
    expectClose(buildCredit({ method: 'comam', local: 'recall' }).compute(s).reward, [0.5, 0.4 + 1, 0.1]);
    const bad = batchOf([{ outcome: 1, steps: [{ agent: 'a' }, {}] }]);
    expect(() => buildCredit({ method: 'comam' }).compute(bad)).toThrow(/rollout 0: steps\[1\] has no agent; comam needs an agent on every step/);
  });

  it('property: w = 1 when an agent ranks the rollouts as the outcome does, 0 when reversed; rewards sum to the returns', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 8 }), fc.constantFrom('spearman' as const, 'kendall' as const), (xs, correlation) => {
        const local = xs.map((x) => x / 100);
        const agreeing = twoAgents(local, local.map(() => 0), local.map((l) => 2 * l + 1));
        const out = buildCredit({ method: 'comam', correlation }).compute(agreeing);
        local.forEach((l, i) => expectClose([out.reward[2 * i]], [l + (2 * l + 1)], 1e-9));
        const reversed = buildCredit({ method: 'comam', correlation }).compute(twoAgents(local, local.map(() => 0), local.map((l) => 1 - l)));
        local.forEach((l, i) => {
          expectClose([reversed.reward[2 * i]], [l], 1e-12);
          expectClose([reversed.returns[i]], [reversed.reward[2 * i] + reversed.reward[2 * i + 1]], 1e-12);
        });
      }),
    );
  });
});
