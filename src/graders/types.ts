import type { z } from 'zod';
import type { Sample } from '../rollout/types.js';
import type { Backend, BackendResolver } from '../backends/types.js';
import type { AnswerRegion } from './answer.js';

/**
 * A grader's answer with optional details (extracted answer, region read, reason …).
 *
 * **The null rule, the same for every grader kind.** A completion whose answer is missing, unreadable
 * or unparseable (no `<answer>`, an unclosed tag, no number, JSON that does not parse, SQL that does
 * not run, no tool call) is a **wrong answer**: it scores 0 — or the kind's minimum when its range goes
 * below 0 — and never more than a plain wrong answer; `details.reason` says why. `score: null` means
 * only "this grader cannot judge this rollout": there is no reference or it is unusable (not a number,
 * empty, does not parse), or the component declares itself not applicable (e.g. a group of one for a
 * group-relative grader). An answer that exhausts the grader's time limit is wrong too (Math-Verify
 * scores its timeouts False): a policy must not escape judgement by being slow to check. A failure
 * of the grader itself — its backend, sandbox or judge model (including a judge reply that cannot be
 * parsed) — throws: the pipeline records an error for the component, and its score is null. Options named
 * `on_parse_failure` / `on_missing` keep the opt-in `null` for an unreadable answer; their default
 * is `zero`. `likelihood`'s log-prob variants have no floor, so with no answer to cut off they
 * score the reference after the whole completion (still a judgement, never null). Documented exception:
 * `dpo_implicit` scores an unbounded log-ratio with no floor. `src/graders/null_rule.test.ts` checks the rule over
 * every kind.
 */
export interface Graded {
  score: number | null;
  details?: Record<string, unknown>;
}

/** What a grade function may return: a bare number, `null` ("cannot judge", see {@link Graded}) or {@link Graded}. */
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

/**
 * A grader kind that holds resources (worker processes) may add `close`: the compiled spec's `close()`
 * calls it once. Graders without it hold nothing.
 */
export type Grader = (RolloutGrader | GroupGrader) & { close?(): Promise<void> };

/** Where a grader is built: lets it resolve files relative to the spec and name its params in errors. */
export interface GraderContext {
  /** Directory of the spec file (relative paths in params resolve against it). */
  specDir: string;
  /** Component name in the spec. */
  name: string;
  /** The spec's `backends`, for model graders (`backend: <name>`). Absent when the spec declares none. */
  backends?: BackendResolver;
  /**
   * The spec-level `answer:` region (src/graders/answer.ts), compiled: the default for components whose
   * grader reads an answer region by default and that set no `answer:` of their own. Absent = `auto`.
   */
  answer?: AnswerRegion;
  /**
   * For a grader that brings its own managed backend (`grader: http`): registers it with the spec, so
   * that its counters show in the spec's backend stats and it is closed with the spec. Absent outside
   * a spec compile (then the grader keeps its backend to itself).
   */
  registerBackend?: (backend: Backend) => void;
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
