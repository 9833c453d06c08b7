import { ParamError, type Grader, type GraderKind } from '../graders/types.js';
import { buildCombiner } from '../combine/registry.js';
import type { Combiner } from '../combine/types.js';
import type { buildShapers } from '../shape/registry.js';
import { buildEstimator } from '../advantage/registry.js';
import type { Estimator } from '../advantage/types.js';
import type { buildCredit, signalParams } from '../credit/registry.js';
import type { Credit } from '../credit/types.js';
import type { Spec } from './schema.js';
import { SpecError, type SpecIssue } from './errors.js';
import type { buildBackends, BuiltBackends } from '../backends/config.js';
import { compileAnswerRegion, type AnswerRegion } from '../graders/answer.js';
import type { Backend } from '../backends/types.js';

/** A spec turned into runnable parts: built once, then used for every batch. */
export interface CompiledSpec {
  readonly spec: Spec;
  readonly source: string;
  readonly names: readonly string[];
  readonly weights: Float64Array;
  readonly graders: readonly Grader[];
  readonly combiner: Combiner;
  readonly shapers: ReturnType<typeof buildShapers> | null;
  readonly estimator: Estimator | null;
  /** Step-level credit assignment (`credit:`), for rollouts with `steps`. */
  readonly credit: Credit | null;
  /** Components with `scope: step`, graded on every step; not part of `names`/`graders`/the combiner. */
  readonly steps: StepComponents | null;
  /** The spec's model backends (`backends:`), with their counters; null when it declares none. */
  readonly backends: BuiltBackends | null;
  /** Releases what the spec holds (backend connections, loaded models, cache files, grader worker processes). Idempotent. */
  close(): Promise<void>;
}

/** The step-scoped components of a spec, in spec order. */
export interface StepComponents {
  readonly names: readonly string[];
  readonly weights: Float64Array;
  readonly graders: readonly Grader[];
}

/** A section builder the caller must have passed for a spec that has the section. */
function need<T>(part: T | undefined, section: string): T {
  if (part === undefined) throw new Error(`internal error: the spec has \`${section}\` but its builder was not loaded`);
  return part;
}

function at(path: string, e: unknown): SpecIssue {
  if (e instanceof ParamError) return { path: `${path}.${e.param}`.replace(/\.(\d+)(?=\.|$)/g, '[$1]'), message: e.message };
  return { path, message: e instanceof Error ? e.message : String(e) };
}

/** Like {@link at}, but a {@link SpecError} thrown by a factory (a module kind's params) keeps every issue, under `path`. */
function allAt(path: string, e: unknown): SpecIssue[] {
  if (e instanceof SpecError) return e.issues.map((i) => ({ path: i.path ? `${path}.${i.path}` : path, message: i.message }));
  return [at(path, e)];
}

/**
 * What {@link compileSpecWith} builds a spec from, besides the always-loaded combiners and
 * estimators: the grader kinds, and the builders of the sections needed only when the spec has them
 * (model backends, shapers, credit methods: modules heavy to import). compile.ts passes the full
 * registry and every builder; load_async.ts the kinds the spec names and the builders of the sections it has.
 */
export interface SpecParts {
  kind(name: string): GraderKind | undefined;
  buildBackends?: typeof buildBackends;
  buildShapers?: typeof buildShapers;
  credit?: { buildCredit: typeof buildCredit; signalParams: typeof signalParams };
}

/**
 * Builds the graders, combiner, shapers and estimator of a validated spec from `parts`. Params that
 * are well-typed but wrong (a regex that does not compile, a gate naming no component) are reported as
 * a {@link SpecError} with their path, all at once.
 */
export function compileSpecWith(spec: Spec, opts: { source?: string; specDir?: string }, parts: SpecParts): CompiledSpec {
  const source = opts.source ?? spec.name;
  const specDir = opts.specDir ?? process.cwd();
  const issues: SpecIssue[] = [];
  const names: string[] = [];
  const weightList: number[] = [];
  const graders: Grader[] = [];
  const stepNames: string[] = [];
  const stepWeights: number[] = [];
  const stepGraders: Grader[] = [];
  let backends: BuiltBackends | null = null;
  if (spec.backends && Object.keys(spec.backends).length > 0) {
    try {
      backends = need(parts.buildBackends, 'backends')(spec.backends, { specDir });
    } catch (e) {
      if (e instanceof SpecError) issues.push(...e.issues);
      else issues.push({ path: 'backends', message: e instanceof Error ? e.message : String(e) });
    }
  }
  const ctxBackends = backends?.resolver;
  /** Backends graders brought themselves (`grader: http`), added to the spec's stats and closed with it. */
  const own: Backend[] = [];
  let answer: AnswerRegion | undefined;
  try {
    answer = spec.answer === undefined ? undefined : compileAnswerRegion(spec.answer);
  } catch (e) {
    issues.push({ path: e instanceof ParamError ? e.param : 'answer', message: e instanceof Error ? e.message : String(e) });
  }
  spec.components.forEach((c, i) => {
    const { name, weight, description: _d, scope, grader, ...params } = c as {
      name: string;
      weight: number;
      description?: string;
      scope: 'rollout' | 'step';
      grader: string;
    } & Record<string, unknown>;
    try {
      const built = parts.kind(grader)!.create(params as never, { specDir, name, backends: ctxBackends, answer, registerBackend: (b) => own.push(b) });
      if (scope === 'step' && built.scope === 'group') throw new ParamError('scope', `grader "${grader}" grades whole groups and cannot be step-scoped`);
      (scope === 'step' ? stepGraders : graders).push(built);
      (scope === 'step' ? stepNames : names).push(name);
      (scope === 'step' ? stepWeights : weightList).push(weight);
    } catch (e) {
      issues.push(...allAt(`components[${i}]`, e));
    }
  });
  if (issues.length === 0 && names.length === 0) issues.push({ path: 'components', message: 'needs at least one component with scope: rollout (the episode reward)' });
  const weights = Float64Array.from(weightList);
  const steps: StepComponents | null = stepNames.length > 0 ? { names: stepNames, weights: Float64Array.from(stepWeights), graders: stepGraders } : null;
  let combiner: Combiner | null = null;
  try {
    combiner = buildCombiner(spec.combine, { names, weights });
  } catch (e) {
    issues.push(at('combine', e));
  }
  let shapers: CompiledSpec['shapers'] = null;
  if (spec.shape && spec.shape.length > 0) {
    try {
      shapers = need(parts.buildShapers, 'shape')(spec.shape);
    } catch (e) {
      issues.push(at('shape', e));
    }
  }
  let estimator: Estimator | null = null;
  if (spec.advantage) {
    try {
      estimator = buildEstimator(spec.advantage);
    } catch (e) {
      issues.push(at('advantage', e));
    }
  }
  let credit: Credit | null = null;
  if (spec.credit) {
    try {
      const { buildCredit, signalParams } = need(parts.credit, 'credit');
      credit = buildCredit(spec.credit);
      for (const { param, signal } of signalParams(spec.credit))
        if (!stepNames.includes(signal))
          issues.push({
            path: `credit.${param}`,
            message: `names "${signal}", which is not a step-scoped component (${stepNames.length ? `step components: ${stepNames.join(', ')}` : 'add one with scope: step'})`,
          });
      const tr = spec.credit.token_rewards;
      if (typeof tr === 'object' && !names.includes(tr.signal))
        issues.push({ path: 'credit.token_rewards.signal', message: `names "${tr.signal}", which is not a rollout-scoped component (components: ${names.join(', ')})` });
    } catch (e) {
      issues.push(at('credit', e));
    }
  }
  if (own.length > 0) backends = withOwnBackends(backends, own);
  if (issues.length > 0) {
    void backends?.close();
    for (const g of [...graders, ...stepGraders]) void g.close?.();
    throw new SpecError(source, issues);
  }
  let closed: Promise<void> | null = null;
  const closeGraders = () => Promise.all([...graders, ...stepGraders].map((g) => g.close?.())).then(() => {});
  const close = () => (closed ??= Promise.all([backends ? backends.close() : undefined, closeGraders()]).then(() => {}));
  return { spec, source, names, weights, graders, combiner: combiner!, shapers, estimator, credit, steps, backends, close };
}

/** The spec's backends plus those its graders registered (their stats listed after the spec's, by name). */
function withOwnBackends(spec: BuiltBackends | null, own: readonly Backend[]): BuiltBackends {
  const list = [...(spec?.list ?? []), ...own];
  return {
    resolver: spec?.resolver ?? { get: (name) => { throw new Error(`unknown backend "${name}" (the spec declares no backends)`); } },
    list,
    stats: () => ({ ...(spec?.stats() ?? {}), ...Object.fromEntries(own.map((b) => [b.name, b.stats()])) }),
    close: async () => {
      await Promise.allSettled([spec?.close(), ...own.map((b) => b.close())]);
    },
  };
}
