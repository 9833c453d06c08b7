/**
 * Runs SQL in separate query processes (child.ts) with a wall-clock limit per query that really stops
 * the query: on timeout the process is killed (SIGKILL) and a fresh one takes its place.
 *
 * Why processes: better-sqlite3 is synchronous and exposes neither `sqlite3_interrupt` nor a progress
 * handler. Measured on this project's machine, `worker.terminate()` on a worker thread busy in a
 * 7-way cross join returned only when the statement finished (1.2 s later, the CPU busy until then),
 * while killing a process ends the query at once (a 200 ms limit on a 9-way cross join returns after
 * about 210 ms). The price is an IPC round trip per query; concurrent calls are pipelined (up to
 * {@link PIPELINE_DEPTH} queries sent ahead to a process) to recover part of it — figures in
 * bench/sql.ts. Results are cached, so a repeated query (the gold of every rollout in a group, a
 * duplicate completion, a runaway query written twice) runs once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { QueryReply, QueryRequest, ReadyMessage } from './protocol.js';

/** Outcome of one query. */
export type ExecResult =
  | { status: 'ok'; columns: number; rows: unknown[][]; truncated: boolean; strings: string[] }
  | { status: 'error' | 'refused' | 'timeout'; message: string };

/** How to run one query. */
export interface RunOptions {
  op: 'all' | 'first';
  timeoutMs: number;
  maxRows: number;
}

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');
// From the CLI bundle (dist/cli-bundle/, scripts/bundle-cli.mjs) the query process is still dist/graders/sql/child.js.
const childPath = fromSource
  ? join(dirname(here), 'child.ts')
  : basename(dirname(here)) === 'cli-bundle'
    ? join(dirname(here), '..', 'graders', 'sql', 'child.js')
    : join(dirname(here), 'child.js');
// Run from TypeScript sources (tests, tsx): the query process needs the same loader.
const childExecArgv = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
const STARTUP_TIMEOUT_MS = 30_000;
const CACHE_MAX_ENTRIES = 4096;
const CACHE_MAX_ROWS = 2_000_000;
/** Queries sent ahead to one query process (it runs them in order). */
const PIPELINE_DEPTH = 8;

interface Pending {
  req: QueryRequest;
  timeoutMs: number;
  resolve(r: ExecResult): void;
}

/**
 * One query process and the requests sent to it. Up to `depth` requests are in flight: the process
 * runs them one after the other, so the time limit of each starts when the previous one's reply
 * arrives. On timeout or death the process is dropped, the running request fails and the others go
 * back to the pool's queue.
 */
class Slot {
  private child: ChildProcess | null = null;
  private starting = false;
  private readonly inflight: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly depth: number,
    private readonly requeue: (ps: Pending[]) => void,
    private readonly onFree: () => void,
  ) {}

  get free(): number {
    return this.depth - this.inflight.length;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  submit(p: Pending): void {
    this.inflight.push(p);
    if (this.child && !this.starting) this.send(p);
    else if (!this.child) this.spawn();
  }

  private send(p: Pending): void {
    const child = this.child!;
    child.ref();
    child.channel?.ref();
    child.send(p.req);
    if (this.inflight[0] === p) this.startTimer();
  }

  private startTimer(): void {
    const head = this.inflight[0]!;
    const child = this.child!;
    this.timer = setTimeout(() => {
      if (this.child !== child || this.inflight[0] !== head) return;
      this.drop(child, { status: 'timeout', message: `query stopped after ${head.timeoutMs} ms (time limit)` });
    }, head.timeoutMs);
  }

  private spawn(): void {
    const child = fork(childPath, [], {
      execArgv: [...childExecArgv, '--max-old-space-size=512'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    this.starting = true;
    const startTimer = setTimeout(() => this.drop(child, { status: 'error', message: 'SQL query process did not start' }), STARTUP_TIMEOUT_MS);
    child.on('message', (m: QueryReply | ReadyMessage) => {
      if (this.child !== child) return;
      if ('ready' in m) {
        clearTimeout(startTimer);
        this.starting = false;
        for (const p of this.inflight) this.send(p);
        return;
      }
      const head = this.inflight[0];
      if (!head || head.req.id !== m.id) return;
      this.settle(m.ok ? { status: 'ok', columns: m.columns, rows: m.rows, truncated: m.truncated, strings: m.strings } : { status: m.kind, message: m.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(startTimer);
      if (this.child === child) this.drop(child, { status: 'error', message: `query process died (${signal ?? `exit code ${code}`}), e.g. out of memory` });
    });
  }

  /** The head request is done: resolve it and start the next one's clock. */
  private settle(r: ExecResult): void {
    clearTimeout(this.timer!);
    this.timer = null;
    const head = this.inflight.shift()!;
    if (this.inflight.length > 0) this.startTimer();
    else {
      this.child?.unref();
      this.child?.channel?.unref();
    }
    head.resolve(r);
    this.onFree();
  }

  /** Kills the process: the head request gets `r`, the ones behind it go back to the queue. */
  private drop(child: ChildProcess, r: ExecResult): void {
    if (this.child !== child) return;
    child.kill('SIGKILL');
    this.child = null;
    this.starting = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const [head, ...rest] = this.inflight.splice(0);
    this.requeue(rest);
    head?.resolve(r);
    this.onFree();
  }

  close(): void {
    if (this.child) this.drop(this.child, { status: 'error', message: 'query processes closed' });
  }
}

/**
 * A pool of query processes with a FIFO queue and a result cache keyed by (database, SQL, options).
 * Processes are started on first use and do not keep the parent process alive when idle.
 */
export class SqlExecutor {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly cache = new Map<string, Promise<ExecResult>>();
  private cachedRows = 0;
  private nextId = 1;

  /** `size` query processes, each with up to `depth` queries in flight. */
  constructor(
    size = 1,
    private readonly depth = PIPELINE_DEPTH,
  ) {
    this.resize(size);
  }

  /** Grows the pool to at least `size` processes. */
  resize(size: number): void {
    while (this.slots.length < size)
      this.slots.push(
        new Slot(
          this.depth,
          (ps) => this.queue.unshift(...ps),
          () => this.dispatch(),
        ),
      );
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs `sql` on the database file at `path` (cached). Never rejects: failures are results. */
  run(path: string, sql: string, opts: RunOptions): Promise<ExecResult> {
    const key = `${opts.op}\u0000${opts.timeoutMs}\u0000${opts.maxRows}\u0000${path}\u0000${sql}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const p = new Promise<ExecResult>((resolve) => {
      this.queue.push({ req: { id: this.nextId++, path, sql, op: opts.op, maxRows: opts.maxRows }, timeoutMs: opts.timeoutMs, resolve });
      this.dispatch();
    });
    this.cache.set(key, p);
    void p.then((r) => {
      if (r.status === 'ok') this.cachedRows += r.rows.length;
      this.evict();
    });
    return p;
  }

  private evict(): void {
    while (this.cache.size > CACHE_MAX_ENTRIES || this.cachedRows > CACHE_MAX_ROWS) {
      const [key, p] = this.cache.entries().next().value!;
      this.cache.delete(key);
      void p.then((r) => {
        if (r.status === 'ok') this.cachedRows -= r.rows.length;
      });
      if (this.cache.size === 0) break;
    }
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | null = null;
      for (const slot of this.slots) if (slot.free > 0 && (best === null || slot.free > best.free)) best = slot;
      if (best === null) return;
      best.submit(this.queue.shift()!);
    }
  }

  /** Drops cached results (tests, benchmarks). */
  clearCache(): void {
    this.cache.clear();
    this.cachedRows = 0;
  }

  /** Process ids of the running query processes (diagnostics, tests). */
  processIds(): number[] {
    return this.slots.flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
  }

  /** Kills the query processes; later queries start new ones. */
  close(): void {
    for (const s of this.slots) s.close();
  }
}

let shared: SqlExecutor | null = null;

/** The process-wide executor shared by every `sql` grader (one pool, one cache, one set of open databases). */
export function sharedExecutor(size = 1): SqlExecutor {
  shared ??= new SqlExecutor(size);
  shared.resize(size);
  return shared;
}
