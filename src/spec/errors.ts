import type { z } from 'zod';

/** One problem in a spec, located by its path (`components[2].pattern`). */
export interface SpecIssue {
  path: string;
  message: string;
}

/** An invalid spec: every issue found, each naming its path. `message` lists them one per line. */
export class SpecError extends Error {
  constructor(
    readonly source: string,
    readonly issues: SpecIssue[],
  ) {
    super(`invalid spec ${source}:\n${issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

/** `['components', 2, 'pattern']` → `components[2].pattern`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Turns zod issues into {@link SpecIssue}s with readable messages (unknown keys and union mismatches spelled out). */
export function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ path: formatPath([...path, k]), message: 'unknown key' });
      continue;
    }
    if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options) && issue.options.length > 0) {
      out.push({ path: formatPath(path), message: `expected one of: ${issue.options.join(', ')}` });
      continue;
    }
    out.push({ path: formatPath(path), message: issue.message.replace(/^Invalid input: /, '') });
  }
  return out;
}
