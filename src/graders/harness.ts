import * as z from 'zod';
import type { Rollout } from '../rollout/types.js';
import { toSample } from '../rollout/sample.js';
import type { GradeOutput, Graded, Grader, GraderContext, GraderKind } from './types.js';

/** Normalises a grade output to {@link Graded}. */
export function asGraded(out: GradeOutput): Graded {
  if (out === null || typeof out === 'number') return { score: out };
  return out;
}

/**
 * Builds a grader of `kind` from raw params, validated exactly as the spec loader does
 * (unknown keys rejected). For tests and library users who want one grader without a spec. `ctx`
 * overrides the context (e.g. `{answer: parseAnswerRegion({tag: 'final'})}`, the spec-level region).
 *
 * @example
 * const g = buildGrader(exactGrader, { normalize: { case: 'lower' } });
 */
export function buildGrader<S extends z.ZodRawShape>(
  kind: GraderKind<S>,
  params: Record<string, unknown> = {},
  name = 'test',
  ctx: Partial<GraderContext> = {},
): Grader {
  const parsed = z.strictObject(kind.params).parse(params);
  return kind.create(parsed as z.infer<z.ZodObject<S>>, { specDir: process.cwd(), name, ...ctx });
}

type PartialRollout = Partial<Rollout> & { completion: Rollout['completion'] };

/**
 * Grades rollouts with a grader (a rollout grader runs per rollout, a group grader once over all of them).
 * Missing ids are filled in. Returns {@link Graded} per rollout.
 */
export async function gradeAll(grader: Grader, rollouts: PartialRollout[]): Promise<Graded[]> {
  const samples = rollouts.map((r, i) => toSample({ id: `r${i}`, ...r } as Rollout));
  if (grader.scope === 'group') return (await grader.gradeGroup(samples)).map(asGraded);
  const out: Graded[] = [];
  for (const s of samples) out.push(asGraded(await grader.grade(s)));
  return out;
}

/** Grades one completion (with optional reference/meta) and returns the score. */
export async function scoreOne(grader: Grader, completion: string, reference?: unknown, extra: Partial<Rollout> = {}): Promise<number | null> {
  const [g] = await gradeAll(grader, [{ completion, reference, ...extra }]);
  return g!.score;
}
