/**
 * The warm sandbox pool (real processes, real namespaces): programs forked from the zygote behave as
 * `python3 prog.py` would, leave nothing behind for the next program, keep every limit, cannot reach
 * the zygote or one another, and the pool survives its zygote's death.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openSandboxes, runInSandbox, runProgram, sandboxSupport, type RunResult } from '../sandbox.js';
import { setWarmPool, warmPoolEnabled, warmPoolTestHooks, warmZygotePids } from './warm.js';

const LIM = { timeoutMs: 30_000 };
const run = (code: string, stdin = '', limits: Record<string, number> = {}) => runInSandbox({ language: 'python', code, stdin, limits: { ...LIM, ...limits } });
/** A program's own command line shows whether it was forked from the zygote. */
const FROM_POOL = 'print("pool" if "zygote.py" in open("/proc/self/cmdline").read() else "cold")';

const supported = sandboxSupport().ok;
if (!supported) console.log(`warm pool tests skipped: ${sandboxSupport().reason}`);

afterAll(() => setWarmPool(true));

describe.skipIf(!supported)('programs from the warm pool', () => {
  it('Python runs are forked from the zygote by default, and behave as `python3 prog.py` in /tmp', async () => {
    expect(warmPoolEnabled()).toBe(true);
    const r = await run(`${FROM_POOL}\nimport sys, os\nprint(sys.argv, __name__, __file__, sys.path[0], os.getcwd(), sorted(os.listdir("/tmp")), os.getuid() > 0)\nprint(int(input()) * 2)`, '21\n');
    expect(r).toMatchObject({ status: 'ok', stderr: '' });
    expect(r.stdout).toBe("pool\n['prog.py'] __main__ /tmp/prog.py /tmp /tmp ['prog.py'] True\n42\n");
    expect(warmZygotePids().length).toBeGreaterThan(0);
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
    expect(before.length).toBe(1);
    process.kill(-before[0]!, 'SIGKILL');
    const r: RunResult = await s!.result;
    expect(r.status).toBe('sandbox_error');
    const next = await run(FROM_POOL);
    expect(next).toMatchObject({ status: 'ok', stdout: 'pool\n' });
    expect(warmZygotePids()).not.toEqual(before);
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
  it('its directory holds only the zygote source and the socket, root-only', async () => {
    expect((await run(FROM_POOL)).stdout).toBe('pool\n');
    const dirs = readdirSync('/run/rewardkit-sandbox').filter((d) => d.startsWith(`pool-${process.pid}-`));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) {
      expect(readdirSync(`/run/rewardkit-sandbox/${d}`).sort()).toEqual(['sock', 'zygote.py']);
      expect(statSync(`/run/rewardkit-sandbox/${d}`).mode & 0o777).toBe(0o700);
    }
  }, 120_000);
});
