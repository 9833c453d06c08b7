import { z } from 'zod';
import { defineGrader } from './types.js';
import { normalizeSchema, normalizeText, referenceTexts } from './normalize.js';

/**
 * `exact` — 1 when the (normalised) completion equals the (normalised) reference, else 0.
 * A reference list means "any of these". No reference → `null` (not applicable).
 *
 * @example
 * # spec
 * - {name: answer, grader: exact, normalize: {case: lower, whitespace: true}}
 * # rollout {"completion": " Paris ", "reference": "paris"} → 1
 */
export const exactGrader = defineGrader({
  kind: 'exact',
  summary: 'Completion equals the reference after normalisation (1/0).',
  params: {
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const opts = params.normalize;
    return {
      scope: 'rollout',
      grade(s) {
        const refs = referenceTexts(s.reference);
        if (refs === null) return null;
        const got = normalizeText(s.completion, opts);
        return refs.some((r) => normalizeText(r, opts) === got) ? 1 : 0;
      },
    };
  },
});
