import * as z from 'zod';
import { checkStepBatch, defineCredit, missingStepValue, newOutput, signalOf, voidRollout } from './types.js';

/**
 * `igpo` — information-gain turn rewards ("Information Gain-based Policy Optimization", IGPO; repo
 * GuoqingWang1/IGPO: `scrl/llm_agent/generation.py`, `verl/utils/reward_score/info_gain.py`,
 * `verl/trainer/ppo/core_algos.py`). The step signal `signal` holds p_t, the probability of the gold
 * answer given the conversation after step t, from a step-scoped `likelihood` grader. IGPO uses the
 * geometric mean of the answer's token probabilities, exp(mean log-prob); the grader's `prob`
 * variant is their product exp(Σ log-prob), which ranks the same within a question but shrinks with
 * the answer's length. Each step but the last earns its
 * information gain `IG_t = p_t − p_{t−1}` (p before the first step = `prior`); the last step earns
 * `outcome_weight` × the episode reward (IGPO: α = 1 times the answer's F1) and no gain, so its p is
 * not read. Σ IG telescopes to p_{T−2} − prior.
 *
 * Advantage, `variant: released` [SRC, the released code]: the return from each step,
 * `G_{i,t} = Σ_{k≥t} γ^{k−t} r_{i,k}` (γ = 1 in the code), minus the per-position mean of G over the
 * group's non-null rollouts, a rollout that has ended before position t counting as 0 (the padded
 * positions of the released token-level code); no std division. The position is the step index
 * (the code's positions are tokens). With equal outcomes across the group the gains still give
 * non-zero advantages, which is IGPO's fix for advantage collapse. `prior` is the same for every
 * rollout of a group (the prompt alone), so it cancels whenever all of the group's rollouts have
 * two or more steps.
 * `variant: paper` [INF, the paper form as read in mechanics-A §12, unverified]: z-normalise every
 * step reward of the group together (mean, sample std + `eps`; a group with one step reward keeps it),
 * then `A_{i,t} = Σ_{k≥t} γ^{k−t} r̃_{i,k}`.
 * Step rewards written out are the raw IG / outcome rewards; the return is Σ_t γ^t r_t (a rollout
 * without steps: `outcome_weight` × the episode reward, and 0 at every position of the baseline).
 * Reference: mechanics-A §12 [SRC for the code; paper form INF].
 *
 * @example
 * # p = [0.10 (prior), 0.30, 0.25], F1 = 1 → turn rewards [0.2, −0.05, 1.0]; return from turn 1 = 1.15
 */
export const igpoCredit = defineCredit({
  method: 'igpo',
  summary: 'IGPO information gain: each turn earns the rise in the probability of the gold answer; returns centred per position in the group.',
  params: {
    signal: z.string().min(1).describe('Step signal: probability of the gold answer after each step (a step-scoped likelihood grader; IGPO: exp of the mean token log-prob).'),
    prior: z.number().default(0).describe('p before the first step (IGPO: the gold answer’s probability given the prompt alone).'),
    outcome_weight: z.number().default(1).describe('α: the last step earns α × the episode reward (IGPO α = 1, reward = F1).'),
    variant: z
      .enum(['released', 'paper'])
      .default('released')
      .describe('released: return minus its per-position group mean (the authors’ code); paper: group z-normalised turn rewards, then discounted sums (inferred).'),
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount of the returns (the released code uses 1).'),
    eps: z.number().nonnegative().default(1e-6).describe('paper variant: added to the group std.'),
  },
  signals: (p) => [{ param: 'signal', signal: p.signal }],
  create(p) {
    const gamma = p.gamma;
    return {
      compute(b) {
        checkStepBatch(b);
        const P = signalOf(b, p.signal, 'signal');
        const out = newOutput(b);
        const { offsets } = b;
        const n = b.outcome.length;
        const r = out.reward;
        const a = out.advantage;
        let maxLen = 0;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const o = b.outcome[i];
          if (o !== o) {
            voidRollout(out, i, s, e);
            continue;
          }
          maxLen = Math.max(maxLen, e - s);
          for (let k = s; k < e - 1; k++) {
            if (P[k] !== P[k]) throw missingStepValue(b, k, `value for signal "${p.signal}" (credit.signal)`, 'igpo needs one on every step but the last');
            r[k] = P[k] - (k === s ? p.prior : P[k - 1]);
          }
          if (e > s) r[e - 1] = p.outcome_weight * o;
          let ret = 0;
          let d = 1;
          for (let k = s; k < e; k++) {
            ret += d * r[k];
            d *= gamma;
          }
          out.returns[i] = e > s ? ret : p.outcome_weight * o;
        }
        const G = b.groupCount;
        if (p.variant === 'paper') {
          // Two-pass group mean and sample std over every step reward of the group.
          const cnt = new Float64Array(G);
          const mean = new Float64Array(G);
          const m2 = new Float64Array(G);
          for (let i = 0; i < n; i++) {
            if (b.outcome[i] !== b.outcome[i]) continue;
            const g = b.groupOf[i];
            for (let k = offsets[i]; k < offsets[i + 1]; k++) {
              cnt[g]++;
              mean[g] += r[k];
            }
          }
          for (let g = 0; g < G; g++) if (cnt[g] > 0) mean[g] /= cnt[g];
          for (let i = 0; i < n; i++) {
            if (b.outcome[i] !== b.outcome[i]) continue;
            const g = b.groupOf[i];
            for (let k = offsets[i]; k < offsets[i + 1]; k++) m2[g] += (r[k] - mean[g]) ** 2;
          }
          for (let i = 0; i < n; i++) {
            if (b.outcome[i] !== b.outcome[i]) continue;
            const g = b.groupOf[i];
            const single = cnt[g] <= 1;
            const mu = single ? 0 : mean[g];
            const den = single ? 1 : Math.sqrt(m2[g] / (cnt[g] - 1)) + p.eps;
            let acc = 0;
            for (let k = offsets[i + 1] - 1; k >= offsets[i]; k--) {
              acc = (r[k] - mu) / den + gamma * acc;
              a[k] = acc;
            }
          }
          return out;
        }
        const L = maxLen;
        const sum = new Float64Array(G * L);
        const members = new Float64Array(G);
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          const g = b.groupOf[i];
          members[g]++;
          let acc = 0;
          const s = offsets[i];
          for (let k = offsets[i + 1] - 1; k >= s; k--) {
            acc = r[k] + gamma * acc;
            a[k] = acc;
            sum[g * L + (k - s)] += acc;
          }
        }
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          const g = b.groupOf[i];
          const s = offsets[i];
          for (let k = s; k < offsets[i + 1]; k++) a[k] -= sum[g * L + (k - s)] / members[g];
        }
        return out;
      },
    };
  },
});
