import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { HttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';

/**
 * Admission by capacity, not by count. Trainers burst: OpenRLHF's per-sample client sends one
 * request per sample (8,000 at once), verl's Sandbox Fusion client keeps 100 programs in flight,
 * and none of them retries a 429. So a trainer-facing request is never turned away because other
 * requests are running: it waits its turn in a bounded FIFO queue, and only when the queue cannot
 * hold it (too many bytes or rollouts held) or its wait passes the queue's deadline does it get an
 * answer it can retry — 503 with `Retry-After` (504 on `/run_code`, the one status verl's client
 * retries).
 *
 * - {@link ByteBudget}: body bytes of the trainer requests the server holds (from `Content-Length`
 *   when the request arrives, before its body is read; the body's length for chunked bodies).
 * - {@link AdmissionLane}: a FIFO of requests waiting to be scored. At most `maxRunning` of them are
 *   scored at once; the others wait in arrival order, bounded by the rollouts they hold and by
 *   the wait deadline. Each request takes one run slot however many rollouts it has (the service
 *   scores large requests in chunks of whole groups).
 *
 * `/healthz` and `/metrics` never enter the queue.
 */

/** Sizes the queue is bounded by; see {@link defaultCapacity}. */
export interface Capacity {
  /** Bytes of request bodies held (queued, being read or being scored). */
  queueBytes: number;
  /** Rollouts held by requests that are queued or being scored. */
  queueRollouts: number;
  /** Largest single request body, bytes. */
  bodyLimit: number;
}

/** The most characters V8 holds in one string (2^29 − 24): fastify reads a body as one string. */
export const MAX_STRING_BYTES = 2 ** 29 - 24;
/** Default largest body: 480 MiB (see {@link defaultCapacity}). */
export const DEFAULT_BODY_LIMIT = 480 * 1024 * 1024;
/** Heap bytes one queued rollout costs beyond its text, for the rollout bound (objects, results). */
export const BYTES_PER_QUEUED_ROLLOUT = 2048;

/**
 * Default queue bounds, sized from memory:
 * - `queueBytes` = min(total memory / 8, V8 heap limit / 4): a parsed body costs about as much heap
 *   again as its text, and results about as much once more, so held bodies stay near half the heap;
 * - `bodyLimit` = min(480 MiB, `queueBytes`, the V8 string limit). 480 MiB holds a 20,000-query
 *   OpenRLHF batch with long texts: each query carries a 2,000-character prompt and a 16,000-character
 *   response (about 4,000 tokens) as `query` (prompt + response, 18,000) and `prompts` (2,000), i.e.
 *   ~20 KB of JSON per query, ~400 MB for 20,000 (ASCII; `json.dumps` escapes the rest);
 * - `queueRollouts` = `queueBytes` / 2 KiB, at least 32,768: short rollouts are bounded by their
 *   count (each costs objects and a result beyond its text).
 *
 * On a 24 GB machine with Node's default heap (~4 GB): 1 GiB of bodies, 524,288 rollouts, 480 MiB per body.
 */
export function defaultCapacity(total = totalmem(), heapLimit = getHeapStatistics().heap_size_limit): Capacity {
  const queueBytes = Math.max(64 * 1024 * 1024, Math.floor(Math.min(total / 8, heapLimit / 4)));
  return {
    queueBytes,
    queueRollouts: Math.max(32_768, Math.floor(queueBytes / BYTES_PER_QUEUED_ROLLOUT)),
    bodyLimit: Math.min(DEFAULT_BODY_LIMIT, queueBytes, MAX_STRING_BYTES),
  };
}

/** Whether new requests are still taken (false once the server closes). */
export interface Gate {
  closing: boolean;
}

function shuttingDown(metrics: ServerMetrics): HttpError {
  metrics.rejected.inc({ reason: 'shutting_down' });
  return new HttpError(503, 'server is shutting down', '', { 'retry-after': '5', connection: 'close' });
}

/** Bytes of trainer-request bodies held, bounded; over the bound a request gets 503 before its body is read. */
export class ByteBudget {
  private held = 0;
  private requests = 0;

  constructor(
    readonly max: number,
    private readonly metrics: ServerMetrics,
    private readonly gate: Gate,
    /** Seconds suggested in `Retry-After` when full. */
    private readonly retryAfter: () => number,
  ) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  /** Trainer requests admitted and not yet answered (queued, being read or being scored). */
  get inflightRequests(): number {
    return this.requests;
  }

  /**
   * Admits a request holding `bytes` (its `Content-Length`, 0 when unknown) and returns the release
   * function. Throws 503 while shutting down, or when the bytes do not fit (a request alone is
   * always admitted when nothing else is held: the body limit bounds it).
   */
  admit(bytes: number, status: 503 | 504 = 503): { release(): void; add(more: number): void } {
    if (this.gate.closing) throw shuttingDown(this.metrics);
    this.take(bytes, status);
    this.requests++;
    this.metrics.inflightRequests.set(this.requests);
    let mine = bytes;
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        this.held -= mine;
        this.requests--;
        this.metrics.inflightRequests.set(this.requests);
        this.metrics.queueBytes.set(this.held);
      },
      // A chunked body, counted once read.
      add: (more: number) => {
        if (done || more <= 0) return;
        this.take(more, status);
        mine += more;
      },
    };
  }

  private take(bytes: number, status: 503 | 504): void {
    if (bytes > 0 && this.held > 0 && this.held + bytes > this.max) {
      this.metrics.rejected.inc({ reason: 'queue_full' });
      throw new HttpError(status, `server queue full: ${this.held} bytes of requests held (capacity ${this.max}); retry later`, '', { 'retry-after': String(this.retryAfter()) });
    }
    this.held += bytes;
    this.metrics.queueBytes.set(this.held);
  }
}

/** Settings of one {@link AdmissionLane}. */
export interface LaneOptions {
  /** Label in metrics (`score`, `sandbox`). */
  name: string;
  /** Requests processed at once; the rest wait in order. A function when it follows a setting that may change (the sandbox's concurrency). */
  maxRunning: number | (() => number);
  /** Rollouts held (waiting + running) beyond which a new request is refused. Shared between lanes. */
  rollouts: RolloutBudget;
  /** Longest wait in the queue, ms, before the request is answered `status`. */
  waitMs: number;
  /** Status for a full queue or a passed wait deadline: 503, or 504 for verl's Sandbox Fusion client. */
  status: 503 | 504;
}

/** Rollouts held by queued and running requests, shared by the lanes. */
export class RolloutBudget {
  held = 0;
  constructor(
    readonly max: number,
    private readonly metrics: ServerMetrics,
  ) {}
  /** Whether `n` more fit (a request alone always fits). */
  fits(n: number): boolean {
    return this.held === 0 || this.held + n <= this.max;
  }
  add(n: number): void {
    this.held += n;
    this.metrics.queueRollouts.set(this.held);
  }
}

interface Waiter {
  n: number;
  since: number;
  start: (release: () => void) => void;
  fail: (e: HttpError) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A FIFO queue in front of scoring: {@link enter} resolves when the request may run (in arrival
 * order, at most `maxRunning` at once) and returns the release function; it rejects with 503/504
 * (`Retry-After` set) when the rollouts would not fit or when the wait passes `waitMs`.
 */
export class AdmissionLane {
  private running = 0;
  private runningRollouts = 0;
  private readonly waiting: Waiter[] = [];
  /** Moving average of a request's time holding its run slot, ms (for `Retry-After`). */
  private serviceMs = 0;

  constructor(
    readonly o: LaneOptions,
    private readonly metrics: ServerMetrics,
  ) {
    this.gauges();
  }

  /** Run slots now. */
  get slots(): number {
    const m = this.o.maxRunning;
    return Math.max(1, typeof m === 'function' ? m() : m);
  }

  /** Requests waiting for a run slot. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Requests holding a run slot. */
  get active(): number {
    return this.running;
  }

  /** Seconds a new request would likely wait: queue depth × average service time ÷ run slots, in [1, 60]. */
  retryAfter(): number {
    const s = ((this.waiting.length + 1) * Math.max(this.serviceMs, 1)) / this.slots / 1000;
    return Math.min(60, Math.max(1, Math.ceil(s)));
  }

  /**
   * Waits for a run slot for a request of `n` rollouts; resolves with the release function (call it
   * once the request's work has really ended). Throws 503/504 when full or past the wait deadline.
   * A request admitted before the server started closing still enters: a graceful close finishes
   * the requests it accepted, queued ones included. `gone` aborts when the client has closed its
   * connection: a waiting request then leaves the queue at once (its client is no longer listening;
   * a trainer that timed out and retries must not have its old request scored as well).
   */
  enter(n: number, waitMs = this.o.waitMs, gone?: AbortSignal | null): Promise<() => void> {
    if (gone?.aborted) return Promise.reject(this.leave());
    if (!this.o.rollouts.fits(n)) {
      this.metrics.rejected.inc({ reason: 'queue_full' });
      return Promise.reject(
        new HttpError(this.o.status, `server queue full: ${this.o.rollouts.held} rollouts held (capacity ${this.o.rollouts.max}); retry later`, '', { 'retry-after': String(this.retryAfter()) }),
      );
    }
    this.o.rollouts.add(n);
    return new Promise<() => void>((resolve, reject) => {
      const w: Waiter = {
        n,
        since: performance.now(),
        start: resolve,
        fail: reject,
        timer: undefined,
      };
      this.waiting.push(w);
      this.gauges();
      this.drain();
      // Still waiting iff still last: drain serves from the front, so serving w emptied the queue.
      if (this.waiting[this.waiting.length - 1] === w) {
        w.timer = setTimeout(() => this.expire(w, waitMs), waitMs);
        w.timer.unref();
        gone?.addEventListener(
          'abort',
          () => {
            if (!this.remove(w)) return;
            w.fail(this.leave());
          },
          { once: true },
        );
      }
    });
  }

  /** The error for a request whose client went away (nobody reads it; counted in metrics). */
  private leave(): HttpError {
    this.metrics.rejected.inc({ reason: 'client_gone' });
    return new HttpError(503, 'the client closed the connection while the request waited in the queue', '');
  }

  /** Takes a waiter out of the queue (false when it already left: started, expired or gone). */
  private remove(w: Waiter): boolean {
    const at = this.waiting.indexOf(w);
    if (at < 0) return false;
    this.waiting.splice(at, 1);
    if (w.timer) clearTimeout(w.timer);
    this.o.rollouts.add(-w.n);
    this.gauges();
    return true;
  }

  private expire(w: Waiter, waitMs: number): void {
    const at = this.waiting.indexOf(w);
    if (!this.remove(w)) return;
    this.metrics.rejected.inc({ reason: 'queue_timeout' });
    this.metrics.queueWait.observe({ lane: this.o.name }, waitMs / 1000);
    w.fail(
      new HttpError(this.o.status, `waited ${waitMs / 1000} s in the queue behind ${at} requests without a free slot (${this.slots} run at once); retry later`, '', {
        'retry-after': String(this.retryAfter()),
      }),
    );
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.running < this.slots) {
      const w = this.waiting.shift()!;
      if (w.timer) clearTimeout(w.timer);
      this.running++;
      this.runningRollouts += w.n;
      const started = performance.now();
      this.metrics.queueWait.observe({ lane: this.o.name }, (started - w.since) / 1000);
      let done = false;
      w.start(() => {
        if (done) return;
        done = true;
        this.running--;
        this.runningRollouts -= w.n;
        this.o.rollouts.add(-w.n);
        const ms = performance.now() - started;
        this.serviceMs = this.serviceMs === 0 ? ms : 0.9 * this.serviceMs + 0.1 * ms;
        this.gauges();
        this.drain();
      });
    }
    this.gauges();
  }

  private gauges(): void {
    this.metrics.queueWaiting.set({ lane: this.o.name }, this.waiting.length);
    this.metrics.queueRunning.set({ lane: this.o.name }, this.running);
    if (this.o.name === 'score') this.metrics.inflightRollouts.set(this.runningRollouts);
  }
}

/**
 * The server's admission: the byte budget and one lane per kind of work — `score` (`/v1/score`,
 * `/get_reward`) and `sandbox` (`/run_code`, whose run slots match the sandbox's concurrency).
 */
export class Admission {
  readonly gate: Gate = { closing: false };
  readonly bytes: ByteBudget;
  readonly rollouts: RolloutBudget;
  readonly score: AdmissionLane;
  readonly sandbox: AdmissionLane;

  constructor(
    o: { capacity: Pick<Capacity, 'queueBytes' | 'queueRollouts'>; maxRunning: number; sandboxRunning: number | (() => number); waitMs: number; sandboxWaitMs: number },
    metrics: ServerMetrics,
  ) {
    this.rollouts = new RolloutBudget(o.capacity.queueRollouts, metrics);
    this.score = new AdmissionLane({ name: 'score', maxRunning: o.maxRunning, rollouts: this.rollouts, waitMs: o.waitMs, status: 503 }, metrics);
    this.sandbox = new AdmissionLane({ name: 'sandbox', maxRunning: o.sandboxRunning, rollouts: this.rollouts, waitMs: o.sandboxWaitMs, status: 504 }, metrics);
    this.bytes = new ByteBudget(o.capacity.queueBytes, metrics, this.gate, () => this.score.retryAfter());
  }

  /** From now on every new request gets 503; requests already admitted (queued or running) finish. */
  startClosing(): void {
    this.gate.closing = true;
  }
}

/**
 * Resolves with `work`, or rejects with 503 once `ms` pass, naming the deadline. `abort` (when
 * given) is aborted at the same moment with that message as its reason, so the engine stops the
 * work it can: sliced inline grading fails its calls not yet started, the pool terminates the
 * workers running the request's tasks. `onSettled` runs when the work really ends, so capacity
 * stays reserved until then.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, metrics: ServerMetrics, onSettled: () => void, abort?: AbortController, status = 503): Promise<T> {
  work.then(onSettled, onSettled);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      metrics.rejected.inc({ reason: 'deadline' });
      const message = `scoring did not finish within the ${ms} ms deadline`;
      // Reject first: aborting may make the work reject at once, and the 503 must win the race.
      reject(new HttpError(status, message, ''));
      abort?.abort(new Error(message));
    }, ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
