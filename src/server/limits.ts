import { HttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';

/**
 * Backpressure: bounded counts of scoring requests and rollouts in flight. Over a bound, a request
 * is answered 429 at once (with `Retry-After`) instead of waiting in an unbounded queue; while the
 * server shuts down, 503.
 */
export class InflightLimiter {
  private requests = 0;
  private rollouts = 0;
  private closing = false;

  constructor(
    private readonly maxRequests: number,
    private readonly maxRollouts: number,
    private readonly metrics: ServerMetrics,
  ) {}

  /** Requests currently admitted. */
  get inflightRequests(): number {
    return this.requests;
  }

  /** Rollouts currently being scored. */
  get inflightRollouts(): number {
    return this.rollouts;
  }

  /** From now on every new request gets 503. */
  startClosing(): void {
    this.closing = true;
  }

  /** Admits a request (before its body is read) and returns its release function; throws 429/503. */
  admitRequest(): () => void {
    if (this.closing) {
      this.metrics.rejected.inc({ reason: 'shutting_down' });
      throw new HttpError(503, 'server is shutting down', '', { 'retry-after': '5', connection: 'close' });
    }
    if (this.requests >= this.maxRequests) {
      this.metrics.rejected.inc({ reason: 'busy' });
      throw new HttpError(429, `server busy: ${this.requests} requests in flight (limit ${this.maxRequests}); retry later`, '', { 'retry-after': '1' });
    }
    this.requests++;
    this.metrics.inflightRequests.set(this.requests);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.requests--;
      this.metrics.inflightRequests.set(this.requests);
    };
  }

  /**
   * Reserves `n` rollouts of scoring capacity and returns the release function; throws 429 when the
   * reservation would pass the bound (a batch alone is always admitted when nothing else is running).
   */
  reserveRollouts(n: number): () => void {
    if (this.rollouts > 0 && this.rollouts + n > this.maxRollouts) {
      this.metrics.rejected.inc({ reason: 'busy' });
      throw new HttpError(429, `server busy: ${this.rollouts} rollouts being scored (limit ${this.maxRollouts}); retry later`, 'rollouts', { 'retry-after': '1' });
    }
    this.rollouts += n;
    this.metrics.inflightRollouts.set(this.rollouts);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.rollouts -= n;
      this.metrics.inflightRollouts.set(this.rollouts);
    };
  }
}

/**
 * Resolves with `work`, or rejects with 503 once `ms` pass, naming the deadline. `abort` (when
 * given) is aborted at the same moment with that message as its reason, so the engine stops the
 * work it can: sliced inline grading fails its calls not yet started, the pool terminates the
 * workers running the request's tasks. `onSettled` runs when the work really ends, so capacity
 * stays reserved until then.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, metrics: ServerMetrics, onSettled: () => void, abort?: AbortController): Promise<T> {
  work.then(onSettled, onSettled);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      metrics.rejected.inc({ reason: 'deadline' });
      const message = `scoring did not finish within the ${ms} ms deadline`;
      // Reject first: aborting may make the work reject at once, and the 503 must win the race.
      reject(new HttpError(503, message, ''));
      abort?.abort(new Error(message));
    }, ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
