import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { answerParam, answerRegion, resolveAnswerRegion } from './answer.js';

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

function wordCharBefore(s: string, i: number): boolean {
  if (i <= 0) return false;
  const low = s.charCodeAt(i - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  return WORD_CHAR.test(s.slice(start, i));
}

function wordCharAt(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const cp = s.codePointAt(i)!;
  return WORD_CHAR.test(String.fromCodePoint(cp));
}

/**
 * Whether `needle` occurs in `hay` with no word character glued to it. A side of the needle that is
 * itself not a word character needs no boundary: "C++" is a whole word in "I use C++." and "C++x".
 */
function containsWholeWord(hay: string, needle: string): boolean {
  const checkStart = wordCharAt(needle, 0);
  const checkEnd = wordCharBefore(needle, needle.length);
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    if (checkStart && wordCharBefore(hay, i)) continue;
    if (checkEnd && wordCharAt(hay, i + needle.length)) continue;
    return true;
  }
  return false;
}

/**
 * `contains` — 1 when the (normalised) reference occurs in the (normalised) answer, else 0; a
 * reference list means "any of these". The answer is the completion's answer region (`answer:`,
 * default `auto`: the last `<answer>…</answer>`, else the text after the reasoning — a reference
 * mentioned only while reasoning does not count); a missing region → 0. With `whole_word`, the match must not be glued to letters,
 * digits or `_` (Unicode-aware: "cat" is not in "concatenate" nor in "catégorie"). No reference, or
 * only empty ones after normalisation → `null` (cannot judge: an empty reference would be found in anything).
 * The substring check of QA-style rewards ("answer appears in the response", e.g. TriviaQA/NQ
 * has-answer in DPR's evaluation).
 *
 * @example
 * # spec
 * - {name: mentions_paris, grader: contains, whole_word: true, normalize: {case: lower}}
 * # rollout {"completion": "It is PARIS, of course.", "reference": "Paris"} → 1 (details {matched: 'paris', region: 'whole'})
 */
export const containsGrader = defineGrader({
  kind: 'contains',
  summary: 'The reference (or any of several) occurs in the completion after normalisation (1/0).',
  params: {
    normalize: normalizeSchema.prefault({}),
    whole_word: z
      .boolean()
      .default(false)
      .describe('Only count occurrences not glued to a letter, digit or `_` on either side (default false).'),
    answer: answerParam,
  },
  create(params, ctx) {
    const { normalize: opts, whole_word: wholeWord } = params;
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTexts(s.reference);
        if (refs === null) return null;
        const needles = refs.map((r) => normalizeText(r, opts)).filter((r) => r !== '');
        if (needles.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const a = answerRegion(s.completion, region);
        if ('missing' in a) return { score: 0, details: { region: a.region, reason: `no answer: ${a.reason}` } };
        const hay = normalizeText(a.text, opts);
        for (const n of needles)
          if (wholeWord ? containsWholeWord(hay, n) : hay.includes(n)) return { score: 1, details: { matched: n, region: a.region } };
        return { score: 0, details: { region: a.region } };
      },
    };
  },
});
