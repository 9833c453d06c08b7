import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { rougeScoreTokens, unicodeWordTokens } from './tokens.js';

/**
 * Length of the longest common subsequence of two token lists. O(a·b) time, O(min(a, b)) memory;
 * tokens are compared as interned integers.
 */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  if (b.length === 0) return 0;
  const ids = new Map<string, number>();
  const intern = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) ids.set(t, (id = ids.size));
    return id;
  };
  const bs = Int32Array.from(b, intern);
  let prev = new Int32Array(b.length + 1);
  let row = new Int32Array(b.length + 1);
  for (const token of a) {
    const x = intern(token);
    for (let j = 1; j <= bs.length; j++) {
      row[j] = bs[j - 1] === x ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    }
    [prev, row] = [row, prev];
  }
  return prev[b.length]!;
}

export interface RougeLScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/**
 * ROUGE-L of a prediction against one target, as rouge-score's `_score_lcs`: P = LCS/|prediction|,
 * R = LCS/|target|, F = (1 + β²)·P·R / (R + β²·P) (β = 1 gives rouge-score's 2PR/(P + R)).
 * Either side empty → all 0.
 */
export function rougeL(prediction: readonly string[], target: readonly string[], beta = 1): RougeLScore {
  if (prediction.length === 0 || target.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(prediction, target);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  const b2 = beta * beta;
  const fmeasure = precision > 0 && recall > 0 ? ((1 + b2) * precision * recall) / (recall + b2 * precision) : 0;
  return { precision, recall, fmeasure };
}

/**
 * `rouge_l` — ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries"): the
 * longest common subsequence of completion and reference tokens, as google-research's `rouge-score`
 * computes `rougeL` (sentence level, not `rougeLsum`). Tokenisation by default is rouge-score's:
 * lower-case, every run of non-`[a-z0-9]` characters is a separator, so non-ASCII letters are dropped;
 * `tokenizer: unicode` keeps letters and digits of every script (each CJK character a token).
 * rouge-score's optional Porter stemmer is not implemented (its `use_stemmer=False` default).
 *
 * Returns the F-measure (or precision/recall with `measure`). A reference list gives the maximum
 * over references. References without tokens are ignored; with none left → `null` (cannot judge). An
 * empty completion scores 0 (the null rule, types.ts).
 *
 * The LCS costs O(n·m): the completion and each reference are cut to their first `max_tokens` tokens
 * before it (`details.truncated` says so), so a runaway completion costs a bounded time and still
 * scores low (its precision is counted over `max_tokens` tokens).
 *
 * @example
 * # spec
 * - {name: summary, grader: rouge_l}
 * # rollout {"completion": "testing one", "reference": "testing one two"} → 0.8 (P = 1, R = 2/3)
 */
export const rougeLGrader = defineGrader({
  kind: 'rouge_l',
  summary: 'ROUGE-L (longest common subsequence) F-measure against the reference(s), as rouge-score, in [0, 1].',
  params: {
    measure: z
      .enum(['f', 'precision', 'recall'])
      .default('f')
      .describe('Which ROUGE-L value to return: `f` (F-measure, default), `precision` (LCS/completion) or `recall` (LCS/reference).'),
    beta: z
      .number()
      .positive()
      .default(1)
      .describe('F-measure weight: recall counts beta times as much as precision (default 1, as rouge-score).'),
    tokenizer: z
      .enum(['rouge_score', 'unicode'])
      .default('rouge_score')
      .describe("`rouge_score` (default): rouge-score's ASCII tokeniser; `unicode`: letters and digits of any script, one token per CJK character."),
    max_tokens: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(4000)
      .describe('Token cap per text: longer texts are cut to their first max_tokens tokens before the O(n·m) LCS (default 4000).'),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const tokenize = params.tokenizer === 'unicode' ? unicodeWordTokens : rougeScoreTokens;
    const norm = params.normalize;
    const max = params.max_tokens;
    return {
      scope: 'rollout',
      grade(s) {
        const texts = referenceTexts(s.reference);
        if (texts === null) return null;
        let truncated = false;
        const cap = (tokens: string[]): string[] => {
          if (tokens.length <= max) return tokens;
          truncated = true;
          return tokens.slice(0, max);
        };
        const refs = texts.map((r) => cap(tokenize(normalizeText(r, norm)))).filter((r) => r.length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference has no tokens' } };
        const prediction = cap(tokenize(normalizeText(s.completion, norm)));
        let best: RougeLScore | null = null;
        let bestValue = -1;
        for (const ref of refs) {
          const r = rougeL(prediction, ref, params.beta);
          const value = params.measure === 'f' ? r.fmeasure : params.measure === 'precision' ? r.precision : r.recall;
          if (value > bestValue) [best, bestValue] = [r, value];
        }
        return { score: bestValue, details: { ...best!, ...(truncated ? { truncated: true } : {}) } };
      },
    };
  },
});
