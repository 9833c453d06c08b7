import * as z from 'zod';
import { baseStepRewards, checkStepBatch, defineCredit, discountedReturns, newOutput, outcomeParam, whitenSteps } from './types.js';

/**
 * `gae` — Generalized Advantage Estimation over the steps of a rollout ("High-Dimensional Continuous
 * Control Using Generalized Advantage Estimation", Schulman et al., 2016), as verl's
 * `compute_gae_advantage_return` with one step per token position (the multi-turn form of
 * meow-tea-taro, which skips observation tokens, amounts to the same recursion over the steps):
 * `δ_t = r_t + γ·V_{t+1} − V_t` (V_T := 0), `A_t = δ_t + γλ·A_{t+1}`. r_t is the step's given reward
 * (missing = 0) plus, with `outcome: last_step`, the episode reward on the last step; V_t is the
 * step's `value`, required on every step. Then, when `whiten` (verl default), the advantages are
 * whitened over every step of the batch: (A − μ)/√(var + 1e-8), Bessel-corrected. The return per
 * rollout is Σ_t γ^t r_t (the per-step critic targets would be A_t + V_t before whitening).
 * Unlike GRPO/RLOO, GAE sees where rewards are placed, so dense and sparse rewards with the same
 * total give different advantages (the Practitioner's Guide's point). Reference: mechanics-A §0.5 [SRC].
 *
 * @example
 * # r = [0, 0, 1], V = [0.5, 0.6, 0.8], γ = 1, λ = 0.95 → raw A = [0.4705, 0.39, 0.20]
 */
export const gaeCredit = defineCredit({
  method: 'gae',
  summary: 'GAE over steps with values: δ = r + γV′ − V, A = δ + γλA′, optionally whitened over the batch.',
  params: {
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount γ (verl/PAR default 1).'),
    lambda: z.number().gte(0).lte(1).default(0.95).describe('GAE λ (PAR default 0.95).'),
    outcome: outcomeParam,
    whiten: z.boolean().default(true).describe('Whiten the advantages over every step of the batch (verl masked_whiten).'),
  },
  create(p) {
    const { gamma, lambda } = p;
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        const r = baseStepRewards(b, p.outcome, out.reward);
        const { offsets, value: V } = b;
        const a = out.advantage;
        const n = b.outcome.length;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          if (b.outcome[i] !== b.outcome[i]) {
            a.fill(NaN, s, e);
            continue;
          }
          for (let k = s; k < e; k++) {
            if (V[k] !== V[k]) throw new RangeError(`rollout ${i}: steps[${k - s}].value is missing; gae needs a value on every step`);
          }
          let last = 0;
          let nextV = 0;
          for (let k = e - 1; k >= s; k--) {
            const delta = r[k] + gamma * nextV - V[k];
            last = delta + gamma * lambda * last;
            a[k] = last;
            nextV = V[k];
          }
        }
        discountedReturns(b, r, gamma, out.returns, b.outcome);
        if (p.outcome === 'ignore') for (let i = 0; i < n; i++) if (offsets[i + 1] === offsets[i] && out.returns[i] === out.returns[i]) out.returns[i] = 0;
        if (p.whiten) whitenSteps(a);
        return out;
      },
    };
  },
});
