/**
 * Sandboxed programs on other machines (`rewardkit serve --queue redis://…`): the server's
 * {@link runProgram} calls — the `code` grader's test runs and `/run_code` — become BullMQ jobs on
 * the queue `rewardkit-sandbox`, and `rewardkit worker --queue …` processes on any number of machines
 * run them in their own sandbox and send the result back. Sandbox capacity then grows with machines,
 * not with the server's cores. Requests and results travel as JSON (files as base64); the program
 * runs exactly as it would locally (same limits, same statuses).
 *
 * Failures never hang a grader: a run that no worker finished within its time limits plus
 * `waitMs` (no worker running, all busy, Redis away) ends as `sandbox_error` naming the queue, as
 * does a job Redis cannot take; a worker killed mid-run loses its job's lock and another worker runs
 * it again (programs are pure functions of their request).
 */
import type { Job } from 'bullmq';
import { DEFAULT_COMPILE_LIMITS, DEFAULT_LIMITS, runProgram, type ProgramRequest, type ProgramResult, type RunResult } from './sandbox.js';

/** The BullMQ queue of sandbox runs. */
export const SANDBOX_QUEUE = 'rewardkit-sandbox';

/** A {@link ProgramRequest} as a job carries it. */
export interface SandboxJobData {
  req: Omit<ProgramRequest, 'files'> & { files?: Record<string, { b64: string } | string> };
}

/** A {@link ProgramResult} as a job returns it. */
export interface SandboxJobResult {
  compile: RunResult | null;
  run: RunResult | null;
  files: Record<string, string>;
  fetchSkipped: string[];
}

/** Encodes a request for a job (binary files as base64). */
export function encodeRequest(req: ProgramRequest): SandboxJobData {
  const { files, ...rest } = req;
  const out: SandboxJobData = { req: rest };
  if (files) out.req.files = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? v : { b64: Buffer.from(v).toString('base64') }]));
  return out;
}

/** Inverse of {@link encodeRequest}. */
export function decodeRequest(d: SandboxJobData): ProgramRequest {
  const { files, ...rest } = d.req;
  const req: ProgramRequest = { ...rest };
  if (files) req.files = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? v : Buffer.from(v.b64, 'base64')]));
  return req;
}

/** Encodes a result for the job's return value. */
export function encodeResult(r: ProgramResult): SandboxJobResult {
  return { compile: r.compile, run: r.run, files: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, v.toString('base64')])), fetchSkipped: r.fetchSkipped };
}

/** Inverse of {@link encodeResult}. */
export function decodeResult(r: SandboxJobResult): ProgramResult {
  return { compile: r.compile, run: r.run, files: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, Buffer.from(v, 'base64')])), fetchSkipped: r.fetchSkipped };
}

function failed(message: string, wallMs: number): ProgramResult {
  return { compile: null, run: { status: 'sandbox_error', exitCode: null, signal: null, stdout: '', stderr: '', wallMs, message }, files: {}, fetchSkipped: [] };
}

/** The longest a request's phases may take on a worker, ms (wall limits of compile and run, plus sandbox set-up slack). */
export function runBudgetMs(req: ProgramRequest): number {
  const run = req.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  const compile = req.compileLimits?.timeoutMs ?? DEFAULT_COMPILE_LIMITS.timeoutMs;
  return run + compile + 5000;
}

/** A connection to the sandbox queue for a server: {@link run} sends one program; {@link close} stops. */
export interface RemoteSandbox {
  run(req: ProgramRequest): Promise<ProgramResult>;
  close(): Promise<void>;
}

/**
 * Connects to the sandbox queue at `url` (`redis://HOST:PORT/DB`). `waitMs` (default 60 000): how
 * long a run may wait for a free worker on top of its own time limits before it ends as
 * `sandbox_error`. Resolves once the queue's event stream is ready (rejects when Redis cannot be
 * reached within `connectMs`, default 5000).
 */
export async function connectRemoteSandbox(url: string, o: { waitMs?: number; connectMs?: number } = {}): Promise<RemoteSandbox> {
  const { Queue, QueueEvents } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { redactRedisUrl } = await import('../../backends/redis_url.js');
  const shown = redactRedisUrl(url);
  const waitMs = o.waitMs ?? 60_000;
  // Adding jobs fails fast while Redis is away; the event stream blocks and waits through reconnections.
  const conn = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 5000, retryStrategy: (n) => Math.min(100 * n, 2000), lazyConnect: true });
  const events = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 2000), lazyConnect: true });
  conn.on('error', () => {});
  events.on('error', () => {});
  const connectMs = o.connectMs ?? 5000;
  const timeout = <T>(p: Promise<T>, what: string) =>
    Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${what}: Redis at ${shown} not reachable within ${connectMs} ms`)), connectMs).unref())]);
  try {
    await timeout(Promise.all([conn.connect(), events.connect()]), '--queue');
  } catch (e) {
    conn.disconnect();
    events.disconnect();
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(why.startsWith('--queue:') ? why : `--queue: Redis at ${shown} unreachable (${why})`);
  }
  const queue = new Queue<SandboxJobData, SandboxJobResult>(SANDBOX_QUEUE, { connection: conn });
  const queueEvents = new QueueEvents(SANDBOX_QUEUE, { connection: events });
  queueEvents.on('error', () => {});
  await timeout(queueEvents.waitUntilReady(), '--queue');
  return {
    async run(req) {
      const t0 = performance.now();
      const ms = () => Math.round(performance.now() - t0);
      const budget = runBudgetMs(req) + waitMs;
      let job: Job<SandboxJobData, SandboxJobResult>;
      try {
        job = await queue.add('run', encodeRequest(req), { removeOnComplete: { age: 300 }, removeOnFail: { age: 3600 }, attempts: 1 });
      } catch (e) {
        return failed(`the sandbox queue on Redis at ${shown} cannot take the run (${e instanceof Error ? e.message : String(e)})`, ms());
      }
      try {
        return decodeResult(await job.waitUntilFinished(queueEvents, budget));
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        await job.remove().catch(() => undefined); // not run yet: nobody should run it now
        if (/timed out|Job wait/i.test(why))
          return failed(`no sandbox worker finished the run within ${Math.round(budget / 1000)} s (its limits plus ${Math.round(waitMs / 1000)} s of waiting): start or add \`rewardkit worker --queue ${shown}\``, ms());
        return failed(`sandbox worker: ${why}`, ms());
      }
    },
    async close() {
      await queueEvents.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      conn.disconnect();
      events.disconnect();
    },
  };
}

/** Runs one sandbox job on this machine (the processor of `rewardkit worker`'s sandbox consumer). */
export async function runSandboxJob(data: SandboxJobData): Promise<SandboxJobResult> {
  return encodeResult(await runProgram(decodeRequest(data)));
}
