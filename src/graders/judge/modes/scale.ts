import * as z from 'zod';
import type { RolloutGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { JudgeParams, ModeEnv } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { compileTemplate, requireSlots } from '../template.js';

/** Placeholders of the `scale` and `think_then_score` templates. */
export const SCALE_SLOTS = ['prompt', 'completion', 'reference', 'meta', 'scale'] as const;

const PROGRESS_RUBRIC_5 = [
  '1 - No progress: nothing in the response moves toward what the task asks for.',
  '2 - Minimal progress: a small step toward the goal, far from enough.',
  '3 - Partial completion: real progress, but a major requirement, or more than one requirement, is not met.',
  '4 - Near completion: right in substance and intent, but one minor requirement is missed.',
  '5 - Complete: every requirement of the task is met.',
].join('\n');

/**
 * The scale shown to the judge: the spec's `scale_description`, else for a 1–5 scale a progress
 * rubric after RoboReward's (no progress, minimal, partial, near completion, complete), else a
 * description of the two ends.
 *
 * @example
 * scaleText({ scale_description: undefined }, 10) // → '1 = the task is not accomplished at all; 10 = …'
 */
export function scaleText(params: Pick<JudgeParams, 'scale_description'>, max: number): string {
  if (params.scale_description) return params.scale_description;
  if (max === 5) return PROGRESS_RUBRIC_5;
  return `1 = the task is not accomplished at all; ${max} = it is fully accomplished; the levels between are proportional progress.`;
}

/**
 * The `{"score": s}` answer with s an integer in 1..max.
 *
 * @example
 * parseAnswer('{"score": 6}', scaleFormat(5)) // throws JudgeParseError (out of range)
 */
export function scaleFormat(max: number): AnswerFormat<{ score: number }> {
  return answerFormat(
    'scale_score',
    z.strictObject({ score: z.number().int().min(1).max(max) }),
    `Reply with only a JSON object {"score": s}, s an integer from 1 to ${max}, and no other text.`,
  );
}

/**
 * Maps a 1..max score to [0, 1] by (s − 1)/(max − 1).
 *
 * @example
 * scaleScore(4, 5) // → 0.75
 */
export function scaleScore(s: number, max: number): number {
  return (s - 1) / (max - 1);
}

const SYSTEM =
  'You rate how far a response accomplishes the task set by the prompt, on an integer scale. ' +
  'Judge the response as it is: what it actually does and says, not what it promises or claims about itself. ' +
  'Use the whole scale: the lowest level when nothing useful was done, the highest only when every requirement is met.';

const TEMPLATE = 'Task:\n{{prompt}}\n\nResponse:\n{{completion}}\n\nScale:\n{{scale}}';

/** What the scale-scored modes (`scale`, `think_then_score`) build from their params once. */
export function scaleSetup(env: ModeEnv) {
  const max = env.params.scale_max ?? 5;
  const template = compileTemplate(env.params.template ?? TEMPLATE, SCALE_SLOTS, 'template');
  requireSlots(template, ['completion'], 'template');
  return { max, template, format: scaleFormat(max), scale: scaleText(env.params, max) };
}

/**
 * `scale` mode: one call per rollout; the judge answers an integer 1..N (`scale_max`, default 5;
 * RoboReward's 1–5 progress rubric by default), mapped to [0, 1] by (s − 1)/(N − 1). An out-of-range
 * or non-integer answer is a parse failure.
 *
 * @example
 * buildScale(env).grade(sample) // judge answers {"score": 4} → {score: 0.75, details: {score_raw: 4, scale_max: 5, attempts: 1}}
 */
export function buildScale(env: ModeEnv): RolloutGrader {
  const { max, template, format, scale } = scaleSetup(env);
  return {
    scope: 'rollout',
    async grade(s) {
      const messages = judgeMessages({ system: env.params.system ?? SYSTEM, instruction: format.instruction, template, slot: sampleSlots(s, { scale }) });
      if ('missing' in messages) return { score: null, details: { reason: missingReason(messages.missing) } };
      const a = await askJudge(env.backend, messages, format, env.call);
      return { score: scaleScore(a.value.score, max), details: { score_raw: a.value.score, scale_max: max, attempts: a.attempts } };
    },
  };
}
