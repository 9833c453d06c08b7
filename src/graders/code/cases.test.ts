/**
 * Many test cases per sandbox: the call-based cases of a program run in one program process
 * (`runCallCases`, as verl's prime_code), each call with its own time limit, compared outside.
 */
import { describe, expect, it } from 'vitest';
import { useEnv } from '../../../test/env.js';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import { asGraded, buildGrader } from '../harness.js';
import { runIoCases } from './harness/index.js';
import { VERL_PY_PREFIX, VERL_PY_PRELOAD } from './harness/python.js';
import { codeGrader, openSandboxes, runInSandbox, sandboxSupport, setSessionOpener, type RunResult } from './index.js';

const ok = sandboxSupport().ok;

/** Each hostile program scores 0 (graded one after another). */
async function expectEachScoresZero(programs: string[], grade: (src: string) => Promise<{ score: number | null }>): Promise<void> {
  for (const t of programs) expect((await grade(t)).score, t).toBe(0);
}
const py = (src: string) => `\`\`\`python\n${src}\n\`\`\``;
const LIMITS = { timeoutMs: 2000, memoryMb: 256, maxProcesses: 4, maxOutputBytes: 64 << 10 };

describe('modules the warm pool loads ahead for call-based runs', () => {
  it("VERL_PY_PRELOAD names every module verl's prefix imports", () => {
    const named = new Set<string>();
    for (const line of VERL_PY_PREFIX.split('\n')) {
      const from = /^from (\w+) import \*$/.exec(line);
      if (from) named.add(from[1]!);
      else if (line.startsWith('import ')) for (const m of line.slice(7).split(',')) named.add(m.trim());
    }
    expect(named.size).toBeGreaterThan(15);
    for (const m of named) expect(VERL_PY_PRELOAD).toContain(m);
  });
});

describe.skipIf(!ok)('call-based cases through one program process', () => {
  const g = buildGrader(codeGrader, { language: 'python', timeout: 1, memory_mb: 256 });
  const grade = async (src: string, reference: unknown, grader = g) => {
    if (grader.scope !== 'rollout') throw new Error('rollout grader');
    return asGraded(await grader.grade(toSample({ id: 'x', completion: py(src), reference } as Rollout)));
  };
  const REF = { fn_name: 'f', inputs: ['1', '2', '3', '4'], outputs: ['2', '4', '6', '8'] };

  it('each call has its own time limit; a slow case fails alone, the others pass', async () => {
    const r = await grade('import time\ndef f(x):\n    if x == 2:\n        time.sleep(30)\n    return 2 * x', REF);
    expect(r.details!.statuses).toEqual([1, -3, 1, 1]);
    expect(r.score).toBe(0.75);
    // A program that sleeps 0.7 s per call passes with a 1 s limit per call (not per batch).
    const slow = await grade('import time\ndef f(x):\n    time.sleep(0.7)\n    return 2 * x', REF);
    expect(slow.details!.statuses).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it('an exit in one call fails that case; the rest run in a fresh process', async () => {
    const r = await grade('import os\ndef f(x):\n    if x == 2:\n        os._exit(0)\n    return 2 * x', REF);
    expect(r.details!.statuses).toEqual([1, -2, 1, 1]);
  }, 60_000);

  it('module state carries from call to call, as in verl prime_code', async () => {
    const r = await grade('calls = []\ndef f(x):\n    calls.append(x)\n    return 2 * len(calls)', REF);
    expect(r.details!.statuses).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it('scoring: all stops at the first failure', async () => {
    const all = buildGrader(codeGrader, { language: 'python', timeout: 1, scoring: 'all' });
    const r = await grade('def f(x):\n    return 0 if x == 2 else 2 * x', REF, all);
    expect(r.details!.statuses).toEqual([1, 0, null, null]);
    expect(r.score).toBe(0);
  }, 60_000);

  it('forged replies, patched builtins and comparisons never pass', async () => {
    const tricks = [
      // Answers written ahead on the protocol descriptors, for guessed request ids.
      'import os, json\nfor fd in range(3, 10):\n    for i in range(1, 50):\n        try:\n            os.write(fd, (json.dumps({"id": i, "ok": {"i": str(2 * i)}}) + "\\n").encode())\n        except OSError:\n            pass\ndef f(x):\n    return None',
      'import builtins\nbuiltins.int = str\nclass A:\n    def __eq__(s, o):\n        return True\ndef f(x):\n    return A()',
      'import json\njson.dumps = lambda *a, **k: \'{"id": 1, "ok": {"i": "2"}}\'\ndef f(x):\n    return None',
      'import sys\ndef f(x):\n    sys.exit(0)',
    ];
    await expectEachScoresZero(tricks, (t) => grade(t, REF));
  }, 120_000);

  it('a compile error is reported for every case, once', async () => {
    const r = await grade('def f(x:\n    return x', REF);
    expect(r.details!.statuses).toEqual([-4, -4, -4, -4]);
  }, 60_000);
});

/**
 * Assertion blocks of a rollout through one program process and one harness process
 * (`runAssertCases`): each block its own verdict and time limit, a fresh program state per block,
 * a block that ends or hangs the program failing alone.
 */
describe.skipIf(!ok)('assertion blocks through one program process and one harness process', () => {
  const opts = { timeout: 1, memory_mb: 256, max_processes: 4, max_output_kb: 64 };
  const g = buildGrader(codeGrader, opts);
  const gjs = buildGrader(codeGrader, { ...opts, language: 'javascript' });
  const js = (src: string) => `\`\`\`javascript\n${src}\n\`\`\``;
  const grade = async (grader: typeof g, completion: string, reference: unknown) => {
    if (grader.scope !== 'rollout') throw new Error('rollout grader');
    return asGraded(await grader.grade(toSample({ id: 'x', completion, reference } as Rollout)));
  };

  it('a failing or raising block between passing ones fails alone', async () => {
    const r = await grade(g, py('def add(a, b):\n    return a + b'), {
      assert: ['assert add(1, 1) == 2', 'assert add(1, 2) == 4', 'assert add(2, 2) == 4', 'raise ValueError("in the test")', 'assert add(3, 3) == 6'],
    });
    expect(r.details!.statuses).toEqual([1, 0, 1, -2, 1]);
    expect(r.score).toBe(0.6);
  }, 60_000);

  it('os._exit, sys.exit, a hang and a self-kill each fail their block; the next block passes', async () => {
    const src = [
      'import os, sys, time, signal',
      'def add(a, b):',
      '    if a == 2:',
      '        os._exit(0)',
      '    if a == 3:',
      '        time.sleep(30)',
      '    if a == 4:',
      '        sys.exit(0)',
      '    if a == 5:',
      '        os.kill(os.getpid(), signal.SIGKILL)',
      '    return a + b',
    ].join('\n');
    const blocks = ['assert add(1, 1) == 2', 'assert add(2, 0) == 2', 'assert add(1, 2) == 3', 'assert add(3, 0) == 3', 'assert add(1, 3) == 4', 'assert add(4, 0) == 4', 'assert add(1, 4) == 5', 'assert add(5, 0) == 5', 'assert add(1, 5) == 6'];
    const r = await grade(g, py(src), { assert: blocks });
    expect(r.details!.statuses).toEqual([1, -2, 1, -3, 1, -2, 1, -2, 1]);
    const reasons = (r.details!.failures as { test: number; reason: string }[]).map((f) => [f.test, f.reason]);
    expect(reasons[0]).toEqual([1, expect.stringMatching(/ended before the test finished/)]);
    expect(reasons[1]).toEqual([3, expect.stringMatching(/wall-clock limit/)]);
  }, 60_000);

  it('a block that ends the harness process itself fails alone', async () => {
    const r = await grade(g, py('def add(a, b):\n    return a + b'), { assert: ['assert add(1, 1) == 2', 'import os\nos._exit(0)', 'assert add(2, 2) == 4'] });
    expect(r.details!.statuses).toEqual([1, -2, 1]);
  }, 60_000);

  it('each block gets a fresh program state (verl runs program + block per test), shared within the block', async () => {
    const src = 'calls = []\nclass Counter:\n    n = 0\n    def inc(self):\n        Counter.n += 1\n        return Counter.n\ndef add(a, b):\n    calls.append(a)\n    return a + b + len(calls) - 1';
    const r = await grade(g, py(src), {
      assert: ['assert add(1, 1) == 2\nassert add(1, 1) == 3', 'assert add(1, 1) == 2', 'assert Counter().inc() == 1\nassert Counter().inc() == 2', 'assert Counter().inc() == 1'],
    });
    expect(r.details!.statuses).toEqual([1, 1, 1, 1]);
  }, 60_000);

  it("each block runs in a fresh harness namespace: a block's names are not seen by the next", async () => {
    const r = await grade(g, py('def add(a, b):\n    return a + b'), { assert: ['leak = add(1, 1)\nassert leak == 2', "assert 'leak' not in globals()\nassert add(2, 2) == 4"] });
    expect(r.details!.statuses).toEqual([1, 1]);
  }, 60_000);

  it('the function under test stays the program’s own in every block (import prefix names are not)', async () => {
    const r = await grade(g, py('pass'), { assert: ['assert gcd(12, 18) == 6', 'assert gcd(4, 6) == 2'], import_prefix: 'from math import *' });
    expect(r.details!.statuses).toEqual([-2, -2]);
    expect(r.score).toBe(0);
  }, 60_000);

  it('scoring: all stops at the first block that does not pass', async () => {
    const all = buildGrader(codeGrader, { ...opts, scoring: 'all' });
    const r = await grade(all, py('def add(a, b):\n    return 0 if a == 2 else a + b'), { assert: ['assert add(1, 1) == 2', 'assert add(2, 2) == 4', 'assert add(3, 3) == 6'] });
    expect(r.details!.statuses).toEqual([1, 0, null]);
    expect(r.score).toBe(0);
  }, 60_000);

  it('JavaScript: the same semantics (a fresh program per block; exits, hangs and kills fail their block alone)', async () => {
    const A = 'const assert = require("assert");\n';
    const src = [
      'let calls = [];',
      'function add(a, b) {',
      '  if (a === 2) process.exit(0);',
      '  if (a === 3) { for (;;) {} }',
      '  if (a === 5) process.kill(process.pid, "SIGKILL");',
      '  calls.push(a);',
      '  return a + b + calls.length - 1;',
      '}',
    ].join('\n');
    const blocks = ['assert.strictEqual(add(1, 1), 2);\nassert.strictEqual(add(1, 1), 3);', 'assert.strictEqual(add(2, 0), 2);', 'assert.strictEqual(add(1, 2), 3);', 'assert.strictEqual(add(3, 0), 3);', 'assert.strictEqual(add(1, 3), 4);', 'assert.strictEqual(add(1, 0), 9);', 'assert.strictEqual(add(5, 0), 5);', 'assert.strictEqual(add(1, 5), 6);'].map((b) => A + b);
    const r = await grade(gjs, js(src), { assert: blocks });
    expect(r.details!.statuses).toEqual([1, -2, 1, -3, 1, 0, -2, 1]);
  }, 120_000);
});

/**
 * stdin/stdout cases of a Python program (`runIoCases`): by default one sandbox whose compiled case
 * supervisor forks a process per case (a fresh `__main__`, stdin, stdout and stderr), each case its
 * own limits, judged as a run of its own; `REWARDKIT_IO_BATCH=0`: a sandboxed run per case. Both
 * must give the same statuses.
 */
for (const batch of ['1', '0'] as const) {
  // 1: case mode (the default); 0: a sandboxed run per case.
  describe.skipIf(!ok)(`stdin/stdout cases through one program process (REWARDKIT_IO_BATCH=${batch})`, () => {
    useEnv('REWARDKIT_IO_BATCH', batch);
    const g = buildGrader(codeGrader, { language: 'python', timeout: 1, memory_mb: 256, max_output_kb: 64 });
    const grade = async (src: string, reference: unknown, grader = g) => {
      if (grader.scope !== 'rollout') throw new Error('rollout grader');
      return asGraded(await grader.grade(toSample({ id: 'x', completion: py(src), reference } as Rollout)));
    };
    const ADD = { tests: [1, 2, 3, 4, 5, 6, 7].map((k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) };

    it('exits, a hang, a self-kill and an exception fail their case alone; os._exit(0) after the full output passes, as one run would', async () => {
      const src = [
        'import os, sys, time, signal',
        'a, b = map(int, sys.stdin.readline().split())',
        'if a == 2:',
        '    print(a + b, flush=True)',
        '    os._exit(0)',
        'if a == 3:',
        '    time.sleep(30)',
        'if a == 4:',
        '    sys.exit(3)',
        'if a == 5:',
        '    os.kill(os.getpid(), signal.SIGKILL)',
        'if a == 6:',
        '    print(a + b, end="", flush=True)',
        '    raise ValueError("after the output")',
        'print(a + b)',
      ].join('\n');
      const r = await grade(src, ADD);
      expect(r.details!.statuses).toEqual([1, 1, -3, -2, -2, -2, 1]);
    }, 60_000);

    it('an early os._exit(0) with part of the output fails; sys.exit(0) after the output passes', async () => {
      const two = { tests: [{ input: '2 3\n', output: '5\n6\n' }, { input: '1 1\n', output: '2\n3\n' }] };
      const early = await grade('import os\na, b = map(int, input().split())\nprint(a + b, flush=True)\nos._exit(0)\nprint(a + b + 1)', two);
      expect(early.details!.statuses).toEqual([0, 0]);
      const sysExit = await grade('import sys\na, b = map(int, input().split())\nprint(a + b)\nprint(a + b + 1)\nsys.exit(0)', two);
      expect(sysExit.details!.statuses).toEqual([1, 1]);
    }, 60_000);

    it('each case gets a fresh __main__, stdin and stdout: fd-level reads and writes, closed streams, atexit fast-IO', async () => {
      const fresh = await grade('counter = globals().get("counter", 0) + 1\na, b = map(int, input().split())\nprint(a + b if counter == 1 else -1)', ADD);
      expect(fresh.details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      const fd = await grade('import os, sys\ndata = os.read(0, 100).split()\nos.write(1, (str(int(data[0]) + int(data[1])) + "\\n").encode())\nsys.stdin.close()\nos.close(1)', ADD);
      expect(fd.details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      const buffered = await grade('import atexit, io, sys\nbuf = io.StringIO()\nsys.stdout = buf\natexit.register(lambda: sys.__stdout__.write(buf.getvalue()))\nprint(sum(map(int, open(0).read().split())))', ADD);
      expect(buffered.details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
    }, 60_000);

    it('a case ends as a run would: after its non-daemon threads (main() in a thread), with the files it opened on fds 0 and 1 closed within it', async () => {
      const threaded = [
        'import sys, threading',
        'def main():',
        '    import time',
        '    a, b = map(int, sys.stdin.readline().split())',
        '    time.sleep(0.05)',
        '    print(a + b)',
        'threading.stack_size(1 << 26)',
        'threading.Thread(target=main).start()',
      ].join('\n');
      expect((await grade(threaded, ADD)).details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      // Fast-IO templates that replace sys.stdout/sys.stdin with their own file objects on fds 1 and 0
      // (closed when the next case drops them) still pass every case.
      const ownFiles = 'import sys, os\nsys.stdout = open(1, "w")\nsys.stdin = open(0)\na, b = map(int, sys.stdin.readline().split())\nprint(a + b)';
      expect((await grade(ownFiles, ADD)).details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      const ioFiles = 'import io, os, sys\nsys.stdout = io.TextIOWrapper(io.FileIO(1, "w"))\nsys.stdin = io.TextIOWrapper(io.FileIO(0, "r"))\na, b = map(int, input().split())\nprint(a + b)';
      expect((await grade(ioFiles, ADD)).details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      // A thread that never ends is the case's timeout, and the next case runs in a fresh process.
      const stuck = 'import sys, threading, time\na, b = map(int, input().split())\nprint(a + b)\nif a == 2:\n    threading.Thread(target=lambda: time.sleep(30)).start()';
      expect((await grade(stuck, ADD)).details!.statuses).toEqual([1, -3, 1, 1, 1, 1, 1]);
    }, 60_000);

    it('a wrong case between right ones is 0 alone; scoring: all stops at the first failure; a compile error is −4 for every case', async () => {
      const r = await grade('a, b = map(int, input().split())\nprint(7 if a == 3 else a + b)', ADD);
      expect(r.details!.statuses).toEqual([1, 1, 0, 1, 1, 1, 1]);
      expect((r.details!.failures as { stdout: string }[])[0]!.stdout).toBe('7\n');
      const all = buildGrader(codeGrader, { language: 'python', timeout: 1, scoring: 'all' });
      const stopped = await grade('a, b = map(int, input().split())\nprint(7 if a == 2 else a + b)', ADD, all);
      expect(stopped.details!.statuses).toEqual([1, 0, null, null, null, null, null]);
      const bad = await grade('print(', ADD);
      expect(bad.details!.statuses).toEqual([-4, -4, -4, -4, -4, -4, -4]);
    }, 60_000);

    // Case mode's own behaviour (REWARDKIT_IO_BATCH=1 only).
    it.skipIf(batch === '0')('each case is a process of its own: module state, recursion limits and daemon threads do not carry; imports are made once, ahead', async () => {
      const state = await grade('import math, sys\nmath.calls = getattr(math, "calls", 0) + 1\nsys.setrecursionlimit(50 + sys.getrecursionlimit())\na, b = map(int, input().split())\nprint(a + b if math.calls == 1 and sys.getrecursionlimit() == 1050 else -1)', ADD);
      expect(state.details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
      // The standard-library modules the program imports are already imported when a case starts (the
      // supervisor imported them ahead); a module of the program's own directory is never imported ahead.
      const ahead = await grade('import sys\nhad = "fractions" in sys.modules\nimport fractions\na, b = map(int, input().split())\nprint(a + b if had else -1)', ADD);
      expect(ahead.details!.statuses).toEqual([1, 1, 1, 1, 1, 1, 1]);
    }, 60_000);

    it('a MemoryError fails its case alone (memory_limit); a traceback shows the program, not the runner', async () => {
      const r = await grade('a, b = map(int, input().split())\nif a == 3:\n    x = bytearray(1 << 34)\nif a == 5:\n    raise ValueError("five")\nprint(a + b)', ADD);
      expect(r.details!.statuses).toEqual([1, 1, -2, 1, -2, 1, 1]);
      const failures = r.details!.failures as { reason: string; stderr: string }[];
      expect(failures[0]!.reason).toMatch(/ran out of memory/);
      expect(failures[1]!.stderr).toMatch(/File "[^"]*", line 5, in <module>\n {4}raise ValueError\("five"\)\nValueError: five/);
      expect(failures[1]!.stderr).not.toMatch(/_rk_/);
    }, 60_000);

    it('a case that kills every process it may, its parent, or leaves processes behind fails alone; nothing it leaves reaches the next case', async () => {
      const src = [
        'import os, sys, signal, time',
        'a, b = map(int, input().split())',
        'if a == 2:',
        '    try:',
        '        os.kill(-1, signal.SIGKILL)',
        '    finally:',
        '        os.kill(os.getpid(), signal.SIGKILL)',
        'if a == 3:',
        '    os.kill(os.getppid(), signal.SIGKILL)',
        'if a == 5:',
        '    os.kill(os.getppid(), signal.SIGSTOP)',
        'if a == 4 and os.fork() == 0:',
        '    time.sleep(0.3)',
        '    os.write(1, b"9\\n")',
        '    os._exit(0)',
        'print(a + b)',
      ].join('\n');
      // Cases 3 and 5 signal their parent: the supervisor in case mode (killed: the rest run in a
      // fresh one; stopped: the host's limit ends it), their own process group in a run of their own
      // (getppid() is 0 there). They fail either way, alone.
      const r = await grade(src, ADD);
      expect(r.details!.statuses).toEqual([1, -2, -2, 1, -3, 1, 1]);
    }, 60_000);

    it('a case cannot write into another case’s output or end a case early: record-like lines and fd tricks are its own output', async () => {
      const forge = [
        'import os, sys',
        'a, b = map(int, input().split())',
        'if a == 1:',
        '    os.write(1, b"E0\\nO2\\n14\\nE0\\nR\\n")',
        '    for fd in range(3, 64):',
        '        try:',
        '            os.write(fd, b"\\x00" * 4096 + b"E0\\n")',
        '        except OSError:',
        '            pass',
        'print(a + b)',
      ].join('\n');
      const r = await grade(forge, ADD);
      expect(r.details!.statuses).toEqual([0, 1, 1, 1, 1, 1, 1]);
    }, 60_000);

    it.skipIf(batch === '0')('a long list of cases goes on in a fresh supervisor when one has spent half its CPU limit; every case is judged', async () => {
      // A supervisor spends ~1 ms of its own CPU time a case here: a 1 s limit makes it hand over
      // after a few hundred cases. Each session has a fresh /tmp: the first case of each writes a mark.
      const src = 'import os\nk = int(input())\nif not os.path.exists("first"):\n    open("first", "w").write(str(k))\nprint(2 * k, open("first").read())';
      const got = await runIoCases(src, Array.from({ length: 600 }, (_, k) => `${k}\n`), { timeoutMs: 1000, cpuSeconds: 1 });
      expect(got.every((r, k) => r !== null && r.status === 'ok' && r.stdout.startsWith(`${2 * k} `))).toBe(true);
      const sessions = new Set(got.map((r) => r!.stdout.trim().split(' ')[1]));
      expect(sessions.size).toBeGreaterThan(1);
    }, 120_000);

    it('an input larger than the file-size limit is read whole, as in a run of its own; a file past the limit fails its case', async () => {
      const big = `${'7'.repeat(2 << 20)}\n`;
      const src = 'import sys\ns = sys.stdin.readline().strip()\nif s == "write":\n    open("f", "wb").write(b"x" * (2 << 20))\nprint(len(s))';
      const got = await runIoCases(src, [big, 'write\n', 'ok\n'], { timeoutMs: 5000, maxFileBytes: 1 << 20 });
      expect(got.map((r) => [r!.status, r!.stdout])).toEqual([['ok', `${2 << 20}\n`], ['runtime_error', ''], ['ok', '2\n']]);
      // (Python ignores SIGXFSZ: the write fails with EFBIG.)
      expect(got[1]!.stderr).toMatch(/File too large/);
    }, 60_000);

    it('output past the budget fails its case alone (output_limit); the next case starts clean', async () => {
      const r = await grade('import sys\na, b = map(int, input().split())\nif a == 2:\n    sys.stdout.write("x" * (200 << 10))\nprint(a + b)', ADD);
      expect(r.details!.statuses).toEqual([1, -2, 1, 1, 1, 1, 1]);
    }, 60_000);

    it('forged end markers and outputs never pass a wrong program', async () => {
      // The program may write anything on its stdout, markers included: it only decides its own output.
      const tricks = [
        'import os\nfor n in range(0, 20):\n    os.write(1, b"\\x00" + b"0" * 32 + b"E0\\n")\nprint(0)',
        'import sys, gc\nfor o in gc.get_objects():\n    if isinstance(o, bytes) and o.startswith(b"\\x00"):\n        sys.stdout.buffer.write(o + b"E0\\n" + o + b"E0\\n")\nprint(0)',
      ];
      await expectEachScoresZero(tricks, (t) => grade(t, ADD));
    }, 60_000);
  });
}
