/**
 * A process sandbox for untrusted programs (Python 3 and JavaScript/Node), built only from what a
 * Debian machine ships: util-linux `unshare`, `mount` and `setpriv`, and `/bin/sh`'s `ulimit`.
 *
 * One run = one fresh set of Linux namespaces:
 * - **network**: a new, empty network namespace (not even loopback is up) — every connection fails;
 * - **pid** (with a private `/proc`): the program sees only its own processes; the namespace's init
 *   is a root shell that never changes credentials and belongs to the run's process group, so the
 *   parent's group kill reaches it, and its death ends every process of the run — including daemons
 *   that called `setsid()`;
 * - **mount**: `/` is re-mounted read-only *inside the namespace*, `/tmp` (the working directory)
 *   and `/dev/shm` are fresh size-limited tmpfs mounts that vanish with the namespace — nothing a run
 *   writes survives it, and there is nothing to clean up on the host even after a SIGKILL;
 * - **ipc** and **uts**.
 * If this (the parent) process dies, the kernel kills the run too (parent-death signal).
 * The program runs under a random unprivileged uid/gid (no supplementary groups, no capabilities,
 * `no_new_privs`), so it cannot undo any of this, cannot read other processes' `/proc/<pid>/environ`,
 * and its process count is its own. Its environment is fixed (`PATH`, `HOME=/tmp`, `LANG=C.UTF-8`):
 * nothing of the server's environment reaches it.
 *
 * Limits (rlimits set by the namespace's shell before it drops privileges): CPU seconds (SIGXCPU,
 * then SIGKILL a second later), address space, process/thread count (RLIMIT_NPROC, per uid), file
 * size, open files, no core dumps, and a 64 MiB stack (deep recursion, as judges allow). The parent enforces the wall-clock limit and the output limit: on
 * either it SIGKILLs the whole process group. Stdout+stderr beyond the output limit stop the run.
 *
 * Needs Linux and root (CAP_SYS_ADMIN for the namespaces and mounts, CAP_SETUID to drop to the
 * sandbox uid). Without them every run reports `sandbox_error` — it never falls back to running the
 * program unsandboxed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PassThrough } from 'node:stream';

/** Languages the sandbox can run. */
export type SandboxLanguage = 'python' | 'javascript';

/** Resource limits of one run. Every field has a default ({@link DEFAULT_LIMITS}). */
export interface SandboxLimits {
  /** Wall-clock limit in milliseconds (the parent kills the process group when it passes). */
  timeoutMs: number;
  /** CPU-time limit in seconds per process (RLIMIT_CPU); default: the wall limit rounded up. */
  cpuSeconds?: number;
  /**
   * Memory in MiB. Python: the address-space limit (RLIMIT_AS). JavaScript: V8's old-space limit
   * (`--max-old-space-size`), with an address-space limit 1 GiB higher because V8 reserves virtual
   * memory up front.
   */
  memoryMb: number;
  /** Processes and threads the program may start besides the interpreter's own (RLIMIT_NPROC, per run). */
  maxProcesses: number;
  /** Bytes of stdout + stderr; a run that writes more is killed (`output_limit`). */
  maxOutputBytes: number;
  /** Largest file the program may write, in bytes (RLIMIT_FSIZE). */
  maxFileBytes: number;
  /** Size of the private `/tmp` (working directory) in MiB. */
  tmpMb: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  maxOpenFiles: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 5000,
  memoryMb: 512,
  maxProcesses: 8,
  maxOutputBytes: 8 << 20,
  maxFileBytes: 16 << 20,
  tmpMb: 64,
  maxOpenFiles: 256,
});

/**
 * How a run ended:
 * - `ok`: exit code 0; `runtime_error`: non-zero exit or a fatal signal;
 * - `compile_error`: the interpreter rejected the source before running it (a SyntaxError at load);
 * - `timeout`: the wall-clock or CPU limit was reached; `memory_limit`: the interpreter reported
 *   running out of memory (Python `MemoryError`, V8 heap/allocation failure);
 * - `output_limit`: stdout + stderr exceeded the limit; `sandbox_error`: the sandbox itself failed
 *   (the program's behaviour cannot produce this).
 */
export type RunStatus = 'ok' | 'runtime_error' | 'compile_error' | 'timeout' | 'memory_limit' | 'output_limit' | 'sandbox_error';

export interface RunRequest {
  language: SandboxLanguage;
  /** The program's source. */
  code: string;
  /** Bytes written to the program's stdin (then closed). */
  stdin?: string;
  limits?: Partial<SandboxLimits>;
}

export interface RunResult {
  status: RunStatus;
  /** The program's exit code, when it exited by itself. */
  exitCode: number | null;
  /** The signal that ended the program (e.g. `SIGKILL`, `SIGXCPU`), when one did. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole run (sandbox set-up included), in milliseconds. */
  wallMs: number;
  /** One sentence on what happened when status is not `ok`. */
  message?: string;
}

/** Interpreters and pool size used by every run of this process. */
export interface SandboxConfig {
  /** Python 3 interpreter; must be readable by an unprivileged uid (default: /usr/bin/python3). */
  python: string;
  /** Node interpreter (default: this process's node when it lives outside /root, else /usr/bin/node). */
  node: string;
  /** Runs executing at once in this process (default: the number of CPUs). */
  concurrency: number;
}

function defaultPython(): string {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3']) if (existsSync(p)) return p;
  return '/usr/bin/python3';
}

function defaultNode(): string {
  const own = process.execPath;
  if (!own.startsWith('/root/') && !own.startsWith('/home/')) return own;
  return existsSync('/usr/bin/node') ? '/usr/bin/node' : own;
}

let config: SandboxConfig | null = null;
function currentConfig(): SandboxConfig {
  return (config ??= { python: defaultPython(), node: defaultNode(), concurrency: Math.max(1, availableParallelism()) });
}

/** The configuration in force (interpreters, pool size). */
export function sandboxConfig(): SandboxConfig {
  return { ...currentConfig() };
}

/** Changes the interpreters or the pool size for later runs; returns the configuration in force. */
export function configureSandbox(patch: Partial<SandboxConfig> = {}): SandboxConfig {
  const next = { ...currentConfig(), ...patch };
  if (!Number.isInteger(next.concurrency) || next.concurrency < 1) throw new Error(`concurrency must be a positive integer, got ${next.concurrency}`);
  config = next;
  pool.resize(next.concurrency);
  return { ...next };
}

/**
 * A counting semaphore over run slots, FIFO: a request for n slots waits until n are free at once
 * (n capped at the pool size), so a group never holds part of its slots while waiting for the rest.
 */
class Pool {
  private active = 0;
  private readonly waiting: { n: number; grant: (k: number) => void }[] = [];
  constructor(private size: number) {}
  resize(size: number): void {
    this.size = size;
    this.drain();
  }
  private drain(): void {
    while (this.waiting.length > 0) {
      const k = Math.min(this.waiting[0]!.n, this.size);
      if (this.active + k > this.size) return;
      this.active += k;
      this.waiting.shift()!.grant(k);
    }
  }
  /** Waits for min(n, size) slots together; resolves with the number granted. */
  acquire(n: number): Promise<number> {
    return new Promise<number>((grant) => {
      this.waiting.push({ n, grant });
      this.drain();
    });
  }
  release(k: number): void {
    this.active -= k;
    this.drain();
  }
}
const pool = new Pool(Math.max(1, availableParallelism()));

const TOOLS = { unshare: ['/usr/bin/unshare', '/bin/unshare'], setpriv: ['/usr/bin/setpriv', '/bin/setpriv'], mount: ['/usr/bin/mount', '/bin/mount'], sh: ['/bin/sh'] };

let support: { ok: true; unshare: string; setpriv: string; mount: string } | { ok: false; reason: string } | null = null;

/**
 * Whether this process can sandbox programs, and if not, why (checked once: platform, root, tools,
 * interpreters). It does not run a probe; the first run reports any failure of the set-up itself.
 */
export function sandboxSupport(): { ok: boolean; reason?: string } {
  if (support === null) {
    const find = (c: string[]) => c.find((p) => existsSync(p));
    const unshare = find(TOOLS.unshare);
    const setpriv = find(TOOLS.setpriv);
    const mount = find(TOOLS.mount);
    if (process.platform !== 'linux') support = { ok: false, reason: `the code sandbox needs Linux namespaces (platform is ${process.platform})` };
    else if (typeof process.getuid !== 'function' || process.getuid() !== 0)
      support = { ok: false, reason: 'the code sandbox needs root (namespaces, private mounts and a switch to an unprivileged uid)' };
    else if (!unshare || !setpriv || !mount || !find(TOOLS.sh))
      support = { ok: false, reason: 'the code sandbox needs util-linux (unshare, setpriv, mount) and /bin/sh' };
    else support = { ok: true, unshare, setpriv, mount };
  }
  return support.ok ? { ok: true } : { ok: false, reason: support.reason };
}

/*
 * The script run as pid 1 of the new namespaces (root, inside the new mount namespace). Arguments:
 * mount, setpriv, uid, tmp MiB, cpu soft, cpu hard, address space KiB, nproc, fsize (512-byte blocks,
 * as dash's ulimit counts), nofile, program file name, then the interpreter's argv.
 * fd 3 carries the program source in; fd 4 carries the program's CPU time (`times`) and "exit <status>"
 * (or "setup <step>") out — the
 * program has neither, so it cannot forge the sandbox's report. The shell stays pid 1 (it waits for
 * the program instead of exec-ing it) so that the kill-on-parent-death signal set by unshare survives.
 */
const SCRIPT = [
  'fail() { echo "setup $1" >&4; exit 0; }',
  'M=$1 S=$2 U=$3 T=$4 C=$5 CH=$6 AS=$7 P=$8 F=$9 N=${10} PROG=${11}; shift 11',
  '$M -o remount,bind,ro / || fail remount',
  '$M -t tmpfs -o size=${T}m,nr_inodes=4096,mode=1777,nosuid,nodev rk /tmp || fail tmpfs',
  '$M -t tmpfs -o size=${T}m,nr_inodes=256,mode=1777,nosuid,nodev rk /dev/shm || fail shm',
  'cd /tmp || fail cd',
  'cat <&3 >"$PROG" || fail write',
  'exec 3<&-',
  'unset PWD OLDPWD',
  'ulimit -c 0 && ulimit -s 65536 && ulimit -f $F && ulimit -n $N && ulimit -v $AS && ulimit -p $P && ulimit -S -t $C && ulimit -H -t $CH || fail ulimit',
  '$S --reuid=$U --regid=$U --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@" 4>&-',
  'R=$?',
  'times >&4', // two lines: the shell's own CPU time, then its children's (the program's process)
  'echo "exit $R" >&4',
].join('\n');

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

/** Interpreter tasks that count against RLIMIT_NPROC before the program starts anything (node runs ~11 threads). */
const BASE_TASKS: Record<SandboxLanguage, number> = { python: 2, javascript: 16 };

function isCompileError(language: SandboxLanguage, stderr: string): boolean {
  if (language === 'python') {
    // A syntax error in the main script is reported before any frame runs: no traceback header.
    return !stderr.includes('Traceback (most recent call last)') && /^(SyntaxError|IndentationError|TabError): /m.test(stderr);
  }
  // A parse failure of the entry module is thrown by the loader's compile step, not by user code.
  return /^SyntaxError: .*\n\s+at (wrapSafe|compileSourceTextModule|internalCompileFunction|Module\._compile)\b/m.test(stderr);
}

function isMemoryError(language: SandboxLanguage, stderr: string): boolean {
  if (language === 'python') return /^MemoryError\b/m.test(stderr);
  return /JavaScript heap out of memory|Array buffer allocation failed|FATAL ERROR: .*(Allocation failed|out of memory)|Fatal process out of memory/.test(stderr);
}

function resolveLimits(l: Partial<SandboxLimits> | undefined): SandboxLimits {
  const out = { ...DEFAULT_LIMITS, ...(l ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`sandbox limit ${k} must be a positive number, got ${String(v)}`);
  }
  return out;
}

/**
 * Runs one program in a fresh sandbox (see the module comment) and reports how it ended. Runs of
 * this process share one pool ({@link configureSandbox}); a run waits for a free slot first.
 * Never throws for anything the program does; a bad request (unknown language, invalid limits)
 * rejects.
 *
 * @example
 * const r = await runInSandbox({ language: 'python', code: 'print(int(input()) * 2)', stdin: '21\n' });
 * // r → { status: 'ok', exitCode: 0, signal: null, stdout: '42\n', stderr: '', wallMs: 61 }
 */
export async function runInSandbox(req: RunRequest): Promise<RunResult> {
  const limits = checkRequest(req);
  await pool.acquire(1);
  try {
    const run = launch(req.language, req.code, limits, 'capture');
    run.stdin.on('error', () => {}); // EPIPE when the program exits without reading its input
    run.stdin.end(req.stdin ?? '');
    return await run.result;
  } finally {
    pool.release(1);
  }
}

/** A sandboxed process with live stdin/stdout, for interactive protocols (a test harness talking to a program). */
export interface SandboxSession {
  /** The process's stdin (the caller writes and ends it). */
  readonly stdin: NodeJS.WritableStream;
  /** The process's stdout (raw bytes; the caller consumes it — the RunResult's stdout is then ''). Stops at the output limit. */
  readonly stdout: NodeJS.ReadableStream;
  /** Resolves once the process tree ended: same statuses/messages as runInSandbox (stderr kept, stdout ''). */
  readonly result: Promise<RunResult>;
  /** SIGKILLs the run's process group (idempotent). */
  kill(): void;
  /** Host pid of the run's process-group leader (diagnostics and tests); undefined when the sandbox could not start. */
  readonly pid: number | undefined;
}

/** One program to open as a {@link SandboxSession}. */
export interface SessionRequest {
  language: SandboxLanguage;
  code: string;
  limits?: Partial<SandboxLimits>;
}

/**
 * Opens n sessions together: waits until n pool slots are free (FIFO, all at once, so two pairs can never deadlock
 * holding one slot each; n greater than the pool size takes the whole pool), each slot released as its run ends.
 * Each session is a separate sandbox (own namespaces, own random uid): sessions cannot signal, trace or read each
 * other; they talk only through the caller. The wall-clock limit runs from the moment the sessions start, so a
 * session nobody writes to or reads from still ends. A bad request (unknown language, invalid limits) rejects
 * before any slot is taken.
 *
 * @example
 * const [a, b] = await openSandboxes([{ language: 'python', code: 'print(int(input()) + 1)' }, { language: 'javascript', code: 'process.stdin.pipe(process.stdout)' }]);
 * a.stdout.pipe(b.stdin); a.stdin.end('41\n');
 * // b.stdout yields '42\n'; (await a.result).status → 'ok'
 */
export async function openSandboxes(reqs: SessionRequest[]): Promise<SandboxSession[]> {
  const checked = reqs.map((r) => checkRequest(r));
  if (reqs.length === 0) return [];
  let held = await pool.acquire(reqs.length);
  let running = reqs.length;
  return reqs.map((r, i) => {
    const run = launch(r.language, r.code, checked[i]!, 'stream');
    run.stdin.on('error', () => {}); // EPIPE when the program exits without reading its input
    void run.result.then(() => {
      running--;
      if (held > running) {
        held--;
        pool.release(1);
      }
    });
    return run;
  });
}

function checkRequest(req: { language: SandboxLanguage; code: string; limits?: Partial<SandboxLimits> }): SandboxLimits {
  if (req.language !== 'python' && req.language !== 'javascript') throw new Error(`unsupported language ${String(req.language)}`);
  if (typeof req.code !== 'string') throw new Error('code must be a string');
  return resolveLimits(req.limits);
}

function sandboxError(message: string, wallMs = 0): RunResult {
  return { status: 'sandbox_error', exitCode: null, signal: null, stdout: '', stderr: '', wallMs, message };
}

/** A run that could not start: its streams are inert and its result is the sandbox error. */
function failedRun(message: string): SandboxSession {
  const stdout = new PassThrough();
  stdout.end();
  const stdin = new PassThrough();
  stdin.resume();
  return { stdin, stdout, result: Promise.resolve(sandboxError(message)), kill() {}, pid: undefined };
}

/** Kernel OOM kills so far (host-wide; /proc/vmstat), or null where the kernel does not count them. */
function oomKills(): number | null {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The one spawn path of the sandbox: starts the program in fresh namespaces and returns its live
 * streams and its result. `capture` collects stdout into the result (runInSandbox); `stream` hands
 * stdout to the caller (sessions). Never throws: a failure to start is the result's sandbox_error.
 */
function launch(lang: SandboxLanguage, code: string, limits: SandboxLimits, mode: 'capture' | 'stream'): SandboxSession {
  const sup = sandboxSupport();
  if (!sup.ok || support === null || !support.ok) return failedRun(sup.reason ?? 'sandbox unavailable');
  const tools = support;
  const cfg = currentConfig();
  const uid = randomInt(1_000_000, 1_999_999_999);
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds ?? limits.timeoutMs / 1000));
  const memKb = Math.ceil(limits.memoryMb * 1024);
  const asKb = lang === 'javascript' ? memKb + (1 << 20) : memKb;
  const nproc = BASE_TASKS[lang] + Math.floor(limits.maxProcesses);
  const fsizeBlocks = Math.max(1, Math.ceil(limits.maxFileBytes / 512));
  const file = lang === 'python' ? 'prog.py' : 'prog.js';
  const argv =
    lang === 'python'
      ? [cfg.python, file]
      : [cfg.node, `--max-old-space-size=${Math.max(16, Math.floor(limits.memoryMb))}`, file];
  const args = [
    '--net', '--pid', '--fork', '--kill-child', '--mount', '--ipc', '--uts', '--mount-proc', '--',
    '/bin/sh', '-c', SCRIPT, 'sh', tools.mount, tools.setpriv,
    String(uid), String(Math.max(1, Math.ceil(limits.tmpMb))), String(cpu), String(cpu + 1), String(asKb), String(nproc),
    String(fsizeBlocks), String(Math.max(16, Math.floor(limits.maxOpenFiles))), file, ...argv,
  ];

  const started = performance.now();
  const oomBefore = oomKills();
  let child: ChildProcess;
  try {
    // setpriv (still root) arms a SIGKILL for unshare when this process dies; unshare's --kill-child
    // passes it on to the namespace's init, whose death ends every process of the run.
    child = spawn(tools.setpriv, ['--pdeathsig', 'SIGKILL', '--', tools.unshare, ...args], {
      detached: true, // own process group: the timeout kills the group
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
    });
  } catch (e) {
    return failedRun(`could not start the sandbox: ${(e as Error).message}`);
  }
  const pid = child.pid;
  let killedFor: 'timeout' | 'output_limit' | 'caller' | null = null;
  let spawnError: string | null = null;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  let report = '';
  const live = mode === 'stream' ? new PassThrough() : null;

  const killGroup = () => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const timer = setTimeout(() => {
    killedFor ??= 'timeout';
    killGroup();
  }, limits.timeoutMs);

  const onData = (which: 'out' | 'err') => (chunk: Buffer) => {
    if (killedFor === 'output_limit') return;
    const room = limits.maxOutputBytes - outBytes - errBytes;
    if (which === 'out') {
      outBytes += chunk.length;
      if (live) live.write(chunk.length > room ? chunk.subarray(0, Math.max(0, room)) : chunk);
      else out.push(chunk);
    } else {
      errBytes += chunk.length;
      err.push(chunk);
    }
    if (outBytes + errBytes > limits.maxOutputBytes) {
      killedFor ??= 'output_limit';
      killGroup();
    }
  };
  // Read in flowing mode whatever the caller does: the run's end never waits for a slow reader
  // (a session's unread stdout is buffered, at most the output limit).
  child.stdout!.on('data', onData('out'));
  child.stderr!.on('data', onData('err'));
  if (live) child.stdout!.on('end', () => live.end());
  const status = child.stdio[4] as NodeJS.ReadableStream;
  status.on('data', (c: Buffer) => {
    if (report.length < 512) report += c.toString('utf8');
  });
  status.on('error', () => {});
  const src = child.stdio[3] as NodeJS.WritableStream;
  src.on('error', () => {});
  src.end(code);
  child.on('error', (e) => {
    spawnError = e.message;
  });

  const result = new Promise<RunResult>((resolve) => {
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      if (live && !live.writableEnded) live.end();
      const wallMs = performance.now() - started;
      if (spawnError !== null) {
        resolve(sandboxError(`could not start the sandbox: ${spawnError}`, wallMs));
        return;
      }
      const stdout = live ? '' : Buffer.concat(out).subarray(0, limits.maxOutputBytes).toString('utf8');
      const stderr = Buffer.concat(err).subarray(0, limits.maxOutputBytes).toString('utf8');
      resolve(
        classify({ lang, limits, cpu, stdout, stderr, wallMs, killedFor, report, outerCode: code, outerSignal: sig, oomBefore }),
      );
    });
  });
  return {
    stdin: child.stdin!,
    stdout: live ?? child.stdout!,
    result,
    pid,
    kill() {
      killedFor ??= 'caller';
      killGroup();
    },
  };
}

interface Ending {
  lang: SandboxLanguage;
  limits: SandboxLimits;
  cpu: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  killedFor: 'timeout' | 'output_limit' | 'caller' | null;
  report: string;
  outerCode: number | null;
  outerSignal: NodeJS.Signals | null;
  oomBefore: number | null;
}

/** How a run ended, from the evidence the program cannot forge: our own kills, the report on fd 4, CPU accounting, the kernel's OOM counter. */
function classify(e: Ending): RunResult {
  const { lang, limits, cpu, stdout, stderr, wallMs } = e;
  const base = { stdout, stderr, wallMs };
  if (e.killedFor === 'timeout') return { ...base, status: 'timeout', exitCode: null, signal: 'SIGKILL', message: `killed after the ${limits.timeoutMs} ms wall-clock limit` };
  if (e.killedFor === 'output_limit')
    return { ...base, status: 'output_limit', exitCode: null, signal: 'SIGKILL', message: `killed after writing more than ${limits.maxOutputBytes} bytes of output` };
  if (e.killedFor === 'caller') return { ...base, status: 'runtime_error', exitCode: null, signal: 'SIGKILL', message: 'killed by the caller' };
  const m = /^(exit|setup) (\S+)/m.exec(e.report);
  if (!m) {
    // The namespace's init (root, out of the program's reach) died without reporting: something outside killed the run.
    const why = stderr.trim().slice(-300);
    return { ...sandboxError(`the sandbox ended without a report (exit ${e.outerCode ?? 'none'}, signal ${e.outerSignal ?? 'none'}; killed from outside?)${why ? `: ${why}` : ''}`, wallMs), stdout, stderr };
  }
  if (m[1] === 'setup') return { ...sandboxError(`sandbox set-up failed at step "${m[2]}": ${stderr.trim().slice(-300)}`, wallMs), stdout };
  const rc = Number(m[2]);
  if (rc === 0) return { ...base, status: 'ok', exitCode: 0, signal: null };
  // The shell reports death by signal n as 128 + n.
  const signal = rc > 128 && rc - 128 in SIGNALS ? SIGNALS[rc - 128]! : null;
  const exitCode = signal === null ? rc : null;
  if (signal === 'SIGXCPU') return { ...base, status: 'timeout', exitCode, signal, message: `killed at the ${cpu} s CPU-time limit` };
  if (signal === 'SIGKILL') {
    // We did not send it. The kernel sends SIGKILL at the hard CPU limit (cpu + 1 s): the CPU time
    // the program's process used (reported by the init shell) says whether that was it.
    const used = cpuUsed(e.report);
    if (used !== null ? used >= cpu + 0.5 : wallMs >= (cpu + 1) * 1000) return { ...base, status: 'timeout', exitCode, signal, message: `killed at the ${cpu} s CPU-time limit` };
    const oomAfter = oomKills();
    if (e.oomBefore !== null && oomAfter !== null && oomAfter > e.oomBefore)
      return { ...sandboxError('killed by the kernel OOM killer (the host ran out of memory, not the program of its limit)', wallMs), stdout, stderr };
  }
  if (isMemoryError(lang, stderr)) return { ...base, status: 'memory_limit', exitCode, signal, message: `ran out of memory (limit ${limits.memoryMb} MiB)` };
  if (signal === null && isCompileError(lang, stderr)) return { ...base, status: 'compile_error', exitCode, signal, message: 'the program does not compile' };
  if (signal === 'SIGXFSZ') return { ...base, status: 'runtime_error', exitCode, signal, message: `wrote a file larger than ${limits.maxFileBytes} bytes` };
  return { ...base, status: 'runtime_error', exitCode, signal, message: signal ? `killed by ${signal}` : `exited with code ${rc}` };
}

/** User + system CPU seconds of the program's process (dash's `times`, second line: the children of the init shell). */
function cpuUsed(report: string): number | null {
  const lines = [...report.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)];
  const m = lines[1];
  if (!m) return null;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}
