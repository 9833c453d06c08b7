/**
 * Child process for src/graders/redos.test.ts: receives `{cases, from}` over IPC and grades the
 * cases one after another, sending `{start: i}` before and `{done: i, score, error?}` after each, so
 * the parent knows which case is running when a case stalls (the parent then kills this process).
 */
import { buildGrader, gradeAll } from '../src/graders/harness.js';
import { graderKind } from '../src/graders/registry.js';
import type { Grader } from '../src/graders/types.js';

/** One hostile case: a grader config and a completion `prefix + fragment × (to size) + suffix`. */
export interface RedosCase {
  kind: string;
  params: Record<string, unknown>;
  reference: unknown;
  prefix: string;
  fragment: string;
  suffix: string;
  size: number;
}

/** The completion of a case. */
export function caseText(c: RedosCase): string {
  return c.prefix + c.fragment.repeat(Math.ceil(c.size / c.fragment.length)).slice(0, c.size) + c.suffix;
}

async function run(cases: RedosCase[], from: number): Promise<void> {
  const send = (m: unknown): Promise<void> => new Promise((ok) => process.send!(m, () => ok()));
  const graders = new Map<string, Grader>();
  for (let i = from; i < cases.length; i++) {
    const c = cases[i]!;
    await send({ start: i });
    const key = c.kind + JSON.stringify(c.params);
    let score: number | null = null;
    let error: string | undefined;
    try {
      let g = graders.get(key);
      if (!g) graders.set(key, (g = buildGrader(graderKind(c.kind)!, c.params)));
      [{ score }] = (await gradeAll(g, [{ completion: caseText(c), reference: c.reference }])) as [{ score: number | null }];
    } catch (e) {
      error = (e as Error).message;
    }
    await send({ done: i, score, error });
  }
  process.disconnect();
}

if (process.send !== undefined && process.argv[2] === 'redos-child') {
  process.once('message', (m: { cases: RedosCase[]; from: number }) => void run(m.cases, m.from));
}
