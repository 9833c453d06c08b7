import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { scoreBatch, type BatchResult, type ScoreOptions } from '../pipeline.js';
import type { Rollout } from '../rollout/types.js';
import { countReason } from '../diagnose/reasons.js';
import type { SpecEntry } from './specs.js';
import type { GradeTask, WorkerSpec } from './worker.js';
import { gradeOnly, gradeRollouts, groupPieces, replayPieces, type GradeReply } from './grading.js';
import { Slicer } from './slicer.js';

/**
 * Scoring engines: how a validated batch becomes a {@link BatchResult}.
 *
 * - `inline`: `scoreBatch` on the event loop — exactly what the CLI and the library run — with the
 *   graders time-sliced ({@link Slicer}): past a slice of the event loop, the batch yields between
 *   grader calls, so other requests and `/healthz` are served, and once the request's deadline
 *   passes the calls not yet started fail at once.
 * - `pool`: grading (the CPU-heavy part) runs in piscina worker threads. The batch is cut into
 *   slices of whole groups (group graders see whole groups); each worker compiled the same spec
 *   files at start-up and grades its slice; the main thread then runs `scoreBatch` once over the
 *   whole batch with graders that read the workers' values back. Combining, shaping (with its
 *   running statistics) and advantages therefore see the whole batch on one thread, and the
 *   results are identical to `inline` — same numbers, same error messages, same details. When the
 *   request's deadline passes, its tasks are aborted: queued ones leave the queue, running ones have
 *   their worker thread terminated (piscina starts a fresh one), so even a single grader call that
 *   would run for minutes stops at the deadline.
 */
export interface ScoringEngine {
  readonly mode: 'inline' | 'pool' | 'auto';
  /**
   * Scores one batch with one spec. `signal` aborts at the request's deadline: the engine stops
   * grading as soon as it can (the promise may then reject, or resolve with results nobody reads).
   */
  score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult>;
  /**
   * Grades one piece of whole groups without combining (see grading.ts): the service grades a request
   * larger than one scoring chunk piece by piece, then replays the values over the whole request.
   */
  grade(entry: SpecEntry, rollouts: Rollout[], details: boolean, signal?: AbortSignal): Promise<GradeReply>;
  /** Batches waiting for a worker (0 inline). */
  queueDepth(): number;
  /** Resolves once the engine can score (pool: every worker has compiled the specs). */
  ready(): Promise<void>;
  /** Stops the workers (after in-flight tasks). */
  close(): Promise<void>;
}

/** Scores on the event loop, graders time-sliced (see {@link Slicer}). */
export class InlineEngine implements ScoringEngine {
  readonly mode = 'inline' as const;
  /** @param sliceMs longest stretch of the event loop a batch's grading holds before yielding (plus one grader call). */
  constructor(private readonly sliceMs = 10) {}
  /** Runs the pipeline directly, graders sliced and stopped by `signal`. */
  score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult> {
    return scoreBatch(new Slicer(this.sliceMs, signal).spec(entry.compiled), rollouts, opts);
  }
  /** Grades on the event loop, sliced and stopped by `signal`. */
  grade(entry: SpecEntry, rollouts: Rollout[], details: boolean, signal?: AbortSignal): Promise<GradeReply> {
    return gradeRollouts(new Slicer(this.sliceMs, signal).spec(gradeOnly(entry.compiled)), rollouts, details);
  }
  /** Always 0: nothing queues. */
  queueDepth(): number {
    return 0;
  }
  /** Ready at once. */
  async ready(): Promise<void> {}
  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/**
 * Where the worker module is: the `.ts` source under tsx/vitest, the compiled `.js` in dist. Written
 * `../server/worker.js` so that it resolves to dist/server/worker.js from dist/server/ and from the CLI
 * bundle in dist/cli-bundle/ alike (scripts/bundle-cli.mjs; the worker itself is not bundled).
 */
function workerFile(): { filename: string; execArgv: string[] | undefined } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { filename: fileURLToPath(new URL('./worker.ts', here)), execArgv: ['--import', 'tsx'] };
  const js = fileURLToPath(new URL('../server/worker.js', here));
  if (!existsSync(js)) throw new Error(`worker module not found at ${js}`);
  return { filename: js, execArgv: undefined };
}

/** Grades in a piscina pool; see the module comment for why results equal inline scoring. */
export class PoolEngine implements ScoringEngine {
  readonly mode = 'pool' as const;
  private readonly pool: Piscina<GradeTask, GradeReply>;

  /**
   * Starts `workers` threads, each compiling the served specs (in {@link SpecEntry.index} order)
   * from the validated spec objects the server compiled. Batches of at least `2 × sliceSize`
   * rollouts are cut into up to `workers` slices.
   */
  constructor(
    entries: readonly SpecEntry[],
    private readonly workers: number,
    private readonly sliceSize = 128,
  ) {
    const { filename, execArgv } = workerFile();
    const specs: WorkerSpec[] = entries.map((e) => {
      try {
        return { spec: structuredClone(e.compiled.spec), source: e.compiled.source, specDir: dirname(e.file) };
      } catch {
        return { file: e.file };
      }
    });
    this.pool = new Piscina<GradeTask, GradeReply>({
      filename,
      execArgv,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 2 ** 31 - 1,
      workerData: { specs },
    });
  }

  /** Pings the workers (the initial threads take one ping each): resolves once they have compiled the specs, rejects with a start-up error. */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.workers }, () => this.pool.run({ spec: -1, rollouts: [], details: false })));
  }

  /** Grades a piece in the pool: cut into up to `workers` slices of whole groups when it has at least `2 × sliceSize` rollouts. */
  async grade(entry: SpecEntry, rollouts: Rollout[], details: boolean, signal?: AbortSignal): Promise<GradeReply> {
    const { slices, replies } = await this.gradeSlices(entry, rollouts, details, signal);
    if (slices.length === 1) return replies[0]!;
    // Reassemble the slices' replies in batch order.
    const n = rollouts.length;
    const K = entry.compiled.names.length;
    const out: GradeReply = { columns: Array.from({ length: K }, () => new Float64Array(n)), errors: new Array(K).fill(null), details: new Array(K).fill(null), reasons: Array.from({ length: K }, () => new Map()) };
    slices.forEach((idx, p) => {
      const rep = replies[p]!;
      for (let k = 0; k < K; k++) {
        const src = rep.columns[k]!;
        const dst = out.columns[k]!;
        for (let j = 0; j < idx.length; j++) dst[idx[j]!] = src[j]!;
        const e = rep.errors[k];
        if (e) for (const j in e) (out.errors[k] ??= {})[idx[Number(j)]!] = e[j]!;
        const d = rep.details[k];
        if (d) for (const j in d) (out.details[k] ??= {})[idx[Number(j)]!] = d[j]!;
        for (const [reason, count] of rep.reasons[k] ?? []) countReason(out.reasons[k]!, reason, count);
      }
    });
    return out;
  }

  private async gradeSlices(entry: SpecEntry, rollouts: Rollout[], details: boolean, signal?: AbortSignal): Promise<{ slices: number[][]; replies: GradeReply[] }> {
    const n = rollouts.length;
    const count = Math.min(this.workers, Math.floor(n / this.sliceSize));
    const slices = count <= 1 ? [rollouts.map((_, i) => i)] : groupPieces(rollouts, Math.ceil(n / count), count);
    const replies = await Promise.all(
      slices.map((idx) => this.pool.run({ spec: entry.index, rollouts: idx.length === n ? rollouts : idx.map((i) => rollouts[i]!), details }, { signal: signal ?? null })),
    );
    return { slices, replies };
  }

  /**
   * Grades the slices in the pool, then combines/shapes/estimates over the whole batch here. `signal`
   * aborts the slices' tasks (a running task's worker is terminated and replaced).
   */
  async score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult> {
    const { slices, replies } = await this.gradeSlices(entry, rollouts, opts.details === true, signal);
    return replayPieces(entry.compiled, rollouts, slices, replies, opts);
  }

  /** Tasks waiting for a free worker. */
  queueDepth(): number {
    return this.pool.queueSize;
  }

  /** Waits for running tasks, then stops the threads. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** What {@link AutoEngine} has measured of one spec. */
interface SpecCost {
  /** Batches scored inline so far (the first is warm-up, not measured). */
  inlineBatches: number;
  /** Moving average of the grading CPU time per rollout, ms (undefined until measured). */
  msPerRollout: number | undefined;
  /** Measured batches in a row over the budget. */
  heavyStreak: number;
  /** Batches routed to the pool (every `probeEvery`-th goes inline instead, to re-measure). */
  pooled: number;
}

/**
 * `auto`: each batch goes inline or to the pool by its expected grading time. The engine times the
 * batches it scores inline (after the spec's first, which pays for warm-up) and keeps, per spec, a
 * moving average of the CPU time per rollout; once three measured batches in a row were over budget, a batch
 * whose expected time (average × size) exceeds `budgetMs` — long enough to stall the event loop for
 * other requests — goes to the pool, anything smaller stays inline where it costs no copying. Every
 * `probeEvery`-th batch of a pooled spec is scored inline to refresh its average, so a spec whose
 * graders became cheap (warm caches) comes back. A batch that misses its deadline inline sends its
 * spec to the pool at once (the pool starts then), since only there can the deadline stop a single
 * long grader call. Results are identical either way (see {@link PoolEngine}). The CPU time of an
 * inline batch is measured over its whole span, so while it yields (see {@link Slicer}) other
 * requests' CPU time counts too: busy servers move heavy specs to the pool a little sooner.
 */
export class AutoEngine implements ScoringEngine {
  readonly mode = 'auto' as const;
  private readonly inline = new InlineEngine();
  /** Per spec index: what the engine has measured of the spec's cost. */
  private readonly costs = new Map<number, SpecCost>();
  private pool: ScoringEngine | null = null;
  private poolReady = false;
  private poolStart: Promise<void> | null = null;
  /** Batches scored in each place, for /metrics and tests. */
  readonly counts = { inline: 0, pool: 0 };

  /**
   * @param startPool makes the pool; called the first time a batch would go there (until its workers
   *   are ready, batches stay inline), so a server whose batches are all cheap never starts threads.
   */
  constructor(
    private readonly startPool: () => ScoringEngine,
    private readonly budgetMs = 10,
    private readonly probeEvery = 16,
  ) {}

  private costOf(entry: SpecEntry): SpecCost {
    let c = this.costs.get(entry.index);
    if (!c) this.costs.set(entry.index, (c = { inlineBatches: 0, msPerRollout: undefined, heavyStreak: 0, pooled: 0 }));
    return c;
  }

  /** Picks the place for one batch. */
  private route(entry: SpecEntry, n: number): 'inline' | 'pool' {
    const cost = this.costOf(entry);
    const avg = cost.msPerRollout;
    if (avg === undefined || avg * n <= this.budgetMs) return 'inline';
    // One slow batch (a GC pause counts as CPU) is not a costly spec: wait for three in a row.
    if (cost.heavyStreak < 3) return 'inline';
    if (!this.poolReady) {
      this.warmPool();
      return 'inline';
    }
    return ++cost.pooled % this.probeEvery === 0 ? 'inline' : 'pool';
  }

  /** Starts the pool once (in the background). A pool that fails to start leaves every batch inline, as on one core. */
  private warmPool(): void {
    this.poolStart ??= (async () => {
      this.pool = this.startPool();
      await this.pool.ready();
      this.poolReady = true;
    })().catch(() => undefined);
  }

  /** Scores inline (timed) or in the pool, per {@link AutoEngine}. */
  score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult> {
    return this.dispatch(entry, rollouts.length, signal, (e) => e.score(entry, rollouts, opts, signal));
  }

  /** Grades a piece inline (timed) or in the pool, as {@link score} places batches. */
  grade(entry: SpecEntry, rollouts: Rollout[], details: boolean, signal?: AbortSignal): Promise<GradeReply> {
    return this.dispatch(entry, rollouts.length, signal, (e) => e.grade(entry, rollouts, details, signal));
  }

  private async dispatch<T>(entry: SpecEntry, n: number, signal: AbortSignal | undefined, run: (engine: ScoringEngine) => Promise<T>): Promise<T> {
    if (this.route(entry, n) === 'pool') {
      this.counts.pool++;
      return run(this.pool!);
    }
    this.counts.inline++;
    // CPU time, not wall time: graders that wait on I/O (model backends, sandboxed code) do not block
    // the event loop and gain nothing from worker threads.
    const c0 = process.cpuUsage();
    const out = await run(this.inline);
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000 / Math.max(1, n);
    const cost = this.costOf(entry);
    if (signal?.aborted) {
      // Missed its deadline on the event loop: enough evidence. The spec's later batches go to the
      // pool, where the deadline stops even one long grader call (every probeEvery-th re-measures inline).
      cost.inlineBatches++;
      cost.msPerRollout = Math.max(cost.msPerRollout ?? 0, ms, 2 * this.budgetMs);
      cost.heavyStreak = Math.max(cost.heavyStreak, 3);
      this.warmPool();
      return out;
    }
    // A spec's first batch pays for lazy module loads and JIT warm-up: it is not a measure of its cost.
    if (++cost.inlineBatches === 1) return out;
    cost.msPerRollout = cost.msPerRollout === undefined ? ms : 0.5 * cost.msPerRollout + 0.5 * ms;
    cost.heavyStreak = ms * n > this.budgetMs ? cost.heavyStreak + 1 : 0;
    return out;
  }

  /** The pool's queue (0 before it starts). */
  queueDepth(): number {
    return this.pool?.queueDepth() ?? 0;
  }

  /** Ready at once: the pool starts when first needed. */
  async ready(): Promise<void> {}

  /** Stops the pool, if it was started (after a start in progress settles). */
  async close(): Promise<void> {
    await this.poolStart?.catch(() => undefined);
    await this.pool?.close();
  }
}
