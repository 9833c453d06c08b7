/**
 * A cooperative time limit: long-running loops call {@link Deadline.check}, which throws
 * {@link MathTimeout} once the budget is spent. Works on any thread (no signals, no timers).
 */
export class MathTimeout extends Error {
  constructor(readonly ms: number) {
    super(`math verification exceeded ${ms} ms`);
    this.name = 'MathTimeout';
  }
}

/** A time budget started at construction; see {@link Deadline.check}. */
export class Deadline {
  private readonly at: number;
  private ticks = 0;

  constructor(readonly ms: number) {
    this.at = performance.now() + ms;
  }

  /** Throws {@link MathTimeout} when the deadline has passed (reads the clock every 32 calls). */
  check(): void {
    if ((++this.ticks & 31) === 0 && performance.now() > this.at) throw new MathTimeout(this.ms);
  }

  /** Milliseconds left (never negative). */
  remaining(): number {
    return Math.max(0, this.at - performance.now());
  }
}

/** A deadline that never fires, for callers that bound work some other way. */
export const NO_DEADLINE: Deadline = new Deadline(Number.POSITIVE_INFINITY);
