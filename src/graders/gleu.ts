import * as z from 'zod';
import { ParamError, defineGrader } from './types.js';
import { normalizeSchema, normalizeText } from './normalize.js';
import { nltkTokenizerParam, nltkTokens, referenceTokenLists } from './nltk_tokens.js';

/** Every n-gram of `tokens` with minLen ≤ n ≤ maxLen, counted (NLTK's `Counter(everygrams(...))`). */
function everygramCounts(tokens: readonly string[], minLen: number, maxLen: number): { counts: Map<string, number>; total: number } {
  const counts = new Map<string, number>();
  let total = 0;
  for (let n = minLen; n <= maxLen; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // The order prefixes the key: n-grams of different orders never collide.
      let key = `${n}\u0002${tokens[i]!}`;
      for (let k = 1; k < n; k++) key += '\u0001' + tokens[i + k]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    }
  }
  return { counts, total };
}

export interface GleuStats {
  score: number;
  /** Matching n-grams (all orders) with the chosen reference. */
  matches: number;
  /** max(hypothesis n-grams, reference n-grams): min(precision, recall) = matches / this. */
  total: number;
}

/**
 * NLTK's `sentence_gleu(references, hypothesis, min_len, max_len)` (Wu et al. 2016): over all n-grams
 * of orders min_len … max_len, tp = clipped matches, GLEU = min(tp / |hyp n-grams|, tp / |ref n-grams|)
 * = tp / max(both); with several references the best ratio (the first on ties); 0 when nothing counts.
 *
 * @example
 * sentenceGleu([['the', 'cat', 'is', 'on', 'the', 'mat']], ['the', 'the', 'the', 'the', 'the', 'the', 'the']).score // → 1/11 ≈ 0.0909
 */
export function sentenceGleu(references: readonly (readonly string[])[], hypothesis: readonly string[], minLen = 1, maxLen = 4): GleuStats {
  const hyp = everygramCounts(hypothesis, minLen, maxLen);
  let best: GleuStats | null = null;
  for (const ref of references) {
    const r = everygramCounts(ref, minLen, maxLen);
    let tp = 0;
    for (const [k, c] of hyp.counts) {
      const rc = r.counts.get(k);
      if (rc !== undefined) tp += Math.min(c, rc);
    }
    const nAll = Math.max(hyp.total, r.total);
    if (nAll > 0 && (best === null || tp / nAll > best.score)) best = { score: tp / nAll, matches: tp, total: nAll };
  }
  return best ?? { score: 0, matches: 0, total: 0 };
}

/**
 * `gleu` — Google-BLEU (Wu et al. 2016, "Google's Neural Machine Translation System: Bridging the Gap
 * between Human and Machine Translation"): the minimum of n-gram precision and recall over all
 * n-grams of orders 1 … 4 together, as NLTK's `sentence_gleu` computes it ({@link sentenceGleu}) over NLTK
 * `word_tokenize` tokens (src/graders/nltk_tokens.ts) — the computation of Microsoft's Azure AI
 * evaluation `GleuScoreEvaluator`. `rewardkit spec import` maps OpenAI's `text_similarity` `gleu` onto it
 * (OpenAI does not publish its scorer: the mapping is inferred). Case-sensitive, as NLTK.
 *
 * Returns GLEU in [0, 1], symmetric in completion and reference. A reference list gives the best
 * reference. References without tokens are ignored; with none left, or no reference → `null`
 * (cannot judge). An empty completion scores 0 (the null rule, types.ts). Repeating the reference or
 * padding it lowers precision, and so the score. Linear in the texts' lengths (times max_len).
 *
 * @example
 * # spec
 * - {name: overlap, grader: gleu}
 * # rollout {"completion": "the the the the the the the", "reference": "the cat is on the mat"}
 * # → 0.0909 (2 matching unigrams of max(22, 18) n-grams = 2/22)
 */
export const gleuGrader = defineGrader({
  kind: 'gleu',
  summary: 'Google-BLEU: min(n-gram precision, recall) over orders 1…4, as NLTK sentence_gleu on word_tokenize tokens (Azure AI GleuScoreEvaluator), in [0, 1]; what spec import maps the OpenAI text_similarity gleu metric onto [INF].',
  params: {
    min_len: z.number().int().min(1).max(10).default(1).describe('Smallest n-gram order counted (default 1).'),
    max_len: z.number().int().min(1).max(10).default(4).describe('Largest n-gram order counted (default 4).'),
    tokenizer: nltkTokenizerParam,
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    if (params.min_len > params.max_len) throw new ParamError('min_len', `min_len (${params.min_len}) must not exceed max_len (${params.max_len}).`);
    const norm = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTokenLists(s.reference, norm, params.tokenizer);
        if (refs === null) return null;
        if (refs === 'empty') return { score: null, details: { reason: 'the reference has no tokens' } };
        const st = sentenceGleu(refs, nltkTokens(normalizeText(s.completion, norm), params.tokenizer), params.min_len, params.max_len);
        return { score: st.score, details: { matches: st.matches, total: st.total } };
      },
    };
  },
});
