import * as z from 'zod';
import { ParamError, type RolloutGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { JudgeParams, ModeEnv } from '../params.js';
import { judgeConversation, missingReason, sampleSlots, type ConversationTurn } from '../prompt.js';
import { compileTemplate } from '../template.js';

/** Placeholders of the `score` and `label` templates and messages. */
export const CHAT_SLOTS = ['prompt', 'completion', 'reference', 'meta'] as const;

/** The reasoning steps that come before the result in score and label answers (OpenAI's model-grader output). */
export const stepsSchema = z
  .array(z.strictObject({ description: z.string(), conclusion: z.string() }))
  .max(64);

export type Steps = z.infer<typeof stepsSchema>;

/**
 * The turns of a score or label call: the spec's `messages` (each content a template; at least one
 * user message), else the one user message `template` (or `fallback`). `{{completion}}` must appear
 * in some turn: a judge that never sees the completion cannot grade it.
 *
 * @example
 * chatTurns({ messages: [{ role: 'user', content: 'Rate: {{completion}}' }] } as JudgeParams, '{{completion}}').length // → 1
 */
export function chatTurns(params: JudgeParams, fallback: string): ConversationTurn[] {
  let turns: ConversationTurn[];
  if (params.messages !== undefined) {
    if (params.template !== undefined) throw new ParamError('template', 'give either `template` (one user message) or `messages`, not both');
    turns = params.messages.map((m, i) => ({ role: m.role, template: compileTemplate(m.content, CHAT_SLOTS, `messages.${i}.content`) }));
    if (!turns.some((t) => t.role === 'user')) throw new ParamError('messages', 'needs at least one user message');
  } else turns = [{ role: 'user', template: compileTemplate(params.template ?? fallback, CHAT_SLOTS, 'template') }];
  if (!turns.some((t) => t.template.slots.has('completion')))
    throw new ParamError(params.messages !== undefined ? 'messages' : 'template', 'must contain {{completion}} (the judge has to see the response it grades)');
  return turns;
}

/**
 * The answer of `score` mode: `{"steps": [{"description", "conclusion"}, …], "result": r}`, r any
 * finite number (an out-of-range r is clamped by the mode, as OpenAI truncates to the range).
 *
 * @example
 * parseAnswer('{"steps": [], "result": 0.7}', scoreFormat([0, 1])) // → {steps: [], result: 0.7}
 * parseAnswer('{"steps": [], "result": "high"}', scoreFormat([0, 1])) // throws JudgeParseError
 */
export function scoreFormat(range: readonly [number, number]): AnswerFormat<{ steps: Steps; result: number }> {
  return answerFormat(
    'score_result',
    z.strictObject({ steps: stepsSchema, result: z.number().finite() }),
    `Reply with only a JSON object {"steps": [{"description": "...", "conclusion": "..."}, ...], "result": r}: first your grading as steps, ` +
      `then r, a number from ${range[0]} to ${range[1]}. No other text.`,
  );
}

/**
 * Clamps a score to [min, max].
 *
 * @example
 * clampScore(1.4, [0, 1]) // → 1
 */
export function clampScore(r: number, range: readonly [number, number]): number {
  return Math.min(range[1], Math.max(range[0], r));
}

const SYSTEM = 'You grade a response. Follow the grading instructions you are given; think through the grading step by step, then give the score.';

const TEMPLATE = 'Task:\n{{prompt}}\n\nResponse:\n{{completion}}';

/**
 * `score` mode (OpenAI's `score_model` grader): one call per rollout with the `messages` chat (or the
 * one `template` message); the judge answers `{"steps": [...], "result": r}` and the score is r
 * clamped to `range` (default [0, 1]) — OpenAI truncates the grader's output to its range. An answer
 * that is not that JSON, or whose result is not a number, is re-asked and then an error on the rollout
 * (OpenAI scores a non-numeric output 0; rewardkit never turns an unusable answer into a score).
 *
 * @example
 * // range [0, 10], judge answers {"steps": [...], "result": 7.5} → {score: 7.5, details: {result: 7.5, range: [0, 10], steps: [...], attempts: 1}}
 */
export function buildScore(env: ModeEnv): RolloutGrader {
  const range = env.params.range ?? ([0, 1] as [number, number]);
  if (!(range[0] < range[1])) throw new ParamError('range', `must be [min, max] with min < max, got [${range[0]}, ${range[1]}]`);
  const turns = chatTurns(env.params, TEMPLATE);
  const format = scoreFormat(range);
  return {
    scope: 'rollout',
    async grade(s) {
      const messages = judgeConversation({ system: env.params.system ?? SYSTEM, instruction: format.instruction, turns, slot: sampleSlots(s) });
      if ('missing' in messages) return { score: null, details: { reason: missingReason(messages.missing) } };
      const a = await askJudge(env.backend, messages, format, env.call);
      const score = clampScore(a.value.result, range);
      return { score, details: { result: a.value.result, ...(score !== a.value.result ? { clamped: true } : {}), range, steps: a.value.steps, attempts: a.attempts } };
    },
  };
}
