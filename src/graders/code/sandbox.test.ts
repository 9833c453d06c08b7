/**
 * The sandbox itself (real processes, real namespaces): interactive sessions, the pool, the sealed
 * filesystem view, and how a run killed from outside is reported.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configureSandbox, openSandboxes, runInSandbox, sandboxConfig, type SandboxSession } from './sandbox.js';

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
  }, 120_000);

  it('a program that blows its own memory limit is memory_limit (a program failure)', async () => {
    const runs = await Promise.all([
      runInSandbox({ language: 'python', code: 'x = bytearray(2**31)', limits: { ...LIM, memoryMb: 200 } }),
      runInSandbox({ language: 'javascript', code: 'const a = []; for (;;) a.push(new Array(1e6).fill(1.5));', limits: { ...LIM, memoryMb: 64 } }),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['memory_limit', 'memory_limit']);
  }, 120_000);

  it('groupMembers finds the run (sanity of the helper the host-kill test relies on)', async () => {
    const [s] = await openSandboxes([{ language: 'python', code: 'import sys\nprint("ready", flush=True)\nsys.stdin.read()', limits: LIM }]);
    expect(await lines(s!.stdout)()).toBe('ready');
    const comms = groupMembers(s!.pid!).map((m) => m.comm);
    expect(comms.some((c) => c.startsWith('python'))).toBe(true);
    s!.stdin.end();
    expect((await s!.result).status).toBe('ok');
  }, 120_000);
});
