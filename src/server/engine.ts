import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { scoreBatch, type BatchResult, type ScoreOptions } from '../pipeline.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { Grader } from '../graders/types.js';
import type { Rollout } from '../rollout/types.js';
import { groupKey, textOf } from '../rollout/sample.js';
import { countReason } from '../diagnose/reasons.js';
import type { SpecEntry } from './specs.js';
import type { GradeReply, GradeTask, WorkerSpec } from './worker.js';
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
  /** Always 0: nothing queues. */
  queueDepth(): number {
    return 0;
  }
  /** Ready at once. */
  async ready(): Promise<void> {}
  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/** Grader that replays a worker's result for the rollout it is asked about. */
function replayGrader(
  index: ReadonlyMap<Rollout, number>,
  col: Float64Array,
  errors: (string | undefined)[] | null,
  details: (Record<string, unknown> | undefined)[] | null,
): Grader {
  return {
    scope: 'rollout',
    grade(s) {
      const i = index.get(s.rollout)!;
      const msg = errors?.[i];
      if (msg !== undefined) throw new Error(msg);
      const v = col[i]!;
      const score = v === v ? v : null;
      const d = details?.[i];
      return d !== undefined ? { score, details: d } : score;
    },
  };
}

/** Where the worker module is: the `.ts` source under tsx/vitest, the compiled `.js` in dist. */
function workerFile(): { filename: string; execArgv: string[] | undefined } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { filename: fileURLToPath(new URL('./worker.ts', here)), execArgv: ['--import', 'tsx'] };
  const js = fileURLToPath(new URL('./worker.js', here));
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

  /** Cuts a batch into slices of whole groups, balanced by rollout count; one slice for small batches. */
  private slices(rollouts: readonly Rollout[]): number[][] {
    const n = rollouts.length;
    const count = Math.min(this.workers, Math.floor(n / this.sliceSize));
    if (count <= 1) return [rollouts.map((_, i) => i)];
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const r = rollouts[i]!;
      const key = groupKey(r, r.group === undefined ? textOf(r.prompt, 'prompt') : '');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(i);
    }
    const out: number[][] = Array.from({ length: count }, () => []);
    const target = n / count;
    let s = 0;
    for (const members of groups.values()) {
      if (out[s]!.length >= target && s < count - 1) s++;
      for (const i of members) out[s]!.push(i);
    }
    return out.filter((x) => x.length > 0).map((x) => x.sort((a, b) => a - b));
  }

  /**
   * Grades the slices in the pool, then combines/shapes/estimates over the whole batch here. `signal`
   * aborts the slices' tasks (a running task's worker is terminated and replaced).
   */
  async score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult> {
    const n = rollouts.length;
    const details = opts.details === true;
    const parts = this.slices(rollouts);
    const replies = await Promise.all(
      parts.map((idx) => this.pool.run({ spec: entry.index, rollouts: idx.length === n ? rollouts : idx.map((i) => rollouts[i]!), details }, { signal: signal ?? null })),
    );
    const K = entry.compiled.names.length;
    const cols = Array.from({ length: K }, () => new Float64Array(n));
    const errs: ((string | undefined)[] | null)[] = new Array(K).fill(null);
    const dets: ((Record<string, unknown> | undefined)[] | null)[] = new Array(K).fill(null);
    parts.forEach((idx, p) => {
      const rep = replies[p]!;
      for (let k = 0; k < K; k++) {
        const src = rep.columns[k]!;
        const dst = cols[k]!;
        for (let j = 0; j < idx.length; j++) dst[idx[j]!] = src[j]!;
        const e = rep.errors[k];
        if (e) {
          const to = (errs[k] ??= new Array(n));
          for (const j in e) to[idx[Number(j)]!] = e[j];
        }
        const d = rep.details[k];
        if (d) {
          const to = (dets[k] ??= new Array(n));
          for (const j in d) to[idx[Number(j)]!] = d[j];
        }
      }
    });
    const index = new Map<Rollout, number>();
    for (let i = 0; i < n; i++) index.set(rollouts[i]!, i);
    const replay: CompiledSpec = { ...entry.compiled, graders: cols.map((c, k) => replayGrader(index, c, errs[k]!, dets[k]!)) };
    const result = await scoreBatch(replay, rollouts, opts);
    // The workers saw the graders' null reasons (the replay sees details only when asked): use theirs.
    result.columns.nullReasons = Array.from({ length: K }, (_, k) => {
      const merged = new Map<string, number>();
      for (const rep of replies) for (const [reason, count] of rep.reasons[k] ?? []) countReason(merged, reason, count);
      return merged;
    });
    return result;
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
  async score(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal?: AbortSignal): Promise<BatchResult> {
    if (this.route(entry, rollouts.length) === 'pool') {
      this.counts.pool++;
      return this.pool!.score(entry, rollouts, opts, signal);
    }
    this.counts.inline++;
    // CPU time, not wall time: graders that wait on I/O (model backends, sandboxed code) do not block
    // the event loop and gain nothing from worker threads.
    const c0 = process.cpuUsage();
    const out = await this.inline.score(entry, rollouts, opts, signal);
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000 / Math.max(1, rollouts.length);
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
    cost.heavyStreak = ms * rollouts.length > this.budgetMs ? cost.heavyStreak + 1 : 0;
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
