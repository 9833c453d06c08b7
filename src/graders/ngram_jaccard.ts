import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { ngramSet, units } from './tokens.js';

/**
 * Jaccard similarity |A ∩ B| / |A ∪ B| of the n-gram sets of two unit sequences. When neither has an
 * n-gram (both shorter than n), the sequences are compared whole: 1 if equal, else 0.
 *
 * @example
 * ngramJaccard(['a', 'b', 'c'], ['a', 'b', 'd'], 2) // → 1/3 ({ab, bc} vs {ab, bd})
 */
export function ngramJaccard(a: readonly string[], b: readonly string[], n: number): number {
  const sa = ngramSet(a, n);
  const sb = ngramSet(b, n);
  if (sa.size === 0 && sb.size === 0) return a.length === b.length && a.every((u, i) => u === b[i]) ? 1 : 0;
  const [small, large] = sa.size <= sb.size ? [sa, sb] : [sb, sa];
  let inter = 0;
  for (const g of small) if (large.has(g)) inter++;
  return inter / (sa.size + sb.size - inter);
}

/**
 * `ngram_jaccard` — Jaccard similarity (Jaccard 1901; on shingles: Broder 1997, "On the resemblance
 * and containment of documents") of the completion's and the reference's n-gram sets, over
 * word tokens (see tokens.ts `wordTokens`; default) or characters. Counts are ignored: a repeated n-gram counts once.
 * Texts too short to have an n-gram are compared whole (equal → 1, else 0); an empty completion → 0.
 * A reference list gives the maximum over references; no reference, or only empty ones → `null`
 * (cannot judge; the null rule, types.ts). Linear in the input.
 *
 * @example
 * # spec
 * - {name: overlap, grader: ngram_jaccard, n: 2}
 * # rollout {"completion": "the cat sat", "reference": "the cat ran"} → 0.3333 ({the cat, cat sat} vs {the cat, cat ran})
 */
export const ngramJaccardGrader = defineGrader({
  kind: 'ngram_jaccard',
  summary: 'Jaccard similarity of completion and reference n-gram sets, in [0, 1].',
  params: {
    n: z.number().int().min(1).max(50).default(2).describe('n-gram order (default 2).'),
    unit: z
      .enum(['tokens', 'chars'])
      .default('tokens')
      .describe('`tokens` (words, CJK characters and punctuation marks; default) or `chars` (Unicode code points, whitespace included).'),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const norm = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null || texts.length === 0) return null;
        const refs = texts.map((r) => units(normalizeText(r, norm), params.unit)).filter((r) => r.length > 0);
        // An empty reference cannot be judged against (an empty completion would match it): null.
        if (refs.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const completion = units(normalizeText(s.completion, norm), params.unit);
        let best = 0;
        for (const r of refs) best = Math.max(best, ngramJaccard(completion, r, params.n));
        return best;
      },
    };
  },
});
