import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import type { CompiledSpec } from '../spec/compile.js';
import type { BatchColumns } from '../pipeline.js';
import type { RolloutBatch } from '../rollout/batches.js';

/**
 * Distributed offline scoring on Redis with BullMQ (`rewardkit score --queue`, `rewardkit worker`).
 *
 * A chunk is one batch of the batch reader (whole groups, closed at the first group boundary after
 * `--batch-size` rollouts), so a chunk is scored exactly as `rewardkit score` without `--queue` scores
 * the same batch: group estimators and batch-level ones (`reinforce_pp`, `gdpo`, `grpo` with
 * `scale: batch`) see the same rollouts in both modes. What cannot be distributed is state carried
 * from one batch to the next (stateful shapers `meanstd`/`clip`/`minmax`, credit methods with
 * running state such as LaRe): the order batches reach workers is not the file's order, so such
 * specs are refused in `--queue` mode ({@link queueRefusal}).
 *
 * The spec travels with every job as the text of the spec file plus the file's absolute path and
 * folder: the worker validates and compiles that text, and resolves the files the spec names
 * (`grader: module`/`python` files, reference data) against that folder on its own machine — so
 * workers on other machines need the spec's folder at the same path (a shared filesystem or the same
 * checkout); specs naming no files need nothing.
 */

/** The BullMQ queue every `score --queue` run and every worker uses (jobs carry their run's id). */
export const QUEUE_NAME = 'rewardkit-score';

/** What a chunk's job carries. */
export interface ChunkJobData {
  run: string;
  index: number;
  spec: { text: string; path: string; dir: string; hash: string };
  details: boolean;
  /** The chunk's input lines, in file order (valid rollouts: the submitter validated them). */
  lines: string[];
}

/** What a worker returns for a chunk: the scored lines and the batch's columns for the summary. */
export interface ChunkResult {
  /** Output lines joined with `\n`, one per input line, same order. */
  text: string;
  rollouts: number;
  withErrors: number;
  graderErrors: number;
  columns: EncodedColumns;
}

/** {@link BatchColumns} as JSON: typed arrays as base64 of their bytes (NaN survives), maps as entry lists. */
export interface EncodedColumns {
  components: string[];
  rewards: string;
  advantages: string | null;
  groupOf: string;
  groupCount: number;
  groupKeys: string[];
  charLengths: string;
  tokenLengths: string;
  nullCounts: string;
  errorCounts: string;
  nullReasons: [string, number][][];
}

const b64 = (a: Float64Array | Int32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function f64(s: string): Float64Array {
  const b = Buffer.from(s, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function i32(s: string): Int32Array {
  const b = Buffer.from(s, 'base64');
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Encodes a batch's columns for a job result. Step-credit tallies are not carried (see {@link queueRefusal}). */
export function encodeColumns(c: BatchColumns): EncodedColumns {
  return {
    components: c.components.map(b64),
    rewards: b64(c.rewards),
    advantages: c.advantages ? b64(c.advantages) : null,
    groupOf: b64(c.groupOf),
    groupCount: c.groupCount,
    groupKeys: c.groupKeys,
    charLengths: b64(c.charLengths),
    tokenLengths: b64(c.tokenLengths),
    nullCounts: b64(c.nullCounts),
    errorCounts: b64(c.errorCounts),
    nullReasons: c.nullReasons.map((m) => [...m.entries()]),
  };
}

/** Inverse of {@link encodeColumns}. */
export function decodeColumns(e: EncodedColumns): BatchColumns {
  return {
    components: e.components.map(f64),
    rewards: f64(e.rewards),
    advantages: e.advantages === null ? null : f64(e.advantages),
    groupOf: i32(e.groupOf),
    groupCount: e.groupCount,
    groupKeys: e.groupKeys,
    charLengths: f64(e.charLengths),
    tokenLengths: f64(e.tokenLengths),
    nullCounts: i32(e.nullCounts),
    errorCounts: i32(e.errorCounts),
    nullReasons: e.nullReasons.map((l) => new Map(l)),
  };
}

/**
 * Why a compiled spec cannot be scored in `--queue` mode, or null: state carried across batches
 * (stateful shapers, credit methods with running state, step-level credit whose tallies the summary
 * would lose) depends on the order batches are scored in, which workers do not keep.
 */
export function queueRefusal(compiled: CompiledSpec): string | null {
  const stateful = (compiled.spec.shape ?? []).map((s, i) => ({ s, st: compiled.shapers?.save()[i] })).filter((x) => x.st !== null && x.st !== undefined);
  if (stateful.length > 0)
    return `spec "${compiled.spec.name}" has stateful shapers (${stateful.map((x) => (x.s as { type: string }).type).join(', ')}): their running statistics carry from one batch to the next in file order, which workers on a queue do not keep. Score it without --queue (one process), or drop the stateful shaper.`;
  if (compiled.credit) return `spec "${compiled.spec.name}" has step-level credit (credit:): --queue does not support it yet (credit state and step diagnostics are per process). Score it without --queue.`;
  return null;
}

/** Parses `redis://HOST:PORT/DB` (also `rediss://`) into a connection; a clear error for anything else. */
export function redisConnection(url: string, opts: { blocking: boolean }): Redis {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: "${url}" is not a URL (expected redis://HOST:PORT/DB)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: "${url}" is not a redis:// URL (expected redis://HOST:PORT/DB)`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--queue: database "${db}" in "${url}" is not a number`);
  return new Redis(url, {
    // Workers and blocking reads must wait through reconnections (BullMQ requires it); the submitter
    // fails fast instead and decides itself how long Redis may be away (--redis-timeout).
    maxRetriesPerRequest: opts.blocking ? null : 1,
    enableOfflineQueue: opts.blocking,
    retryStrategy: (n) => Math.min(100 * n, 1000),
    lazyConnect: false,
  });
}

/** The spec as a job carries it: text, absolute path and folder, and a hash the workers cache compiled specs by. */
export function specPayload(path: string, dir: string): ChunkJobData['spec'] {
  const text = readFileSync(path, 'utf8');
  return { text, path, dir, hash: createHash('sha256').update(dir).update('\0').update(text).digest('hex') };
}

/** A failure of the queue run: printed with the resume command, exit 1. */
export class QueueRunError extends Error {
  override name = 'QueueRunError';
}

export interface SubmitOptions {
  url: string;
  spec: { path: string; dir: string };
  details: boolean;
  /** Chunks enqueued but not yet written (in flight plus waiting in the reorder buffer). */
  window: number;
  /** Seconds Redis may be unreachable before the run fails. */
  redisTimeout: number;
  /** Input file (for the ETA: its size against the bytes written), or '-'. */
  input: string;
  /** Set when a signal stops the run: no more chunks are enqueued; what is written stays. */
  stopped: () => boolean;
  /** Resolves (to null) when a signal arrives, so waits end. */
  untilSignal: <T>(p: Promise<T>) => Promise<T | null>;
  /** Writes one chunk's output, in input order. */
  write: (text: string, columns: BatchColumns, withErrors: number, graderErrors: number) => Promise<void>;
  /** Progress: rollouts written this run, a suffix with percentage/ETA/in-flight chunks. */
  progress: (written: number, suffix: string) => void;
  log: (s: string) => void;
}

interface Chunk {
  index: number;
  jobId: string;
  lines: string[];
  bytes: number;
}

/**
 * The submitter of `score --queue`: enqueues each batch of `batches` as a BullMQ job (at most
 * `window` chunks ahead of the next one to write: backpressure), polls the jobs of the chunks in
 * flight, and writes results in input order through a reorder buffer. A chunk is written once: a
 * result for a chunk already written or buffered (a job retried after its worker stalled) is
 * dropped. A job Redis no longer knows (Redis restarted without its data) is enqueued again from the
 * lines the submitter still holds. A failed job (its worker threw, or it stalled more than
 * `maxStalledCount` times), or Redis unreachable for `redisTimeout` seconds, stops the run with a
 * {@link QueueRunError}: the output written so far stays in `OUT.partial` for `--resume`.
 */
export async function submitChunks(batches: AsyncIterable<RolloutBatch>, o: SubmitOptions): Promise<void> {
  const conn = redisConnection(o.url, { blocking: false });
  const queue = new Queue<ChunkJobData>(QUEUE_NAME, { connection: conn });
  const run = randomUUID();
  const spec = specPayload(o.spec.path, o.spec.dir);
  const inflight = new Map<number, Chunk>();
  const ready = new Map<number, ChunkResult>();
  let enqueued = 0;
  let next = 0;
  let written = 0;
  let bytesWritten = 0;
  const started = Date.now();
  let size = 0;
  try {
    if (o.input !== '-' && !o.input.endsWith('.gz')) size = statSync(o.input).size;
  } catch {
    size = 0;
  }

  // Redis reachability: the run fails once Redis has been away for redisTimeout seconds.
  let downSince: number | null = null;
  let fail: ((e: Error) => void) | null = null;
  const failed = new Promise<never>((_, rej) => {
    fail = rej;
  });
  failed.catch(() => undefined);
  let failure: Error | null = null;
  const raise = (e: Error) => {
    if (!failure) {
      failure = e;
      fail!(e);
    }
  };
  let lastError = '';
  conn.on('error', (e: Error) => {
    lastError = e.message;
    downSince ??= Date.now();
  });
  // BullMQ prints connection errors of a queue without an 'error' listener; the watchdog reports them once.
  queue.on('error', (e: Error) => {
    lastError = e.message;
  });
  conn.on('close', () => {
    downSince ??= Date.now();
  });
  conn.on('ready', () => {
    downSince = null;
  });
  const watchdog = setInterval(() => {
    if (downSince !== null && Date.now() - downSince > o.redisTimeout * 1000)
      raise(new QueueRunError(`Redis at ${o.url} unreachable for ${o.redisTimeout} s (--redis-timeout${lastError ? `; last error: ${lastError}` : ''}); ${inflight.size} chunks were in flight`));
  }, 250);

  let wake: (() => void) | null = null;
  const nudge = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Waits for a result to arrive (or a poll round), a failure, or a signal. */
  const waitSome = async () => {
    await o.untilSignal(Promise.race([failed, new Promise<void>((r) => (wake = r))]));
  };
  /** Runs one Redis call, failing the run if Redis is gone for too long. Retries while Redis is down. */
  const redis = async <T>(f: () => Promise<T>): Promise<T> => {
    for (;;) {
      if (failure) throw failure;
      try {
        return await Promise.race([f(), failed]);
      } catch (e) {
        if (failure) throw failure;
        if (e instanceof QueueRunError) throw e;
        // Redis answered with an error (not a lost connection): no use retrying.
        const msg = (e as Error).message ?? String(e);
        // ioredis fails a command sent while it reconnects with MaxRetriesPerRequestError ("Reached the
        // max retries per request limit"): that is a lost connection too, not an answer.
        const lost = (e as Error).name === 'MaxRetriesPerRequestError' || /connect|connection|stream|closed|writeable|ECONN|EPIPE|ETIMEDOUT|timeout|reconnect|LOADING|max retries per request/i.test(msg);
        if (!lost) throw new QueueRunError(`Redis at ${o.url}: ${msg}`);
        downSince ??= Date.now();
        await Promise.race([new Promise((r) => setTimeout(r, 200)), failed]);
      }
    }
  };

  const add = (c: Chunk) =>
    redis(() =>
      queue.add(
        'chunk',
        { run, index: c.index, spec, details: o.details, lines: c.lines },
        // Results wait for the submitter, which removes them; those of a submitter that died go after a day.
        { jobId: c.jobId, attempts: 1, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 86_400 } },
      ),
    );

  /** Flushes the reorder buffer: every result from `next` on that has arrived, in order. */
  const flush = async () => {
    for (let r = ready.get(next); r !== undefined; r = ready.get(next)) {
      ready.delete(next);
      const chunk = inflight.get(next);
      inflight.delete(next);
      await o.write(r.text.length > 0 ? r.text + '\n' : '', decodeColumns(r.columns), r.withErrors, r.graderErrors);
      written += r.rollouts;
      bytesWritten += chunk?.bytes ?? 0;
      next++;
    }
  };

  const eta = () => {
    const secs = (Date.now() - started) / 1000;
    const parts: string[] = [];
    if (size > 0 && bytesWritten > 0) {
      const frac = Math.min(bytesWritten / size, 1);
      const left = (secs * (size - bytesWritten)) / bytesWritten;
      parts.push(`${(frac * 100).toFixed(1)}%`, `ETA ${left < 90 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`}`);
    }
    parts.push(`${inflight.size} chunks in flight`);
    return parts.join(' · ');
  };

  /** One poll round over the chunks in flight (not yet received). */
  let polling = false;
  const poll = async () => {
    if (polling || failure) return;
    polling = true;
    try {
      const pending = [...inflight.values()].filter((c) => !ready.has(c.index));
      const states = await Promise.all(pending.map((c) => queue.getJobState(c.jobId)));
      for (let k = 0; k < pending.length; k++) {
        const c = pending[k]!;
        const st = states[k]!;
        if (st === 'completed') {
          // The return value alone (the job's hash also holds its input lines: no need to fetch them back).
          const value = await conn.hget(queue.toKey(c.jobId), 'returnvalue');
          const res = value ? (JSON.parse(value) as ChunkResult) : undefined;
          if (!res || typeof res.text !== 'string') throw new QueueRunError(`chunk ${c.index}: its job completed without a result (a worker of another version?)`);
          // A result for a chunk written or buffered already (a retried job) is dropped: each chunk once.
          if (c.index >= next && !ready.has(c.index) && inflight.has(c.index)) ready.set(c.index, res);
          await queue.remove(c.jobId).catch(() => undefined);
        } else if (st === 'failed') {
          const job = await Job.fromId(queue, c.jobId);
          throw new QueueRunError(`chunk ${c.index} (rollouts from input line of id "${firstId(c.lines[0])}") failed on a worker: ${job?.failedReason ?? 'unknown reason'}`);
        } else if (st === 'unknown') {
          // Redis lost the job (restarted without its data): enqueue it again from the lines held here.
          o.log(`warning: the job of chunk ${c.index} is gone from Redis (restarted without persistence?); enqueued again`);
          await add(c);
        }
      }
    } catch (e) {
      if (e instanceof QueueRunError) raise(e);
      else downSince ??= Date.now();
    } finally {
      polling = false;
      nudge();
    }
  };
  const poller = setInterval(() => void poll(), 100);

  let readerError: unknown;
  try {
    await redis(() => conn.ping());
    const it = batches[Symbol.asyncIterator]();
    for (;;) {
      while (enqueued - next >= o.window && !o.stopped()) {
        await waitSome();
        if (failure) throw failure;
        await flush();
        o.progress(written, eta());
      }
      if (o.stopped()) break;
      let got: IteratorResult<RolloutBatch> | null;
      try {
        got = await o.untilSignal(Promise.race([it.next(), failed]));
      } catch (e) {
        if (e === failure) throw e;
        // The reader stopped (a --strict bad line, a broken .gz): the chunks before it are written first, as without --queue.
        readerError = e;
        break;
      }
      if (got === null || o.stopped()) break;
      if (got.done) break;
      const { lines } = got.value;
      let bytes = 0;
      for (const l of lines) bytes += Buffer.byteLength(l) + 1;
      const chunk: Chunk = { index: enqueued, jobId: `${run}-${enqueued}`, lines, bytes };
      inflight.set(chunk.index, chunk);
      enqueued++;
      await add(chunk);
      await flush();
      o.progress(written, eta());
    }
    while (next < enqueued && !o.stopped()) {
      await waitSome();
      if (failure) throw failure;
      await flush();
      o.progress(written, eta());
    }
    await flush();
    if (readerError !== undefined && !o.stopped()) throw readerError;
  } finally {
    clearInterval(poller);
    clearInterval(watchdog);
    // Jobs of chunks not written are of no use to anyone: remove them (best effort, Redis may be gone).
    if (inflight.size > 0 && downSince === null)
      await Promise.race([
        Promise.allSettled([...inflight.values()].map((c) => queue.remove(c.jobId))),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
    await Promise.race([queue.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    conn.disconnect();
  }
}

function firstId(line: string | undefined): string {
  try {
    return String((JSON.parse(line ?? '{}') as { id?: unknown }).id ?? '?');
  } catch {
    return '?';
  }
}

export { UnrecoverableError };
