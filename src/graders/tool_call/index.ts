import * as z from 'zod';
import { defineGrader, ParamError, type Graded } from '../types.js';
import { answerRegion, resolveAnswerRegion, wholeByDefaultAnswerParam, WHOLE_REGION } from '../answer.js';
import { checkCalls } from './bfcl.js';
import { plain } from './json.js';
import { callsFromMessages, extractCalls, parseReference, type ExtractedCalls, type RefCall } from './parse.js';
import { partialCredit } from './partial.js';
import { goldShape, toolrlCorrectness, toolrlFormat, toolrlGoldCalls, toolrlLength, toolrlSchedule, type GoldShape, type ToolRLRanges } from './toolrl.js';

const callsDetail = (ex: ExtractedCalls) => ex.calls.map((c) => ({ name: c.name, arguments: plain(c.args) }));

/**
 * `tool_call` — scores the tool calls of a completion against the expected calls.
 *
 * Predicted calls come from the assistant messages' OpenAI `tool_calls` when the completion is a chat
 * with any, else from the text: Hermes/Qwen `<tool_call>{…}</tool_call>` blocks (one or several; one
 * JSON object per line as ToolRL writes them), else the whole text or its last fenced block as JSON
 * (`{name, arguments}`, a list of them, or `{"tool_calls": […]}`). `parameters` is read as `arguments`.
 * The text is the whole completion by default; a component may set `answer:` (e.g. `auto` or
 * `{tag: answer}`) to read the calls in that region only (the spec-level `answer:` does not apply;
 * OpenAI `tool_calls` are structured messages, never text, and always win; mode `toolrl` reads the
 * whole text, since its format term checks the blocks). Null rule: no reference → `null`; no call,
 * an unreadable call or a missing region is a wrong answer (0 in `bfcl_ast`/`partial`).
 *
 * The reference is a list of `{name, arguments}`, BFCL's ground truth `[{func: {param: [acceptable…]}}]`
 * (`""` = may be omitted; `[]` = no call expected), `{ground_truth, function}` as BFCL rows hold them,
 * or a gold output text. Function descriptions (for BFCL's type checks) come from the reference's
 * `function(s)`/`tools`, `meta.functions|function|tools`, or the rollout's `tools`.
 *
 * Modes:
 * - `bfcl_ast` (default): 1/0 by the acceptance rule of the Berkeley Function Calling Leaderboard
 *   (gorilla `ast_checker.py`): exact call count, calls paired in any order (any valid pairing counts;
 *   BFCL pairs greedily and can miss one), required parameters, no
 *   unknown ones, BFCL's type rules (int accepted for float) and value matching (strings case- and
 *   punctuation-insensitive). No call expected: 1 iff no readable call was made.
 * - `partial`: fractional credit in [0, 1] — calls paired to maximise credit; each pair earns the mean
 *   of name (must match), Jaccard of argument names and share of right values; divided by
 *   max(#expected, #made).
 * - `toolrl`: ToolRL's reward (Qian et al. 2025, "ToolRL: Reward is All Tool Learning Needs",
 *   qiancheng0/ToolRL `rlla.py`) on the completion text: format ∈ {0, 1} (blocks the gold has, in
 *   order) and correctness ∈ [−correct_max, correct_max] (0 when the gold makes no call, −max when the
 *   calls are unreadable). `part` picks `format + correctness` (`sum`, range [−3, 4], plus length when
 *   `length: true`) or one part. With a structured reference the gold "has" `<tool_call>` when it
 *   expects calls and `<response>` when it expects none; pass ToolRL's gold output text for its exact rule.
 *   Unlike ToolRL, `arguments` is accepted for `parameters`. A gold text whose `<tool_call>` section
 *   ToolRL cannot read (e.g. the tag mentioned inside `<think>`) raises an error naming the reference.
 *   The paper's reward-design variants: `granularity` fine (default) / intermediate / coarse, and
 *   `schedule: dynamic` (the reward scale moves with the training step, read from `meta.step`):
 *   see `toolrl.ts` (`toolrlSchedule`, ToolRLGranularity).
 *
 * @example
 * # spec
 * - {name: tools, grader: tool_call, mode: toolrl}
 * # completion "<think>ok</think>\n<tool_call>\n{\"name\": \"search\", \"parameters\": {\"q\": \"x\", \"k\": 3}}\n</tool_call>"
 * # reference  "<think>…</think>\n<tool_call>\n{\"name\": \"search\", \"parameters\": {\"q\": \"x\", \"k\": 5}}\n</tool_call>"
 * # → 2.5 (format 1 + correctness 1.5)
 */
export const toolCallGrader = defineGrader({
  kind: 'tool_call',
  summary: 'Tool calls vs the expected calls: BFCL AST acceptance (1/0), partial credit, or ToolRL reward.',
  params: {
    mode: z
      .enum(['bfcl_ast', 'partial', 'toolrl'])
      .default('bfcl_ast')
      .describe('bfcl_ast: BFCL acceptance 1/0 (default); partial: fractional credit in [0,1]; toolrl: ToolRL format + correctness.'),
    part: z
      .enum(['sum', 'correctness', 'format', 'length'])
      .optional()
      .describe('toolrl only: which part is the score — sum (format + correctness [+ length]; default), correctness, format or length.'),
    correct_max: z
      .number()
      .positive()
      .optional()
      .describe('toolrl only: correctness range is [−correct_max, correct_max] (default 3; ToolRL CORRECTMAX1 is 1).'),
    length: z
      .boolean()
      .optional()
      .describe("toolrl only: add ToolRL's length reward min(1, #think words / 512) to the sum (default false)."),
    granularity: z
      .enum(['fine', 'intermediate', 'coarse'])
      .optional()
      .describe('toolrl only: reward granularity of the correctness term — fine (default: names, parameter names and values), intermediate (a call counts only when exactly right; ToolRL INTERMEDIATEREWARD), coarse (max for an exact call list, else min; COARSEREWARD).'),
    schedule: z
      .enum(['static', 'dynamic'])
      .optional()
      .describe('toolrl only: static ranges (default), or ToolRL\'s dynamic reward scale (SCHEDULEREWARD) by the training step in the rollout\'s meta.step: correctness ±2 → ±3 over 150 steps, format max 2 → 1 and a failed format −2 → −1.'),
    answer: wholeByDefaultAnswerParam,
  },
  create(params) {
    const { mode } = params;
    if (mode !== 'toolrl') {
      for (const key of ['part', 'correct_max', 'length', 'granularity', 'schedule'] as const)
        if (params[key] !== undefined) throw new ParamError(key, `\`${key}\` applies to mode toolrl only (mode is ${mode})`);
    }
    if (mode === 'toolrl' && params.answer !== undefined)
      throw new ParamError('answer', 'mode toolrl reads the whole completion (its format term checks the blocks): `answer` does not apply');
    const region = resolveAnswerRegion(params.answer, undefined, WHOLE_REGION);
    const part = params.part ?? 'sum';
    const correctMax = params.correct_max ?? 3;
    const withLength = params.length ?? false;
    const granularity = params.granularity ?? 'fine';
    const dynamic = params.schedule === 'dynamic';
    return {
      scope: 'rollout',
      grade(s): Graded | null {
        if (mode === 'toolrl') {
          if (s.reference === undefined || s.reference === null) return null;
          let gold: RefCall[] | null;
          let shape: GoldShape;
          if (typeof s.reference === 'string') {
            shape = goldShape(s.reference);
            gold = shape.toolCall ? toolrlGoldCalls(s.reference) : null;
          } else {
            const ref = parseReference(s.reference, s.meta, s.rollout)!;
            gold = ref.calls.length > 0 ? ref.calls : null;
            shape = { toolCall: gold !== null, response: gold === null };
          }
          let ranges: ToolRLRanges = { correctMin: -correctMax, correctMax, formatMin: 0, formatMax: 1 };
          let step: number | undefined;
          if (dynamic) {
            const st = s.meta.step;
            if (typeof st !== 'number' || !Number.isFinite(st) || st < 0)
              throw new Error(`schedule: dynamic needs the training step as a non-negative number in meta.step (got ${st === undefined ? 'none' : JSON.stringify(st)})`);
            step = st;
            ranges = toolrlSchedule(correctMax, st);
          }
          const format = toolrlFormat(s.completion, shape) === 1 ? ranges.formatMax : ranges.formatMin;
          const correct = toolrlCorrectness(s.completion, gold, ranges.correctMax, { granularity, min: ranges.correctMin });
          const length = part === 'length' || withLength ? toolrlLength(s.completion) : undefined;
          const sum = format + correct.score + (withLength ? length! : 0);
          const score = part === 'sum' ? sum : part === 'format' ? format : part === 'correctness' ? correct.score : length!;
          const details: Record<string, unknown> = { format, correctness: correct.score };
          if (length !== undefined) details.length = length;
          if (correct.s !== undefined) Object.assign(details, { s: correct.s, s_max: correct.sMax });
          if (correct.reason !== undefined) details.reason = correct.reason;
          if (step !== undefined) Object.assign(details, { step, correct_range: [ranges.correctMin, ranges.correctMax], format_range: [ranges.formatMin, ranges.formatMax] });
          return { score, details };
        }
        const ref = parseReference(s.reference, s.meta, s.rollout);
        if (ref === null) return null;
        let ex: ExtractedCalls;
        let where: { region?: string } = {};
        if (region === WHOLE_REGION) ex = extractCalls(s.rollout, s.completion);
        else {
          const structured = callsFromMessages(s.rollout.completion);
          if (structured !== null) ex = structured;
          else {
            const a = answerRegion(s.completion, region);
            if ('missing' in a) {
              // No region: no call was made, which is right only when none is expected.
              const none = ref.calls.length === 0;
              return { score: none ? 1 : 0, details: { source: 'text', calls: [], region: a.region, reason: `no answer: ${a.reason}` } };
            }
            ex = extractCalls(s.rollout, a.text);
            where = { region: a.region };
          }
        }
        const base = { source: ex.source, calls: callsDetail(ex), ...where, ...(ex.errors.length > 0 ? { parse_errors: ex.errors } : {}) };
        if (mode === 'partial') {
          const r = partialCredit(ex.calls, ref.calls, ex.errors.length);
          return { score: r.score, details: { ...base, pairs: r.pairs } };
        }
        if (ref.calls.length > 0 && ex.errors.length > 0) return { score: 0, details: { ...base, reason: `unreadable call: ${ex.errors[0]}` } };
        const r = checkCalls(ref.functions, ex.calls, ref.calls);
        return { score: r.valid ? 1 : 0, details: r.valid ? base : { ...base, reason: r.error } };
      },
    };
  },
});
