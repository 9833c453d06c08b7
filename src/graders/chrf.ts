import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { NgramTrie, chars, removeWhitespace, splitWhitespace } from './tokens.js';

/** The punctuation chrF++ splits off words (Python's `string.punctuation`). */
const ASCII_PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * Words for chrF++'s word n-grams, as sacrebleu (after Popović's chrF++.py): split on whitespace, then
 * one ASCII punctuation mark at the end of a word (else at its start) is split off.
 *
 * @example
 * chrfWords('(hi) there, ok') // → ['(hi', ')', 'there', ',', 'ok']
 */
export function chrfWords(text: string): string[] {
  const out: string[] = [];
  for (const w of splitWhitespace(text)) {
    const cs = chars(w);
    if (cs.length === 1) {
      out.push(w);
    } else if (ASCII_PUNCT.has(cs[cs.length - 1]!)) {
      out.push(cs.slice(0, -1).join(''), cs[cs.length - 1]!);
    } else if (ASCII_PUNCT.has(cs[0]!)) {
      out.push(cs[0]!, cs.slice(1).join(''));
    } else {
      out.push(w);
    }
  }
  return out;
}

export interface ChrfOptions {
  charOrder: number;
  wordOrder: number;
  beta: number;
}

/** Per order: [hypothesis n-grams, reference n-grams, clipped matches], as sacrebleu's statistics. */
type OrderStats = [number, number, number];

interface Side {
  chars: string[];
  words: string[];
}

function prepare(text: string, opts: ChrfOptions): Side {
  return { chars: chars(removeWhitespace(text)), words: opts.wordOrder > 0 ? chrfWords(text) : [] };
}

function orderStats(hyp: readonly string[], ref: readonly string[], maxOrder: number): OrderStats[] {
  const matches = NgramTrie.of(ref, maxOrder).clippedMatches(hyp, maxOrder);
  return matches.map((match, k) => {
    const refTotal = Math.max(0, ref.length - k);
    // sacrebleu counts no hypothesis n-grams of an order the reference has none of.
    const hypTotal = refTotal > 0 ? Math.max(0, hyp.length - k) : 0;
    return [hypTotal, refTotal, match];
  });
}

/**
 * chrF of one hypothesis/reference pair from per-order statistics, as sacrebleu's default
 * (`eps_smoothing=False`): precision and recall are averaged over the orders where both sides have
 * n-grams, then combined into F-beta. Returns [0, 1].
 */
function fScore(stats: readonly OrderStats[], beta: number): number {
  const factor = beta ** 2;
  let avgPrec = 0;
  let avgRec = 0;
  let effective = 0;
  for (const [hyp, ref, match] of stats) {
    if (hyp > 0 && ref > 0) {
      avgPrec += match / hyp;
      avgRec += match / ref;
      effective++;
    }
  }
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return ((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

/**
 * Sentence chrF of `hyp` against `refs` (raw, normalised texts). With several references the one with
 * the best F wins, as in sacrebleu. Linear in the hypothesis length.
 */
export function sentenceChrf(hyp: string, refs: readonly string[], opts: ChrfOptions): number {
  const h = prepare(hyp, opts);
  let best = 0;
  for (const r of refs) {
    const ref = prepare(r, opts);
    const stats = orderStats(h.chars, ref.chars, opts.charOrder);
    if (opts.wordOrder > 0) stats.push(...orderStats(h.words, ref.words, opts.wordOrder));
    best = Math.max(best, fScore(stats, opts.beta));
  }
  return Math.min(1, best);
}

/**
 * `chrf` — character n-gram F-score: chrF (Popović 2015, "chrF: character n-gram F-score for automatic
 * MT evaluation") and, with `word_order: 2`, chrF++ (Popović 2017, "chrF++: words helping character
 * n-grams"), computed as sacrebleu's `sentence_chrf`: character n-grams up to 6 with whitespace
 * removed, beta 2, precision and recall averaged over the orders both sides have (sacrebleu's default,
 * no epsilon smoothing). Returns sacrebleu's score / 100, in [0, 1].
 *
 * A reference list keeps the best-scoring reference. References without any non-space character are
 * ignored; with none left the grader returns `null` (cannot judge). An empty completion scores 0 (the null rule, types.ts).
 *
 * @example
 * # spec
 * - {name: chrf, grader: chrf}
 * # rollout {"completion": "ab", "reference": "abc"} → 0.6364
 * # (P = 1, R = (2/3 + 1/2)/2 = 7/12 over orders 1–2; F2 = 5·P·R/(4P + R) = 7/11; sacrebleu 63.64)
 */
export const chrfGrader = defineGrader({
  kind: 'chrf',
  summary: 'chrF / chrF++ character n-gram F-score against the reference(s), as sacrebleu, in [0, 1].',
  params: {
    char_order: z.number().int().min(1).max(20).default(6).describe('Maximum character n-gram order (default 6).'),
    word_order: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe('Maximum word n-gram order (default 0 = chrF; 2 = chrF++).'),
    beta: z.number().positive().default(2).describe('Recall is weighted beta times as much as precision (default 2).'),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const opts: ChrfOptions = { charOrder: params.char_order, wordOrder: params.word_order, beta: params.beta };
    const norm = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null) return null;
        const refs = texts.map((r) => normalizeText(r, norm)).filter((r) => removeWhitespace(r).length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference has no non-space characters' } };
        return sentenceChrf(normalizeText(s.completion, norm), refs, opts);
      },
    };
  },
});
