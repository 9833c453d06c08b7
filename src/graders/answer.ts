/**
 * Answer regions: which part of a completion a grader reads as "the answer".
 *
 * One option, `answer:`, shared by every grader that reads an answer (`exact`, `contains`, `numeric`,
 * `math`, `json`, `sql`, `code`, and `regex`/`tool_call` when their component asks). It is settable once
 * at spec level (top-level `answer:`, the default for the `auto`-by-default kinds) and per component.
 *
 * Regions:
 * - `auto` (default): the content of the last `<answer>…</answer>` of the response when it has one,
 *   else the whole response.
 * - `whole`: the whole completion text, reasoning included (never missing).
 * - `{tag: NAME}`: the content of the last `<NAME>…</NAME>` of the response.
 * - `{after: MARKER}`: the text after the last `MARKER` of the response (e.g. `"####"`).
 * - `{regex: PATTERN, group: N}`: capture group N (default 1, or 0 when the pattern has no group) of
 *   the last match of an RE2 pattern in the response (re2js: linear time, no lookaround/backreferences).
 * - `last_fenced_block`: the content of the last closed ``` fenced block of the response (its info
 *   line, e.g. `sql`, dropped).
 * - `last_boxed`: the content of the last `\boxed{…}` / `\fbox{…}` of the response (balanced braces).
 *
 * The *response* is the completion without its reasoning: every `<think>…</think>` block is removed,
 * and so is the text before a `</think>` that closes no `<think>` (chat templates that open the block in
 * the prompt) and everything from a `<think>` that never closes; the pieces left are joined by a
 * newline. So an `<answer>`, `\boxed{}` or `####`
 * written inside the reasoning is a draft, not the answer, while an answer written before the reasoning
 * (`<answer>33</answer><think>…</think>`) still counts; a completion truncated inside its reasoning,
 * with nothing before it, has no answer. `{tag: think}` is the exception: it searches the whole text.
 *
 * Hostile and broken completions, decided here once for every grader:
 * - several answer tags: the last one wins (the final answer);
 * - nested tags (`<answer><answer>5</answer></answer>`): the innermost last opening, to its first close;
 * - an unclosed last tag (`… <answer>3` — a completion truncated by the length limit), an unclosed last
 *   fence or box: the region is **missing** (the final answer was never finished; reading a prefix
 *   would pay for half an answer). Earlier closed tags do not stand in for it;
 * - an empty or whitespace-only region: **missing**;
 * - `auto` without any `<answer>` opening in the response reads the whole response (which may be empty:
 *   missing). Tags are case-sensitive (`<answer>`, not `<Answer>`).
 * Every region is found with indexOf/lastIndexOf scans or RE2: linear in the completion's length.
 *
 * A missing region is a wrong answer (score 0, the null rule in types.ts), with `details.region` and
 * `details.reason` saying why.
 *
 * For grader authors (this is how `exact`, `numeric`, … use it, and how `code` should):
 * ```ts
 * params: { …, answer: answerParam },                      // or wholeByDefaultAnswerParam
 * create(params, ctx) {
 *   const region = resolveAnswerRegion(params.answer, ctx.answer); // once per spec load
 *   … grade(s) {
 *     const a = answerRegion(s.completion, region);
 *     if ('missing' in a) return { score: 0, details: regionDetails(a) }; // {region, reason}
 *     … read a.text (then the kind's own extraction, e.g. the last fenced block) …
 *     return { score, details: { …, region: a.region } };
 * ```
 *
 * @example
 * const region = parseAnswerRegion('auto'); // or answerRegionSchema.parse(x) then compileAnswerRegion
 * answerRegion('<think>maybe 5</think>\n<answer>33</answer>', region)
 * // → {text: '33', region: 'answer_tag'}
 * answerRegion('<think>cut off', region)
 * // → {missing: true, region: 'auto', reason: 'the completion ends inside an unclosed <think> block'}
 */
import { innermostContent, lastBoxSpan } from './boxes.js';
import * as z from 'zod';
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import { ParamError } from './types.js';

/**
 * re2js (~190 KB of code) is loaded on the first `{regex: …}` region only: most specs have none, and
 * importing it cost every `rewardkit score` start-up (issue 12).
 */
let re2: typeof import('re2js') | undefined;
const loadRe2 = (): typeof import('re2js') => (re2 ??= createRequire(import.meta.url)('re2js') as typeof import('re2js'));

/** The `answer:` param: which part of the completion is read as the answer. */
export const answerRegionSchema = z
  .union([
    z.enum(['auto', 'whole', 'last_fenced_block', 'last_boxed']),
    z.strictObject({ tag: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'must be a tag name such as answer').describe('Tag name: the content of the last `<NAME>…</NAME>` is read.') }),
    z.strictObject({ after: z.string().min(1).describe('Marker: the text after its last occurrence is read (e.g. `"####"`).') }),
    z.strictObject({
      regex: z.string().min(1).describe('RE2 pattern; the last match is used.'),
      group: z
        .union([z.number().int().nonnegative(), z.string().min(1)])
        .optional()
        .describe('Capture group (index or name) read from the last match (default 1, or 0 when the pattern has no group).'),
    }),
  ])
  .describe(
    'Which part of the completion is the answer: `auto` (last `<answer>…</answer>` outside the reasoning, else the text after `</think>`), `whole`, `{tag: NAME}`, `{after: "####"}`, `{regex: PATTERN, group: N}`, `last_fenced_block`, `last_boxed`. Unclosed or empty regions are missing (a wrong answer).',
  );

/** The `answer:` param as written in a spec. */
export type AnswerRegionSpec = z.infer<typeof answerRegionSchema>;

/** A region ready to apply (regexes compiled). Build with {@link compileAnswerRegion}. */
export type AnswerRegion =
  | { kind: 'auto' | 'whole' | 'last_fenced_block' | 'last_boxed'; name: string }
  | { kind: 'tag'; tag: string; name: string }
  | { kind: 'after'; marker: string; name: string }
  | { kind: 'regex'; re: RE2JS; group: number | string; name: string };

/** The region read: its text and which region it was (for `details.region`). */
export interface RegionText {
  text: string;
  /** `answer_tag`, `response`, `whole`, `tag:NAME`, `after:MARKER`, `regex`, `last_fenced_block`, `last_boxed`. */
  region: string;
}

/** No answer region in this completion: a wrong answer; `region` names the region asked for, `reason` says why. */
export interface RegionMissing {
  missing: true;
  region: string;
  reason: string;
}

export type RegionResult = RegionText | RegionMissing;

const SIMPLE: Record<string, AnswerRegion> = {
  auto: { kind: 'auto', name: 'auto' },
  whole: { kind: 'whole', name: 'whole' },
  last_fenced_block: { kind: 'last_fenced_block', name: 'last_fenced_block' },
  last_boxed: { kind: 'last_boxed', name: 'last_boxed' },
};

/** The `auto` region, prebuilt. */
export const AUTO_REGION: AnswerRegion = SIMPLE.auto!;
/** The `whole` region, prebuilt. */
export const WHOLE_REGION: AnswerRegion = SIMPLE.whole!;

/**
 * Compiles a parsed `answer:` value (validating a regex and its group; errors are {@link ParamError}s
 * on `param`, default `answer`).
 */
export function compileAnswerRegion(spec: AnswerRegionSpec, param = 'answer'): AnswerRegion {
  if (typeof spec === 'string') return SIMPLE[spec]!;
  if ('tag' in spec) return { kind: 'tag', tag: spec.tag, name: `tag:${spec.tag}` };
  if ('after' in spec) return { kind: 'after', marker: spec.after, name: `after:${spec.after}` };
  const lib = loadRe2();
  let re: RE2JS;
  try {
    re = lib.RE2JS.compile(spec.regex);
  } catch (e) {
    if (e instanceof lib.RE2JSException) throw new ParamError(`${param}.regex`, `invalid RE2 regular expression: ${e.message.replace(/^error parsing regexp: /, '')} (RE2 has no lookaround and no backreferences).`);
    throw e;
  }
  const group = spec.group ?? (re.groupCount() >= 1 ? 1 : 0);
  if (typeof group === 'number' && group > re.groupCount())
    throw new ParamError(`${param}.group`, `the pattern has ${re.groupCount()} capture group(s), so there is no group ${group}.`);
  if (typeof group === 'string' && !Object.hasOwn(re.namedGroups(), group))
    throw new ParamError(`${param}.group`, `the pattern has no group named \`${group}\`.`);
  return { kind: 'regex', re, group, name: 'regex' };
}

/**
 * Validates and compiles any `answer:` value (a string or object from a spec or library call).
 * @example
 * parseAnswerRegion({ tag: 'final' })
 */
export function parseAnswerRegion(value: unknown, param = 'answer'): AnswerRegion {
  const r = answerRegionSchema.safeParse(value);
  if (!r.success) throw new ParamError(param, `invalid answer region: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return compileAnswerRegion(r.data, param);
}

/**
 * The region a grader uses: its component's own `answer:` if set, else the spec-level default (for
 * kinds that read a region by default), else the kind's default (`auto`, or `whole` for `regex`/`tool_call`).
 */
export function resolveAnswerRegion(own: AnswerRegionSpec | undefined, specDefault: AnswerRegion | undefined, kindDefault: AnswerRegion = AUTO_REGION): AnswerRegion {
  if (own !== undefined) return compileAnswerRegion(own);
  return specDefault ?? kindDefault;
}

const missing = (region: string, reason: string): RegionMissing => ({ missing: true, region, reason });

/**
 * The response: the completion without its reasoning. Reasoning is every `<think>…</think>` block, the
 * text before a `</think>` that closes no `<think>` (templates that open the block in the prompt), and a
 * `<think>` that never closes, to the end (`cut` then says so). The kept pieces are joined by `\n`.
 * One left-to-right pass of indexOf: linear.
 */
function responseOf(text: string): { text: string; from: number; to: number; removed: boolean; cut: string | null } {
  if (!text.includes('think>')) return { text, from: 0, to: text.length, removed: false, cut: null };
  // Kept pieces as [start, end) pairs; one piece (the usual `<think>…</think> answer`) needs no copy.
  const kept: number[] = [];
  let from = 0; // start of the current kept piece
  let cut: string | null = null;
  // Next occurrences, searched again only once passed: each indexOf resumes where the last one stopped.
  let open = text.indexOf('<think>');
  let close = text.indexOf('</think>');
  for (;;) {
    if (close >= 0 && (open < 0 || close < open)) {
      // A stray close: everything since the current kept piece began was reasoning.
      from = close + 8;
      close = text.indexOf('</think>', from);
      continue;
    }
    if (open < 0) {
      if (from < text.length) kept.push(from, text.length);
      break;
    }
    if (open > from) kept.push(from, open);
    if (close < 0) {
      cut = 'the completion ends inside an unclosed <think> block';
      break;
    }
    // close > open here: it ends this block (a nested <think> inside is part of the reasoning).
    from = close + 8;
    open = text.indexOf('<think>', from);
    close = text.indexOf('</think>', from);
  }
  if (kept.length === 0) return { text: '', from: 0, to: 0, removed: true, cut };
  if (kept.length === 2) return { text, from: kept[0]!, to: kept[1]!, removed: kept[0] !== 0 || kept[1] !== text.length, cut };
  const parts: string[] = [];
  for (let i = 0; i < kept.length; i += 2) parts.push(text.slice(kept[i], kept[i + 1]));
  const joined = parts.join('\n');
  return { text: joined, from: 0, to: joined.length, removed: true, cut };
}

function nonEmpty(text: string, region: string, name: string, what: string): RegionResult {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xa0) return { text, region };
  }
  return missing(name, `${what} is empty`);
}

/** Content of the last `<tag>…</tag>` within [from, to), or a reason string when it is missing/unclosed. */
function lastTag(text: string, from: number, to: number, tag: string): [number, number] | 'none' | 'unclosed' {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  if (to - from < open.length) return 'none';
  const at = text.lastIndexOf(open, to - open.length);
  if (at < from) return 'none';
  const start = at + open.length;
  const end = text.indexOf(close, start);
  if (end < 0 || end + close.length > to) return 'unclosed';
  return [start, end];
}

function tagRegion(text: string, from: number, to: number, tag: string, name: string, regionName: string): RegionResult | null {
  const r = lastTag(text, from, to, tag);
  if (r === 'none') return null;
  if (r === 'unclosed') return missing(name, `the last <${tag}> is never closed (truncated completion?)`);
  return nonEmpty(text.slice(r[0], r[1]), regionName, name, `<${tag}>…</${tag}>`);
}

/** Content of the last closed ``` fence in [from, to): fences pair up in order; the info line is dropped. */
function lastFence(text: string, from: number, to: number): [number, number] | 'none' | 'unclosed' {
  let found: [number, number] | null = null;
  let open = text.indexOf('```', from);
  while (open >= 0 && open < to) {
    const nl = text.indexOf('\n', open + 3);
    const close = nl < 0 || nl >= to ? -1 : text.indexOf('```', nl + 1);
    if (close < 0 || close + 3 > to) return 'unclosed';
    found = [nl + 1, close];
    open = text.indexOf('```', close + 3);
  }
  return found ?? 'none';
}

/**
 * Content of the last outermost `\boxed{…}`/`\fbox{…}` in [from, to) (see `boxes.ts`: escaped braces,
 * `\boxed 5`; a box holding only a box reads the inner one's content), or why there is none.
 */
function lastBox(text: string, from: number, to: number): [number, number] | 'none' | 'unclosed' {
  const b = lastBoxSpan(text, from, to);
  if (b === null) return 'none';
  if (!b.closed) return 'unclosed';
  return innermostContent(text, b);
}

/**
 * The part of `text` that `region` reads: `{text, region}` (region = which one was read, for
 * `details.region`), or `{missing: true, region, reason}`. Linear time in `text`.
 *
 * @example
 * answerRegion('Work…\n#### 18', parseAnswerRegion({ after: '####' })) // → {text: ' 18', region: 'after:####'}
 */
export function answerRegion(text: string, region: AnswerRegion): RegionResult {
  if (region.kind === 'whole') return { text, region: 'whole' };
  if (region.kind === 'tag' && region.tag === 'think') {
    return tagRegion(text, 0, text.length, 'think', region.name, region.name) ?? missing(region.name, 'no <think>…</think> in the completion');
  }
  // Fast path: no tag, so no reasoning block.
  const resp = region.kind === 'auto' && !text.includes('<') ? { text, from: 0, to: text.length, removed: false, cut: null } : responseOf(text);
  const { text: t, from, to, cut } = resp;
  switch (region.kind) {
    case 'auto': {
      const tagged = tagRegion(t, from, to, 'answer', 'auto', 'answer_tag');
      if (tagged !== null) return tagged;
      const rest = from === 0 && to === t.length ? t : t.slice(from, to);
      if (cut !== null && rest.trim() === '') return missing('auto', cut);
      return nonEmpty(rest, resp.removed ? 'response' : 'whole', 'auto', 'the response');
    }
    case 'tag':
      return tagRegion(t, from, to, region.tag, region.name, region.name) ?? missing(region.name, cut ?? `no <${region.tag}>…</${region.tag}> in the response`);
    case 'after': {
      const m = region.marker;
      const at = to - from < m.length ? -1 : t.lastIndexOf(m, to - m.length);
      if (at < from) return missing(region.name, cut ?? `no ${JSON.stringify(m)} in the response`);
      return nonEmpty(t.slice(at + m.length, to), region.name, region.name, `the text after ${JSON.stringify(m)}`);
    }
    case 'regex': {
      const hay = from === 0 && to === t.length ? t : t.slice(from, to);
      const mt = region.re.matcher(hay);
      let got: string | null = null;
      let any = false;
      while (mt.find()) {
        any = true;
        got = mt.group(region.group as never);
      }
      if (!any) return missing(region.name, cut ?? 'the pattern does not match the response');
      if (got === null) return missing(region.name, 'the group did not take part in the last match');
      return nonEmpty(got, region.name, region.name, 'the matched group');
    }
    case 'last_fenced_block': {
      const r = lastFence(t, from, to);
      if (r === 'none') return missing(region.name, cut ?? 'no fenced block in the response');
      if (r === 'unclosed') return missing(region.name, 'the last fenced block is never closed (truncated completion?)');
      return nonEmpty(t.slice(r[0], r[1]), region.name, region.name, 'the last fenced block');
    }
    case 'last_boxed': {
      const r = lastBox(t, from, to);
      if (r === 'none') return missing(region.name, cut ?? 'no \\boxed{…} in the response');
      if (r === 'unclosed') return missing(region.name, 'the last \\boxed{ is never closed (truncated completion?)');
      return nonEmpty(t.slice(r[0], r[1]), region.name, region.name, 'the last \\boxed{}');
    }
  }
  return { text, region: 'whole' };
}

/** Details of a region for a grader's `details`: `{region}` or `{region, reason}` when missing. */
export function regionDetails(r: RegionResult): { region: string; reason?: string } {
  return 'missing' in r ? { region: r.region, reason: `no answer: ${r.reason}` } : { region: r.region };
}

/** The `answer:` param of a component (optional: unset = the spec-level default, else the kind's default). */
export const answerParam = answerRegionSchema
  .optional()
  .describe(
    'Which part of the completion is the answer (see the README "Answer regions"): `auto` (default: the last `<answer>…</answer>` outside the reasoning, else the text after `</think>`), `whole`, `{tag: NAME}`, `{after: "####"}`, `{regex: PATTERN, group: N}`, `last_fenced_block`, `last_boxed`. Unset: the spec-level `answer:`, else `auto`. A missing region scores 0.',
  );

/** Same as {@link answerParam} for kinds that read the whole text unless asked (`regex`, `tool_call`): the spec-level default does not apply. */
export const wholeByDefaultAnswerParam = answerRegionSchema
  .optional()
  .describe(
    'Which part of the completion is read (see the README "Answer regions"): default `whole` — the spec-level `answer:` does not apply to this kind; set `auto`, `{tag: NAME}`, `{after: …}`, `{regex: …, group: N}`, `last_fenced_block` or `last_boxed` to read a region. A missing region scores 0.',
  );
