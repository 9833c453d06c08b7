import { readFileSync } from 'node:fs';
import { logSigmoid, mulberry32, sigmoid } from '../evaluate/stats.js';
import { checkFeatureConfig, hashedFeatures, sparseDot, type FeatureConfig, type SparseVector } from './features.js';

/**
 * A small pairwise reward-model trainer: Bradley–Terry on hashed text features, r(y) = b + w·φ(y)
 * (φ from `features.ts`), with the two loss modifications of "Secrets of RLHF in Large Language
 * Models Part II: Reward Modeling" (Wang et al. 2024; mechanics-B §3 [TXT]):
 *
 * - margin: L = −log σ(Δ − m), Δ = r(chosen) − r(rejected), with m the pair's preference strength
 *   (the paper's adaptive margin is the ensemble-mean margin û of `eval strength`) or a constant;
 * - label smoothing: L = −[(1 − α)·log σ(Δ) + α·log(1 − σ(Δ))], minimised at σ(Δ) = 1 − α.
 *
 * Both at once [INF: the paper states them separately; the combination applies the smoothing to the
 * shifted logit]: L = −[(1 − α)·log σ(Δ − m) + α·log σ(−(Δ − m))], dL/dΔ = σ(Δ − m) − (1 − α).
 * Plus an L2 penalty (λ/2)·‖w‖². The plain BT loss of the authors' code (OpenLMLab/MOSS-RLHF
 * `rm/reward_trainer.py`) is the case m = 0, α = 0 (without their +1e-5 inside the log).
 *
 * "Leveraging Domain Knowledge for Efficient Reward Modelling in RLHF" motivates the small model: a
 * linear BT model over cheap features needs far fewer labels than a full LLM reward model (mechanics-B
 * §24 [TXT]). Here the features are generic hashed n-grams, not that paper's domain features.
 *
 * Optimiser: mini-batch Adam (β1 0.9, β2 0.999, ε 1e-8) with lazy sparse updates (a coordinate's
 * moments and its L2 decay are updated only in the batches where it occurs), batches in an order
 * shuffled by a seeded generator each epoch: the same data, options and seed give the same model
 * bit for bit. The bias b cancels in Δ and stays 0.
 */

/**
 * The pair loss (see the module comment) for a score difference Δ, a margin m and smoothing α.
 *
 * @example
 * pairLoss(1)          // → 0.3133 (plain Bradley–Terry)
 * pairLoss(1, 0.5)     // → 0.4741 (margin 0.5)
 * pairLoss(1, 0, 0.1)  // → 0.4133 (label smoothing 0.1)
 */
export function pairLoss(delta: number, margin = 0, alpha = 0): number {
  const z = delta - margin;
  return -((1 - alpha) * logSigmoid(z) + alpha * logSigmoid(-z));
}

/** dL/dΔ of {@link pairLoss}: σ(Δ − m) − (1 − α). */
export function pairLossGrad(delta: number, margin = 0, alpha = 0): number {
  return sigmoid(delta - margin) - (1 - alpha);
}

/** One training pair as feature vectors. */
export interface TrainPair {
  chosen: SparseVector;
  rejected: SparseVector;
  /** Margin m of this pair (0 for none). */
  margin: number;
}

export interface TrainOptions {
  epochs?: number;
  /** Adam learning rate (default 0.05). */
  lr?: number;
  /** L2 penalty λ (default 1e-6). */
  l2?: number;
  /** Label smoothing α in [0, 0.5) (default 0). */
  labelSmoothing?: number;
  /** Pairs per batch (default 32). */
  batchSize?: number;
  /** Seed of the batch order (default 1). */
  seed?: number;
}

/** A trained linear reward model: what the model file holds. */
export interface LinearRewardModel {
  format: 'rewardkit-linear-rm';
  version: 1;
  features: FeatureConfig;
  bias: number;
  /** Non-zero weights: index (into [0, dim], dim = the length coordinate) and value. */
  weights: { index: number[]; value: number[] };
  /** How it was trained and how well it did (informational). */
  training?: Record<string, unknown>;
}

/** Δ = w·(chosen − rejected) for every pair. */
export function margins(w: Float64Array, pairs: readonly TrainPair[]): Float64Array {
  const out = new Float64Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) out[i] = sparseDot(w, pairs[i]!.chosen) - sparseDot(w, pairs[i]!.rejected);
  return out;
}

/** Mean pair loss, strict accuracy (Δ > 0; a tie is wrong, as RewardBench) over pairs. */
export function pairMetrics(w: Float64Array, pairs: readonly TrainPair[], alpha = 0, withMargin = true): { loss: number; accuracy: number } {
  const d = margins(w, pairs);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < d.length; i++) {
    loss += pairLoss(d[i]!, withMargin ? pairs[i]!.margin : 0, alpha);
    if (d[i]! > 0) correct++;
  }
  return { loss: d.length ? loss / d.length : NaN, accuracy: d.length ? correct / d.length : NaN };
}

/**
 * Trains w on the pairs (see the module comment); returns the dense weights (length dim + 1) and the
 * mean training loss after each epoch.
 */
export function trainLinear(pairs: readonly TrainPair[], dim: number, o: TrainOptions = {}): { w: Float64Array; epochLoss: number[] } {
  const epochs = o.epochs ?? 10;
  const lr = o.lr ?? 0.05;
  const l2 = o.l2 ?? 1e-6;
  const alpha = o.labelSmoothing ?? 0;
  const bs = o.batchSize ?? 32;
  if (!(alpha >= 0 && alpha < 0.5)) throw new RangeError(`labelSmoothing: expected a number in [0, 0.5), got ${alpha}`);
  const D = dim + 1;
  const w = new Float64Array(D);
  const m1 = new Float64Array(D);
  const m2 = new Float64Array(D);
  const last = new Int32Array(D); // step at which each coordinate's moments were last updated
  const g = new Float64Array(D);
  const touched = new Int32Array(D).fill(-1);
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const rand = mulberry32(o.seed ?? 1);
  const order = Int32Array.from({ length: pairs.length }, (_, i) => i);
  const epochLoss: number[] = [];
  let t = 0;
  const list: number[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const x = order[i]!;
      order[i] = order[j]!;
      order[j] = x;
    }
    for (let start = 0; start < order.length; start += bs) {
      t++;
      list.length = 0;
      const end = Math.min(order.length, start + bs);
      const scale = 1 / (end - start);
      for (let k = start; k < end; k++) {
        const p = pairs[order[k]!]!;
        const d = sparseDot(w, p.chosen) - sparseDot(w, p.rejected);
        const gd = pairLossGrad(d, p.margin, alpha) * scale;
        const add = (x: SparseVector, sgn: number) => {
          for (let q = 0; q < x.index.length; q++) {
            const c = x.index[q]!;
            if (touched[c] !== t) {
              touched[c] = t;
              g[c] = 0;
              list.push(c);
            }
            g[c]! += sgn * gd * x.value[q]!;
          }
        };
        add(p.chosen, 1);
        add(p.rejected, -1);
      }
      const c1 = 1 - Math.pow(b1, t);
      const c2 = 1 - Math.pow(b2, t);
      for (const c of list) {
        const gc = g[c]! + l2 * w[c]!;
        // Lazy moments: decay over the steps this coordinate was absent, then this step's gradient.
        const gap = t - last[c]! - 1;
        if (gap > 0) {
          m1[c]! *= Math.pow(b1, gap);
          m2[c]! *= Math.pow(b2, gap);
        }
        m1[c] = b1 * m1[c]! + (1 - b1) * gc;
        m2[c] = b2 * m2[c]! + (1 - b2) * gc * gc;
        last[c] = t;
        w[c]! -= (lr * (m1[c]! / c1)) / (Math.sqrt(m2[c]! / c2) + eps);
      }
    }
    epochLoss.push(pairMetrics(w, pairs, alpha).loss);
  }
  return { w, epochLoss };
}

/** Packs dense weights into a model file object. */
export function toModel(w: Float64Array, features: FeatureConfig, training?: Record<string, unknown>): LinearRewardModel {
  const index: number[] = [];
  const value: number[] = [];
  for (let i = 0; i < w.length; i++)
    if (w[i] !== 0) {
      index.push(i);
      value.push(w[i]!);
    }
  return { format: 'rewardkit-linear-rm', version: 1, features: { ...features }, bias: 0, weights: { index, value }, ...(training ? { training } : {}) };
}

/** Error in a model file; `field` names the key. */
export class ModelFileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ModelFileError';
  }
}

/** A loaded model: the features and dense weights (length dim + 1). */
export interface LoadedModel {
  features: FeatureConfig;
  bias: number;
  w: Float64Array;
}

/** Validates a parsed model file and expands its weights. Throws {@link ModelFileError} naming the field. */
export function loadModel(v: unknown): LoadedModel {
  const m = v as Partial<LinearRewardModel> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new ModelFileError('(file)', 'expected a JSON object');
  if (m.format !== 'rewardkit-linear-rm') throw new ModelFileError('format', `expected "rewardkit-linear-rm", got ${JSON.stringify(m.format)}`);
  if (m.version !== 1) throw new ModelFileError('version', `expected 1, got ${JSON.stringify(m.version)}`);
  const bad = checkFeatureConfig(m.features);
  if (bad) throw new ModelFileError(bad.slice(0, bad.indexOf(':')), bad.slice(bad.indexOf(':') + 2));
  const features = m.features!;
  if (typeof m.bias !== 'number' || !Number.isFinite(m.bias)) throw new ModelFileError('bias', `expected a finite number, got ${JSON.stringify(m.bias)}`);
  const ws = m.weights;
  if (!ws || !Array.isArray(ws.index) || !Array.isArray(ws.value) || ws.index.length !== ws.value.length) throw new ModelFileError('weights', 'expected {index: [...], value: [...]} of equal length');
  const w = new Float64Array(features.dim + 1);
  for (let i = 0; i < ws.index.length; i++) {
    const k = ws.index[i];
    const x = ws.value[i];
    if (!Number.isInteger(k) || k! < 0 || k! > features.dim) throw new ModelFileError(`weights.index[${i}]`, `expected an integer in [0, ${features.dim}], got ${JSON.stringify(k)}`);
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new ModelFileError(`weights.value[${i}]`, `expected a finite number, got ${JSON.stringify(x)}`);
    w[k!] = x;
  }
  if (!features.lengthFeature && w[features.dim] !== 0) throw new ModelFileError('weights', 'has a weight on the length coordinate but features.lengthFeature is false');
  return { features, bias: m.bias, w };
}

/** Reads and validates a model file. */
export function readModelFile(path: string): LoadedModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelFileError('(file)', `cannot read ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError('(file)', `${path} is not JSON: ${(e as Error).message}`);
  }
  return loadModel(v);
}

/** The model's reward for a text: b + w·φ(text). */
export function scoreText(m: LoadedModel, text: string): number {
  return m.bias + sparseDot(m.w, hashedFeatures(text, m.features));
}
