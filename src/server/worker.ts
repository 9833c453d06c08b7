/**
 * Pool worker (piscina): grades one slice of a batch with a spec it compiled itself from the same
 * spec file as the server. It only grades: combining, shaping (running statistics) and advantages
 * stay on the main thread over the whole batch, so pooled results equal in-process results.
 */
import { workerData } from 'node:worker_threads';
import { scoreBatch } from '../pipeline.js';
import { compileSpecAsync, type CompiledSpec } from '../spec/compile.js';
import type { Spec } from '../spec/schema.js';
import type { Rollout } from '../rollout/types.js';
import { compileSpecFileAsync } from './specs.js';

/**
 * How the main thread hands a served spec to the workers: the validated spec object it compiled
 * (so a spec file edited after start-up cannot make workers disagree with the server), or the file
 * when the object cannot be cloned into a worker.
 */
export type WorkerSpec = { spec: Spec; source: string; specDir: string } | { file: string };

/** What the main thread sends: the spec's index in the served set and the slice's rollouts (whole groups). */
export interface GradeTask {
  /** Index of the spec; -1 = a ping (resolves once the worker has compiled its specs). */
  spec: number;
  rollouts: Rollout[];
  details: boolean;
}

/**
 * Per component (spec order): the values (NaN = null), the error message per rollout (only when
 * any), and the details per rollout (only when asked and any).
 */
export interface GradeReply {
  columns: Float64Array[];
  errors: (Record<number, string> | null)[];
  details: (Record<number, Record<string, unknown>> | null)[];
  /** Per component: why values were null, with counts (see `BatchColumns.nullReasons`). */
  reasons: Map<string, number>[];
}

const given = (workerData as { specs: WorkerSpec[] }).specs;
/**
 * Grade-only copies of the served specs: no shapers (their running state lives on the main thread), no
 * estimator, no credit, no step components (steps are graded and credited over the whole batch on the
 * main thread).
 */
const compiling: Promise<CompiledSpec[]> = Promise.all(
  given.map(async (w) => {
    // Async: `grader: module` components import their modules (paths against the spec's folder) first.
    const compiled = 'file' in w ? await compileSpecFileAsync(w.file) : await compileSpecAsync(w.spec, { source: w.source, specDir: w.specDir });
    return { ...compiled, shapers: null, estimator: null, credit: null, steps: null };
  }),
);
// Not a top-level await: piscina may load this file with require() (tsx compiles it to CommonJS then).
compiling.catch(() => {});

/** Grades one slice; see {@link GradeReply}. */
export default async function grade(task: GradeTask): Promise<GradeReply> {
  const specs = await compiling;
  if (task.spec === -1) return { columns: [], errors: [], details: [], reasons: [] };
  const compiled = specs[task.spec];
  if (!compiled) throw new Error(`worker has no spec #${task.spec}`);
  const { results, columns } = await scoreBatch(compiled, task.rollouts, { details: task.details });
  const names = compiled.names;
  const errors: (Record<number, string> | null)[] = names.map(() => null);
  const details: (Record<number, Record<string, unknown>> | null)[] = names.map(() => null);
  const indexOf = new Map(names.map((n, k) => [n, k]));
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.errors)
      for (const e of r.errors) {
        const k = indexOf.get(e.component)!;
        (errors[k] ??= {})[i] = e.message;
      }
    if (task.details && r.details)
      for (const [name, d] of Object.entries(r.details)) {
        const k = indexOf.get(name)!;
        (details[k] ??= {})[i] = d as Record<string, unknown>;
      }
  }
  return { columns: columns.components, errors, details, reasons: columns.nullReasons };
}
