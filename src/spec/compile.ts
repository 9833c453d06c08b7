import { graderKind } from '../graders/registry.js';
import type { Spec } from './schema.js';
import { loadSpecFile } from './load.js';
import { preloadModules } from '../graders/module.js';
import { compileSpecWith, type CompiledSpec } from './compile_core.js';
import { buildBackends } from '../backends/config.js';
import { buildCredit, signalParams } from '../credit/registry.js';
import { buildShapers } from '../shape/registry.js';

export type { CompiledSpec, SpecParts, StepComponents } from './compile_core.js';
export { compileSpecFileAsync } from './load_async.js';

/**
 * Builds the graders, combiner, shapers and estimator of a validated spec. Params that are well-typed
 * but wrong (a regex that does not compile, a gate naming no component) are reported as a
 * {@link SpecError} with their path, all at once.
 */
export function compileSpec(spec: Spec, opts: { source?: string; specDir?: string } = {}): CompiledSpec {
  return compileSpecWith(spec, opts, { kind: graderKind, buildBackends, buildShapers, credit: { buildCredit, signalParams } });
}

/**
 * Reads, validates and compiles a spec file: relative paths in it (databases, models, tokenizers)
 * resolve against the file's folder. The one way the CLI, the server, its pool workers, the
 * evaluation sources and the library load a spec from disk. Throws {@link SpecError} naming the file
 * and every bad path.
 *
 * @example
 * const compiled = compileSpecFile('examples/gsm8k.yaml');
 * // compiled.names → ['correct', 'format', 'overlong']
 */
export function compileSpecFile(path: string): CompiledSpec {
  const loaded = loadSpecFile(path);
  return compileSpec(loaded.spec, { source: path, specDir: loaded.dir });
}

/**
 * {@link compileSpec} for specs that may hold `grader: module` components: imports their modules
 * first ({@link preloadModules}, paths against `specDir`), then compiles. Every entry point that
 * loads user specs (CLI, server, workers, `createScorerAsync`) uses it.
 *
 * @example
 * const l = loadSpecFile('reward.yaml');
 * const compiled = await compileSpecAsync(l.spec, { source: 'reward.yaml', specDir: l.dir });
 */
export async function compileSpecAsync(spec: Spec, opts: { source?: string; specDir?: string } = {}): Promise<CompiledSpec> {
  await preloadModules(spec, opts.specDir ?? process.cwd());
  return compileSpec(spec, opts);
}
