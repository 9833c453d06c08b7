import * as z from 'zod';
import { ParamError, type RolloutGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { ModeEnv } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { compileTemplate, requireSlots } from '../template.js';

type Verdict = { correct: boolean; probability?: number };

/**
 * The answer of `reference` mode: `{"correct": bool}`, or with `probability` also
 * `"probability": p` in [0, 1] that agrees with the verdict (correct ⇒ p ≥ 0.5, incorrect ⇒ p ≤ 0.5).
 *
 * @example
 * parseAnswer('{"correct": true, "probability": 0.2}', referenceFormat('probability')) // throws JudgeParseError (disagree)
 */
export function referenceFormat(verdict: 'binary' | 'probability'): AnswerFormat<Verdict> {
  if (verdict === 'binary')
    return answerFormat(
      'reference_verdict',
      z.strictObject({ correct: z.boolean() }),
      'Reply with only a JSON object {"correct": true} or {"correct": false}, and no other text.',
    );
  return answerFormat(
    'reference_verdict',
    z.strictObject({ correct: z.boolean(), probability: z.number().min(0).max(1) }) as z.ZodType<Verdict>,
    'Reply with only a JSON object {"correct": true or false, "probability": p}, p being your probability (0 to 1) that the response\'s ' +
      'final answer is correct, and no other text.',
    (v) =>
      (v.correct && v.probability! < 0.5) || (!v.correct && v.probability! > 0.5)
        ? `probability ${v.probability} disagrees with "correct": ${v.correct}`
        : null,
  );
}

const SYSTEM =
  'You check whether a response reaches the correct final answer. You are given the question, the reference answer and the response. ' +
  'Compare the final answer of the response with the reference answer: a different but equivalent form (an equal expression, ' +
  'other units or notation, other wording) is correct; a missing, hedged, multiple or different final answer is incorrect. ' +
  'Judge only the final answer, not the reasoning that leads to it.';

const TEMPLATE = 'Question:\n{{prompt}}\n\nReference answer:\n{{reference}}\n\nResponse:\n{{completion}}';

/**
 * `reference` mode (Cooper's VerifyRM: the judge sees the question, the reference answer and the
 * completion): `verdict: binary` scores 1 correct / 0 not; `verdict: probability` scores the judge's
 * probability p of correctness (Cooper's reward σ(logit) ∈ (0, 1)), or 1[p > 0.5] with `binarize`
 * (Cooper's `reward_scale`). A rollout without a reference → null, with the reason in details.
 *
 * @example
 * // reference "42", judge answers {"correct": true, "probability": 0.9} → {score: 0.9, details: {correct: true, probability: 0.9, attempts: 1}}
 */
export function buildReference(env: ModeEnv): RolloutGrader {
  const verdict = env.params.verdict ?? 'binary';
  if (env.params.binarize !== undefined && verdict !== 'probability') throw new ParamError('binarize', 'only applies with `verdict: probability`');
  const binarize = env.params.binarize ?? false;
  const template = compileTemplate(env.params.template ?? TEMPLATE, ['prompt', 'completion', 'reference', 'meta'], 'template');
  requireSlots(template, ['completion', 'reference'], 'template');
  const format = referenceFormat(verdict);
  return {
    scope: 'rollout',
    async grade(s) {
      const messages = judgeMessages({ system: env.params.system ?? SYSTEM, instruction: format.instruction, template, slot: sampleSlots(s) });
      if ('missing' in messages) return { score: null, details: { reason: missingReason(messages.missing) } };
      const a = await askJudge(env.backend, messages, format, env.call);
      const { correct, probability } = a.value;
      if (probability === undefined) return { score: correct ? 1 : 0, details: { correct, attempts: a.attempts } };
      return { score: binarize ? (probability > 0.5 ? 1 : 0) : probability, details: { correct, probability, attempts: a.attempts } };
    },
  };
}
