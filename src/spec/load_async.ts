import { dirname } from 'node:path';
import { loadGraderKinds } from '../graders/kinds.js';
import type { GraderKind } from '../graders/types.js';
import { checkTopLevel, graderIssues, parseSpecYaml, readSpecFile, type LoadedSpec } from './read.js';
import { specSchemaOf } from './schema_of.js';
import type { Spec } from './schema.js';
import { compileSpecWith, type CompiledSpec } from './compile_core.js';

/**
 * Loading a spec with only the grader kinds it names (start-up time, issue 12): `rewardkit score` with
 * a numeric + format spec imports those two graders and builds the spec schema for them, instead of
 * importing every grader (the SQL parser, the code sandbox, the judge backends …) and building the
 * schema of ~40 kinds. The result is the same as {@link loadSpecFile} + `compileSpecAsync` (compile.ts):
 * the same member schemas validate each component, and a spec that fails is re-checked by the full
 * loader, so every error message is the one it gives.
 */

/** A loaded spec and the grader kinds its components name. */
export interface LoadedSpecKinds extends LoadedSpec {
  kinds: ReadonlyMap<string, GraderKind>;
}

/** Schemas already built, by the sorted list of kinds they accept. */
const schemas = new Map<string, ReturnType<typeof specSchemaOf>>();

function schemaFor(kinds: ReadonlyMap<string, GraderKind>): ReturnType<typeof specSchemaOf> {
  const key = [...kinds.keys()].sort().join(',');
  let s = schemas.get(key);
  if (!s) schemas.set(key, (s = specSchemaOf([...kinds.values()])));
  return s;
}

/** The full loader's verdict on a spec the lazy path will not judge: it throws the errors to report. */
async function fullParse(raw: unknown, source: string): Promise<{ spec: Spec; kinds: ReadonlyMap<string, GraderKind> }> {
  const spec = (await import('./load.js')).parseSpec(raw, source);
  return { spec, kinds: await loadGraderKinds(spec.components.map((c) => c.grader)) };
}

/**
 * Validates a spec object like `parseSpec` (load.ts) and returns it with the grader kinds it names,
 * having imported only those. Throws the same {@link SpecError}s as `parseSpec`.
 */
export async function parseSpecAsync(raw: unknown, source = 'spec'): Promise<{ spec: Spec; kinds: ReadonlyMap<string, GraderKind> }> {
  checkTopLevel(raw, source);
  const comps = (raw as { components?: unknown }).components;
  // Unknown or missing graders, duplicate names, components that are not lists of objects: the full
  // loader reports them (with every other issue of the spec).
  if (!Array.isArray(comps) || comps.length === 0 || graderIssues(raw).length > 0) return fullParse(raw, source);
  const kinds = await loadGraderKinds(comps.map((c) => (c as { grader: string }).grader));
  const res = schemaFor(kinds).safeParse(raw);
  if (!res.success) return fullParse(raw, source);
  return { spec: res.data as Spec, kinds };
}

/** {@link parseSpecAsync} of a spec file (what `loadSpecFile` reads), with the folder its paths resolve against. */
export async function loadSpecFileAsync(path: string): Promise<LoadedSpecKinds> {
  const { text, abs } = readSpecFile(path);
  const { spec, kinds } = await parseSpecAsync(parseSpecYaml(text, path), path);
  return { spec, kinds, path: abs, dir: dirname(abs) };
}

/**
 * Compiles a spec loaded by {@link loadSpecFileAsync} with the grader kinds it names; `grader: module`
 * components have their modules imported first (as `compileSpecAsync` does).
 */
export async function compileLoadedSpec(loaded: LoadedSpecKinds, source: string): Promise<CompiledSpec> {
  if (loaded.kinds.has('module')) await (await import('../graders/module.js')).preloadModules(loaded.spec, loaded.dir);
  return compileSpecWith(loaded.spec, { source, specDir: loaded.dir }, (k) => loaded.kinds.get(k));
}

/**
 * Reads, validates and compiles a spec file, importing only the grader kinds it names (and the modules
 * of its `grader: module` components). Relative paths in the spec (databases, models, tokenizers,
 * modules) resolve against the file's folder. The CLI, the server and its workers load spec files this
 * way. Throws {@link SpecError} naming the file and every bad path.
 *
 * @example
 * const compiled = await compileSpecFileAsync('examples/gsm8k.yaml');
 * // compiled.names → ['correct', 'format', 'overlong']
 */
export async function compileSpecFileAsync(path: string): Promise<CompiledSpec> {
  return compileLoadedSpec(await loadSpecFileAsync(path), path);
}
