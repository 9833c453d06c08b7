/**
 * Wraps a {@link Transport} into the {@link Backend} that graders use: a concurrency limit, retries with
 * exponential backoff and full jitter, a per-attempt timeout and an overall per-operation deadline, the
 * persistent response cache with coalescing of identical requests in flight, output validation, and
 * counters.
 *
 * The order of one operation: cache lookup (answered at once on a hit) → join an identical request
 * already in flight, if any → wait for a slot of the concurrency limit → attempts, each bounded by
 * `timeout_ms`, separated by backoff sleeps, all bounded by the deadline → validate → store. The
 * deadline clock starts when the operation gets its slot: time spent queued behind other operations
 * does not count, since every operation holding a slot is itself bounded by its deadline, so the
 * queue always moves. The slot is held through backoff sleeps, so a rate-limited server sees fewer
 * requests rather than the same number re-queued.
 */
import { cacheKey, type ResponseCache } from './cache.js';
import {
  BackendError,
  type Backend,
  type BackendOp,
  type BackendStats,
  type ChatRequest,
  type ChatResponse,
  type LogprobRequest,
  type LogprobResponse,
  type RewardInput,
  type Transport,
  type Usage,
} from './types.js';

/** Options of {@link manage}. Durations in milliseconds. */
export interface ManageOptions {
  /** Operations holding a slot at once (each slot runs one model call at a time). Default 16. */
  concurrency?: number;
  /** Limit of one attempt; a slower call is aborted and retried. Default 60000. */
  timeout_ms?: number;
  /**
   * Limit of one operation from the moment it gets its slot, retries and backoff included. Default:
   * `timeout_ms × (retries + 1) + max_backoff_ms × retries`.
   */
  deadline_ms?: number;
  /** Retries after the first attempt, for retryable errors only. Default 4. */
  retries?: number;
  /** Base of the exponential backoff. Default 500. */
  backoff_ms?: number;
  /** Cap of one backoff sleep, a server's Retry-After included. Default 30000. */
  max_backoff_ms?: number;
  /** Texts (embed) or inputs (reward) sent in one call at most. Default 32. */
  batch_size?: number;
  /** The response cache, or null for none. Not closed by the backend's `close()`. */
  cache?: ResponseCache | null;
  /** Settings that change answers without changing requests; folded into every cache key. */
  cacheScope?: unknown;
  /** Strings that must never appear in an error message (API keys); replaced by `***`. */
  secrets?: readonly string[];
  /** Backoff sleep; tests replace it to record the delays. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform [0, 1) source of the jitter. */
  random?: () => number;
}

function emptyStats(): BackendStats {
  return { requests: 0, cache_hits: 0, calls: 0, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 };
}

/** A FIFO counting semaphore. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  acquire(): Promise<void> | undefined {
    if (this.active < this.limit) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next();
    } else this.active--;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The delay a server asked for in a retryable error, read from the `headers` of the error's cause
 * (`retry-after-ms`, or `retry-after` in seconds or as an HTTP date). Transports that talk HTTP put
 * `{ status, headers }` in the cause of a status error for this.
 *
 * @example
 * retryAfterMs(new BackendError('HTTP 429', { retryable: true, cause: { headers: new Headers({ 'retry-after': '2' }) } })) // → 2000
 */
export function retryAfterMs(err: BackendError): number | undefined {
  const headers = (err.opts.cause as { headers?: unknown } | undefined)?.headers;
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const v = (headers as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  };
  const ms = get('retry-after-ms');
  if (ms !== undefined && Number.isFinite(parseFloat(ms))) return Math.max(0, parseFloat(ms));
  const after = get('retry-after');
  if (after === undefined) return undefined;
  const seconds = Number(after.trim());
  if (after.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(after);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** The deadline's handles on an operation: whether it has passed, and how to end the attempt or sleep in progress. */
interface OpState {
  expired: boolean;
  cut?: (reason: Cutoff) => void;
  wake?: () => void;
}

/** Why an attempt or an operation was cut short (distinguished from a transport's own errors). */
class Cutoff extends Error {
  constructor(
    readonly kind: 'timeout' | 'deadline',
    readonly ms: number,
  ) {
    super(kind === 'timeout' ? `timed out after ${ms} ms` : `deadline of ${ms} ms exceeded`);
  }
}

function bad(message: string): BackendError {
  return new BackendError(`bad response: ${message}`, { retryable: false });
}

function checkUsage(u: unknown): Usage | undefined {
  if (u === undefined || u === null) return undefined;
  const usage = u as Usage;
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (typeof u !== 'object' || !ok(usage.prompt_tokens) || !ok(usage.completion_tokens)) throw bad(`usage is not {prompt_tokens, completion_tokens} of non-negative numbers: ${JSON.stringify(u)}`);
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens };
}

function checkChat(r: ChatResponse): ChatResponse {
  if (r === null || typeof r !== 'object' || typeof r.text !== 'string') throw bad('chat answer has no text');
  if (r.finish_reason !== undefined && typeof r.finish_reason !== 'string') throw bad('finish_reason is not a string');
  const out: ChatResponse = { text: r.text };
  if (r.finish_reason !== undefined) out.finish_reason = r.finish_reason;
  const usage = checkUsage(r.usage);
  if (usage) out.usage = usage;
  return out;
}

/** Log-probabilities this far above 0 are float noise of a log-softmax and read as 0; higher ones are an error. */
const LOGPROB_SLACK = 1e-4;

function checkLogprobs(r: LogprobResponse): LogprobResponse {
  if (r === null || typeof r !== 'object' || !Array.isArray(r.tokens) || !Array.isArray(r.logprobs)) throw bad('log-probs answer lacks tokens or logprobs arrays');
  if (r.tokens.length !== r.logprobs.length) throw bad(`${r.tokens.length} tokens but ${r.logprobs.length} log-probs`);
  if (r.tokens.some((t) => typeof t !== 'string')) throw bad('a token is not a string');
  const logprobs = r.logprobs.map((lp, i) => {
    if (typeof lp !== 'number' || !Number.isFinite(lp)) throw bad(`log-prob of token ${i} (${JSON.stringify(r.tokens[i])}) is ${JSON.stringify(lp)}, not a finite number`);
    if (lp > LOGPROB_SLACK) throw bad(`log-prob of token ${i} (${JSON.stringify(r.tokens[i])}) is ${lp} > 0`);
    return Math.min(lp, 0);
  });
  const out: LogprobResponse = { tokens: [...r.tokens], logprobs };
  const usage = checkUsage(r.usage);
  if (usage) out.usage = usage;
  return out;
}

function checkVectors(r: { vectors: number[][]; usage?: Usage }, n: number): { vectors: number[][]; usage?: Usage } {
  if (r === null || typeof r !== 'object' || !Array.isArray(r.vectors)) throw bad('embedding answer has no vectors');
  if (r.vectors.length !== n) throw bad(`${r.vectors.length} vectors for ${n} texts`);
  let dim = -1;
  r.vectors.forEach((v, i) => {
    if (!Array.isArray(v) || v.length === 0) throw bad(`vector ${i} is not a non-empty array`);
    if (dim >= 0 && v.length !== dim) throw bad(`vector ${i} has ${v.length} dimensions, vector 0 has ${dim}`);
    dim = v.length;
    for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`vector ${i} holds ${JSON.stringify(x)}, not a finite number`);
  });
  return { vectors: r.vectors, usage: checkUsage(r.usage) };
}

function checkScores(r: { scores: number[]; usage?: Usage }, n: number): { scores: number[]; usage?: Usage } {
  if (r === null || typeof r !== 'object' || !Array.isArray(r.scores)) throw bad('reward answer has no scores');
  if (r.scores.length !== n) throw bad(`${r.scores.length} scores for ${n} inputs`);
  r.scores.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`score ${i} is ${JSON.stringify(x)}, not a finite number`);
  });
  return { scores: r.scores, usage: checkUsage(r.usage) };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody joined is still reported to the operation that made the call.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Wraps `transport` into a {@link Backend} named `name` (see the module comment for the behaviour).
 * Every rejection is a {@link BackendError} whose message starts with the backend's name and the
 * operation, names the HTTP status when there was one, and never contains `options.secrets`.
 *
 * @example
 * const judge = manage('judge', createOpenAITransport(config), { concurrency: 32, cache: openCache() });
 * const { text } = await judge.chat({ messages: [{ role: 'user', content: 'Score: …' }] });
 */
export function manage(name: string, transport: Transport, options: ManageOptions = {}): Backend {
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeout_ms ?? 60_000;
  const retries = options.retries ?? 4;
  const backoffMs = options.backoff_ms ?? 500;
  const maxBackoffMs = options.max_backoff_ms ?? 30_000;
  const deadlineMs = options.deadline_ms ?? timeoutMs * (retries + 1) + maxBackoffMs * retries;
  const batchSize = options.batch_size ?? 32;
  const cache = options.cache ?? null;
  const secrets = options.secrets ?? [];
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  if (!(concurrency >= 1)) throw new Error(`manage(${name}): concurrency must be at least 1, got ${concurrency}`);
  if (!(batchSize >= 1)) throw new Error(`manage(${name}): batch_size must be at least 1, got ${batchSize}`);

  const limiter = new Limiter(concurrency);
  const inflight = new Map<string, Promise<unknown>>();
  let st = emptyStats();

  const key = (op: BackendOp, request: unknown) => cacheKey(transport.type, transport.model, op, request, options.cacheScope);

  function finalError(op: BackendOp, e: unknown, attempts: number): BackendError {
    const suffix = attempts > 1 ? ` (${attempts} attempts)` : '';
    if (e instanceof BackendError) {
      return new BackendError(scrub(`backend "${name}" ${op}: ${e.message}${suffix}`, secrets), {
        backend: name,
        op,
        status: e.status,
        retryable: e.retryable,
        cause: e,
      });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new BackendError(scrub(`backend "${name}" ${op}: ${msg}${suffix}`, secrets), { backend: name, op, retryable: false, cause: e });
  }

  function countUsage(u: Usage | undefined): void {
    if (!u) return;
    st.prompt_tokens += u.prompt_tokens;
    st.completion_tokens += u.completion_tokens;
  }

  /**
   * One attempt, bounded by `timeoutMs`, whether or not the transport listens to its signal. While it
   * runs, `state.cut` ends it early (the deadline uses it). One AbortController per attempt and none
   * per operation: constructing one costs several microseconds, a visible share of a cache-less call.
   */
  function attempt<T>(call: (signal: AbortSignal) => Promise<T>, state: OpState): Promise<T> {
    const ctl = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        state.cut = undefined;
      };
      const cut = (reason: Cutoff) => {
        if (settled) return;
        settle();
        ctl.abort(reason);
        reject(reason);
      };
      const timer = setTimeout(() => cut(new Cutoff('timeout', timeoutMs)), timeoutMs);
      state.cut = cut;
      let p: Promise<T>;
      try {
        p = call(ctl.signal);
      } catch (e) {
        settle();
        return reject(e);
      }
      p.then(
        (v) => {
          if (settled) return;
          settle();
          resolve(v);
        },
        (e: unknown) => {
          if (settled) return;
          settle();
          reject(e);
        },
      );
    });
  }

  /** Slot, attempts with retries and backoff, deadline; `check` validates (a failed check is not retried). */
  async function run<T>(op: BackendOp, call: (signal: AbortSignal) => Promise<T>, check: (r: T) => T): Promise<T> {
    const wait = limiter.acquire();
    if (wait) await wait;
    const state: OpState = { expired: false };
    const deadline = setTimeout(() => {
      state.expired = true;
      state.cut?.(new Cutoff('deadline', deadlineMs));
      state.wake?.();
    }, deadlineMs);
    const started = performance.now();
    let attempts = 0;
    let last: BackendError | undefined;
    const expiredError = () =>
      new BackendError(`deadline of ${deadlineMs} ms exceeded${last ? `; last error: ${last.message}` : ''}`, { retryable: false, status: last?.status, cause: last });
    try {
      for (;;) {
        if (state.expired) throw expiredError();
        attempts++;
        st.calls++;
        try {
          return check(await attempt(call, state));
        } catch (e) {
          if (state.expired) throw expiredError();
          const err = e instanceof Cutoff ? new BackendError(e.message, { retryable: true }) : e;
          if (!(err instanceof BackendError) || !err.retryable || attempts > retries) throw finalError(op, err, attempts);
          last = err;
          const asked = retryAfterMs(err);
          const delay = asked !== undefined ? Math.min(asked, maxBackoffMs) : random() * Math.min(maxBackoffMs, backoffMs * 2 ** (attempts - 1));
          const left = deadlineMs - (performance.now() - started);
          if (delay >= left) throw finalError(op, new BackendError(`${err.message}; no time left before the ${deadlineMs} ms deadline for another attempt`, { retryable: false, status: err.status, cause: err }), attempts);
          st.retries++;
          const sleeping = new AbortController();
          state.wake = () => sleeping.abort();
          try {
            await sleep(delay, sleeping.signal);
          } catch {
            // Only the deadline interrupts a sleep; the loop reports it.
          } finally {
            state.wake = undefined;
          }
        }
      }
    } catch (e) {
      throw e instanceof BackendError && e.opts.backend === name ? e : finalError(op, e, attempts);
    } finally {
      clearTimeout(deadline);
      limiter.release();
    }
  }

  function unsupported(op: BackendOp): BackendError {
    return new BackendError(`backend "${name}" (${transport.type}) does not offer ${op}`, { backend: name, op, retryable: false });
  }

  /** A one-request operation (chat, logprobs): cache, coalescing, then {@link run}. */
  async function single<Req, Res extends { usage?: Usage }>(
    op: BackendOp,
    req: Req,
    call: ((signal: AbortSignal) => Promise<Res>) | undefined,
    check: (r: Res) => Res,
  ): Promise<Res> {
    st.requests++;
    if (!call) {
      st.errors++;
      throw unsupported(op);
    }
    let k: string | undefined;
    if (cache) {
      try {
        k = key(op, req);
        // The SQLite cache answers at once; Redis (redis_cache.ts) with a promise.
        const got = cache.get(k);
        const hit = got instanceof Promise ? await got : got;
        if (hit !== undefined) {
          st.cache_hits++;
          return hit as Res;
        }
      } catch (e) {
        st.errors++;
        throw finalError(op, e, 0);
      }
      const joined = inflight.get(k);
      if (joined) {
        try {
          const r = structuredClone((await joined) as Res);
          st.cache_hits++;
          return r;
        } catch (e) {
          st.errors++;
          throw e;
        }
      }
    }
    const d = deferred<Res>();
    if (k !== undefined) inflight.set(k, d.promise);
    try {
      const r = await run(op, call, check);
      countUsage(r.usage);
      if (k !== undefined) cache!.set(k, r);
      d.resolve(r);
      return r;
    } catch (e) {
      st.errors++;
      const err = e instanceof BackendError ? e : finalError(op, e, 0);
      d.reject(err);
      throw err;
    } finally {
      if (k !== undefined) inflight.delete(k);
    }
  }

  /**
   * A batch operation (embed, reward): each item is cached and coalesced on its own; the items not
   * found are sent in calls of at most `batchSize`, which run concurrently under the limiter.
   */
  async function batch<Item, Out>(
    op: BackendOp,
    items: readonly Item[],
    call: ((chunk: Item[], signal: AbortSignal) => Promise<{ outs: Out[]; usage?: Usage }>) | undefined,
  ): Promise<Out[]> {
    st.requests++;
    if (!call) {
      st.errors++;
      throw unsupported(op);
    }
    if (items.length === 0) return [];
    const results = new Array<Out>(items.length);
    const pending: Promise<void>[] = [];
    const mine: { index: number; key?: string; d: Deferred<Out> }[] = [];
    let called = false;
    try {
      let keys: string[] | undefined;
      let hits: unknown[] | undefined;
      if (cache) {
        keys = items.map((item) => key(op, item));
        // One round trip for the whole batch (Redis: MGET).
        const got = cache.getMany(keys);
        hits = got instanceof Promise ? await got : got;
      }
      for (let i = 0; i < items.length; i++) {
        if (!cache) {
          mine.push({ index: i, d: deferred<Out>() });
          continue;
        }
        const k = keys![i]!;
        const hit = hits![i];
        if (hit !== undefined) {
          results[i] = hit as Out;
          continue;
        }
        const joined = inflight.get(k);
        if (joined) {
          pending.push(joined.then((v) => void (results[i] = structuredClone(v as Out))));
          continue;
        }
        const d = deferred<Out>();
        inflight.set(k, d.promise);
        mine.push({ index: i, key: k, d });
      }
    } catch (e) {
      st.errors++;
      const err = finalError(op, e, 0);
      for (const m of mine) {
        m.d.reject(err);
        if (m.key !== undefined) inflight.delete(m.key);
      }
      throw err;
    }
    for (let start = 0; start < mine.length; start += batchSize) {
      const chunk = mine.slice(start, start + batchSize);
      called = true;
      const p = run(
        op,
        async (signal) => call(chunk.map((m) => items[m.index]!), signal),
        (r) => r,
      ).then(
        (r) => {
          countUsage(r.usage);
          let storeError: unknown;
          chunk.forEach((m, j) => {
            const v = r.outs[j]!;
            results[m.index] = v;
            if (m.key !== undefined) {
              inflight.delete(m.key);
              if (storeError === undefined) {
                try {
                  cache!.set(m.key, v);
                } catch (e) {
                  storeError = e;
                }
              }
            }
            m.d.resolve(v);
          });
          if (storeError !== undefined) throw finalError(op, storeError, 0);
        },
        (e: unknown) => {
          const err = e instanceof BackendError ? e : finalError(op, e, 0);
          for (const m of chunk) {
            if (m.key !== undefined) inflight.delete(m.key);
            m.d.reject(err);
          }
          throw err;
        },
      );
      pending.push(p);
    }
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      st.errors++;
      throw failed.reason instanceof BackendError ? failed.reason : finalError(op, failed.reason, 0);
    }
    if (!called) st.cache_hits++;
    return results;
  }

  return {
    name,
    type: transport.type,
    model: transport.model,
    supports: (op) => typeof transport[op] === 'function',
    chat: (req: ChatRequest) => single('chat', req, transport.chat && ((s) => transport.chat!(req, s)), checkChat),
    logprobs: (req: LogprobRequest) => single('logprobs', req, transport.logprobs && ((s) => transport.logprobs!(req, s)), checkLogprobs),
    embed: (texts: string[]) =>
      batch<string, number[]>(
        'embed',
        texts,
        transport.embed &&
          (async (chunk, s) => {
            const r = checkVectors(await transport.embed!(chunk, s), chunk.length);
            return { outs: r.vectors, usage: r.usage };
          }),
      ),
    reward: (inputs: RewardInput[]) =>
      batch<RewardInput, number>(
        'reward',
        inputs,
        transport.reward &&
          (async (chunk, s) => {
            const r = checkScores(await transport.reward!(chunk, s), chunk.length);
            return { outs: r.scores, usage: r.usage };
          }),
      ),
    stats: () => ({ ...st }),
    resetStats: () => {
      st = emptyStats();
    },
    close: async () => {
      await transport.close?.();
    },
  };
}
