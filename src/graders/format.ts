import * as z from 'zod';
import { defineGrader, ParamError } from './types.js';

const TAG_NAME = /^[A-Za-z_][\w.:-]*$/;

/** JavaScript's `\s`, without building a string. */
function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

function blank(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWhitespace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * `format` — the tag structure of reasoning outputs, the format reward of most GRPO recipes
 * (DeepSeek-R1's `<think>…</think><answer>…</answer>` template; open-r1's `format_reward` and
 * `tag_count_reward`, TRL's `think_format_reward`). The completion passes when each of `tags`
 * (default think, answer) opens and closes exactly once, in the given order, without nesting, with
 * nothing but whitespace before, between and after the blocks:
 *
 *     <think>\n…\n</think>\n<answer>…</answer>
 *
 * Options: `allow_trailing` accepts text after the last closing tag; `prefilled` is for chat templates
 * that end the prompt with the first opening tag (DeepSeek-R1 style), so the completion starts inside
 * the first block and must not open it again; `newlines` also requires open-r1's layout (a newline
 * right after each opening tag and before each closing tag, exactly one newline between blocks,
 * nothing before the first tag). `partial` scores the fraction of checks passed instead of 1/0 —
 * like open-r1's `tag_count_reward`, a gradient towards the format.
 *
 * A single linear scan over the text (no regular expression, no backtracking). Details list every check.
 *
 * @example
 * # spec
 * - {name: format, grader: format, tags: [think, answer], partial: true}
 * # rollout {"completion": "<think>\n2+2=4\n</think>\n<answer>4</answer> Done!"} → 0.875
 * # details {checks: {'<think> once': true, …, 'nothing after </answer>': false}, passed: 7, total: 8}
 */
export const formatGrader = defineGrader({
  kind: 'format',
  summary: 'Reasoning tags (<think>…</think><answer>…</answer>) appear once each, in order, with nothing outside (1/0 or partial).',
  params: {
    tags: z
      .array(z.string())
      .min(1)
      .default(['think', 'answer'])
      .describe('Tag names, in the order their blocks must appear (default [think, answer]).'),
    allow_trailing: z.boolean().default(false).describe('Accept any text after the last closing tag (default false: whitespace only).'),
    prefilled: z
      .boolean()
      .default(false)
      .describe('The prompt already ends with the first opening tag (DeepSeek-R1 template): the completion starts inside the first block and must not contain that opening tag.'),
    newlines: z
      .boolean()
      .default(false)
      .describe("Also require open-r1's layout: newline after each opening and before each closing tag, one newline between blocks, nothing before the first tag."),
    partial: z.boolean().default(false).describe('Score the fraction of checks passed instead of 1/0 (default false).'),
  },
  create(params) {
    const { tags, allow_trailing: allowTrailing, prefilled, newlines, partial } = params;
    for (const t of tags)
      if (!TAG_NAME.test(t)) throw new ParamError('tags', `\`${t}\` is not a tag name: use letters, digits, \`_\`, \`-\`, \`.\` or \`:\`, starting with a letter or \`_\`, without angle brackets.`);
    if (new Set(tags).size !== tags.length) throw new ParamError('tags', 'each tag may be listed only once.');

    const k = tags.length;
    // Token 2j is <tags[j]>, token 2j+1 is </tags[j]>.
    const tokens = tags.flatMap((t) => [`<${t}>`, `</${t}>`]);
    const firstExpected = prefilled ? 1 : 0;
    const count = new Int32Array(2 * k);
    const first = new Int32Array(2 * k);
    const last = new Int32Array(2 * k);

    const names: string[] = [];
    for (let j = 0; j < k; j++) {
      names.push(j === 0 && prefilled ? `no ${tokens[0]} (prefilled)` : `${tokens[2 * j]} once`, `${tokens[2 * j + 1]} once`);
    }
    names.push('order');
    if (!prefilled) names.push(`nothing before ${tokens[0]}`);
    for (let j = 0; j + 1 < k; j++) names.push(`nothing between ${tokens[2 * j + 1]} and ${tokens[2 * j + 2]}`);
    if (!allowTrailing) names.push(`nothing after ${tokens[2 * k - 1]}`);
    if (newlines) names.push('newline layout');
    const total = names.length;

    const contentStart = (j: number) => (j === 0 && prefilled ? 0 : first[2 * j]! + tokens[2 * j]!.length);

    return {
      scope: 'rollout',
      grade(sample) {
        const s = sample.completion;
        count.fill(0);
        first.fill(-1);
        last.fill(-1);
        let next = firstExpected;
        let inOrder = true;
        for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', i + 1)) {
          const closing = s.charCodeAt(i + 1) === 47; /* / */
          for (let t = closing ? 1 : 0; t < 2 * k; t += 2) {
            if (!s.startsWith(tokens[t]!, i)) continue;
            if (count[t]++ === 0) first[t] = i;
            last[t] = i;
            if (t === next) next++;
            else inOrder = false;
            break;
          }
        }
        const ordered = inOrder && next === 2 * k;

        const results: boolean[] = [];
        for (let j = 0; j < k; j++) results.push(j === 0 && prefilled ? count[0] === 0 : count[2 * j] === 1, count[2 * j + 1] === 1);
        results.push(ordered);
        if (!prefilled) results.push(first[0]! >= 0 && blank(s, 0, first[0]!));
        for (let j = 0; j + 1 < k; j++) {
          const a = first[2 * j + 1]!;
          const b = first[2 * j + 2]!;
          results.push(a >= 0 && b > a && blank(s, a + tokens[2 * j + 1]!.length, b));
        }
        if (!allowTrailing) {
          const c = last[2 * k - 1]!;
          results.push(c >= 0 && blank(s, c + tokens[2 * k - 1]!.length, s.length));
        }
        if (newlines) {
          let ok = ordered && (prefilled || first[0] === 0);
          for (let j = 0; ok && j < k; j++) {
            const from = contentStart(j);
            const to = first[2 * j + 1]!;
            const needsOpen = !(j === 0 && prefilled);
            ok = s.charCodeAt(to - 1) === 10 && to - from >= (needsOpen ? 2 : 1) && (!needsOpen || s.charCodeAt(from) === 10);
            if (ok && j + 1 < k) {
              const gap = to + tokens[2 * j + 1]!.length;
              ok = first[2 * j + 2] === gap + 1 && s.charCodeAt(gap) === 10;
            }
          }
          results.push(ok);
        }

        let passed = 0;
        const checks: Record<string, boolean> = {};
        for (let c = 0; c < total; c++) {
          checks[names[c]!] = results[c]!;
          if (results[c]) passed++;
        }
        return { score: partial ? passed / total : passed === total ? 1 : 0, details: { checks, passed, total } };
      },
    };
  },
});
