/**
 * Pool worker (piscina): grades one slice of a batch with a spec it compiled itself from the same
 * spec file as the server. It only grades: combining, shaping (running statistics) and advantages
 * stay on the main thread over the whole batch, so pooled results equal in-process results.
 */
import { workerData } from 'node:worker_threads';
import { gradeOnly, gradeRollouts, type GradeReply } from './grading.js';
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

export type { GradeReply } from './grading.js';

const given = (workerData as { specs: WorkerSpec[] }).specs;

// `serve --queue`: this thread's sandboxed programs and model-backend calls go to the workers too
// (graders/code/remote.ts, backends/remote.ts); connected before the specs compile, since their
// backends are built to send jobs.
const queue = process.env.REWARDKIT_QUEUE;
const work = (process.env.REWARDKIT_QUEUE_WORK ?? '').split(',');
const remoteReady: Promise<void> = queue
  ? (async () => {
      const waitMs = Number(process.env.REWARDKIT_QUEUE_WAIT_MS ?? 60_000);
      if (work.includes('sandbox')) {
        const { connectRemoteSandbox } = await import('../graders/code/remote.js');
        const { setRemoteRunner } = await import('../graders/code/sandbox.js');
        const r = await connectRemoteSandbox(queue, { waitMs });
        setRemoteRunner((req) => r.run(req));
      }
      if (work.includes('backends')) {
        const { connectRemoteBackends, setRemoteBackends } = await import('../backends/remote.js');
        setRemoteBackends(await connectRemoteBackends(queue, { waitMs }));
      }
    })()
  : Promise.resolve();
remoteReady.catch(() => {});

/** Grade-only copies of the served specs (see {@link gradeOnly}). */
const compiling: Promise<CompiledSpec[]> = remoteReady.then(() =>
  Promise.all(
    given.map(async (w) =>
      // Async: `grader: module` components import their modules (paths against the spec's folder) first.
      gradeOnly('file' in w ? await compileSpecFileAsync(w.file) : await compileSpecAsync(w.spec, { source: w.source, specDir: w.specDir })),
    ),
  ),
);
// Not a top-level await: piscina may load this file with require() (tsx compiles it to CommonJS then).
compiling.catch(() => {});

/** Grades one slice; see {@link GradeReply}. */
export default async function grade(task: GradeTask): Promise<GradeReply> {
  const specs = await compiling;
  if (task.spec === -1) return { columns: [], errors: [], details: [], reasons: [] };
  const compiled = specs[task.spec];
  if (!compiled) throw new Error(`worker has no spec #${task.spec}`);
  return gradeRollouts(compiled, task.rollouts, task.details);
}
