import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { graderKindNames, isGraderKindName } from '../graders/kinds.js';
import { SpecError, type SpecIssue } from './errors.js';
import { findSpecProtoKey } from './names.js';
import type { Spec } from './schema.js';

/**
 * The steps of loading a spec that need no grader kind: reading the file, parsing YAML, the top-level
 * and `grader:` checks. Shared by the synchronous loader (load.ts, every kind's schema) and the CLI's
 * loader (load_async.ts, the kinds a spec names), so both report the same errors.
 */

/** A spec loaded from a file, with the folder its relative paths resolve against. */
/**
 * zod's parse options for a spec: `jitless`, because a spec is parsed once per process, and zod's
 * generated fast path for object schemas (source text compiled by `new Function` for each object
 * schema on its first parse) costs more to build than it saves on one parse (~200 page faults of
 * `rewardkit score`'s start-up). Same result and issues either way.
 */
export const SPEC_PARSE = { jitless: true } as const;

export interface LoadedSpec {
  spec: Spec;
  path: string;
  dir: string;
}

export function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Throws {@link SpecError} when `raw` is not a mapping, or holds a `__proto__` key anywhere. */
export function checkTopLevel(raw: unknown, source: string): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(source, [{ path: '', message: `expected a mapping at the top level, got ${kindOf(raw)}` }]);
  const proto = findSpecProtoKey(raw);
  if (proto !== null)
    throw new SpecError(source, [
      { path: proto, message: 'a `__proto__` key is not allowed in a spec (it would be dropped silently, or change an object\'s prototype): rename it' },
    ]);
}

/** Checks what zod's union errors would say badly: each component's `grader` must name a known kind. */
export function graderIssues(raw: unknown): SpecIssue[] {
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
    if (g === undefined) out.push({ path: `components[${i}].grader`, message: `is required (one of: ${graderKindNames.join(', ')})` });
    else if (typeof g !== 'string' || !isGraderKindName(g))
      out.push({ path: `components[${i}].grader`, message: `unknown grader ${JSON.stringify(g)} (known: ${graderKindNames.join(', ')})` });
    const name = (c as { name?: unknown }).name;
    if (typeof name === 'string') {
      const prev = seen.get(name);
      if (prev !== undefined) out.push({ path: `components[${i}].name`, message: `duplicate component name "${name}" (also components[${prev}])` });
      else seen.set(name, i);
    }
  });
  return out;
}

/** Parses spec text (YAML, of which JSON is a subset) to a plain value; YAML syntax errors name line and column. */
export function parseSpecYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0]! })),
    );
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Reads a `.yaml`/`.yml`/`.json` spec file: its text and absolute path. Throws {@link SpecError} naming the file. */
export function readSpecFile(path: string): { text: string; abs: string } {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new SpecError(path, [{ path: '', message: 'no such file' }]);
  if (statSync(abs).isDirectory()) throw new SpecError(path, [{ path: '', message: 'is a directory, expected a .yaml or .json spec file' }]);
  const ext = extname(abs).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) throw new SpecError(path, [{ path: '', message: `unsupported extension "${ext}" (use .yaml, .yml or .json)` }]);
  return { text: readFileSync(abs, 'utf8'), abs };
}
