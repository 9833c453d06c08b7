import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText } from './normalize.js';
import { nltkTokenizerParam, nltkTokens, referenceTokenLists } from './nltk_tokens.js';

/** NLTK's `SmoothingFunction` default `k` (method 4's constant). */
const METHOD4_K = 5;

/**
 * Exactly rounded sum of `xs` (Python's `math.fsum`: Shewchuk's partials, then a correctly rounded
 * total), so that BLEU's log-sum equals NLTK's bit for bit.
 */
export function fsum(xs: readonly number[]): number {
  const partials: number[] = [];
  for (let x of xs) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Round half-even across the remaining partials, as CPython does.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

/** The n-grams of `tokens` with their counts (keys: tokens joined by U+0001). */
function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    let key = tokens[i]!;
    for (let k = 1; k < n; k++) key += '\u0001' + tokens[i + k]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export interface NltkBleuStats {
  score: number;
  /** Clipped n-gram matches per order (the modified precision's numerator). */
  matches: number[];
  /** max(1, hypothesis n-grams) per order (its denominator). */
  totals: number[];
  /** The precisions used, after smoothing (0 where NLTK leaves a zero precision out of the mean). */
  precisions: number[];
  brevityPenalty: number;
  hypLength: number;
  /** The reference length closest to the hypothesis length (the shorter on ties). */
  refLength: number;
}

/**
 * NLTK's `sentence_bleu(references, hypothesis, weights=(1/N,)*N, smoothing_function=SmoothingFunction().method4)`
 * on token lists: modified n-gram precisions p_n = clipped matches / max(1, hypothesis n-grams), with
 * reference counts the maximum over the references; 0 when no unigram matches; method 4 (Chen &
 * Cherry 2014) replaces the k-th zero precision by (ln(|h|) / (5 · 2^k)) / its denominator when |h| > 1
 * (a zero precision left unsmoothed is dropped from the sum, as NLTK drops it); BLEU = BP · exp(Σ (1/N) ln p_n)
 * with BP = 1 if |h| > r, 0 if |h| = 0, else exp(1 − r/|h|), r the closest reference length.
 *
 * @example
 * nltkSentenceBleu([['the', 'cat', 'is', 'on', 'the', 'mat']], ['the', 'cat', 'sat', 'on', 'the', 'mat']).score // → 0.2939 (p4 = 0/3 smoothed to (ln 6 / 10) / 3)
 */
export function nltkSentenceBleu(references: readonly (readonly string[])[], hypothesis: readonly string[], maxOrder = 4): NltkBleuStats {
  const hypLength = hypothesis.length;
  let refLength = -1;
  for (const ref of references) {
    const d = Math.abs(ref.length - hypLength);
    const best = Math.abs(refLength - hypLength);
    if (refLength < 0 || d < best || (d === best && ref.length < refLength)) refLength = ref.length;
  }
  const matches: number[] = [];
  const totals: number[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = ngramCounts(hypothesis, n);
    const refCounts = references.map((ref) => ngramCounts(ref, n));
    let num = 0;
    let total = 0;
    for (const [k, c] of counts) {
      // Clip by the largest count of the n-gram in any one reference.
      let max = 0;
      for (const rc of refCounts) max = Math.max(max, rc.get(k) ?? 0);
      num += Math.min(c, max);
      total += c;
    }
    matches.push(num);
    totals.push(Math.max(1, total));
  }
  let brevityPenalty = 1;
  if (!(hypLength > refLength)) brevityPenalty = hypLength === 0 ? 0 : Math.exp(1 - refLength / hypLength);
  const precisions = matches.map((m, i) => m / totals[i]!);
  const stats = (score: number): NltkBleuStats => ({ score, matches, totals, precisions, brevityPenalty, hypLength, refLength });
  if (matches[0] === 0) return stats(0);
  let incvnt = 1;
  for (let i = 0; i < maxOrder; i++) {
    if (matches[i] === 0 && hypLength > 1) {
      // NLTK's order of operations: 1 / (2**k * K / ln|h|), then / denominator.
      precisions[i] = 1 / ((2 ** incvnt * METHOD4_K) / Math.log(hypLength)) / totals[i]!;
      incvnt++;
    }
  }
  const w = 1 / maxOrder;
  const terms = precisions.filter((p) => p > 0).map((p) => w * Math.log(p));
  return stats(brevityPenalty * Math.exp(fsum(terms)));
}

/**
 * `nltk_bleu` — sentence BLEU (Papineni et al. 2002, "BLEU: a Method for Automatic Evaluation of
 * Machine Translation") as NLTK's `sentence_bleu` computes it with smoothing method 4 (Chen & Cherry
 * 2014, "A Systematic Comparison of Smoothing Techniques for Sentence-Level BLEU") over NLTK
 * `word_tokenize` tokens ({@link nltkSentenceBleu}, src/graders/nltk_tokens.ts) — the computation of
 * Microsoft's Azure AI evaluation `BleuScoreEvaluator`. `rewardkit spec import` maps OpenAI's
 * `text_similarity` `bleu` onto it (OpenAI does not publish its scorer: the mapping is inferred).
 * Case-sensitive, as NLTK; `normalize: {case: lower}` folds case. The `bleu` grader is sacrebleu's BLEU
 * (another tokeniser and smoothing: other numbers).
 *
 * Returns BLEU in [0, 1]. A reference list is NLTK's multi-reference BLEU (clip counts by the maximum
 * over references, brevity penalty against the closest length). References without tokens are
 * ignored; with none left, or no reference → `null` (cannot judge). An empty completion scores 0 (the
 * null rule, types.ts). A completion that repeats the reference or pads it loses precision (counts
 * are clipped). Linear in the texts' lengths.
 *
 * @example
 * # spec
 * - {name: translation, grader: nltk_bleu}
 * # rollout {"completion": "the cat sat on the mat", "reference": "the cat is on the mat"}
 * # → 0.2939 ((5/6 · 3/5 · 1/4 · (ln 6/10)/3)^(1/4): the zero 4-gram precision smoothed by method 4)
 */
export const nltkBleuGrader = defineGrader({
  kind: 'nltk_bleu',
  summary: 'Sentence BLEU against the reference(s), as NLTK sentence_bleu with smoothing method 4 on word_tokenize tokens (Azure AI BleuScoreEvaluator), in [0, 1]; what spec import maps the OpenAI text_similarity bleu metric onto [INF].',
  params: {
    max_order: z.number().int().min(1).max(10).default(4).describe('Maximum n-gram order N, with uniform weights 1/N (default 4, NLTK\'s default weights).'),
    tokenizer: nltkTokenizerParam,
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const norm = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTokenLists(s.reference, norm, params.tokenizer);
        if (refs === null) return null;
        if (refs === 'empty') return { score: null, details: { reason: 'the reference has no tokens' } };
        const st = nltkSentenceBleu(refs, nltkTokens(normalizeText(s.completion, norm), params.tokenizer), params.max_order);
        return {
          score: st.score,
          details: { precisions: st.precisions, brevity_penalty: st.brevityPenalty, hyp_length: st.hypLength, ref_length: st.refLength },
        };
      },
    };
  },
});
