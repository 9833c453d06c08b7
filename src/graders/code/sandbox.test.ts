/**
 * The sandbox itself (real processes, real namespaces): interactive sessions, the pool, the sealed
 * filesystem view, and how a run killed from outside is reported.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, classifyEnding, configureSandbox, openSandboxes, runInSandbox, sandboxConfig, type Ending, type SandboxSession } from './sandbox.js';

const LIM = { timeoutMs: 30_000 };

function readAll(s: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('utf8')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** Reads lines from a session's stdout one at a time. */
function lines(s: NodeJS.ReadableStream): () => Promise<string | null> {
  let buf = '';
  let ended = false;
  const waiters: (() => void)[] = [];
  s.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    waiters.splice(0).forEach((w) => w());
  });
  s.on('end', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
  return async () => {
    for (;;) {
      const i = buf.indexOf('\n');
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return line;
      }
      if (ended) return null;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
}

/** Two programs that count up alternately, each adding one to what the other said, through the caller. */
async function pingPong(rounds: number): Promise<[SandboxSession, SandboxSession, number]> {
  const py = `import sys\nfor line in sys.stdin:\n    n = int(line)\n    if n >= ${rounds}:\n        break\n    print(n + 1, flush=True)\n`;
  const js = `const rl = require('readline').createInterface({ input: process.stdin });\nrl.on('line', (l) => { const n = Number(l); if (n >= ${rounds}) { rl.close(); process.stdin.destroy(); return; } process.stdout.write((n + 1) + '\\n'); });\n`;
  const [a, b] = await openSandboxes([
    { language: 'python', code: py, limits: LIM },
    { language: 'javascript', code: js, limits: LIM },
  ]);
  const fromA = lines(a!.stdout);
  const fromB = lines(b!.stdout);
  let last = 0;
  a!.stdin.write('0\n');
  for (;;) {
    const x = await fromA();
    if (x === null) break;
    last = Number(x);
    b!.stdin.write(`${x}\n`);
    const y = await fromB();
    if (y === null) break;
    last = Number(y);
    a!.stdin.write(`${y}\n`);
  }
  a!.stdin.end();
  b!.stdin.end();
  const [ra, rb] = await Promise.all([a!.result, b!.result]);
  if (ra.status !== 'ok' || rb.status !== 'ok') throw new Error(`ping-pong ended ${ra.status}/${rb.status}: ${ra.message ?? ''} ${rb.message ?? ''}`);
  return [a!, b!, last];
}

describe('interactive sessions', () => {
  it('two sessions play ping-pong through the parent (python ↔ node)', async () => {
    const [a, b, last] = await pingPong(10);
    expect(last).toBe(10);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra).toMatchObject({ status: 'ok', stdout: '' });
    expect(rb).toMatchObject({ status: 'ok', stdout: '' });
  }, 120_000);

  it('sessions are separate sandboxes: different uids, and neither sees the other', async () => {
    const code = 'import os\nprint(os.getuid(), sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), flush=True)\nimport sys; sys.stdin.read()';
    const [a, b] = await openSandboxes([
      { language: 'python', code, limits: LIM },
      { language: 'python', code, limits: LIM },
    ]);
    const [la, lb] = await Promise.all([lines(a!.stdout)(), lines(b!.stdout)()]);
    a!.stdin.end();
    b!.stdin.end();
    await Promise.all([a!.result, b!.result]);
    const [uidA, pidsA] = [la!.split(' ')[0], la!.slice(la!.indexOf(' ') + 1)];
    const [uidB, pidsB] = [lb!.split(' ')[0], lb!.slice(lb!.indexOf(' ') + 1)];
    expect(uidA).not.toBe(uidB);
    expect(pidsA).toBe(pidsB); // each sees only its own namespace's pids (the same small numbers)
    expect(pidsA.split(',').length).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a small pool with several concurrent pairs does not deadlock', async () => {
    const before = sandboxConfig().concurrency;
    try {
      for (const size of [1, 2]) {
        configureSandbox({ concurrency: size });
        const results = await Promise.all(Array.from({ length: 3 }, () => pingPong(3).then(([, , last]) => last)));
        expect(results).toEqual([3, 3, 3]);
        // single runs queue behind and among pairs in the same pool
        const mixed = await Promise.all([pingPong(2).then(([, , l]) => l), runInSandbox({ language: 'python', code: 'print(7)', limits: LIM }).then((r) => Number(r.stdout))]);
        expect(mixed).toEqual([2, 7]);
      }
    } finally {
      configureSandbox({ concurrency: before });
    }
  }, 300_000);

  it('kill() ends the session (idempotent), and the wall limit applies to a session nobody talks to', async () => {
    const [a, b] = await openSandboxes([
      { language: 'python', code: 'import sys\nprint("ready", flush=True)\nsys.stdin.read()', limits: LIM },
      { language: 'javascript', code: 'process.stdin.resume()', limits: { timeoutMs: 1500 } },
    ]);
    expect(await lines(a!.stdout)()).toBe('ready');
    a!.kill();
    a!.kill();
    const ra = await a!.result;
    expect(ra.status).not.toBe('ok');
    expect(ra.signal).toBe('SIGKILL');
    const rb = await b!.result;
    expect(rb).toMatchObject({ status: 'timeout', signal: 'SIGKILL' });
  }, 120_000);

  it('stdout stops at the output limit', async () => {
    const [a] = await openSandboxes([{ language: 'python', code: 'import sys\nwhile True: sys.stdout.write("x" * 4096)', limits: { ...LIM, maxOutputBytes: 10_000 } }]);
    const [out, r] = await Promise.all([readAll(a!.stdout), a!.result]);
    expect(r.status).toBe('output_limit');
    expect(out.length).toBeLessThanOrEqual(10_000);
  }, 120_000);

  it('rejects bad requests before taking a slot; an empty list opens nothing', async () => {
    await expect(openSandboxes([{ language: 'ruby' as 'python', code: '' }])).rejects.toThrow(/language/);
    await expect(openSandboxes([{ language: 'python', code: '', limits: { timeoutMs: 0 } }])).rejects.toThrow(/timeoutMs/);
    expect(await openSandboxes([])).toEqual([]);
  });
});

/** Host pids of the processes in a run's process group. */
function groupMembers(pgid: number): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      if (Number(fields[2]) === pgid) found.push({ pid: Number(p), comm });
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('killed from outside', () => {
  it('a correct program whose run is SIGKILLed from the host is a sandbox_error, not a failure', async () => {
    const [s] = await openSandboxes([{ language: 'python', code: 'import time\nprint("ready", flush=True)\ntime.sleep(20)\nprint("done")', limits: LIM }]);
    expect(await lines(s!.stdout)()).toBe('ready');
    process.kill(-s!.pid!, 'SIGKILL');
    const r = await s!.result;
    expect(r.status).toBe('sandbox_error');
    expect(r.message).toMatch(/outside/);
  }, 120_000);

  it('a program that SIGKILLs itself stays a runtime error (it cannot turn a failure into "cannot judge")', async () => {
    const runs = await Promise.all([
      runInSandbox({ language: 'python', code: 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)', limits: LIM }),
      runInSandbox({ language: 'python', code: 'import os\nos.system("kill -9 $PPID") if False else None\nimport signal, subprocess, sys\nsubprocess.run([sys.executable, "-c", "import os, signal; os.kill(os.getppid(), signal.SIGKILL)"])\nimport time; time.sleep(5)', limits: LIM }),
      runInSandbox({ language: 'javascript', code: 'process.kill(process.pid, "SIGKILL")', limits: LIM }),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['runtime_error', 'runtime_error', 'runtime_error']);
    expect(runs.map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
  }, 120_000);

  it('a program that ignores SIGXCPU is killed at the CPU hard limit: timeout, not sandbox_error', async () => {
    const r = await runInSandbox({ language: 'python', code: 'import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass', limits: { timeoutMs: 60_000, cpuSeconds: 1 } });
    expect(r).toMatchObject({ status: 'timeout', signal: 'SIGKILL' });
    expect(r.stderr).toBe(''); // the sandbox's own shell never writes into the program's stderr (no "Killed" notice)
  }, 120_000);

  it('a program that blows its own memory limit is memory_limit (a program failure)', async () => {
    const runs = await Promise.all([
      runInSandbox({ language: 'python', code: 'x = bytearray(2**31)', limits: { ...LIM, memoryMb: 200 } }),
      runInSandbox({ language: 'javascript', code: 'const a = []; for (;;) a.push(new Array(1e6).fill(1.5));', limits: { ...LIM, memoryMb: 64 } }),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['memory_limit', 'memory_limit']);
  }, 120_000);

  it('an unexplained SIGKILL is judged from the evidence: CPU used, the kernel OOM counter, the init shell\'s report', () => {
    const base: Ending = { lang: 'python', limits: { ...DEFAULT_LIMITS, cpuSeconds: 2 }, cpu: 2, stdout: '', stderr: '', wallMs: 900, killedFor: null, report: '', outerCode: 0, outerSignal: null, oomBefore: 3, oomAfter: 3 };
    const report = (cpu: string, rc: number) => `0m0.001000s 0m0.000000s\n${cpu} 0m0.010000s\nexit ${rc}\n`;
    // killed early, no OOM kill on the host: the program's own doing (it can SIGKILL itself)
    expect(classifyEnding({ ...base, report: report('0m0.050000s', 137) })).toMatchObject({ status: 'runtime_error', signal: 'SIGKILL' });
    // the same, but the kernel OOM-killed something during the run: the host ran out of memory
    expect(classifyEnding({ ...base, report: report('0m0.050000s', 137), oomAfter: 4 })).toMatchObject({ status: 'sandbox_error', message: expect.stringMatching(/OOM/) });
    // the CPU hard limit (cpu + 1 s) was reached: timeout, whatever the OOM counter did
    expect(classifyEnding({ ...base, report: report('0m2.990000s', 137), oomAfter: 9, wallMs: 3100 })).toMatchObject({ status: 'timeout' });
    // the init shell died without a report (the run's process group was killed from outside)
    expect(classifyEnding({ ...base, report: '', outerCode: null, outerSignal: 'SIGKILL' })).toMatchObject({ status: 'sandbox_error', message: expect.stringMatching(/outside/) });
    // our own kills are what they are
    expect(classifyEnding({ ...base, killedFor: 'timeout', report: report('0m0.050000s', 137), oomAfter: 4 })).toMatchObject({ status: 'timeout' });
    // a program's own memory error is a program failure
    expect(classifyEnding({ ...base, report: report('0m0.050000s', 1), stderr: 'Traceback (most recent call last):\n  File "prog.py", line 1\nMemoryError\n' })).toMatchObject({ status: 'memory_limit' });
  });

  it('groupMembers finds the run (sanity of the helper the host-kill test relies on)', async () => {
    const [s] = await openSandboxes([{ language: 'python', code: 'import sys\nprint("ready", flush=True)\nsys.stdin.read()', limits: LIM }]);
    expect(await lines(s!.stdout)()).toBe('ready');
    const comms = groupMembers(s!.pid!).map((m) => m.comm);
    expect(comms.some((c) => c.startsWith('python'))).toBe(true);
    s!.stdin.end();
    expect((await s!.result).status).toBe('ok');
  }, 120_000);
});

describe('the sealed filesystem view', () => {
  const ALLOWED_ROOT = ['dev', 'etc', 'lib', 'lib64', 'lib32', 'libx32', 'proc', 'tmp', 'usr'];

  it("the toolchain's shared libraries (ldd) are kept next to the skeletons, as absolute paths, root-owned", async () => {
    expect((await runInSandbox({ language: 'python', code: 'print(1)', limits: LIM })).stdout).toBe('1\n');
    const kept = readdirSync('/run/rewardkit-sandbox').filter((f) => /^ldd-[0-9a-f]{24}\.json$/.test(f));
    expect(kept.length).toBeGreaterThan(0);
    const lists = kept.map((f) => JSON.parse(readFileSync(join('/run/rewardkit-sandbox', f), 'utf8')) as string[]);
    expect(lists.some((l) => l.some((lib) => /\/libc\.so\.6$/.test(lib)))).toBe(true);
    for (const l of lists) for (const lib of l) expect(lib.startsWith('/')).toBe(true);
    for (const f of kept) expect(statSync(join('/run/rewardkit-sandbox', f)).uid).toBe(0);
  }, 120_000);

  it('/ holds only the interpreter, its libraries, /dev, /proc and a private /tmp (python and node)', async () => {
    const [p, j] = await Promise.all([
      runInSandbox({ language: 'python', code: 'import os, json\nprint(json.dumps([sorted(os.listdir(p)) for p in ["/", "/dev", "/etc", "/tmp", "/usr"]]))', limits: LIM }),
      runInSandbox({ language: 'javascript', code: 'const fs = require("fs");\nconsole.log(JSON.stringify(["/", "/dev", "/etc", "/tmp", "/usr"].map((p) => fs.readdirSync(p).sort())));', limits: LIM }),
    ]);
    for (const r of [p, j]) {
      expect(r.status, r.stderr).toBe('ok');
      const [root, dev, etc, tmp, usr] = JSON.parse(r.stdout) as string[][];
      expect(root!.filter((x) => !ALLOWED_ROOT.includes(x))).toEqual([]);
      expect(root).toEqual(expect.arrayContaining(['dev', 'proc', 'tmp', 'usr']));
      expect(dev).toEqual(['null', 'random', 'shm', 'urandom', 'zero']);
      expect(etc!.filter((x) => x !== 'ld.so.cache')).toEqual([]);
      expect(tmp).toEqual([r === p ? 'prog.py' : 'prog.js']);
      expect(usr!.filter((x) => !['bin', 'lib', 'lib64', 'local'].includes(x))).toEqual([]); // no share/, src/, include/ …
    }
  }, 120_000);

  it('host files cannot be read: /work, /root, /home, /etc/passwd, /etc/shadow, the project, world-readable files in /var/tmp, /tmp and the project', async () => {
    const stamp = `rk-sealed-${process.pid}-${Date.now()}`;
    const planted = [`/var/tmp/${stamp}`, `/tmp/${stamp}`, join(process.cwd(), `${stamp}.jsonl`)];
    for (const f of planted) {
      writeFileSync(f, '{"secret": "expected output"}\n');
      chmodSync(f, 0o644);
    }
    try {
      const targets = ['/work', '/root', '/home', '/etc/passwd', '/etc/shadow', '/etc/hosts', '/var', '/srv', '/opt', '/mnt', '/sys', '/run', '/bin/sh', process.cwd(), join(process.cwd(), 'package.json'), ...planted];
      const code = [
        'import json, os',
        `targets = ${JSON.stringify(targets)}`,
        'seen = []',
        'for t in targets:',
        '    try:',
        '        if os.path.isdir(t): seen.append([t, os.listdir(t)])',
        '        else: seen.append([t, open(t).read(100)])',
        '    except OSError:',
        '        pass',
        'print(json.dumps(seen))',
      ].join('\n');
      const js = `const fs = require('fs'); const seen = [];\nfor (const t of ${JSON.stringify(targets)}) { try { seen.push([t, fs.statSync(t).isDirectory() ? fs.readdirSync(t) : fs.readFileSync(t, 'utf8').slice(0, 100)]); } catch {} }\nconsole.log(JSON.stringify(seen));`;
      const [p, j] = await Promise.all([runInSandbox({ language: 'python', code, limits: LIM }), runInSandbox({ language: 'javascript', code: js, limits: LIM })]);
      expect(p.status, p.stderr).toBe('ok');
      expect(j.status, j.stderr).toBe('ok');
      expect(JSON.parse(p.stdout)).toEqual([]);
      expect(JSON.parse(j.stdout)).toEqual([]);
    } finally {
      for (const f of planted) rmSync(f, { force: true });
    }
  }, 120_000);

  it('no host process is visible, and /proc/1/root leads nowhere', async () => {
    const code = [
      'import os',
      'pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())',
      'print(pids == [os.getpid()], os.readlink("/proc/self/root"))',
      'try:',
      '    print(os.listdir("/proc/1/root"))',
      'except OSError as e:',
      '    print("denied")',
    ].join('\n');
    const r = await runInSandbox({ language: 'python', code, limits: LIM });
    expect(r.stdout).toBe('True /\ndenied\n');
  }, 120_000);

  it('the interpreters and the standard library still work', async () => {
    const py = [
      'import json, math, collections, itertools, re, heapq, bisect, functools, fractions, decimal, random, string, sys, os, typing, dataclasses, threading, subprocess',
      'import datetime, statistics, array, struct, hashlib, copy, io, operator, enum, queue, unicodedata, concurrent.futures, multiprocessing',
      't = threading.Thread(target=lambda: None); t.start(); t.join()',
      'r = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)',
      'print(r.stdout.strip(), decimal.Decimal(1) / 8, fractions.Fraction(1, 3) * 3, len(os.urandom(8)), hashlib.sha256(b"").hexdigest()[:6], "é".encode())',
    ].join('\n');
    const js = [
      "const fs = require('fs'), os = require('os'), crypto = require('crypto'), zlib = require('zlib'), util = require('util'), path = require('path'), assert = require('assert');",
      "console.log(crypto.randomBytes(8).length, zlib.inflateSync(zlib.deflateSync('ok')).toString(), new Intl.NumberFormat('de-DE').format(1234.5), path.join('a', 'b'), typeof os.cpus, 'é');",
    ].join('\n');
    const [p, j] = await Promise.all([runInSandbox({ language: 'python', code: py, limits: LIM }), runInSandbox({ language: 'javascript', code: js, limits: LIM })]);
    expect(p.stderr).toBe('');
    expect(p.stdout).toBe("42 0.125 1 8 e3b0c4 b'\\xc3\\xa9'\n");
    expect(j.stderr).toBe('');
    expect(j.stdout).toBe('8 ok 1.234,5 a/b function é\n');
  }, 120_000);

  it('writes outside /tmp and /dev/shm fail; nothing persists from one run to the next', async () => {
    const code = [
      'import os, sys',
      'ok = []',
      'for p in ["/x", "/usr/x", "/usr/lib/x", "/etc/x", "/dev/x", "/proc/x", "/lib/x", sys.executable, "/etc/ld.so.cache", "/tmp/prog_copy", "/dev/shm/s"]:',
      '    try:',
      '        with open(p, "a") as f: f.write("x")',
      '        ok.append(p)',
      '    except OSError:',
      '        pass',
      'print(ok, sorted(os.listdir("/tmp")), os.listdir("/dev/shm"))',
    ].join('\n');
    const first = await runInSandbox({ language: 'python', code, limits: LIM });
    expect(first.stdout).toBe("['/tmp/prog_copy', '/dev/shm/s'] ['prog.py', 'prog_copy'] ['s']\n");
    const second = await runInSandbox({ language: 'python', code: 'import os\nprint(sorted(os.listdir("/tmp")), os.listdir("/dev/shm"))', limits: LIM });
    expect(second.stdout).toBe("['prog.py'] []\n");
  }, 120_000);

  // A venv interpreter (issue 13) keeps working: its directory and its base's stdlib are mounted read-only.
  const venv = (() => {
    try {
      const dir = mkdtempSync('/var/tmp/rk-venv-');
      chmodSync(dir, 0o755);
      execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', join(dir, 'v')], { stdio: 'ignore' });
      return dir;
    } catch {
      return null;
    }
  })();
  it.skipIf(venv === null)('a venv interpreter runs, sees its venv, and sees nothing else of the folder around it', async () => {
    writeFileSync(join(venv!, 'beside.txt'), 'secret');
    chmodSync(join(venv!, 'beside.txt'), 0o644);
    // An editable-install style .pth pointing outside the venv: not mounted.
    const lib = join(venv!, 'v', 'lib');
    for (const d of readdirSync(lib)) writeFileSync(join(lib, d, 'site-packages', 'outside.pth'), `${venv!}\n`);
    const before = sandboxConfig();
    try {
      configureSandbox({ python: join(venv!, 'v', 'bin', 'python') });
      const code = [
        'import sys, os, json, decimal',
        `print(sys.prefix == ${JSON.stringify(join(venv!, 'v'))}, sys.prefix != sys.base_prefix, os.path.exists(${JSON.stringify(join(venv!, 'beside.txt'))}))`,
      ].join('\n');
      const r = await runInSandbox({ language: 'python', code, limits: LIM });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('True True False\n');
    } finally {
      configureSandbox({ python: before.python });
      rmSync(venv!, { recursive: true, force: true });
    }
  }, 120_000);
});
