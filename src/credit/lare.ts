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
  type CreditState,
} from './types.js';

/**
 * LaRe's randomized-return-decomposition loss for one episode, from the decoded rewards of its
 * sampled steps: `(mean_S r̂ − R/T)²`, and with `unbiased` minus `(1 − K/T)·Var_S(r̂)/K` (Var with a
 * K − 1 denominator; K = the number of samples). Exported for tests and diagnostics.
 *
 * @example
 * rrdLoss([1, 2, 3, 2], 8, 4, false) // → 0: the sampled mean 2 equals R/T = 8/4
 */
export function rrdLoss(sampled: ArrayLike<number>, episodeReturn: number, T: number, unbiased: boolean): number {
  const K = sampled.length;
  let mean = 0;
  for (let j = 0; j < K; j++) mean += sampled[j];
  mean /= K;
  const loss = (mean - episodeReturn / T) ** 2;
  if (!unbiased || K < 2) return loss;
  let v = 0;
  for (let j = 0; j < K; j++) v += (sampled[j] - mean) ** 2;
  return loss - ((1 - K / T) * (v / (K - 1))) / K;
}

/** mulberry32: a small seeded uint32 generator; its whole state is one number (saved with the decoder). */
function nextRandom(state: { rng: number }): number {
  let t = (state.rng = (state.rng + 0x6d2b79f5) >>> 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;
const ADAM_EPS = 1e-8;

/**
 * The linear decoder r̂ = w·z + b and its Adam state; JSON state
 * `{weights, bias, adam_m, adam_v, adam_steps, rng}` (weights, adam_m, adam_v: one entry per factor,
 * plus the bias in the last slot of the moments).
 */
class LinearDecoder implements CreditState {
  w: Float64Array;
  m: Float64Array;
  v: Float64Array;
  t = 0;
  rng: number;

  constructor(
    readonly factors: number,
    readonly seed: number,
  ) {
    this.w = new Float64Array(factors + 1);
    this.m = new Float64Array(factors + 1);
    this.v = new Float64Array(factors + 1);
    this.rng = seed >>> 0;
  }

  save() {
    const F = this.factors;
    return { weights: Array.from(this.w.subarray(0, F)), bias: this.w[F], adam_m: Array.from(this.m), adam_v: Array.from(this.v), adam_steps: this.t, rng: this.rng };
  }

  load(s: unknown): void {
    const F = this.factors;
    const o = s as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object') throw new TypeError('lare state must be an object {weights, bias, adam_m, adam_v, adam_steps, rng}');
    const list = (key: string, len: number): number[] => {
      const x = o[key];
      if (!Array.isArray(x) || x.length !== len || !x.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new TypeError(`lare state ${key} must be a list of ${len} finite numbers (one per factor${len > F ? ', then the bias' : ''})`);
      }
      return x as number[];
    };
    const weights = list('weights', F);
    const m = list('adam_m', F + 1);
    const v = list('adam_v', F + 1);
    if (v.some((x) => x < 0)) throw new TypeError('lare state adam_v must be ≥ 0');
    const { bias, adam_steps: t, rng } = o;
    if (!(typeof bias === 'number' && Number.isFinite(bias))) throw new TypeError(`lare state bias is ${String(bias)}; must be a finite number`);
    if (!(typeof t === 'number' && Number.isInteger(t) && t >= 0)) throw new TypeError(`lare state adam_steps is ${String(t)}; must be an integer ≥ 0`);
    if (!(typeof rng === 'number' && Number.isInteger(rng) && rng >= 0 && rng < 2 ** 32)) throw new TypeError(`lare state rng is ${String(rng)}; must be a uint32`);
    this.w.set(weights);
    this.w[F] = bias;
    this.m.set(m);
    this.v.set(v);
    this.t = t;
    this.rng = rng;
  }

  reset(): void {
    this.w.fill(0);
    this.m.fill(0);
    this.v.fill(0);
    this.t = 0;
    this.rng = this.seed >>> 0;
  }

  step(grad: Float64Array, lr: number): void {
    this.t++;
    const c1 = 1 - ADAM_B1 ** this.t;
    const c2 = 1 - ADAM_B2 ** this.t;
    for (let j = 0; j < grad.length; j++) {
      this.m[j] = ADAM_B1 * this.m[j] + (1 - ADAM_B1) * grad[j];
      this.v[j] = ADAM_B2 * this.v[j] + (1 - ADAM_B2) * grad[j] * grad[j];
      this.w[j] -= (lr * (this.m[j] / c1)) / (Math.sqrt(this.v[j] / c2) + ADAM_EPS);
    }
  }
}

/**
 * `lare` — return decomposition with a learned decoder over step factors, after LaRe ("Latent Reward:
 * LLM-Empowered Credit Assignment in Episodic Reinforcement Learning", Qu et al.; repo
 * thu-rllab/LaRe, `mujoco/reward_model/LLMrd.py`, `rrd.py`). Reference: mechanics-B §17 [SRC].
 *
 * In LaRe an LLM writes the function that turns a state into interpretable factors z_t (the latent
 * reward); here the factors are the step signals named in `factors` (graders' per-step scores). A
 * decoder r̂_t = w·z_t + b — linear, where LaRe uses an MLP (the reference's own test is the linear
 * case) — is trained from episode rewards only, with LaRe's randomized return decomposition: per
 * episode sample K = `k` of its T steps (with replacement when K > T, as the code) and minimise
 * `(mean_S r̂ − R/T)²`, averaged over the episodes of a minibatch; `loss: rrd_unbiased` (LaRe_RRDu)
 * subtracts `(1 − K/T)·Var_S(r̂)/K` ({@link rrdLoss}). For episodes shorter than K (multi-turn
 * rollouts usually are, with LaRe's K = 64) the coefficient is negative and the term penalises the
 * variance instead, as in the code; set `k` ≤ T for the unbiased estimate. Optimiser: Adam (β
 * 0.9/0.999, eps 1e-8); LaRe uses lr 3e-4 over a long online run, the default here is larger so
 * that a few batches fit a linear decoder. Each `compute` first runs `updates` Adam steps, each on
 * `minibatch` episodes drawn with replacement from the batch's non-null rollouts with steps (all of
 * them, once each, when there are no more than `minibatch`), then decodes every step.
 *
 * **State**: with `carry` (default) the decoder, Adam's moments and the sampler's seed state carry
 * across batches (`state.save()/load()/reset()`, JSON); without it the decoder restarts from zero
 * at every batch (a per-batch fit). Runs are reproducible from `seed`.
 *
 * Step rewards are the decoded r̂_t; the return is Σ_t γ^t r̂_t (a rollout without steps: its episode
 * reward); the advantage follows `advantage`.
 *
 * @example
 * # r̂ = [1, 2, 3, 2], T = 4, R = 8 → mean 2 = R/T → loss 0
 */
export const lareCredit = defineCredit({
  method: 'lare',
  summary: 'LaRe return decomposition: a linear decoder over step factors trained with the sampled-step (RRD) loss.',
  params: {
    factors: z.array(z.string().min(1)).min(1).describe('Step signals that are the latent factors z_t the decoder reads.'),
    k: z.number().int().positive().default(64).describe('K, steps sampled per episode for the loss (LaRe rrd_k = 64).'),
    loss: z.enum(['rrd_unbiased', 'rrd']).default('rrd_unbiased').describe('rrd: (mean_S r̂ − R/T)²; rrd_unbiased (LaRe_RRDu): minus (1 − K/T)·Var_S(r̂)/K.'),
    bias: z.boolean().default(true).describe('Learn a constant b in r̂ = w·z + b.'),
    lr: z.number().positive().default(0.01).describe('Adam learning rate.'),
    updates: z.number().int().nonnegative().default(50).describe('Adam steps per batch (0: decode only, e.g. with a loaded decoder).'),
    minibatch: z.number().int().positive().default(256).describe('Episodes per Adam step.'),
    carry: z.boolean().default(true).describe('Keep the decoder across batches (stateful, save/load); false: fit from zero on every batch.'),
    seed: z.number().int().nonnegative().default(0).describe('Seed of the step and episode sampling.'),
    advantage: stepAdvantageParam,
    gamma: z.number().gte(0).lte(1).default(1).describe('Discount of the returns and of reward_to_go.'),
    whiten: whitenParam,
  },
  signals: (p) => p.factors.map((f, j) => ({ param: `factors[${j}]`, signal: f })),
  create(p) {
    p.factors.forEach((f, j) => {
      if (p.factors.indexOf(f) !== j) throw new ParamError(`factors[${j}]`, `factor "${f}" is listed twice`);
    });
    if (p.loss === 'rrd_unbiased' && p.k < 2) throw new ParamError('k', 'rrd_unbiased needs k ≥ 2 (the sample variance divides by k − 1)');
    const F = p.factors.length;
    const K = p.k;
    const unbiased = p.loss === 'rrd_unbiased';
    const decoder = new LinearDecoder(F, p.seed);
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    const grad = new Float64Array(F + 1);
    const zbar = new Float64Array(F + 1);
    const pick = new Int32Array(K);
    const rhat = new Float64Array(K);
    let perm = new Int32Array(0);
    return {
      ...(p.carry ? { state: decoder } : {}),
      compute(b) {
        checkStepBatch(b);
        const cols = p.factors.map((f, j) => signalOf(b, f, `factors[${j}]`));
        const out = newOutput(b);
        const { offsets } = b;
        const n = b.outcome.length;
        const train: number[] = [];
        let maxLen = 0;
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          const s = offsets[i];
          const e = offsets[i + 1];
          for (let j = 0; j < F; j++) {
            for (let k = s; k < e; k++) if (cols[j][k] !== cols[j][k]) throw missingStepValue(b, k, `value for factor "${p.factors[j]}" (credit.factors[${j}])`, 'lare needs one on every step');
          }
          if (e > s) train.push(i);
          maxLen = Math.max(maxLen, e - s);
        }
        if (perm.length < maxLen) perm = new Int32Array(maxLen);
        if (!p.carry) decoder.reset();
        const w = decoder.w;
        const useBias = p.bias;
        const decode = (k: number, bias: number) => {
          let v = bias;
          for (let j = 0; j < F; j++) v += w[j] * cols[j][k];
          return v;
        };
        const B = Math.min(p.minibatch, train.length);
        for (let u = 0; u < p.updates && B > 0; u++) {
          const bias = useBias ? w[F] : 0;
          grad.fill(0);
          for (let q = 0; q < B; q++) {
            const i = train.length <= p.minibatch ? train[q] : train[Math.floor(nextRandom(decoder) * train.length)];
            const s = offsets[i];
            const T = offsets[i + 1] - s;
            if (K > T) {
              for (let j = 0; j < K; j++) pick[j] = s + Math.floor(nextRandom(decoder) * T);
            } else {
              for (let j = 0; j < T; j++) perm[j] = j;
              for (let j = 0; j < K; j++) {
                const r = j + Math.floor(nextRandom(decoder) * (T - j));
                const tmp = perm[j];
                perm[j] = perm[r];
                perm[r] = tmp;
                pick[j] = s + perm[j];
              }
            }
            let mean = 0;
            zbar.fill(0);
            for (let j = 0; j < K; j++) {
              rhat[j] = decode(pick[j], bias);
              mean += rhat[j];
              for (let f = 0; f < F; f++) zbar[f] += cols[f][pick[j]];
            }
            mean /= K;
            for (let f = 0; f < F; f++) zbar[f] /= K;
            zbar[F] = 1;
            const err = mean - b.outcome[i] / T;
            for (let f = 0; f <= F; f++) grad[f] += 2 * err * zbar[f];
            if (unbiased) {
              // d/dw of (1 − K/T)·Var_S(r̂)/K, Var_S = Σ(r̂ − r̄)²/(K − 1); the bias drops out.
              const c = ((1 - K / T) / K) * (2 / (K - 1));
              for (let j = 0; j < K; j++) {
                const dr = rhat[j] - mean;
                for (let f = 0; f < F; f++) grad[f] -= c * dr * (cols[f][pick[j]] - zbar[f]);
              }
            }
          }
          for (let f = 0; f <= F; f++) grad[f] /= B;
          if (!useBias) grad[F] = 0;
          decoder.step(grad, p.lr);
        }
        const r = out.reward;
        const bias = useBias ? w[F] : 0;
        for (let i = 0; i < n; i++) {
          const live = b.outcome[i] === b.outcome[i];
          for (let k = offsets[i]; k < offsets[i + 1]; k++) r[k] = live ? decode(k, bias) : NaN;
        }
        discountedReturns(b, r, p.gamma, out.returns, b.outcome);
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
