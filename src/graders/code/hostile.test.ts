/**
 * Hostile programs: each must be contained (nothing reaches the host) and reported with the right
 * verl status, while ordinary rollouts graded in the same batch, at the same time, keep their scores.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import { asGraded, buildGrader } from '../harness.js';
import type { Graded } from '../types.js';
import { codeGrader, runInSandbox } from './index.js';

const tag = randomBytes(6).toString('hex');
const SECRET_NAME = 'REWARDKIT_HOSTILE_SECRET';
const SECRET = `rk-secret-${tag}`;
const SLEEP_MARK = `900.${parseInt(tag.slice(0, 6), 16)}`; // a unique argument for a sleeping daemon, findable in /proc/*/cmdline
const hostDirs = { tmp: `/tmp/rk-hostile-${tag}`, varTmp: `/var/tmp/rk-hostile-${tag}`, shm: `/dev/shm/rk-hostile-${tag}` };
const testDir = dirname(fileURLToPath(import.meta.url));
const escapeTargets = [
  `${hostDirs.tmp}/pwned`,
  `${hostDirs.varTmp}/pwned`,
  `${hostDirs.shm}/pwned`,
  `/var/tmp/rk-pwned-${tag}`,
  `/etc/rk-pwned-${tag}`,
  `${testDir}/rk-pwned-${tag}`,
];

let server: Server;
let port = 0;
let connections = 0;
const received: string[] = [];

const ADD = { tests: [{ input: '2 3\n', output: '5\n' }, { input: '-1 1', output: '0' }] };
const NEVER = { tests: [{ input: '', output: 'this output is never produced' }] };
const py = (src: string) => `\`\`\`python\n${src}\n\`\`\``;
const js = (src: string) => `\`\`\`javascript\n${src}\n\`\`\``;

function hostile(): Record<string, { completion: string; reference: unknown; language?: 'javascript' }> {
  return {
    loop: { completion: py('while True:\n    pass'), reference: NEVER },
    sleep: { completion: py('import time\ntime.sleep(3600)'), reference: NEVER },
    forkBomb: { completion: py('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass'), reference: NEVER },
    forkCount: {
      completion: py(
        [
          'import os, time',
          'kids = 0',
          'try:',
          '    while kids < 1000:',
          '        if os.fork() == 0:',
          '            time.sleep(60)',
          '            os._exit(0)',
          '        kids += 1',
          'except OSError:',
          '    pass',
          'print("forked", kids)',
        ].join('\n'),
      ),
      reference: NEVER,
    },
    daemon: {
      completion: py(
        [
          'import os, sys',
          'if os.fork() == 0:',
          '    os.setsid()',
          '    if os.fork() == 0:',
          `        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(900)", "${SLEEP_MARK}"])`, // the sealed root has no /bin/sleep
          '    os._exit(0)',
          'print("detached")',
        ].join('\n'),
      ),
      reference: { tests: [{ input: '', output: 'detached' }] },
    },
    memoryHuge: { completion: py('x = bytearray(1 << 36)\nprint(len(x))'), reference: NEVER },
    memoryGrow: { completion: py('a = []\nwhile True:\n    a.append(" " * (1 << 20))'), reference: NEVER },
    network: {
      completion: py(
        [
          'import socket',
          'try:',
          `    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2)`,
          '    s.sendall(b"pwned-python")',
          '    print("connected")',
          'except OSError:',
          '    print("blocked")',
        ].join('\n'),
      ),
      reference: { tests: [{ input: '', output: 'blocked' }] },
    },
    writeOutside: {
      completion: py(
        [
          'import os',
          `targets = ${JSON.stringify(escapeTargets)}`,
          'codes = []',
          'for t in targets:',
          '    try:',
          '        os.makedirs(os.path.dirname(t), exist_ok=True)',
          '        with open(t, "w") as f:',
          '            f.write("pwned")',
          '        codes.append("W")',
          '    except OSError as e:',
          '        codes.append(str(e.errno))',
          'print(" ".join(codes))',
        ].join('\n'),
      ),
      reference: NEVER,
    },
    environment: {
      completion: py(
        [
          'import glob, os',
          'seen = repr(dict(os.environ))',
          'for p in glob.glob("/proc/*/environ") + ["/proc/1/environ"]:',
          '    try:',
          '        seen += open(p, "rb").read().decode("latin1")',
          '    except OSError:',
          '        pass',
          `print("leaked" if "${SECRET_NAME}" in seen else "clean")`,
        ].join('\n'),
      ),
      reference: { tests: [{ input: '', output: 'clean' }] },
    },
    readSecrets: {
      completion: py(
        [
          'ok = 0',
          'for p in ["/etc/shadow", "/root/.bashrc", "/proc/1/root/etc/shadow"]:',
          '    try:',
          '        open(p).read()',
          '        ok += 1',
          '    except OSError:',
          '        pass',
          'print("denied" if ok == 0 else "read")',
        ].join('\n'),
      ),
      reference: { tests: [{ input: '', output: 'denied' }] },
    },
    killAll: {
      completion: py('import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n    print("signalled someone")\nexcept ProcessLookupError:\n    print("alone")'),
      reference: { tests: [{ input: '', output: 'alone' }] },
    },
    hugeStdout: { completion: py('while True:\n    print("x" * 10000)'), reference: NEVER },
    hugeStderr: { completion: py('import sys\nwhile True:\n    sys.stderr.write("e" * 10000)'), reference: NEVER },
    jsLoop: { completion: js('for (;;) {}'), reference: NEVER, language: 'javascript' },
    jsSleep: { completion: js('setTimeout(() => console.log("late"), 1e9);'), reference: NEVER, language: 'javascript' },
    jsMemory: { completion: js('const a = [];\nfor (;;) a.push(Buffer.alloc(1 << 24, 1));'), reference: NEVER, language: 'javascript' },
    jsNetwork: {
      completion: js(
        `require("net").connect(${port}, "127.0.0.1").on("connect", function () { this.write("pwned-js"); console.log("connected"); this.end(); }).on("error", () => console.log("blocked"));`,
      ),
      reference: { tests: [{ input: '', output: 'blocked' }] },
      language: 'javascript',
    },
    jsEnvironment: {
      completion: js(`console.log(JSON.stringify(process.env).includes(${JSON.stringify(SECRET_NAME)}) ? "leaked" : "clean");`),
      reference: { tests: [{ input: '', output: 'clean' }] },
      language: 'javascript',
    },
  };
}

const benign = {
  pyCorrect: { completion: py('a, b = map(int, input().split())\nprint(a + b)'), reference: ADD, expected: 1 },
  pyWrong: { completion: py('a, b = map(int, input().split())\nprint(a * b)'), reference: ADD, expected: 0 },
  pyHalf: { completion: py('a, b = map(int, input().split())\nprint(a + b if a > 0 else 7)'), reference: ADD, expected: 0.5 },
  jsCorrect: {
    completion: js('const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);'),
    reference: ADD,
    expected: 1,
    language: 'javascript' as const,
  },
};

const results: Record<string, Graded> = {};

function hostProcessesWith(mark: string): number {
  let n = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(mark)) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

beforeAll(async () => {
  process.env[SECRET_NAME] = SECRET;
  for (const d of Object.values(hostDirs)) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o777); // world-writable: only the sandbox, not file permissions, may stop the writes
  }
  server = createServer((sock) => {
    connections++;
    sock.on('data', (d) => received.push(d.toString()));
    sock.on('error', () => {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as AddressInfo).port;

  // One grader per language, as a spec would build them; every rollout is graded at the same time.
  const opts = { timeout: 5, memory_mb: 256, max_processes: 4, max_output_kb: 256 };
  const graders = { python: buildGrader(codeGrader, opts), javascript: buildGrader(codeGrader, { ...opts, language: 'javascript' }) };
  const all: [string, { completion: string; reference: unknown; language?: 'javascript' }][] = [...Object.entries(hostile()), ...Object.entries(benign)];
  // Interleave benign rollouts between hostile ones.
  all.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  await Promise.all(
    all.map(async ([name, r]) => {
      const g = graders[r.language ?? 'python'];
      if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
      const sample = toSample({ id: name, completion: r.completion, reference: r.reference } as Rollout);
      results[name] = asGraded(await g.grade(sample));
    }),
  );
}, 300_000);

afterAll(async () => {
  delete process.env[SECRET_NAME];
  for (const d of Object.values(hostDirs)) rmSync(d, { recursive: true, force: true });
  await new Promise<void>((res) => server.close(() => res()));
});

const status = (name: string) => (results[name]!.details!.statuses as number[])[0];
const failure = (name: string) => (results[name]!.details!.failures as { reason: string; stderr?: string; stdout?: string }[])[0]!;

describe('hostile programs are contained and reported', () => {
  it('the batch around them is scored as usual', () => {
    for (const [name, b] of Object.entries(benign)) expect(results[name]!.score, name).toBe(b.expected);
  });
  it('infinite loops and sleeps are killed at the limit: timeout (−3)', () => {
    for (const name of ['loop', 'sleep', 'jsLoop', 'jsSleep']) {
      expect(status(name), name).toBe(-3);
      expect(results[name]!.score).toBe(0);
    }
    expect(failure('loop').reason).toMatch(/limit/);
  });
  it('a fork bomb is capped by the process limit and killed (−3)', () => {
    expect(status('forkBomb')).toBe(-3);
    // Fork fails once the run has max_processes (4) + the interpreter's allowance (2) tasks: the parent
    // and at most 5 children.
    const m = /forked (\d+)/.exec(failure('forkCount').stdout ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(5);
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
  });
  it('daemons that leave the session die with the run', () => {
    expect(results.daemon!.score).toBe(1);
    expect(hostProcessesWith(`time.sleep(900)\0${SLEEP_MARK}`)).toBe(0);
  });
  it('memory bombs hit the memory limit: runtime error (−2)', () => {
    for (const name of ['memoryHuge', 'memoryGrow']) {
      expect(status(name), name).toBe(-2);
      expect(failure(name).reason).toMatch(/memory/);
      expect(failure(name).stderr).toMatch(/MemoryError/);
    }
    expect([-2, -3]).toContain(status('jsMemory'));
  });
  it('no network: a listener on the host loopback gets no connection', () => {
    expect(results.network!.score).toBe(1); // the program printed "blocked"
    expect(results.jsNetwork!.score).toBe(1);
    expect(connections).toBe(0);
    expect(received).toEqual([]);
  });
  it('writes outside the working directory do not reach the host', () => {
    for (const t of escapeTargets) expect(existsSync(t), t).toBe(false);
    // Inside, the writes to the private /tmp and /dev/shm succeed (W) and vanish with the run; the rest
    // of the filesystem is read-only (EROFS = 30) even where the host directory is world-writable.
    // (A checkout under /tmp, as CI's may be, is hidden by the private /tmp: the write lands there.)
    const inPrivateMount = (t: string) => t.startsWith('/tmp/') || t.startsWith('/dev/shm/');
    expect(failure('writeOutside').stdout).toBe(escapeTargets.map((t) => (inPrivateMount(t) ? 'W' : '30')).join(' ') + '\n');
  });
  it('the working directory itself is writable', async () => {
    // (The failure record keeps only 200 characters of stdout; check the full run directly.)
    const r = await runInSandbox({
      language: 'python',
      code: 'open("own.txt", "w").write("mine")\nprint(open("own.txt").read())',
      limits: { timeoutMs: 30_000 },
    });
    expect(r).toMatchObject({ status: 'ok', stdout: 'mine\n' });
  });
  it('the server environment is invisible', async () => {
    expect(results.environment!.score).toBe(1);
    expect(results.jsEnvironment!.score).toBe(1);
    const dump = await runInSandbox({
      language: 'python',
      code: 'import glob, os\nprint(dict(os.environ))\nfor p in glob.glob("/proc/*/environ"):\n    try:\n        print(open(p, "rb").read())\n    except OSError as e:\n        print(p, e)',
      limits: { timeoutMs: 30_000 },
    });
    expect(dump.status).toBe('ok');
    expect(dump.stdout).not.toContain(SECRET);
    expect(dump.stdout).not.toContain(SECRET_NAME);
  });
  it('files of other users cannot be read', () => {
    expect(results.readSecrets!.score).toBe(1);
  });
  it('signalling every process finds no process to signal', () => {
    // kill(-1) skips the caller and pid 1 (the sandbox's root shell); nothing else is visible: ESRCH.
    expect(results.killAll!.score).toBe(1);
  });
  it('huge output is cut off: runtime error (−2) with a short stderr record', () => {
    for (const name of ['hugeStdout', 'hugeStderr']) {
      expect(status(name), name).toBe(-2);
      expect(failure(name).reason).toMatch(/output/);
    }
    expect(failure('hugeStderr').stderr!.length).toBeLessThanOrEqual(1001);
  });
});

describe('a run does not outlive its parent', () => {
  it('killing the grading process (SIGKILL, no clean-up) kills its sandboxed programs', async () => {
    const mark = `901.${parseInt(randomBytes(3).toString('hex'), 16)}`;
    const code = `import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(900)", "${mark}"])`; // the sealed root has no /bin/sleep
    const script = [
      `import { runInSandbox } from ${JSON.stringify(join(testDir, 'sandbox.ts'))};`,
      `await runInSandbox({ language: 'python', code: ${JSON.stringify(code)}, limits: { timeoutMs: 600000 } });`,
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
    const poll = async (want: (n: number) => boolean, seconds: number) => {
      for (let i = 0; i < seconds * 10; i++) {
        if (want(hostProcessesWith(`time.sleep(900)\0${mark}`))) return true; // the sandboxed sleep, not the parent's command line
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    try {
      expect(await poll((n) => n > 0, 90)).toBe(true); // the sandboxed program is running
      parent.kill('SIGKILL');
      expect(await poll((n) => n === 0, 60)).toBe(true); // and it goes when its parent goes
    } finally {
      parent.kill('SIGKILL');
      for (const p of readdirSync('/proc')) {
        try {
          if (/^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(mark)) process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }, 180_000);
});
