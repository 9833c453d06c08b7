import * as z from 'zod';
import {
  baseStepRewards,
  checkStepBatch,
  defineCredit,
  discountedReturns,
  newOutput,
  outcomeParam,
  stepAdvantage,
  stepAdvantageParam,
  whitenParam,
} from './types.js';

/**
 * `potential` — potential-based reward shaping per step (Ng, Harada & Russell, "Policy invariance
 * under reward transformations: theory and application to reward shaping", ICML 1999; used for
 * multi-turn agents with a progress score as Φ, e.g. Robo-Dopamine). Step t is taken in state s_t
 * and `steps[t].potential` = Φ(s_t); the state after the last step is terminal, Φ(s_T) =
 * `terminal_potential` (0 keeps the optimal policy unchanged). Each step's reward becomes
 * `r'_t = r_t + γ·Φ(s_{t+1}) − Φ(s_t)` where r_t is the step's given reward (missing = 0) plus, with
 * `outcome: last_step`, the episode reward on the last step. The return is Σ_t γ^t r'_t, which
 * telescopes to the original return + γ^T Φ(s_T) − Φ(s_0). A rollout without any potential is left
 * unshaped; one with some but not all potentials is an error.
 *
 * Advantage: `reward_to_go` (default) — G_t = Σ_{k≥t} γ^{k−t} r'_k per step, whitened over all steps
 * of the batch when `whiten` (REINFORCE++-style, mechanics-A §0.4), so the per-step shaping terms
 * move credit between steps; `grpo`/`rloo` — the group advantage of the shaped return broadcast to
 * every step (with a shared Φ(s_0) and Φ(s_T) = 0 this equals the unshaped advantage).
 * Reference: mechanics-A §0.6 [textbook]; the project's `shape/potential.ts` does the rollout-level form.
 *
 * @example
 * # Φ = [0, 0.5, 1] (Φ(s_3) = 0), γ = 1, rewards 0 → shaped rewards [0.5, 0.5, −1], sum 0 = −Φ(s_0)
 */
export const potentialCredit = defineCredit({
  method: 'potential',
  summary: 'Potential-based shaping per step: r + γΦ(s_{t+1}) − Φ(s_t), Φ(terminal) = terminal_potential.',
  params: {
    gamma: z.number().gt(0).lte(1).default(1).describe('Discount γ of the shaping term and of the return.'),
    terminal_potential: z.number().default(0).describe('Φ of the terminal state after the last step (0 keeps the optimal policy).'),
    outcome: outcomeParam,
    advantage: stepAdvantageParam,
    whiten: whitenParam,
  },
  create(p) {
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    const g = p.gamma;
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        const r = baseStepRewards(b, p.outcome, out.reward);
        const { offsets, potential: phi } = b;
        const n = b.outcome.length;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          let have = 0;
          for (let k = s; k < e; k++) if (phi[k] === phi[k]) have++;
          if (have === 0) continue;
          if (have < e - s) {
            let k = s;
            while (phi[k] === phi[k]) k++;
            throw new RangeError(`rollout ${i}: steps[${k - s}].potential is missing; every step needs a potential once one step has one`);
          }
          for (let k = s; k < e; k++) {
            const next = k + 1 < e ? phi[k + 1] : p.terminal_potential;
            r[k] += g * next - phi[k];
          }
        }
        discountedReturns(b, r, g, out.returns, b.outcome);
        if (p.outcome === 'ignore') for (let i = 0; i < n; i++) if (offsets[i + 1] === offsets[i] && out.returns[i] === out.returns[i]) out.returns[i] = 0;
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
