import { statSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import type { Sample } from '../rollout/types.js';
import { SpecError, zodIssues } from '../spec/errors.js';
import { defineGrader, ParamError, type Grader, type GraderContext, type GraderKind, type GradeOutput } from './types.js';

/**
 * `module` — a grader of your own, in a TypeScript or JavaScript module next to the spec.
 *
 * ```yaml
 * components:
 *   - {name: mine, grader: module, path: ./graders/mine.ts, export: grade, params: {target: 42}}
 * ```
 *
 * The export named by `export` (default `default`) is one of:
 * - **a function** `(sample, params) => number | null | {score, details}`, sync or async. `sample` is
 *   `{id, group, prompt, completion, reference, meta, rollout}` (prompt and completion as plain text,
 *   `rollout` the rollout as given); `params` is the component's `params:` object as written. With
 *   `takes: group` the function gets the whole group instead — `(samples[], params) => outputs[]`,
 *   one output per sample in order (diversity, listwise rankings).
 * - **a grader kind** made with the library's `defineGrader({kind, summary, params, create})`: then
 *   `params:` is validated by the kind's zod shape when the spec loads (errors name
 *   `components[i].params.X`), its defaults are filled in, and `rewardkit graders --spec S` /
 *   `rewardkit spec schema --spec S` show its params.
 *
 * Paths resolve against the spec file's folder. `.ts`/`.mts`/`.cts` load without a build step
 * (through tsx; exact error lines need ESM: a `.mts` file or a `"type": "module"` package.json),
 * `.js`/`.mjs`/`.cjs` through Node's own `import()`. Modules load when the spec loads
 * ({@link preloadModules}, awaited by every async spec entry point — `compileSpecAsync`,
 * `createScorerAsync`, the CLI, the server and its workers); a missing file, a syntax error or a
 * missing export is a spec error naming `components[i].path` or `.export`.
 *
 * Errors at call time never lose the batch: a throw, a rejected promise, a result that is not a
 * number / null / `{score, details}`, a non-finite score, or an async result that takes longer than
 * `timeout_ms` is an error on that rollout (or, with `takes: group`, on each rollout of the group),
 * naming the module and export and, for a throw, the module's own stack line (`mine.mts:12:9`).
 * The null rule is the module's responsibility: return `null` only when the rollout cannot be judged.
 *
 * **Security model.** Module code is trusted: it runs in-process (in the server's worker threads
 * when the pool grades), with the permissions of rewardkit itself. Put only your own code here;
 * untrusted code belongs in `grader: python` (sandboxed) or behind `grader: http`. A synchronous
 * function that never returns blocks its thread: `timeout_ms` bounds only async results; the
 * server's pool engine bounds the rest with the request deadline (it terminates the worker).
 *
 * @example
 * // graders/mine.mts
 * export function grade(s, p) { return s.completion.includes(p.word) ? 1 : 0; }
 * # spec
 * - {name: mine, grader: module, path: ./graders/mine.mts, export: grade, params: {word: Paris}}
 * # rollout {"completion": "It is Paris."} → 1
 */
export const moduleGrader = defineGrader({
  kind: 'module',
  summary: "A TypeScript/JavaScript module of your own: a function (sample, params) → score, or a kind made with defineGrader (its params validated).",
  params: {
    path: z.string().min(1).describe('Path of the module (.ts, .mts, .cts, .js, .mjs, .cjs), relative to the spec file.'),
    export: z
      .string()
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'must be an export name')
      .default('default')
      .describe('Name of the export: a function (sample, params) → number | null | {score, details}, or a grader kind made with defineGrader (default: the default export).'),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("Params passed to the function as its second argument, or validated by the defineGrader kind's zod shape."),
    takes: z
      .enum(['rollout', 'group'])
      .default('rollout')
      .describe('For a function export: `rollout` (default) calls it once per rollout; `group` once per group with the list of its samples, returning one output per sample.'),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .default(60_000)
      .describe('Longest wait for an async result (a promise) in milliseconds; past it the rollout (or group) gets an error (default 60000). A synchronous call cannot be interrupted in-process.'),
  },
  create(params, ctx) {
    const file = resolveModulePath(params.path, ctx.specDir);
    const loaded = cache.get(file);
    if (!loaded)
      throw new ParamError(
        'path',
        `module ${params.path} was not loaded: specs with module graders must be compiled with compileSpecAsync (or preloadModules(spec, specDir) before compileSpec)`,
      );
    if ('error' in loaded) throw new ParamError('path', loaded.error);
    const ns = exportsOf(loaded.ns);
    const name = params.export;
    if (!(name in ns)) {
      const have = Object.keys(ns).filter((k) => k !== '__esModule');
      throw new ParamError('export', `module ${params.path} has no export "${name}" (its exports: ${have.length ? have.join(', ') : 'none'})`);
    }
    const value = ns[name];
    const label = `module ${params.path}${name === 'default' ? '' : ` export ${name}`}`;
    const where = { file, label, timeoutMs: params.timeout_ms };
    if (isGraderKind(value)) {
      if (params.takes !== 'rollout') throw new ParamError('takes', `applies to function exports only; ${label} is a grader kind (its own create decides its scope)`);
      return wrapKind(value, params.params, ctx, where);
    }
    if (typeof value !== 'function')
      throw new ParamError('export', `${label} is ${value === null ? 'null' : typeof value}, expected a function (sample, params) → score or a grader kind made with defineGrader`);
    const fn = value as (s: unknown, p: unknown) => unknown;
    const userParams = params.params;
    if (params.takes === 'group')
      return {
        scope: 'group',
        gradeGroup(samples) {
          return settleGroup(() => fn(samples.map(userSample), userParams), samples.length, where);
        },
      };
    return {
      scope: 'rollout',
      grade(s) {
        return settle(() => fn(userSample(s), userParams), where);
      },
    };
  },
});

/** What a module's load left in the cache: the namespace, or why it could not be loaded. */
type Loaded = { stamp: string; ns: unknown } | { stamp: string; error: string };

/** Loaded modules by absolute path; an entry is reused while the file's size and mtime are unchanged. */
const cache = new Map<string, Loaded>();

const EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const TS = new Set(['.ts', '.mts', '.cts']);

function resolveModulePath(path: string, specDir: string): string {
  return isAbsolute(path) ? path : resolve(specDir, path);
}

/**
 * Node's own `import()`, out of reach of bundlers and test runners that rewrite `import()` calls, so
 * a module loads the same way under them as in the CLI and the server.
 */
const viaFunction = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
async function nativeImport(url: string): Promise<unknown> {
  try {
    return await viaFunction(url);
  } catch (e) {
    // Some runners (vitest) run code where a Function's import() has no loader: use ours.
    if ((e as { code?: string })?.code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' || /dynamic import callback/i.test(String((e as Error)?.message))) return import(url);
    throw e;
  }
}

/** Loads one module file (uncached). Errors are returned as text naming the file. */
async function importFile(file: string, shown: string): Promise<{ ns: unknown } | { error: string }> {
  const ext = extname(file).toLowerCase();
  if (!EXTENSIONS.has(ext)) return { error: `module ${shown}: unsupported extension "${ext}" (use .ts, .mts, .cts, .js, .mjs or .cjs)` };
  let stamp: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { error: `module ${shown}: ${file} is not a file` };
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    return { error: `module ${shown}: no such file ${file}` };
  }
  try {
    if (TS.has(ext)) {
      let api: { tsImport(specifier: string, parent: string): Promise<unknown> };
      try {
        api = (await import('tsx/esm/api')) as never;
      } catch {
        return { error: `module ${shown}: loading TypeScript needs the "tsx" package (npm install tsx), or compile the module to .js` };
      }
      // tsx maps its stack frames back to the .ts lines only with source maps on.
      process.setSourceMapsEnabled?.(true);
      return { ns: await api.tsImport(pathToFileURL(file).href, import.meta.url) };
    }
    // The query makes an edited file load anew (ESM caches by URL); stack lines strip it again.
    return { ns: await nativeImport(`${pathToFileURL(file).href}?rewardkit=${encodeURIComponent(stamp)}`) };
  } catch (e) {
    const err = e as Error;
    const line = frameIn(err, file);
    return { error: `module ${shown} failed to load: ${err?.name ?? 'Error'}: ${firstLine(err?.message ?? String(e))}${line ? ` (${line})` : ''}` };
  }
}

/**
 * Imports the modules of a spec's `grader: module` components (paths against `specDir`) so that the
 * synchronous {@link compileSpec} can build them. Load failures are kept and reported by the compile
 * as spec errors naming `components[i].path`. A module already loaded is not loaded again unless its
 * file changed. Accepts a validated spec or a raw spec object (anything else is ignored).
 *
 * @example
 * await preloadModules(spec, dirname(specFile));
 * const compiled = compileSpec(spec, { specDir: dirname(specFile) });
 */
export async function preloadModules(spec: unknown, specDir: string): Promise<void> {
  const comps = (spec as { components?: unknown } | null)?.components;
  if (!Array.isArray(comps)) return;
  const jobs: Promise<void>[] = [];
  const seen = new Set<string>();
  for (const c of comps) {
    if (c === null || typeof c !== 'object' || (c as { grader?: unknown }).grader !== 'module') continue;
    const path = (c as { path?: unknown }).path;
    if (typeof path !== 'string' || path === '') continue;
    const file = resolveModulePath(path, specDir);
    if (seen.has(file)) continue;
    seen.add(file);
    let stamp = '';
    try {
      const st = statSync(file);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
      // importFile reports it.
    }
    const prev = cache.get(file);
    if (prev && stamp !== '' && prev.stamp === stamp) continue;
    jobs.push(importFile(file, path).then((r) => void cache.set(file, { stamp, ...r })));
  }
  await Promise.all(jobs);
}

/**
 * The grader kinds (made with `defineGrader`) that a spec's module components export, each with the
 * component's index and path — for `rewardkit graders --spec` and `rewardkit spec schema --spec`.
 * Call after {@link preloadModules}; components whose export is a function or did not load are skipped.
 */
export function moduleKindsOf(spec: unknown, specDir: string): { index: number; name: string; path: string; export: string; kind: GraderKind }[] {
  const comps = (spec as { components?: unknown } | null)?.components;
  if (!Array.isArray(comps)) return [];
  const out: { index: number; name: string; path: string; export: string; kind: GraderKind }[] = [];
  comps.forEach((c, index) => {
    if (c === null || typeof c !== 'object' || (c as { grader?: unknown }).grader !== 'module') return;
    const { path, export: exp = 'default', name } = c as { path?: unknown; export?: unknown; name?: unknown };
    if (typeof path !== 'string' || typeof exp !== 'string') return;
    const loaded = cache.get(resolveModulePath(path, specDir));
    if (!loaded || !('ns' in loaded)) return;
    const v = exportsOf(loaded.ns)[exp];
    if (isGraderKind(v)) out.push({ index, name: String(name), path, export: exp, kind: v });
  });
  return out;
}

/**
 * The exports of a loaded module. A TypeScript file that tsx loads as CommonJS (a `.ts`/`.cts` file
 * outside a `"type": "module"` package) comes back as `{default: module.exports}`: its exports are
 * read from there.
 */
function exportsOf(ns: unknown): Record<string, unknown> {
  const n = ns as Record<string, unknown>;
  const d = n.default as Record<string, unknown> | undefined;
  if (d !== null && typeof d === 'object' && d.__esModule === true) return { ...d, ...Object.fromEntries(Object.entries(n).filter(([k]) => k !== 'default' && !(k in d))) };
  return n;
}

function isGraderKind(v: unknown): v is GraderKind {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as GraderKind).create === 'function' &&
    typeof (v as GraderKind).params === 'object' &&
    (v as GraderKind).params !== null &&
    typeof (v as GraderKind).kind === 'string'
  );
}

/** The first argument of a function export: the sample's fields, the raw rollout under `rollout`. */
function userSample(s: Sample): Record<string, unknown> {
  return { id: s.id, group: s.group, prompt: s.prompt, completion: s.completion, reference: s.reference, meta: s.meta, rollout: s.rollout };
}

interface Where {
  file: string;
  label: string;
  timeoutMs: number;
}

/** The first line of a message, or the first two when the first only announces the second (`…failed with 1 error:`). */
function firstLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return '';
  return lines[0]!.endsWith(':') && lines.length > 1 ? `${lines[0]} ${lines[1]}` : lines[0]!;
}

/**
 * The first stack frame inside `file`, as `name.ts:line:col` (the query strings our loaders add and
 * tsx's data: URLs are stripped back to the file). Null when no frame is in the module.
 */
function frameIn(e: unknown, file: string): string | null {
  const stack = (e as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return null;
  const url = pathToFileURL(file).href;
  const base = file.slice(file.lastIndexOf('/') + 1);
  for (const raw of stack.split('\n').slice(1)) {
    const line = raw.trim();
    let m = /(?:\(|at )(\S+?):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    let loc = m[1]!.replace(/^file:\/\//, '').replace(/\?[^:]*$/, '');
    try {
      loc = decodeURIComponent(loc);
    } catch {
      // keep as is
    }
    if (loc === file || m[1]!.startsWith(url)) return `${base}:${m[2]}:${m[3]}`;
    if (m[1]!.startsWith('data:') && (m = /filePath=([^&?:]+)/.exec(line))) {
      let p = m[1]!;
      try {
        p = decodeURIComponent(p);
      } catch {
        // keep as is
      }
      if (p === file) return base;
    }
  }
  return null;
}

/** The message of an error thrown by module code: the label, the error, and the module's stack line. */
function thrown(e: unknown, where: Where): Error {
  const err = e instanceof Error ? e : null;
  const msg = err ? `${err.name}: ${firstLine(err.message)}` : `threw ${JSON.stringify(e) ?? String(e)}`;
  const at = frameIn(e, where.file);
  return new Error(`${where.label}: ${msg}${at ? ` (at ${at})` : ''}`, { cause: e });
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'function') return 'a function';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof v;
  }
}

/**
 * The spec JSON Schema with the params of the defineGrader kinds that `kinds` (from
 * {@link moduleKindsOf}) export: the `module` member of `components[]` gets one `if {path, export}
 * then {params: <the kind's params>}` rule per kind, so editors check and complete those params.
 */
export function withModuleKinds(schema: Record<string, unknown>, kinds: ReturnType<typeof moduleKindsOf>): Record<string, unknown> {
  if (kinds.length === 0) return schema;
  const out = structuredClone(schema) as { properties?: { components?: { items?: { oneOf?: Record<string, unknown>[]; anyOf?: Record<string, unknown>[] } } } };
  const members = out.properties?.components?.items?.oneOf ?? out.properties?.components?.items?.anyOf ?? [];
  const member = members.find((m) => (m as { properties?: { grader?: { const?: unknown } } }).properties?.grader?.const === 'module');
  if (!member) return schema;
  const seen = new Set<string>();
  const rules: Record<string, unknown>[] = [];
  for (const k of kinds) {
    const key = `${k.path}\u0000${k.export}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const params = z.toJSONSchema(z.strictObject(k.kind.params), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete params.$schema;
    rules.push({
      if: { properties: { path: { const: k.path }, export: { const: k.export } }, required: ['path', 'export'] },
      then: { properties: { params: { ...params, description: `${k.kind.kind} (${k.path}): ${k.kind.summary}` } } },
    });
  }
  member.allOf = [...((member.allOf as unknown[]) ?? []), ...rules];
  return out as Record<string, unknown>;
}

/** Checks one result of module code; returns it as a {@link GradeOutput} or throws naming what was wrong. */
function checkOutput(v: unknown, where: Where, suffix = ''): GradeOutput {
  if (v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where.label} returned ${v}${suffix}, expected a finite number, null or {score, details}`);
    return v;
  }
  if (typeof v === 'object' && !Array.isArray(v) && 'score' in v) {
    const { score, details } = v as { score: unknown; details?: unknown };
    if (score !== null && (typeof score !== 'number' || !Number.isFinite(score)))
      throw new Error(`${where.label} returned {score: ${describeValue(score)}}${suffix}, expected score to be a finite number or null`);
    if (details !== undefined && (details === null || typeof details !== 'object' || Array.isArray(details)))
      throw new Error(`${where.label} returned details that are not an object${suffix}`);
    return details === undefined ? { score: score as number | null } : { score: score as number | null, details: details as Record<string, unknown> };
  }
  throw new Error(`${where.label} returned ${describeValue(v)}${suffix}, expected a number, null or {score, details}`);
}

/** Waits for a promise at most `ms`; past it rejects naming the module. */
function bounded<T>(p: Promise<T>, where: Where): Promise<T> {
  return new Promise<T>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${where.label}: no result within timeout_ms ${where.timeoutMs} ms`)), where.timeoutMs);
    timer.unref?.();
    p.then(
      (v) => {
        clearTimeout(timer);
        res(v);
      },
      (e) => {
        clearTimeout(timer);
        rej(thrown(e, where));
      },
    );
  });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** Calls module code for one rollout: sync results are checked at once, async ones bounded by the timeout. */
function settle(call: () => unknown, where: Where): GradeOutput | Promise<GradeOutput> {
  let v: unknown;
  try {
    v = call();
  } catch (e) {
    throw thrown(e, where);
  }
  if (isThenable(v)) return bounded(Promise.resolve(v), where).then((r) => checkOutput(r, where));
  return checkOutput(v, where);
}

/** Calls module code for one group: the result must be a list with one valid output per sample. */
function settleGroup(call: () => unknown, n: number, where: Where): GradeOutput[] | Promise<GradeOutput[]> {
  const check = (v: unknown): GradeOutput[] => {
    if (!Array.isArray(v)) throw new Error(`${where.label} (takes: group) returned ${describeValue(v)}, expected a list of ${n} results`);
    if (v.length !== n) throw new Error(`${where.label} (takes: group) returned ${v.length} results for a group of ${n}`);
    return v.map((x, j) => checkOutput(x, where, ` for sample ${j}`));
  };
  let v: unknown;
  try {
    v = call();
  } catch (e) {
    throw thrown(e, where);
  }
  if (isThenable(v)) return bounded(Promise.resolve(v), where).then(check);
  return check(v);
}

/** Builds a user's defineGrader kind: params validated by its zod shape, its grader's calls guarded like a function's. */
function wrapKind(kind: GraderKind, raw: Record<string, unknown>, ctx: GraderContext, where: Where): Grader {
  let schema: z.ZodType;
  try {
    schema = z.strictObject(kind.params);
  } catch (e) {
    throw new ParamError('export', `${where.label}: the kind's params are not a zod shape (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new SpecError(where.label, zodIssues(parsed.error, ['params']));
  let built: Grader;
  try {
    built = kind.create(parsed.data as never, ctx);
  } catch (e) {
    // By name, not instanceof: the module's ParamError may come from another copy of rewardkit (the
    // package's dist/index.js while the CLI runs from its bundle).
    if (e instanceof Error && e.name === 'ParamError' && typeof (e as ParamError).param === 'string') throw new ParamError(`params.${(e as ParamError).param}`, e.message);
    throw new ParamError('params', `${where.label} (kind "${kind.kind}") failed to build: ${thrown(e, where).message.slice(where.label.length + 2)}`);
  }
  if (built?.scope === 'rollout' && typeof built.grade === 'function') {
    const g = built;
    return { scope: 'rollout', grade: (s) => settle(() => g.grade(s), where) };
  }
  if (built?.scope === 'group' && typeof built.gradeGroup === 'function') {
    const g = built;
    return { scope: 'group', gradeGroup: (samples) => settleGroup(() => g.gradeGroup(samples), samples.length, where) };
  }
  throw new ParamError('export', `${where.label} (kind "${kind.kind}"): create() returned ${describeValue(built)}, expected {scope: 'rollout', grade} or {scope: 'group', gradeGroup}`);
}
