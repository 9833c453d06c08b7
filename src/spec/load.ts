import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { graderKind, graderKinds } from '../graders/registry.js';
import { specSchema, type Spec } from './schema.js';
import { SpecError, zodIssues, type SpecIssue } from './errors.js';
import { findSpecProtoKey } from './names.js';

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Checks what zod's union errors would say badly: each component's `grader` must name a known kind. */
function graderIssues(raw: unknown): SpecIssue[] {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { components?: unknown }).components)) return [];
  const out: SpecIssue[] = [];
  const comps = (raw as { components: unknown[] }).components;
  const seen = new Map<string, number>();
  comps.forEach((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      out.push({ path: `components[${i}]`, message: `expected an object {name, grader, …}, got ${kindOf(c)}` });
      return;
    }
    const g = (c as { grader?: unknown }).grader;
    if (g === undefined) out.push({ path: `components[${i}].grader`, message: `is required (one of: ${graderKinds.map((k) => k.kind).join(', ')})` });
    else if (typeof g !== 'string' || !graderKind(g))
      out.push({ path: `components[${i}].grader`, message: `unknown grader ${JSON.stringify(g)} (known: ${graderKinds.map((k) => k.kind).join(', ')})` });
    const name = (c as { name?: unknown }).name;
    if (typeof name === 'string') {
      const prev = seen.get(name);
      if (prev !== undefined) out.push({ path: `components[${i}].name`, message: `duplicate component name "${name}" (also components[${prev}])` });
      else seen.set(name, i);
    }
  });
  return out;
}

/**
 * Validates a spec object (already parsed from YAML/JSON). Throws {@link SpecError} listing every issue
 * with its path; unknown keys are errors, and so is a `__proto__` key anywhere (names that are values,
 * such as a component named `__proto__`, are plain names; see spec/names.ts).
 *
 * @example
 * parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }, 'inline') // → Spec with defaults filled in
 */
export function parseSpec(raw: unknown, source = 'spec'): Spec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(source, [{ path: '', message: `expected a mapping at the top level, got ${kindOf(raw)}` }]);
  const proto = findSpecProtoKey(raw);
  if (proto !== null)
    throw new SpecError(source, [
      { path: proto, message: 'a `__proto__` key is not allowed in a spec (it would be dropped silently, or change an object\'s prototype): rename it' },
    ]);
  const pre = graderIssues(raw);
  if (pre.length > 0) {
    // Report the grader problems, plus any other issues outside the broken components.
    const bad = new Set(pre.map((p) => p.path.match(/^components\[(\d+)\]/)?.[1]));
    const res = specSchema.safeParse(raw);
    const rest = res.success ? [] : zodIssues(res.error).filter((i) => !bad.has(i.path.match(/^components\[(\d+)\]/)?.[1]));
    throw new SpecError(source, [...pre, ...rest]);
  }
  const res = specSchema.safeParse(raw);
  if (!res.success) throw new SpecError(source, zodIssues(res.error));
  return res.data;
}

/** Parses spec text (YAML, of which JSON is a subset); YAML syntax errors name line and column. */
export function parseSpecText(text: string, source = 'spec'): Spec {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0]! })),
    );
  }
  return parseSpec(doc.toJS({ maxAliasCount: 100 }), source);
}

/** A spec loaded from a file, with the folder its relative paths resolve against. */
export interface LoadedSpec {
  spec: Spec;
  path: string;
  dir: string;
}

/** Reads and validates a `.yaml`/`.yml`/`.json` spec file. Throws {@link SpecError} naming the file and paths. */
export function loadSpecFile(path: string): LoadedSpec {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new SpecError(path, [{ path: '', message: 'no such file' }]);
  if (statSync(abs).isDirectory()) throw new SpecError(path, [{ path: '', message: 'is a directory, expected a .yaml or .json spec file' }]);
  const ext = extname(abs).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) throw new SpecError(path, [{ path: '', message: `unsupported extension "${ext}" (use .yaml, .yml or .json)` }]);
  return { spec: parseSpecText(readFileSync(abs, 'utf8'), path), path: abs, dir: dirname(abs) };
}
