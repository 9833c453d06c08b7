import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { checkStepBatch, defineCredit, missingStepValue, newOutput, signalOf, voidRollout } from './types.js';

/** Per group: how many values, their mean and sample std (for the centring below). */
interface GroupStats {
  n: Float64Array;
  mean: Float64Array;
  std: Float64Array;
}

function groupStats(G: number): GroupStats {
  return { n: new Float64Array(G), mean: new Float64Array(G), std: new Float64Array(G) };
}

function finishStats(st: GroupStats, m2: Float64Array): void {
  for (let g = 0; g < st.n.length; g++) {
    st.std[g] = st.n[g] > 1 ? Math.sqrt(m2[g] / (st.n[g] - 1)) : 1;
  }
}

/**
 * `oprl` — implicit step rewards combined with the episode advantage: OPRL, published as "iStar:
 * Agentic RL with Implicit Step Rewards" (arXiv 2509.19199; official code Tongyi-ConvAI/Tongyi-Character,
 * `CharacterRL-iStar/istar/core_istar.py` and `dp_rm.py`). Reference: mechanics-C §11 [SRC], which
 * overrides mechanics-A §14.
 *
 * Step reward: the step signal `signal` holds each step's implicit reward
 * `s_t = β·Σ_tokens (log π_φ − log π_old)` summed over the step's tokens (iStar β = 0.05; e.g. a
 * step-scoped `dpo_implicit` grader with the PRM as policy and the rollout policy as reference). The
 * signal carries the β-scaled sum so the credit method needs no log-probs. With
 * `step_norm: batch_max` (iStar `istar_norm: batch_norm`, default) every s is divided by the batch
 * maximum of the absolute reverse cumulative sum, `Z = max_{i,t} |Σ_{k≥t} s_{i,k}| + 1e-6`
 * (mechanics-C §11: the authors divide by max |reverse-cumsum| + 1e-6, not by max |s|).
 * [INF] The released code takes the reverse cumsum along a row's tokens; here a rollout is one
 * trajectory and the cumsum runs over its steps (the return-to-go of the step rewards). When every
 * trajectory has one step the two coincide. `batch_max_step` keeps the older reading, max |s| + 1e-6.
 *
 * Advantage: `A = A^E + α·A^S` (α = `step_weight`, iStar 1.0). Both are centred within the group:
 * - `estimator: rloo` (the released scripts): `A = n/(n−1)·(x − mean)`, a single value keeps x;
 * - `estimator: grpo`: `x − mean` (iStar `mean_norm`), or `(x − mean)/(std + eps)` with `std_norm`
 *   (`mean_std_norm`, sample std); a single value keeps x (divided by 1 + eps with `std_norm`).
 * A^E centres the episode reward over the group's trajectories. A^S centres each step's s against a
 * baseline: `step_baseline: first_step` (default) reproduces the released code, whose group mean
 * is over the first step of each trajectory (rows deduplicated by trajectory), n = trajectories
 * with steps; `all_steps` uses the mean over every step of the group (n = steps) instead.
 * RLOO on the per-step sums `r_outcome + α·s` (iStar's `process_outcome_combined_advantage`) is the
 * same advantage, by linearity.
 *
 * Step rewards written out: `α·s_t`, plus the episode reward on the last step; the return is their
 * sum (a rollout without steps: its episode reward). Before the batch normalisation the step rewards
 * of a trajectory sum to β·log π_φ(τ)/π_old(τ), the quantity the PRM's preference loss ranks.
 *
 * @example
 * # RLOO, α = 1, no step_norm: A (R 1) s = [0.3, 0.5]; B (R 0) s = [−0.2, 0.1]; C (R 0) s = [0]
 * # → A^E = [1, 1, −0.5, −0.5, −0.5]; A^S = [0.40, 0.70, −0.35, 0.10, −0.05]; A = [1.40, 1.70, −0.85, −0.40, −0.55]
 * # step_norm: batch_max — reverse cumsums A [0.8, 0.5], B [−0.1, 0.1], C [0] → Z = 0.8 + 1e-6 (max |s| would be 0.5)
 * # → step rewards s/Z = [0.375, 0.625, −0.25, 0.125, 0]; A = [1.5, 1.875, −0.9375, −0.375, −0.5625]
 */
export const oprlCredit = defineCredit({
  method: 'oprl',
  summary: 'OPRL/iStar: implicit step rewards β·log π_φ/π_old; advantage = episode advantage + α·step advantage.',
  params: {
    signal: z.string().min(1).describe('Step signal: the implicit step reward β·Σ log π_φ/π_old over the step’s tokens (e.g. a step-scoped dpo_implicit grader).'),
    step_weight: z.number().default(1).describe('α in A = A^E + α·A^S (iStar step_advantage_w = 1.0).'),
    estimator: z.enum(['rloo', 'grpo']).default('rloo').describe('Group centring of both advantages: rloo n/(n−1)·(x − mean) (iStar istar_rloo), or grpo x − mean (istar_grpo).'),
    std_norm: z.boolean().default(false).describe('grpo only: divide by the sample std + eps (iStar mode mean_std_norm).'),
    eps: z.number().nonnegative().default(1e-6).describe('grpo with std_norm: added to the std.'),
    step_norm: z
      .enum(['batch_max', 'batch_max_step', 'none'])
      .default('batch_max')
      .describe('batch_max: divide every step reward by the batch max over trajectories and steps of |reverse cumulative sum| + 1e-6 (iStar istar_norm batch_norm); batch_max_step: by max |s| + 1e-6 (older reading); none: use them as given.'),
    step_baseline: z
      .enum(['first_step', 'all_steps'])
      .default('first_step')
      .describe('Mean the step rewards are centred on: of each trajectory’s first step (the released code) or of every step of the group.'),
  },
  signals: (p) => [{ param: 'signal', signal: p.signal }],
  create(p) {
    if (p.std_norm && p.estimator !== 'grpo') throw new ParamError('std_norm', 'std_norm applies to estimator grpo only (iStar mean_std_norm)');
    const alpha = p.step_weight;
    const rloo = p.estimator === 'rloo';
    const stdNorm = p.std_norm;
    const eps = p.eps;
    const centre = (x: number, st: GroupStats, g: number): number => {
      const n = st.n[g];
      if (rloo) return n > 1 ? (n / (n - 1)) * (x - st.mean[g]) : x;
      if (n <= 1) return stdNorm ? x / (1 + eps) : x;
      return stdNorm ? (x - st.mean[g]) / (st.std[g] + eps) : x - st.mean[g];
    };
    return {
      compute(b) {
        checkStepBatch(b);
        const S = signalOf(b, p.signal, 'signal');
        const out = newOutput(b);
        const { offsets, groupOf } = b;
        const n = b.outcome.length;
        const G = b.groupCount;
        const live = (i: number) => b.outcome[i] === b.outcome[i];
        let scale = 1;
        if (p.step_norm !== 'none') {
          const cum = p.step_norm === 'batch_max';
          let max = 0;
          for (let i = 0; i < n; i++) {
            if (!live(i)) continue;
            let tail = 0;
            for (let k = offsets[i + 1] - 1; k >= offsets[i]; k--) {
              if (S[k] !== S[k]) throw missingStepValue(b, k, `value for signal "${p.signal}" (credit.signal)`, 'oprl needs one on every step');
              tail = cum ? tail + S[k] : S[k];
              max = Math.max(max, Math.abs(tail));
            }
          }
          scale = 1 / (max + 1e-6);
        }
        const ep = groupStats(G);
        const st = groupStats(G);
        const m2e = new Float64Array(G);
        const m2s = new Float64Array(G);
        const firstOnly = p.step_baseline === 'first_step';
        for (let i = 0; i < n; i++) {
          if (!live(i)) continue;
          const g = groupOf[i];
          ep.n[g]++;
          ep.mean[g] += b.outcome[i];
          const e = firstOnly ? Math.min(offsets[i] + 1, offsets[i + 1]) : offsets[i + 1];
          for (let k = offsets[i]; k < e; k++) {
            if (S[k] !== S[k]) throw missingStepValue(b, k, `value for signal "${p.signal}" (credit.signal)`, 'oprl needs one on every step');
            st.n[g]++;
            st.mean[g] += S[k] * scale;
          }
        }
        for (let g = 0; g < G; g++) {
          if (ep.n[g] > 0) ep.mean[g] /= ep.n[g];
          if (st.n[g] > 0) st.mean[g] /= st.n[g];
        }
        for (let i = 0; i < n; i++) {
          if (!live(i)) continue;
          const g = groupOf[i];
          m2e[g] += (b.outcome[i] - ep.mean[g]) ** 2;
          const e = firstOnly ? Math.min(offsets[i] + 1, offsets[i + 1]) : offsets[i + 1];
          for (let k = offsets[i]; k < e; k++) m2s[g] += (S[k] * scale - st.mean[g]) ** 2;
        }
        finishStats(ep, m2e);
        finishStats(st, m2s);
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const o = b.outcome[i];
          if (o !== o) {
            voidRollout(out, i, s, e);
            continue;
          }
          const g = groupOf[i];
          const aE = centre(o, ep, g);
          let ret = o;
          for (let k = s; k < e; k++) {
            if (S[k] !== S[k]) throw missingStepValue(b, k, `value for signal "${p.signal}" (credit.signal)`, 'oprl needs one on every step');
            const sk = S[k] * scale;
            out.reward[k] = alpha * sk;
            ret += alpha * sk;
            out.advantage[k] = aE + alpha * centre(sk, st, g);
          }
          if (e > s) out.reward[e - 1] += o;
          out.returns[i] = ret;
        }
        return out;
      },
    };
  },
});
