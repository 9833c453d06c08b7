import { z } from 'zod';
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
 * `edit_distance` — normalised Levenshtein similarity (Levenshtein 1966, "Binary codes capable of
 * correcting deletions, insertions, and reversals"): 1 − d/max(len) between completion and reference,
 * in characters (Unicode code points; default) or in {@link wordTokens} tokens (`unit: tokens`).
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
  summary: 'Normalised Levenshtein similarity 1 − d/max(len) to the reference(s), in [0, 1].',
  params: {
    unit: z
      .enum(['chars', 'tokens'])
      .default('chars')
      .describe('Edit unit: `chars` (Unicode code points, default) or `tokens` (words and punctuation marks).'),
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
        for (const r of refs) best = Math.max(best, levenshteinSimilarity(completion, cap(r), params.unit));
        return truncated ? { score: best, details: { truncated: true } } : best;
      },
    };
  },
});
