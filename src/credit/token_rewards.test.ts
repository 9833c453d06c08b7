import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addTokenSignal, contrastiveTokenRewards, negLogSigmoid, tgdpoLoss, tgdpoTokenRewards, tgdpoTokenWeights, tregLoss } from './token_rewards.js';
import { expectClose } from './testing.js';

const BETA = 0.1;
const ALPHA = 0.5;
/** mechanics-B §11: ρ^w [0.5, −0.2], r̂^w [2, −1], ρ^l [−0.3, 0.4], r̂^l [1, 3]; token rewards r = β·r̂. */
const worked = {
  rhoChosen: [0.5, -0.2],
  rewardChosen: [2, -1].map((x) => BETA * x),
  rhoRejected: [-0.3, 0.4],
  rewardRejected: [1, 3].map((x) => BETA * x),
};

describe('TGDPO', () => {
  it('mechanics-B §11 worked example: z_w 0.036, z_l 0.0055, z 0.0305, loss 0.6780; plain DPO z 0.02, loss 0.6832', () => {
    const t = tgdpoLoss(worked, BETA, ALPHA);
    expect(t.zChosen).toBeCloseTo(0.036, 14);
    expect(t.zRejected).toBeCloseTo(0.0055, 14);
    expect(t.z).toBeCloseTo(0.0305, 14);
    expect(t.loss).toBeCloseTo(0.678, 4);
    expect(t.loss).toBeCloseTo(Math.log1p(Math.exp(-0.0305)), 14);
    const dpo = tgdpoLoss(worked, BETA, 0);
    expect(dpo.z).toBeCloseTo(0.02, 14);
    expect(dpo.loss).toBeCloseTo(0.6832, 4);
  });

  it('token rewards from the two models\' log-probs, and the loss weights 1 ± α·r_t', () => {
    // log π_RM − log π_ref = r̂: [2, −1] for chosen tokens.
    const r = tgdpoTokenRewards([-1, -3], [-3, -2], BETA);
    expectClose(r, worked.rewardChosen, 1e-14);
    expectClose(tgdpoTokenWeights(r, ALPHA, 'chosen'), [1.1, 0.95], 1e-14);
    expectClose(tgdpoTokenWeights(worked.rewardRejected, ALPHA, 'rejected'), [0.95, 0.85], 1e-14);
    expect(() => tgdpoTokenRewards([-1], [-1, -2], BETA)).toThrow(/1 vs 2 tokens/);
  });

  it('α = 0 is exactly DPO; the loss falls as a chosen token\'s log-ratio rises when its weight is positive (property)', () => {
    const arr = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(arr, arr, fc.double({ min: 0.01, max: 1, noNaN: true }), (rw, rl, beta) => {
        const pair = { rhoChosen: rw, rewardChosen: rw.map(() => 0.3), rhoRejected: rl, rewardRejected: rl.map(() => -0.2) };
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        expect(tgdpoLoss(pair, beta, 0).loss).toBeCloseTo(negLogSigmoid(beta * (sum(rw) - sum(rl))), 12);
        const up = { ...pair, rhoChosen: rw.map((x, i) => (i === 0 ? x + 0.5 : x)) };
        expect(tgdpoLoss(up, beta, ALPHA).loss).toBeLessThan(tgdpoLoss(pair, beta, ALPHA).loss);
      }),
    );
  });
});

describe('T-REG ([INF] reading)', () => {
  it('contrastive token rewards: log p_better − log p_worse, normalised per token (sigmoid), by the largest (max_abs), or raw', () => {
    expectClose(contrastiveTokenRewards([-0.5, -2], [-1, -1], 'none'), [0.5, -1], 1e-14);
    expectClose(contrastiveTokenRewards([-0.5, -2], [-2.5, -1], 'max_abs'), [1, -0.5], 1e-14);
    expectClose(contrastiveTokenRewards([-0.5, -2], [-1, -1], 'sigmoid'), [1 / (1 + Math.exp(-0.5)) - 0.5, 1 / (1 + Math.exp(1)) - 0.5], 1e-14);
    expectClose(contrastiveTokenRewards([-1, -1], [-1, -1], 'max_abs'), [0, 0], 0);
  });

  it('λ = 0 is DPO; the regulariser is 0 when β·ρ_t equals the token rewards and grows with the gap', () => {
    const pair = { rhoChosen: [0.5, -0.2], rewardChosen: [0.05, 0], rhoRejected: [-0.3, 0.4], rewardRejected: [0, 0.04] };
    const t = tregLoss(pair, BETA, 0);
    expect(t.loss).toBe(tgdpoLoss(pair, BETA, 0).loss);
    expect(t.dpo).toBeCloseTo(0.6832, 4);
    expect(t.reg).toBeCloseTo(0.5 * (0.0004 / 2 + 0.0009 / 2), 14);
    expect(tregLoss(pair, BETA, 2).loss).toBeCloseTo(t.dpo + 2 * t.reg, 14);
    const exact = { rhoChosen: [0.5, -0.2], rewardChosen: [0.05, -0.02], rhoRejected: [-0.3], rewardRejected: [-0.03] };
    expect(tregLoss(exact, BETA, 1).reg).toBeCloseTo(0, 14);
  });
});

describe('addTokenSignal', () => {
  it('adds weight × signal to the sparse placement; NaN stays NaN; lengths must agree', () => {
    expectClose(addTokenSignal(Float64Array.of(0, 0, 1), [0.1, -0.2, 0.05], 2), [0.2, -0.4, 1.1], 1e-14);
    expectClose(addTokenSignal(Float64Array.of(0, NaN), [1, 1], 1), [1, NaN]);
    expect(() => addTokenSignal(new Float64Array(3), [1, 2], 1)).toThrow(/2 tokens for a response of 3/);
  });
});
