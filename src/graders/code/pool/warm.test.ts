/**
 * The warm sandbox pool (real processes, real namespaces): programs forked from the zygote behave as
 * `python3 prog.py` would, leave nothing behind for the next program, keep every limit, cannot reach
 * the zygote or one another, and the pool survives its zygote's death.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openSandboxes, runInSandbox, runProgram, sandboxConfig, sandboxSupport, type RunResult } from '../sandbox.js';
import { nativeForker } from './native.js';
import { setWarmPool, warmPoolEnabled, warmPoolTestHooks, warmZygotePids } from './warm.js';

const LIM = { timeoutMs: 30_000 };
const run = (code: string, stdin = '', limits: Record<string, number> = {}) => runInSandbox({ language: 'python', code, stdin, limits: { ...LIM, ...limits } });
/** A program's own command line shows whether it was forked from the zygote. */
const FROM_POOL = 'print("pool" if "zygote.py" in open("/proc/self/cmdline").read() else "cold")';

const supported = sandboxSupport().ok;
if (!supported) console.log(`warm pool tests skipped: ${sandboxSupport().reason}`);
/** The slots run the compiled forker (native.ts), unless no C compiler is found or REWARDKIT_POOL_NATIVE=0 (warm_python.test.ts runs this file so). */
const NATIVE = supported && nativeForker('/run/rewardkit-sandbox', sandboxConfig().gcc) !== null;
if (supported) console.log(`warm pool tests: ${NATIVE ? 'compiled' : 'Python'} forker`);

afterAll(() => setWarmPool(true));

describe.skipIf(!supported)('programs from the warm pool', () => {
  it('Python runs are forked from the zygote by default, and behave as `python3 prog.py` in /tmp', async () => {
    expect(warmPoolEnabled()).toBe(true);
    const r = await run(`${FROM_POOL}\nimport sys, os\nprint(sys.argv, __name__, __file__, sys.path[0], os.getcwd(), sorted(os.listdir("/tmp")), os.getuid() > 0)\nprint(int(input()) * 2)`, '21\n');
    expect(r).toMatchObject({ status: 'ok', stderr: '' });
    expect(r.stdout).toBe("pool\n['prog.py'] __main__ /tmp/prog.py /tmp /tmp ['prog.py'] True\n42\n");
    expect(warmZygotePids().length).toBeGreaterThan(0);
  }, 120_000);

  it.skipIf(!NATIVE || process.env.REWARDKIT_POOL_PREFAULT === '0')("with the compiled forker, the slot has learnt the pages a program's process writes (its probe ran)", async () => {
    // The library is loaded in the program's process already (inherited); RTLD_NOLOAD never opens a file.
    const r = await run('import ctypes, os\nlib = ctypes.PyDLL("/tmp/.rk/rkfork.so", mode=os.RTLD_NOLOAD | os.RTLD_NOW)\nprint(50 < lib.rk_learnt_pages() <= 2048)');
    expect(r).toMatchObject({ status: 'ok', stderr: '', stdout: 'True\n' });
  }, 120_000);

  it('case mode (SessionRequest.cases): with the compiled forker, a supervisor the cases cannot trace frames each case; with the Python one, "U" (the caller runs the cases alone)', async () => {
    const frames = (inputs: string[]) => Buffer.concat(inputs.flatMap((x) => [Buffer.from(`${String(Buffer.byteLength(x)).padStart(15, '0')}\n`), Buffer.from(x)]));
    const code = [
      'import os, sys',
      'x = input()',
      'st = open("/proc/self/status").read()',
      'uid = [l for l in st.splitlines() if l.startswith("Uid:")][0].split()[1]',
      'ppid = os.getppid()',
      'import ctypes',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'traced = libc.ptrace(16, ppid, 0, 0)',
      'print(x, uid != "0", ppid > 1, os.path.exists(f"/proc/{ppid}"), traced, ctypes.get_errno() == 1, "CapEff:\t0000000000000000" in st, flush=True)',
      'print("to stderr", file=sys.stderr)',
      'if x == "b":',
      '    sys.exit(4)',
    ].join('\n');
    const [s] = await openSandboxes([{ language: 'python', code, limits: { timeoutMs: 30_000 }, cases: { wallMs: 5000, outputBytes: 4096 } }]);
    const out: Buffer[] = [];
    s!.stdout.on('data', (d: Buffer) => out.push(Buffer.from(d)));
    s!.stdin.end(frames(['a\n', 'b\n', 'c\n']));
    const r = await s!.result;
    const text = Buffer.concat(out).toString('latin1');
    if (!NATIVE) {
      expect(text).toBe('U no compiled case supervisor\n');
      return;
    }
    expect(r.status).toBe('ok');
    // The supervisor (the cases' parent) has the run's uid but is not dumpable: a case can neither
    // trace it (EPERM) nor see it in /proc (hidepid=2), so neither its memory nor its descriptors.
    const line = (x: string) => `${x} True True False -1 True True\n`;
    const err = 'to stderr\n';
    expect(text).toBe(['R\n', `O${line('a').length}\n${line('a')}P${err.length}\n${err}E0\n`, `O${line('b').length}\n${line('b')}P${err.length}\n${err}E4\n`, `O${line('c').length}\n${line('c')}P${err.length}\n${err}E0\n`].join(''));
  }, 120_000);

  it('a bad case-mode request is refused before any slot is taken, with a sentence naming the field', async () => {
    await expect(openSandboxes([{ language: 'javascript', code: 'x', cases: { wallMs: 1000, outputBytes: 10 } }])).rejects.toThrow(/^cases: case mode runs Python programs only$/);
    for (const cases of [{ wallMs: 0, outputBytes: 10 }, { wallMs: 1.5, outputBytes: 10 }, { wallMs: 1000, outputBytes: -1 }, { wallMs: Number.NaN, outputBytes: 1 }]) {
      await expect(openSandboxes([{ language: 'python', code: 'x', cases }])).rejects.toThrow(/^cases: expected a positive integer wallMs and a non-negative integer outputBytes$/);
    }
  });

  it('the slot runs the compiled forker when one could be built, else the Python one, with the same results', async () => {
    const r = await run(`${FROM_POOL}\nprint("rkfork.so" in open("/proc/self/maps").read())`);
    expect(r).toMatchObject({ status: 'ok', stderr: '', stdout: `pool\n${NATIVE ? 'True' : 'False'}\n` });
  }, 120_000);

  it('a program sees the environment of a cold run, /proc/self/environ included (the slot binds at start, then hides LD_BIND_NOW)', async () => {
    const probe = `${FROM_POOL}\nimport os\nprint(sorted(os.environ.items()), open("/proc/self/environ", "rb").read())`;
    const warm = await run(probe);
    setWarmPool(false);
    const cold = await run(probe).finally(() => setWarmPool(true));
    expect(warm).toMatchObject({ status: 'ok', stderr: '' });
    expect(cold).toMatchObject({ status: 'ok', stderr: '' });
    expect(warm.stdout.startsWith('pool\n') && cold.stdout.startsWith('cold\n')).toBe(true);
    expect(warm.stdout.slice(5)).toBe(cold.stdout.slice(5));
    expect(warm.stdout).not.toContain('LD_BIND_NOW');
  }, 120_000);

  it('what an atexit handler writes to sys.__stdout__ after the program replaced sys.stdout is kept, as in a cold run', async () => {
    const code = 'import atexit, io, sys\nbuf = io.StringIO()\nsys.stdout = buf\natexit.register(lambda: sys.__stdout__.write(buf.getvalue()))\nprint(sum(map(int, input().split())))';
    const warm = await run(code, '3 4\n');
    setWarmPool(false);
    const cold = await run(code, '3 4\n').finally(() => setWarmPool(true));
    expect(cold).toMatchObject({ status: 'ok', stdout: '7\n' });
    expect(warm).toMatchObject({ status: 'ok', stdout: '7\n', stderr: '' });
  }, 120_000);

  it('errors and exits are reported exactly as the interpreter reports them (no zygote frame)', async () => {
    const [syntax, raised, exitMsg, exitCode, flushed] = await Promise.all([
      run('def f(:\n    pass'),
      run('def g():\n    return 1 / 0\ng()'),
      run('raise SystemExit("bye")'),
      run('import sys\nprint("out")\nsys.exit(3)'),
      runProgram({
        language: 'python',
        code: 'import atexit, threading, time\nf = open("left-open.txt", "w")\nf.write("unflushed")\natexit.register(lambda: print("atexit ran"))\nthreading.Thread(target=lambda: (time.sleep(0.3), print("thread joined"))).start()',
        fetchFiles: ['left-open.txt'],
        limits: LIM,
      }),
    ]);
    expect(syntax.status).toBe('compile_error');
    expect(syntax.stderr).toMatch(/^ {2}File "\/tmp\/prog.py", line 1\n.*\n.*\nSyntaxError: invalid syntax\n$/);
    expect(raised).toMatchObject({ status: 'runtime_error', exitCode: 1 });
    expect(raised.stderr).toBe('Traceback (most recent call last):\n  File "/tmp/prog.py", line 3, in <module>\n    g()\n  File "/tmp/prog.py", line 2, in g\n    return 1 / 0\n           ~~^~~\nZeroDivisionError: division by zero\n');
    expect(exitMsg).toMatchObject({ status: 'runtime_error', exitCode: 1, stderr: 'bye\n' });
    expect(exitCode).toMatchObject({ status: 'runtime_error', exitCode: 3, stdout: 'out\n' });
    expect(flushed.run).toMatchObject({ status: 'ok', stdout: 'thread joined\natexit ran\n' });
    expect(flushed.files['left-open.txt']?.toString()).toBe('unflushed');
  }, 120_000);
});

/** A session's stdout and result (stdin closed at once). */
async function session(code: string, preload?: readonly string[]): Promise<{ out: string; r: RunResult }> {
  const [s] = await openSandboxes([{ language: 'python', code, limits: LIM, preload }]);
  let out = '';
  s!.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  s!.stdin.end();
  const r = await s!.result;
  return { out, r };
}

describe.skipIf(!supported)('modules imported ahead (preload, for the call-based runner)', () => {
  const SEEN = `${FROM_POOL}\nimport sys\nprint(sorted(m for m in ("json", "statistics", "random") if m in sys.modules))`;
  it('slots of a preload list have those modules loaded; plain slots do not, and both kinds of slot live side by side', async () => {
    const pre = await session(SEEN, ['json', 'statistics']);
    const plain = await session(SEEN);
    const pre2 = await session(SEEN, ['json', 'statistics']);
    expect(pre.r).toMatchObject({ status: 'ok', stderr: '' });
    // statistics imports random: it comes along.
    expect(pre.out).toBe("pool\n['json', 'random', 'statistics']\n");
    expect(pre2.out).toBe(pre.out);
    expect(plain).toMatchObject({ out: 'pool\n[]\n', r: { status: 'ok', stderr: '' } });
  }, 120_000);

  it('random, loaded ahead, is seeded afresh in each program (as os.fork reseeds it)', async () => {
    const code = 'import random\nprint(random.getrandbits(64))';
    const outs = await Promise.all(Array.from({ length: 4 }, () => session(code, ['random'])));
    for (const o of outs) expect(o.r).toMatchObject({ status: 'ok', stderr: '' });
    expect(new Set(outs.map((o) => o.out)).size).toBe(4);
  }, 120_000);

  it('a preload entry that is not a module name is refused', async () => {
    await expect(openSandboxes([{ language: 'python', code: 'pass', limits: LIM, preload: ['os; import x'] }])).rejects.toThrow(/preload: "os; import x" is not a module name/);
  });
});

describe.skipIf(!supported)('no state passes from one program to the next', () => {
  // Each probe runs first as the "writer", then as the "reader", in a new program each time.
  const writer = [
    'import os, sys, json, builtins, ctypes, random',
    'random.seed(1)',
    'open("/tmp/leak.txt", "w").write("x")',
    'open("/dev/shm/leak", "w").write("x")',
    'os.environ["RK_LEAK"] = "1"',
    'os.putenv("RK_LEAK2", "1")',
    'json.RK_LEAK = 1',
    'json.dumps = lambda *a, **k: "patched"',
    'builtins.len = lambda x: 42',
    'builtins.RK_LEAK = 1',
    'sys.modules["rk_leak"] = json',
    'sys.path.append("/tmp/rk-leak-path")',
    'sys.setrecursionlimit(12345)',
    // A SysV shared-memory segment (it outlives its creator unless the IPC namespace goes).
    'libc = ctypes.CDLL(None, use_errno=True)',
    'shm = libc.shmget(0x524b4c, 4096, 0o1666)',
    'print("shm", shm >= 0)',
  ].join('\n');
  const reader = [
    'import os, sys, json, builtins, ctypes, random',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'seen = {',
    '  "tmp": os.path.exists("/tmp/leak.txt"),',
    '  "shm": os.path.exists("/dev/shm/leak"),',
    '  "env": "RK_LEAK" in os.environ or "RK_LEAK2" in os.environ or b"RK_LEAK" in open("/proc/self/environ", "rb").read(),',
    '  "module": hasattr(json, "RK_LEAK") or json.dumps(1) != "1",',
    '  "builtins": len([1]) != 1 or hasattr(builtins, "RK_LEAK"),',
    '  "sys.modules": "rk_leak" in sys.modules,',
    '  "sys.path": "/tmp/rk-leak-path" in sys.path,',
    '  "recursion": sys.getrecursionlimit() == 12345,',
    '  "random": random.random() == __import__("random").Random(1).random(),',
    '  "sysv": libc.shmget(0x524b4c, 4096, 0o666) >= 0,',
    '}',
    'print(sorted(k for k, v in seen.items() if v))',
  ].join('\n');

  it('a file in /tmp or /dev/shm, an env var, a module change, a patched builtin, a SysV segment: none is seen by the next program', async () => {
    const w = await run(writer);
    expect(w).toMatchObject({ status: 'ok', stdout: 'shm True\n' });
    for (let i = 0; i < 3; i++) {
      const r = await run(`${FROM_POOL}\n${reader}`);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('pool\n[]\n');
    }
  }, 120_000);

  it('two programs running at once cannot see or reach each other (processes, abstract sockets, signals)', async () => {
    // A listens on an abstract unix socket and waits; B looks for it, for A's processes, and signals everyone.
    const a = 'import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind("\\0rk-warm-probe")\ns.listen(1)\nprint("listening", flush=True)\nsys.stdin.read()\nprint("A alive")';
    const b = [
      'import os, socket, signal',
      'pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())',
      'unix = open("/proc/net/unix").read()',
      'try:',
      '    c = socket.socket(socket.AF_UNIX)',
      '    c.connect("\\0rk-warm-probe")',
      '    reached = True',
      'except OSError:',
      '    reached = False',
      'c.close()',
      'try:',
      '    os.kill(-1, signal.SIGKILL)',
      '    killed = "someone"',
      'except ProcessLookupError:',
      '    killed = "nobody"',
      'print(pids == [os.getpid()], "rk-warm-probe" in unix, reached, killed, sorted(os.listdir("/proc/self/fd")))',
    ].join('\n');
    const [sa] = await openSandboxes([{ language: 'python', code: a, limits: LIM }]);
    const first = await new Promise<string>((res) => sa!.stdout.once('data', (d: Buffer) => res(d.toString())));
    expect(first).toBe('listening\n');
    const rb = await run(b);
    sa!.stdin.end();
    const out: Buffer[] = [];
    sa!.stdout.on('data', (d: Buffer) => out.push(d));
    const ra = await sa!.result;
    expect(rb.stderr).toBe('');
    // Only its own process; not A's socket; no one to signal; only its own stdio (0, 1, 2 and the listing's fd).
    expect(rb.stdout).toBe("True False False nobody ['0', '1', '2', '3']\n");
    expect(ra.status).toBe('ok');
    expect(Buffer.concat(out).toString()).toBe('A alive\n');
  }, 120_000);
});

/** Runs one at a time with a pause (the slot has cleaned up and is idle again), so that they share a slot. */
async function inTurn(code: string): Promise<RunResult> {
  const r = await run(code);
  await new Promise((res) => setTimeout(res, 300));
  return r;
}
/** The slot a program runs in: its network namespace (one per slot). */
const SLOT_ID = 'print("slot", os.readlink("/proc/self/ns/net"))';

describe.skipIf(!supported)('a slot reused by the next program: nothing of the previous one is left', () => {
  const writer = [
    'import os, sys, socket, ctypes, time, resource',
    SLOT_ID,
    'libc = ctypes.CDLL(None, use_errno=True)',
    'open("/tmp/leak.txt", "w").write("x")',
    'os.makedirs("/tmp/leakdir/sub")',
    'open("/dev/shm/leak", "w").write("x")',
    'os.environ["RK_LEAK"] = "1"',
    'os.putenv("RK_LEAK2", "1")',
    // SysV shared memory, semaphore set and message queue (they outlive their creator in an IPC namespace)
    'print("sysv", libc.shmget(0x524b4c, 4096, 0o1666) >= 0, libc.semget(0x524b4c, 1, 0o1666) >= 0, libc.msgget(0x524b4c, 0o1666) >= 0)',
    // a POSIX message queue
    'libc.mq_open.restype = ctypes.c_int',
    'print("mq", libc.mq_open(b"/rk-leak", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0)',
    // keys in the session and user keyrings (add_key)
    'add_key = {"x86_64": 248, "aarch64": 217}[os.uname().machine]',
    'print("keys", libc.syscall(add_key, b"user", b"rk-leak-session", b"x", 1, -3) > 0, libc.syscall(add_key, b"user", b"rk-leak-user", b"x", 1, -4) > 0)',
    // its own process state: niceness, umask, a lower limit, a new session
    'os.nice(5); os.umask(0o077); resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20)); os.setsid()',
    // an abstract unix socket held by a daemon that double-forked out of the session, and one held only in flight (SCM_RIGHTS to itself)
    'r, w = os.pipe()',
    'if os.fork() == 0:',
    '    os.setsid()',
    '    if os.fork() == 0:',
    '        s = socket.socket(socket.AF_UNIX)',
    '        s.bind("\\0rk-leak-daemon")',
    '        s.listen(5)',
    '        os.write(w, b"up")',
    '        while True:',
    '            open("/tmp/daemon-alive", "w").write(str(time.time()))',
    '            time.sleep(0.01)',
    '    os._exit(0)',
    'print("daemon", os.read(r, 2) == b"up")',
    'a, b = socket.socketpair()',
    'b.bind("\\0rk-leak-inflight") if False else None',
    'c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    'c.bind("\\0rk-leak-inflight")',
    'socket.send_fds(a, [b"x"], [c.fileno(), a.fileno(), b.fileno()])',
    'print("pid", os.getpid())',
  ].join('\n');
  const reader = [
    'import os, sys, socket, ctypes, resource',
    SLOT_ID,
    'libc = ctypes.CDLL(None, use_errno=True)',
    'libc.mq_open.restype = ctypes.c_int',
    'def reach(name, kind=socket.SOCK_STREAM):',
    '    s = socket.socket(socket.AF_UNIX, kind)',
    '    try:',
    '        s.connect(name)',
    '        return True',
    '    except OSError:',
    '        return False',
    'try:',
    '    os.kill(-1, 9)',
    '    killed = True',
    'except ProcessLookupError:',
    '    killed = False',
    'seen = {',
    '  "tmp": sorted(os.listdir("/tmp")) != ["prog.py"],',
    '  "shm": os.listdir("/dev/shm") != [],',
    '  "env": "RK_LEAK" in os.environ or "RK_LEAK2" in os.environ or b"RK_LEAK" in open("/proc/self/environ", "rb").read(),',
    '  "sysv": libc.shmget(0x524b4c, 4096, 0o666) >= 0 or libc.semget(0x524b4c, 1, 0o666) >= 0 or libc.msgget(0x524b4c, 0o666) >= 0',
    '          or any(len(open("/proc/sysvipc/" + k).read().splitlines()) > 1 for k in ("shm", "sem", "msg")),',
    '  "mq": libc.mq_open(b"/rk-leak", os.O_RDWR, 0, None) >= 0,',
    '  "keys": "rk-leak" in open("/proc/keys").read() if os.path.exists("/proc/keys") else False,',
    '  "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()) != [os.getpid()] or killed,',
    '  "pid": os.getpid() != 2,',
    '  "abstract": reach("\\0rk-leak-daemon") or reach("\\0rk-leak-inflight", socket.SOCK_DGRAM) or "@rk-leak" in open("/proc/net/unix").read(),',
    '  "nice": os.nice(0) != 0,',
    '  "umask": os.umask(0o022) != 0o022,',
    '  "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 20,',
    '}',
    'print(sorted(k for k, v in seen.items() if v))',
  ].join('\n');

  it('files in /tmp and /dev/shm, env vars, SysV objects, a POSIX queue, keys, a double-forked daemon, abstract sockets (held and in flight), process state, pids', async () => {
    // Which slot takes a run depends on which one is idle at that moment (a spare slot may still be
    // cleaning up): readers run until two of them have landed on the writer's slot (its network
    // namespace says which), and no reader anywhere may see a trace.
    // A writer whose slot fails its clean check is replaced instead (also safe): the scenario is
    // repeated until a slot has been reused after a writer, at most 6 times.
    let same = 0;
    for (let attempt = 0; attempt < 6 && same === 0; attempt++) {
      const w = await inTurn(writer);
      const slot = /^slot (.*)$/m.exec(w.stdout)?.[1];
      expect(slot).toBeTruthy();
      expect(w.stderr).toBe('');
      expect(w.status).toBe('ok');
      expect(w.stdout).toContain('sysv True True True\n');
      expect(w.stdout).toContain('daemon True\n');
      expect(w.stdout).toContain('mq True\n');
      expect(w.stdout).toContain('keys True True\n');
      for (let i = 0; i < 8 && same < 2; i++) {
        const r = await inTurn(reader);
        expect(r.stderr).toBe('');
        const [where, traces] = r.stdout.split('\n');
        expect(traces).toBe('[]');
        if (where === `slot ${slot}`) same++;
      }
    }
    expect(same).toBeGreaterThan(0);
  }, 180_000);

  it('a program that leaves a trace in the network namespace (its counters) gets its slot thrown away, not reused', async () => {
    // A connection attempt with no route counts in /proc/net/snmp (OutNoRoutes), which the next program could read.
    const w = await inTurn(`import os, socket\n${SLOT_ID}\ntry:\n    socket.create_connection(("192.0.2.1", 80), timeout=1)\nexcept OSError as e:\n    print("no route")`);
    const slot = /^slot (.*)$/m.exec(w.stdout)?.[1];
    expect(slot).toBeTruthy();
    expect(w.stdout).toBe(`slot ${slot}\nno route\n`);
    for (let i = 0; i < 6; i++) {
      const r = await inTurn(`import os\n${SLOT_ID}\nprint([l for l in open("/proc/net/snmp").read().splitlines() if l.startswith("Ip:")][1].split()[-2:])`);
      expect(r.status).toBe('ok');
      expect(r.stdout.startsWith(`slot ${slot}\n`)).toBe(false);
    }
  }, 180_000);
});

describe.skipIf(!supported)('limits and containment hold for pooled programs', () => {
  it('wall clock, CPU, memory, processes, file size and network', async () => {
    const server = createServer((s) => s.destroy());
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const [sleep, cpu, memory, forks, fsize, net] = await Promise.all([
        run('import time\ntime.sleep(60)', '', { timeoutMs: 1500 }),
        run('import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass', '', { timeoutMs: 60_000, cpuSeconds: 1 }),
        run('x = bytearray(1 << 30)', '', { memoryMb: 256 }),
        run(
          'import os, time\nkids = 0\ntry:\n    while kids < 100:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n        kids += 1\nexcept OSError:\n    pass\nprint(kids)',
          '',
          { maxProcesses: 4 },
        ),
        run('open("big", "wb").write(b"x" * 100000)', '', { maxFileBytes: 4096 }),
        run(`import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    print("connected")\nexcept OSError:\n    print("blocked")`),
      ]);
      expect(sleep).toMatchObject({ status: 'timeout' });
      expect(cpu).toMatchObject({ status: 'timeout', signal: 'SIGKILL', stderr: '' });
      expect(memory.status).toBe('memory_limit');
      expect(forks.status).toBe('ok');
      expect(Number(forks.stdout)).toBeGreaterThanOrEqual(1);
      expect(Number(forks.stdout)).toBeLessThanOrEqual(5); // max_processes 4 + the interpreter's 2 tasks
      expect(fsize.status).toBe('runtime_error'); // Python ignores SIGXFSZ: the write fails with EFBIG
      expect(fsize.stderr).toMatch(/File too large/);
      expect(net.stdout).toBe('blocked\n');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  }, 180_000);

  it('a program has no capability, no_new_privs, and no descriptor but its stdio', async () => {
    const r = await run('import os\nst = open("/proc/self/status").read()\nprint([l for l in st.splitlines() if l.startswith(("Cap", "NoNewPrivs"))])\nprint(sorted(os.listdir("/proc/self/fd")))');
    expect(r.stdout).toBe(
      "['CapInh:\\t0000000000000000', 'CapPrm:\\t0000000000000000', 'CapEff:\\t0000000000000000', 'CapBnd:\\t0000000000000000', 'CapAmb:\\t0000000000000000', 'NoNewPrivs:\\t1']\n['0', '1', '2', '3']\n",
    );
  }, 120_000);

  it('writing fake reports on every descriptor changes nothing: the run still ends as what it did', async () => {
    const r = await run('import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b"exit 0\\nsetup x\\n")\n    except OSError:\n        pass\nraise SystemExit(7)');
    expect(r).toMatchObject({ status: 'runtime_error', exitCode: 7 });
  }, 120_000);
});

describe.skipIf(!supported)('the pool recovers', () => {
  it('a zygote killed from outside: its runs in flight are sandbox errors, the next run gets a new zygote', async () => {
    await run('pass');
    const [s] = await openSandboxes([{ language: 'python', code: 'import sys\nprint("up", flush=True)\nsys.stdin.read()', limits: LIM }]);
    await new Promise<void>((res) => s!.stdout.once('data', () => res()));
    const before = warmZygotePids();
    expect(before.length).toBeGreaterThan(0);
    for (const p of before) process.kill(-p, 'SIGKILL');
    const r: RunResult = await s!.result;
    expect(r.status).toBe('sandbox_error');
    const next = await run(FROM_POOL);
    expect(next).toMatchObject({ status: 'ok', stdout: 'pool\n' });
    expect(warmZygotePids().some((p) => before.includes(p))).toBe(false);
  }, 120_000);

  it("a program's process killed before it read its request: the next programs get their own requests, not the stale one", async () => {
    expect((await run(FROM_POOL)).stdout).toBe('pool\n');
    // Each slot's pre-forked, waiting program process: the forker's child that is not the worker.
    const waiting = (): number[] =>
      warmZygotePids().flatMap((f) => {
        try {
          const kids = readFileSync(`/proc/${f}/task/${f}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
          return kids.filter((k) => !/^NSpid:.*\t1$/m.test(readFileSync(`/proc/${k}/status`, 'utf8')));
        } catch {
          return [];
        }
      });
    let stopped: number[] = [];
    for (let i = 0; i < 100 && (stopped = waiting()).length < warmZygotePids().length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(stopped.length).toBeGreaterThan(0);
    // Stopped, it cannot read the request it is sent; the wall clock kills it with the request unread.
    for (const p of stopped) process.kill(p, 'SIGSTOP');
    try {
      expect((await run('print("never")', '', { timeoutMs: 500 })).status).toBe('timeout');
    } finally {
      for (const p of stopped) {
        try {
          process.kill(p, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
    }
    const next = await Promise.all(Array.from({ length: 6 }, (_, i) => run(`${FROM_POOL}\nprint(${i} * 2)`)));
    next.forEach((r, i) => expect(r).toMatchObject({ status: 'ok', stdout: `pool\n${i * 2}\n` }));
  }, 120_000);

  it('a run whose init is killed from the host is a sandbox_error, not a failure', async () => {
    const [s] = await openSandboxes([{ language: 'python', code: 'import sys\nprint("up", flush=True)\nsys.stdin.read()', limits: LIM }]);
    await new Promise<void>((res) => s!.stdout.once('data', () => res()));
    const pid = s!.pid!;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toContain('zygote.py');
    process.kill(-pid, 'SIGKILL');
    expect((await s!.result).status).toBe('sandbox_error');
  }, 120_000);

  it('when the zygote cannot start, runs take the cold path, and after repeated failures the pool is off (said once)', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    for (const p of warmZygotePids()) process.kill(-p, 'SIGKILL');
    while (warmZygotePids().length > 0) await new Promise((r) => setTimeout(r, 20)); // the pool has seen its zygote die
    warmPoolTestHooks.failStarts = true;
    try {
      const runs = [];
      for (let i = 0; i < 4; i++) runs.push(await run(FROM_POOL));
      expect(runs.map((r) => r.stdout)).toEqual(['cold\n', 'cold\n', 'cold\n', 'cold\n']);
      expect(warmPoolEnabled()).toBe(false);
      expect(written.filter((w) => w.includes('warm sandbox pool could not start')).length).toBe(1);
    } finally {
      process.stderr.write = write;
      warmPoolTestHooks.failStarts = false;
      setWarmPool(true);
    }
    expect((await run(FROM_POOL)).stdout).toBe('pool\n');
  }, 180_000);

  it('REWARDKIT_SANDBOX_POOL=0 / setWarmPool(false): the cold path', async () => {
    setWarmPool(false);
    try {
      expect((await run(FROM_POOL)).stdout).toBe('cold\n');
    } finally {
      setWarmPool(true);
    }
  }, 120_000);
});

describe.skipIf(!supported)('the pool leaves nothing on the host', () => {
  it('its directory holds only the zygote source, the compiled forker (when a C compiler is found) and the socket, root-only', async () => {
    expect((await run(FROM_POOL)).stdout).toBe('pool\n');
    const dirs = readdirSync('/run/rewardkit-sandbox').filter((d) => d.startsWith(`pool-${process.pid}-`));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) {
      expect(readdirSync(`/run/rewardkit-sandbox/${d}`).sort()).toEqual(NATIVE ? ['rkfork.so', 'sock', 'zygote.py'] : ['sock', 'zygote.py']);
      expect(statSync(`/run/rewardkit-sandbox/${d}`).mode & 0o777).toBe(0o700);
    }
  }, 120_000);
});
