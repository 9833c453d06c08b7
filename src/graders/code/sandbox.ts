/**
 * A process sandbox for untrusted programs — Python 3, JavaScript (Node), C, C++, Java, Go, Rust and
 * bash — built only from what a Debian machine ships: util-linux `unshare`, `mount`, `umount`,
 * `pivot_root` and `setpriv`, `tar`, and `/bin/sh`'s `ulimit`. Compiled languages are compiled inside
 * the same sealed sandbox, as the same unprivileged uid, with their own limits (the compiler reads
 * untrusted source: it is attack surface too), the binary written to the private `/tmp`, then run
 * ({@link runProgram}); the toolchain (gcc/g++ with cc1, as, ld, headers and crt files; the JDK; the
 * GOROOT; rustc and its sysroot plus gcc as its linker; bash plus a fixed set of text tools) is
 * mounted read-only like an interpreter.
 *
 * One run = one fresh set of Linux namespaces (network, pid, mount, ipc, uts) and a fresh random
 * unprivileged uid/gid. **What a program can see:**
 * - **Files: a sealed root, nothing of the host.** `/` is an empty read-only skeleton into which
 *   the run bind-mounts, read-only (`nosuid,nodev`): the interpreter binary (every hop of its
 *   symlink chain), its standard library and package directories as the interpreter itself reports
 *   them (Python: the `sys.path` and `sysconfig` directories under its own prefixes — a `.pth` entry
 *   elsewhere, such as an editable install of a project, is left out; a venv's own directory and its
 *   base's stdlib), the
 *   directories of the shared libraries `ldd` lists for it (e.g. `/usr/lib/x86_64-linux-gnu`), the
 *   loader and `/etc/ld.so.cache`, and `setpriv`. Plus: a private, size-limited tmpfs `/tmp` (the
 *   working directory, holding only the source file, the request's `files` and what the compiler writes) and `/dev/shm`; `/dev` with only `null`,
 *   `zero`, `random`, `urandom`; a fresh `/proc` of the run's own pid namespace (`hidepid`: only the
 *   program's own processes). The run `pivot_root`s into it and detaches the host root entirely: no
 *   `/etc/passwd`, no `/home`, `/root`, `/work`, `/var`, `/srv`, `/sys`, no host `/tmp`, no project,
 *   no dataset or rollouts file, no executables but the language's toolchain, `setpriv`, `umount` and
 *   `base64` (bash also gets `/bin/sh` and the text tools) — Python's `subprocess` works only with
 *   `sys.executable`. Everything outside `/tmp` and `/dev/shm` is read-only (and root-owned); both
 *   vanish with the run: nothing a run writes survives it or is seen by another run.
 * - **Processes:** only its own (pid namespace); the namespace's init is a root shell, hidden from
 *   it, that the program cannot signal. Each run (and each {@link SandboxSession}) has its own uid,
 *   so runs cannot signal, trace or read one another.
 * - **Network:** none — a new, empty network namespace (not even loopback is up).
 * - **Environment:** fixed (`PATH`, `HOME=/tmp`, `LANG=C.UTF-8`); nothing of the server's.
 * **What it can do:** compute, read its stdin, write stdout/stderr (up to the output limit), read
 * the interpreter's own files, write inside `/tmp` and `/dev/shm`, start threads and processes up to
 * the process limit. It cannot regain privileges (no capabilities, no supplementary groups,
 * `no_new_privs`, nosuid mounts) and so cannot undo any of this.
 *
 * Limits (rlimits set by the namespace's shell before it drops privileges): CPU seconds (SIGXCPU,
 * then SIGKILL a second later), address space, process/thread count (RLIMIT_NPROC, per uid), file
 * size, open files, no core dumps, and a 64 MiB stack (deep recursion, as judges allow). The parent
 * enforces the wall-clock limit and the output limit: on either it SIGKILLs the whole process group.
 * If this (the parent) process dies, the kernel kills the run too (parent-death signal), and the
 * death of the namespace's init ends every process of the run, including `setsid()` daemons.
 *
 * **How a run's end is judged** (evidence the program cannot forge): the init shell reports the
 * program's exit status and CPU time on a descriptor the program does not hold. Our own kills
 * (wall clock, output, caller) are tracked. A SIGKILL we did not send is the CPU limit when the
 * program used its CPU allowance, else a `sandbox_error` when the kernel's OOM-kill counter rose
 * during the run (the host ran out of memory) — otherwise the program's own doing (it may SIGKILL
 * itself): a runtime error. A run whose init dies without a report (the run's process group killed
 * from outside) is a `sandbox_error`. A program that exhausts its own memory limit (`MemoryError`,
 * V8 heap) is `memory_limit`.
 *
 * **Python runs come from a warm pool** (`pool/warm.ts`, `pool/zygote.ts`): long-lived slots, each
 * one such sealed sandbox (namespaces and sealed root created once) whose pid 1 is a warm Python
 * worker; per program the worker forks the program's process, which takes the run's own uid, a fresh
 * IPC namespace and session keyring, the same rlimits and a fresh tmpfs `/tmp` and `/dev/shm`; after
 * it every process left is killed and the slot is checked clean (or thrown away) before the next
 * program — same guarantees and verdicts, without starting a sandbox and an interpreter per run
 * (docs/warm-pool.md). `REWARDKIT_SANDBOX_POOL=0` (or `setWarmPool(false)`) turns it off; a pool that
 * cannot start falls back to the path described here.
 *
 * Needs Linux and root (CAP_SYS_ADMIN for the namespaces and mounts, CAP_SETUID to drop to the
 * sandbox uid). Without them every run reports `sandbox_error` — it never falls back to running the
 * program unsandboxed. Mount-point skeletons (empty directories and files, no content) are kept in
 * `/run/rewardkit-sandbox`, one per interpreter layout, shared by every process of the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { warmSpawn, type CaseLimits, type WarmRun } from './pool/warm.js';

/**
 * Languages the sandbox can run. Compiled languages (`c`, `cpp`, `java`, `go`, `rust`) have a compile
 * phase, run inside the same sealed sandbox as the program (the compiler reads untrusted source), then a
 * run phase; see {@link runProgram}.
 */
export type SandboxLanguage = 'python' | 'javascript' | 'c' | 'cpp' | 'java' | 'go' | 'rust' | 'bash';

/** Every {@link SandboxLanguage}, in a stable order. */
export const SANDBOX_LANGUAGES: readonly SandboxLanguage[] = Object.freeze(['python', 'javascript', 'c', 'cpp', 'java', 'go', 'rust', 'bash']);

/** Languages with a compile phase. */
export const COMPILED_LANGUAGES: ReadonlySet<SandboxLanguage> = new Set(['c', 'cpp', 'java', 'go', 'rust']);

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

/** Interpreters, toolchains and pool size used by every run of this process. */
export interface SandboxConfig {
  /** Python 3 interpreter, e.g. a venv's `bin/python` (its venv and base install are mounted); must be readable by an unprivileged uid (default: /usr/bin/python3). */
  python: string;
  /** Node interpreter (default: this process's node when it lives outside /root, else /usr/bin/node). */
  node: string;
  /** C compiler driver (default /usr/bin/gcc); also the linker driver rustc calls. */
  gcc: string;
  /** C++ compiler driver (default /usr/bin/g++). */
  gxx: string;
  /** JDK home holding bin/javac and bin/java (default: the JDK of /usr/bin/javac). */
  jdk: string;
  /** The go command (default /usr/bin/go); its GOROOT is mounted. */
  go: string;
  /** rustc (default /usr/bin/rustc: a real compiler, not a rustup proxy); its sysroot is mounted. */
  rustc: string;
  /** bash (default /bin/bash); a fixed set of text tools (coreutils, grep, sed, awk) is mounted beside it. */
  bash: string;
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

function defaultJdk(): string {
  for (const javac of ['/usr/bin/javac', '/usr/local/bin/javac']) {
    try {
      return dirname(dirname(realpathSync(javac)));
    } catch {
      /* not installed */
    }
  }
  return '/usr/lib/jvm/default-java';
}

let config: SandboxConfig | null = null;
function currentConfig(): SandboxConfig {
  // `rewardkit serve --python/--sandbox-concurrency` passes its settings to scoring worker threads this way.
  const envConcurrency = Number(process.env.REWARDKIT_SANDBOX_CONCURRENCY);
  return (config ??= {
    python: process.env.REWARDKIT_SANDBOX_PYTHON || defaultPython(),
    node: defaultNode(),
    gcc: '/usr/bin/gcc',
    gxx: '/usr/bin/g++',
    jdk: defaultJdk(),
    go: '/usr/bin/go',
    rustc: '/usr/bin/rustc',
    bash: '/bin/bash',
    concurrency: Number.isInteger(envConcurrency) && envConcurrency > 0 ? envConcurrency : Math.max(1, availableParallelism()),
  });
}

/** The host files a language needs to exist before it can run (its compiler or interpreter). */
function requiredTools(lang: SandboxLanguage, cfg: SandboxConfig): string[] {
  switch (lang) {
    case 'python': return [cfg.python];
    case 'javascript': return [cfg.node];
    case 'c': return [cfg.gcc];
    case 'cpp': return [cfg.gxx];
    case 'java': return [join(cfg.jdk, 'bin/javac'), join(cfg.jdk, 'bin/java')];
    case 'go': return [cfg.go];
    case 'rust': return [cfg.rustc, cfg.gcc];
    case 'bash': return [cfg.bash];
  }
}

/**
 * Whether this machine has the toolchain of a language (its compiler/interpreter exists as configured).
 * Does not check the sandbox itself ({@link sandboxSupport}).
 *
 * @example
 * toolchainAvailable('go') // → { ok: false, reason: 'go needs /usr/bin/go (not found)' } on a machine without Go
 */
export function toolchainAvailable(lang: SandboxLanguage): { ok: boolean; reason?: string } {
  const missing = requiredTools(lang, currentConfig()).filter((p) => !existsSync(p));
  return missing.length === 0 ? { ok: true } : { ok: false, reason: `${lang} needs ${missing.join(', ')} (not found)` };
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
const pool = new Pool(currentConfig().concurrency);

const TOOLS = {
  unshare: ['/usr/bin/unshare', '/bin/unshare'],
  setpriv: ['/usr/bin/setpriv', '/bin/setpriv'],
  mount: ['/usr/bin/mount', '/bin/mount'],
  umount: ['/usr/bin/umount', '/bin/umount'],
  pivotRoot: ['/usr/sbin/pivot_root', '/sbin/pivot_root', '/usr/bin/pivot_root'],
  tar: ['/usr/bin/tar', '/bin/tar'],
  sh: ['/bin/sh'],
};

type Tools = { unshare: string; setpriv: string; mount: string; umount: string; pivotRoot: string; tar: string };
let support: ({ ok: true } & Tools) | { ok: false; reason: string } | null = null;

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
    const umount = find(TOOLS.umount);
    const pivotRoot = find(TOOLS.pivotRoot);
    const tar = find(TOOLS.tar);
    if (process.platform !== 'linux') support = { ok: false, reason: `the code sandbox needs Linux namespaces (platform is ${process.platform})` };
    else if (typeof process.getuid !== 'function' || process.getuid() !== 0)
      support = { ok: false, reason: 'the code sandbox needs root (namespaces, private mounts and a switch to an unprivileged uid)' };
    else if (!unshare || !setpriv || !mount || !umount || !pivotRoot || !tar || !find(TOOLS.sh))
      support = { ok: false, reason: 'the code sandbox needs util-linux (unshare, setpriv, mount, umount, pivot_root), tar and /bin/sh' };
    else support = { ok: true, unshare, setpriv, mount, umount, pivotRoot, tar };
  }
  return support.ok ? { ok: true } : { ok: false, reason: support.reason };
}

/*
 * The sealed root. Per language and interpreter, once per process, the parent works out what the
 * interpreter needs (its binary, its standard library and package dirs as the interpreter itself
 * reports them, a venv and its base, the shared libraries `ldd` lists, the dynamic loader, the
 * loader cache) and builds a *skeleton* on the host: a root-owned directory of empty mount points
 * (directories and empty files, no content) plus an fstab listing read-only bind mounts onto them.
 * Each run, inside its private mount namespace, binds the skeleton onto itself, mounts everything
 * with one `mount -a`, adds its own tmpfs `/tmp` and `/dev/shm`, the pid namespace's own `/proc`
 * and the four device nodes, then `pivot_root`s into it and detaches the host root. No copying: a
 * run costs about what the previous remount of `/` did.
 */
interface Bind {
  /** Path inside the sandbox (also the host path below the skeleton). */
  at: string;
  /** Host path bound there (symlinks resolved by the kernel at mount time). */
  from: string;
  kind: 'dir' | 'file';
  opts: string;
}

interface RootLayout {
  /** The skeleton directory (the future `/`). */
  dir: string;
  /** fstab paths by /tmp size (MiB). */
  fstabs: Map<number, string>;
  binds: Bind[];
}

const RO = 'bind,ro,nosuid,nodev';
/** The umount binary the run uses from the parked host root (its libraries must be in the new root). */
const UMOUNT = TOOLS.umount.filter((p) => existsSync(p)).slice(0, 1);
const DEVICES = ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random'];
const layouts = new Map<string, RootLayout | { error: string }>();
/** Where skeletons live: a root-only directory, shared by every process of this machine (they are identical by content). */
const SKELETONS = '/run/rewardkit-sandbox';

/** A directory only root can change (not a symlink, owned by root, not group/world-writable). */
function rootOnly(path: string): boolean {
  const st = lstatSync(path);
  return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0;
}

/**
 * The skeleton for these mounts: empty directories and files at every mount point, no content.
 * Content-addressed (a hash of the mount list) under {@link SKELETONS}, built once per machine and
 * reused by later processes; built aside and renamed into place, so a half-built one is never used.
 */
function buildSkeleton(binds: Bind[]): string {
  mkdirSync(SKELETONS, { recursive: true, mode: 0o755 });
  if (!rootOnly(SKELETONS)) throw new Error(`${SKELETONS} must be a root-owned directory nobody else can write`);
  const dir = join(SKELETONS, `root-${createHash('sha256').update(JSON.stringify(binds)).digest('hex').slice(0, 20)}`);
  if (existsSync(dir)) {
    if (!rootOnly(dir)) throw new Error(`${dir} is not a root-only directory`);
    return dir;
  }
  const work = mkdtempSync(join(SKELETONS, 'building-'));
  try {
    chmodSync(work, 0o755);
    for (const sub of ['tmp', 'proc', 'dev/shm']) mkdirSync(join(work, sub), { recursive: true, mode: 0o755 });
    for (const b of binds) {
      const at = join(work, b.at);
      mkdirSync(b.kind === 'dir' ? at : dirname(at), { recursive: true, mode: 0o755 });
      if (b.kind === 'file' && !existsSync(at)) writeFileSync(at, '', { mode: 0o644 });
    }
    renameSync(work, dir);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(dir)) throw e; // else another process finished the same skeleton first
  }
  return dir;
}

/** Escapes a path for an fstab field (space, tab, newline and backslash as octal). */
function fstabPath(p: string): string {
  return p.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Shared libraries of these ELF files (ldd): the files as the loader names them, and the loader. */
function sharedLibraries(files: string[]): string[] {
  // ldd starts the loader once per file (~1.5 s for Python's 48 files on an idle 2-core VM, paid by
  // every process's first run): its answer is kept next to the skeletons, under a key made of each
  // file's identity (path, inode, size, modification time) and the loader cache's.
  const ident = createHash('sha256');
  for (const f of [...files, '/etc/ld.so.cache']) {
    try {
      const st = statSync(f);
      ident.update(`${f}\0${st.ino}\0${st.size}\0${st.mtimeMs}\n`);
    } catch {
      ident.update(`${f}\0-\n`);
    }
  }
  const cached = join(SKELETONS, `ldd-${ident.digest('hex').slice(0, 24)}.json`);
  try {
    const libs = JSON.parse(readFileSync(cached, 'utf8')) as unknown;
    if (Array.isArray(libs) && libs.every((l) => typeof l === 'string' && isAbsolute(l))) return libs as string[];
  } catch {
    /* not known yet */
  }
  const libs = lddLibraries(files);
  try {
    mkdirSync(SKELETONS, { recursive: true, mode: 0o755 });
    const tmp = `${cached}.${process.pid}.${randomInt(1 << 30)}`;
    writeFileSync(tmp, JSON.stringify(libs), { mode: 0o644 });
    renameSync(tmp, cached);
  } catch {
    /* not kept: asked again next time */
  }
  return libs;
}

function lddLibraries(files: string[]): string[] {
  let out = '';
  try {
    out = execFileSync('/usr/bin/ldd', files, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C' }, stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
  } catch (e) {
    // ldd exits non-zero when one of several files is not dynamic; its output is still usable.
    out = String((e as { stdout?: string }).stdout ?? '');
    if (!out.trim()) throw new Error(`ldd failed: ${(e as Error).message.split('\n')[0]}`);
  }
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)\s+\(/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

/** What Python reports about itself: its prefixes and the existing directories on its module path. */
function pythonDirs(python: string): string[] {
  const probe = [
    'import json, sys, sysconfig',
    'p = sysconfig.get_paths()',
    'print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, p.get("stdlib"), p.get("platstdlib"), p.get("purelib"), p.get("platlib"), sysconfig.get_config_var("DESTSHARED")] + [x for x in sys.path if x]))',
  ].join('\n');
  const out = execFileSync(python, ['-c', probe], { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C.UTF-8' }, timeout: 30_000 });
  const all = JSON.parse(out.trim().split('\n').pop()!) as (string | null)[];
  const prefixes = new Set([all[0], all[1], all[2], all[3]]);
  const dirs: string[] = [];
  const under = [...prefixes].filter((p): p is string => typeof p === 'string' && isAbsolute(p)).map((p) => (p.endsWith('/') ? p : `${p}/`));
  for (const d of all.slice(4)) {
    if (typeof d !== 'string' || !isAbsolute(d) || prefixes.has(d)) continue; // never a whole prefix like /usr
    // Only the interpreter's own tree: a .pth entry elsewhere (an editable install of some project) stays out.
    if (!under.some((p) => d.startsWith(p))) continue;
    try {
      if (statSync(d).isDirectory()) dirs.push(d);
    } catch {
      /* a missing entry (python3XX.zip, an unused site dir) */
    }
  }
  // A venv: its own directory (pyvenv.cfg, site-packages, bin/python), besides the base's stdlib above.
  const [prefix, basePrefix] = all;
  if (typeof prefix === 'string' && prefix !== basePrefix && existsSync(join(prefix, 'pyvenv.cfg'))) dirs.push(prefix);
  return dirs;
}

/** A path and every path its symlinks lead to, hop by hop (the last one is the real file). */
function symlinkChain(path: string): string[] {
  const chain = [path];
  let p = path;
  for (let i = 0; i < 40; i++) {
    let target: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) break;
      target = readlinkSync(p);
    } catch {
      break;
    }
    p = resolve(dirname(p), target);
    chain.push(p);
  }
  return chain;
}

/** Text tools mounted beside bash (those the host has): a shell program's usual helpers, no network or package tools. */
const BASH_TOOLS = [
  'cat', 'head', 'tail', 'sort', 'uniq', 'wc', 'cut', 'tr', 'seq', 'expr', 'printf', 'echo', 'rev', 'tac', 'paste', 'fold', 'tee',
  'basename', 'dirname', 'true', 'false', 'test', 'ls', 'cp', 'mv', 'rm', 'mkdir', 'touch', 'sleep', 'date', 'od', 'factor', 'nl', 'join',
  'comm', 'md5sum', 'sha256sum', 'grep', 'sed', 'awk', 'mawk', 'bc', 'dc', 'xargs', 'env', 'yes', 'shuf', 'numfmt',
].map((t) => `/usr/bin/${t}`);

/** A directory's files that look like ELF shared objects or executables (for ldd). */
function elfFiles(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      try {
        const st = statSync(p);
        if (!st.isFile()) continue;
        if (/\.so(\.|$)/.test(f) || (st.mode & 0o111) !== 0) {
          const head = Buffer.alloc(4);
          const fd = openSync(p, 'r');
          try {
            readSync(fd, head, 0, 4, 0);
          } finally {
            closeSync(fd);
          }
          if ( head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF') out.push(p);
        }
      } catch {
        /* unreadable entry */
      }
    }
  } catch {
    /* no such dir */
  }
  return out;
}

/** What a toolchain needs mounted: files (with their symlink chains), whole directories, and ELF files whose libraries to add. */
interface ToolchainMounts {
  files: string[];
  dirs: string[];
  elves: string[];
}

/** The host's gcc toolchain: drivers, cc1/cc1plus/collect2, as/ld, headers, crt files (C, C++, and rustc's linker). */
function gccMounts(cfg: SandboxConfig, cxx: boolean): ToolchainMounts {
  const driver = cxx ? cfg.gxx : cfg.gcc;
  const ask = (what: string) => execFileSync(driver, [what], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C' }, timeout: 30_000 }).trim();
  const libDir = dirname(ask('-print-libgcc-file-name')); // /usr/lib/gcc/<triplet>/<ver>: crt*.o, libgcc, headers
  const execDir = dirname(ask('-print-prog-name=cc1')); // where cc1, cc1plus, collect2 live
  const tools = ['as', 'ld'].map((t) => ask(`-print-prog-name=${t}`)).map((t) => (isAbsolute(t) ? t : `/usr/bin/${t}`));
  const files = [cfg.gcc, driver, ...tools, '/usr/bin/cc', '/usr/bin/c++'].filter((f) => existsSync(f));
  const dirs = [libDir, execDir, '/usr/include', '/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/bfd-plugins', '/usr/lib64'].filter((d) => existsSync(d));
  const elves = [...files.map((f) => realpathSync(f)), ...elfFiles(execDir), ...elfFiles(libDir)];
  return { files, dirs, elves };
}

/** The mounts a language needs, besides the skeleton's fixed ones. */
function toolchainMounts(lang: SandboxLanguage, cfg: SandboxConfig): ToolchainMounts {
  switch (lang) {
    case 'python': {
      const dirs = pythonDirs(cfg.python);
      const elves = [cfg.python];
      for (const d of dirs) if (/lib-dynload$/.test(d)) for (const f of readdirSync(d)) if (f.endsWith('.so')) elves.push(join(d, f));
      return { files: [cfg.python], dirs, elves };
    }
    case 'javascript':
      return { files: [cfg.node], dirs: [], elves: [cfg.node] };
    case 'c':
      return gccMounts(cfg, false);
    case 'cpp':
      return gccMounts(cfg, true);
    case 'java': {
      // The JDK's conf/ links into /etc/java-N-openjdk (Debian): that directory too (configuration only).
      const dirs = [cfg.jdk];
      const conf = join(cfg.jdk, 'conf');
      try {
        for (const f of readdirSync(conf)) {
          const p = join(conf, f);
          if (lstatSync(p).isSymbolicLink()) dirs.push(dirname(realpathSync(p)));
        }
      } catch {
        /* no conf dir */
      }
      const files = [join(cfg.jdk, 'bin/java'), join(cfg.jdk, 'bin/javac')];
      return { files: [], dirs: [...new Set(dirs)], elves: [...files, ...elfFiles(join(cfg.jdk, 'lib')), ...elfFiles(join(cfg.jdk, 'lib/server'))] };
    }
    case 'go': {
      // Debian's GOROOT links src/ and friends into /usr/share: their targets too.
      const goroot = dirname(dirname(realpathSync(cfg.go)));
      const dirs = [goroot];
      for (const f of readdirSync(goroot)) {
        const p = join(goroot, f);
        if (lstatSync(p).isSymbolicLink()) {
          const real = realpathSync(p);
          dirs.push(statSync(real).isDirectory() ? real : dirname(real));
        }
      }
      return { files: [cfg.go], dirs: [...new Set(dirs)], elves: [realpathSync(cfg.go), ...elfFiles(join(goroot, 'pkg/tool/linux_amd64'))] };
    }
    case 'rust': {
      const sysroot = execFileSync(cfg.rustc, ['--print', 'sysroot'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C' }, timeout: 30_000 }).trim();
      const gcc = gccMounts(cfg, false);
      const rustlib = join(sysroot, 'lib/rustlib');
      return { files: [cfg.rustc, ...gcc.files], dirs: [...gcc.dirs, rustlib].filter((d) => existsSync(d)), elves: [realpathSync(cfg.rustc), ...gcc.elves] };
    }
    case 'bash': {
      const tools = BASH_TOOLS.filter((t) => existsSync(t));
      const files = [cfg.bash, '/usr/bin/bash', '/bin/sh', ...tools].filter((f) => existsSync(f));
      return { files, dirs: [], elves: files.map((f) => realpathSync(f)) };
    }
  }
}

/** Read back requested files after a run (as the run's uid), base64-encoded: mounted in every sealed root. */
const BASE64 = '/usr/bin/base64';

/** The mounts of a language's sealed root: its toolchain, the libraries it links, the loader, setpriv, umount and base64. */
function toolchainBinds(lang: SandboxLanguage, cfg: SandboxConfig, setpriv: string): Bind[] {
  const t = toolchainMounts(lang, cfg);
  for (const f of t.files) if (!isAbsolute(f)) throw new Error(`the ${lang} toolchain path must be absolute, got ${f}`);
  const extra = [setpriv, ...UMOUNT, ...(existsSync(BASE64) ? [BASE64] : [])];
  const elves = [...t.elves.map((e) => realpathSync(e)), ...extra.map((u) => realpathSync(u))];
  const libs = sharedLibraries(elves);
  const libDirs = new Set<string>();
  // Every hop of each tool's symlink chain (a venv's bin/python → /usr/bin/python3 → python3.11) must resolve inside.
  const files = new Set<string>([...t.files.flatMap((f) => [...symlinkChain(f), realpathSync(f)]), ...extra]);
  for (const lib of libs) {
    libDirs.add(dirname(lib));
    try {
      libDirs.add(dirname(realpathSync(lib)));
    } catch {
      /* not there */
    }
    if (/\/ld-linux[^/]*\.so/.test(lib) || /\/ld64[^/]*\.so/.test(lib)) files.add(lib); // the loader, by the path ELF files name
  }
  if (existsSync('/etc/ld.so.cache')) files.add('/etc/ld.so.cache');
  const binds: Bind[] = [];
  for (const d of [...t.dirs, ...libDirs]) binds.push({ at: d, from: d, kind: 'dir', opts: RO });
  for (const f of files) binds.push({ at: f, from: f, kind: 'file', opts: RO });
  // Shortest first; drop anything already visible under a bound directory (a venv's bin/python, lib-dynload under the stdlib).
  binds.sort((a, b) => a.at.length - b.at.length || a.at.localeCompare(b.at));
  const kept: Bind[] = [];
  for (const b of binds) {
    if (kept.some((k) => k.at === b.at || (k.kind === 'dir' && b.at.startsWith(`${k.at}/`)))) continue;
    kept.push(b);
  }
  return kept;
}

/** The sealed-root layout of one language (built once per toolchain configuration), or why it cannot be built. */
function rootLayout(lang: SandboxLanguage, cfg: SandboxConfig, setpriv: string): RootLayout | { error: string } {
  const key = `${lang}\0${requiredTools(lang, cfg).join('\0')}`;
  const known = layouts.get(key);
  if (known) return known;
  let layout: RootLayout | { error: string };
  try {
    const missing = requiredTools(lang, cfg).filter((p) => !existsSync(p));
    if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')}`);
    const binds = toolchainBinds(lang, cfg, setpriv);
    for (const d of DEVICES) binds.push({ at: d, from: d, kind: 'file', opts: 'bind,nosuid' }); // device nodes: not nodev
    const dir = buildSkeleton(binds);
    layout = { dir, binds, fstabs: new Map() };
  } catch (e) {
    layout = { error: `cannot prepare the sealed root for ${lang} (${requiredTools(lang, cfg).join(', ')}): ${(e as Error).message.split('\n')[0]}` };
  }
  layouts.set(key, layout);
  return layout;
}

/** The fstab a run mounts with one `mount -a` (written next to the skeleton once per /tmp size). */
function fstabFor(layout: RootLayout, tmpMb: number): string {
  const known = layout.fstabs.get(tmpMb);
  if (known) return known;
  const r = layout.dir;
  const line = (src: string, at: string, type: string, opts: string) => `${fstabPath(src)} ${fstabPath(join(r, at))} ${type} ${opts} 0 0`;
  const lines = [
    line(r, '/', 'none', RO), // the skeleton, bound onto itself: the new root must be a mount point
    ...layout.binds.map((b) => line(b.from, b.at, 'none', b.opts)),
    line('rk', '/tmp', 'tmpfs', `size=${tmpMb}m,nr_inodes=4096,mode=1777,nosuid,nodev`),
    line('rk', '/dev/shm', 'tmpfs', `size=${tmpMb}m,nr_inodes=256,mode=1777,nosuid,nodev`),
    line('proc', '/proc', 'proc', 'nosuid,nodev,noexec,hidepid=2'),
  ];
  const path = `${r}.fstab-${tmpMb}`;
  const text = `${lines.join('\n')}\n`;
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* not written yet */
  }
  if (current !== text) {
    const aside = `${path}.${process.pid}.${randomInt(1e9)}`;
    writeFileSync(aside, text, { mode: 0o644 });
    renameSync(aside, path);
  }
  layout.fstabs.set(tmpMb, path);
  return path;
}

/*
 * The script run as pid 1 of the new namespaces (root, inside the new mount namespace). Arguments:
 * mount, umount, pivot_root, setpriv, skeleton dir, fstab, uid, fsize (512-byte blocks, as dash's
 * ulimit counts), nofile, tar, the compile argv joined by \037 (empty: no compile phase), the compile
 * limits and the run limits ("cpu-soft cpu-hard address-space-KiB nproc fsize-blocks" each), the files to fetch
 * joined by \037, then the run argv.
 * fd 3 carries a tar archive of the working directory in (the source and the request's files, built
 * by the parent from checked relative paths); fd 4 carries the report out: the CPU time (`times`) and
 * "compiled <status>" after a compile phase, "exit <status>" after the run (or "setup <step>");
 * fds 5 and 6 carry the compiler's stdout and stderr; fd 7 the fetched files ("<index> <base64> <rc>"
 * lines). The program holds none of fds 3–7, so it cannot forge the report or the compiler's output.
 * Each phase runs in a subshell with its own CPU/memory/process limits, as the unprivileged uid;
 * after each phase every process of the namespace but this shell is SIGKILLed (`kill -9 -1`), so
 * nothing the compiler or the program started outlives its phase. The shell stays pid 1 (it waits
 * instead of exec-ing) so that the kill-on-parent-death signal set by unshare survives. Requested
 * files are read back after that, as the run's uid (so a symlink can only reach what the program
 * itself could read), regular files only.
 */
const SCRIPT = [
  'fail() { echo "setup $1" >&4; exit 0; }',
  'M=$1 UM=$2 PR=$3 S=$4 D=$5 FS=$6 U=$7 F=$8 N=$9 TAR=${10} CARGS=${11} CLIM=${12} RLIM=${13} FETCH=${14}; shift 14',
  "US=$(printf '\\037')",
  '$M -a -T "$FS" || fail mount',
  '$TAR -x -f - -C "$D/tmp" <&3 || fail write',
  'exec 3<&-',
  // The host root is parked on /tmp (above the run's tmpfs), then detached with everything under it
  // by its own umount binary (libraries resolve in the new root); /tmp's tmpfs shows through again.
  'cd "$D" && $PR . tmp && /tmp$UM -l -c /tmp || fail pivot',
  'cd /tmp || fail cd',
  'unset PWD OLDPWD',
  'ulimit -c 0 && ulimit -s 65536 && ulimit -f $F && ulimit -n $N || fail ulimit',
  // From here the shell's own stderr is /dev/null (its "Killed" notices never reach the program's
  // stderr); the phases get the real one as fd 9, closed in the program.
  'exec 9>&2 2>/dev/null',
  // drop LIMITS ARGV...: in the calling subshell, set the phase's limits and become the sandbox uid.
  'drop() { L=$1; shift; IFS=" "; set -f; set -- $L "$@"; ulimit -S -t $1 && ulimit -H -t $2 && ulimit -v $3 && ulimit -p $4 && ulimit -f $5 || { echo "setup ulimit" >&4; exit 125; }; shift 5;',
  '  exec $S --reuid=$U --regid=$U --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@" 4>&- 5>&- 6>&- 7>&- 9>&-; }',
  'if [ -n "$CARGS" ]; then',
  '  IFS=$US; set -f',
  '  ( drop "$CLIM" $CARGS ) </dev/null >&5 2>&6',
  '  R=$?; IFS=" "',
  '  kill -9 -1 2>/dev/null',
  '  times >&4; echo "compiled $R" >&4',
  '  [ "$R" -eq 0 ] || exit 0',
  'fi',
  'exec 5>&- 6>&-',
  '[ -x "$1" ] || { exec 2>&9; fail interpreter; }', // the interpreter resolves inside the sealed root (else a set-up failure, not the program's)
  '( drop "$RLIM" "$@" ) 7>&- 2>&9',
  'R=$?',
  'kill -9 -1 2>/dev/null',
  'times >&4', // two lines: the shell's own CPU time, then its children's (the program's processes)
  'echo "exit $R" >&4',
  'exec 4>&-',
  'if [ -n "$FETCH" ]; then',
  '  IFS=$US; set -f; i=0',
  '  for f in $FETCH; do',
  '    if [ -f "$f" ]; then printf "%s " $i >&7; ( drop "5 6 262144 8 1" /usr/bin/base64 -w0 -- "$f" ) >&7 2>/dev/null; echo " $?" >&7; fi',
  '    i=$((i+1))',
  '  done',
  'fi',
].join('\n');

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

/** Runtime tasks that count against RLIMIT_NPROC before the program starts anything (node runs ~11 threads, a JVM ~20, Go ~5). */
const BASE_TASKS: Record<SandboxLanguage, number> = { python: 2, javascript: 16, c: 1, cpp: 1, java: 40, go: 12, rust: 1, bash: 2 };

function isCompileError(language: SandboxLanguage, stderr: string): boolean {
  if (language !== 'python' && language !== 'javascript') return false; // compiled languages report it from their compile phase
  if (language === 'python') {
    // A syntax error in the main script is reported before any frame runs: no traceback header.
    return !stderr.includes('Traceback (most recent call last)') && /^(SyntaxError|IndentationError|TabError): /m.test(stderr);
  }
  // A parse failure of the entry module is thrown by the loader's compile step, not by user code.
  return /^SyntaxError: .*\n\s+at (wrapSafe|compileSourceTextModule|internalCompileFunction|Module\._compile)\b/m.test(stderr);
}

/** Whether a run's stderr shows the language's own out-of-memory failure (a `memory_limit` end). */
export function isMemoryError(language: SandboxLanguage, stderr: string): boolean {
  switch (language) {
    case 'python': return /^MemoryError\b/m.test(stderr);
    case 'javascript': return /JavaScript heap out of memory|Array buffer allocation failed|FATAL ERROR: .*(Allocation failed|out of memory)|Fatal process out of memory/.test(stderr);
    case 'java': return /java\.lang\.OutOfMemoryError/.test(stderr);
    case 'go': return /^fatal error: (runtime: out of memory|out of memory)/m.test(stderr);
    case 'rust': return /^memory allocation of \d+ bytes failed/m.test(stderr);
    case 'cpp': return /std::bad_alloc/.test(stderr);
    default: return false;
  }
}

function resolveLimits(l: Partial<SandboxLimits> | undefined, defaults: Readonly<SandboxLimits> = DEFAULT_LIMITS): SandboxLimits {
  const out = { ...defaults, ...(l ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`sandbox limit ${k} must be a positive number, got ${String(v)}`);
  }
  return out;
}

/** Limits of a compile phase when the request gives none: compilers need more memory, processes and /tmp than programs. */
export const DEFAULT_COMPILE_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 10_000,
  memoryMb: 2048,
  maxProcesses: 64,
  maxOutputBytes: 1 << 20,
  maxFileBytes: 128 << 20,
  tmpMb: 256,
  maxOpenFiles: 512,
});

/** A program with its working directory: what {@link runProgram} runs. */
export interface ProgramRequest extends RunRequest {
  /** Files written into the working directory (`/tmp`) before the compile phase, by relative path (no `..`, not absolute). The source file wins over a file of the same name. */
  files?: Record<string, Uint8Array | string>;
  /** Relative paths read back after the run (regular files only; a missing one is left out, as Sandbox Fusion does). */
  fetchFiles?: string[];
  /** Limits of the compile phase (compiled languages); defaults: {@link DEFAULT_COMPILE_LIMITS}. The sandbox's /tmp is the larger of the two phases' `tmpMb`. */
  compileLimits?: Partial<SandboxLimits>;
  /** Bytes of fetched file content (before base64) returned in all; files past it are left out and named in `fetchSkipped`. Default 16 MiB. */
  maxFetchBytes?: number;
}

/** How a {@link runProgram} went, phase by phase. */
export interface ProgramResult {
  /** The compile phase: null for interpreted languages, and when the sandbox failed before it. */
  compile: RunResult | null;
  /** The run phase: null when the compile phase did not succeed. A sandbox failure before any phase is a run with status `sandbox_error`. */
  run: RunResult | null;
  /** Fetched files by requested path (raw bytes). */
  files: Record<string, Buffer>;
  /** Requested files that existed but were left out (over `maxFetchBytes`, or unreadable by the program). */
  fetchSkipped: string[];
}

/** Source file name and phase commands of each language (compile output goes to /tmp, the working directory). */
function commands(lang: SandboxLanguage, cfg: SandboxConfig, limits: SandboxLimits): { source: string; compile: string[] | null; run: string[] } {
  const mem = Math.max(16, Math.floor(limits.memoryMb));
  switch (lang) {
    case 'python':
      return { source: 'prog.py', compile: null, run: [cfg.python, 'prog.py'] };
    case 'javascript':
      return { source: 'prog.js', compile: null, run: [cfg.node, `--max-old-space-size=${mem}`, 'prog.js'] };
    case 'c':
      return { source: 'prog.c', compile: [cfg.gcc, '-std=gnu11', '-O2', '-o', 'prog', 'prog.c', '-lm'], run: ['/tmp/prog'] };
    case 'cpp':
      return { source: 'prog.cpp', compile: [cfg.gxx, '-std=c++17', '-O2', '-o', 'prog', 'prog.cpp', '-lpthread'], run: ['/tmp/prog'] };
    case 'java': {
      const jvm = ['-XX:+UseSerialGC', '-XX:-UsePerfData', '-XX:ReservedCodeCacheSize=64m', '-XX:CompressedClassSpaceSize=64m'];
      return {
        source: 'Main.java',
        compile: [join(cfg.jdk, 'bin/javac'), ...['-Xmx512m', ...jvm, '-XX:TieredStopAtLevel=1'].map((f) => `-J${f}`), '-encoding', 'UTF-8', '-cp', '/tmp', '-d', '/tmp', 'Main.java'],
        run: [join(cfg.jdk, 'bin/java'), `-Xmx${mem}m`, '-Xss16m', ...jvm, '-ea', '-cp', '/tmp', 'Main'],
      };
    }
    case 'go':
      return { source: 'prog.go', compile: [cfg.go, 'build', '-o', 'prog', 'prog.go'], run: ['/tmp/prog'] };
    case 'rust':
      return { source: 'prog.rs', compile: [cfg.rustc, '--edition', '2021', '-O', '-o', 'prog', 'prog.rs'], run: ['/tmp/prog'] };
    case 'bash':
      return { source: 'prog.sh', compile: null, run: [cfg.bash, 'prog.sh'] };
  }
}

/** The source file name of a language (in the working directory). */
function commandsSource(lang: SandboxLanguage): string {
  return lang === 'java' ? 'Main.java' : `prog.${{ python: 'py', javascript: 'js', c: 'c', cpp: 'cpp', go: 'go', rust: 'rs', bash: 'sh' }[lang]}`;
}

/** Environment of both phases (no secrets: the sandbox's own). */
function phaseEnv(lang: SandboxLanguage, cfg: SandboxConfig): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
  if (lang === 'go') Object.assign(env, { GOROOT: dirname(dirname(realpathSync(cfg.go))), GOCACHE: '/tmp/.cache/go-build', GOPATH: '/tmp/.go', GO111MODULE: 'off', CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOTELEMETRY: 'off', GOFLAGS: '' });
  if (lang === 'java') env.JAVA_HOME = cfg.jdk;
  return env;
}

/** Address-space limit (KiB) of a phase: runtimes that reserve virtual memory up front get headroom above the memory limit they enforce themselves. */
function addressSpaceKb(lang: SandboxLanguage, memoryMb: number, phase: 'compile' | 'run'): number {
  const kb = Math.ceil(memoryMb * 1024);
  if (phase === 'compile') return lang === 'java' || lang === 'rust' || lang === 'go' ? kb + (2 << 20) : kb;
  if (lang === 'javascript') return kb + (1 << 20);
  if (lang === 'java') return kb + (2 << 20);
  if (lang === 'go') return kb + (512 << 10);
  return kb;
}

/** Checks a path of `files`/`fetchFiles`: relative, no `.`/`..` or empty parts, no control characters; returns it normalised. */
function checkRelativePath(path: unknown, field: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new Error(`${field}: expected a non-empty relative path, got ${JSON.stringify(path)}`);
  if (path.startsWith('/')) throw new Error(`${field}: ${JSON.stringify(path)} is absolute (paths are relative to the working directory)`);
  if (/[\x00-\x1f\x7f]/.test(path)) throw new Error(`${field}: ${JSON.stringify(path)} contains a control character`);
  const parts = path.replace(/^\.\//, '').split('/');
  if (parts.some((p) => p === '..')) throw new Error(`${field}: ${JSON.stringify(path)} leaves the working directory ("..")`);
  if (parts.some((p) => p === '' || p === '.')) throw new Error(`${field}: ${JSON.stringify(path)} has an empty or "." component`);
  const norm = parts.join('/');
  if (Buffer.byteLength(norm) > 250) throw new Error(`${field}: ${JSON.stringify(path)} is longer than 250 bytes`);
  return norm;
}

/** Writes an octal or (above 7 digits) base-256 number into a tar header field. */
function tarNumber(h: Buffer, at: number, width: number, n: number): void {
  const oct = n.toString(8);
  if (oct.length < width) {
    h.write(oct.padStart(width - 1, '0'), at, 'latin1');
    h[at + width - 1] = 0;
    return;
  }
  h[at] = 0x80; // GNU base-256
  let v = BigInt(n);
  for (let i = width - 1; i > 0; i--) {
    h[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** A ustar archive of these directories and files, owned by uid (the run extracts it into its /tmp as root, before dropping privileges). */
function tarArchive(entries: { path: string; data: Buffer }[], uid: number): Buffer {
  const blocks: Buffer[] = [];
  const header = (path: string, size: number, type: '0' | '5') => {
    const h = Buffer.alloc(512);
    let name = path;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = path.lastIndexOf('/', 155);
      prefix = path.slice(0, cut);
      name = path.slice(cut + 1);
      if (cut <= 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`files: path ${JSON.stringify(path)} is too long`);
    }
    h.write(name, 0, 'utf8');
    tarNumber(h, 100, 8, type === '5' ? 0o755 : 0o644);
    tarNumber(h, 108, 8, uid);
    tarNumber(h, 116, 8, uid);
    tarNumber(h, 124, 12, size);
    tarNumber(h, 136, 12, 0);
    h.write('        ', 148, 'latin1');
    h.write(type, 156, 'latin1');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    h.write(prefix, 345, 'utf8');
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return h;
  };
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      blocks.push(header(d, 0, '5'));
    }
  }
  for (const e of entries) {
    blocks.push(header(e.path, e.data.length, '0'), e.data);
    if (e.data.length % 512 !== 0) blocks.push(Buffer.alloc(512 - (e.data.length % 512)));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Default of {@link ProgramRequest.maxFetchBytes}. */
export const MAX_FETCH_BYTES_DEFAULT = 16 << 20;

/** A checked program request, ready to launch. */
interface Prepared {
  lang: SandboxLanguage;
  code: string;
  limits: SandboxLimits;
  compileLimits: SandboxLimits;
  files: { path: string; data: Buffer }[];
  /** Normalised relative paths to fetch, and the names the caller gave them. */
  fetch: string[];
  fetchNames: string[];
  maxFetchBytes: number;
  /** See {@link SessionRequest.preload} (checked: dotted Python identifiers). */
  preload: readonly string[];
  /** See {@link SessionRequest.cases}. */
  cases: CaseLimits | null;
}

function prepare(req: ProgramRequest & { preload?: readonly string[]; cases?: CaseLimits }): Prepared {
  const limits = checkRequest(req);
  const preload = req.preload ?? [];
  for (const m of preload) if (typeof m !== 'string' || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(m)) throw new Error(`preload: ${JSON.stringify(m)} is not a module name`);
  const compileLimits = resolveLimits(req.compileLimits, DEFAULT_COMPILE_LIMITS);
  const files: { path: string; data: Buffer }[] = [];
  if (req.files !== undefined && req.files !== null) {
    if (typeof req.files !== 'object' || Array.isArray(req.files)) throw new Error('files: expected an object of relative path → content');
    let total = 0;
    for (const [k, v] of Object.entries(req.files)) {
      const path = checkRelativePath(k, `files[${JSON.stringify(k)}]`);
      if (typeof v !== 'string' && !(v instanceof Uint8Array)) throw new Error(`files[${JSON.stringify(k)}]: expected bytes or a string`);
      const data = Buffer.from(v);
      total += data.length;
      files.push({ path, data });
    }
    // A path cannot be both a file and a directory (the source file counts as a file).
    const names = new Set([...files.map((f) => f.path), commandsSource(req.language)]);
    for (const f of files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (names.has(d)) throw new Error(`files: "${d}" is both a file and a directory`);
      }
    }
    const room = Math.max(limits.tmpMb, compileLimits.tmpMb) * (1 << 20);
    if (total > room) throw new Error(`files: ${total} bytes do not fit the ${Math.max(limits.tmpMb, compileLimits.tmpMb)} MiB working directory`);
  }
  const fetchNames = [...(req.fetchFiles ?? [])];
  const fetch = fetchNames.map((f, i) => checkRelativePath(f, `fetchFiles[${i}]`));
  const maxFetchBytes = req.maxFetchBytes ?? MAX_FETCH_BYTES_DEFAULT;
  if (!(maxFetchBytes > 0)) throw new Error('maxFetchBytes must be positive');
  let cases: Prepared['cases'] = null;
  if (req.cases !== undefined) {
    const { wallMs, outputBytes } = req.cases;
    if (req.language !== 'python') throw new Error('cases: case mode runs Python programs only');
    if (!(Number.isInteger(wallMs) && wallMs > 0) || !(Number.isInteger(outputBytes) && outputBytes >= 0)) throw new Error('cases: expected a positive integer wallMs and a non-negative integer outputBytes');
    cases = { wallMs, outputBytes };
  }
  return { lang: req.language, code: req.code, limits, compileLimits, files, fetch, fetchNames, maxFetchBytes, preload, cases };
}

/**
 * Runs one program in a fresh sandbox (see the module comment) and reports how it ended. Runs of
 * this process share one pool ({@link configureSandbox}); a run waits for a free slot first.
 * Compiled languages are compiled first, in the same sandbox ({@link runProgram}); a program that
 * does not compile is `compile_error` (a compile phase past its limits: `compile_error` too, with the
 * compiler's output as stderr). Never throws for anything the program does; a bad request (unknown
 * language, invalid limits) rejects.
 *
 * @example
 * const r = await runInSandbox({ language: 'python', code: 'print(int(input()) * 2)', stdin: '21\n' });
 * // r → { status: 'ok', exitCode: 0, signal: null, stdout: '42\n', stderr: '', wallMs: 61 }
 */
export async function runInSandbox(req: RunRequest): Promise<RunResult> {
  return programToRun(await runProgram(req));
}

/** A {@link ProgramResult} as one {@link RunResult}: a failed compile phase becomes `compile_error` (sandbox failures stay `sandbox_error`). */
export function programToRun(p: ProgramResult): RunResult {
  if (p.run !== null) return p.run;
  const c = p.compile;
  if (c === null) return sandboxError('the sandbox produced no result');
  if (c.status === 'sandbox_error') return c;
  const why = c.status === 'timeout' ? 'the compiler passed its time limit' : c.status === 'output_limit' ? 'the compiler wrote too much output' : 'the program does not compile';
  return { ...c, status: 'compile_error', message: `${why}${c.message ? ` (${c.message})` : ''}` };
}

/**
 * Runs a program with its working directory, phase by phase: writes `files` and the source into a
 * fresh private `/tmp`, compiles it there (compiled languages; the compiler runs sealed, as the
 * unprivileged uid, with {@link DEFAULT_COMPILE_LIMITS} or `compileLimits`, its binary written to
 * `/tmp`), runs it with `limits` and `stdin`, then reads back `fetchFiles`. One sandbox (one set of
 * namespaces and one uid) for all phases; nothing survives it.
 *
 * @example
 * const r = await runProgram({ language: 'c', code: '#include <stdio.h>\nint main(){FILE*f=fopen("out.txt","w");fputs("hi",f);return 0;}', fetchFiles: ['out.txt'] });
 * // r.compile.status → 'ok'; r.run.status → 'ok'; r.files['out.txt'].toString() → 'hi'
 */
export async function runProgram(req: ProgramRequest): Promise<ProgramResult> {
  const p = prepare(req);
  if (remoteRunner !== null) return remoteRunner(req);
  await pool.acquire(1);
  try {
    const run = launch(p, 'capture');
    run.stdin.on('error', () => {}); // EPIPE when the program exits without reading its input
    run.stdin.end(req.stdin ?? '');
    return await run.program;
  } finally {
    pool.release(1);
  }
}

/** Where {@link runProgram} sends programs instead of this machine's sandbox; null: here. */
let remoteRunner: ((req: ProgramRequest) => Promise<ProgramResult>) | null = null;

/**
 * Sends every later {@link runProgram} (and so `runInSandbox`, the `code` grader and `/run_code`) to
 * `runner` — sandbox workers on other machines (`serve --queue`, graders/code/remote.ts) — after the
 * request has been checked here; `null` runs them here again. Sessions ({@link openSandboxes}) stay local.
 */
export function setRemoteRunner(runner: ((req: ProgramRequest) => Promise<ProgramResult>) | null): void {
  remoteRunner = runner;
}

/** Whether programs go to sandbox workers elsewhere ({@link setRemoteRunner}): the `code` grader then runs stdin/stdout cases one run each (those runs go to the workers; sessions would stay here). */
export function remoteRunnerActive(): boolean {
  return remoteRunner !== null;
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

/** One program to open as a {@link SandboxSession} (compiled languages are compiled first; the session's stdout is the run's). */
export interface SessionRequest {
  language: SandboxLanguage;
  code: string;
  limits?: Partial<SandboxLimits>;
  compileLimits?: Partial<SandboxLimits>;
  files?: Record<string, Uint8Array | string>;
  /**
   * Python, warm pool only: modules (trusted names, e.g. `VERL_PY_PRELOAD`; never from a rollout)
   * that the slot's interpreter imports before it forks the program's process, for programs that
   * import them first thing anyway (the harness's call-based runner): they then come from
   * `sys.modules`. Runs with another list (or none) use other slots; the cold path ignores it.
   */
  preload?: readonly string[];
  /**
   * Python, warm pool only: case mode (`pool/native.ts`, `rk_cases`), as `runIoCases` uses it. The
   * program's process compiles the program once and supervises its cases: the session's stdin
   * carries the cases (each a 16-byte length line, then its input), and its stdout is the case
   * record stream (`R` ready or `C` does not compile; per case `O<n>`/`P<n>` frames of its stdout
   * and stderr, then `E<code>`, `S<signal> <cpu ms>`, `T` at `wallMs` or `Q` past `outputBytes`;
   * `N` before a case when the supervisor's own CPU time is half spent: go on in a fresh session;
   * `U <why>` when case mode is not available: run the cases alone). The supervisor has the run's
   * limits (its process limit one more), and so has each case's process.
   */
  cases?: CaseLimits;
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
  const checked = reqs.map((r) => prepare(r));
  if (reqs.length === 0) return [];
  let held = await pool.acquire(reqs.length);
  let running = reqs.length;
  return reqs.map((_, i) => {
    const run = launch(checked[i]!, 'stream');
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
  if (typeof req.language !== 'string' || !SANDBOX_LANGUAGES.includes(req.language)) throw new Error(`unsupported language ${JSON.stringify(req.language)}`);
  if (typeof req.code !== 'string') throw new Error('code must be a string');
  return resolveLimits(req.limits);
}

function sandboxError(message: string, wallMs = 0): RunResult {
  return { status: 'sandbox_error', exitCode: null, signal: null, stdout: '', stderr: '', wallMs, message };
}

/** A run that could not start: its streams are inert and its result is the sandbox error. */
function failedRun(message: string): Launched {
  const stdout = new PassThrough();
  stdout.end();
  const stdin = new PassThrough();
  stdin.resume();
  const err = sandboxError(message);
  return { stdin, stdout, result: Promise.resolve(err), program: Promise.resolve({ compile: null, run: err, files: {}, fetchSkipped: [] }), kill() {}, pid: undefined };
}

/** A launched sandbox: the session plus the phase-by-phase outcome. */
interface Launched extends SandboxSession {
  readonly program: Promise<ProgramResult>;
}

/** Uids of the runs of this process still alive. */
const liveUids = new Set<number>();

/** /proc/vmstat, kept open (each read from offset 0 is a fresh snapshot), and a buffer for it. */
let vmstatFd: number | null = null;
let vmstatBuf = Buffer.alloc(16 << 10);

/** Kernel OOM kills so far (host-wide; /proc/vmstat), or null where the kernel does not count them. */
function oomKills(): number | null {
  try {
    vmstatFd ??= openSync('/proc/vmstat', 'r');
    let n = readSync(vmstatFd, vmstatBuf, 0, vmstatBuf.length, 0);
    if (n === vmstatBuf.length) {
      vmstatBuf = Buffer.alloc(vmstatBuf.length * 4);
      n = readSync(vmstatFd, vmstatBuf, 0, vmstatBuf.length, 0);
    }
    const text = vmstatBuf.subarray(0, n);
    const at = text.indexOf('\noom_kill ');
    if (at < 0) return null;
    const end = text.indexOf(10, at + 10);
    return Number(text.toString('latin1', at + 10, end < 0 ? n : end));
  } catch {
    return null;
  }
}

/** Seconds a fetch may take after the run, and the fd-7 bytes it may send beyond the content limit's base64. */
const FETCH_TIMEOUT_MS = 10_000;

/**
 * The one spawn path of the sandbox: starts the phases in fresh namespaces and returns the run's live
 * streams and its result. `capture` collects stdout into the result (runProgram); `stream` hands
 * stdout to the caller (sessions). Never throws: a failure to start is the result's sandbox_error.
 */
function launch(p: Prepared, mode: 'capture' | 'stream'): Launched {
  const sup = sandboxSupport();
  if (!sup.ok || support === null || !support.ok) return failedRun(sup.reason ?? 'sandbox unavailable');
  const tools = support;
  const { lang, limits, compileLimits } = p;
  const cfg = currentConfig();
  let uid = randomInt(1_000_000, 1_999_999_999);
  while (liveUids.has(uid)) uid = randomInt(1_000_000, 1_999_999_999); // two live runs never share a uid

  const cpuOf = (l: SandboxLimits) => Math.max(1, Math.ceil(l.cpuSeconds ?? l.timeoutMs / 1000));
  const cpu = cpuOf(limits);
  const ccpu = cpuOf(compileLimits);
  const nproc = BASE_TASKS[lang] + Math.floor(limits.maxProcesses);
  // File size in 512-byte blocks (dash's unit): the shell's own limit is the larger phase's; each phase lowers it to its own.
  const blocks = (bytes: number) => Math.max(1, Math.ceil(bytes / 512));
  const fsizeBlocks = blocks(Math.max(limits.maxFileBytes, COMPILED_LANGUAGES.has(p.lang) ? compileLimits.maxFileBytes : 0));
  const layout = rootLayout(lang, cfg, tools.setpriv);
  if ('error' in layout) return failedRun(layout.error);
  let cmd: ReturnType<typeof commands>;
  let env: Record<string, string>;
  try {
    cmd = commands(lang, cfg, limits);
    env = phaseEnv(lang, cfg);
  } catch (e) {
    return failedRun(`cannot prepare the ${lang} toolchain: ${(e as Error).message}`);
  }
  const compiled = cmd.compile !== null;
  const tmpMb = Math.max(1, Math.ceil(compiled ? Math.max(limits.tmpMb, compileLimits.tmpMb) : limits.tmpMb));
  const US = '\x1f';
  const args = [
    '--net', '--pid', '--fork', '--kill-child', '--mount', '--ipc', '--uts', '--',
    '/bin/sh', '-c', SCRIPT, 'sh', tools.mount, tools.umount, tools.pivotRoot, tools.setpriv, layout.dir, fstabFor(layout, tmpMb),
    String(uid), String(fsizeBlocks), String(Math.max(16, Math.floor(Math.max(limits.maxOpenFiles, compiled ? compileLimits.maxOpenFiles : 0)))), tools.tar,
    compiled ? cmd.compile!.join(US) : '',
    `${ccpu} ${ccpu + 1} ${addressSpaceKb(lang, compileLimits.memoryMb, 'compile')} ${Math.floor(compileLimits.maxProcesses) + 16} ${blocks(compileLimits.maxFileBytes)}`,
    `${cpu} ${cpu + 1} ${addressSpaceKb(lang, limits.memoryMb, 'run')} ${nproc} ${blocks(limits.maxFileBytes)}`,
    p.fetch.join(US),
    ...cmd.run,
  ];
  let archive: Buffer;
  try {
    archive = tarArchive([...p.files.filter((f) => f.path !== cmd.source), { path: cmd.source, data: Buffer.from(p.code, 'utf8') }], uid);
  } catch (e) {
    return failedRun((e as Error).message);
  }

  let started = performance.now();
  const oomBefore = oomKills();
  // setpriv (still root) arms a SIGKILL for unshare when this process dies; unshare's --kill-child
  // passes it on to the namespace's init, whose death ends every process of the run.
  const coldStart = () =>
    spawn(tools.setpriv, ['--pdeathsig', 'SIGKILL', '--', tools.unshare, ...args], {
      detached: true, // own process group: the timeout kills the group
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env,
    });
  let child: ChildProcess;
  let warm: WarmRun | null = null;
  try {
    // Python runs are forked from the warm pool's zygote (pool/warm.ts) unless it is off.
    if (lang === 'python') {
      warm = warmSpawn(
        { python: cfg.python, mount: tools.mount, umount: tools.umount, pivotRoot: tools.pivotRoot, setpriv: tools.setpriv, unshare: tools.unshare, skeleton: layout.dir, fstab: fstabFor(layout, 1), env, idleSlots: cfg.concurrency, preload: p.preload, cc: cfg.gcc },
        {
          uid, tmpMb, cpuSoft: cpu, cpuHard: cpu + 1, addressSpaceBytes: addressSpaceKb(lang, limits.memoryMb, 'run') * 1024, nproc,
          fileBytes: blocks(limits.maxFileBytes) * 512, openFiles: Math.max(16, Math.floor(limits.maxOpenFiles)),
          source: Buffer.from(p.code, 'utf8'), files: p.files.filter((f) => f.path !== cmd.source), fetch: p.fetch,
          ...(p.cases !== null ? { cases: p.cases } : {}),
        },
        coldStart,
      );
    }
    // Case mode has no cold path (the caller checks that the pool is on; a pool turned off since: none).
    if (warm === null && p.cases !== null) return failedRun('case mode needs the warm pool (turned off)');
    child = warm !== null ? (warm as unknown as ChildProcess) : coldStart();
  } catch (e) {
    return failedRun(`could not start the sandbox: ${(e as Error).message}`);
  }
  const pid = warm === null ? child.pid : undefined;
  let phase: 'compile' | 'run' | 'fetch' = compiled ? 'compile' : 'run';
  let killedFor: 'timeout' | 'output_limit' | 'caller' | null = null;
  let killedIn: 'compile' | 'run' | 'fetch' | null = null;
  let spawnError: string | null = null;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const cout: Buffer[] = [];
  const cerr: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  let compileBytes = 0;
  let fetchText = '';
  let fetchBytes = 0;
  const fetchCap = Math.ceil((p.maxFetchBytes * 4) / 3) + 64 * (p.fetch.length + 1);
  let report = '';
  let compileReport = '';
  let compileMs = 0;
  let runStarted = started;
  let runMs: number | null = null;
  const live = mode === 'stream' ? new PassThrough() : null;

  const killGroup = () => {
    if (warm !== null) {
      warm.kill();
      return;
    }
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const kill = (why: 'timeout' | 'output_limit' | 'caller') => {
    if (killedFor === null) {
      killedFor = why;
      killedIn = phase;
    }
    killGroup();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    timer = setTimeout(() => kill('timeout'), compiled ? compileLimits.timeoutMs : limits.timeoutMs);
  };
  // A warm run waiting for its zygote to start (the first runs of a process) is timed from when it is handed to the zygote.
  if (warm !== null && !warm.sent)
    warm.once('spawn', () => {
      started = runStarted = performance.now();
      if (killedFor === null) arm();
    });
  else arm();

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
    if (outBytes + errBytes > limits.maxOutputBytes) kill('output_limit');
  };
  const onCompile = (into: Buffer[]) => (chunk: Buffer) => {
    compileBytes += chunk.length;
    if (compileBytes <= compileLimits.maxOutputBytes) into.push(chunk);
    else kill('output_limit');
  };
  // Read in flowing mode whatever the caller does: the run's end never waits for a slow reader
  // (a session's unread stdout is buffered, at most the output limit).
  child.stdout!.on('data', onData('out'));
  child.stderr!.on('data', onData('err'));
  if (live) child.stdout!.on('end', () => live.end());
  const stream = (n: number) => {
    const st = child.stdio[n] as unknown as NodeJS.ReadableStream & NodeJS.WritableStream;
    st.on('error', () => {});
    return st;
  };
  stream(5).on('data', onCompile(cout));
  stream(6).on('data', onCompile(cerr));
  stream(7).on('data', (c: Buffer) => {
    fetchBytes += c.length;
    if (fetchBytes > fetchCap) {
      kill('output_limit'); // only in the fetch phase: the run's result is already known
      return;
    }
    fetchText += c.toString('latin1');
  });
  stream(4).on('data', (c: Buffer) => {
    if (report.length > 4096) return;
    report += c.toString('utf8');
    if (phase === 'compile' && /^compiled -?\d+$/m.test(report)) {
      clearTimeout(timer);
      compileReport = report;
      report = '';
      compileMs = performance.now() - started;
      runStarted = performance.now();
      phase = 'run';
      if (/^compiled 0$/m.test(compileReport)) timer = setTimeout(() => kill('timeout'), limits.timeoutMs);
    }
    if (phase === 'run' && /^exit \S+$/m.test(report)) {
      clearTimeout(timer);
      runMs = performance.now() - runStarted;
      phase = 'fetch';
      timer = setTimeout(() => kill('timeout'), FETCH_TIMEOUT_MS);
    }
  });
  const src = stream(3);
  src.end(archive);
  child.on('error', (e) => {
    spawnError = e.message;
  });

  liveUids.add(uid);
  const program = new Promise<ProgramResult>((resolve) => {
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      liveUids.delete(uid);
      if (live && !live.writableEnded) live.end();
      const wallMs = performance.now() - started;
      const none: ProgramResult = { compile: null, run: null, files: {}, fetchSkipped: [] };
      if (spawnError !== null) {
        resolve({ ...none, run: sandboxError(`could not start the sandbox: ${spawnError}`, wallMs) });
        return;
      }
      // The OOM counter only matters for a run that died by a SIGKILL we did not send (classifyEnding).
      const oomAfter = /^(exit|compiled) 137$/m.test(compileReport + report) ? oomKills() : oomBefore;
      const stdout = live ? '' : Buffer.concat(out).subarray(0, limits.maxOutputBytes).toString('utf8');
      const stderr = Buffer.concat(err).subarray(0, limits.maxOutputBytes).toString('utf8');
      const setup = /^setup \S+/m.test(compileReport + report);
      let compile: RunResult | null = null;
      if (compiled) {
        const crep = compileReport || report; // no "compiled" line: the compile phase never finished
        const cres = classifyEnding({
          lang, limits: compileLimits, cpu: ccpu,
          stdout: Buffer.concat(cout).toString('utf8'), stderr: Buffer.concat(cerr).toString('utf8'),
          wallMs: compileReport ? compileMs : wallMs,
          killedFor: killedIn === 'compile' ? killedFor : null,
          report: crep.replace(/^compiled /m, 'exit '), outerCode: code, outerSignal: sig, oomBefore, oomAfter, phase: 'compile',
        });
        compile = cres;
        if (cres.status !== 'ok' || setup) {
          resolve({ ...none, compile: setup && cres.status === 'ok' ? sandboxError(`sandbox set-up failed: ${cres.stderr.trim().slice(-300)}`, wallMs) : cres });
          return;
        }
      }
      const run = classifyEnding({
        lang, limits, cpu, stdout, stderr,
        wallMs: runMs ?? performance.now() - runStarted,
        killedFor: killedIn === 'run' || (killedIn === 'compile' && !compiled) ? killedFor : null,
        report: compileReport + report, outerCode: code, outerSignal: sig, oomBefore, oomAfter, phase: 'run',
      });
      // Fetched files: "<index> <base64> <rc>" lines, rc 0 only (a file base64 could not read is skipped).
      const files: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
      const fetchSkipped: string[] = [];
      let total = 0;
      const seen = new Set<number>();
      for (const line of fetchText.split('\n')) {
        const m = /^(\d+) ([A-Za-z0-9+/=]*) (\d+)$/.exec(line);
        if (!m) continue;
        const i = Number(m[1]);
        const name = p.fetchNames[i];
        if (name === undefined || seen.has(i)) continue;
        seen.add(i);
        if (m[3] !== '0') {
          fetchSkipped.push(name);
          continue;
        }
        const data = Buffer.from(m[2]!, 'base64');
        if (total + data.length > p.maxFetchBytes) {
          fetchSkipped.push(name);
          continue;
        }
        total += data.length;
        files[name] = data;
      }
      if (killedIn === 'fetch') for (const name of p.fetchNames) if (!(name in files) && !fetchSkipped.includes(name)) fetchSkipped.push(name);
      resolve({ compile, run, files, fetchSkipped });
    });
  });
  const result = program.then(programToRun);
  return {
    stdin: child.stdin!,
    stdout: live ?? child.stdout!,
    result,
    program,
    get pid() {
      return warm !== null ? warm.pid : pid;
    },
    kill() {
      kill('caller');
    },
  };
}

/** Everything known when a run's process tree has ended. */
export interface Ending {
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
  /** The kernel's OOM-kill counter when the run started and when it ended (null: not available). */
  oomBefore: number | null;
  oomAfter: number | null;
  /** Which phase this is (default `run`): a compile phase's errors are never the program's memory or compile errors. */
  phase?: 'compile' | 'run';
}

/**
 * How a run ended, from the evidence the program cannot forge: our own kills, the report on fd 4,
 * CPU accounting, the kernel's OOM counter. Pure (exported for tests; not part of the package API).
 * @internal
 */
export function classifyEnding(e: Ending): RunResult {
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
    if (e.oomBefore !== null && e.oomAfter !== null && e.oomAfter > e.oomBefore)
      return { ...sandboxError('killed by the kernel OOM killer (the host ran out of memory, not the program of its limit)', wallMs), stdout, stderr };
  }
  if (e.phase !== 'compile' && isMemoryError(lang, stderr)) return { ...base, status: 'memory_limit', exitCode, signal, message: `ran out of memory (limit ${limits.memoryMb} MiB)` };
  if (e.phase !== 'compile' && signal === null && isCompileError(lang, stderr)) return { ...base, status: 'compile_error', exitCode, signal, message: 'the program does not compile' };
  if (signal === 'SIGXFSZ') return { ...base, status: 'runtime_error', exitCode, signal, message: `wrote a file larger than ${limits.maxFileBytes} bytes` };
  return { ...base, status: 'runtime_error', exitCode, signal, message: signal ? `killed by ${signal}` : `exited with code ${rc}` };
}

/** User + system CPU seconds of the program's process (dash's `times`, second line: the children of the init shell). */
function cpuUsed(report: string): number | null {
  // Pairs of lines (the shell's own time, then its children's); children's time is cumulative over the phases.
  const lines = [...report.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)];
  const secs = (m: RegExpMatchArray) => Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  const children = lines.filter((_, i) => i % 2 === 1).map(secs);
  if (children.length === 0) return null;
  return children[children.length - 1]! - (children.length > 1 ? children[children.length - 2]! : 0);
}
