/**
 * rewardkit as a library: load a spec, score batches of rollouts, or use a single grader.
 *
 * @example
 * import { createScorer } from 'rewardkit';
 * const scorer = createScorer({ components: [{ name: 'correct', grader: 'exact' }] });
 * const { results } = await scorer.score([{ id: 'a', completion: 'Paris', reference: 'Paris' }]);
 * // results[0].reward → 1, results[0].components → { correct: 1 }
 */
import { loadSpecFile, parseSpec } from './spec/load.js';
import { compileSpec, compileSpecAsync, compileSpecFile, compileSpecFileAsync, type CompiledSpec } from './spec/compile.js';
import { scoreBatch, type BatchResult, type ScoreOptions } from './pipeline.js';
import { validateRollout } from './rollout/validate.js';
import type { Rollout } from './rollout/types.js';

export { loadSpecFile, parseSpec, parseSpecText, type LoadedSpec } from './spec/load.js';
export { compileSpec, compileSpecAsync, compileSpecFile, compileSpecFileAsync, type CompiledSpec } from './spec/compile.js';
export { preloadModules } from './graders/module.js';
export { SpecError, type SpecIssue } from './spec/errors.js';
export { specSchema, specJsonSchema, type Spec, type SpecInput } from './spec/schema.js';
export { scoreBatch, type BatchResult, type BatchColumns, type ScoreOptions } from './pipeline.js';
export { neutralRewards, type NeutralRewards } from './advantage/neutral.js';
export { validateRollout, RolloutError } from './rollout/validate.js';
export { readJsonlLines, openJsonlWriter, InputFileError, type JsonlWriter } from './rollout/jsonl.js';
export { toSample, textOf } from './rollout/sample.js';
export type { Rollout, ScoredRollout, Sample, ChatMessage, Step, ComponentError } from './rollout/types.js';
export { graderKinds, graderKind } from './graders/registry.js';
export { buildGrader, gradeAll, scoreOne } from './graders/harness.js';
export { probeSpec, type ProbeOptions, type ProbeReport, type ProbeFinding } from './probe/index.js';
export { ParamError, defineGrader, type GraderKind, type Grader, type GradeOutput, type Graded } from './graders/types.js';

/** A compiled spec with a `score` method: validates rollouts, then runs the pipeline on them as one batch. */
export interface Scorer {
  readonly compiled: CompiledSpec;
  score(rollouts: readonly unknown[], opts?: ScoreOptions): Promise<BatchResult>;
  /** Releases the spec's model backends (connections, loaded models, cache files). */
  close(): Promise<void>;
}

/**
 * Builds a scorer from a spec object or a spec file path. Throws `SpecError` (naming every bad path)
 * for an invalid spec, and `RolloutError` (naming the field, prefixed with the rollout's index) for an
 * invalid rollout.
 */
export function createScorer(spec: string | object): Scorer {
  const compiled =
    typeof spec === 'string'
      ? compileSpecFile(spec)
      : compileSpec(parseSpec(spec, 'spec'), { source: 'spec' });
  return scorerOf(compiled);
}

/**
 * {@link createScorer} for specs that may hold `grader: module` components (your own TypeScript or
 * JavaScript graders): imports their modules first. `specDir` is where an inline spec's relative
 * module paths resolve (default: the working directory); a spec file's own folder is used for files.
 *
 * @example
 * const scorer = await createScorerAsync('reward.yaml'); // components: [{name: mine, grader: module, path: ./mine.mts}]
 */
export async function createScorerAsync(spec: string | object, opts: { specDir?: string } = {}): Promise<Scorer> {
  if (typeof spec === 'string') return scorerOf(await compileSpecFileAsync(spec));
  return scorerOf(await compileSpecAsync(parseSpec(spec, 'spec'), { source: 'spec', specDir: opts.specDir }));
}

function scorerOf(compiled: CompiledSpec): Scorer {
  return {
    compiled,
    score(rollouts, opts) {
      const valid: Rollout[] = rollouts.map((r, i) => {
        try {
          return validateRollout(r);
        } catch (e) {
          (e as Error).message = `rollouts[${i}].${(e as Error).message}`;
          throw e;
        }
      });
      return scoreBatch(compiled, valid, opts);
    },
    close: () => compiled.close(),
  };
}
