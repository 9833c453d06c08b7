import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { rougeScoreTokens, unicodeWordTokens } from './tokens.js';

export interface RougeNScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** The n-grams of `tokens` with their counts (keys: the tokens joined by U+0001, which no token holds). */
function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = n === 1 ? tokens[i]! : tokens.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * ROUGE-N of a prediction against one target, as rouge-score's `_score_ngrams`: the overlap is the
 * clipped count Σ min(count in prediction, count in target) over n-grams; P = overlap / #prediction
 * n-grams, R = overlap / #target n-grams (each denominator at least 1), F = 2PR / (P + R), 0 when
 * P + R = 0.
 *
 * @example
 * rougeN(['the', 'cat', 'sat'], ['the', 'cat', 'lay'], 2) // → {precision: 0.5, recall: 0.5, fmeasure: 0.5}
 */
export function rougeN(prediction: readonly string[], target: readonly string[], n: number): RougeNScore {
  const p = ngramCounts(prediction, n);
  const t = ngramCounts(target, n);
  let overlap = 0;
  for (const [k, c] of p) {
    const tc = t.get(k);
    if (tc !== undefined) overlap += Math.min(c, tc);
  }
  const pn = Math.max(prediction.length - n + 1, 0);
  const tn = Math.max(target.length - n + 1, 0);
  const precision = overlap / Math.max(pn, 1);
  const recall = overlap / Math.max(tn, 1);
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/**
 * `rouge_n` — ROUGE-N (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries"): clipped
 * n-gram overlap of completion and reference, as google-research's `rouge-score` computes `rouge1` …
 * `rouge9` ({@link rougeN}). Tokenisation by default is rouge-score's (lower-case, every run of
 * non-`[a-z0-9]` characters a separator, so non-ASCII letters are dropped); `tokenizer: unicode`
 * keeps letters and digits of every script. rouge-score's optional Porter stemmer is not implemented
 * (its `use_stemmer=False` default). `rewardkit spec import` maps OpenAI's `text_similarity`
 * `rouge_1` … `rouge_5` onto it.
 *
 * Returns the F-measure (or precision/recall with `measure`), in [0, 1]. A reference list gives the
 * maximum over references. References without tokens are ignored; with none left → `null` (cannot
 * judge). A completion without tokens, or shorter than n tokens, scores 0 (the null rule, types.ts).
 * Cost O(completion + reference) per reference.
 *
 * @example
 * # spec
 * - {name: overlap, grader: rouge_n, n: 2}
 * # rollout {"completion": "the cat sat on the mat", "reference": "the cat lay on the mat"} → 0.6 (3 of 5 bigrams)
 */
export const rougeNGrader = defineGrader({
  kind: 'rouge_n',
  summary: 'ROUGE-N (clipped n-gram overlap) F-measure against the reference(s), as rouge-score rouge1…rouge9, in [0, 1].',
  params: {
    n: z.number().int().min(1).max(9).default(1).describe('n-gram order: 1 for ROUGE-1 (default), 2 for ROUGE-2, … up to 9 (as rouge-score).'),
    measure: z
      .enum(['f', 'precision', 'recall'])
      .default('f')
      .describe('Which ROUGE-N value to return: `f` (F-measure, default), `precision` (overlap / completion n-grams) or `recall` (overlap / reference n-grams).'),
    tokenizer: z
      .enum(['rouge_score', 'unicode'])
      .default('rouge_score')
      .describe("`rouge_score` (default): rouge-score's ASCII tokeniser; `unicode`: letters and digits of any script, one token per CJK character."),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const tokenize = params.tokenizer === 'unicode' ? unicodeWordTokens : rougeScoreTokens;
    const norm = params.normalize;
    const n = params.n;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null) return null;
        const refs = texts.map((r) => tokenize(normalizeText(r, norm))).filter((r) => r.length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference has no tokens' } };
        const prediction = tokenize(normalizeText(s.completion, norm));
        let best: RougeNScore | null = null;
        let bestValue = -1;
        for (const ref of refs) {
          const r = rougeN(prediction, ref, n);
          const value = params.measure === 'f' ? r.fmeasure : params.measure === 'precision' ? r.precision : r.recall;
          if (value > bestValue) [best, bestValue] = [r, value];
        }
        return { score: bestValue, details: { ...best! } };
      },
    };
  },
});
