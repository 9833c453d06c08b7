import { dirname } from 'node:path';
import type { z } from 'zod';
import { loadGraderKinds } from '../graders/kinds.js';
import type { GraderKind } from '../graders/types.js';
import { checkTopLevel, graderIssues, parseSpecYaml, readSpecFile, SPEC_PARSE, type LoadedSpec } from './read.js';
import { ABSENT, specSchemaOf } from './schema_of.js';
import type { Spec } from './schema.js';
import { compileSpecWith, type CompiledSpec, type SpecParts } from './compile_core.js';

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

type Schema = ReturnType<typeof specSchemaOf<z.ZodType, z.ZodType, z.ZodType>>;

/** Schemas already built, by the sorted list of kinds they accept and the optional sections they have. */
const schemas = new Map<string, Schema>();

/** Whether the raw spec has the (optional) top-level section `key`. */
function has(raw: object, key: string): boolean {
  return Object.hasOwn(raw, key) && (raw as Record<string, unknown>)[key] !== undefined;
}

/** The spec schema for these kinds, with the backends, shape and credit sections only when the spec has them. */
async function schemaFor(kinds: ReadonlyMap<string, GraderKind>, raw: object): Promise<Schema> {
  const withBackends = has(raw, 'backends');
  const withCredit = has(raw, 'credit');
  const withShape = has(raw, 'shape');
  const key = `${[...kinds.keys()].sort().join(',')}|${withBackends}|${withCredit}|${withShape}`;
  let s = schemas.get(key);
  if (!s) {
    const [backends, credit, shape] = await Promise.all([
      withBackends ? import('../backends/config.js').then((m) => m.backendsSectionSchema) : ABSENT,
      withCredit ? import('../credit/registry.js').then((m) => m.creditSchema) : ABSENT,
      withShape ? import('../shape/registry.js').then((m) => m.shapeSchema) : ABSENT,
    ]);
    schemas.set(key, (s = specSchemaOf([...kinds.values()], { backends, credit, shape })));
  }
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
  const res = (await schemaFor(kinds, raw as object)).safeParse(raw, SPEC_PARSE);
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
  const { spec, kinds, dir } = loaded;
  const [buildBackends, credit, buildShapers] = await Promise.all([
    spec.backends ? import('../backends/config.js').then((m) => m.buildBackends) : undefined,
    spec.credit ? import('../credit/registry.js') : undefined,
    spec.shape ? import('../shape/registry.js').then((m) => m.buildShapers) : undefined,
    kinds.has('module') ? import('../graders/module.js').then((m) => m.preloadModules(spec, dir)) : undefined,
  ]);
  const parts: SpecParts = { kind: (k) => kinds.get(k), buildBackends, buildShapers, credit };
  return compileSpecWith(spec, { source, specDir: dir }, parts);
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
