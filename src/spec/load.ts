import { dirname } from 'node:path';
import { specSchema, type Spec } from './schema.js';
import { SpecError, zodIssues } from './errors.js';
import { checkTopLevel, graderIssues, parseSpecYaml, readSpecFile, SPEC_PARSE, type LoadedSpec } from './read.js';

export type { LoadedSpec } from './read.js';

/**
 * Validates a spec object (already parsed from YAML/JSON). Throws {@link SpecError} listing every issue
 * with its path; unknown keys are errors, and so is a `__proto__` key anywhere (names that are values,
 * such as a component named `__proto__`, are plain names; see spec/names.ts).
 *
 * @example
 * parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }, 'inline') // → Spec with defaults filled in
 */
export function parseSpec(raw: unknown, source = 'spec'): Spec {
  checkTopLevel(raw, source);
  const pre = graderIssues(raw);
  if (pre.length > 0) {
    // Report the grader problems, plus any other issues outside the broken components.
    const bad = new Set(pre.map((p) => p.path.match(/^components\[(\d+)\]/)?.[1]));
    const res = specSchema.safeParse(raw, SPEC_PARSE);
    const rest = res.success ? [] : zodIssues(res.error).filter((i) => !bad.has(i.path.match(/^components\[(\d+)\]/)?.[1]));
    throw new SpecError(source, [...pre, ...rest]);
  }
  const res = specSchema.safeParse(raw, SPEC_PARSE);
  if (!res.success) throw new SpecError(source, zodIssues(res.error));
  return res.data;
}

/** Parses spec text (YAML, of which JSON is a subset); YAML syntax errors name line and column. */
export function parseSpecText(text: string, source = 'spec'): Spec {
  return parseSpec(parseSpecYaml(text, source), source);
}

/** Reads and validates a `.yaml`/`.yml`/`.json` spec file. Throws {@link SpecError} naming the file and paths. */
export function loadSpecFile(path: string): LoadedSpec {
  const { text, abs } = readSpecFile(path);
  return { spec: parseSpecText(text, path), path: abs, dir: dirname(abs) };
}
