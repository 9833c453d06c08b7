/**
 * The warm sandbox pool: Python programs forked from a pre-started, pre-isolated interpreter instead
 * of a fresh sandbox and interpreter each.
 *
 * Per Python interpreter (and sealed-root layout) this process keeps one **zygote** (`zygote.ts`): a
 * long-lived sandbox built exactly like a cold run's (`sandbox.ts`: fresh net/pid/mount/ipc/uts
 * namespaces, `pivot_root` into the read-only skeleton, the parent-death kill) whose pid 1 is a small
 * Python fork server, root inside it. Each run is forked from it into its own pid, mount, network and
 * IPC namespaces, with a fresh tmpfs `/tmp` and `/dev/shm`, its own `/proc`, the run's random
 * unprivileged uid, the same rlimits as a cold run, an empty capability bounding set and
 * no_new_privs, then executes the program as `__main__`; nothing of a run survives it (the fork is
 * thrown away), so no file, environment variable, module state or patched builtin of one program is
 * ever seen by the next.
 *
 * Data path: this process listens on a unix socket in a root-only directory
 * (`/run/rewardkit-sandbox/pool-…`), bind-mounted into the zygote's sandbox. A run's init connects
 * to it four times (`<id> c|i|o|e`): the payload (source, files, files to fetch) goes down `c` and the
 * report (CPU time, exit status, fetched files) comes back on it; `i`, `o`, `e` are the program's
 * stdin, stdout and stderr. The zygote only sees command lines (`R`/`K`) on its own stdin pipe.
 *
 * A run appears to `sandbox.ts` as a child process ({@link WarmRun}: stdin, stdout, stderr, stdio[3..7]
 * as a cold run's fds, a `close` event, `kill()`), so the cold path's timers, output limit, verdicts
 * (`classifyEnding`) and fetch parsing apply unchanged. Kills (wall clock, output, caller) go to the
 * zygote as `K <id>`, which SIGKILLs the run's init: its pid namespace dies with it.
 *
 * Lifecycle: started lazily on the first Python run; a zygote that dies is replaced on the next run
 * (runs in flight end as `sandbox_error`, as a cold run killed from outside does); runs queued
 * before a zygote became ready, when it fails to start, are run on the cold path instead. After
 * {@link MAX_START_FAILURES} failed starts in a row the pool is disabled for this process (said once
 * on stderr) and every run takes the cold path. `REWARDKIT_SANDBOX_POOL=0` disables it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { threadId } from 'node:worker_threads';
import { ZYGOTE_PY } from './zygote.js';

/** What one run needs from the zygote: its uid, limits and payload (paths already checked by `sandbox.ts`). */
export interface WarmSpec {
  uid: number;
  /** Size of the run's /tmp and /dev/shm, MiB. */
  tmpMb: number;
  cpuSoft: number;
  cpuHard: number;
  addressSpaceBytes: number;
  nproc: number;
  fileBytes: number;
  openFiles: number;
  source: Buffer;
  files: { path: string; data: Buffer }[];
  /** Relative paths read back after the run. */
  fetch: string[];
}

/** How to start the zygote's sandbox: the tools and sealed root `sandbox.ts` uses for a cold run. */
export interface ZygoteSetup {
  python: string;
  mount: string;
  umount: string;
  pivotRoot: string;
  setpriv: string;
  unshare: string;
  /** The skeleton directory and an fstab for it (`sandbox.ts`'s rootLayout/fstabFor). */
  skeleton: string;
  fstab: string;
  env: Record<string, string>;
}

/** Test hooks (not part of the package API): `failStarts` makes every zygote start fail. @internal */
export const warmPoolTestHooks = { failStarts: false };

/** Failed zygote starts in a row after which the pool is disabled for this process. */
export const MAX_START_FAILURES = 3;

const POOL_ROOT = '/run/rewardkit-sandbox';
/** Grace for connections still in the accept queue when the zygote reports a run's init gone, ms. */
const LATE_CONNECT_MS = 250;

/*
 * The zygote's sandbox: pid 1 of fresh namespaces, as a cold run's init shell, but it becomes the
 * zygote (exec) after mounting the sealed root, binding the host's socket directory at /tmp/.rk and
 * detaching the host root. Arguments: mount, umount, pivot_root, skeleton, fstab, socket dir, python, setpriv.
 */
const ZYGOTE_SCRIPT = [
  'M=$1 UM=$2 PR=$3 D=$4 FS=$5 H=$6 PY=$7 SP=$8',
  '$M -a -T "$FS" || { echo "setup mount" >&2; exit 101; }',
  'mkdir "$D/tmp/.rk" && $M --bind "$H" "$D/tmp/.rk" || { echo "setup bind" >&2; exit 102; }',
  'cd "$D" && $PR . tmp && /tmp$UM -l -c /tmp || { echo "setup pivot" >&2; exit 103; }',
  'cd /tmp || exit 104',
  'unset PWD OLDPWD',
  'ulimit -c 0 && ulimit -s 65536 || { echo "setup ulimit" >&2; exit 105; }',
  // Only the capabilities the zygote uses stay in its bounding set (zygote.ts drops them in each program).
  'exec $SP --bounding-set=-all,+chown,+dac_override,+kill,+setgid,+setuid,+setpcap,+sys_admin -- "$PY" /tmp/.rk/zygote.py',
].join('\n');

let warnedDisabled = false;

/** A run as `sandbox.ts` sees a child process. */
export class WarmRun extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  /** [stdin, stdout, stderr, archive sink, report, compile stdout, compile stderr, fetched files]. */
  readonly stdio: (PassThrough | Writable)[];
  /** Set when the run went to the cold path instead (the zygote could not start). */
  cold: ChildProcess | null = null;
  /** The init's pid inside the zygote's pid namespace (once started). */
  nsPid: number | null = null;
  /** Sockets by kind; `true` once that stream has ended. */
  readonly sockets: Partial<Record<'c' | 'i' | 'o' | 'e', Socket>> = {};
  readonly ended: Record<'c' | 'o' | 'e', boolean> = { c: false, o: false, e: false };
  exitStatus: number | null = null;
  /** Handed to the zygote (or to the cold path); emits `spawn` then. */
  sent = false;
  gone = false;
  closed = false;
  private archive: Buffer[] = [];
  private ctlLine = '';
  constructor(
    readonly id: string,
    readonly spec: WarmSpec,
    private readonly zygote: Zygote,
    private readonly coldStart: () => ChildProcess,
  ) {
    super();
    const archive = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        this.archive.push(chunk);
        cb();
      },
    });
    this.stdio = [this.stdin, this.stdout, this.stderr, archive, new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough()];
    for (const n of [5, 6]) (this.stdio[n] as PassThrough).end();
  }

  /** Host pid of the run's init (its process-group leader), found through /proc when asked (diagnostics and tests). */
  get pid(): number | undefined {
    if (this.cold) return this.cold.pid;
    if (this.nsPid === null) return undefined;
    return this.zygote.hostPidOf(this.nsPid);
  }

  /** SIGKILLs the run (its init, hence its whole pid namespace). */
  kill(_signal?: string): boolean {
    if (this.cold) {
      try {
        if (this.cold.pid !== undefined) process.kill(-this.cold.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      return true;
    }
    this.zygote.killRun(this);
    return true;
  }

  /** Runs on the cold path instead: the facade's streams are wired to a cold sandbox. */
  goCold(): void {
    let child: ChildProcess;
    try {
      child = this.coldStart();
    } catch (e) {
      this.emit('error', e);
      this.finishNow(null, null);
      return;
    }
    this.cold = child;
    this.sent = true;
    this.emit('spawn');
    child.on('error', (e) => this.emit('error', e));
    this.stdin.pipe(child.stdin!);
    child.stdin!.on('error', () => {});
    child.stdout!.pipe(this.stdout);
    child.stderr!.pipe(this.stderr);
    const io = child.stdio as unknown as (NodeJS.ReadableStream & NodeJS.WritableStream)[];
    for (const n of [4, 5, 6, 7]) {
      io[n]!.on('error', () => {});
      io[n]!.on('data', (c: Buffer) => (this.stdio[n] as PassThrough).write(c));
    }
    io[3]!.on('error', () => {});
    io[3]!.end(Buffer.concat(this.archive));
    child.on('close', (code, sig) => {
      for (const n of [4, 7]) (this.stdio[n] as PassThrough).end();
      this.closed = true;
      let open = 2;
      const done = () => {
        if (--open === 0) setImmediate(() => this.emit('close', code, sig));
      };
      for (const st of [this.stdout, this.stderr]) {
        if (st.readableEnded) done();
        else st.once('end', done);
      }
    });
  }

  /** A socket of this run connected; `rest` is what came after its header line. */
  attach(kind: 'c' | 'i' | 'o' | 'e', sock: Socket, rest: Buffer): void {
    this.sockets[kind] = sock;
    sock.on('error', () => {});
    if (kind === 'i') {
      this.stdin.pipe(sock);
      return;
    }
    if (kind === 'c') {
      const s = this.spec;
      const head = [`${s.source.length} ${s.files.length} ${s.fetch.length}`, ...s.files.map((f) => `${f.data.length} ${f.path}`), ...s.fetch].join('\n');
      sock.write(Buffer.concat([Buffer.from(`${head}\n`, 'utf8'), s.source, ...s.files.map((f) => f.data)]));
    }
    const onData = (chunk: Buffer) => {
      if (kind === 'o') this.stdout.write(chunk);
      else if (kind === 'e') this.stderr.write(chunk);
      else this.onControl(chunk);
    };
    if (rest.length > 0) onData(rest);
    sock.on('data', onData);
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      this.ended[kind] = true;
      this.maybeClose();
    };
    sock.on('end', end);
    sock.on('close', end);
  }

  /** The report socket: `file …` lines are fetched files (fd 7 of a cold run), the rest the report (fd 4). */
  private onControl(chunk: Buffer): void {
    this.ctlLine += chunk.toString('latin1');
    let i;
    while ((i = this.ctlLine.indexOf('\n')) >= 0) {
      const line = this.ctlLine.slice(0, i + 1);
      this.ctlLine = this.ctlLine.slice(i + 1);
      if (line.startsWith('file ')) (this.stdio[7] as PassThrough).write(Buffer.from(line.slice(5), 'latin1'));
      else (this.stdio[4] as PassThrough).write(Buffer.from(line, 'latin1'));
    }
  }

  /** The zygote reaped the run's init (wait status), or died (null). */
  initGone(status: number | null): void {
    if (this.gone) return;
    this.gone = true;
    this.exitStatus = status;
    // Connections the init made before it died may still wait in the accept queue.
    setTimeout(() => {
      for (const k of ['c', 'o', 'e'] as const) if (!this.sockets[k]) this.ended[k] = true;
      this.maybeClose();
    }, LATE_CONNECT_MS);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.closed || this.cold || !this.gone || !this.ended.c || !this.ended.o || !this.ended.e) return;
    const st = this.exitStatus;
    if (st === null) this.finishNow(null, 'SIGKILL');
    else if ((st & 0x7f) === 0) this.finishNow((st >> 8) & 0xff, null);
    else this.finishNow(null, SIGNAL_NAMES[st & 0x7f] ?? 'SIGKILL');
  }

  private finishNow(code: number | null, sig: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    this.sockets.i?.destroy();
    if (this.ctlLine) (this.stdio[4] as PassThrough).write(this.ctlLine);
    for (const s of [this.stdout, this.stderr, this.stdio[4] as PassThrough, this.stdio[7] as PassThrough]) s.end();
    this.zygote.forget(this);
    // After the streams' last 'data' and 'end' events, as a child process's 'close'.
    setImmediate(() => this.emit('close', code, sig));
  }
}

const SIGNAL_NAMES: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** One zygote: its sandbox process, its socket, its runs. */
export class Zygote {
  state: 'starting' | 'ready' | 'dead' = 'starting';
  private child: ChildProcess | null = null;
  private server: Server | null = null;
  private dir = '';
  private readonly runs = new Map<string, WarmRun>();
  /** Runs waiting for the zygote to be ready (their `R` lines not yet sent). */
  private readonly queued: WarmRun[] = [];
  private out = '';
  private errTail = '';
  /** The zygote's host pid (pid 1 of its namespaces), once found. */
  private hostPid: number | null = null;
  /** Called once when this zygote ends: whether it had become ready. */
  onEnd: (wasReady: boolean, why: string) => void = () => {};

  constructor(private readonly setup: ZygoteSetup) {}

  start(): void {
    if (warmPoolTestHooks.failStarts) {
      setImmediate(() => this.die('the start failed (test hook)'));
      return;
    }
    try {
      mkdirSync(POOL_ROOT, { recursive: true, mode: 0o755 });
      sweepStale();
      this.dir = join(POOL_ROOT, `pool-${process.pid}-${threadId}-${randomBytes(6).toString('hex')}`);
      mkdirSync(this.dir, { mode: 0o700 });
      chmodSync(this.dir, 0o700);
      writeFileSync(join(this.dir, 'zygote.py'), ZYGOTE_PY, { mode: 0o600 });
    } catch (e) {
      this.die(`cannot prepare the pool directory: ${(e as Error).message}`);
      return;
    }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (sock) => this.onConnection(sock));
    this.server = server;
    server.on('error', (e) => this.die(`pool socket: ${e.message}`));
    server.listen(join(this.dir, 'sock'), () => {
      if (this.state === 'dead') return;
      const s = this.setup;
      let child: ChildProcess;
      try {
        child = spawn(s.setpriv, ['--pdeathsig', 'SIGKILL', '--', s.unshare, '--net', '--pid', '--fork', '--kill-child', '--mount', '--ipc', '--uts', '--',
          '/bin/sh', '-c', ZYGOTE_SCRIPT, 'sh', s.mount, s.umount, s.pivotRoot, s.skeleton, s.fstab, this.dir, s.python, s.setpriv], {
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: s.env,
        });
      } catch (e) {
        this.die(`cannot start the zygote: ${(e as Error).message}`);
        return;
      }
      this.child = child;
      child.on('error', (e) => this.die(`cannot start the zygote: ${e.message}`));
      child.stdin!.on('error', () => {});
      child.stdout!.setEncoding('latin1');
      child.stdout!.on('data', (d: string) => this.onZygote(d));
      child.stderr!.on('data', (d: Buffer) => {
        this.errTail = (this.errTail + d.toString('utf8')).slice(-2000);
      });
      child.on('close', (code, sig) => this.die(`the zygote ended (exit ${code ?? 'none'}, signal ${sig ?? 'none'})${this.errTail.trim() ? `: ${this.errTail.trim().slice(-500)}` : ''}`));
      // The zygote and its socket keep this process alive only while it has runs (see hold()).
      child.unref();
      for (const st of [child.stdin, child.stderr]) (st as unknown as { unref?: () => void }).unref?.();
      this.hold();
    });
  }

  /** Keeps the event loop alive while runs are queued or in flight, and not when the zygote is idle. */
  private hold(): void {
    const on = this.runs.size > 0;
    const out = this.child?.stdout as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (on) {
      out?.ref?.();
      this.server?.ref();
    } else {
      out?.unref?.();
      this.server?.unref();
    }
  }

  /** Queues or starts a run. */
  run(r: WarmRun): void {
    this.runs.set(r.id, r);
    this.hold();
    if (this.state === 'ready') this.send(r);
    else this.queued.push(r);
  }

  private send(r: WarmRun): void {
    r.sent = true;
    r.emit('spawn');
    const s = r.spec;
    this.child!.stdin!.write(`R ${r.id} ${s.uid} ${s.tmpMb} ${s.cpuSoft} ${s.cpuHard} ${s.addressSpaceBytes} ${s.nproc} ${s.fileBytes} ${s.openFiles}\n`);
  }

  killRun(r: WarmRun): void {
    if (r.closed) return;
    const q = this.queued.indexOf(r);
    if (q >= 0) {
      this.queued.splice(q, 1);
      r.initGone(null);
      return;
    }
    if (this.state === 'ready') this.child!.stdin!.write(`K ${r.id}\n`);
  }

  forget(r: WarmRun): void {
    this.runs.delete(r.id);
    this.hold();
  }

  private onZygote(d: string): void {
    this.out += d;
    let i;
    while ((i = this.out.indexOf('\n')) >= 0) {
      const [kind, id, rest] = this.out.slice(0, i).split(' ', 3);
      this.out = this.out.slice(i + 1);
      if (kind === 'ready') {
        this.state = 'ready';
        for (const r of this.queued.splice(0)) this.send(r);
        continue;
      }
      const r = this.runs.get(id ?? '');
      if (!r) continue;
      if (kind === 'S') r.nsPid = Number(rest);
      else if (kind === 'X') r.initGone(Number(rest));
      else if (kind === 'F') {
        (r.stdio[4] as PassThrough).write(`setup fork\n`);
        r.stderr.write(`cannot fork the run: ${rest ?? ''}\n`);
        r.initGone(null);
      }
    }
  }

  private onConnection(sock: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 128) sock.destroy();
        return;
      }
      sock.off('data', onData);
      const [id, kind] = head.subarray(0, nl).toString('latin1').split(' ');
      const r = this.runs.get(id ?? '');
      if (!r || r.closed || r.cold || !(kind === 'c' || kind === 'i' || kind === 'o' || kind === 'e') || r.sockets[kind]) {
        sock.destroy();
        return;
      }
      r.attach(kind, sock, head.subarray(nl + 1));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  }

  /** Host pid of a process of the zygote's pid namespace, from the zygote's children (/proc). */
  hostPidOf(nsPid: number): number | undefined {
    try {
      if (this.hostPid === null && this.child?.pid !== undefined) {
        const kids = readFileSync(`/proc/${this.child.pid}/task/${this.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        if (kids.length > 0) this.hostPid = Number(kids[0]);
      }
      if (this.hostPid === null) return undefined;
      for (const k of readFileSync(`/proc/${this.hostPid}/task/${this.hostPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
        const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${k}/status`, 'utf8'));
        const ids = m ? m[1]!.trim().split(/\s+/).map(Number) : [];
        if (ids[1] === nsPid) return Number(k);
      }
    } catch {
      /* gone */
    }
    return undefined;
  }

  /** Kills the zygote's sandbox (every run of it dies too). */
  stop(): void {
    if (this.child?.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private die(why: string): void {
    if (this.state === 'dead') return;
    const wasReady = this.state === 'ready';
    this.state = 'dead';
    this.stop();
    this.server?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    // Runs never sent to the zygote take the cold path; runs it had started died with it.
    for (const r of this.queued.splice(0)) {
      this.runs.delete(r.id);
      r.goCold();
    }
    for (const r of [...this.runs.values()]) r.initGone(null);
    this.onEnd(wasReady, why);
  }
}

/** Removes pool directories of processes that no longer exist. */
function sweepStale(): void {
  try {
    for (const f of readdirSync(POOL_ROOT)) {
      const m = /^pool-(\d+)-/.exec(f);
      if (m && !existsSync(`/proc/${m[1]}`)) rmSync(join(POOL_ROOT, f), { recursive: true, force: true });
    }
  } catch {
    /* nothing to sweep */
  }
}

/** Zygotes by configuration key, and how many starts failed in a row. */
const zygotes = new Map<string, Zygote>();
let startFailures = 0;
let disabled = process.env.REWARDKIT_SANDBOX_POOL === '0';
let cleanupHooked = false;

/** Whether the pool is in use (not disabled by `REWARDKIT_SANDBOX_POOL=0`, {@link setWarmPool} or failed starts). */
export function warmPoolEnabled(): boolean {
  return !disabled;
}

/**
 * Turns the pool on or off for this process (off: every Python run takes the cold path; an idle
 * zygote stays up for when it is turned on again — {@link stopWarmPools} ends them). Turning it on
 * again also forgets earlier start failures.
 */
export function setWarmPool(on: boolean): void {
  disabled = !on;
  if (on) startFailures = 0;
}

/** Stops every zygote of this process (their runs in flight end as `sandbox_error`). */
export function stopWarmPools(): void {
  for (const z of zygotes.values()) z.stop();
  zygotes.clear();
}

/** The zygote for this setup (started if needed), or null when the pool is off. */
function zygoteFor(setup: ZygoteSetup): Zygote | null {
  if (disabled) return null;
  const key = `${setup.python}\0${setup.skeleton}\0${setup.fstab}`;
  let z = zygotes.get(key);
  if (z && z.state !== 'dead') return z;
  // A configuration change (another interpreter) retires the zygotes of the old one.
  for (const [k, other] of zygotes) {
    if (k !== key) {
      other.stop();
      zygotes.delete(k);
    }
  }
  z = new Zygote(setup);
  const mine = z;
  z.onEnd = (wasReady, why) => {
    if (zygotes.get(key) === mine) zygotes.delete(key);
    if (wasReady) {
      startFailures = 0;
      return;
    }
    startFailures++;
    if (startFailures >= MAX_START_FAILURES && !disabled) {
      disabled = true;
      if (!warnedDisabled) {
        warnedDisabled = true;
        process.stderr.write(`rewardkit: the warm sandbox pool could not start (${why}); Python programs run on the cold sandbox path\n`);
      }
    }
  };
  zygotes.set(key, z);
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.on('exit', stopWarmPools);
  }
  z.start();
  return z;
}

/**
 * Starts a run on the warm pool, or returns null when the pool is off (the caller takes the cold
 * path). `coldStart` starts the same run on the cold path (used when the zygote fails to start while
 * the run waits for it).
 */
export function warmSpawn(setup: ZygoteSetup, spec: WarmSpec, coldStart: () => ChildProcess): WarmRun | null {
  const z = zygoteFor(setup);
  if (z === null) return null;
  const r = new WarmRun(randomBytes(12).toString('hex'), spec, z, coldStart);
  z.run(r);
  return r;
}

/** The zygotes alive now (tests: kill one and check that the pool recovers). */
export function warmZygotePids(): number[] {
  return [...zygotes.values()].map((z) => (z as unknown as { child: ChildProcess | null }).child?.pid).filter((p): p is number => p !== undefined);
}
