import * as z from 'zod';
import { baseStepRewards, checkStepBatch, defineCredit, newOutput, outcomeParam, voidRollout } from './types.js';

/**
 * `vgpo` — VGPO's Temporal Cumulative Reward with its Adaptive Dual Advantage, per step:
 * "Anchoring Values in Temporal and Group Dimensions for Flow Matching Model Alignment" (Shao et al.,
 * arXiv 2512.12387; Value-Anchored Group Policy Optimization). Reference: mechanics-A §15,
 * mechanics-C §7 (setup confirmed [SEC]; the equations were not reachable).
 *
 * **[INF] reading** (what it assumes): each step t carries an instant reward `r_t` — the step's
 * `reward`, e.g. the reward model's score of the one-step prediction of the final output from the
 * state at t (VGPO's process-aware value estimate of a denoising stage) — and the terminal reward R
 * is added on the last step (`outcome: last_step`). The temporal cumulative reward of step t is the
 * expected cumulative reward from that stage on, `Q_t = Σ_{k≥t} γ^{k−t} r_k`. Rollouts of a group
 * share the step schedule (the same denoising timesteps), so the relative term compares step t of
 * every rollout of the group: `A_{i,t} = (Q_{i,t} − mean_g,t)/(std_g,t + eps) + λ·(Q_{i,t} − anchor)`
 * (sample std; a step index held by one rollout of the group has mean 0 and std 1, as in verl's
 * GRPO). The absolute term keeps a signal when every rollout of the group scores the same (std 0).
 * `threshold` (off by default) restricts the absolute term to (group, step) cells whose std is below
 * it. The rollout-level form (no steps) is `advantage: {estimator: grpo, value_anchor: …}`.
 *
 * Step rewards written out: r_t; the return is Q_0. A null outcome gives NaN rewards and advantage 0.
 *
 * @example
 * # γ = 1, λ = 1, anchor 0.5; rollout A: step rewards [0.1, 0.2, 0], R = 0.6 → r = [0.1, 0.2, 0.6], Q = [0.9, 0.8, 0.6]
 * # rollout B: step rewards [0.3, 0.1, 0], R = 0.2 → r = [0.3, 0.1, 0.2], Q = [0.6, 0.3, 0.2]
 * # every step: z = ±0.7071 → A = [1.1071, 1.0071, 0.8071], B = [−0.6071, −0.9071, −1.0071]
 */
export const vgpoCredit = defineCredit({
  method: 'vgpo',
  summary: 'VGPO [INF]: temporal cumulative reward Q_t = Σ_{k≥t} γ^{k−t} r_k; A = group z-score of Q_t per step index + λ·(Q_t − anchor).',
  params: {
    gamma: z.number().gt(0).lte(1).default(1).describe('Discount γ of the cumulative reward Q_t.'),
    outcome: outcomeParam,
    weight: z.number().default(1).describe('λ, weight of the absolute term Q_t − anchor (0 = relative term only).'),
    anchor: z.number().default(0).describe('Reference value of the absolute term.'),
    threshold: z.number().nonnegative().optional().describe('Project variant, off by default: add the absolute term only where the (group, step) std is below this.'),
    eps: z.number().nonnegative().default(1e-6).describe('Added to the std (verl 1e-6).'),
  },
  create(p) {
    const g = p.gamma;
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        const r = baseStepRewards(b, p.outcome, out.reward);
        const { offsets, groupOf } = b;
        const n = b.outcome.length;
        const total = offsets[n];
        const Q = new Float64Array(total);
        let T = 0;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          T = Math.max(T, e - s);
          if (b.outcome[i] !== b.outcome[i]) continue;
          let acc = 0;
          for (let k = e - 1; k >= s; k--) {
            acc = r[k] + g * acc;
            Q[k] = acc;
          }
          out.returns[i] = e > s ? Q[s] : b.outcome[i];
        }
        // Per (group, step index): count, mean, sum of squared deviations.
        const G = b.groupCount;
        const cnt = new Float64Array(G * T);
        const mean = new Float64Array(G * T);
        const m2 = new Float64Array(G * T);
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          for (let k = offsets[i]; k < offsets[i + 1]; k++) {
            const c = groupOf[i] * T + (k - offsets[i]);
            cnt[c]++;
            const d = Q[k] - mean[c];
            mean[c] += d / cnt[c];
            m2[c] += d * (Q[k] - mean[c]);
          }
        }
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          if (b.outcome[i] !== b.outcome[i]) {
            voidRollout(out, i, s, e);
            continue;
          }
          for (let k = s; k < e; k++) {
            const c = groupOf[i] * T + (k - s);
            const one = cnt[c] <= 1;
            const sd = one ? 1 : Math.sqrt(m2[c] / (cnt[c] - 1));
            const mu = one ? 0 : mean[c];
            let a = (Q[k] - mu) / (sd + p.eps || 1);
            if (p.threshold === undefined || (one ? 0 : sd) < p.threshold) a += p.weight * (Q[k] - p.anchor);
            out.advantage[k] = a;
          }
        }
        return out;
      },
    };
  },
});
