import * as z from 'zod';
import { referenceTexts } from '../normalize.js';
import { defineGrader, ParamError } from '../types.js';
import { answerParam, answerRegion, resolveAnswerRegion } from '../answer.js';
import { DEFAULT_OPTIONS, MathVerifier, type MathOptions } from './verify.js';

export { MathVerifier, DEFAULT_OPTIONS, type MathOptions, type MathVerdict } from './verify.js';

/**
 * `details` with `region` added (or replaced) — the same object `{ ...details, region }` builds, key
 * order included. Object.assign: on Node 20 (V8 11.3) a spread followed by another key cost ~2 µs a
 * call, more than verifying a plain answer (bench/math.ts, the grader row).
 */
function withRegion(details: Record<string, unknown>, region: string): Record<string, unknown> {
  return Object.assign({}, details, { region });
}

/**
 * `math` — answer equivalence with Math-Verify's semantics (huggingface/Math-Verify), in tens of
 * microseconds and with a hard time limit that works on any thread: extracts the answer (last `\boxed{}`/`\fbox{}`, `final answer is …`, `Answer:`, `#### n`, last
 * LaTeX or number; markdown and `$…$` unwrapped), parses it and the reference (a bare answer or a
 * full solution with `\boxed{}`; parsed once per reference text, LRU-cached), and compares numbers
 * exactly (decimals to `precision` places, tiny values by significant digits), expressions at sample
 * points, sets/tuples/intervals/matrices element-wise, equations up to a constant factor, and
 * inequalities as the sets they describe — gold first, so a prediction cannot echo an inequality.
 * The extraction runs on the completion's answer region (`answer:`, default `auto`: the last
 * `<answer>…</answer>`, else the text after the reasoning), so `<think>…</think><answer>33</answer>`
 * reads 33 and `<answer>\boxed{33}</answer>` or `<answer>The answer is 33.</answer>` too.
 * Null rule: 1 = equivalent, 0 = not — and 0 too when the answer region is missing, the answer cannot
 * be read or parsed (`on_parse_failure: null` to opt out), or checking it hits the time limit (as
 * Math-Verify, whose timeouts are False); null (with `details.reason`) only when the reference has no
 * readable answer — including a reference integral or limit that cannot be evaluated. With
 * `extract: letter` it compares multiple-choice letters; a hedge between letters (`A or B`,
 * `A B C D`, `(A)(B)`, different `\boxed{}` letters) is a wrong answer (0, even with `on_parse_failure: null`);
 * the article `a` and the pronoun `i`/`I` of the prose (`so i pick (C)`, `I’m sure it is (C)`) are not
 * read as choices A and I. Definite integrals (`\int_0^1 x^2\,dx`,
 * bounds may be ±∞), limits (`\lim_{x\to 0^+}`), sums and products with numeric bounds are read and
 * evaluated numerically (adaptive Gauss–Kronrod quadrature, Richardson extrapolation; each accurate
 * far below the 1e-9 comparison tolerance or not at all) within the same time limit. Deliberate
 * departures from Math-Verify: tiny decimals compare by significant digits, `\sqrt(2)` is √2, `**73**`
 * is 73, `\mathrm{e}` is e, `28\%` also matches 28, invisible format characters (zero-width spaces, bidi
 * marks) are dropped and full-width digits read as ASCII (`3\u200b` and `３` are 3), a vector matches the same tuple, inequalities in one
 * variable compare by solution set, `i` is the imaginary unit, a hedged `the answer is 5 or 7` is the list
 * {5, 7} (not 5), a `\boxed{}` that does not parse (`\boxed{3 \lor 5}`, `\boxed{3 \to 5}`) is still the
 * answer given — a loose number inside it is not read instead (that paid the hedge its last value). An answer left as a sum, product, integral or limit that the reference is not (the
 * question restated) scores 0 unless `allow_unevaluated: true`. `symbolic_fallback` is accepted for
 * older specs and has no effect.
 *
 * @example
 * # spec
 * - {name: correct, grader: math}
 * # rollout {"completion": "… so $f(-2)+f(-1)+f(0)=\\boxed{\\dfrac{14}{3}}$.", "reference": "\\frac{28}{6}"} → 1
 */
export const mathGrader = defineGrader({
  kind: 'math',
  summary: 'Math answer equivalence (Math-Verify semantics): 1 equivalent, 0 not or unreadable, null when the reference is unreadable.',
  params: {
    extract: z
      .enum(['auto', 'latex', 'expr', 'letter'])
      .default('auto')
      .describe('What to extract: `auto` LaTeX and plain numbers/expressions, `latex` or `expr` only, `letter` a multiple-choice letter.'),
    letters: z
      .string()
      .regex(/^[A-Za-z]+$/)
      .optional()
      .describe('Allowed letters for `extract: letter` (default A–D, extended up to the reference letter).'),
    precision: z
      .number()
      .int()
      .min(0)
      .max(15)
      .default(6)
      .describe('Decimal places to which a decimal answer must agree (at least this many significant digits below 0.1).'),
    strict: z.boolean().default(true).describe('Variable names matter (`f(x)` ≠ `f(y)`); false matches variables by position.'),
    allow_set_relation: z
      .boolean()
      .default(false)
      .describe('Also accept a relation prediction for a set reference (`-2 ≤ x ≤ 7` for `[-2, 7]`); the reverse is always accepted.'),
    boxed: z
      .enum(['first', 'with_final_answer', 'after_final_answer'])
      .default('first')
      .describe('Priority of `\\boxed{}`: tried first, ranked with `final answer … is` (the later of the two wins; Math-Verify\'s library default), or after it (with `answer:`).'),
    allow_unevaluated: z
      .boolean()
      .default(false)
      .describe('Accept an answer left as an unevaluated sum, product, integral or limit (`\\boxed{\\int_0^1 x^2\\,dx}`) when the reference is not one. Default false: such an answer restates the problem and scores 0, so a policy cannot earn reward by copying the question.'),
    on_parse_failure: z
      .enum(['null', 'zero'])
      .default('zero')
      .describe('Score when the completion has no readable answer (missing region, nothing extracted, does not parse): 0 (default, a wrong answer) or null (opt-in: skipped by the combiner; details say why).'),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(1000)
      .describe('Hard time limit per verification in milliseconds; over it the score is 0 with reason `timeout` (Math-Verify scores timeouts False).'),
    cache_size: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(4096)
      .describe('Parsed references (and twice as many parsed answers) kept in an LRU cache.'),
    symbolic_fallback: z
      .boolean()
      .optional()
      .describe('No effect; accepted so older specs still load. (It switched a compute-engine fallback, now replaced by the built-in reading of integrals and limits.)'),
    answer: answerParam,
  },
  create(params, ctx) {
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    if (params.letters !== undefined && params.extract !== 'letter') throw new ParamError('letters', '`letters` only applies with `extract: letter`');
    const opts: MathOptions = {
      ...DEFAULT_OPTIONS,
      extract: params.extract,
      letters: params.letters,
      precision: params.precision,
      strict: params.strict,
      allowSetRelation: params.allow_set_relation,
      boxed: params.boxed,
      onParseFailure: params.on_parse_failure,
      allowUnevaluated: params.allow_unevaluated,
      timeoutMs: params.timeout_ms,
      cacheSize: params.cache_size,
    };
    const verifier = new MathVerifier(opts);
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTexts(s.reference);
        if (refs === null || refs.length === 0) return null;
        const a = answerRegion(s.completion, region);
        if ('missing' in a) {
          // Still say whether the reference is usable: an unusable reference is "cannot judge" whatever the answer.
          const v = verifier.verify(refs[0]!, '');
          if (v.score === null && /^reference/.test(String(v.details.reason))) return { score: null, details: withRegion(v.details, a.region) };
          return { score: params.on_parse_failure === 'zero' ? 0 : null, details: { extracted: null, region: a.region, reason: `no answer: ${a.reason}` } };
        }
        let best: { score: number | null; details: Record<string, unknown> } | null = null;
        for (const ref of refs) {
          const v = verifier.verify(ref, a.text);
          if (v.score === 1) return { score: 1, details: withRegion(v.details, a.region) };
          if (best === null || (best.score === null && v.score !== null)) best = v;
        }
        return { score: best!.score, details: withRegion(best!.details, a.region) };
      },
    };
  },
});
