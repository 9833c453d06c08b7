import * as z from 'zod';
import { ParamError, type RolloutGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { ModeEnv } from '../params.js';
import { judgeConversation, missingReason, sampleSlots } from '../prompt.js';
import { chatTurns, stepsSchema, type Steps } from './score.js';

/**
 * The answer of `label` mode: `{"steps": [{"description", "conclusion"}, …], "result": label}`, the
 * label one of `labels` exactly (sent as an enum in the JSON schema; anything else is unusable).
 *
 * @example
 * parseAnswer('{"steps": [], "result": "maybe"}', labelFormat(['yes', 'no'])) // throws JudgeParseError
 */
export function labelFormat(labels: readonly string[]): AnswerFormat<{ steps: Steps; result: string }> {
  return answerFormat(
    'label_result',
    z.strictObject({ steps: stepsSchema, result: z.enum(labels as [string, ...string[]]) }),
    `Reply with only a JSON object {"steps": [{"description": "...", "conclusion": "..."}, ...], "result": label}: first your reasoning as steps, ` +
      `then the label, exactly one of ${labels.map((l) => JSON.stringify(l)).join(', ')}. No other text.`,
  );
}

function unique(values: readonly string[], param: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new ParamError(param, `lists ${JSON.stringify(v)} twice`);
    seen.add(v);
  }
}

const SYSTEM = 'You classify a response. Follow the instructions you are given; think through them step by step, then give one label.';

const TEMPLATE = 'Task:\n{{prompt}}\n\nResponse:\n{{completion}}';

/**
 * `label` mode (OpenAI's `label_model` grader): one call per rollout with the `messages` chat (or the
 * one `template` message); the judge picks one of `labels`, and the score is 1 when it is one of
 * `passing_labels`, else 0. A label outside `labels` is an unusable answer: re-asked, then an error
 * on the rollout, never a 0 or a 1.
 *
 * @example
 * // labels [positive, neutral, negative], passing [positive]; judge answers {"steps": [], "result": "neutral"} → {score: 0, details: {label: 'neutral', passing: false, …}}
 */
export function buildLabel(env: ModeEnv): RolloutGrader {
  const { labels, passing_labels: passing } = env.params;
  if (labels === undefined) throw new ParamError('labels', 'label mode needs `labels`, the labels the judge chooses from');
  if (passing === undefined) throw new ParamError('passing_labels', 'label mode needs `passing_labels`, the labels that score 1');
  unique(labels, 'labels');
  unique(passing, 'passing_labels');
  const stray = passing.filter((p) => !labels.includes(p));
  if (stray.length > 0) throw new ParamError('passing_labels', `must be a subset of labels; ${stray.map((p) => JSON.stringify(p)).join(', ')} is not a label`);
  const turns = chatTurns(env.params, TEMPLATE);
  const format = labelFormat(labels);
  const pass = new Set(passing);
  return {
    scope: 'rollout',
    async grade(s) {
      const messages = judgeConversation({ system: env.params.system ?? SYSTEM, instruction: format.instruction, turns, slot: sampleSlots(s) });
      if ('missing' in messages) return { score: null, details: { reason: missingReason(messages.missing) } };
      const a = await askJudge(env.backend, messages, format, env.call);
      const passing = pass.has(a.value.result);
      return { score: passing ? 1 : 0, details: { label: a.value.result, passing, steps: a.value.steps, attempts: a.attempts } };
    },
  };
}
