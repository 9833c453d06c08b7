import type { RolloutGrader } from '../../types.js';
import { askJudge, JudgeAnswerError } from '../ask.js';
import type { ModeEnv } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { scaleScore, scaleSetup } from './scale.js';

const REASON_SYSTEM =
  'You evaluate a response to a task. Think it through in prose: what the task requires, what the response does well, what it gets ' +
  'wrong or leaves out, and how far it accomplishes the task on the scale given. Do not give a final score yet.';

const SCORE_SYSTEM =
  'You turn a written evaluation of a response into a score on an integer scale. Base the score on the response and on the evaluation, ' +
  'which was written earlier by an evaluator.';

/**
 * `think_then_score` mode, the project's reading of DeScore ("Think then Score": a reasoning stage,
 * then a separate scorer given the reasoning). Two calls per rollout through the backend: the first
 * lets the judge write a free evaluation (no schema, `reasoning_max_tokens`); the second shows the
 * same material plus that evaluation (fenced as data) and must return only `{"score": s}`, s an
 * integer in 1..N, mapped to [0, 1] by (s − 1)/(N − 1). Parse retries apply to the second call; an
 * empty evaluation is an error.
 *
 * @example
 * // call 1 → "The answer is right but unexplained…"; call 2 → {"score": 4} → {score: 0.75, details: {reasoning: '…', score_raw: 4, …}}
 */
export function buildThinkThenScore(env: ModeEnv): RolloutGrader {
  const { max, template, format, scale } = scaleSetup(env);
  const reasoningTokens = env.params.reasoning_max_tokens ?? 2048;
  return {
    scope: 'rollout',
    async grade(s) {
      const slot = sampleSlots(s, { scale });
      const first = judgeMessages({ system: env.params.system ?? REASON_SYSTEM, template, slot });
      if ('missing' in first) return { score: null, details: { reason: missingReason(first.missing) } };
      const thought = await env.backend.chat({ messages: first, max_tokens: reasoningTokens, temperature: env.call.temperature });
      const reasoning = (typeof thought.text === 'string' ? thought.text : '').trim();
      if (reasoning === '') throw new JudgeAnswerError('judge gave an empty evaluation in the reasoning call');
      const second = judgeMessages({
        system: env.params.system ?? SCORE_SYSTEM,
        instruction: format.instruction,
        template,
        slot,
        after: { data: [{ label: 'evaluation', text: reasoning }], text: 'Based on the response and the evaluation above, give the score.' },
      });
      if ('missing' in second) return { score: null, details: { reason: missingReason(second.missing) } };
      const a = await askJudge(env.backend, second, format, env.call);
      return {
        score: scaleScore(a.value.score, max),
        details: { reasoning, score_raw: a.value.score, scale_max: max, attempts: a.attempts + 1 },
      };
    },
  };
}
