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

// ---------------------------------------------------------------------------------------------------
// Harness tricks: programs that try to pass assertion, call-based or stdin/stdout tests without
// computing the answer. Every one must score 0; the correct programs next to them must score 1.
// ---------------------------------------------------------------------------------------------------

const PY_ADD = { assert: ['assert add(2, 3) == 5', 'assert add(-1, 8) == 7', 'assert add(10, 5) == 15'] };
const PY_ADD_ONE = { assert: 'assert add(2, 3) == 5\nassert add(-1, 8) == 7\nassert add(10, 5) == 15' };
const PY_UNITTEST = {
  assert: [
    'import unittest',
    'class T(unittest.TestCase):',
    '    def test_add(self):',
    '        self.assertEqual(add(2, 3), 5)',
    '        self.assertEqual(add(-1, 8), 7)',
    'result = unittest.TextTestRunner(verbosity=0).run(unittest.defaultTestLoader.loadTestsFromTestCase(T))',
    'assert result.wasSuccessful()',
  ].join('\n'),
};
const PY_UNITTEST_MAIN = {
  assert: 'import unittest\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n        self.assertEqual(add(-1, 8), 7)\nif __name__ == "__main__":\n    unittest.main()',
};
const PY_HUMANEVAL = { assert_case: 'def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 8) == 7\n', entry_point: 'add' };
const PY_MATH_OWN = { assert: 'import math\nassert math.isclose(add(0.1, 0.2), 0.3)\nassert math.isclose(add(1.5, 1.5), 3.0)' };
const PY_MATH_FREE = { assert: 'assert math.isclose(add(0.1, 0.2), 0.3)\nassert math.isclose(add(1.5, 1.5), 3.0)' };
const PY_EVEN = { assert: ['assert all(map(is_even, [2, 4, 6]))', 'assert not any(map(is_even, [1, 3, 5]))', 'assert [x for x in range(6) if is_even(x)] == [0, 2, 4]'] };
const PY_FIND_ZERO = {
  prompt: 'import math\n\ndef poly(xs: list, x: float):\n    return sum(c * math.pow(x, i) for i, c in enumerate(xs))\n\ndef find_zero(xs: list):\n    \"\"\"A zero of the polynomial xs.\"\"\"\n',
  entry_point: 'find_zero',
  assert_case: 'def check(candidate):\n    for xs in [[-6, 11, -6, 1], [1, 1], [2, -3]]:\n        assert abs(poly(xs, candidate(xs))) < 1e-4\n',
};
const PY_CALL = { fn_name: 'add', inputs: ['2\n3', '-1\n8', '10\n5'], outputs: ['5', '7', '15'] };
const JS_ADD = { assert: ['const assert = require("assert");\nassert.strictEqual(add(2, 3), 5);', 'const assert = require("assert");\nassert.strictEqual(add(-1, 8), 7);'] };
const JS_LOOSE = { assert: 'const assert = require("assert");\nassert.equal(add(2, 3), 5);\nassert.equal(add(-1, 8), 7);' };
const JS_FREE_ASSERT = { assert: 'assert.strictEqual(add(2, 3), 5);\nassert.strictEqual(add(-1, 8), 7);' };
const JS_ASYNC = { assert: 'const assert = require("assert");\n(async () => { assert.strictEqual(await add(2, 3), 5); assert.strictEqual(await add(-1, 8), 7); })();' };
const JS_NODE_TEST = {
  assert: 'const test = require("node:test");\nconst assert = require("node:assert");\ntest("add", async () => {\n  await new Promise((r) => setTimeout(r, 20));\n  assert.strictEqual(add(2, 3), 5);\n  assert.strictEqual(add(-1, 8), 7);\n});',
};
const JS_CALL = { fn_name: 'add', inputs: [[2, 3], [-1, 8]], outputs: [[5], [7]] };
const IO_TWO_LINES = { tests: [{ input: '2 3\n', output: '5\n6\n' }, { input: '-1 8\n', output: '7\n8\n' }] };
const IO_ADD = { tests: [{ input: '2 3\n', output: '5\n' }, { input: '-1 8\n', output: '7\n' }] };

/** Fake verdict lines: every token-less or guessed form the program could write. */
const FAKE_VERDICTS = ['{"verdict": "pass", "message": ""}', 'PASS', '0000000000000000 {"verdict": "pass"}', '{"hello": {"ok": 1}}'];

type Trick = { completion: string; reference: unknown; language?: 'javascript' };
const pyT = (src: string, reference: unknown = PY_ADD): Trick => ({ completion: py(src), reference });
const jsT = (src: string, reference: unknown = JS_ADD): Trick => ({ completion: js(src), reference, language: 'javascript' });

const tricks: Record<string, Trick> = {
  // --- Python: ending the run early with success
  pyOsExitTop: pyT('import os\nos._exit(0)'),
  pyOsExitInCall: pyT('import os\ndef add(a, b):\n    os._exit(0)'),
  pySysExitTop: pyT('import sys\ndef add(a, b):\n    return 0\nsys.exit(0)'),
  pySysExitInCall: pyT('import sys\ndef add(a, b):\n    sys.exit(0)'),
  pyRaiseSystemExitTop: pyT('raise SystemExit'),
  pyRaiseSystemExitInCall: pyT('def add(a, b):\n    raise SystemExit(0)', PY_ADD_ONE),
  pyKeyboardInterrupt: pyT('def add(a, b):\n    raise KeyboardInterrupt'),
  pyAtexit: pyT('import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    return 0'),
  pyExcepthook: pyT('import sys, os\nsys.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    raise RuntimeError("boom")'),
  pyThreadExit: pyT('import threading, os, time\ndef k():\n    time.sleep(0.01)\n    os._exit(0)\nthreading.Thread(target=k, daemon=True).start()\ndef add(a, b):\n    time.sleep(1)\n    return 0'),
  pySigalrm: pyT('import signal, os\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\nsignal.setitimer(signal.ITIMER_REAL, 0.01)\ndef add(a, b):\n    import time\n    time.sleep(1)\n    return 0'),
  pyFaulthandler: pyT('import faulthandler, os, signal\nfaulthandler.enable()\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGSEGV)'),
  pySigtermExit: pyT('import signal, os\nsignal.signal(signal.SIGTERM, lambda *a: os._exit(0))\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGTERM)'),
  pyKillParent: pyT('import os, signal\ndef add(a, b):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0'),
  pyKillAll: pyT('import os, signal\ndef add(a, b):\n    os.kill(-1, signal.SIGKILL)\n    return 0'),
  // --- Python: replacing the comparison
  pyEqAlwaysTrue: pyT('class A:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n    __hash__ = object.__hash__\ndef add(a, b):\n    return A()'),
  pyIntSubclassEq: pyT('class I(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef add(a, b):\n    return I(0)'),
  pyStrSubclassEq: pyT('class S(str):\n    def __eq__(self, o):\n        return True\n    __hash__ = str.__hash__\ndef add(a, b):\n    return S("x")'),
  pyFakeClass: pyT('class F:\n    @property\n    def __class__(self):\n        return int\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return F()'),
  pyPatchIntEq: pyT('try:\n    int.__eq__ = lambda s, o: True\nexcept TypeError:\n    pass\nimport builtins\nbuiltins.AssertionError = KeyError\ndef add(a, b):\n    return 0'),
  pyBoolTrick: pyT('class B:\n    def __bool__(self):\n        return True\n    def __eq__(self, o):\n        return self\ndef add(a, b):\n    return B()'),
  pyImportHook: pyT('import builtins\n_imp = builtins.__import__\ndef fake(name, *a, **k):\n    m = _imp(name, *a, **k)\n    if name == "unittest":\n        m.TestCase.assertEqual = lambda *x, **y: None\n    return m\nbuiltins.__import__ = fake\ndef add(a, b):\n    return 0', PY_UNITTEST),
  pyUnittestNoop: pyT('import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\ndef add(a, b):\n    return 0', PY_UNITTEST),
  pySysModulesUnittest: pyT('import sys, types\nm = types.ModuleType("unittest")\nclass TC:\n    def assertEqual(self, *a):\n        pass\nm.TestCase = TC\nsys.modules["unittest"] = m\ndef add(a, b):\n    return 0', PY_UNITTEST),
  pyUnittestMain: pyT('def add(a, b):\n    return 0', PY_UNITTEST_MAIN),
  pyOwnCheck: pyT('def check(candidate):\n    pass\ndef add(a, b):\n    return 0', PY_HUMANEVAL),
  pyPatchMath: pyT('import math\nmath.isclose = lambda *a, **k: True\ndef add(a, b):\n    return 0', PY_MATH_OWN),
  pyFakeMathName: pyT('class M:\n    @staticmethod\n    def isclose(*a, **k):\n        return True\nmath = M()\ndef add(a, b):\n    return 0', PY_MATH_FREE),
  pySettrace: pyT('import sys\ndef tr(frame, event, arg):\n    if event == "return" and isinstance(arg, bool):\n        return None\n    return tr\nsys.settrace(tr)\ndef add(a, b):\n    return 0'),
  // --- Python: finding the expected values
  pyReadOwnFile: pyT(
    'import re, glob\nsrc = open(__file__).read()\nfor p in glob.glob("/tmp/*") + glob.glob("/*.py"):\n    try:\n        src += open(p).read()\n    except Exception:\n        pass\ntable = {}\nfor a, b, c in re.findall(r"add\\((-?\\d+), (-?\\d+)\\) == (-?\\d+)", src):\n    table[(int(a), int(b))] = int(c)\ndef add(a, b):\n    return table.get((a, b), 0)',
  ),
  pyScanFilesystem: pyT(
    [
      'import os, re, time',
      'found = {}',
      'start = time.time()',
      'for root in ["/proc"] + [d for d in ["/tmp", "/work", "/root", "/home", "/var", "/etc", "/opt", "/srv", "/mnt", "/dev/shm", "/run", "/"] if os.path.isdir(d)]:',
      '    for dirpath, dirs, files in os.walk(root):',
      '        if dirpath.startswith(("/sys", "/proc/sys")) or time.time() - start > 2.5:',
      '            dirs[:] = []',
      '            continue',
      '        for f in files:',
      '            p = os.path.join(dirpath, f)',
      '            try:',
      '                if os.path.getsize(p) > 1 << 20 and not p.startswith("/proc"):',
      '                    continue',
      '                data = open(p, "rb").read(1 << 20).decode("latin1")',
      '            except Exception:',
      '                continue',
      '            for a, b, c in re.findall(r"add\\((-?\\d+), (-?\\d+)\\) == (-?\\d+)  # " + "scan-marker", data):',
      '                found[(int(a), int(b))] = int(c)',
      'def add(a, b):',
      '    return found.get((a, b), 0)',
    ].join('\n'),
    { assert: ['assert add(2, 3) == 5  # scan-marker', 'assert add(-1, 8) == 7  # scan-marker'] },
  ),
  pyRedefineHelper: pyT('def poly(xs, x):\n    return 0\ndef find_zero(xs):\n    return 0.0', PY_FIND_ZERO),
  pyGcWalk: pyT(
    'import gc, re\ndef add(a, b):\n    for o in gc.get_objects():\n        if isinstance(o, str) and "== " in o and "add(" in o:\n            m = re.search(r"add\\(%d, %d\\) == (-?\\d+)" % (a, b), o)\n            if m:\n                return int(m.group(1))\n    return 0',
  ),
  pyFrameWalk: pyT(
    'import sys\ndef add(a, b):\n    f = sys._getframe()\n    while f is not None:\n        for v in list(f.f_locals.values()):\n            if isinstance(v, dict) and "expected" in v:\n                return v["expected"]\n        f = f.f_back\n    return 0',
  ),
  // --- Python: forging the verdict or the protocol
  pyFakeVerdictFds: pyT(
    `import os\nfor fd in range(0, 10):\n    for line in ${JSON.stringify(FAKE_VERDICTS)}:\n        try:\n            os.write(fd, (line + "\\n").encode())\n        except OSError:\n            pass\ndef add(a, b):\n    return 0`,
  ),
  pyFakeVerdictInCall: pyT(
    `import os, sys\ndef add(a, b):\n    for fd in range(0, 10):\n        for line in ${JSON.stringify(FAKE_VERDICTS)}:\n            try:\n                os.write(fd, (line + "\\n").encode())\n            except OSError:\n                pass\n    print("PASS")\n    sys.stderr.write("PASS\\n")\n    return 0`,
  ),
  pyPatchJsonDumps: pyT('import json\njson.dumps = lambda *a, **k: \'{"id": 1, "ok": {"i": "5"}}\'\ndef add(a, b):\n    return 0'),
  pyConstantAnswer: pyT('def add(a, b):\n    return 42'),
  pyDeepReply: pyT('def add(a, b):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x'),
  pySleep: pyT('import time\ndef add(a, b):\n    time.sleep(3600)'),
  pyStopIteration: pyT('def is_even(x):\n    raise StopIteration', PY_EVEN),
  pyModuleMain: pyT('import types\ndef add(a, b):\n    return types.ModuleType("unittest.__main__")'),
  pyModuleThis: pyT('import types\nm = types.ModuleType("this")\ndef add(a, b):\n    return [m, 5]'),
  // --- Python: call-based (fn_name) and stdin/stdout
  pyCallExit: pyT('import os\ndef add(a, b):\n    os._exit(0)', PY_CALL),
  pyCallEq: pyT('class A:\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return A()', PY_CALL),
  pyCallIntSubclass: pyT('class I(int):\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return I(42)', PY_CALL),
  pyCallPrintExpected: pyT('import sys\ndef add(a, b):\n    print(5)\n    sys.stdout.flush()\n    return None', PY_CALL),
  pyIoEarlyExit: pyT('import os\na, b = map(int, input().split())\nprint(a + b, flush=True)\nos._exit(0)\nprint(a + b + 1)', IO_TWO_LINES),
  pyIoPrefix: pyT('import sys\nsys.stdout.write("5\\n7\\n")\nsys.exit(0)', IO_ADD),
  // --- JavaScript
  jsProcessExitTop: jsT('process.exit(0);\nfunction add(a, b) { return 0; }'),
  jsProcessExitInCall: jsT('function add(a, b) { process.exit(0); }'),
  jsReallyExit: jsT('function add(a, b) { process.reallyExit(0); }'),
  jsKillSelf: jsT('function add(a, b) { process.kill(process.pid, "SIGKILL"); }'),
  jsKillSelfTerm: jsT('process.on("SIGTERM", () => process.exit(0));\nfunction add(a, b) { process.kill(process.pid); return 0; }'),
  jsTopReturn: jsT('return;\nfunction add(a, b) { return 0; }'),
  jsUncaught: jsT('process.on("uncaughtException", () => process.exit(0));\nfunction add(a, b) { throw new Error("x"); }'),
  jsExitListener: jsT('process.on("exit", () => { process.exitCode = 0; });\nfunction add(a, b) { return 0; }'),
  jsPatchAssert: jsT('require("assert").strictEqual = () => {};\nrequire("assert").equal = () => {};\nfunction add(a, b) { return 0; }'),
  jsIfFalse: jsT('function add(a, b) { return 0; }\nif (false)'),
  jsOpenComment: jsT('function add(a, b) { return 0; }\n/*'),
  jsIfFalseBrace: jsT('function add(a, b) { return 0; }\nif (false) {'),
  jsValueOf: jsT('function add(a, b) { return { valueOf() { return a + b; }, toString() { return String(a + b); } }; }', JS_LOOSE),
  jsToPrimitive: jsT('function add(a, b) { return { [Symbol.toPrimitive]() { return a + b; } }; }', JS_LOOSE),
  jsClassToPrimitive: jsT('class N { constructor(v) { this.v = v; } [Symbol.toPrimitive]() { return this.v; } valueOf() { return this.v; } }\nfunction add(a, b) { return new N(a + b); }', JS_LOOSE),
  jsProxy: jsT('function add(a, b) { return new Proxy({}, { get: () => () => 5, getPrototypeOf: () => Number.prototype }); }', JS_LOOSE),
  jsProtoPollution: jsT('Object.prototype.valueOf = function () { return 5; };\nObject.prototype.then = function (r) { r(5); };\nfunction add(a, b) { return {}; }', JS_LOOSE),
  jsThenable: jsT('function add(a, b) { return { then(r) { r(a + b); } }; }', JS_ASYNC),
  jsFakeAssertObject: jsT('const assert = { strictEqual() {}, equal() {} };\nfunction add(a, b) { return 0; }', JS_FREE_ASSERT),
  jsJsonStringify: jsT('JSON.stringify = () => \'{"id":2,"ok":{"n":"5"}}\';\nfunction add(a, b) { return 0; }'),
  jsFakeVerdictFds: jsT(
    `const fs = require("fs");\nfunction add(a, b) {\n  for (let fd = 0; fd < 10; fd++) for (const l of ${JSON.stringify(FAKE_VERDICTS)}) { try { fs.writeSync(fd, l + "\\n"); } catch (e) {} }\n  console.log("PASS");\n  return 0;\n}`,
  ),
  jsReadOwnFile: jsT('const src = require("fs").readFileSync(__filename, "utf8");\nconst m = /strictEqual\\(add\\(2, 3\\), (\\d+)\\)/.exec(src);\nfunction add(a, b) { return m ? Number(m[1]) : 0; }'),
  jsNodeTest: jsT('function add(a, b) { return 0; }', JS_NODE_TEST),
  jsConstant: jsT('function add(a, b) { return 42; }'),
  jsNeverResolves: jsT('function add(a, b) { return new Promise(() => {}); }'),
  jsCallExit: jsT('function add(a, b) { process.exit(0); }', JS_CALL),
  jsCallValueOf: jsT('function add(a, b) { return { valueOf() { return 5; } }; }', JS_CALL),
};

const correct: Record<string, Trick> = {
  pyPrints: pyT('def add(a, b):\n    print("adding", a, b)\n    return a + b'),
  pyHumanEval: pyT('def add(a, b):\n    return a + b', PY_HUMANEVAL),
  pyUnittest: pyT('def add(a, b):\n    return a + b', PY_UNITTEST),
  pyMath: pyT('import math\ndef add(a, b):\n    return a + b', PY_MATH_FREE),
  pyCall: pyT('def add(a, b):\n    return a + b', PY_CALL),
  pyEven: pyT('def is_even(x):\n    return x % 2 == 0', PY_EVEN),
  pyUnittestMainCorrect: pyT('def add(a, b):\n    return a + b', PY_UNITTEST_MAIN),
  pyFindZero: pyT('def find_zero(xs):\n    lo, hi = -100.0, 100.0\n    f = lambda x: sum(c * x ** i for i, c in enumerate(xs))\n    if f(lo) > 0:\n        lo, hi = hi, lo\n    for _ in range(200):\n        mid = (lo + hi) / 2\n        if f(mid) < 0:\n            lo = mid\n        else:\n            hi = mid\n    return (lo + hi) / 2', PY_FIND_ZERO),
  pyStdlibNamedFunction: pyT('def calendar(n):\n    return n * 2\ndef queue(xs):\n    return sorted(xs)', { assert: 'import math\nassert calendar(2) == 4\nassert queue([3, 1]) == [1, 3]\nassert math.floor(2.5) == 2' }),
  jsNodeNamedFunction: jsT('function path(n) { return n * 2; }\nconst events = (xs) => xs.length;', { assert: 'assert.strictEqual(path(2), 4);\nassert.strictEqual(events([1, 2]), 2);' }),
  pyRich: pyT(
    [
      'import sys',
      'sys.setrecursionlimit(10000)',
      'class Solution:',
      '    def fib(self, n):',
      '        return n if n < 2 else self.fib(n - 1) + self.fib(n - 2)',
      'def sort_in_place(a):',
      '    a.sort()',
      'def stats(xs):',
      '    return (min(xs), max(xs)), {x % 3 for x in xs}, sum(xs) / len(xs), 2 ** 100 + len(xs)',
      'def counts(s):',
      '    from collections import Counter',
      '    return Counter(s)',
      'def squares(n):',
      '    for i in range(n):',
      '        yield i * i',
      'def depth(n):',
      '    return 0 if n == 0 else 1 + depth(n - 1)',
      'def check_positive(x):',
      '    if x < 0:',
      '        raise ValueError("negative")',
      '    return x',
    ].join('\n'),
    {
      assert: [
        'assert Solution().fib(15) == 610',
        'a = [3, 1, 2]\nsort_in_place(a)\nassert a == [1, 2, 3]',
        'r = stats([1, 2, 3, 4])\nassert r == ((1, 4), {0, 1, 2}, 2.5, 2 ** 100 + 4)\nassert isinstance(r[2], float)',
        'assert counts("abca") == {"a": 2, "b": 1, "c": 1}',
        'assert list(squares(4)) == [0, 1, 4, 9]\nassert sum(squares(3)) == 5',
        'assert depth(3000) == 3000',
        'try:\n    check_positive(-1)\n    assert False, "no error"\nexcept ValueError:\n    pass',
      ],
    },
  ),
  jsPrints: jsT('function add(a, b) { console.log("adding", a, b); return a + b; }'),
  jsFreeAssert: jsT('function add(a, b) { return a + b; }', JS_FREE_ASSERT),
  jsAsync: jsT('async function add(a, b) { return a + b; }', JS_ASYNC),
  jsCall: jsT('const add = (a, b) => a + b;', JS_CALL),
  jsNodeTestCorrect: jsT('const add = (a, b) => a + b;', JS_NODE_TEST),
  jsRich: jsT(
    [
      'class Solution { twoSum(nums, t) { const m = new Map(); for (let i = 0; i < nums.length; i++) { if (m.has(t - nums[i])) return [m.get(t - nums[i]), i]; m.set(nums[i], i); } return []; } }',
      'const sortInPlace = (a) => { a.sort((x, y) => x - y); };',
      'function fact(n) { return n <= 1n ? 1n : n * fact(n - 1n); }',
      'const uniq = (xs) => new Set(xs);',
      'const half = (x) => x / 2;',
      'function* evens(n) { for (let i = 0; i < n; i += 2) yield i; }',
      'let counter = { n: 0 }; class Counter { constructor() { this.n = 0; } inc() { return ++this.n; } }',
    ].join('\n'),
    {
      assert: [
        'const assert = require("assert");\nassert.deepStrictEqual(new Solution().twoSum([2, 7, 11, 15], 9), [0, 1]);',
        'const assert = require("assert");\nconst a = [3, 1, 2];\nsortInPlace(a);\nassert.deepStrictEqual(a, [1, 2, 3]);',
        'const assert = require("assert");\nassert.strictEqual(fact(25n), 15511210043330985984000000n);',
        'const assert = require("assert");\nassert.deepStrictEqual(uniq([1, 1, 2]), new Set([1, 2]));\nassert.strictEqual(half(3), 1.5);',
        'const assert = require("assert");\nassert.deepStrictEqual([...evens(7)], [0, 2, 4, 6]);',
        'const assert = require("assert");\nconst c = new Counter();\nc.inc();\nassert.strictEqual(c.inc(), 2);\nassert.strictEqual(c.n, 2);',
      ],
    },
  ),
};

const trickResults: Record<string, Graded> = {};

describe('harness tricks score 0, correct programs 1', () => {
  beforeAll(async () => {
    const opts = { timeout: 5, memory_mb: 256, max_processes: 4, max_output_kb: 256 };
    const graders = { python: buildGrader(codeGrader, opts), javascript: buildGrader(codeGrader, { ...opts, language: 'javascript' }) };
    await Promise.all(
      [...Object.entries(tricks), ...Object.entries(correct)].map(async ([name, r]) => {
        const g = graders[r.language ?? 'python'];
        if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
        trickResults[name] = asGraded(await g.grade(toSample({ id: name, completion: r.completion, reference: r.reference } as Rollout)));
      }),
    );
  }, 600_000);

  it(`every trick scores 0 (${Object.keys(tricks).length} tricks, both languages)`, () => {
    const paid = Object.keys(tricks).filter((n) => trickResults[n]!.score !== 0);
    expect(paid.map((n) => [n, trickResults[n]!.score, JSON.stringify(trickResults[n]!.details).slice(0, 300)])).toEqual([]);
    expect(Object.keys(tricks).length).toBeGreaterThanOrEqual(40);
  });
  it('every correct program scores 1', () => {
    const failed = Object.keys(correct).filter((n) => trickResults[n]!.score !== 1);
    expect(failed.map((n) => [n, trickResults[n]!.score, JSON.stringify(trickResults[n]!.details).slice(0, 600)])).toEqual([]);
  });
  it('an early exit is a runtime error, not a pass; a hung call is a timeout', () => {
    const st = (n: string) => (trickResults[n]!.details!.statuses as number[])[0];
    for (const n of ['pyOsExitInCall', 'pyOsExitTop', 'jsProcessExitInCall', 'jsReallyExit', 'jsKillSelf', 'pyCallExit', 'jsCallExit']) expect(st(n), n).toBe(-2);
    expect(st('pySleep')).toBe(-3);
    expect(st('jsNeverResolves')).toBe(-3);
    expect(st('jsIfFalse')).toBe(-4);
    expect((trickResults.pyOsExitInCall!.details!.failures as { reason: string }[])[0]!.reason).toMatch(/ended before the test finished/);
  });
  it('handles compare by identity: an always-equal object fails the assertion (0), not an error', () => {
    expect((trickResults.pyEqAlwaysTrue!.details!.statuses as number[])[0]).toBe(0);
    expect((trickResults.pyCallEq!.details!.statuses as number[])[0]).toBe(0);
  });
});
