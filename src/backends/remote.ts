/**
 * Model-backend calls on other machines (`rewardkit serve --queue redis://…`): every call a server's
 * managed backend (managed.ts) would make to its model — a judge's chat, a reward model's scores,
 * embeddings, log-probs — becomes a BullMQ job on the queue `rewardkit-backend`, and
 * `rewardkit worker --queue … --backend-jobs N` processes on any number of machines make the call
 * with the spec's backend configuration and send the model's answer back.
 *
 * What stays on the server: the whole managed wrapper — the response cache (a cached answer never
 * becomes a job), coalescing of identical requests, the spec's `concurrency` (jobs of one backend in
 * flight at once, per server process), retries with backoff, the deadline, answer validation and
 * the counters of `/metrics`. A job is one attempt: the worker calls the model once, bounded by the
 * backend's `timeout_ms`, and returns the answer or the error (status, retryable, Retry-After), which
 * the server's wrapper then retries or reports exactly as for a local call. On the server one
 * attempt may last `timeout_ms` plus the queue wait (a job waits for a free worker first); the
 * deadline (`deadline_ms`) bounds the whole operation as before.
 *
 * What a job carries: the backend's name, its configuration without the options the server applies
 * (limits, retries, cache — so no Redis password of `cache: redis://…`), the spec's folder, the
 * operation and the request. Never an API key: `api_key_env` names a variable, which the worker
 * reads from its own environment.
 *
 * Failures never hang a grader: no worker took the job within the queue wait → a retryable error
 * naming the queue and the command to start; a worker killed mid-call loses its job's lock and
 * another worker makes the call again (BullMQ stalled-job check), or the attempt runs out and the
 * server retries it; Redis away → a retryable error naming Redis; the deadline ends it all.
 */
import { randomUUID } from 'node:crypto';
import { retryAfterMs } from './managed.js';
import { BackendError, type BackendOp, type Transport } from './types.js';

/** The BullMQ queue of model calls. */
export const BACKEND_QUEUE = 'rewardkit-backend';

/** One model call as a job carries it. */
export interface BackendJobData {
  /** The backend's name in the spec (for messages). */
  backend: string;
  /** The spec's backend configuration without the server-side options (see {@link transportConfig}). */
  config: Record<string, unknown>;
  /** The spec's folder (a `gguf` path is resolved against it, on the worker). */
  specDir: string;
  op: BackendOp;
  /** ChatRequest, LogprobRequest, texts (embed) or RewardInputs (reward). */
  req: unknown;
  /** Limit of the model call on the worker, ms (the backend's `timeout_ms`). */
  timeoutMs: number;
}

/** What a job returns: the transport's answer, or its error as the server's wrapper needs it. */
export type BackendJobResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; status?: number; retryable: boolean; retryAfterMs?: number };

/** The options of a backend config that the server applies itself; they are not sent to workers. */
export const SERVER_SIDE_OPTIONS: readonly string[] = ['concurrency', 'timeout_ms', 'deadline_ms', 'retries', 'backoff_ms', 'max_backoff_ms', 'batch_size', 'cache'];

/**
 * A backend config as a job carries it: without {@link SERVER_SIDE_OPTIONS}.
 *
 * @example
 * transportConfig({ type: 'openai', base_url: 'http://h/v1', model: 'm', cache: 'redis://:pw@r:6379/0', retries: 4 })
 * // → { type: 'openai', base_url: 'http://h/v1', model: 'm' }
 */
export function transportConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!SERVER_SIDE_OPTIONS.includes(k)) out[k] = v;
  return out;
}

/** A connection to the backend queue for a server: {@link call} sends one attempt of one operation. */
export interface RemoteBackends {
  /** Longest wait of a job for a free worker, ms. */
  readonly waitMs: number;
  /** Sends one call; resolves with the model's raw answer, rejects with a {@link BackendError} (or `signal.reason` once aborted). */
  call(data: BackendJobData, signal: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

let current: RemoteBackends | null = null;

/**
 * Sends the model calls of every backend built afterwards (`buildBackends`, so every spec compiled
 * afterwards in this thread) to `remote`; `null` builds local backends again. Backends already built
 * keep what they had.
 */
export function setRemoteBackends(remote: RemoteBackends | null): void {
  current = remote;
}

/** The connection set by {@link setRemoteBackends}, if any. */
export function remoteBackends(): RemoteBackends | null {
  return current;
}

/**
 * A {@link Transport} with the identity (type, model: the cache keys) and the operations of `local`,
 * whose calls go to `remote` as jobs. `local` is never called (building it is cheap: an HTTP client,
 * or a GGUF model that loads on first use); its `close` is kept.
 */
export function remoteTransport(name: string, config: Record<string, unknown>, specDir: string, timeoutMs: number, local: Transport, remote: RemoteBackends): Transport {
  const send = (op: BackendOp, req: unknown, signal: AbortSignal) => remote.call({ backend: name, config, specDir, op, req, timeoutMs }, signal);
  const t: Transport = { type: local.type, model: local.model };
  if (local.chat) t.chat = (req, s) => send('chat', req, s) as ReturnType<NonNullable<Transport['chat']>>;
  if (local.logprobs) t.logprobs = (req, s) => send('logprobs', req, s) as ReturnType<NonNullable<Transport['logprobs']>>;
  if (local.embed) t.embed = (texts, s) => send('embed', texts, s) as ReturnType<NonNullable<Transport['embed']>>;
  if (local.reward) t.reward = (inputs, s) => send('reward', inputs, s) as ReturnType<NonNullable<Transport['reward']>>;
  if (local.close) t.close = () => local.close!();
  return t;
}

/** An error a job returned, as the server's wrapper reads it (status, retryable, Retry-After). */
export function jobError(r: Extract<BackendJobResult, { ok: false }>): BackendError {
  const cause = r.retryAfterMs !== undefined ? { headers: { 'retry-after-ms': String(r.retryAfterMs) } } : undefined;
  return new BackendError(r.message, { status: r.status, retryable: r.retryable, cause });
}

interface Waiting {
  active: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/**
 * Connects to the backend queue at `url` (`redis://HOST:PORT/DB`). `waitMs` (default 60 000): how
 * long a job may wait for a free worker before the attempt fails (retryable; the deadline decides
 * whether another attempt follows). Resolves once the queue's event stream is ready; rejects when
 * Redis cannot be reached within `connectMs` (default 5000).
 *
 * @example
 * const remote = await connectRemoteBackends('redis://127.0.0.1:6379/0', { waitMs: 30_000 });
 * setRemoteBackends(remote); // specs compiled from now on send their model calls to workers
 */
export async function connectRemoteBackends(url: string, o: { waitMs?: number; connectMs?: number } = {}): Promise<RemoteBackends> {
  const { Queue, QueueEvents } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { redactRedisUrl } = await import('./redis_url.js');
  const shown = redactRedisUrl(url);
  const waitMs = o.waitMs ?? 60_000;
  const connectMs = o.connectMs ?? 5000;
  // Adding jobs fails fast while Redis is away; the event stream blocks and waits through reconnections.
  const conn = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 5000, retryStrategy: (n) => Math.min(100 * n, 2000), lazyConnect: true });
  const events = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 2000), lazyConnect: true });
  conn.on('error', () => {});
  events.on('error', () => {});
  const timeout = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`--queue: Redis at ${shown} not reachable within ${connectMs} ms`)), connectMs).unref())]);
  try {
    await timeout(Promise.all([conn.connect(), events.connect()]));
  } catch (e) {
    conn.disconnect();
    events.disconnect();
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(why.startsWith('--queue:') ? why : `--queue: Redis at ${shown} unreachable (${why})`);
  }
  const queue = new Queue<BackendJobData, BackendJobResult>(BACKEND_QUEUE, { connection: conn });
  queue.on('error', () => {}); // a call that cannot be added says why (below)
  const queueEvents = new QueueEvents(BACKEND_QUEUE, { connection: events });
  queueEvents.on('error', () => {});
  await timeout(queueEvents.waitUntilReady());

  // One listener per event for all calls in flight (not one per call).
  const waiting = new Map<string, Waiting>();
  queueEvents.on('active', ({ jobId }) => {
    const w = waiting.get(jobId);
    if (w) w.active = true;
  });
  queueEvents.on('completed', ({ jobId, returnvalue }) => {
    const w = waiting.get(jobId);
    if (!w) return;
    const r = returnvalue as unknown as BackendJobResult;
    if (r !== null && typeof r === 'object' && r.ok === true) w.resolve(r.value);
    else if (r !== null && typeof r === 'object' && r.ok === false) w.reject(jobError(r));
    else w.reject(new BackendError(`backend worker returned ${JSON.stringify(r)?.slice(0, 200)}, not a job result`, { retryable: false }));
  });
  queueEvents.on('failed', ({ jobId, failedReason }) => {
    // A job fails when its worker died too often (stalled) or could not read it; the first is retryable.
    waiting.get(jobId)?.reject(new BackendError(`backend worker: ${failedReason}`, { retryable: /stall/i.test(failedReason) }));
  });

  return {
    waitMs,
    call(data, signal) {
      return new Promise<unknown>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const id = randomUUID();
        let done = false;
        const finish = (ok: boolean) => {
          done = true;
          waiting.delete(id);
          clearTimeout(pickup);
          signal.removeEventListener('abort', onAbort);
          // Not taken yet: nobody should make the call now (a job already taken cannot be removed: its answer is dropped).
          if (!ok) void queue.remove(id).catch(() => undefined);
        };
        const w: Waiting = {
          active: false,
          resolve: (v) => {
            if (done) return;
            finish(true);
            resolve(v);
          },
          reject: (e) => {
            if (done) return;
            finish(true);
            reject(e);
          },
        };
        const fail = (e: unknown) => {
          if (done) return;
          finish(false);
          reject(e);
        };
        const onAbort = () => fail(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const pickup = setTimeout(() => {
          if (!w.active)
            fail(
              new BackendError(`no backend worker took the call within ${Math.round(waitMs / 100) / 10} s (queue ${BACKEND_QUEUE} on ${shown}): start or add \`rewardkit worker --queue ${shown}\` (with --backend-jobs above 0)`, {
                retryable: true,
              }),
            );
        }, waitMs);
        waiting.set(id, w);
        queue.add('call', data, { jobId: id, removeOnComplete: true, removeOnFail: { age: 3600 }, attempts: 1 }).then(
          () => undefined,
          (e: unknown) => fail(new BackendError(`the backend queue on Redis at ${shown} cannot take the call (${e instanceof Error ? e.message : String(e)})`, { retryable: true, cause: e })),
        );
      });
    },
    async close() {
      for (const w of [...waiting.values()]) w.reject(new BackendError('the backend queue was closed', { retryable: false }));
      await queueEvents.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      conn.disconnect();
      events.disconnect();
    },
  };
}

function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** Transports a worker keeps, by configuration (a GGUF model stays loaded between calls). */
const TRANSPORTS_KEPT = 8;

/** What `rewardkit worker` runs backend jobs with: {@link run} makes one call; {@link close} frees the transports. */
export interface BackendJobRunner {
  run(data: BackendJobData): Promise<BackendJobResult>;
  close(): Promise<void>;
}

/**
 * Makes the model calls of backend jobs on this machine: builds the job's transport from its
 * configuration (validated by the spec's own schema; the API key from `env`), calls it once bounded
 * by the job's `timeoutMs`, and returns the answer or the error (API keys of `env` scrubbed). A job
 * whose configuration is invalid fails for good (`UnrecoverableError`-like: thrown).
 */
export function backendJobRunner(env: NodeJS.ProcessEnv = process.env): BackendJobRunner {
  const kept = new Map<string, { transport: Transport; secrets: string[] }>();
  const transportFor = async (data: BackendJobData) => {
    const key = JSON.stringify([data.config, data.specDir]);
    let t = kept.get(key);
    if (t) {
      kept.delete(key);
      kept.set(key, t);
      return t;
    }
    const { buildTransport } = await import('./config.js');
    t = buildTransport(data.config, data.specDir, env);
    kept.set(key, t);
    while (kept.size > TRANSPORTS_KEPT) {
      const [oldest, old] = kept.entries().next().value as [string, { transport: Transport }];
      kept.delete(oldest);
      void old.transport.close?.().catch(() => undefined);
    }
    return t;
  };
  return {
    async run(data) {
      const { transport, secrets } = await transportFor(data);
      const fn = transport[data.op];
      if (typeof fn !== 'function') return { ok: false, message: `${transport.type} backend does not offer ${data.op}`, retryable: false };
      const ctl = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, rej) => {
        timer = setTimeout(() => {
          const e = new BackendError(`timed out after ${data.timeoutMs} ms`, { retryable: true });
          ctl.abort(e);
          rej(e);
        }, data.timeoutMs);
      });
      try {
        const call = (fn as (req: unknown, s: AbortSignal) => Promise<unknown>).call(transport, data.req, ctl.signal);
        return { ok: true, value: await Promise.race([call, limit]) };
      } catch (e) {
        if (e instanceof BackendError) {
          const out: BackendJobResult = { ok: false, message: scrub(e.message, secrets), retryable: e.retryable };
          if (e.status !== undefined) out.status = e.status;
          const after = retryAfterMs(e);
          if (after !== undefined) out.retryAfterMs = after;
          return out;
        }
        return { ok: false, message: scrub(e instanceof Error ? e.message : String(e), secrets), retryable: false };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.allSettled([...kept.values()].map(async (t) => t.transport.close?.()));
      kept.clear();
    },
  };
}
