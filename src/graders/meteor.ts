import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText } from './normalize.js';
import { nltkTokenizerParam, nltkTokens, referenceTokenLists } from './nltk_tokens.js';
import { porterStem } from './porter.js';

export interface MeteorOptions {
  alpha: number;
  beta: number;
  gamma: number;
  /** Run the Porter-stem stage after the exact stage (NLTK: yes). */
  stem: boolean;
}

export interface MeteorStats {
  score: number;
  matches: number;
  /** Matches found by the exact stage; the rest come from the stem stage. */
  exactMatches: number;
  chunks: number;
  precision: number;
  recall: number;
}

/**
 * One stage of NLTK's METEOR alignment (`_match_enums`): hypothesis words from last to first, each
 * matched to the last unmatched reference word equal to it. `hyp`/`ref` are [original index, word]
 * lists of the still unmatched words; matched pairs are appended to `out`. Returns the unmatched lists.
 * O(|hyp| + |ref|) (NLTK's nested scan gives the same pairs in O(|hyp| · |ref|)).
 */
function matchStage(hyp: Array<[number, string]>, ref: Array<[number, string]>, out: Array<[number, number]>): [Array<[number, string]>, Array<[number, string]>] {
  const positions = new Map<string, number[]>();
  for (let j = 0; j < ref.length; j++) {
    const w = ref[j]![1];
    const list = positions.get(w);
    if (list) list.push(j);
    else positions.set(w, [j]);
  }
  const refUsed = new Uint8Array(ref.length);
  const restHyp: Array<[number, string]> = [];
  for (let i = hyp.length - 1; i >= 0; i--) {
    const list = positions.get(hyp[i]![1]);
    const j = list?.pop();
    if (j === undefined) restHyp.push(hyp[i]!);
    else {
      out.push([hyp[i]![0], ref[j]![0]]);
      refUsed[j] = 1;
    }
  }
  restHyp.reverse();
  return [restHyp, ref.filter((_, j) => refUsed[j] === 0)];
}

/**
 * NLTK's `single_meteor_score(reference, hypothesis, alpha, beta, gamma)` (Lavie & Agarwal 2007)
 * without its WordNet synonym stage: words lower-cased; aligned by exact match, then by Porter stem
 * (NLTK's variant, src/graders/porter.ts) on the words left; m matches, P = m/|h|, R = m/|r|,
 * Fmean = P·R / (α·P + (1 − α)·R), chunks = runs of matches adjacent in both texts,
 * score = (1 − γ·(chunks/m)^β) · Fmean; 0 when nothing matches or either side is empty.
 *
 * @example
 * meteorScore(['the', 'cat', 'sat'], ['the', 'cat', 'sat'], {alpha: 0.9, beta: 3, gamma: 0.5, stem: true}).score // → 1 − 0.5/27 ≈ 0.9815
 */
export function meteorScore(reference: readonly string[], hypothesis: readonly string[], opts: MeteorOptions): MeteorStats {
  const hyp: Array<[number, string]> = hypothesis.map((w, i) => [i, w.toLowerCase()]);
  const ref: Array<[number, string]> = reference.map((w, i) => [i, w.toLowerCase()]);
  const pairs: Array<[number, number]> = [];
  let [restHyp, restRef] = matchStage(hyp, ref, pairs);
  const exactMatches = pairs.length;
  if (opts.stem && restHyp.length > 0 && restRef.length > 0) {
    const cache = new Map<string, string>();
    const stem = (w: string): string => {
      let s = cache.get(w);
      if (s === undefined) cache.set(w, (s = porterStem(w)));
      return s;
    };
    [restHyp, restRef] = matchStage(
      restHyp.map(([i, w]) => [i, stem(w)]),
      restRef.map(([j, w]) => [j, stem(w)]),
      pairs,
    );
  }
  const m = pairs.length;
  const empty: MeteorStats = { score: 0, matches: m, exactMatches, chunks: 0, precision: 0, recall: 0 };
  if (m === 0 || hypothesis.length === 0 || reference.length === 0) return empty;
  pairs.sort((a, b) => a[0] - b[0]);
  let chunks = 1;
  for (let k = 0; k + 1 < m; k++) {
    if (!(pairs[k + 1]![0] === pairs[k]![0] + 1 && pairs[k + 1]![1] === pairs[k]![1] + 1)) chunks++;
  }
  const precision = m / hypothesis.length;
  const recall = m / reference.length;
  const fmean = (precision * recall) / (opts.alpha * precision + (1 - opts.alpha) * recall);
  const penalty = opts.gamma * (chunks / m) ** opts.beta;
  return { score: (1 - penalty) * fmean, matches: m, exactMatches, chunks, precision, recall };
}

/**
 * `meteor` — METEOR (Banerjee & Lavie 2005, "METEOR: An Automatic Metric for MT Evaluation with
 * Improved Correlation with Human Judgments"; Lavie & Agarwal 2007) as NLTK's `meteor_score`
 * computes it ({@link meteorScore}) over NLTK `word_tokenize` tokens (src/graders/nltk_tokens.ts), with
 * the defaults of Microsoft's Azure AI evaluation `MeteorScoreEvaluator` (alpha 0.9, beta 3,
 * gamma 0.5). `rewardkit spec import` maps OpenAI's `text_similarity` `meteor` onto it (OpenAI does
 * not publish its scorer: the mapping is inferred).
 *
 * Deviation from NLTK: its third alignment stage (WordNet synonyms) is not run — WordNet cannot ship
 * here — so a word matched by NLTK only through a synonym (`always`/`forever`) is unmatched here, and
 * the score is at most NLTK's for the same tokens. Exact and Porter-stem stages are NLTK's.
 *
 * Returns the score in [0, 1). A reference list gives the best reference. References without tokens
 * are ignored; with none left, or no reference → `null` (cannot judge). An empty completion scores 0
 * (the null rule, types.ts). Padding lowers precision; repeating the reference adds no match (each
 * reference word matches once) and fragments nothing, so it scores below the reference itself.
 * Linear in the texts' lengths.
 *
 * @example
 * # spec
 * - {name: meaning, grader: meteor}
 * # rollout {"completion": "the cats sat", "reference": "the cat sat"}
 * # → 0.9815 (3 matches, "cats"/"cat" by stem, one chunk: (1 − 0.5·(1/3)³) · 1)
 */
export const meteorGrader = defineGrader({
  kind: 'meteor',
  summary: 'METEOR (exact + Porter-stem alignment, fragmentation penalty) as NLTK meteor_score without WordNet synonyms, Azure AI defaults, in [0, 1); what spec import maps the OpenAI text_similarity meteor metric onto [INF].',
  params: {
    alpha: z.number().min(0).max(1).default(0.9).describe('Weight of precision vs recall in Fmean = P·R/(α·P + (1−α)·R) (default 0.9).'),
    beta: z.number().positive().default(3).describe('Shape of the fragmentation penalty γ·(chunks/matches)^β (default 3).'),
    gamma: z.number().min(0).max(1).default(0.5).describe('Weight of the fragmentation penalty (default 0.5).'),
    stem: z.boolean().default(true).describe('Match remaining words by Porter stem after exact matching (default true, as NLTK).'),
    tokenizer: nltkTokenizerParam,
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const norm = params.normalize;
    const opts: MeteorOptions = { alpha: params.alpha, beta: params.beta, gamma: params.gamma, stem: params.stem };
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTokenLists(s.reference, norm, params.tokenizer);
        if (refs === null) return null;
        if (refs === 'empty') return { score: null, details: { reason: 'the reference has no tokens' } };
        const hyp = nltkTokens(normalizeText(s.completion, norm), params.tokenizer);
        let best: MeteorStats | null = null;
        for (const ref of refs) {
          const st = meteorScore(ref, hyp, opts);
          if (best === null || st.score > best.score) best = st;
        }
        const b = best!;
        return { score: b.score, details: { matches: b.matches, exact_matches: b.exactMatches, chunks: b.chunks, precision: b.precision, recall: b.recall } };
      },
    };
  },
});
