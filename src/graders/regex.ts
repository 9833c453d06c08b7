import * as z from 'zod';
import { RE2JS, RE2JSException } from 're2js';
import { defineGrader, ParamError } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { answerRegion, resolveAnswerRegion, wholeByDefaultAnswerParam, WHOLE_REGION } from './answer.js';

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };

const DETAIL_LIMIT = 200;

/** Long matches are cut in details: they are for reading, not for recomputing the score. */
function shown(text: string): string {
  return text.length <= DETAIL_LIMIT ? text : `${text.slice(0, DETAIL_LIMIT)}… (${text.length} chars)`;
}

/**
 * Turns an RE2 syntax error into a sentence that says why the construct is missing (lookaround and
 * backreferences are named as such). Shared by every grader that compiles a user pattern with re2js.
 *
 * @example
 * try { RE2JS.compile('(a)\\1'); } catch (e) { explainRe2Error(e as RE2JSException); } // → 'backreferences (`\1`, …) are not supported: …'
 */
export function explainRe2Error(err: RE2JSException): string {
  const m = err.message;
  if (/`\(\?<?[=!]/.test(m))
    return 'lookahead and lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`) are not supported: patterns run on RE2 (re2js), which guarantees linear-time matching and so has no lookaround.';
  if (/invalid escape sequence: `\\([1-9]|k)/.test(m))
    return 'backreferences (`\\1`, `\\k<name>`) are not supported: patterns run on RE2 (re2js), which guarantees linear-time matching and so has no backreferences.';
  return `invalid regular expression: ${m.replace(/^error parsing regexp: /, '')}.`;
}

/**
 * The pattern anchored at both ends, for whole-string matches as a search: re2js's test() takes its
 * DFA fast path, matches() does not. A trailing unterminated `\Q…` quote needs its `\E` first.
 */
function anchored(pattern: string, flags: number): RE2JS {
  try {
    return RE2JS.compile(`\\A(?:${pattern})\\z`, flags);
  } catch {
    return RE2JS.compile(`\\A(?:${pattern}\\E)\\z`, flags);
  }
}

/**
 * `regex` — 1 when `pattern` matches the completion, else 0 (search semantics; `full: true` requires
 * the whole completion to match). With `group`, the text of that capture group is compared with the
 * reference instead (normalised by `normalize`): 1/0, `null` when there is no reference, 0 when the
 * pattern or the group does not match.
 *
 * The pattern sees the whole completion by default (a format regex must see the reasoning and the tags);
 * the spec-level `answer:` does not apply. With its own `answer:` (e.g. `auto`, `{tag: answer}`) the
 * component matches that region only, and a missing region scores 0 (`details.region` says why).
 *
 * Patterns are compiled once with re2js, a port of Google's RE2, so matching is linear in the
 * completion's length whatever the pattern: `(a+)+$` on a megabyte of `a`s cannot backtrack
 * catastrophically. RE2 has no lookaround (`(?=…)`, `(?<=…)`) and no backreferences (`\1`); a pattern
 * using them is rejected when the spec loads. Syntax is RE2's (Perl-like: `\d`, `\b`, `\p{L}`,
 * `(?P<name>…)`/`(?<name>…)`, inline `(?i)`).
 *
 * @example
 * # spec
 * - {name: format, grader: regex, pattern: '^<think>[\s\S]*</think>\s*<answer>[\s\S]*</answer>$'}
 * # rollout {"completion": "<think>2+2</think>\n<answer>4</answer>"} → 1
 * - {name: answer, grader: regex, pattern: '<answer>(?P<ans>[\s\S]*?)</answer>', group: ans, normalize: {case: lower}}
 * # rollout {"completion": "<answer>Paris</answer>", "reference": "paris"} → 1 (details {group: 'Paris'})
 */
export const regexGrader = defineGrader({
  kind: 'regex',
  summary: 'A linear-time (RE2) regular expression matches the completion, or its capture group equals the reference (1/0).',
  params: {
    pattern: z.string().describe('RE2 regular expression (no lookaround, no backreferences).'),
    flags: z
      .string()
      .default('')
      .describe('Any of `i` (case-insensitive), `m` (`^`/`$` at line breaks), `s` (`.` matches newlines).'),
    full: z.boolean().default(false).describe('Require the pattern to match the whole completion instead of any part of it (default false).'),
    group: z
      .union([z.number().int().nonnegative(), z.string().min(1)])
      .optional()
      .describe('Capture group (index, or name) whose text is compared with the reference; without it the score is whether the pattern matches.'),
    normalize: normalizeSchema.prefault({}),
    answer: wholeByDefaultAnswerParam,
  },
  create(params) {
    const { pattern, full, group, normalize: opts } = params;
    let flags = 0;
    for (const f of params.flags) {
      const bit = FLAG_BITS[f];
      if (bit === undefined)
        throw new ParamError('flags', `flag \`${f}\` is not supported: use \`i\`, \`m\` or \`s\` (RE2 matching is always Unicode-aware, and one match is tested).`);
      flags |= bit;
    }
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern, flags);
    } catch (e) {
      if (e instanceof RE2JSException) throw new ParamError('pattern', explainRe2Error(e));
      throw e;
    }
    if (typeof group === 'number' && group > re.groupCount())
      throw new ParamError('group', `the pattern has ${re.groupCount()} capture group(s), so there is no group ${group}.`);
    if (typeof group === 'string' && !Object.hasOwn(re.namedGroups(), group))
      throw new ParamError('group', `the pattern has no group named \`${group}\` (named groups: ${Object.keys(re.namedGroups()).join(', ') || 'none'}).`);

    const searched = full ? anchored(pattern, flags) : re;
    const region = resolveAnswerRegion(params.answer, undefined, WHOLE_REGION);
    const whole = region === WHOLE_REGION;

    if (group === undefined) {
      if (whole) {
        return {
          scope: 'rollout',
          grade(s) {
            return searched.test(s.completion) ? 1 : 0;
          },
        };
      }
      return {
        scope: 'rollout',
        grade(s) {
          const a = answerRegion(s.completion, region);
          if ('missing' in a) return { score: 0, details: { region: a.region, reason: `no answer: ${a.reason}` } };
          return { score: searched.test(a.text) ? 1 : 0, details: { region: a.region } };
        },
      };
    }
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTexts(s.reference);
        if (refs === null) return null;
        const a = whole ? null : answerRegion(s.completion, region);
        if (a !== null && 'missing' in a) return { score: 0, details: { group: null, region: a.region, reason: `no answer: ${a.reason}` } };
        const where = a === null ? {} : { region: a.region };
        const m = searched.matcher(a === null ? s.completion : a.text);
        if (!m.find()) return { score: 0, details: { group: null, ...where } };
        const text = m.group(group);
        if (text === null) return { score: 0, details: { group: null, ...where } };
        const got = normalizeText(text, opts);
        const ok = refs.some((r) => normalizeText(r, opts) === got);
        return { score: ok ? 1 : 0, details: { group: shown(text), ...where } };
      },
    };
  },
});
