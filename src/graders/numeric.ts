import * as z from 'zod';
import { defineGrader } from './types.js';
import { parseReferenceNumber, readAnswer, type FoundNumber } from './number_extract.js';
import { answerParam, answerRegion, resolveAnswerRegion } from './answer.js';
import { foldForNumbers } from './normalize.js';

/**
 * `numeric` — 1 when the final number of the answer equals the reference within tolerance, else 0:
 * |a − b| ≤ max(tolerance, rel_tolerance·|b|), a the extracted answer, b the reference.
 *
 * The answer is read in the completion's answer region first (`answer:`, default `auto`: the last
 * `<answer>…</answer>`, else the text after the reasoning, so a number only in `<think>` is no answer),
 * then `extract` finds the number inside it: `<answer>The answer is 33.</answer>` and
 * `<answer>\boxed{33}</answer>` both give 33.
 *
 * Extraction (`extract`, see number_extract.ts for the number grammar) follows the usual verifiable-
 * reward recipes: GSM8K's `#### n` (openai/grade-school-math; verl `reward_score/gsm8k.py`), the last
 * `\boxed{…}` (MATH, DeepSeek-R1-style prompts), a "the answer is …" / "Final answer:" sentence,
 * else the last number in the text. Thousands separators, decimals, signs, fractions (`3/4`,
 * `\frac{3}{4}`), currency signs, scientific notation and trailing units are understood. A hedge
 * scores 0 (never its first or last value): an answer phrase `the answer is 5 or 7` (`x = 5 or x = 7`,
 * `5 \text{ or } 7`), or a last number that ends `5 or 7` or `between 1 and 100`; `####` and the last
 * `\boxed{}` keep verl's reading (`#### 5 or 7` reads 5, `\boxed{5} \boxed{7}` reads 7), the last box
 * being the last outermost one, read as math reads boxes (`boxes.ts`: `\boxed{5 \text{ or } \boxed{7}}`
 * is one box holding a hedge, 0 — verl's `rfind` read 7; `\{`/`\}` are escaped braces). Invisible
 * format characters are dropped and full-width digits read as ASCII first (normalize.ts
 * `foldForNumbers`: `1\u200b8` is 18, `１８` is 18). Integers of more than 15 digits compare by
 * their exact values (as doubles, 123456789012345678901 and 123456789012345678900 are equal).
 *
 * The reference may be a number, a string (a bare number such as `"1,000"` or `"\frac{3}{4}"`, or a
 * whole GSM8K gold solution ending in `#### n`, or a solution with `\boxed{…}`), or a list of these
 * (any may match). Null rule: no reference → `null`; a reference that is not a number → `null` with
 * the reason (cannot judge); a missing region or no number in it → 0 (`on_missing: null` to opt out).
 *
 * `percent` decides what a percent sign means, on both sides: `strip` (default) reads 50% as 50 —
 * GSM8K gold answers to percent questions are bare numbers; `divide` reads 50% as 0.5; `either`
 * accepts both readings.
 *
 * @example
 * # spec
 * - {name: correct, grader: numeric, tolerance: 1e-6}
 * # rollout {"completion": "She earns 9 * 2 = $18 a day.\n#### 18", "reference": "18"} → 1
 * # details {extracted: '18', value: 18, method: 'gsm8k', reference: 18}
 */
export const numericGrader = defineGrader({
  kind: 'numeric',
  summary: 'Final number of the completion equals the reference within tolerance (1/0).',
  params: {
    extract: z
      .enum(['auto', 'gsm8k', 'boxed', 'answer_is', 'last_number'])
      .default('auto')
      .describe(
        'Where the answer is read: `gsm8k` (the number right after the last `####`), `boxed` (last `\\boxed{…}`), `answer_is` ("the answer is …", "Final answer: …"), `last_number`; `auto` tries them in that order (a `\\boxed{…}` without a single number extracts nothing).',
      ),
    tolerance: z.number().nonnegative().default(1e-6).describe('Absolute tolerance (default 1e-6).'),
    rel_tolerance: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Relative tolerance, a fraction of |reference| (default 0); the larger of the two tolerances applies.'),
    percent: z
      .enum(['strip', 'divide', 'either'])
      .default('strip')
      .describe('What `50%` means, in completion and reference alike: `strip` → 50 (default), `divide` → 0.5, `either` → both are accepted.'),
    on_missing: z
      .enum(['zero', 'null'])
      .default('zero')
      .describe('Score when the answer region is missing or holds no number: `zero` (default, a wrong answer) or `null` (opt-in: skipped by the combiner).'),
    answer: answerParam,
  },
  create(params, ctx) {
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    const { extract, tolerance, rel_tolerance: relTolerance, percent, on_missing: onMissing } = params;

    const close = (a: number, b: number) => Math.abs(a - b) <= Math.max(tolerance, relTolerance * Math.abs(b));
    const matches = (got: FoundNumber, ref: FoundNumber): boolean => {
      // Integers of more than 15 digits: by their exact difference (as doubles, 10^29 + 1 equals 10^29).
      if (got.big !== undefined && ref.big !== undefined && (percent === 'strip' || (!got.percent && !ref.percent))) {
        const d = got.big > ref.big ? got.big - ref.big : ref.big - got.big;
        return Number(d) <= Math.max(tolerance, relTolerance * Math.abs(ref.value));
      }
      if (percent === 'strip' || (!got.percent && !ref.percent)) return close(got.value, ref.value);
      const a = got.percent ? got.value / 100 : got.value;
      const b = ref.percent ? ref.value / 100 : ref.value;
      if (percent === 'divide') return close(a, b);
      return close(got.value, ref.value) || close(a, ref.value) || close(got.value, b) || close(a, b);
    };

    // Rollouts of one group usually share their reference: parse it once per run of equal references.
    let lastRef: unknown = undefined;
    let lastParsed: FoundNumber[] | null = null;
    const parseRefs = (reference: unknown): FoundNumber[] | null => {
      if (reference === lastRef && lastParsed !== null) return lastParsed;
      const items = Array.isArray(reference) ? reference : [reference];
      const out: FoundNumber[] = [];
      for (const r of items) {
        if (typeof r === 'number' && Number.isFinite(r)) out.push({ text: String(r), value: r, percent: false });
        else if (typeof r === 'string') {
          const n = parseReferenceNumber(foldForNumbers(r));
          if (n !== null) out.push(n);
        }
      }
      lastRef = reference;
      lastParsed = out.length > 0 ? out : null;
      return lastParsed;
    };

    return {
      scope: 'rollout',
      grade(s) {
        if (s.reference === undefined || s.reference === null) return null;
        const refs = parseRefs(s.reference);
        if (refs === null) return { score: null, details: { reason: 'the reference is not a number' } };
        const reference = refs.length === 1 ? refs[0]!.value : refs.map((r) => r.value);
        const a = answerRegion(s.completion, region);
        if ('missing' in a) return { score: onMissing === 'zero' ? 0 : null, details: { extracted: null, reference, region: a.region, reason: `no answer: ${a.reason}` } };
        const got = readAnswer(foldForNumbers(a.text), extract);
        if (got === null) return { score: onMissing === 'zero' ? 0 : null, details: { extracted: null, reference, region: a.region, reason: 'no number in the answer' } };
        // A hedge (`the answer is 5 or 7`) is a wrong answer, whatever `on_missing` says: it was read.
        if ('hedge' in got) return { score: 0, details: { extracted: null, method: got.method, reference, region: a.region, reason: `hedged answer: ${got.hedge}` } };
        const ok = refs.some((r) => matches(got, r));
        return {
          score: ok ? 1 : 0,
          details: got.percent
            ? { extracted: got.text, value: got.value, percent: true, method: got.method, reference, region: a.region }
            : { extracted: got.text, value: got.value, method: got.method, reference, region: a.region },
        };
      },
    };
  },
});
