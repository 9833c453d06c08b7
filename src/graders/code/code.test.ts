import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import { buildGrader, gradeAll, scoreOne } from '../harness.js';
import { codeGrader, configureSandbox, openSandboxes, runInSandbox, sandboxConfig, sandboxSupport, setSessionOpener } from './index.js';

// Generous limits: correct programs must not time out on a loaded 2-core machine.
const SLOW = { timeout: 30 };
const py = (src: string) => `Here is my solution.\n\n\`\`\`python\n${src}\n\`\`\`\n`;
const js = (src: string) => `\`\`\`javascript\n${src}\n\`\`\``;

const ADD_IO = { tests: [{ input: '1 2\n', output: '3\n' }, { input: '10 -4', output: '6' }, { input: '0 0\n', output: '0' }] };

describe('runInSandbox', () => {
  it('is available here (Linux, root, util-linux) and validates its configuration', () => {
    expect(sandboxSupport()).toEqual({ ok: true });
    expect(sandboxConfig().python).toMatch(/^\/usr\/(local\/)?bin\/python3$/); // not a shim under /root
    expect(() => configureSandbox({ concurrency: 0 })).toThrow(/concurrency/);
    expect(sandboxConfig().concurrency).toBeGreaterThanOrEqual(1);
  });
  it('feeds stdin, returns stdout, runs unprivileged with the limits in force and a fixed environment', async () => {
    const code = [
      'import os, resource, sys',
      'print(sys.stdin.read().strip()[::-1])',
      'print(os.getuid() != 0, os.getgid() != 0, os.getgroups())',
      'print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20, resource.getrlimit(resource.RLIMIT_CPU), resource.getrlimit(resource.RLIMIT_STACK)[0] // 2**20)',
      'print(sorted(os.environ))',
      'pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]',
      'print(os.getcwd(), len(pids), 1 in pids, os.getpid() in pids)',
    ].join('\n');
    const r = await runInSandbox({ language: 'python', code, stdin: 'olleh', limits: { timeoutMs: 30_000, cpuSeconds: 7, memoryMb: 300 } });
    expect(r.status).toBe('ok');
    expect(r.stdout.split('\n')).toEqual(['hello', 'True True []', '300 (7, 8) 64', "['HOME', 'LANG', 'PATH']", '/tmp 1 False True', '']); // only itself: pid 1, the sandbox's root shell, is hidden (hidepid)
  });
  it('reports exit codes, compile errors and runtime errors for both languages', async () => {
    const lim = { timeoutMs: 30_000 };
    const runs = await Promise.all([
      runInSandbox({ language: 'python', code: 'import sys; sys.exit(3)', limits: lim }),
      runInSandbox({ language: 'python', code: 'def f(:\n  pass', limits: lim }),
      runInSandbox({ language: 'python', code: 'exec("x = (")', limits: lim }), // a SyntaxError at run time is a runtime error
      runInSandbox({ language: 'javascript', code: 'let x = ;', limits: lim }),
      runInSandbox({ language: 'javascript', code: 'JSON.parse("{")', limits: lim }),
      runInSandbox({ language: 'javascript', code: 'import fs from "fs";\nconsole.log(typeof fs.readFileSync)', limits: lim }), // ES module syntax is detected
    ]);
    expect(runs.map((r) => r.status)).toEqual(['runtime_error', 'compile_error', 'runtime_error', 'compile_error', 'runtime_error', 'ok']);
    expect(runs[0]!.exitCode).toBe(3);
    expect(runs[1]!.stderr).toMatch(/SyntaxError/);
    expect(runs[5]!.stdout).toBe('function\n');
  });
  // Needs the checkout to be readable by an unprivileged uid (it is unless it lives under /root).
  const sandbox = join(dirname(fileURLToPath(import.meta.url)), 'sandbox.ts');
  const readable = (() => {
    try {
      execFileSync('/usr/bin/setpriv', ['--reuid=54321', '--regid=54321', '--clear-groups', '/usr/bin/test', '-r', sandbox]);
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!readable)('refuses to run anything without root rather than run it unsandboxed', () => {
    const script = `import { runInSandbox } from ${JSON.stringify(sandbox)};\nconsole.log(JSON.stringify(await runInSandbox({ language: 'python', code: 'print(42)' })));`;
    const out = execFileSync('/usr/bin/setpriv', ['--reuid=54321', '--regid=54321', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, HOME: '/tmp' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({ status: 'sandbox_error', stdout: '', message: expect.stringMatching(/root/) });
  }, 120_000);
  it('rejects bad requests', async () => {
    await expect(runInSandbox({ language: 'ruby' as 'python', code: '' })).rejects.toThrow(/language/);
    await expect(runInSandbox({ language: 'python', code: '', limits: { timeoutMs: -1 } })).rejects.toThrow(/timeoutMs/);
  });
});

describe('code grader: stdin/stdout', () => {
  it('scores correct and wrong Python solutions', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [ok, wrong, partial] = await gradeAll(g, [
      { completion: py('a, b = map(int, input().split())\nprint(a + b)'), reference: ADD_IO },
      { completion: py('a, b = map(int, input().split())\nprint(a - b)'), reference: ADD_IO },
      { completion: py('a, b = map(int, input().split())\nprint(max(a + b, 1))'), reference: ADD_IO },
    ]);
    expect(ok).toEqual({ score: 1, details: { statuses: [1, 1, 1], passed: 3, total: 3, source: 'tagged_block', region: 'whole' } });
    expect(wrong!.details).toMatchObject({ statuses: [0, 0, 1], passed: 1 }); // only 0 − 0 = 0 + 0
    expect(wrong!.score).toBeCloseTo(1 / 3, 12);
    expect(partial!.details!.statuses).toEqual([1, 1, 0]);
    expect(partial!.score).toBeCloseTo(2 / 3, 12);
  });
  it('scores correct and wrong JavaScript solutions', async () => {
    const g = buildGrader(codeGrader, { ...SLOW, language: 'javascript' });
    const read = 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);';
    const [ok, wrong] = await gradeAll(g, [
      { completion: js(`${read}\nconsole.log(a + b);`), reference: ADD_IO },
      { completion: js(`${read}\nconsole.log(a * b);`), reference: ADD_IO },
    ]);
    expect(ok!.score).toBe(1);
    expect(wrong!.details).toMatchObject({ statuses: [0, 0, 1], passed: 1, total: 3 });
    expect(wrong!.score).toBeCloseTo(1 / 3, 12);
    expect((wrong!.details!.failures as { stdout: string }[])[0]).toMatchObject({ test: 0, status: 0, reason: 'wrong answer', stdout: '2\n' });
  });
  it('all-or-nothing scoring stops at the first failure', async () => {
    const g = buildGrader(codeGrader, { ...SLOW, scoring: 'all' });
    const many = { tests: Array.from({ length: 6 }, (_, i) => ({ input: `${i}`, output: `${i}` })) };
    const [bad, good] = await gradeAll(g, [
      { completion: py('x = int(input())\nprint(x if x < 1 else -1)'), reference: many },
      { completion: py('print(input())'), reference: many },
    ]);
    expect(bad!.score).toBe(0);
    const st = bad!.details!.statuses as (number | null)[];
    expect(st[0]).toBe(1);
    expect(st).toContain(0);
    expect(st).toContain(null); // not all cases ran
    expect(good!.score).toBe(1);
  });
  it('reports compile errors (−4) once for every case, runtime errors (−2) with stderr', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [syntax, crash] = await gradeAll(g, [
      { completion: py('def main(:\n    pass'), reference: ADD_IO },
      { completion: py('a, b = map(int, input().split())\nprint(a // (b - b))'), reference: ADD_IO },
    ]);
    expect(syntax).toMatchObject({ score: 0, details: { statuses: [-4, -4, -4] } });
    expect((syntax!.details!.failures as { stderr: string }[])[0]!.stderr).toMatch(/SyntaxError/);
    expect(crash!.details!.statuses).toEqual([-2, -2, -2]);
    expect((crash!.details!.failures as { stderr: string; reason: string }[])[0]).toMatchObject({ reason: 'exited with code 1', stderr: expect.stringMatching(/ZeroDivisionError/) });
  });
  it('compares like a line checker, with an optional float tolerance', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { tests: [{ input: '', output: '1 2\n3\n' }] };
    expect(await scoreOne(g, py('print("  1   2 ")\nprint("3")\nprint()'), ref)).toBe(1);
    expect(await scoreOne(g, py('print("1 2 3")'), ref)).toBe(0);
    const third = { tests: [{ input: '', output: '0.333333333' }] };
    expect(await scoreOne(g, py('print(round(1/3, 7))'), third)).toBe(0);
    expect(await scoreOne(buildGrader(codeGrader, { ...SLOW, float_tolerance: 1e-6 }), py('print(round(1/3, 7))'), third)).toBe(1);
  });
  it('reads the program from the whole text without fences, and verl-style references', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [r] = await gradeAll(g, [{ completion: 'print(input() * 2)', reference: JSON.stringify({ inputs: ['ab\n'], outputs: ['abab\n'] }) }]);
    expect(r).toMatchObject({ score: 1, details: { source: 'whole_text' } });
  });
  it('null without usable tests; 0 for an empty program; rejects unknown params', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [none, bad, empty] = await gradeAll(g, [
      { completion: py('print(1)') },
      { completion: py('print(1)'), reference: { inputs: [[1]], outputs: [[1]], fn_name: 'not an identifier' } },
      { completion: 'I cannot solve this.\n```python\n\n```', reference: ADD_IO },
    ]);
    expect(none).toEqual({ score: null, details: { reason: 'no reference' } });
    expect(bad!.score).toBeNull();
    expect(bad!.details!.reason).toMatch(/fn_name/);
    expect(empty).toMatchObject({ score: 0, details: { statuses: [null, null, null], reason: 'no program in the completion' } });
    expect(() => buildGrader(codeGrader, { langauge: 'python' })).toThrow();
    expect(() => buildGrader(codeGrader, { language: 'ruby' })).toThrow();
  });
  it('runs a repeated program once per reference', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const c = py('import random\nprint(random.random())');
    const ref = { tests: [{ input: '', output: 'x' }] };
    const [a, b, other] = await gradeAll(g, [
      { completion: c, reference: ref },
      { completion: c, reference: JSON.parse(JSON.stringify(ref)) },
      { completion: c, reference: { tests: [{ input: '', output: 'y' }] } },
    ]);
    expect(a!.details!.cached).toBeUndefined();
    expect(b!.details!.cached).toBe(true);
    expect((b!.details!.failures as { stdout: string }[])[0]!.stdout).toBe((a!.details!.failures as { stdout: string }[])[0]!.stdout);
    expect(other!.details!.cached).toBeUndefined();
  });
});

describe('code grader: assertion blocks (HumanEval/MBPP style)', () => {
  const PY_ASSERT = { assert: 'assert add(2, 3) == 5\nassert add(-1, 1) == 0' };
  const JS_ASSERT = { assert: 'const assert = require("assert");\nassert.strictEqual(add(2, 3), 5);\nassert.strictEqual(add(-1, 1), 0);' };
  it('Python: passing, failing assertion (0), crash (−2)', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [ok, wrong, crash] = await gradeAll(g, [
      { completion: py('def add(a, b):\n    return a + b'), reference: PY_ASSERT },
      { completion: py('def add(a, b):\n    return a * b + 1'), reference: PY_ASSERT },
      { completion: py('def ad(a, b):\n    return a + b'), reference: PY_ASSERT },
    ]);
    expect(ok).toMatchObject({ score: 1, details: { statuses: [1] } });
    expect(wrong).toMatchObject({ score: 0, details: { statuses: [0] } });
    expect(crash).toMatchObject({ score: 0, details: { statuses: [-2] } });
    expect((crash!.details!.failures as { reason: string }[])[0]!.reason).toMatch(/NameError/);
  });
  it('JavaScript: passing and failing assertion', async () => {
    const g = buildGrader(codeGrader, { ...SLOW, language: 'javascript' });
    const [ok, wrong] = await gradeAll(g, [
      { completion: js('function add(a, b) { return a + b; }'), reference: JS_ASSERT },
      { completion: js('function add(a, b) { return a - b; }'), reference: JS_ASSERT },
    ]);
    expect(ok).toMatchObject({ score: 1, details: { statuses: [1] } });
    expect(wrong).toMatchObject({ score: 0, details: { statuses: [0] } });
  });
  it('a list of blocks gives one case each (fraction)', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { assert: ['assert f(1) == 1', 'assert f(2) == 4', 'assert f(3) == 9'] };
    expect(await scoreOne(g, py('def f(x):\n    return x * x if x < 3 else 0'), ref)).toBeCloseTo(2 / 3, 12);
  });
});

describe('code grader: harnessed tests (verl / APPS / HumanEval shapes)', () => {
  it('verl assert_case lists with an import_prefix (Skywork style)', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { assert_case: ['assert total([1, 2]) == 3', 'assert total([]) == 0', 'assert isinstance(total([1.5]), float)'], import_prefix: 'from typing import *\nimport math' };
    const [ok, wrong] = await gradeAll(g, [
      { completion: py('def total(xs: List[float]) -> float:\n    return math.fsum(xs) if any(isinstance(x, float) for x in xs) else sum(xs)'), reference: ref },
      { completion: py('def total(xs: List[int]) -> int:\n    return len(xs) * 1'), reference: ref },
    ]);
    expect(ok).toMatchObject({ score: 1, details: { statuses: [1, 1, 1] } });
    expect(wrong!.details!.statuses).toEqual([0, 1, 0]);
  });
  it('HumanEval / evalplus: check(candidate) with entry_point, as a JSON string ground truth', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const test = 'METADATA = {}\n\ndef check(candidate):\n    assert candidate([1, 2, 3]) == [3, 2, 1]\n    assert candidate([]) == []\n';
    const called = JSON.stringify({ prompt: 'def rev(xs):', entry_point: 'rev', assert_case: `${test}\ncheck(rev)` });
    const uncalled = { entry_point: 'rev', assert: test };
    const [a, b, wrong] = await gradeAll(g, [
      { completion: py('def rev(xs):\n    return xs[::-1]'), reference: called },
      { completion: py('def rev(xs):\n    out = list(xs)\n    out.reverse()\n    return out'), reference: uncalled },
      { completion: py('def rev(xs):\n    return sorted(xs)'), reference: uncalled },
    ]);
    expect(a!.score).toBe(1);
    expect(b!.score).toBe(1);
    expect(wrong).toMatchObject({ score: 0, details: { statuses: [0] } });
  });
  it('Sandbox Fusion style: an assert_case per input, empty entries are stdin/stdout cases', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { inputs: ['', '3 4\n'], outputs: ['', '7\n'], assert_case: ['assert add(1, 2) == 3', ''] };
    const prog = 'import sys\ndata = sys.stdin.read().split()\nif data:\n    print(int(data[0]) + int(data[1]))\ndef add(a, b):\n    return a + b';
    const [r] = await gradeAll(g, [{ completion: py(prog), reference: ref }]);
    expect(r).toMatchObject({ score: 1, details: { statuses: [1, 1] } });
  });
  it('APPS/TACO call-based (fn_name with argument lists), LeetCode class Solution, tuples', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { fn_name: 'twoSum', inputs: [[[2, 7, 11, 15], 9], [[3, 2, 4], 6]], outputs: [[[0, 1]], [[1, 2]]] };
    const solution = 'class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i';
    const [cls, fn, tuple, wrong] = await gradeAll(g, [
      { completion: py(solution), reference: ref },
      { completion: py('def twoSum(nums, target):\n    for i in range(len(nums)):\n        for j in range(i + 1, len(nums)):\n            if nums[i] + nums[j] == target:\n                return [i, j]'), reference: ref },
      { completion: py('def twoSum(nums, target):\n    return (0, 1) if nums[0] == 2 else (1, 2)\nif __name__ == "__main__":\n    print(twoSum(*eval(input())))'), reference: ref },
      { completion: py('def twoSum(nums, target):\n    return [0, 1]'), reference: ref },
    ]);
    expect(cls).toMatchObject({ score: 1, details: { statuses: [1, 1] } });
    expect(fn!.score).toBe(1);
    expect(tuple!.score).toBe(1);
    expect(wrong).toMatchObject({ score: 0.5, details: { statuses: [1, 0] } });
    expect((wrong!.details!.failures as { got: string }[])[0]!.got).toBe('[0,1]');
  });
  it('verl prime_code call-based (JSON-lines inputs, JSON outputs): big ints, floats, dict keys, strings', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = JSON.stringify({
      fn_name: 'solve',
      inputs: ['30', '"abc"\n2', '[1, 2]\n0.5', '{"1": 2}'],
      outputs: ['265252859812191058636308480000000', '"abcabc"', '[0.5, 1.0]', '{"1": 4}'],
    });
    const prog = [
      'def solve(*a):',
      '    if len(a) == 1 and isinstance(a[0], int):',
      '        return math.factorial(a[0])',
      '    if isinstance(a[0], str):',
      '        return a[0] * a[1]',
      '    if isinstance(a[0], list):',
      '        return [x * a[1] for x in a[0]]',
      '    return {int(k): v * 2 for k, v in a[0].items()}',
    ].join('\n');
    const [ok, off] = await gradeAll(g, [
      { completion: py(prog), reference: ref },
      { completion: py(prog.replace('math.factorial(a[0])', 'math.factorial(a[0]) + 1')), reference: ref },
    ]);
    expect(ok).toMatchObject({ score: 1, details: { statuses: [1, 1, 1, 1] } });
    expect(off!.details!.statuses).toEqual([0, 1, 1, 1]); // off by one beyond 2^53 is still wrong
  });
  it('JavaScript call-based tests and assertion blocks with classes', async () => {
    const g = buildGrader(codeGrader, { ...SLOW, language: 'javascript' });
    const [fn, cls, wrong] = await gradeAll(g, [
      { completion: js('function add(a, b) { return a + b; }'), reference: { fn_name: 'add', inputs: [[1, 2], [5, 5]], outputs: [3, [10]] } },
      { completion: js('class Solution { add(a, b) { return a + b; } }'), reference: { fn_name: 'add', inputs: [[1, 2]], outputs: [[3]] } },
      { completion: js('const add = (a, b) => String(a + b);'), reference: { fn_name: 'add', inputs: [[1, 2]], outputs: [[3]] } },
    ]);
    expect(fn!.score).toBe(1);
    expect(cls!.score).toBe(1);
    expect(wrong!.score).toBe(0);
  });
  it('JavaScript written as ES modules (static import/export) in the program and the test block', async () => {
    const g = buildGrader(codeGrader, { ...SLOW, language: 'javascript' });
    const ref = { assert: 'import assert from "assert";\nimport { deepStrictEqual as eq } from "node:assert";\nassert.strictEqual(add(2, 3), 5);\neq(new Solution().kinds(), ["function"]);' };
    const [ok, wrong] = await gradeAll(g, [
      { completion: js('import fs from "fs";\nexport function add(a, b) { return a + b; }\nexport default class Solution { kinds() { return [typeof fs.readFileSync]; } }'), reference: ref },
      { completion: js('export const add = (a, b) => a - b;\nexport class Solution { kinds() { return []; } }'), reference: ref },
    ]);
    expect(ok!.score).toBe(1);
    expect(wrong!.score).toBe(0);
  });
  it('a test the harness cannot run is null with an error (−1), never 0 or 1', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const [lambda, broken, jsFn] = await gradeAll(g, [
      { completion: py('def apply(f, x):\n    return f(x)'), reference: { assert: 'assert apply(lambda v: v + 1, 1) == 2' } },
      { completion: py('def f(x):\n    return x'), reference: { assert: 'assert f(1) == = 1' } },
    ]).then(async (r) => [...r, ...(await gradeAll(buildGrader(codeGrader, { ...SLOW, language: 'javascript' }), [
      { completion: js('function apply(f, x) { return f(x); }'), reference: { assert: 'require("assert").strictEqual(apply((v) => v + 1, 1), 2);' } },
    ]))]);
    for (const r of [lambda, broken, jsFn]) {
      expect(r!.score).toBeNull();
      expect((r!.details!.statuses as number[])[0]).toBe(-1);
      expect(r!.details!.error).toMatch(/cannot be judged/);
    }
    expect(lambda!.details!.error).toMatch(/function/);
    expect(broken!.details!.error).toMatch(/does not compile/);
  });
  it('compile errors (−4) and load errors (−2) in assertion mode; scoring: all stops early', async () => {
    const g = buildGrader(codeGrader, SLOW);
    const ref = { assert: ['assert f(1) == 1', 'assert f(2) == 2', 'assert f(3) == 3'] };
    const [syntax, load] = await gradeAll(g, [
      { completion: py('def f(x:\n    return x'), reference: ref },
      { completion: py('raise RuntimeError("at import")\ndef f(x):\n    return x'), reference: ref },
    ]);
    expect(syntax).toMatchObject({ score: 0, details: { statuses: [-4, -4, -4] } });
    expect(load!.details!.statuses).toEqual([-2, -2, -2]);
    expect((load!.details!.failures as { reason: string }[])[0]!.reason).toMatch(/RuntimeError/);
    const all = buildGrader(codeGrader, { ...SLOW, scoring: 'all' });
    const [partial] = await gradeAll(all, [{ completion: py('def f(x):\n    return 1'), reference: { assert: ['assert f(1) == 1', 'assert f(2) == 2', 'assert f(3) == 3', 'assert f(4) == 4'] } }]);
    expect(partial!.score).toBe(0);
    expect(partial!.details!.statuses as (number | null)[]).toContain(null);
  });
  it('a correct program killed from outside is an error (the pipeline records null), not 0', async () => {
    const g = buildGrader(codeGrader, SLOW);
    setSessionOpener(async (reqs) => {
      const sessions = await openSandboxes(reqs);
      const prog = sessions[0]!;
      setTimeout(() => {
        try {
          process.kill(-prog.pid!, 'SIGKILL'); // as the OOM killer would: the whole run, from the host
        } catch {
          /* already gone */
        }
      }, 1500);
      return sessions;
    });
    try {
      if (g.scope !== 'rollout') throw new Error('rollout grader');
      const sample = { id: 'k', completion: py('import time\ndef add(a, b):\n    time.sleep(10)\n    return a + b'), reference: { assert: 'assert add(1, 2) == 3' } };
      await expect(g.grade(toSample(sample as Rollout))).rejects.toThrow(/sandbox error.*outside/);
    } finally {
      setSessionOpener(null);
    }
  }, 120_000);
});

describe('code: the answer region', () => {
  const ref = { tests: [{ input: '2\n', output: '4\n' }] };
  const ok = '```python\nprint(int(input()) * 2)\n```';
  const wrong = '```python\nprint(0)\n```';
  it.skipIf(!sandboxSupport().ok)('reads the program from <answer>, not a draft inside <think>', async () => {
    const g = buildGrader(codeGrader, {});
    const [inAnswer, draftOnly, draftRight] = await gradeAll(g, [
      { completion: `<think>first try:\n${wrong}</think>\n<answer>\n${ok}\n</answer>`, reference: ref },
      { completion: `<think>${ok}</think>`, reference: ref },
      { completion: `<think>${ok}</think>\n<answer>\n${wrong}\n</answer>`, reference: ref },
    ]);
    expect(inAnswer!.score).toBe(1);
    expect(inAnswer!.details!.region).toBe('answer_tag');
    expect(draftOnly!.score).toBe(0); // the only program is in the reasoning: no answer
    expect(draftRight!.score).toBe(0);
  });
  it.skipIf(!sandboxSupport().ok)('answer: whole reads every block of the completion', async () => {
    const g = buildGrader(codeGrader, { answer: 'whole' });
    const [r] = await gradeAll(g, [{ completion: `<think>x</think>\n${ok}`, reference: ref }]);
    expect(r!.score).toBe(1);
  });
});
