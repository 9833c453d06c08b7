import * as z from 'zod';
import { ParamError, defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { NgramTrie, chars, removeWhitespace, rstripWhitespace, splitWhitespace, tokenize13a } from './tokens.js';

export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';
export type BleuTokenizer = '13a' | 'none' | 'char';

/** sacrebleu's defaults for the smoothing value (Chen & Cherry 2014): floor 0.1, add-k 1. */
const SMOOTH_DEFAULTS: Record<BleuSmoothing, number> = { exp: 0, floor: 0.1, 'add-k': 1, none: 0 };

/** sacrebleu floors log(0) at this value so that a zero precision drives the score to 0 without NaN. */
const LOG_ZERO = -9999999999;

export interface BleuOptions {
  maxOrder: number;
  smoothing: BleuSmoothing;
  smoothValue: number;
  effectiveOrder: boolean;
}

export interface BleuStats {
  /** BLEU in [0, 1] (sacrebleu's score / 100). */
  score: number;
  /** Clipped n-gram matches per order. */
  correct: number[];
  /** Hypothesis n-grams per order. */
  total: number[];
  /** Modified precisions per order, in [0, 1] (after smoothing). */
  precisions: number[];
  brevityPenalty: number;
  hypLength: number;
  /** The reference length used for the brevity penalty (closest to the hypothesis, the shorter on ties). */
  refLength: number;
}

/** The tokens sacrebleu's BLEU sees for one segment (after its `rstrip`). */
export function bleuTokens(text: string, tokenizer: BleuTokenizer): string[] {
  const line = rstripWhitespace(text);
  if (tokenizer === '13a') return tokenize13a(line);
  if (tokenizer === 'char') return chars(removeWhitespace(line));
  return splitWhitespace(line);
}

/**
 * Sentence BLEU of `hyp` against one or more references (already tokenised), following sacrebleu's
 * `BLEU.compute_bleu` and multi-reference rule: reference n-gram counts are the maximum over the
 * references, the brevity penalty uses the reference length closest to the hypothesis length.
 */
export function sentenceBleu(hyp: readonly string[], refs: readonly (readonly string[])[], opts: BleuOptions): BleuStats {
  const { maxOrder } = opts;
  const refCounts = NgramTrie.of(refs[0]!, maxOrder);
  for (const ref of refs.slice(1)) refCounts.mergeMax(NgramTrie.of(ref, maxOrder));
  const hypLength = hyp.length;
  let refLength = -1;
  for (const ref of refs) {
    const d = Math.abs(hypLength - ref.length);
    const best = Math.abs(hypLength - refLength);
    if (refLength < 0 || d < best || (d === best && ref.length < refLength)) refLength = ref.length;
  }

  const correct = refCounts.clippedMatches(hyp, maxOrder);
  const total = correct.map((_, k) => Math.max(0, hypLength - k));
  let brevityPenalty = 1;
  if (hypLength < refLength) brevityPenalty = hypLength > 0 ? Math.exp(1 - refLength / hypLength) : 0;
  // Precisions on sacrebleu's 0–100 scale, computed in its order of operations, so results match it bit for bit.
  const p100 = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuStats => ({
    score: Math.min(1, Math.max(0, score)),
    correct,
    total,
    precisions: p100.map((p) => p / 100),
    brevityPenalty,
    hypLength,
    refLength,
  });
  if (correct.every((c) => c === 0)) return result(0);

  const k = opts.smoothValue;
  let expDenominator = 1;
  let order = maxOrder;
  for (let n = 0; n < maxOrder; n++) {
    let c = correct[n]!;
    let t = total[n]!;
    if (opts.smoothing === 'add-k' && n > 0) {
      c += k;
      t += k;
    }
    if (t === 0) break;
    if (opts.effectiveOrder) order = n + 1;
    if (c === 0) {
      if (opts.smoothing === 'exp') {
        expDenominator *= 2;
        p100[n] = 100 / (expDenominator * t);
      } else if (opts.smoothing === 'floor') {
        p100[n] = (100 * k) / t;
      }
    } else {
      p100[n] = (100 * c) / t;
    }
  }
  let logSum = 0;
  for (let n = 0; n < order; n++) logSum += p100[n]! === 0 ? LOG_ZERO : Math.log(p100[n]!);
  return result((brevityPenalty * Math.exp(logSum / order)) / 100);
}

/**
 * `bleu` — sentence-level BLEU (Papineni et al. 2002, "BLEU: a Method for Automatic Evaluation of
 * Machine Translation") of the completion against the reference, computed as sacrebleu's
 * `sentence_bleu` (Post 2018, "A Call for Clarity in Reporting BLEU Scores"): max order 4, brevity
 * penalty, `exp` smoothing (NIST, Chen & Cherry 2014 method 3), effective order on, `13a` tokeniser.
 * Returns sacrebleu's score divided by 100, in [0, 1]. sacrebleu's `lowercase=True` is
 * `normalize: {case: lower}` here; its `zh`, `intl`, `ja-mecab`, `spm` tokenisers are not offered.
 *
 * A reference list is scored as sacrebleu's multi-reference BLEU. References that have no tokens are
 * ignored (sacrebleu would give 0, which says nothing about the completion); with no reference left
 * the grader returns `null` (cannot judge). An empty completion scores 0 (the null rule, types.ts). Linear in the completion's length.
 *
 * @example
 * # spec
 * - {name: translation, grader: bleu}
 * # rollout {"completion": "the cat sat on the mat", "reference": "the cat is on the mat"}
 * # → 0.3799 ((5/6 · 3/5 · 1/4 · 1/6)^(1/4): the 4-gram precision 0/3 is smoothed to 1/(2·3); sacrebleu 37.99)
 */
export const bleuGrader = defineGrader({
  kind: 'bleu',
  summary: 'Sentence BLEU against the reference(s), as sacrebleu sentence_bleu, in [0, 1].',
  params: {
    tokenize: z
      .enum(['13a', 'none', 'char'])
      .default('13a')
      .describe("Tokeniser: `13a` (sacrebleu's default, mteval-v13a rules), `none` (split on whitespace) or `char` (every non-space character)."),
    smooth_method: z
      .enum(['exp', 'floor', 'add-k', 'none'])
      .default('exp')
      .describe('Smoothing of zero n-gram precisions, as sacrebleu: `exp` (default), `floor`, `add-k` or `none`.'),
    smooth_value: z
      .number()
      .positive()
      .optional()
      .describe('Smoothing value for `floor` (default 0.1) and `add-k` (default 1); not allowed with `exp` or `none`.'),
    max_order: z.number().int().min(1).max(10).default(4).describe('Maximum n-gram order (default 4).'),
    effective_order: z
      .boolean()
      .default(true)
      .describe('Average only over the orders the hypothesis has n-grams for (sacrebleu sentence_bleu default: true).'),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const smoothing = params.smooth_method;
    if (params.smooth_value !== undefined && (smoothing === 'exp' || smoothing === 'none')) {
      throw new ParamError('smooth_value', `smooth_value only applies to smooth_method floor or add-k, not ${smoothing}.`);
    }
    const opts: BleuOptions = {
      maxOrder: params.max_order,
      smoothing,
      smoothValue: params.smooth_value ?? SMOOTH_DEFAULTS[smoothing],
      effectiveOrder: params.effective_order,
    };
    const norm = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null) return null;
        const refs = texts.map((r) => bleuTokens(normalizeText(r, norm), params.tokenize)).filter((r) => r.length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference has no tokens' } };
        const stats = sentenceBleu(bleuTokens(normalizeText(s.completion, norm), params.tokenize), refs, opts);
        return {
          score: stats.score,
          details: {
            precisions: stats.precisions,
            brevity_penalty: stats.brevityPenalty,
            hyp_length: stats.hypLength,
            ref_length: stats.refLength,
          },
        };
      },
    };
  },
});
