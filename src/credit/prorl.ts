import * as z from 'zod';
import { StepwiseCentring } from './centring.js';
import { baseStepRewards, checkStepBatch, defineCredit, newOutput, outcomeParam } from './types.js';

/**
 * `prorl` — ProRL's Position-Specific Advantage (repo hongruhou89/ProRL, `trainer_RL_prorl.py`):
 * `G_{i,t} = Σ_{k≥t} γ^{k−t} r_{i,k}`, `b_t` = mean of G_{·,t} over the rollouts still active at
 * position t (of the same group, or of the whole batch with `baseline: batch`; count clamped ≥ 1),
 * `A_{i,t} = G_{i,t} − b_t`. With `eos` (ProRL's default), a rollout of L steps is also active at
 * position L (its EOS position) with G = 0, which enters the baseline but carries no step.
 * r_{i,k} is the step's given reward (missing = 0) plus, with `outcome: last_step`, the episode
 * reward on the last step. The return per rollout is G_{i,0}. At every position the advantages of
 * the active rollouts (EOS positions included) sum to 0.
 * With `center`, the steps' given rewards are first centred by ProRL's Stepwise Reward Centering
 * ({@link StepwiseCentring}: running mean/std over every batch this instance has seen, std floor
 * `min_std`; the stats are updated with the batch's present step rewards of non-null rollouts before
 * centring unless `frozen`) — that makes the instance stateful across calls (`state` saves, loads and
 * resets the running stats). Missing step rewards stay 0.
 * ProRL's multi-metric fusion and hallucination/duplicate preprocessing are left to the graders.
 * Reference: mechanics-A §11 [SRC].
 *
 * @example
 * # r1 = [1.0, 0.5], r2 = [0.2] (EOS at t = 1), γ = 1: G1 = [1.5, 0.5], G2 = [0.2, 0]; b = [0.85, 0.25]
 * # → A1 = [0.65, 0.25], A2 = [−0.65] (and −0.25 at its EOS)
 */
export const prorlCredit = defineCredit({
  method: 'prorl',
  summary: 'ProRL position-specific advantage: return from t minus the mean return of rollouts active at t.',
  params: {
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount γ of the return from t (ProRL prorl_gamma = 1).'),
    outcome: outcomeParam,
    baseline: z.enum(['group', 'batch']).default('group').describe('Average over the active rollouts of the same group, or of the whole batch.'),
    eos: z.boolean().default(true).describe('A rollout stays active one position past its last step with return 0 (ProRL EOS position).'),
    center: z
      .strictObject({
        min_std: z.number().positive().default(0.1).describe('Std floor (ProRL mo_min_std 0.1).'),
        frozen: z.boolean().default(false).describe('Do not update the running stats.'),
      })
      .optional()
      .describe('ProRL stepwise reward centring of the step rewards with running stats (stateful across calls).'),
  },
  create(p) {
    let centrer: StepwiseCentring | undefined;
    if (p.center !== undefined) {
      centrer = new StepwiseCentring(p.center.min_std);
      centrer.frozen = p.center.frozen;
    }
    return {
      ...(centrer !== undefined ? { state: centrer } : {}),
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        let src = b;
        if (centrer !== undefined) {
          const given = b.reward.slice();
          for (let i = 0; i < b.outcome.length; i++) if (b.outcome[i] !== b.outcome[i]) given.fill(NaN, b.offsets[i], b.offsets[i + 1]);
          centrer.update(given);
          src = { ...b, reward: centrer.apply(b.reward) };
        }
        const r = baseStepRewards(src, p.outcome, out.reward);
        const { offsets } = b;
        const n = b.outcome.length;
        const a = out.advantage;
        // Returns-to-go into `a` first.
        let maxLen = 0;
        for (let i = 0; i < n; i++) {
          let acc = 0;
          const s = offsets[i];
          const e = offsets[i + 1];
          maxLen = Math.max(maxLen, e - s);
          for (let k = e - 1; k >= s; k--) {
            acc = r[k] + p.gamma * acc;
            a[k] = acc;
          }
        }
        const G = p.baseline === 'group' ? b.groupCount : 1;
        const P = maxLen + 1;
        const sum = new Float64Array(G * P);
        const cnt = new Float64Array(G * P);
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          const g = p.baseline === 'group' ? b.groupOf[i] : 0;
          const s = offsets[i];
          const L = offsets[i + 1] - s;
          for (let t = 0; t < L; t++) {
            sum[g * P + t] += a[s + t];
            cnt[g * P + t]++;
          }
          if (p.eos) cnt[g * P + L]++;
        }
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const L = offsets[i + 1] - s;
          if (b.outcome[i] !== b.outcome[i]) {
            a.fill(NaN, s, s + L);
            out.returns[i] = NaN;
            continue;
          }
          out.returns[i] = L > 0 ? a[s] : p.outcome === 'last_step' ? b.outcome[i] : 0;
          const g = p.baseline === 'group' ? b.groupOf[i] : 0;
          for (let t = 0; t < L; t++) a[s + t] -= sum[g * P + t] / Math.max(1, cnt[g * P + t]);
        }
        return out;
      },
    };
  },
});
