import { isIP } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import type { DestinationStream } from 'pino';
import { MAX_STRING_BYTES, defaultCapacity } from './limits.js';
import { checkRedisUrl } from '../backends/redis_url.js';

/**
 * Server settings, their defaults and the start-up checks (a non-loopback bind without a token is
 * refused unless `insecure`). The CLI (`rewardkit serve`) maps its flags onto {@link ServerOptions}.
 */

/** How batches are graded: on the event loop, or in a worker-thread pool (see engine.ts). */
export type ScoringMode = 'inline' | 'pool' | 'auto';

/** Settings of the OpenRLHF-compatible `POST /get_reward` route. */
export interface OpenRlhfOptions {
  /**
   * Component whose value (clamped to [0, 1]) becomes `scores` (OpenRLHF's dynamic-filtering score).
   * Default: the reward itself, clamped to [0, 1].
   */
  scoreComponent?: string;
  /** End-of-sequence markers stripped from the end of each response (the trainer decodes with special tokens). */
  stripSuffixes?: string[];
  /**
   * `/get_reward`: reward sent for a null reward in a group with no judged rollout (a null reward in
   * a group with judged ones gets the group's mean judged reward: advantage 0). Default 0.
   */
  nullReward?: number;
}

/** Settings of {@link createServer}; every field but `specs` has a default. */
export interface ServerOptions {
  /** Spec files, or folders whose `.yaml`/`.yml`/`.json` files are all loaded. */
  specs: string[];
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Bearer token required on every route but /healthz. Default: `REWARDKIT_TOKEN` from the environment, if set. */
  token?: string;
  /** Allow binding a non-loopback address without a token. */
  insecure?: boolean;
  /** Spec used when a request names none and no `data_source` route applies. Default: the only spec, when one is loaded. */
  defaultSpec?: string;
  /** `meta.data_source` value → spec name. A data_source equal to a spec name routes there without an entry. */
  routes?: Record<string, string>;
  /**
   * `inline`: graders on the event loop; `pool`: graders in worker threads; `auto` (default): each batch
   * inline unless its expected grading CPU time (measured per spec) would stall the event loop, then the pool.
   * On one core `auto` is `inline`.
   */
  scoring?: ScoringMode;
  /** Worker threads in `pool` mode. Default: available cores. */
  workers?: number;
  /**
   * Largest request body, bytes (413 beyond). Default: min(480 MiB, `queueBytes`) — a 20,000-query
   * OpenRLHF batch with 2,000-character prompts and 16,000-character responses is ~400 MB (see
   * {@link defaultCapacity}).
   */
  bodyLimit?: number;
  /**
   * Scoring chunk, rollouts: a request with more rollouts is graded in chunks of at most this many
   * (groups kept whole), then combined, shaped and given advantages over the whole request, so the
   * results equal one batch. Not a limit: any number of rollouts is accepted. Default 8192.
   */
  maxRollouts?: number;
  /** Requests of `/v1/score` and `/get_reward` scored at once; the others wait in the FIFO queue. Default 64. */
  maxInflightRequests?: number;
  /**
   * Queue capacity in rollouts: rollouts held by queued and running requests of every trainer route;
   * a request that would pass it gets 503 (`/run_code` 504) with `Retry-After`. Default: `queueBytes` / 2 KiB, at least 32,768.
   */
  maxInflightRollouts?: number;
  /**
   * Queue capacity in bytes: request bodies held (counted from `Content-Length` when a request
   * arrives); beyond it 503 with `Retry-After` before the body is read. Default: min(total memory / 8,
   * V8 heap limit / 4) — 1 GiB with Node's default heap on a machine with 8 GB or more.
   */
  queueBytes?: number;
  /** Longest wait in the queue for `/v1/score` and `/get_reward`, ms; past it 503 with `Retry-After`. Default 120000. */
  queueTimeoutMs?: number;
  /**
   * Longest wait in the queue for `/run_code`, ms; past it 504 (verl's Sandbox Fusion client retries
   * 504 only). A request also waits at most `compile_timeout` (default 10) + 8 s: verl gives up on a
   * request after compile_timeout + run_timeout + 10 s, and the run itself may take run_timeout.
   * Default 60000.
   */
  sandboxQueueTimeoutMs?: number;
  /** Programs `/run_code` runs at once (the others wait in its queue). Default: the sandbox's concurrency (the number of CPUs unless configured). */
  sandboxRunning?: number;
  /**
   * Per-request deadline for scoring, ms. Past it the request gets 503 `scoring did not finish within
   * the N ms deadline` and its grading stops: inline, grader calls not yet started fail (graders yield
   * between calls, so the deadline fires on time unless one call alone outlasts it); in the pool, the
   * worker threads running the request's tasks are terminated and replaced. Default 60000.
   */
  deadlineMs?: number;
  /** Deepest JSON nesting accepted in a body. Default 64. */
  maxJsonDepth?: number;
  /** pino level. Default `info`. */
  logLevel?: string;
  /** Log completion text (off by default: logs never contain completions unless asked). */
  logCompletions?: boolean;
  /** Where logs go (tests pass a stream). Default stdout. */
  logStream?: DestinationStream;
  openrlhf?: OpenRlhfOptions;
  /**
   * `redis://HOST:PORT/DB`: keep the cross-batch state of specs that have it (shapers `meanstd`,
   * `clip`, `minmax`; credit `lare` with `carry`, `prorl` centring) in Redis, updated atomically per
   * batch, so replicas fed batches in any interleaving give the rewards of one process fed the same
   * sequence (state.ts). Default: none (state stays in this process).
   */
  state?: string;
  /**
   * `redis://HOST:PORT/DB`: send sandboxed programs (the `code` grader's runs, `/run_code`; queue
   * `rewardkit-sandbox`, graders/code/remote.ts) and model-backend calls (judges, reward models,
   * embeddings, log-probs; queue `rewardkit-backend`, backends/remote.ts) to `rewardkit worker`
   * processes on other machines through BullMQ, so capacity grows with machines. Default: run them here.
   */
  queue?: string;
  /** What `queue` sends to workers: `sandbox` (programs), `backends` (model calls). Default both. */
  queueWork?: QueueWork[];
  /**
   * Longest wait of a queued job for a free worker, ms: on top of a program's own limits; on top of a
   * backend's `timeout_ms` for one attempt of a model call. Default 60000.
   */
  queueWaitMs?: number;
  /** Longest wait for one state-store command or connection, ms. Default 2000. */
  stateTimeoutMs?: number;
  /** Lease of a spec's state lock, ms (renewed while held; how long a crashed replica blocks the spec). Default 5000. */
  stateLeaseMs?: number;
  /**
   * Name of this replica: a `replica` label on every metric and the writer of state commits. Default
   * with `state`: `HOSTNAME-PID`; without it, none (no label).
   */
  replicaName?: string;
}

/** What `serve --queue` can send to workers. */
export type QueueWork = 'sandbox' | 'backends';
export const QUEUE_WORK: readonly QueueWork[] = ['sandbox', 'backends'];

function queueWork(w: readonly string[] | undefined): QueueWork[] {
  if (w === undefined) return [...QUEUE_WORK];
  const bad = w.filter((x) => !QUEUE_WORK.includes(x as QueueWork));
  if (bad.length > 0 || w.length === 0) throw new ServerConfigError(`--queue-work: expected a comma-separated list of ${QUEUE_WORK.join(', ')}, got "${w.join(',')}"`);
  return [...new Set(w as QueueWork[])];
}

/** Every option filled in. */
export interface ResolvedOptions extends Required<Omit<ServerOptions, 'token' | 'defaultSpec' | 'logStream' | 'openrlhf' | 'sandboxRunning' | 'state' | 'replicaName' | 'queue'>> {
  /** Undefined: programs run in this process's sandbox. */
  queue: string | undefined;
  /** Undefined: no shared state store. */
  state: string | undefined;
  /** Undefined: no replica label. */
  replicaName: string | undefined;
  /** Undefined: follow the sandbox's concurrency. */
  sandboxRunning: number | undefined;
  token: string | undefined;
  defaultSpec: string | undefined;
  logStream: DestinationStream | undefined;
  openrlhf: Required<Omit<OpenRlhfOptions, 'scoreComponent'>> & { scoreComponent: string | undefined };
}

/** A setting that stops the server from starting (the CLI exits 2 with its message). */
export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerConfigError';
  }
}

/** EOS markers of common chat templates (Qwen/ChatML, Llama 2/3, DeepSeek, Phi, GPT-2 family). */
export const DEFAULT_STRIP_SUFFIXES = ['<|im_end|>', '<|endoftext|>', '<|eot_id|>', '<|end_of_text|>', '</s>', '<｜end▁of▁sentence｜>', '<|end|>'];

/** True for 127.0.0.0/8, ::1, `localhost` and IPv4-mapped loopback. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function positive(name: string, v: number, integer = true): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new ServerConfigError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return v;
}

function bodyLimit(v: number): number {
  positive('body limit', v);
  if (v > MAX_STRING_BYTES) throw new ServerConfigError(`body limit must be at most ${MAX_STRING_BYTES} bytes (~512 MiB: the longest string V8 holds; a body is read as one string), got ${v}`);
  return v;
}

/**
 * Fills defaults and checks the settings. Throws {@link ServerConfigError} for a non-loopback host
 * without a token (unless `insecure`), an empty token, or a bad limit.
 */
export function resolveOptions(o: ServerOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (!o.specs || o.specs.length === 0) throw new ServerConfigError('at least one --spec is required');
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? (env.REWARDKIT_TOKEN || undefined);
  if (token !== undefined && token.trim().length === 0) throw new ServerConfigError('the token must not be empty');
  if (!isLoopback(host) && token === undefined && !o.insecure)
    throw new ServerConfigError(
      `refusing to bind ${host} (not a loopback address) without a token: pass --token (or set REWARDKIT_TOKEN), or --insecure to serve anyone who can reach the port`,
    );
  const port = o.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServerConfigError(`port must be an integer in [0, 65535], got ${port}`);
  const scoring = o.scoring ?? 'auto';
  if (scoring !== 'inline' && scoring !== 'pool' && scoring !== 'auto') throw new ServerConfigError(`scoring must be "inline", "pool" or "auto", got ${JSON.stringify(scoring)}`);
  const nullReward = o.openrlhf?.nullReward ?? 0;
  const cap = defaultCapacity();
  const queueBytes = positive('queue memory', o.queueBytes ?? cap.queueBytes);
  if (!Number.isFinite(nullReward)) throw new ServerConfigError('openrlhf null reward must be a finite number');
  if (o.queue !== undefined) {
    try {
      checkRedisUrl(o.queue, '--queue');
    } catch (e) {
      throw new ServerConfigError((e as Error).message);
    }
  }
  if (o.state !== undefined) {
    try {
      checkRedisUrl(o.state, '--state');
    } catch (e) {
      throw new ServerConfigError((e as Error).message);
    }
  }
  if (o.replicaName !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(o.replicaName))
    throw new ServerConfigError(`replica name must be 1–128 characters of A–Z a–z 0–9 . _ : -, got ${JSON.stringify(o.replicaName)}`);
  return {
    specs: o.specs,
    host,
    port,
    token,
    insecure: o.insecure ?? false,
    defaultSpec: o.defaultSpec,
    routes: { ...(o.routes ?? {}) },
    scoring,
    workers: positive('workers', o.workers ?? availableParallelism()),
    bodyLimit: bodyLimit(o.bodyLimit ?? Math.min(cap.bodyLimit, queueBytes)),
    maxRollouts: positive('max rollouts', o.maxRollouts ?? 8192),
    maxInflightRequests: positive('max in-flight requests', o.maxInflightRequests ?? 64),
    maxInflightRollouts: positive('max in-flight rollouts', o.maxInflightRollouts ?? cap.queueRollouts),
    queueBytes,
    queueTimeoutMs: positive('queue timeout', o.queueTimeoutMs ?? 120_000),
    sandboxQueueTimeoutMs: positive('sandbox queue timeout', o.sandboxQueueTimeoutMs ?? 60_000),
    sandboxRunning: o.sandboxRunning === undefined ? undefined : positive('sandbox running', o.sandboxRunning),
    deadlineMs: positive('deadline', o.deadlineMs ?? 60_000),
    maxJsonDepth: positive('max JSON depth', o.maxJsonDepth ?? 64),
    logLevel: o.logLevel ?? 'info',
    logCompletions: o.logCompletions ?? false,
    logStream: o.logStream,
    state: o.state,
    queue: o.queue,
    queueWork: queueWork(o.queueWork),
    queueWaitMs: positive('queue wait', o.queueWaitMs ?? 60_000),
    stateTimeoutMs: positive('state timeout', o.stateTimeoutMs ?? 2000),
    stateLeaseMs: positive('state lease', o.stateLeaseMs ?? 5000),
    replicaName: o.replicaName ?? (o.state !== undefined ? `${hostname()}-${process.pid}` : undefined),
    openrlhf: {
      scoreComponent: o.openrlhf?.scoreComponent,
      stripSuffixes: o.openrlhf?.stripSuffixes ?? DEFAULT_STRIP_SUFFIXES,
      nullReward,
    },
  };
}
