import type { Backend } from '../../backends/types.js';
import { defineGrader, ParamError, type Grader } from '../types.js';
import { judgeParams, MODE_PARAMS, type JudgeMode, type JudgeParams, type ModeEnv } from './params.js';
import { buildPairwise } from './modes/pairwise.js';
import { buildPrinciple } from './modes/principle.js';
import { buildReference } from './modes/reference.js';
import { buildRubric } from './modes/rubric.js';
import { buildScale } from './modes/scale.js';
import { buildThinkThenScore } from './modes/think_then_score.js';
import { buildScore } from './modes/score.js';
import { buildLabel } from './modes/label.js';

export { JudgeAnswerError } from './ask.js';
export { JudgeParseError } from './parse.js';
export type { JudgeMode, JudgeParams, RubricItem } from './params.js';

const BUILDERS: Record<JudgeMode, (env: ModeEnv) => Grader> = {
  rubric: buildRubric,
  principle: buildPrinciple,
  reference: buildReference,
  scale: buildScale,
  pairwise: buildPairwise,
  think_then_score: buildThinkThenScore,
  score: buildScore,
  label: buildLabel,
};

/**
 * `judge` — an LLM judge through a chat backend named in the spec's `backends`, in eight modes (see
 * src/graders/judge/README.md): `rubric` (HeRL: weighted share of rubric items met), `principle`
 * (RewardAnything: listwise 1–N scores of the whole group, names masked and shuffled), `reference`
 * (Cooper: correct given the reference answer, 1/0 or a probability), `scale` (a 1–N score mapped to
 * [0, 1], RoboReward's progress rubric by default), `pairwise` (win rate within the group, both
 * orders), `think_then_score` (DeScore: free reasoning, then a separate constrained score call), and
 * OpenAI's model graders: `score` (a number in `range`, clamped; score_model) and `label` (1 when the
 * label is a passing one; label_model), both taking a `messages` chat.
 * Rollout text is fenced between markers carrying a tag derived from the call's data, which the
 * judge is told to treat as data. Answers must be JSON matching the mode's schema (sent as
 * `json_schema`, checked with zod); an unusable answer is re-asked `parse_retries` times and then
 * becomes an error on the rollout — never a default score. A rollout lacking what the template needs
 * (no reference in `reference` mode, a missing `meta.<key>`) → null with the reason in details.
 *
 * @example
 * # spec
 * backends: {judge: {type: openai, base_url: 'http://127.0.0.1:8000/v1', model: qwen3-8b}}
 * components:
 *   - name: quality
 *     grader: judge
 *     backend: judge
 *     mode: rubric
 *     rubric: [{criterion: States the final answer, weight: 2}, {criterion: Shows the steps, weight: 1}, {criterion: Cites units, weight: 1}]
 * # judge answers met, unmet, met → 0.75
 */
export const judgeGrader = defineGrader({
  kind: 'judge',
  summary: 'LLM judge through a chat backend: rubric, principle (listwise), reference, 1–N scale, pairwise win rate, think-then-score, score in a range, label.',
  params: judgeParams,
  create(params: JudgeParams, ctx) {
    for (const [key, modes] of Object.entries(MODE_PARAMS))
      if (params[key as keyof JudgeParams] !== undefined && !modes.includes(params.mode))
        throw new ParamError(key, `does not apply to mode ${params.mode} (only to ${modes.join(', ')})`);
    if (params.system !== undefined && /\{\{[^{}]*\}\}/.test(params.system))
      throw new ParamError('system', 'takes no placeholders; put {{…}} in `template`');
    if (!ctx.backends) throw new ParamError('backend', `names "${params.backend}", but the spec declares no backends (add a \`backends:\` section)`);
    let backend: Backend;
    try {
      backend = ctx.backends.get(params.backend, ['chat']);
    } catch (e) {
      throw new ParamError('backend', e instanceof Error ? e.message : String(e));
    }
    const call = {
      max_tokens: params.max_tokens,
      temperature: params.temperature,
      parse_retries: params.parse_retries,
      strip_think: params.strip_think,
      ...(params.sampling_seed !== undefined ? { seed: params.sampling_seed } : {}),
    };
    return BUILDERS[params.mode]({ backend, params, call });
  },
});
