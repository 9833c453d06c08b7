import * as z from 'zod';
import { distance } from 'fastest-levenshtein';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { chars, truncateChars, wordTokens } from './tokens.js';

/** Largest `max_chars`: every unit must fit in one UTF-16 code unit after {@link encodePair}. */
const MAX_UNITS = 65_534;

/**
 * Re-encodes two unit sequences (code points or tokens) as strings of one UTF-16 code unit per unit,
 * so that fastest-levenshtein (which compares code units) measures distance in units. Units present
 * in only one of the two sequences can never match across them, so each side's private units
 * share one code; the shared vocabulary is at most min(|a|, |b|) units and fits.
 */
function encodePair(a: readonly string[], b: readonly string[]): [string, string] {
  const inB = new Set(b);
  const codes = new Map<string, number>();
  for (const u of a) if (inB.has(u) && !codes.has(u)) codes.set(u, codes.size + 2);
  const enc = (units: readonly string[], privateCode: number): string => {
    let out = '';
    for (const u of units) out += String.fromCharCode(codes.get(u) ?? privateCode);
    return out;
  };
  return [enc(a, 0), enc(b, 1)];
}

const HAS_ASTRAL = /[\uD800-\uDBFF]/;

/** Levenshtein distance counted in `unit`s (code points or {@link wordTokens} tokens). */
export function unitDistance(a: string, b: string, unit: 'chars' | 'tokens'): { distance: number; length: number } {
  if (unit === 'chars' && !HAS_ASTRAL.test(a) && !HAS_ASTRAL.test(b)) {
    return { distance: distance(a, b), length: Math.max(a.length, b.length) };
  }
  const ua = unit === 'chars' ? chars(a) : wordTokens(a);
  const ub = unit === 'chars' ? chars(b) : wordTokens(b);
  const [ea, eb] = encodePair(ua, ub);
  return { distance: distance(ea, eb), length: Math.max(ua.length, ub.length) };
}

/**
 * Normalised similarity 1 − d/max(|a|, |b|) with d the Levenshtein distance in `unit`s; 1 when both are empty.
 *
 * @example
 * levenshteinSimilarity('kitten', 'sitting', 'chars') // → 1 − 3/7 ≈ 0.5714
 */
export function levenshteinSimilarity(a: string, b: string, unit: 'chars' | 'tokens'): number {
  const { distance: d, length } = unitDistance(a, b, unit);
  return length === 0 ? 1 : 1 - d / length;
}

/**
 * Length of the longest common subsequence of two unit sequences, by the bit-parallel algorithm of
 * Allison & Dix (1986) / Hyyrö (2004): one pass over `b`, ⌈|a|/32⌉ machine words per step,
 * O(|a|·|b|/32).
 */
export function lcsLength(a: readonly number[], b: readonly number[]): number {
  const m = a.length;
  if (m === 0 || b.length === 0) return 0;
  const words = Math.ceil(m / 32);
  const masks = new Map<number, Uint32Array>();
  for (let i = 0; i < m; i++) {
    let pm = masks.get(a[i]!);
    if (pm === undefined) masks.set(a[i]!, (pm = new Uint32Array(words)));
    pm[i >>> 5] = pm[i >>> 5]! | (1 << (i & 31));
  }
  const v = new Uint32Array(words).fill(0xffffffff);
  for (const c of b) {
    const pm = masks.get(c);
    if (pm === undefined) continue;
    let carry = 0;
    let borrow = 0;
    for (let k = 0; k < words; k++) {
      const vk = v[k]!;
      const u = vk & pm[k]!;
      const u32 = u >>> 0;
      const sum = vk + u32 + carry;
      carry = sum > 0xffffffff ? 1 : 0;
      const diff = vk - u32 - borrow;
      borrow = diff < 0 ? 1 : 0;
      v[k] = (sum >>> 0) | (diff >>> 0);
    }
  }
  let zeros = 0;
  for (let i = 0; i < m; i++) if ((v[i >>> 5]! & (1 << (i & 31))) === 0) zeros++;
  return zeros;
}

/**
 * Normalised Indel similarity 1 − (|a| + |b| − 2·LCS)/(|a| + |b|) = 2·LCS/(|a| + |b|) in `unit`s —
 * rapidfuzz's `fuzz.ratio(a, b) / 100` for `chars` (insertions and deletions only, code points);
 * 1 when both are empty.
 *
 * @example
 * indelSimilarity('this is a test', 'this is a test!', 'chars') // → 28/29 ≈ 0.9655 (rapidfuzz fuzz.ratio 96.55)
 */
export function indelSimilarity(a: string, b: string, unit: 'chars' | 'tokens'): number {
  const ua = unit === 'chars' ? chars(a) : wordTokens(a);
  const ub = unit === 'chars' ? chars(b) : wordTokens(b);
  const total = ua.length + ub.length;
  if (total === 0) return 1;
  const ids = new Map<string, number>();
  const code = (u: string): number => {
    let id = ids.get(u);
    if (id === undefined) ids.set(u, (id = ids.size));
    return id;
  };
  const na = ua.map(code);
  const nb = ub.map(code);
  // The shorter sequence is the bit pattern: fewer words per step.
  const lcs = na.length <= nb.length ? lcsLength(na, nb) : lcsLength(nb, na);
  return (2 * lcs) / total;
}

/**
 * `edit_distance` — normalised Levenshtein similarity (Levenshtein 1966, "Binary codes capable of
 * correcting deletions, insertions, and reversals"): 1 − d/max(len) between completion and reference,
 * in characters (Unicode code points; default) or in {@link wordTokens} tokens (`unit: tokens`).
 * `metric: indel` counts insertions and deletions only (no substitution) and normalises by the sum of
 * the lengths: 2·LCS/(|a| + |b|), rapidfuzz's `fuzz.ratio` / 100 ({@link indelSimilarity}); `rewardkit spec
 * import` maps OpenAI's `text_similarity` `fuzzy_match` onto it (OpenAI documents only that it uses
 * rapidfuzz; `fuzz.ratio`, rapidfuzz's basic scorer, without preprocessing, is inferred).
 * An empty completion → 0. A reference list gives the maximum over references; no reference, or only
 * empty ones after normalisation → `null` (cannot judge; the null rule, types.ts). Uses fastest-levenshtein (Myers' bit-parallel algorithm, O(n·m/32)).
 *
 * Cost bound: both texts are cut to their first `max_chars` characters before comparing (then
 * tokenised for `unit: tokens`; `details.truncated` says so). A runaway completion is compared on
 * its first `max_chars` characters, which still differ from a short reference in length, so it
 * still scores low.
 *
 * @example
 * # spec
 * - {name: close, grader: edit_distance}
 * # rollout {"completion": "kitten", "reference": "sitting"} → 0.5714 (d = 3, max len 7)
 */
export const editDistanceGrader = defineGrader({
  kind: 'edit_distance',
  summary: 'Normalised Levenshtein similarity 1 − d/max(len) (or Indel similarity, as rapidfuzz fuzz.ratio) to the reference(s), in [0, 1].',
  params: {
    unit: z
      .enum(['chars', 'tokens'])
      .default('chars')
      .describe('Edit unit: `chars` (Unicode code points, default) or `tokens` (words and punctuation marks).'),
    metric: z
      .enum(['levenshtein', 'indel'])
      .default('levenshtein')
      .describe('`levenshtein` (default): 1 − d/max(len) with substitutions; `indel`: insertions and deletions only, 2·LCS/(len₁ + len₂), as rapidfuzz fuzz.ratio / 100 (what spec import maps the OpenAI text_similarity fuzzy_match metric onto [INF]).'),
    max_chars: z
      .number()
      .int()
      .min(1)
      .max(MAX_UNITS)
      .default(20_000)
      .describe(`Each text is cut to its first max_chars characters before comparing, bounding the O(n·m) cost (default 20000, at most ${MAX_UNITS}).`),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const norm = params.normalize;
    const max = params.max_chars;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null || texts.length === 0) return null;
        let truncated = false;
        const cap = (text: string): string => {
          const t = truncateChars(text, max);
          if (t.length < text.length) truncated = true;
          return t;
        };
        const refs = texts.map((r) => normalizeText(r, norm)).filter((r) => r !== '');
        // An empty reference cannot be judged against (an empty completion would match it): null.
        if (refs.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const completion = cap(normalizeText(s.completion, norm));
        let best = 0;
        const similarity = params.metric === 'indel' ? indelSimilarity : levenshteinSimilarity;
        for (const r of refs) best = Math.max(best, similarity(completion, cap(r), params.unit));
        return truncated ? { score: best, details: { truncated: true } } : best;
      },
    };
  },
});
