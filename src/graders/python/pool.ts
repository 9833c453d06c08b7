/**
 * A pool of long-lived sandboxed Python workers running one grader's `grade(sample, item)`.
 *
 * Each worker is one {@link openSandboxes} session (fresh namespaces, random uid, sealed read-only
 * root, no network, rlimits) running the trusted loop in `worker.ts`, which compiles the user's source
 * once and then grades batches sent over its stdin. Calls queue up and are sent in batches (up to
 * `batchSize` calls a line, split evenly over the workers), so one pipe round trip serves hundreds
 * of calls.
 *
 * Failure handling, none of which loses a call or scores it silently:
 * - a call over its time limit: the worker's own timer raises inside `grade` (an error for that call;
 *   the rest of the batch goes on). A worker that still does not answer within the limit plus a grace
 *   is killed by the parent;
 * - a worker that dies (killed, crashed, `os._exit`, out of memory) with calls unanswered: a batch of
 *   one call → that call is an error (why the worker died, or "timed out"); a bigger batch → its
 *   unanswered calls are sent again, each alone, once (so only the call that kills a worker alone is
 *   blamed); a replacement worker starts on demand;
 * - the source does not compile, has no `grade`, or its module code raises: every call is an error
 *   with that message (the pool remembers it and starts no more workers).
 * Workers are retired after `recycleAfter` calls or `maxAgeMs`, and end when idle for `idleMs` (default 1 s; each
 * holds a slot of the sandbox's pool while it lives).
 */
import { openSandboxes, sandboxSupport, type RunResult, type SandboxSession, type SessionRequest } from '../code/sandbox.js';
import { PY_WORKER } from './worker.js';

/** The answer for one call: a finite score, or an error message. */
export type CallResult = { score: number } | { error: string };

export interface PythonPoolOptions {
  /** The user's Python source (defines `grade(sample, item)`). */
  source: string;
  /** File name shown in error messages (e.g. `grader.py`, or `<source>` for inline code). */
  filename: string;
  /** Per-call time limit, ms. */
  timeoutMs: number;
  /** Address-space limit of each worker, MiB. */
  memoryMb: number;
  /** Workers at most. */
  workers: number;
  /** Calls per message at most. */
  batchSize: number;
  /** A worker is retired after this many calls. */
  recycleAfter: number;
  /** A worker with nothing to do for this long exits (frees its sandbox slot). Default 1000. */
  idleMs?: number;
  /** Time allowed to load the source (module-level code, imports), ms. Default max(10 s, timeoutMs). */
  loadTimeoutMs?: number;
  /** A worker is retired after this long (ms, default 10 min); its sandbox wall-clock limit is this + 1 min. */
  maxAgeMs?: number;
  /** `worker` (default): calls share the loaded module. `call`: each call runs in a process forked from the loaded worker. */
  isolation?: 'worker' | 'call';
  /** Opens sandbox sessions (tests may wrap it). Default: {@link openSandboxes}. */
  open?: (reqs: SessionRequest[]) => Promise<SandboxSession[]>;
}

interface Call {
  text: string;
  item: unknown;
  resolve: (r: CallResult) => void;
  /** Already re-sent once after a worker died with it unanswered. */
  retried: boolean;
}

/** Grace after the per-call limit before the parent kills a worker that does not answer, ms. */
const GRACE_MS = 500;

/**
 * Workers hold sandbox slots (shared with every other sandboxed run of this process) while they live.
 * So that two python graders of one spec do not wait out each other's idle time: live pools, and the
 * spawns waiting for a slot. A pool about to spawn retires the other pools' idle workers; a worker that
 * finishes its batch with nothing queued retires at once when some pool is waiting for a slot.
 */
const livePools = new Set<PythonPool>();
let spawnsWaiting = 0;

class Worker {
  session: SandboxSession | null = null;
  ready = false;
  dead = false;
  retiring = false;
  /** The batch in flight (answered calls are resolved and counted in `answered`). */
  batch: Call[] = [];
  answered = 0;
  served = 0;
  readonly born = Date.now();
  hung = false;
  private buf = '';
  private watchdog: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;

  constructor(private readonly pool: PythonPool) {}

  attach(s: SandboxSession, init: string): void {
    this.session = s;
    s.stdout.on('data', (c: Buffer) => this.onData(c.toString('utf8')));
    s.stdout.on('error', () => {});
    s.stdin.write(`${init}\n`);
    void s.result.then((r) => this.onExit(r));
    if (this.batch.length > 0) this.write();
    else this.armIdle();
  }

  get busy(): boolean {
    return this.batch.length > 0;
  }

  /** Sends a batch (queued until the session is open). */
  send(calls: Call[]): void {
    this.batch = calls;
    this.answered = 0;
    this.clearIdle();
    if (this.session) this.write();
  }

  private write(): void {
    const line = JSON.stringify(this.batch.map((c) => [c.text, c.item]));
    this.session!.stdin.write(`${line}\n`);
    this.armWatchdog(this.ready ? this.pool.callDeadlineMs : this.pool.loadTimeoutMs + this.pool.callDeadlineMs);
  }

  private armWatchdog(ms: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.busy && !this.dead) {
        this.hung = true;
        this.session?.kill();
      }
    }, ms);
  }

  private armIdle(): void {
    this.clearIdle();
    this.idle = setTimeout(() => this.retire(), this.pool.idleMs);
    this.idle.unref?.();
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  /** Stops taking work; the worker exits when its stdin ends. */
  retire(): void {
    if (this.retiring) return;
    this.retiring = true;
    this.clearIdle();
    if (!this.busy) this.session?.stdin.end();
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!this.onLine(line)) {
        this.session?.kill(); // not the protocol: the worker is not to be trusted any more
        return;
      }
    }
  }

  private onLine(line: string): boolean {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return false;
    }
    if (Array.isArray(msg)) {
      if (!this.ready || this.answered + msg.length > this.batch.length) return false;
      for (const r of msg) {
        const call = this.batch[this.answered++]!;
        if (typeof r === 'number' && Number.isFinite(r)) call.resolve({ score: r });
        else if (r !== null && typeof r === 'object' && typeof (r as { e?: unknown }).e === 'string') call.resolve({ error: (r as { e: string }).e });
        else call.resolve({ error: 'the python worker sent a malformed result' });
      }
      this.served += msg.length;
      if (this.answered === this.batch.length) {
        this.batch = [];
        this.answered = 0;
        if (this.watchdog) clearTimeout(this.watchdog);
        this.watchdog = null;
        if (this.served >= this.pool.opts.recycleAfter || Date.now() - this.born > this.pool.maxAgeMs || (spawnsWaiting > 0 && !this.pool.hasWork)) this.retire();
        else if (!this.retiring) this.armIdle();
        if (this.retiring) this.session?.stdin.end();
        this.pool.pump();
      } else this.armWatchdog(this.pool.callDeadlineMs);
      return true;
    }
    if (msg !== null && typeof msg === 'object') {
      const m = msg as { ready?: unknown; fatal?: unknown };
      if (m.ready === 1 && !this.ready) {
        this.ready = true;
        if (this.busy) this.armWatchdog(this.pool.callDeadlineMs);
        return true;
      }
      if (typeof m.fatal === 'string' && !this.ready) {
        this.pool.setFatal(m.fatal);
        return true;
      }
    }
    return false;
  }

  private onExit(r: RunResult): void {
    this.dead = true;
    this.clearIdle();
    if (this.watchdog) clearTimeout(this.watchdog);
    const left = this.batch.slice(this.answered);
    this.batch = [];
    const why = `${r.status}${r.message ? ` (${r.message})` : ''}`;
    // A worker that never got to load the source (sandbox set-up failed, the interpreter could not start
    // within its limits) is no call's fault: no retry, the calls fail with the reason.
    this.pool.workerEnded(this, left, this.hung ? null : this.ready ? why : `it ended before loading the source: ${why}`, !this.ready);
  }
}

/** See the module comment. */
export class PythonPool {
  readonly opts: PythonPoolOptions;
  readonly idleMs: number;
  readonly loadTimeoutMs: number;
  readonly maxAgeMs: number;
  private readonly queue: Call[] = [];
  /** Calls re-sent alone after a worker died with them unanswered. */
  private readonly singles: Call[] = [];
  private readonly workers = new Set<Worker>();
  private fatal: string | null = null;
  private closed = false;
  private readonly ended = new Set<Promise<unknown>>();
  /** Workers started so far (tests and diagnostics). */
  started = 0;

  constructor(opts: PythonPoolOptions) {
    this.opts = opts;
    this.idleMs = opts.idleMs ?? 1000;
    this.loadTimeoutMs = opts.loadTimeoutMs ?? Math.max(10_000, opts.timeoutMs);
    this.maxAgeMs = opts.maxAgeMs ?? 600_000;
    // With isolation: call the worker itself kills a slow call's process at the limit + 0.5 s.
    this.callDeadlineMs = opts.timeoutMs + GRACE_MS + (opts.isolation === 'call' ? 1000 : 0);
  }

  /** How long a worker may go without answering a call before the parent kills it, ms. */
  readonly callDeadlineMs: number;

  /** Grades one call. Never rejects: failures are `{error}`. */
  call(text: string, item: unknown): Promise<CallResult> {
    if (this.fatal !== null) return Promise.resolve({ error: this.fatal });
    if (this.closed) return Promise.resolve({ error: 'the python grader is closed' });
    const sup = sandboxSupport();
    if (!sup.ok) return Promise.resolve({ error: `python grader: ${sup.reason}` });
    return new Promise<CallResult>((resolve) => {
      this.queue.push({ text, item, resolve, retried: false });
      if (this.queue.length === 1) queueMicrotask(() => this.pump());
      else if (this.queue.length >= this.opts.batchSize) this.pump();
    });
  }

  /** Calls waiting for a worker. */
  get hasWork(): boolean {
    return this.queue.length + this.singles.length > 0;
  }

  /** Retires the workers that are up and idle (another pool needs their sandbox slots). */
  retireIdle(): void {
    for (const w of this.workers) if (w.ready && !w.busy && !w.dead) w.retire();
  }

  /** Live workers (tests and diagnostics). */
  get size(): number {
    return this.workers.size;
  }

  /** Host pids of the live workers' process groups (tests). */
  pids(): number[] {
    return [...this.workers].map((w) => w.session?.pid).filter((p): p is number => p !== undefined);
  }

  /** Hands queued calls to free workers, starting workers up to the limit. */
  pump(): void {
    if (this.closed || this.fatal !== null) return;
    for (;;) {
      const waiting = this.singles.length + this.queue.length;
      if (waiting === 0) return;
      let free: Worker | undefined;
      for (const w of this.workers) if (!w.dead && !w.retiring && !w.busy) free = w;
      if (!free) {
        if (this.workers.size >= this.opts.workers) return;
        free = this.spawn();
      }
      if (this.singles.length > 0) {
        free.send([this.singles.shift()!]);
        continue;
      }
      const share = Math.ceil(this.queue.length / this.opts.workers);
      free.send(this.queue.splice(0, Math.max(1, Math.min(this.opts.batchSize, share))));
    }
  }

  private spawn(): Worker {
    livePools.add(this);
    for (const p of livePools) if (p !== this) p.retireIdle();
    const w = new Worker(this);
    this.workers.add(w);
    this.started++;
    const init = JSON.stringify({
      source: this.opts.source,
      filename: this.opts.filename,
      timeout: this.opts.timeoutMs / 1000,
      load_timeout: this.loadTimeoutMs / 1000,
      isolation: this.opts.isolation ?? 'worker',
    });
    const open = this.opts.open ?? openSandboxes;
    const lifetime = this.maxAgeMs + 60_000;
    const req: SessionRequest = {
      language: 'python',
      code: PY_WORKER,
      limits: {
        timeoutMs: lifetime,
        cpuSeconds: Math.ceil(lifetime / 1000),
        memoryMb: this.opts.memoryMb,
        maxOutputBytes: 1 << 30,
        // isolation: call forks one child per call (one at a time).
        ...(this.opts.isolation === 'call' ? { maxProcesses: 16 } : {}),
      },
    };
    spawnsWaiting++;
    let waiting = true;
    const done = () => {
      if (waiting) spawnsWaiting--;
      waiting = false;
    };
    const opened = open([req]).then(
      ([s]) => {
        done();
        if (this.closed) s!.kill();
        w.attach(s!, init);
        return s!.result;
      },
      (e: unknown) => {
        done();
        this.workerEnded(w, w.batch.splice(0), `could not start a python worker: ${(e as Error).message}`, true);
      },
    );
    this.ended.add(opened);
    void opened.finally(() => this.ended.delete(opened));
    return w;
  }

  /** The source cannot run: every pending and later call is this error. */
  setFatal(message: string): void {
    if (this.fatal !== null) return;
    this.fatal = `python grader source: ${message}`;
    for (const c of this.queue.splice(0)) c.resolve({ error: this.fatal });
    for (const c of this.singles.splice(0)) c.resolve({ error: this.fatal });
  }

  /** A worker ended; `why` is null when the parent killed it for not answering in time. */
  workerEnded(w: Worker, left: Call[], why: string | null, noRetry = false): void {
    this.workers.delete(w);
    const reason =
      this.fatal ??
      (why === null ? `grade timed out after ${this.opts.timeoutMs} ms (the worker did not answer; killed)` : `the python worker died while grading: ${why}`);
    if (this.fatal !== null || noRetry || left.length === 1 || this.closed) for (const c of left) c.resolve({ error: this.closed && this.fatal === null ? 'the python grader was closed' : reason });
    else
      for (const c of left) {
        if (c.retried) c.resolve({ error: reason });
        else {
          c.retried = true;
          this.singles.push(c);
        }
      }
    this.pump();
  }

  /** Ends every worker (stdin closed, killed after 1 s) and fails calls still queued. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      livePools.delete(this);
      for (const c of this.queue.splice(0)) c.resolve({ error: 'the python grader was closed' });
      for (const c of this.singles.splice(0)) c.resolve({ error: 'the python grader was closed' });
      for (const w of this.workers) {
        w.retire();
        w.session?.stdin.end();
        const s = w.session;
        if (s) setTimeout(() => s.kill(), 1000).unref?.();
      }
    }
    await Promise.allSettled([...this.ended]);
  }
}
