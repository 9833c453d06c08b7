import type { z } from 'zod';
import type { Sample } from '../rollout/types.js';
import type { BackendResolver } from '../backends/types.js';

/** A grader's answer with optional details (extracted answer, reason …). `score: null` = not applicable. */
export interface Graded {
  score: number | null;
  details?: Record<string, unknown>;
}

/** What a grade function may return: a bare number, `null` ("not applicable", skipped by the combiner) or {@link Graded}. */
export type GradeOutput = number | null | Graded;

/** Grades one rollout at a time. May be async (model backends); rule graders should stay sync. */
export interface RolloutGrader {
  scope: 'rollout';
  grade(sample: Sample): GradeOutput | Promise<GradeOutput>;
}

/** Grades a whole group at once (diversity, listwise judges): returns one output per sample, in order. */
export interface GroupGrader {
  scope: 'group';
  gradeGroup(samples: readonly Sample[]): GradeOutput[] | Promise<GradeOutput[]>;
}

export type Grader = RolloutGrader | GroupGrader;

/** Where a grader is built: lets it resolve files relative to the spec and name its params in errors. */
export interface GraderContext {
  /** Directory of the spec file (relative paths in params resolve against it). */
  specDir: string;
  /** Component name in the spec. */
  name: string;
  /** The spec's `backends`, for model graders (`backend: <name>`). Absent when the spec declares none. */
  backends?: BackendResolver;
}

/**
 * Thrown by `create` when params are individually valid but wrong (a regex that does not compile,
 * contradictory options). `param` names the key; the spec loader prefixes the component's path.
 */
export class ParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

/**
 * One grader kind: its name in the spec, its params (a zod shape merged into the component object,
 * so `{name, grader: regex, pattern: …, weight: …}` is one flat object), and a factory.
 */
export interface GraderKind<Shape extends z.ZodRawShape = z.ZodRawShape> {
  /** The `grader:` value in a spec, lower_snake_case. */
  kind: string;
  /** One line for `rewardkit graders` and the JSON Schema description. */
  summary: string;
  /** Params schema (zod shape); every key must carry `.describe(…)`. */
  params: Shape;
  /** Builds the grader once per spec load. Throw {@link ParamError} for bad params. */
  create(params: z.infer<z.ZodObject<Shape>>, ctx: GraderContext): Grader;
}

/** Helper that keeps a kind's params typed without repeating the generic. */
export function defineGrader<Shape extends z.ZodRawShape>(kind: GraderKind<Shape>): GraderKind<Shape> {
  return kind;
}
