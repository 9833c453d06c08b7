import { availableParallelism } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { Job, Worker as BullWorker } from 'bullmq';
import type { CompiledSpec } from '../spec/compile_core.js';
import { SpecError } from '../spec/errors.js';
import { RolloutError, validateRollout } from '../rollout/validate.js';
import type { Rollout } from '../rollout/types.js';
import { scoreBatch } from '../pipeline.js';
import { scoredLine } from './score.js';
import type { ChunkJobData, ChunkResult } from './queue.js';
import { positiveInt } from './args.js';

/**
 * BullMQ and the queue module (ioredis) load when a worker runs or a chunk is scored, not when the
 * command is registered: `rewardkit --help` registers every command (start-up, bench/startup.ts).
 */
const bull = () => import('bullmq');
const queueModule = () => import('./queue.js');
/** The spec loader with every grader kind (a job's spec may name any), loaded with the first job. */
const specModules = async () => ({ ...(await import('../spec/compile.js')), ...(await import('../spec/load.js')) });

export interface WorkerCommandOptions {
  queue: string;
  concurrency: number;
  /** Milliseconds a job's lock lasts without renewal; a worker killed mid-chunk frees its job after this. */
  lockDuration: number;
  /** Milliseconds between checks for stalled jobs (jobs whose lock expired: their worker died). */
  stalledInterval: number;
  /** Times a job may stall (its worker died) before it fails instead of being retried. */
  maxStalledCount: number;
  quiet?: boolean;
  /** Print a line when a chunk starts and when it is done. */
  verbose?: boolean;
  /** Sandboxed programs from `serve --queue` run at once (0: take none). */
  sandboxJobs: number;
  /** Model-backend calls from `serve --queue` made at once (0: take none). */
  backendJobs: number;
}

/** Compiled specs by hash, most recent last; a few kept so runs of different specs can share workers. */
const SPEC_CACHE_SIZE = 4;

/**
 * Scores one chunk: the job's rollouts through the job's spec with `scoreBatch` (the same pipeline as
 * `rewardkit score`), returning the output lines and the batch's columns. A spec that does not
 * compile, or that `--queue` cannot score, fails the job for good (no retry): the submitter reports
 * the reason.
 */
export async function scoreChunk(data: ChunkJobData, getSpec: (s: ChunkJobData['spec']) => Promise<CompiledSpec>): Promise<ChunkResult> {
  const compiled = await getSpec(data.spec);
  const rollouts: Rollout[] = new Array(data.lines.length);
  for (let i = 0; i < data.lines.length; i++) {
    try {
      rollouts[i] = validateRollout(JSON.parse(data.lines[i]!));
    } catch (e) {
      if (e instanceof RolloutError || e instanceof SyntaxError) throw new (await bull()).UnrecoverableError(`chunk ${data.index}, rollout ${i}: ${e.message}`);
      throw e;
    }
  }
  const res = await scoreBatch(compiled, rollouts, { details: data.details, slim: true });
  let withErrors = 0;
  let graderErrors = 0;
  const out: string[] = new Array(rollouts.length);
  for (let i = 0; i < res.results.length; i++) {
    const r = res.results[i]!;
    if (r.errors) {
      withErrors++;
      graderErrors += r.errors.length;
    }
    out[i] = scoredLine(rollouts[i]!, data.lines[i]!, r);
  }
  return { text: out.join('\n'), rollouts: rollouts.length, withErrors, graderErrors, columns: (await queueModule()).encodeColumns(res.columns) };
}

/**
 * `rewardkit worker`: consumes the chunks `rewardkit score --queue` enqueues, on any number of
 * machines. Runs until SIGINT/SIGTERM, then finishes its jobs in flight and exits 0 (a second signal
 * exits at once; its jobs are retried elsewhere). A worker killed outright (SIGKILL, a lost machine)
 * stops renewing its jobs' locks: after `lockDuration` ms BullMQ's stalled-job check (every
 * `stalledInterval` ms, on any live worker) puts them back in the queue for another worker; a job
 * that stalls more than `maxStalledCount` times fails, and the submitter reports it. Scoring is
 * synchronous for in-process graders, so a chunk must score within `lockDuration` (lock renewals
 * wait for the event loop): keep `--batch-size` so a chunk takes seconds, not minutes.
 */
export async function runWorker(o: WorkerCommandOptions, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const [{ Worker, UnrecoverableError }, { QUEUE_NAME, queueRefusal, redisConnection }] = await Promise.all([bull(), queueModule()]);
  let conn;
  try {
    conn = redisConnection(o.queue, { blocking: true });
  } catch (e) {
    log(`error: ${(e as Error).message}`);
    return 2;
  }
  const specs = new Map<string, Promise<CompiledSpec>>();
  const getSpec = (s: ChunkJobData['spec']): Promise<CompiledSpec> => {
    let p = specs.get(s.hash);
    if (p) {
      specs.delete(s.hash);
      specs.set(s.hash, p);
      return p;
    }
    p = (async () => {
      try {
        const { compileSpecAsync, parseSpecText } = await specModules();
        const compiled = await compileSpecAsync(parseSpecText(s.text, s.path), { source: s.path, specDir: s.dir });
        const refusal = queueRefusal(compiled);
        if (refusal) {
          await compiled.close();
          throw new UnrecoverableError(refusal);
        }
        return compiled;
      } catch (e) {
        specs.delete(s.hash);
        if (e instanceof SpecError) throw new UnrecoverableError(e.message);
        throw e;
      }
    })();
    specs.set(s.hash, p);
    while (specs.size > SPEC_CACHE_SIZE) {
      const [oldest, old] = specs.entries().next().value as [string, Promise<CompiledSpec>];
      specs.delete(oldest);
      void old.then((c) => c.close()).catch(() => undefined);
    }
    return p;
  };

  let done = 0;
  let lastError = '';
  conn.on('error', (e: Error) => {
    if (e.message !== lastError && !o.quiet) log(`warning: Redis at ${o.queue}: ${e.message} (reconnecting)`);
    lastError = e.message;
  });
  conn.on('ready', () => {
    lastError = '';
  });
  const worker = new Worker<ChunkJobData, ChunkResult>(QUEUE_NAME, async (job: Job<ChunkJobData, ChunkResult>) => {
    if (o.verbose) log(`worker ${process.pid}: chunk ${job.data.index} of run ${job.data.run} started (${job.data.lines.length} rollouts)`);
    return scoreChunk(job.data, getSpec);
  }, {
    connection: conn,
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: o.maxStalledCount,
  });
  worker.on('completed', (job) => {
    done++;
    if (o.verbose) log(`worker ${process.pid}: chunk ${job.data.index} of run ${job.data.run} done (${done} chunks so far)`);
  });
  worker.on('failed', (job, err) => {
    if (!o.quiet) log(`warning: chunk ${job?.data.index ?? '?'} failed: ${err.message}`);
  });
  worker.on('error', (e) => {
    if (!o.quiet && e.message !== lastError) log(`warning: worker: ${e.message}`);
  });
  if (!o.quiet) log(`worker ${process.pid}: consuming ${QUEUE_NAME} on ${o.queue} (concurrency ${o.concurrency})`);

  // Sandboxed programs of servers started with `serve --queue` (graders/code/remote.ts).
  let sandbox: BullWorker | null = null;
  let sandboxConn: ReturnType<typeof redisConnection> | null = null;
  if (o.sandboxJobs > 0) {
    const { SANDBOX_QUEUE, runSandboxJob } = await import('../graders/code/remote.js');
    const { configureSandbox } = await import('../graders/code/sandbox.js');
    configureSandbox({ concurrency: o.sandboxJobs });
    sandboxConn = redisConnection(o.queue, { blocking: true });
    sandboxConn.on('error', () => {});
    let runs = 0;
    sandbox = new Worker(SANDBOX_QUEUE, async (job: Job) => {
      const r = await runSandboxJob(job.data);
      runs++;
      if (o.verbose) log(`worker ${process.pid}: sandbox run ${job.id} done (${r.run?.status ?? r.compile?.status ?? 'no result'}; ${runs} runs so far)`);
      return r;
    }, { connection: sandboxConn, concurrency: o.sandboxJobs, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, maxStalledCount: o.maxStalledCount });
    sandbox.on('error', (e: Error) => {
      if (!o.quiet && e.message !== lastError) log(`warning: sandbox worker: ${e.message}`);
    });
    if (!o.quiet) log(`worker ${process.pid}: consuming ${SANDBOX_QUEUE} on ${o.queue} (${o.sandboxJobs} programs at once)`);
  }

  // Model-backend calls of servers started with `serve --queue` (backends/remote.ts).
  let backend: BullWorker | null = null;
  let backendConn: ReturnType<typeof redisConnection> | null = null;
  let backendRunner: { close(): Promise<void> } | null = null;
  if (o.backendJobs > 0) {
    const { BACKEND_QUEUE, backendJobRunner } = await import('../backends/remote.js');
    const runner = backendJobRunner();
    backendRunner = runner;
    backendConn = redisConnection(o.queue, { blocking: true });
    backendConn.on('error', () => {});
    let calls = 0;
    backend = new Worker(BACKEND_QUEUE, async (job: Job) => {
      let r;
      try {
        r = await runner.run(job.data);
      } catch (e) {
        // The job's backend configuration is invalid: no other worker would do better.
        throw new UnrecoverableError(e instanceof Error ? e.message : String(e));
      }
      calls++;
      if (o.verbose) log(`worker ${process.pid}: backend call ${job.id} (${job.data.backend} ${job.data.op}) done: ${r.ok ? 'ok' : r.message} (${calls} calls so far)`);
      return r;
    }, { connection: backendConn, concurrency: o.backendJobs, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, maxStalledCount: o.maxStalledCount });
    backend.on('error', (e: Error) => {
      if (!o.quiet && e.message !== lastError) log(`warning: backend worker: ${e.message}`);
    });
    if (o.verbose) backend.on('active', (job: Job) => log(`worker ${process.pid}: backend call ${job.id} (${job.data.backend} ${job.data.op}) started`));
    if (!o.quiet) log(`worker ${process.pid}: consuming ${BACKEND_QUEUE} on ${o.queue} (${o.backendJobs} model calls at once)`);
  }

  let stopping = false;
  await new Promise<void>((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      if (stopping) process.exit(s === 'SIGINT' ? 130 : 143);
      stopping = true;
      if (!o.quiet) log(`worker ${process.pid}: ${s}: finishing the chunks in flight, then exiting`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await Promise.race([Promise.all([worker.close(), sandbox?.close(), backend?.close()]), new Promise((r) => setTimeout(r, 30_000).unref())]);
  sandboxConn?.disconnect();
  backendConn?.disconnect();
  await backendRunner?.close();
  await Promise.allSettled([...specs.values()].map(async (p) => (await p).close()));
  conn.disconnect();
  if (!o.quiet) log(`worker ${process.pid}: stopped after ${done} chunks`);
  return 0;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got "${v}"`);
  return n;
}

/** Registers `rewardkit worker`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Score chunks that `rewardkit score --queue` enqueues on Redis (BullMQ), and run the sandboxed programs and model-backend calls of servers started with `serve --queue`; run one or more on any machine.')
    .requiredOption('--queue <url>', 'Redis holding the queue: redis://HOST:PORT/DB')
    .option('--concurrency <n>', 'chunks scored at once by this process (helps when graders wait: sandboxes, HTTP, models)', positiveInt, 1)
    .option('--lock-duration <ms>', "a job's lock; a killed worker's chunk is retried elsewhere once it expires", positiveInt, 30_000)
    .option('--stalled-interval <ms>', 'how often to look for chunks of dead workers', positiveInt, 30_000)
    .option('--max-stalled-count <n>', 'times a chunk may lose its worker before it fails (the submitter then stops)', nonNegativeInt, 2)
    .option('--sandbox-jobs <n>', 'sandboxed programs (code grader test runs, /run_code) of servers started with `serve --queue` run at once by this process; 0: none (default: the number of CPUs)', nonNegativeInt, availableParallelism())
    .option('--backend-jobs <n>', 'model-backend calls (judges, reward models, embeddings, log-probs) of servers started with `serve --queue` made at once by this process, with the spec\'s backend config and API keys from this process\'s environment (api_key_env); 0: none', nonNegativeInt, 64)
    .option('-q, --quiet', 'print nothing but errors')
    .option('-v, --verbose', 'print a line when each chunk starts and ends')
    .action(async (opts: WorkerCommandOptions) => {
      process.exitCode = await runWorker(opts);
      process.exit(process.exitCode);
    });
}
