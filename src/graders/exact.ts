import * as z from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';
import { answerParam, answerRegion, resolveAnswerRegion } from './answer.js';

/**
 * `exact` — 1 when the (normalised) answer equals the (normalised) reference, else 0.
 * The answer is the completion's answer region (`answer:`, default `auto`: the last `<answer>…</answer>`,
 * else the text after the reasoning); `details.region` says which was read. A reference list means
 * "any of these". Null rule: no reference, or only empty ones after normalisation → `null` (cannot
 * judge); a missing answer region (e.g. an empty completion) → 0.
 *
 * @example
 * # spec
 * - {name: answer, grader: exact, normalize: {case: lower, whitespace: true}}
 * # rollout {"completion": " Paris ", "reference": "paris"} → 1
 * # rollout {"completion": "<think>capital of France</think><answer>Paris</answer>", "reference": "paris"} → 1 (details {region: 'answer_tag'})
 */
export const exactGrader = defineGrader({
  kind: 'exact',
  summary: 'Completion equals the reference after normalisation (1/0).',
  params: {
    normalize: normalizeSchema.prefault({}),
    answer: answerParam,
  },
  create(params, ctx) {
    const opts = params.normalize;
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTexts(s.reference);
        if (refs === null) return null;
        const wanted = refs.map((r) => normalizeText(r, opts)).filter((r) => r !== '');
        if (wanted.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const a = answerRegion(s.completion, region);
        if ('missing' in a) return { score: 0, details: { region: a.region, reason: `no answer: ${a.reason}` } };
        const got = normalizeText(a.text, opts);
        return { score: wanted.includes(got) ? 1 : 0, details: { region: a.region } };
      },
    };
  },
});
