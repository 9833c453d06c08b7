/**
 * Hashed text features for the linear reward model (`rewardkit rm train`, grader `linear_rm`): the
 * "hashing trick" (Weinberger et al. 2009, "Feature Hashing for Large Scale Multitask Learning") over
 * word n-grams. Training and scoring call the same function, so a model file scores exactly the
 * features it was trained on.
 *
 * A text becomes: its lower-cased word tokens (runs of letters or digits, and single punctuation
 * marks), their n-grams for each order in `ngrams`, each hashed with 32-bit FNV-1a (`"<n>\u0001<gram>"`)
 * to an index in [0, dim) (dim a power of two) with a sign from bit 31 of a second hash of the same
 * key (so collisions cancel in expectation); counts are damped to log(1 + count) and the vector is
 * scaled to unit L2 norm. With `lengthFeature`, one extra coordinate (index `dim`) holds
 * log(1 + number of tokens) / 10, unnormalised, so the model can learn a length preference.
 */

/** How texts become feature vectors; stored in the model file. */
export interface FeatureConfig {
  /** Hash space size: a power of two in [2^8, 2^24]. */
  dim: number;
  /** n-gram orders, e.g. [1, 2]. */
  ngrams: number[];
  /** Add the log-length coordinate at index `dim`. */
  lengthFeature: boolean;
}

/** A sparse vector: sorted distinct indices and their values. */
export interface SparseVector {
  index: Int32Array;
  value: Float64Array;
}

/** Default features: 2^18 buckets, unigrams and bigrams, with the length coordinate. */
export const DEFAULT_FEATURES: FeatureConfig = { dim: 1 << 18, ngrams: [1, 2], lengthFeature: true };

const TOKEN = /[\p{L}\p{M}]+|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu;

/** Lower-cased word tokens: letter runs, digit runs, and single other non-space characters. */
export function featureTokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** 32-bit FNV-1a of a string's UTF-16 code units, with a seed as the offset basis. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Checks a feature config; returns a message naming the bad field, or null. */
export function checkFeatureConfig(c: unknown): string | null {
  const f = c as Partial<FeatureConfig> | null;
  if (typeof f !== 'object' || f === null) return 'features: expected an object';
  if (typeof f.dim !== 'number' || !Number.isInteger(f.dim) || f.dim < 256 || f.dim > 1 << 24 || (f.dim & (f.dim - 1)) !== 0) return `features.dim: expected a power of two in [256, 16777216], got ${JSON.stringify(f.dim)}`;
  if (!Array.isArray(f.ngrams) || f.ngrams.length === 0 || !f.ngrams.every((n) => Number.isInteger(n) && n >= 1 && n <= 5)) return `features.ngrams: expected a non-empty list of orders in 1..5, got ${JSON.stringify(f.ngrams)}`;
  if (typeof f.lengthFeature !== 'boolean') return `features.lengthFeature: expected a boolean, got ${JSON.stringify(f.lengthFeature)}`;
  return null;
}

/**
 * The feature vector of a text (see the module comment). Indices are sorted; the length coordinate,
 * when enabled, is the last entry.
 *
 * @example
 * const v = hashedFeatures('good good', { dim: 256, ngrams: [1], lengthFeature: false });
 * // one bucket (the unigram "good"), value ±1 after normalisation
 */
export function hashedFeatures(text: string, c: FeatureConfig): SparseVector {
  const toks = featureTokens(text);
  const mask = c.dim - 1;
  const acc = new Map<number, number>();
  for (const n of c.ngrams) {
    for (let i = 0; i + n <= toks.length; i++) {
      const key = `${n}\u0001${n === 1 ? toks[i]! : toks.slice(i, i + n).join(' ')}`;
      const h = fnv1a(key);
      const sign = fnv1a(key, 0x9747b28c) >>> 31 ? -1 : 1;
      const k = h & mask;
      acc.set(k, (acc.get(k) ?? 0) + sign);
    }
  }
  const keys = [...acc.keys()].sort((a, b) => a - b);
  const extra = c.lengthFeature ? 1 : 0;
  const index = new Int32Array(keys.length + extra);
  const value = new Float64Array(keys.length + extra);
  let norm = 0;
  keys.forEach((k, i) => {
    const x = acc.get(k)!;
    const v = Math.sign(x) * Math.log1p(Math.abs(x));
    index[i] = k;
    value[i] = v;
    norm += v * v;
  });
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < keys.length; i++) value[i]! /= norm;
  if (extra) {
    index[keys.length] = c.dim;
    value[keys.length] = Math.log1p(toks.length) / 10;
  }
  return { index, value };
}

/** w·x for a dense weight vector and a sparse x. */
export function sparseDot(w: Float64Array, x: SparseVector): number {
  let s = 0;
  for (let i = 0; i < x.index.length; i++) s += w[x.index[i]!]! * x.value[i]!;
  return s;
}
