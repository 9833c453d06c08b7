/**
 * The warm sandbox pool: Python programs run in long-lived, pre-isolated **slots** instead of a fresh
 * sandbox and interpreter each.
 *
 * A slot (`zygote.ts`) is one sealed sandbox built exactly like a cold run's (`sandbox.ts`: fresh
 * net/pid/mount/ipc/uts namespaces, `pivot_root` into the read-only skeleton, the parent-death kill)
 * whose pid 1 is a warm Python worker, root inside it, next to a warm Python forker (root, in the
 * slot's other namespaces and sealed root but outside its pid namespace, into which it forks). Its
 * namespaces, sealed root and interpreters are created once; per program the forker only forks the
 * program's process from itself (so that the worker, which never forks, takes no copy-on-write page
 * faults for its own work), which takes the run's random unprivileged uid, a fresh session keyring, a fresh IPC namespace, the same
 * rlimits as a cold run, an empty capability bounding set and no_new_privs, and a private tmpfs
 * `/tmp` and `/dev/shm` that are replaced by fresh empty ones after every program. After a program
 * the worker kills every process left in the slot, and proves the slot clean (no process, no unix
 * socket, unchanged network counters) before taking the next one; a slot that cannot is thrown away
 * and another one started. So no file, process, socket, IPC object, key, environment variable,
 * module state or patched builtin of one program is ever seen by the next.
 *
 * Data path: this process listens on a unix socket in a root-only directory
 * (`/run/rewardkit-sandbox/pool-…`), reachable from the slots' workers only through a descriptor
 * (the directory is not mounted in a slot's tree). A program's process connects to it (`<id> i|o|e`):
 * the payload (source, files) then the program's stdin go down `i`; `o`, `e` are its stdout and
 * stderr. A process forked after the program to read back requested files connects as `<id> f`. The
 * worker only sees command lines on its stdin pipe (`R`: id, uid, limits, counts; `K`: kill) and
 * writes the verdict evidence (exit status, CPU time) on its stdout pipe, which no program holds.
 *
 * A run appears to `sandbox.ts` as a child process ({@link WarmRun}: stdin, stdout, stderr, stdio[3..7]
 * as a cold run's fds, a `close` event, `kill()`), so the cold path's timers, output limit, verdicts
 * (`classifyEnding`) and fetch parsing apply unchanged. Kills (wall clock, output, caller) go to the
 * slot as `K <id>`: its worker SIGKILLs every other process of the slot.
 *
 * Lifecycle: slots start lazily, one per run waiting when none is free or cleaning up; as many stay idle as the
 * sandbox runs at once ({@link ZygoteSetup.idleSlots}), extra ones are stopped when they become idle.
 * A slot that dies ends the run it had as `sandbox_error` (as a cold run killed from outside); runs
 * waiting when slots fail to start, with no other slot alive, take the cold path. After
 * {@link MAX_START_FAILURES} failed starts in a row the pool is disabled for this process (said once
 * on stderr) and every run takes the cold path. `REWARDKIT_SANDBOX_POOL=0` disables it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { threadId } from 'node:worker_threads';
import { nativeForker } from './native.js';
import { ZYGOTE_PY } from './zygote.js';

/** Case mode's per-case limits (`SessionRequest.cases`): each case's wall-clock limit (ms) and output budget (bytes). */
export interface CaseLimits {
  wallMs: number;
  outputBytes: number;
}

/** What one run needs from a slot: its uid, limits and payload (paths already checked by `sandbox.ts`). */
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
  /** Case mode (`SessionRequest.cases`). */
  cases?: CaseLimits;
}

/** How to start a slot's sandbox: the tools and sealed root `sandbox.ts` uses for a cold run. */
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
  /** Idle slots kept ready (the number of runs the sandbox runs at once); default 2. */
  idleSlots?: number;
  /** The C compiler that builds the compiled forker (native.ts): the sandbox's `gcc`. */
  cc: string;
  /** Modules the slot's interpreter imports before forking programs (`SessionRequest.preload`); slots of another list are another pool. */
  preload?: readonly string[];
}

/** Test hooks (not part of the package API): `failStarts` makes every slot start fail. @internal */
export const warmPoolTestHooks = { failStarts: false };

/** Failed slot starts in a row after which the pool is disabled for this process. */
export const MAX_START_FAILURES = 3;

const POOL_ROOT = '/run/rewardkit-sandbox';
/** Grace for connections still in the accept queue when the slot reports a run over, ms. */
const LATE_CONNECT_MS = 250;

/*
 * A slot's sandbox: a shell in fresh mount/net/ipc/uts namespaces, as a cold run's init shell, but
 * it becomes the zygote (exec) after mounting the sealed root, binding the host's socket directory at
 * /tmp/.rk and detaching the host root (the zygote keeps a descriptor on /tmp/.rk and detaches it
 * too). The zygote then creates the pid namespace: its first child, the worker, is pid 1 there and
 * mounts that namespace's /proc over the launcher's; the zygote stays outside as the forker.
 * Arguments: mount, umount, pivot_root, skeleton, fstab, socket dir, python, setpriv.
 */
const ZYGOTE_SCRIPT = [
  'M=$1 UM=$2 PR=$3 D=$4 FS=$5 H=$6 PY=$7 SP=$8',
  '$M -a -T "$FS" || { echo "setup mount" >&2; exit 101; }',
  'mkdir "$D/tmp/.rk" && $M --bind "$H" "$D/tmp/.rk" || { echo "setup bind" >&2; exit 102; }',
  'cd "$D" && $PR . tmp && /tmp$UM -l -c /tmp || { echo "setup pivot" >&2; exit 103; }',
  'cd /tmp || exit 104',
  'unset PWD OLDPWD',
  'ulimit -c 0 && ulimit -s 65536 || { echo "setup ulimit" >&2; exit 105; }',
  // Only the capabilities the worker uses stay in its bounding set (zygote.ts drops them in each program).
  'exec $SP --bounding-set=-all,+chown,+dac_override,+kill,+setgid,+setuid,+setpcap,+sys_admin -- "$PY" /tmp/.rk/zygote.py',
].join('\n');

let warnedDisabled = false;

type Kind = 'i' | 'o' | 'e' | 'f';

/** A 16-byte length line then `body` (how the payload, the fetch list and each case's input start). */
export function framed(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${String(body.length).padStart(15, '0')}\n`, 'latin1'), body]);
}

/** Seconds as the shell's `times` prints them (`0m0.012000s`). */
function shellTime(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}m${(s - 60 * m).toFixed(6)}s`;
}

/** A run as `sandbox.ts` sees a child process. */
export class WarmRun extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  /** [stdin, stdout, stderr, archive sink, report, compile stdout, compile stderr, fetched files]. */
  readonly stdio: (PassThrough | Writable)[];
  /** Set when the run went to the cold path instead (no slot could start). */
  cold: ChildProcess | null = null;
  /** The slot running it (once handed to one). */
  slot: Slot | null = null;
  /** Sockets by kind. */
  readonly sockets: Partial<Record<Kind, Socket>> = {};
  readonly ended: Record<'o' | 'e' | 'f', boolean>;
  /** Handed to a slot (or to the cold path); emits `spawn` then. */
  sent = false;
  /** The slot said it started the run's process (`S`). */
  started = false;
  /** The host asked for the run to be killed. */
  killed = false;
  /** The slot said the run is over (`D`), or died. */
  gone = false;
  private slotDied = false;
  closed = false;
  private archive: Buffer[] = [];
  private fetchLine = '';
  constructor(
    readonly id: string,
    readonly spec: WarmSpec,
    private readonly pool: WarmPool,
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
    this.ended = { o: false, e: false, f: spec.fetch.length === 0 };
  }

  /** Host pid of the run's init (the slot's worker, pid 1 of the run's namespaces and a process-group leader; diagnostics and tests). */
  get pid(): number | undefined {
    if (this.cold) return this.cold.pid;
    return this.slot?.workerPid();
  }

  /** SIGKILLs the run (every process of it). */
  kill(_signal?: string): boolean {
    if (this.cold) {
      try {
        if (this.cold.pid !== undefined) process.kill(-this.cold.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      return true;
    }
    this.pool.killRun(this);
    return true;
  }

  /** Runs on the cold path instead: the facade's streams are wired to a cold sandbox. */
  goCold(): void {
    if (this.spec.cases) {
      // Case mode has no cold path: the caller runs each case alone.
      this.sent = true;
      this.emit('spawn');
      this.stdout.write('U no warm slot\n');
      this.finishNow(0, null);
      return;
    }
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
  attach(kind: Kind, sock: Socket, rest: Buffer): void {
    this.sockets[kind] = sock;
    sock.on('error', () => {});
    if (kind === 'i') {
      // The payload ahead of the program's stdin: header, source, files (read exactly by the program's process).
      const s = this.spec;
      const head = Buffer.from([`${s.source.length} ${s.files.length}`, ...s.files.map((f) => `${f.data.length} ${f.path}`)].join('\n'), 'utf8');
      sock.write(Buffer.concat([framed(head), s.source, ...s.files.map((f) => f.data)]));
      this.stdin.pipe(sock);
      return;
    }
    if (kind === 'f') sock.write(framed(Buffer.from(this.spec.fetch.join('\n'), 'utf8')));
    const onData = (chunk: Buffer) => {
      if (kind === 'o') this.stdout.write(chunk);
      else if (kind === 'e') this.stderr.write(chunk);
      else this.onFetched(chunk);
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

  /** `file <i> <base64> <rc>` lines of the fetch process: fd 7 of a cold run. */
  private onFetched(chunk: Buffer): void {
    this.fetchLine += chunk.toString('latin1');
    let i;
    while ((i = this.fetchLine.indexOf('\n')) >= 0) {
      const line = this.fetchLine.slice(0, i + 1);
      this.fetchLine = this.fetchLine.slice(i + 1);
      if (line.startsWith('file ')) (this.stdio[7] as PassThrough).write(Buffer.from(line.slice(5), 'latin1'));
    }
  }

  /** The slot's report (`X`): every process of the program is gone; `rest` is `<rc> <user s> <sys s>` or `setup <step>…`. */
  reported(rest: string): void {
    const report = this.stdio[4] as PassThrough;
    if (rest.startsWith('setup ')) {
      report.write(`${rest}\n`);
      return;
    }
    const [rc, user, sys] = rest.split(' ');
    // As the cold init shell's `times`: its own CPU time, then its children's (the program's processes).
    report.write(`0m0.000000s 0m0.000000s\n${shellTime(Number(user))} ${shellTime(Number(sys))}\nexit ${Number(rc)}\n`);
  }

  /** The slot is done with the run (`D`), or died (`died`). */
  over(died: boolean): void {
    if (this.gone) return;
    this.gone = true;
    this.slotDied = died;
    // Connections made before the run ended may still wait in the accept queue.
    setTimeout(() => {
      for (const k of ['o', 'e', 'f'] as const) if (!this.sockets[k]) this.ended[k] = true;
      this.maybeClose();
    }, LATE_CONNECT_MS);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.closed || this.cold || !this.gone || !this.ended.o || !this.ended.e || !this.ended.f) return;
    if (this.slotDied) this.finishNow(null, 'SIGKILL');
    else this.finishNow(0, null);
  }

  finishNow(code: number | null, sig: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    for (const k of ['i', 'o', 'e', 'f'] as const) this.sockets[k]?.destroy();
    for (const s of [this.stdout, this.stderr, this.stdio[4] as PassThrough, this.stdio[7] as PassThrough]) s.end();
    this.pool.forget(this);
    // After the streams' last 'data' and 'end' events, as a child process's 'close'.
    setImmediate(() => this.emit('close', code, sig));
  }
}

/** One slot: its sandbox (launcher process and worker), and the run it has now. */
class Slot {
  state: 'starting' | 'idle' | 'busy' | 'dead' = 'starting';
  /** When the slot last became idle (performance.now()). */
  idleSince = 0;
  run: WarmRun | null = null;
  child: ChildProcess | null = null;
  private out = '';
  private errTail = '';
  private hostPid: number | null = null;

  constructor(
    private readonly pool: WarmPool,
    private readonly setup: ZygoteSetup,
  ) {}

  start(dir: string): void {
    if (warmPoolTestHooks.failStarts) {
      setImmediate(() => this.die('the start failed (test hook)'));
      return;
    }
    const s = this.setup;
    let child: ChildProcess;
    try {
      // The pid namespace is created by the zygote itself (zygote.ts: the forker stays outside it).
      child = spawn(s.setpriv, ['--pdeathsig', 'SIGKILL', '--', s.unshare, '--net', '--mount', '--ipc', '--uts', '--',
        '/bin/sh', '-c', ZYGOTE_SCRIPT, 'sh', s.mount, s.umount, s.pivotRoot, s.skeleton, s.fstab, dir, s.python, s.setpriv], {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: s.env,
      });
    } catch (e) {
      setImmediate(() => this.die(`cannot start the slot: ${(e as Error).message}`));
      return;
    }
    this.child = child;
    child.on('error', (e) => this.die(`cannot start the slot: ${e.message}`));
    child.stdin!.on('error', () => {});
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (d: string) => this.onWorker(d));
    child.stderr!.on('data', (d: Buffer) => {
      this.errTail = (this.errTail + d.toString('utf8')).slice(-2000);
    });
    child.on('close', (code, sig) => this.die(`the slot ended (exit ${code ?? 'none'}, signal ${sig ?? 'none'})${this.errTail.trim() ? `: ${this.errTail.trim().slice(-500)}` : ''}`));
    // A slot keeps this process alive only while the pool has runs (see WarmPool.hold()).
    child.unref();
    for (const st of [child.stdin, child.stderr]) (st as unknown as { unref?: () => void }).unref?.();
  }

  /** Keeps the event loop alive (runs waiting or in flight) or not (idle). */
  hold(on: boolean): void {
    const out = this.child?.stdout as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (on) out?.ref?.();
    else out?.unref?.();
  }

  send(r: WarmRun): void {
    this.state = 'busy';
    this.run = r;
    r.slot = this;
    if (!r.sent) {
      r.sent = true;
      r.emit('spawn');
    }
    const s = r.spec;
    this.child!.stdin!.write(`R ${r.id} ${s.uid} ${s.tmpMb} ${s.cpuSoft} ${s.cpuHard} ${s.addressSpaceBytes} ${s.nproc} ${s.fileBytes} ${s.openFiles} ${s.fetch.length}${s.cases ? ` ${s.cases.wallMs} ${s.cases.outputBytes}` : ''}\n`);
  }

  kill(r: WarmRun): void {
    if (this.run === r && this.state === 'busy') this.child!.stdin!.write(`K ${r.id}\n`);
  }

  private onWorker(d: string): void {
    this.out += d;
    let i;
    while ((i = this.out.indexOf('\n')) >= 0) {
      const line = this.out.slice(0, i);
      this.out = this.out.slice(i + 1);
      const sp = line.indexOf(' ');
      const kind = sp < 0 ? line : line.slice(0, sp);
      const rest = sp < 0 ? '' : line.slice(sp + 1);
      if (kind === 'ready' || kind === 'I') {
        if (this.state === 'dead') continue;
        this.state = 'idle';
        this.idleSince = performance.now();
        this.run = null;
        this.pool.slotFree(this, kind === 'ready');
        continue;
      }
      if (kind === 'U') {
        // The worker could not prove the slot clean: it exits, and the pool starts another.
        this.errTail = `not clean after a program: ${rest}`;
        continue;
      }
      const sp2 = rest.indexOf(' ');
      const id = sp2 < 0 ? rest : rest.slice(0, sp2);
      const tail = sp2 < 0 ? '' : rest.slice(sp2 + 1);
      const r = this.run;
      if (!r || r.id !== id) continue;
      if (kind === 'S') r.started = true;
      else if (kind === 'X') r.reported(tail);
      else if (kind === 'D') {
        this.run = null;
        r.over(false);
      } else if (kind === 'F') {
        (r.stdio[4] as PassThrough).write('setup fork\n');
        r.stderr.write(`cannot fork the run: ${tail}\n`);
        this.run = null;
        r.over(false);
      }
    }
  }

  /** Host pid of the slot's worker (pid 1 of the slot's namespaces), from the launcher's children. */
  workerPid(): number | undefined {
    try {
      if (this.hostPid === null && this.child?.pid !== undefined) {
        const kids = readFileSync(`/proc/${this.child.pid}/task/${this.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        if (kids.length > 0) this.hostPid = Number(kids[0]);
      }
    } catch {
      /* gone */
    }
    return this.hostPid ?? undefined;
  }

  /** Kills the slot's sandbox (its run, if any, dies too). */
  stop(): void {
    if (this.child?.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  die(why: string): void {
    if (this.state === 'dead') return;
    const wasReady = this.state !== 'starting';
    this.state = 'dead';
    this.stop();
    const r = this.run;
    this.run = null;
    // A run the slot never started (it died idle, e.g. killed from outside, as the run was handed to
    // it) goes to another slot; one it started ends as a sandbox error.
    if (r && !r.started && !r.killed && Object.keys(r.sockets).length === 0) this.pool.requeue(r);
    else r?.over(true);
    this.pool.slotGone(this, wasReady, why);
  }
}

/** The slots of one configuration (interpreter and sealed root), their socket, their runs. */
class WarmPool {
  private readonly slots = new Set<Slot>();
  /** Runs waiting for a free slot. */
  private readonly queued: WarmRun[] = [];
  private readonly runs = new Map<string, WarmRun>();
  private server: Server | null = null;
  private dir = '';
  /** The socket is listening (slots can start). */
  private listening = false;
  dead = false;

  constructor(private readonly setup: ZygoteSetup) {}

  private prepare(): boolean {
    if (this.server) return true;
    try {
      mkdirSync(POOL_ROOT, { recursive: true, mode: 0o755 });
      sweepStale();
      this.dir = join(POOL_ROOT, `pool-${process.pid}-${threadId}-${randomBytes(6).toString('hex')}`);
      mkdirSync(this.dir, { mode: 0o700 });
      chmodSync(this.dir, 0o700);
      // REWARDKIT_POOL_PREFAULT=0: no probe, no pages made ahead (for comparisons; docs/warm-pool.md).
      let source = process.env.REWARDKIT_POOL_PREFAULT === '0' ? ZYGOTE_PY.replace('\n_RK_PREFAULT = True\n', '\n_RK_PREFAULT = False\n') : ZYGOTE_PY;
      const preload = this.setup.preload ?? [];
      if (preload.length > 0) source = source.replace('\n_RK_PRELOAD = ()\n', () => `\n_RK_PRELOAD = (${preload.map((m) => `'${m}', `).join('')})\n`);
      writeFileSync(join(this.dir, 'zygote.py'), source, { mode: 0o600 });
      const so = nativeForker(POOL_ROOT, this.setup.cc);
      if (so !== null) copyFileSync(so, join(this.dir, 'rkfork.so'));
    } catch (e) {
      noteStartFailure(`cannot prepare the pool directory: ${(e as Error).message}`);
      return false;
    }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (sock) => this.onConnection(sock));
    this.server = server;
    server.on('error', (e) => {
      noteStartFailure(`pool socket: ${e.message}`);
      this.stop();
    });
    server.listen(join(this.dir, 'sock'), () => {
      this.listening = true;
      this.balance();
    });
    return true;
  }

  /** Queues a run; it starts on the first free slot. */
  run(r: WarmRun): void {
    this.runs.set(r.id, r);
    this.queued.push(r);
    this.hold();
    if (!this.prepare()) {
      this.coldAll();
      return;
    }
    this.balance();
  }

  /** Hands waiting runs to idle slots, starts slots for the rest. */
  private balance(): void {
    if (this.dead) return;
    // The slot idle longest first: a slot that has just become idle may still be forking and
    // preparing its next program's process (the worker says `I` as soon as it asked for it).
    if (this.queued.length > 0) {
      const idle = [...this.slots].filter((s) => s.state === 'idle').sort((a, b) => a.idleSince - b.idleSince);
      for (const s of idle) {
        if (this.queued.length === 0) break;
        s.send(this.queued.shift()!);
      }
    }
    if (!this.listening || disabled) return;
    // Slots starting, and slots cleaning up after a run (done with it, about to be idle): a waiting
    // run takes one of those rather than the start of another slot (a start costs more than a
    // clean-up takes).
    let starting = 0;
    for (const s of this.slots) if (s.state === 'starting' || (s.state === 'busy' && s.run === null)) starting++;
    while (starting < this.queued.length) {
      const s = new Slot(this, this.setup);
      this.slots.add(s);
      starting++;
      s.start(this.dir);
    }
    this.hold();
  }

  slotFree(s: Slot, started: boolean): void {
    if (started) startFailures = 0;
    const next = this.queued.shift();
    if (next) {
      s.send(next);
      return;
    }
    // One idle slot more than the sandbox runs at once (a run then never waits for a slot to clean
    // up after the previous one); beyond that, this one goes.
    let idle = 0;
    for (const o of this.slots) if (o.state === 'idle') idle++;
    if (idle > (this.setup.idleSlots ?? 2) + 1) {
      this.slots.delete(s);
      s.state = 'dead';
      s.stop();
    }
    this.hold();
  }

  slotGone(s: Slot, wasReady: boolean, why: string): void {
    this.slots.delete(s);
    if (!wasReady) noteStartFailure(why);
    if (disabled || [...this.slots].every((o) => o.state === 'dead')) {
      // Nothing left to run the waiting runs (or the pool was turned off): the cold path.
      if (!wasReady || disabled) this.coldAll();
    }
    this.balance();
    this.hold();
  }

  /** A run handed to a slot that died before starting it: first in line again. */
  requeue(r: WarmRun): void {
    r.slot = null;
    this.queued.unshift(r);
  }

  private coldAll(): void {
    for (const r of this.queued.splice(0)) {
      this.runs.delete(r.id);
      r.goCold();
    }
  }

  killRun(r: WarmRun): void {
    if (r.closed) return;
    r.killed = true;
    const q = this.queued.indexOf(r);
    if (q >= 0) {
      this.queued.splice(q, 1);
      r.over(true);
      return;
    }
    r.slot?.kill(r);
  }

  forget(r: WarmRun): void {
    this.runs.delete(r.id);
    this.hold();
  }

  /** Keeps the event loop alive while runs wait or are in flight, and not when every slot is idle. */
  private hold(): void {
    const on = this.runs.size > 0;
    for (const s of this.slots) s.hold(on);
    if (on) this.server?.ref();
    else this.server?.unref();
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
      if (!r || r.closed || r.cold || !(kind === 'i' || kind === 'o' || kind === 'e' || kind === 'f') || r.sockets[kind]) {
        sock.destroy();
        return;
      }
      r.attach(kind, sock, head.subarray(nl + 1));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  }

  pids(): number[] {
    return [...this.slots].map((s) => s.child?.pid).filter((p): p is number => p !== undefined);
  }

  /** Stops every slot (their runs in flight end as `sandbox_error`) and the socket. */
  stop(): void {
    this.dead = true;
    for (const s of [...this.slots]) s.die('the pool was stopped');
    this.coldAll();
    this.server?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
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

/** The pool of this configuration, and how many slot starts failed in a row. */
const pools = new Map<string, WarmPool>();
let startFailures = 0;
let disabled = process.env.REWARDKIT_SANDBOX_POOL === '0';
let cleanupHooked = false;

function noteStartFailure(why: string): void {
  startFailures++;
  if (startFailures >= MAX_START_FAILURES && !disabled) {
    disabled = true;
    if (!warnedDisabled) {
      warnedDisabled = true;
      process.stderr.write(`rewardkit: the warm sandbox pool could not start (${why}); Python programs run on the cold sandbox path\n`);
    }
  }
}

/** Whether the pool is in use (not disabled by `REWARDKIT_SANDBOX_POOL=0`, {@link setWarmPool} or failed starts). */
export function warmPoolEnabled(): boolean {
  return !disabled;
}

/**
 * Turns the pool on or off for this process (off: every Python run takes the cold path; idle slots
 * stay up for when it is turned on again — {@link stopWarmPools} ends them). Turning it on again also
 * forgets earlier start failures.
 */
export function setWarmPool(on: boolean): void {
  disabled = !on;
  if (on) startFailures = 0;
}

/** Stops every slot of this process (their runs in flight end as `sandbox_error`). */
export function stopWarmPools(): void {
  for (const p of pools.values()) p.stop();
  pools.clear();
}

/** The pool for this setup, or null when the pool is off. */
function poolFor(setup: ZygoteSetup): WarmPool | null {
  if (disabled) return null;
  const base = `${setup.python}\0${setup.skeleton}\0${setup.fstab}\0`;
  const key = `${base}${(setup.preload ?? []).join(',')}`;
  const p = pools.get(key);
  if (p && !p.dead) return p;
  // A configuration change (another interpreter) retires the slots of the old one; pools of the
  // same configuration with other preloaded modules stay.
  for (const [k, other] of pools) {
    if (!k.startsWith(base)) {
      other.stop();
      pools.delete(k);
    }
  }
  const made = new WarmPool(setup);
  pools.set(key, made);
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.on('exit', stopWarmPools);
  }
  return made;
}

/**
 * Starts a run on the warm pool, or returns null when the pool is off (the caller takes the cold
 * path). `coldStart` starts the same run on the cold path (used when no slot can start while the
 * run waits for one).
 */
export function warmSpawn(setup: ZygoteSetup, spec: WarmSpec, coldStart: () => ChildProcess): WarmRun | null {
  const p = poolFor(setup);
  if (p === null) return null;
  const r = new WarmRun(randomBytes(12).toString('hex'), spec, p, coldStart);
  p.run(r);
  return r;
}

/** Launcher pids (process-group leaders) of the slots alive now (tests: kill them and check that the pool recovers). */
export function warmZygotePids(): number[] {
  return [...pools.values()].flatMap((p) => p.pids());
}
