import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import {
  checkStepBatch,
  defineCredit,
  discountedReturns,
  missingStepValue,
  newOutput,
  signalOf,
  stepAdvantage,
  stepAdvantageParam,
  whitenParam,
} from './types.js';

/**
 * Solves `A x = y` for a symmetric positive-definite d×d `A` (row-major, overwritten) by Cholesky
 * decomposition; returns null when A is not positive definite (relative pivot below 1e-12).
 */
function choleskySolve(A: Float64Array, y: Float64Array, d: number): Float64Array | null {
  let scale = 0;
  for (let j = 0; j < d; j++) scale = Math.max(scale, Math.abs(A[j * d + j]));
  const tiny = 1e-12 * (scale > 0 ? scale : 1);
  for (let j = 0; j < d; j++) {
    let diag = A[j * d + j];
    for (let k = 0; k < j; k++) diag -= A[j * d + k] ** 2;
    if (!(diag > tiny)) return null;
    const l = Math.sqrt(diag);
    A[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let v = A[i * d + j];
      for (let k = 0; k < j; k++) v -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = v / l;
    }
  }
  const x = y.slice();
  for (let i = 0; i < d; i++) {
    let v = x[i];
    for (let k = 0; k < i; k++) v -= A[i * d + k] * x[k];
    x[i] = v / A[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let v = x[i];
    for (let k = i + 1; k < d; k++) v -= A[k * d + i] * x[k];
    x[i] = v / A[i * d + i];
  }
  return x;
}

/**
 * `spa` — Stepwise Progress Attribution ("SPA-RL: Reinforcing LLM Agents via Stepwise Progress
 * Attribution"; repo WangHanLinHenry/SPA-RL-Agent, `prm/train_our_progress_model.py`,
 * `prm/rl_data_org.py`). Reference: mechanics-A §13 [SRC].
 *
 * Progress estimator: each step's contribution is linear in its features,
 * `c_t = w·φ_t (+ b)`, with φ_t the step signals named in `features` (graders' per-step scores; SPA
 * reads a linear head off the policy's logits instead). w is fitted on the batch so that each
 * rollout's contributions sum to its episode reward — SPA's loss `(Σ_t c_t − R)²` — in closed form:
 * with `X_i = Σ_t φ_{i,t}` (and T_i for the intercept), `w = (XᵀX + λI)⁻¹ XᵀR`, λ = `ridge` (the
 * intercept is penalised too), over the non-null rollouts with steps. The fit is per batch: nothing
 * is carried over. With `residual: spread` (default, the project's choice) what the fit leaves
 * unexplained is spread evenly, `c_t += (R − Σ_t c_t)/T`, so the contributions of every rollout sum
 * to its outcome exactly; `none` keeps the fitted c_t.
 *
 * Step reward: `r_t = progress_weight·c_t + executable_bonus·g_t` with g_t = 1 when the step's action
 * was executable (`steps[t].executable`, SPA: the observation is not "Nothing happens") and always 1 on
 * the last step (SPA code: α = 1, bonus 0.5; the paper's weights are [INF]). `executable` is required
 * on every step but the last unless the bonus is 0. The return is Σ_t γ^t r_t (a rollout without
 * steps: `progress_weight`·R); the advantage follows `advantage` (SPA trains PPO on the step rewards).
 * The released script's leave-one-out overwrite of the progress values is not reproduced (a leftover,
 * per the reference).
 *
 * @example
 * # one rollout, feature φ = [1, 3, 5], R = 0.9, ridge 0, no intercept → w = 0.1, c = [0.1, 0.3, 0.5];
 * # executable [yes, no, –] → r = [0.6, 0.3, 1.0]
 */
export const spaCredit = defineCredit({
  method: 'spa',
  summary: 'SPA-RL progress attribution: ridge-fitted step contributions that sum to the outcome, plus an executable bonus.',
  params: {
    features: z.array(z.string().min(1)).min(1).describe('Step signals the progress estimator is linear in (e.g. step-scoped grader scores).'),
    intercept: z.boolean().default(true).describe('Add a constant per-step term b to c_t = w·φ_t + b.'),
    ridge: z.number().nonnegative().default(1e-3).describe('λ of the closed-form ridge fit (XᵀX + λI)⁻¹XᵀR; 0 needs features that are not collinear over the batch.'),
    residual: z
      .enum(['spread', 'none'])
      .default('spread')
      .describe('spread: add (R − Σc)/T to every step so contributions sum to the outcome exactly; none: keep the fitted contributions.'),
    progress_weight: z.number().default(1).describe('α in r_t = α·c_t + β·g_t (SPA code 1).'),
    executable_bonus: z.number().default(0.5).describe('β in r_t = α·c_t + β·g_t: bonus of an executable step and of the last step (SPA code 0.5).'),
    advantage: stepAdvantageParam,
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount of the returns and of reward_to_go.'),
    whiten: whitenParam,
  },
  signals: (p) => p.features.map((f, j) => ({ param: `features[${j}]`, signal: f })),
  create(p) {
    p.features.forEach((f, j) => {
      if (p.features.indexOf(f) !== j) throw new ParamError(`features[${j}]`, `feature "${f}" is listed twice`);
    });
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    const F = p.features.length;
    const d = F + (p.intercept ? 1 : 0);
    return {
      compute(b) {
        checkStepBatch(b);
        const cols = p.features.map((f, j) => signalOf(b, f, `features[${j}]`));
        const out = newOutput(b);
        const { offsets } = b;
        const n = b.outcome.length;
        const A = new Float64Array(d * d);
        const y = new Float64Array(d);
        const x = new Float64Array(d);
        let rows = 0;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const R = b.outcome[i];
          if (R !== R || e === s) continue;
          x.fill(0);
          for (let j = 0; j < F; j++) {
            const c = cols[j];
            let sum = 0;
            for (let k = s; k < e; k++) {
              if (c[k] !== c[k]) throw missingStepValue(b, k, `value for feature "${p.features[j]}" (credit.features[${j}])`, 'spa needs one on every step');
              sum += c[k];
            }
            x[j] = sum;
          }
          if (p.intercept) x[F] = e - s;
          for (let u = 0; u < d; u++) {
            y[u] += x[u] * R;
            for (let v = 0; v <= u; v++) A[u * d + v] += x[u] * x[v];
          }
          rows++;
        }
        let w: Float64Array = new Float64Array(d);
        if (rows > 0) {
          for (let u = 0; u < d; u++) {
            A[u * d + u] += p.ridge;
            for (let v = u + 1; v < d; v++) A[u * d + v] = A[v * d + u];
          }
          const sol = choleskySolve(A, y, d);
          if (sol === null) {
            throw new RangeError(
              `spa: the ridge fit over features ${p.features.join(', ')} is singular on this batch (collinear or constant step sums); set ridge > 0`,
            );
          }
          w = sol;
        }
        const bias = p.intercept ? w[F] : 0;
        const spread = p.residual === 'spread';
        const alpha = p.progress_weight;
        const beta = p.executable_bonus;
        const r = out.reward;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const R = b.outcome[i];
          if (R !== R) {
            r.fill(NaN, s, e);
            continue;
          }
          let sum = 0;
          for (let k = s; k < e; k++) {
            let c = bias;
            for (let j = 0; j < F; j++) c += w[j] * cols[j][k];
            r[k] = c;
            sum += c;
          }
          const fix = spread && e > s ? (R - sum) / (e - s) : 0;
          for (let k = s; k < e; k++) {
            let g = 1;
            if (k < e - 1 && beta !== 0) {
              g = b.executable[k];
              if (g !== g) throw missingStepValue(b, k, '`executable` flag', 'spa needs it on every step but the last for executable_bonus (set executable_bonus: 0 to ignore it)');
            }
            r[k] = alpha * (r[k] + fix) + beta * g;
          }
        }
        const empty = new Float64Array(n);
        for (let i = 0; i < n; i++) empty[i] = p.progress_weight * b.outcome[i];
        discountedReturns(b, r, p.gamma, out.returns, empty);
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
