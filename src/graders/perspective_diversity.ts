import * as z from 'zod';
import { RE2JS, RE2JSException } from 're2js';
import { defineGrader, ParamError, type Graded } from './types.js';
import { explainRe2Error } from './regex.js';
import { wordTokens } from './tokens.js';

const HAS_ALNUM = /[\p{L}\p{N}]/u;

/**
 * English function words for D_func [INF: the paper names "a fixed function-word inventory (articles,
 * prepositions, etc.)" without listing it; this is the project's list of 61].
 */
export const FUNCTION_WORDS: readonly string[] = [
  'a', 'an', 'the', 'this', 'that', 'these', 'those', 'some', 'any', 'each', 'every', 'no',
  'of', 'in', 'on', 'at', 'by', 'for', 'with', 'about', 'from', 'to', 'into', 'over', 'under', 'between', 'through', 'after', 'before', 'since',
  'and', 'or', 'but', 'nor', 'so', 'yet', 'if', 'because', 'although', 'while', 'whereas', 'than',
  'i', 'you', 'he', 'she', 'it', 'we', 'they',
  'is', 'are', 'was', 'were', 'be', 'been', 'have', 'has', 'had', 'do', 'does', 'not',
];
const FUNCTION_INDEX = new Map(FUNCTION_WORDS.map((w, i) => [w, i]));

/** The eight sub-scores of MultiRole-R1's diversity metric (Appendix F), each in [0, 1]. */
export interface DiversityScores {
  lex: number;
  ent: number;
  len: number;
  pat: number;
  adj: number;
  yule: number;
  bi: number;
  func: number;
  /** Their equal-weight mean: the shaped reward's R_div. */
  combined: number;
}

/** −Σ p log p / log(k) over `counts` (k categories; 0 when k ≤ 1 or nothing was counted). */
function normalizedEntropy(counts: Iterable<number>, k: number): number {
  let total = 0;
  const list: number[] = [];
  for (const c of counts) {
    if (c > 0) list.push(c);
    total += c;
  }
  if (k <= 1 || total === 0) return 0;
  let h = 0;
  for (const c of list) {
    const p = c / total;
    h -= p * Math.log(p);
  }
  return h / Math.log(k);
}

/**
 * MultiRole-R1's composite diversity of a text ("Diversity-Enhanced Reasoning for Subjective
 * Questions", Wang et al., ICLR 2026, arXiv 2507.20187, §4.4 eq. 4 and Appendix F [TXT]): the
 * equal-weight mean (§5, "Diversity Weighting") of eight signals over lower-cased word tokens
 * (runs of letters/digits) and sentences (split after `.`, `?`, `!` and at line breaks):
 * - lex: type–token ratio |V|/N;
 * - ent: token entropy normalised by log|V|;
 * - len: coefficient of variation σ/mean of sentence lengths (population σ), capped at 1 [INF cap];
 * - pat: entropy of sentence types — declarative `.`, interrogative `?`, exclamatory `!`, other —
 *   normalised by log 4 [INF: the paper's type set is "e.g. declarative, interrogative"];
 * - adj: mean Jaccard distance between the token sets of consecutive sentences;
 * - yule: the paper's normalised Yule's K, 1/(1 + K) with K = 10⁴·(Σ_r r²V_r − N)/N² (as printed
 *   this is near 0 for any ordinary text; the paper's tables imply an unstated rescaling [INF]);
 * - bi: distinct bigrams / bigrams (the tables' "bi." column);
 * - func: entropy over the {@link FUNCTION_WORDS} inventory normalised by log|F| [INF list].
 * A sub-score without enough text to measure is 0: len and adj with one sentence, bi with one token,
 * ent with one word type, func with no function word.
 * Returns null for a text without word tokens. Linear in the text's length.
 *
 * @example
 * textDiversity('Is it fair? It depends on who pays.')!.lex // → 7/8 (it ×2)
 */
export function textDiversity(text: string): DiversityScores | null {
  const tokens: string[] = [];
  const sentences: string[][] = [];
  const types = [0, 0, 0, 0]; // declarative, interrogative, exclamatory, other
  let current: string[] = [];
  const close = (kind: number): void => {
    if (current.length > 0) {
      sentences.push(current);
      types[kind]!++;
    }
    current = [];
  };
  for (const line of text.split('\n')) {
    for (const t of wordTokens(line)) {
      if (HAS_ALNUM.test(t)) {
        const w = t.toLowerCase();
        tokens.push(w);
        current.push(w);
      } else if (t === '.' || t === '?' || t === '!' || t === '。' || t === '？' || t === '！') close(t === '?' || t === '？' ? 1 : t === '!' || t === '！' ? 2 : 0);
    }
    close(3); // a line break ends a sentence without terminal punctuation ("other")
  }
  const N = tokens.length;
  if (N === 0) return null;
  const freq = new Map<string, number>();
  for (const w of tokens) freq.set(w, (freq.get(w) ?? 0) + 1);
  const V = freq.size;
  const lex = V / N;
  const ent = normalizedEntropy(freq.values(), V);
  const S = sentences.length;
  let len = 0;
  if (S > 1) {
    let mean = 0;
    for (const s of sentences) mean += s.length;
    mean /= S;
    let v = 0;
    for (const s of sentences) v += (s.length - mean) ** 2;
    len = Math.min(1, Math.sqrt(v / S) / mean);
  }
  const pat = normalizedEntropy(types, 4);
  let adj = 0;
  if (S > 1) {
    let prev = new Set(sentences[0]);
    for (let i = 1; i < S; i++) {
      const cur = new Set(sentences[i]);
      let inter = 0;
      for (const w of cur) if (prev.has(w)) inter++;
      adj += 1 - inter / (prev.size + cur.size - inter);
      prev = cur;
    }
    adj /= S - 1;
  }
  let sumR2 = 0;
  for (const c of freq.values()) sumR2 += c * c;
  const K = (1e4 * (sumR2 - N)) / (N * N);
  const yule = 1 / (1 + K);
  let bi = 0;
  if (N > 1) {
    const seen = new Set<string>();
    for (let i = 0; i + 1 < N; i++) seen.add(`${tokens[i]} ${tokens[i + 1]}`);
    bi = seen.size / (N - 1);
  }
  const fcounts = new Array<number>(FUNCTION_WORDS.length).fill(0);
  for (const w of tokens) {
    const j = FUNCTION_INDEX.get(w);
    if (j !== undefined) fcounts[j]!++;
  }
  const func = normalizedEntropy(fcounts, FUNCTION_WORDS.length);
  const combined = (lex + ent + len + pat + adj + yule + bi + func) / 8;
  return { lex, ent, len, pat, adj, yule, bi, func, combined };
}

function compile(pattern: string, param: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    if (e instanceof RE2JSException) throw new ParamError(param, explainRe2Error(e));
    throw e;
  }
}

/**
 * The answers of a multi-role reasoning chain: the text is cut into role segments at each match of
 * `segment` (the text before the first match is the first segment); each segment's answer is the last
 * match of `answer`'s first capture group in it (trimmed, lower-cased). Segments without an answer are
 * left out.
 *
 * @example
 * segmentAnswers('As a student: **A**. Wait, as a teacher: **(B)**', RE2JS.compile('(?i)\\bwait\\b'), RE2JS.compile('\\*\\*\\(?([A-Za-z]+)'))
 * // → ['a', 'b']
 */
export function segmentAnswers(text: string, segment: RE2JS, answer: RE2JS): string[] {
  const cuts: number[] = [0];
  const m = segment.matcher(text);
  while (m.find()) {
    if (m.end() === m.start()) break; // an empty match would not advance
    cuts.push(m.end());
  }
  cuts.push(text.length);
  const out: string[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = answer.matcher(text.slice(cuts[i], cuts[i + 1]));
    let last: string | null = null;
    while (a.find()) {
      const g = a.groupCount() >= 1 ? a.group(1) : a.group(0);
      if (g !== null && g.trim() !== '') last = g.trim().toLowerCase();
      if (a.end() === a.start()) break;
    }
    if (last !== null) out.push(last);
  }
  return out;
}

/**
 * `perspective_diversity` — MultiRole-R1's diversity reward ("Diversity-Enhanced Reasoning for
 * Subjective Questions", Wang et al., ICLR 2026, arXiv 2507.20187). The paper's code
 * (yumeng-10/multirole-r1) was not reachable; formulas from the paper's text (§3.2, §4.4, §5,
 * Appendix F) [TXT], gaps marked [INF]. Two measures:
 * - `composite` (default): R_div, the equal-weight mean of the eight Appendix-F signals of the
 *   completion (see {@link textDiversity}), in [0, 1]. The paper's GRPO reward is
 *   `R = δ·R_acc + (1 − δ)·R_div`; its reported shaping weight 0.1 (Appendix B.2) reads as 1 − δ = 0.1
 *   [INF]: give this component weight 0.1 and the accuracy component 0.9.
 * - `opinions`: the paper's measure of perspective diversity (§5, Table 3: the distinct options the
 *   role perspectives arrive at). The chain is cut into role segments at `segment_pattern` (the
 *   paper's continuation "Wait, I need to think from {role}'s perspective"); each segment's answer is
 *   the last `answer_pattern` capture in it; score = min(distinct answers, roles)/roles, `roles`
 *   the number of perspectives asked for (the paper's 3) [INF normalisation].
 *
 * Hostile policy: `composite` is a surface measure — padding a chain with synonyms or unrelated
 * words raises lex/ent/bi (the paper's own limitation: "surface-level linguistic metrics"); it is
 * bounded by 1, so at the paper's weights (0.9 accuracy, 0.1 diversity) a wrong but padded answer
 * stays below a plain correct one (tested). `opinions` ignores wording: restating one perspective in
 * other words adds nothing, only segments that reach a different answer count (hedging A/B/C across
 * roles does maximise it — pair it with a role-aware accuracy component). Null rule: no word tokens
 * (`composite`) or no segment with an answer (`opinions`) → 0, with `details.reason`; never null
 * (no reference is read). Details: the eight sub-scores, or `{answers, segments}`.
 *
 * @example
 * # spec
 * - {name: acc, grader: math, extract: letter, weight: 0.9}
 * - {name: div, grader: perspective_diversity, weight: 0.1}
 * - {name: roles, grader: perspective_diversity, measure: opinions, weight: 0}
 * # opinions: "As a student **A**. Wait, as a parent **B**. Wait, as a teacher **A**" → 2/3
 */
export const perspectiveDiversityGrader = defineGrader({
  kind: 'perspective_diversity',
  summary: 'MultiRole-R1 diversity: the mean of eight lexical/structural diversity signals of the chain, or the distinct answers of its role perspectives.',
  params: {
    measure: z
      .enum(['composite', 'opinions'])
      .default('composite')
      .describe('`composite` (default): R_div, the mean of the eight Appendix-F signals; `opinions`: distinct answers across the role segments / roles.'),
    segment_pattern: z.string().min(1).default('(?i)\\bwait\\b').describe('`opinions`: RE2 pattern that starts a new role perspective (default: the paper’s “Wait, …” continuation).'),
    answer_pattern: z
      .string()
      .min(1)
      .default('\\*\\*\\(?([A-Za-z0-9]+)')
      .describe('`opinions`: RE2 pattern whose first capture group is a segment’s answer (default: the paper’s bold answer `**X. …**`, `**(X)**`, `**Yes**`); the last match in a segment counts.'),
    roles: z.number().int().min(1).default(3).describe('`opinions`: number of perspectives asked for (the paper uses 3); distinct answers above it do not score more.'),
  },
  create(params) {
    const segment = compile(params.segment_pattern, 'segment_pattern');
    const answer = compile(params.answer_pattern, 'answer_pattern');
    if (params.measure === 'opinions' && answer.groupCount() < 1) throw new ParamError('answer_pattern', 'needs a capture group: the answer of a segment is its first group.');
    return {
      scope: 'rollout',
      grade(s): Graded {
        if (params.measure === 'composite') {
          const d = textDiversity(s.completion);
          if (d === null) return { score: 0, details: { reason: 'the completion has no words' } };
          return { score: d.combined, details: { ...d } };
        }
        const answers = segmentAnswers(s.completion, segment, answer);
        if (answers.length === 0) return { score: 0, details: { reason: 'no role segment states an answer', answers } };
        const distinct = new Set(answers).size;
        return { score: Math.min(distinct, params.roles) / params.roles, details: { answers, distinct } };
      },
    };
  },
});
