import { describe, expect, it } from 'vitest';
import { stepDiagnostics } from './diagnostics.js';
import { buildCredit } from './registry.js';
import { batchOf, stepsOf } from './testing.js';

describe('stepDiagnostics', () => {
  it('counts credited steps, non-zero shares and credit by position (G-RA: a failed episode gets no step credit)', () => {
    const b = batchOf([
      { outcome: 1, steps: stepsOf([0.2, 0.3, 0]) },
      { outcome: -1, steps: stepsOf([0.2, 0.3]) },
      { outcome: null, steps: stepsOf([1]) },
      { outcome: 0 },
    ]);
    const out = buildCredit({ method: 'gated', threshold: 0 }).compute(b);
    const d = stepDiagnostics(b, out);
    expect(d).toMatchObject({ steps: 5, null_steps: 1, rollouts_with_steps: 3, mean_steps: 2, fold_at: 32 });
    // Rewards: [0.2, 0.3, 1], [0, −1]; returns 1.5, −1 and 0 (no steps) → advantages + for rollout 0, − for rollout 1.
    expect(d.share_nonzero_reward).toBeCloseTo(4 / 5, 12);
    expect(d.share_nonzero_credit).toBe(1);
    expect(d.share_positive_credit).toBeCloseTo(3 / 5, 12);
    expect(d.credit_by_position.map((p) => p.position)).toEqual([0, 1, 2]);
    expect(d.credit_by_position.map((p) => p.count)).toEqual([2, 2, 1]);
    expect(d.credit_by_position[0].mean_reward).toBeCloseTo(0.1, 12);
    expect(d.credit_by_position[1].mean_reward).toBeCloseTo(-0.35, 12);
    expect(d.credit_by_position[0].mean_advantage).toBeCloseTo((out.advantage[0] + out.advantage[3]) / 2, 12);
    expect(out.advantage[0]).toBeGreaterThan(0);
    expect(out.advantage[3]).toBeLessThan(0);
    expect(d.credit_by_position[2].mean_advantage).toBeCloseTo(out.advantage[2], 12);
  });

  it('folds positions at and beyond fold_at into the last bucket; empty batches give nulls', () => {
    const b = batchOf([{ outcome: 1, steps: stepsOf([1, 2, 3, 4, 5]) }]);
    const out = { reward: Float64Array.of(1, 2, 3, 4, 5), advantage: Float64Array.of(0, 0, 1, 1, 1), returns: Float64Array.of(15) };
    const d = stepDiagnostics(b, out, { foldAt: 2 });
    expect(d.credit_by_position).toEqual([
      { position: 0, mean_reward: 1, mean_advantage: 0, count: 1 },
      { position: 1, mean_reward: 2, mean_advantage: 0, count: 1 },
      { position: 2, mean_reward: 4, mean_advantage: 1, count: 3 },
    ]);
    expect(d.share_nonzero_credit).toBeCloseTo(0.6, 12);
    const empty = batchOf([{ outcome: 1 }]);
    expect(stepDiagnostics(empty, buildCredit({ method: 'outcome' }).compute(empty))).toEqual({
      steps: 0,
      null_steps: 0,
      rollouts_with_steps: 0,
      mean_steps: null,
      share_nonzero_credit: null,
      share_positive_credit: null,
      share_nonzero_reward: null,
      fold_at: 32,
      credit_by_position: [],
    });
    expect(() => stepDiagnostics(b, { ...out, reward: new Float64Array(2) })).toThrow(/2 rewards and 5 advantages for 5 steps/);
    expect(() => stepDiagnostics(b, out, { foldAt: 0 })).toThrow(/foldAt/);
  });
});

describe('StepCreditTally', () => {
  it('merging per-batch tallies gives exactly the diagnostics of one tally over every batch', async () => {
    const { StepCreditTally } = await import('./diagnostics.js');
    const credit = buildCredit({ method: 'gated', threshold: 0 });
    const b1 = batchOf([{ outcome: 1, steps: stepsOf([0.2, 0.3, 0]) }, { outcome: -1, steps: stepsOf([0.2, 0.3]) }]);
    const b2 = batchOf([{ outcome: 1, steps: stepsOf([0.5]) }, { outcome: null, steps: stepsOf([1, 1, 1, 1]) }, { outcome: 0, steps: stepsOf([0, 0]) }]);
    const o1 = credit.compute(b1);
    const o2 = credit.compute(b2);
    const merged = new StepCreditTally({ foldAt: 2 }).merge(new StepCreditTally({ foldAt: 2 }).add(b1, o1)).merge(new StepCreditTally({ foldAt: 2 }).add(b2, o2)).result();
    const direct = new StepCreditTally({ foldAt: 2 }).add(b1, o1).add(b2, o2).result();
    expect(merged).toEqual(direct);
    expect(direct).toMatchObject({ steps: 8, null_steps: 4, rollouts_with_steps: 5, fold_at: 2 });
    expect(direct.credit_by_position.map((p) => p.count)).toEqual([4, 3, 1]);
    expect(() => new StepCreditTally({ foldAt: 2 }).merge(new StepCreditTally({ foldAt: 3 }))).toThrow(/folded at 3 and 2/);
  });
});
