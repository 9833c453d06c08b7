import * as z from 'zod';
import type { Rollout } from '../rollout/types.js';
import { toSample } from '../rollout/sample.js';
import { buildInnerGrader, entrySchema } from './first_judged.js';
import { defineGrader, type GradeOutput, type GraderKind } from './types.js';

const score = (r: GradeOutput) => (r === null || typeof r === 'number' ? { score: r } : r);

/**
 * `hindsight_bonus` — HeRL's hindsight-rewrite reward shaping ("HeRL", sikelifei/HeRL,
 * `verl/trainer/ppo/ray_trainer.py`, `rewrite_he.reward_shaping_alpha`; mechanics-A §17 [SRC]).
 * The trainer rewrites a weak rollout with its unmet rubrics in context; the rewrite is scored by the
 * same reward, and the original rollout's reward moves a fraction α toward its best rewrite:
 *
 *   `r' = r + α·(max_j r(rewrite_j) − r)`, α = `alpha` (HeRL scripts 0.05).
 *
 * The rewrites come with the rollout in `meta.rewrites` (a string or a list of strings, completions
 * in the rollout's own prompt); each is graded by the inner `grader` exactly as the completion is.
 * No rewrites → r unchanged. A rewrite the grader cannot judge (null) is left out; if none can be
 * judged, r is unchanged. r null → null (the bonus never turns "cannot judge" into a score). As in
 * HeRL the term is applied whichever way it points: a rewrite scoring below r pulls r' down by
 * α·(r − r_rw), so r' always lies between r and the best rewrite's score, and a rewrite equal to r
 * adds nothing. HeRL spreads the delta uniformly over the response tokens; here it is part of the
 * rollout's scalar reward.
 * Hostile policy: the rewrites are the trainer's, not the policy's (`meta` is not completion text),
 * and the bonus is bounded by α·(range of the inner grader).
 * Details: `{base, rewrite_best, rewrite_scores, bonus, …the inner grader's details}`.
 *
 * @example
 * # spec
 * - name: rubric
 *   grader: hindsight_bonus
 *   alpha: 0.05
 *   grader_spec: {grader: reward_model, backend: rm}
 * # rollout {"completion": "draft", "meta": {"rewrites": ["better draft"]}}
 * # r = 0.6, best rewrite scores 1.0 → r' = 0.6 + 0.05·(1.0 − 0.6) = 0.62
 */
export function hindsightBonusKind(lookup: (kind: string) => GraderKind | undefined) {
  return defineGrader({
    kind: 'hindsight_bonus',
    summary: 'HeRL hindsight-rewrite bonus: r + α·(best score of the rollout’s rewrites in meta.rewrites − r), α = 0.05.',
    params: {
      grader_spec: entrySchema.describe('The reward both the rollout and its rewrites are scored with: `{grader: <kind>, …params}`.'),
      alpha: z.number().min(0).max(1).default(0.05).describe('α, the fraction of the gap to the best rewrite added (HeRL reward_shaping_alpha 0.05).'),
    },
    create(params, ctx) {
      const inner = buildInnerGrader(lookup, params.grader_spec as Record<string, unknown>, 'grader_spec', ctx, 'hindsight_bonus');
      const alpha = params.alpha;
      return {
        scope: 'rollout',
        ...(inner.grader.close ? { close: () => inner.grader.close!() } : {}),
        async grade(s) {
          const base = score(await inner.grader.grade(s));
          if (base.score === null) return base;
          const raw = s.meta.rewrites;
          if (raw === undefined || raw === null) return base;
          const rewrites = typeof raw === 'string' ? [raw] : raw;
          if (!Array.isArray(rewrites) || !rewrites.every((x) => typeof x === 'string'))
            throw new Error('meta.rewrites must be a string or a list of strings (rewritten completions)');
          const scores: (number | null)[] = [];
          for (const text of rewrites as string[]) {
            const rollout: Rollout = { ...s.rollout, completion: text };
            scores.push(score(await inner.grader.grade(toSample(rollout))).score);
          }
          const judged = scores.filter((x): x is number => x !== null);
          const details = { ...(base.details ?? {}), base: base.score, rewrite_scores: scores };
          if (judged.length === 0) return { score: base.score, details: { ...details, bonus: 0 } };
          const best = Math.max(...judged);
          const bonus = alpha * (best - base.score);
          return { score: base.score + bonus, details: { ...details, rewrite_best: best, bonus } };
        },
      };
    },
  });
}
