import type { CompiledSpec } from '../spec/compile.js';
import type { GradeOutput, Grader } from '../graders/types.js';

/** Most grader calls between two clock reads (reached only while calls are cheap). */
const MAX_STRIDE = 8;

/**
 * Time-sliced grading on the event loop, so one request's CPU-heavy graders cannot hold up
 * `/healthz` or other requests beyond a bounded slice.
 *
 * The pipeline calls a sync grader on every rollout of the batch in one synchronous loop. The
 * {@link Slicer} wraps each grader of a batch: while the batch has used less than `sliceMs` of the
 * event loop since it last yielded, a call goes straight to the grader (the fast path: no promise,
 * and a clock read every few calls while they are cheap). Past the slice, this call and every later one of the batch (all
 * components, steps included) become promises run one after the other, with a `setImmediate` yield
 * whenever another `sliceMs` has passed — so other requests, timers (the request's deadline) and
 * `/healthz` run between them. A grader's sync part never runs concurrently with another's; an async
 * grader's I/O still overlaps (the chain waits for a call to start, not to finish).
 *
 * Once `signal` aborts (the request's deadline passed), calls not yet started fail at once with an
 * error naming the reason instead of grading: the batch ends quickly, its results are discarded, and
 * the server is free again. Scores, details and error messages are the same as unsliced otherwise.
 *
 * Bound: the event loop is held for at most `sliceMs` plus one grader call — plus up to
 * {@link MAX_STRIDE} calls when calls that were cheap suddenly become costly. A single call that
 * runs longer cannot be interrupted on the main thread; the pool engine bounds it by terminating
 * its worker at the deadline.
 */
export class Slicer {
  private deferred = false;
  private chain: Promise<unknown> = Promise.resolve();
  private sliceStart = performance.now();
  /** Clock reads are spaced `stride` calls apart (1 to {@link MAX_STRIDE}); `countdown` calls remain until the next. */
  private stride = 1;
  private countdown = 1;
  private lastCheck = this.sliceStart;

  constructor(
    private readonly sliceMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  private abortError(): Error {
    const r: unknown = this.signal?.reason;
    return new Error(r instanceof Error ? r.message : typeof r === 'string' ? r : 'scoring was cancelled');
  }

  /**
   * Whether the next call must be deferred (the slice is used up, or the signal aborted). Reading the
   * clock costs more than a cheap grader call on some hosts, so it is read every `stride` calls: the
   * stride doubles (up to {@link MAX_STRIDE}) while the calls between two reads took under an eighth
   * of the slice together, and drops to 1 as soon as they did not.
   */
  private due(): boolean {
    if (--this.countdown > 0) return false;
    const now = performance.now();
    this.stride = now - this.lastCheck < this.sliceMs / 8 ? Math.min(this.stride * 2, MAX_STRIDE) : 1;
    this.countdown = this.stride;
    this.lastCheck = now;
    if (now - this.sliceStart < this.sliceMs && !this.signal?.aborted) return false;
    this.deferred = true;
    return true;
  }

  /** Runs `call` behind the batch's earlier deferred calls, after a yield when a slice has passed. */
  private defer<T>(call: () => T): Promise<Awaited<T>> {
    // The result is boxed so the chain waits for the call to start, not for an async grader to finish.
    const started = this.chain.then(async () => {
      if (performance.now() - this.sliceStart >= this.sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.sliceStart = performance.now();
      }
      if (this.signal?.aborted) throw this.abortError();
      return { out: call() };
    });
    this.chain = started.then(
      () => undefined,
      () => undefined,
    );
    return started.then((box) => box.out as Awaited<T>);
  }

  /** The grader with every call going through the slicer: straight to the grader within the slice, deferred after. */
  wrap(g: Grader): Grader {
    if (g.scope === 'rollout')
      return { scope: 'rollout', grade: (s) => (this.deferred || this.due() ? (this.defer(() => g.grade(s)) as Promise<GradeOutput>) : g.grade(s)) };
    return { scope: 'group', gradeGroup: (ss) => (this.deferred || this.due() ? (this.defer(() => g.gradeGroup(ss)) as Promise<GradeOutput[]>) : g.gradeGroup(ss)) };
  }

  /** A copy of the compiled spec whose graders (step graders included) go through this slicer. */
  spec(compiled: CompiledSpec): CompiledSpec {
    return {
      ...compiled,
      graders: compiled.graders.map((g) => this.wrap(g)),
      steps: compiled.steps ? { ...compiled.steps, graders: compiled.steps.graders.map((g) => this.wrap(g)) } : null,
    };
  }
}
