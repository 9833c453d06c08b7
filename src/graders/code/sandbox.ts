/**
 * A process sandbox for untrusted programs (Python 3 and JavaScript/Node), built only from what a
 * Debian machine ships: util-linux `unshare`, `mount`, `umount`, `pivot_root` and `setpriv`, and
 * `/bin/sh`'s `ulimit`.
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
 *   working directory, holding only `prog.py`/`prog.js`) and `/dev/shm`; `/dev` with only `null`,
 *   `zero`, `random`, `urandom`; a fresh `/proc` of the run's own pid namespace (`hidepid`: only the
 *   program's own processes). The run `pivot_root`s into it and detaches the host root entirely: no
 *   `/etc/passwd`, no `/home`, `/root`, `/work`, `/var`, `/srv`, `/sys`, no host `/tmp`, no project,
 *   no dataset or rollouts file, no `/bin/sh` or other executables — `subprocess` works only with
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
 * Needs Linux and root (CAP_SYS_ADMIN for the namespaces and mounts, CAP_SETUID to drop to the
 * sandbox uid). Without them every run reports `sandbox_error` — it never falls back to running the
 * program unsandboxed. Mount-point skeletons (empty directories and files, no content) are kept in
 * `/run/rewardkit-sandbox`, one per interpreter layout, shared by every process of the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
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

const TOOLS = {
  unshare: ['/usr/bin/unshare', '/bin/unshare'],
  setpriv: ['/usr/bin/setpriv', '/bin/setpriv'],
  mount: ['/usr/bin/mount', '/bin/mount'],
  umount: ['/usr/bin/umount', '/bin/umount'],
  pivotRoot: ['/usr/sbin/pivot_root', '/sbin/pivot_root', '/usr/bin/pivot_root'],
  sh: ['/bin/sh'],
};

type Tools = { unshare: string; setpriv: string; mount: string; umount: string; pivotRoot: string };
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
    if (process.platform !== 'linux') support = { ok: false, reason: `the code sandbox needs Linux namespaces (platform is ${process.platform})` };
    else if (typeof process.getuid !== 'function' || process.getuid() !== 0)
      support = { ok: false, reason: 'the code sandbox needs root (namespaces, private mounts and a switch to an unprivileged uid)' };
    else if (!unshare || !setpriv || !mount || !umount || !pivotRoot || !find(TOOLS.sh))
      support = { ok: false, reason: 'the code sandbox needs util-linux (unshare, setpriv, mount, umount, pivot_root) and /bin/sh' };
    else support = { ok: true, unshare, setpriv, mount, umount, pivotRoot };
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

/** The mounts a language's interpreter needs, besides the skeleton's fixed ones. */
function interpreterBinds(lang: SandboxLanguage, interpreter: string, setpriv: string): Bind[] {
  if (!isAbsolute(interpreter)) throw new Error(`the ${lang} interpreter must be an absolute path, got ${interpreter}`);
  const real = realpathSync(interpreter);
  const dirs = lang === 'python' ? pythonDirs(interpreter) : [];
  const elves = [real, realpathSync(setpriv), ...UMOUNT.map((u) => realpathSync(u))];
  if (lang === 'python') {
    for (const d of dirs) {
      if (!/lib-dynload$/.test(d)) continue;
      for (const f of readdirSync(d)) if (f.endsWith('.so')) elves.push(join(d, f));
    }
  }
  const libs = sharedLibraries(elves);
  const libDirs = new Set<string>();
  // Every hop of the interpreter's symlink chain (a venv's bin/python → /usr/bin/python3 → python3.11) must resolve inside.
  const files = new Set<string>([...symlinkChain(interpreter), real, setpriv]);
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
  for (const d of [...dirs, ...libDirs]) binds.push({ at: d, from: d, kind: 'dir', opts: RO });
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

/** The sealed-root layout of one language (built once per interpreter), or why it cannot be built. */
function rootLayout(lang: SandboxLanguage, interpreter: string, setpriv: string): RootLayout | { error: string } {
  const key = `${lang}\0${interpreter}`;
  const known = layouts.get(key);
  if (known) return known;
  let layout: RootLayout | { error: string };
  try {
    const binds = interpreterBinds(lang, interpreter, setpriv);
    for (const d of DEVICES) binds.push({ at: d, from: d, kind: 'file', opts: 'bind,nosuid' }); // device nodes: not nodev
    const dir = buildSkeleton(binds);
    layout = { dir, binds, fstabs: new Map() };
  } catch (e) {
    layout = { error: `cannot prepare the sealed root for ${lang} (${interpreter}): ${(e as Error).message.split('\n')[0]}` };
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
 * mount, setpriv, uid, tmp MiB, cpu soft, cpu hard, address space KiB, nproc, fsize (512-byte blocks,
 * as dash's ulimit counts), nofile, program file name, then the interpreter's argv.
 * fd 3 carries the program source in; fd 4 carries the program's CPU time (`times`) and "exit <status>"
 * (or "setup <step>") out — the
 * program has neither, so it cannot forge the sandbox's report. The shell stays pid 1 (it waits for
 * the program instead of exec-ing it) so that the kill-on-parent-death signal set by unshare survives.
 */
const SCRIPT = [
  'fail() { echo "setup $1" >&4; exit 0; }',
  'M=$1 UM=$2 PR=$3 S=$4 D=$5 FS=$6 U=$7 C=$8 CH=$9 AS=${10} P=${11} F=${12} N=${13} PROG=${14}; shift 14',
  '$M -a -T "$FS" || fail mount',
  'cat <&3 >"$D/tmp/$PROG" || fail write',
  'exec 3<&-',
  // The host root is parked on /tmp (above the run's tmpfs), then detached with everything under it
  // by its own umount binary (libraries resolve in the new root); /tmp's tmpfs shows through again.
  'cd "$D" && $PR . tmp && /tmp$UM -l -c /tmp || fail pivot',
  'cd /tmp || fail cd',
  '[ -x "$1" ] || fail interpreter', // the interpreter resolves inside the sealed root (else a set-up failure, not the program's)
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

/** Uids of the runs of this process still alive. */
const liveUids = new Set<number>();

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
  let uid = randomInt(1_000_000, 1_999_999_999);
  while (liveUids.has(uid)) uid = randomInt(1_000_000, 1_999_999_999); // two live runs never share a uid

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
  const layout = rootLayout(lang, argv[0]!, tools.setpriv);
  if ('error' in layout) return failedRun(layout.error);
  const args = [
    '--net', '--pid', '--fork', '--kill-child', '--mount', '--ipc', '--uts', '--',
    '/bin/sh', '-c', SCRIPT, 'sh', tools.mount, tools.umount, tools.pivotRoot, tools.setpriv, layout.dir, fstabFor(layout, Math.max(1, Math.ceil(limits.tmpMb))),
    String(uid), String(cpu), String(cpu + 1), String(asKb), String(nproc),
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

  liveUids.add(uid);
  const result = new Promise<RunResult>((resolve) => {
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      liveUids.delete(uid);
      if (live && !live.writableEnded) live.end();
      const wallMs = performance.now() - started;
      if (spawnError !== null) {
        resolve(sandboxError(`could not start the sandbox: ${spawnError}`, wallMs));
        return;
      }
      const stdout = live ? '' : Buffer.concat(out).subarray(0, limits.maxOutputBytes).toString('utf8');
      const stderr = Buffer.concat(err).subarray(0, limits.maxOutputBytes).toString('utf8');
      resolve(
        classifyEnding({ lang, limits, cpu, stdout, stderr, wallMs, killedFor, report, outerCode: code, outerSignal: sig, oomBefore, oomAfter: oomKills() }),
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
