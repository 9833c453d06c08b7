import * as z from 'zod';
import {
  checkStepBatch,
  defineCredit,
  discountedReturns,
  newOutput,
  signalOf,
  stepAdvantage,
  stepAdvantageParam,
  whitenParam,
} from './types.js';

/**
 * `renorm` — PPR's process rewards calibrated against the outcome by ReNorm ("Hybrid Reward
 * Normalization for Process-supervised Non-verifiable Agentic Tasks", PPR, Xu et al. 2025,
 * arXiv 2509.25598), per step. p_t is the step's principle-based process score (PPR's PRM, e.g. a
 * step-scoped `judge` principle in [0, 1]): the step signal named by `process`, else the step's
 * given `reward`. o is the episode (outcome) reward.
 *
 * **Status [INF] — the project's reading, not the paper's verified definition** (mechanics-A §4;
 * mechanics-C §1 leaves it unresolved: the code, peiranxu/ppr, and the equations could not be read).
 * The two documented readings, as the rollout-level `renorm` shaper:
 * - `mode: shift` (default): `r_t = p_t + o − 1`, so with p ∈ [0, 1] and o ∈ {0, 1} the steps of a
 *   correct rollout are ≥ 0 and those of a wrong one ≤ 0; a step without a process score (typically
 *   the final answer, which the PRM does not judge) gets `o`. Guarantee: with the same p, no step of
 *   an o = 0 rollout outscores the same step of an o = 1 rollout.
 * - `mode: group_norm`: within each group, z-normalise the process scores of all its steps and the
 *   outcomes of its rollouts separately (mean, sample std + `eps`; a single value keeps itself, as
 *   verl's group of one), then `r_t = process_weight·z(p_t)` (0 without a score) and the last step
 *   adds z(o).
 * The return is Σ_t γ^t r_t (a rollout without steps: o for shift, z(o) for group_norm); the
 * advantage follows `advantage`.
 *
 * @example
 * # shift: p = [0.8, 0.6, –], o = 1 → [0.8, 0.6, 1]; o = 0 → [−0.2, −0.4, 0]
 */
export const renormCredit = defineCredit({
  method: 'renorm',
  summary: 'PPR + ReNorm (inferred reading): per-step process scores calibrated against the outcome.',
  params: {
    process: z.string().min(1).optional().describe('Step signal with the process score p_t (e.g. a step-scoped judge); default: the step’s given reward.'),
    mode: z.enum(['shift', 'group_norm']).default('shift').describe('shift: r_t = p_t + o − 1; group_norm: w·z(p_t), plus z(o) on the last step, within each group.'),
    process_weight: z.number().default(1).describe('group_norm: weight w of the normalised process term.'),
    eps: z.number().nonnegative().default(1e-6).describe('group_norm: added to the group std.'),
    advantage: stepAdvantageParam,
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount of the returns and of reward_to_go.'),
    whiten: whitenParam,
  },
  signals: (p) => (p.process === undefined ? [] : [{ param: 'process', signal: p.process }]),
  create(p) {
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    return {
      compute(b) {
        checkStepBatch(b);
        const P = p.process === undefined ? b.reward : signalOf(b, p.process, 'process');
        const out = newOutput(b);
        const { offsets } = b;
        const n = b.outcome.length;
        const r = out.reward;
        const empty = new Float64Array(n);
        if (p.mode === 'shift') {
          for (let i = 0; i < n; i++) {
            const o = b.outcome[i];
            for (let k = offsets[i]; k < offsets[i + 1]; k++) r[k] = o !== o ? NaN : P[k] === P[k] ? P[k] + o - 1 : o;
            empty[i] = o;
          }
        } else {
          const G = b.groupCount;
          const pz = zStats(G);
          const oz = zStats(G);
          for (let pass = 0; pass < 2; pass++) {
            for (let i = 0; i < n; i++) {
              const o = b.outcome[i];
              if (o !== o) continue;
              const g = b.groupOf[i];
              oz.add(g, o, pass);
              for (let k = offsets[i]; k < offsets[i + 1]; k++) if (P[k] === P[k]) pz.add(g, P[k], pass);
            }
            pz.finish(pass, p.eps);
            oz.finish(pass, p.eps);
          }
          for (let i = 0; i < n; i++) {
            const o = b.outcome[i];
            const s = offsets[i];
            const e = offsets[i + 1];
            if (o !== o) {
              r.fill(NaN, s, e);
              empty[i] = NaN;
              continue;
            }
            const g = b.groupOf[i];
            for (let k = s; k < e; k++) r[k] = P[k] === P[k] ? p.process_weight * pz.z(g, P[k]) : 0;
            empty[i] = oz.z(g, o);
            if (e > s) r[e - 1] += empty[i];
          }
        }
        discountedReturns(b, r, p.gamma, out.returns, empty);
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});

/** Two-pass group mean and sample std (pass 0 sums, pass 1 squared deviations); z of one value is itself. */
function zStats(G: number) {
  const n = new Float64Array(G);
  const mean = new Float64Array(G);
  const den = new Float64Array(G);
  return {
    add(g: number, v: number, pass: number) {
      if (pass === 0) {
        n[g]++;
        mean[g] += v;
      } else den[g] += (v - mean[g]) ** 2;
    },
    finish(pass: number, eps: number) {
      for (let g = 0; g < G; g++) {
        if (pass === 0) mean[g] = n[g] > 0 ? mean[g] / n[g] : 0;
        else den[g] = n[g] > 1 ? Math.sqrt(den[g] / (n[g] - 1)) + eps : 1;
      }
      if (pass === 1) for (let g = 0; g < G; g++) if (n[g] <= 1) mean[g] = 0;
    },
    z(g: number, v: number) {
      return (v - mean[g]) / den[g];
    },
  };
}
