/**
 * The `python` grader with real sandboxed workers: OpenAI's grade(sample, item) semantics, per-call
 * errors (raise, hang, non-numbers) that leave the rest of the batch scored, a source that cannot
 * run, what the code can reach (host files, network, other workers), crashes and kills, and closing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGrader } from '../harness.js';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import type { Grader, RolloutGrader } from '../types.js';
import { configureSandbox, sandboxConfig, sandboxSupport } from '../code/sandbox.js';
import { warmPoolEnabled } from '../code/pool/warm.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { pythonGrader } from './index.js';
import { PythonPool } from './pool.js';
import { compileSpec } from '../../spec/compile.js';
import { parseSpecText } from '../../spec/load.js';
import { scoreBatch } from '../../pipeline.js';

const can = sandboxSupport().ok;
const T = 60_000;

type Out = { score: number | null; details?: Record<string, unknown> } | { error: string };

/** Grades all rollouts at once (one batch, as the pipeline does). */
async function gradeMany(g: Grader, rollouts: Partial<Rollout>[]): Promise<Out[]> {
  const rg = g as RolloutGrader;
  const settled = await Promise.allSettled(rollouts.map((r, i) => Promise.resolve(rg.grade(toSample({ id: `r${i}`, completion: '', ...r } as Rollout)))));
  return settled.map((s) => {
    if (s.status === 'rejected') return { error: (s.reason as Error).message };
    const v = s.value;
    return typeof v === 'number' || v === null ? { score: v } : (v as Out);
  });
}

function py(source: string, extra: Record<string, unknown> = {}): Grader {
  return buildGrader(pythonGrader, { source, workers: 2, ...extra });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!can)('python grader (real sandbox)', () => {
  it(
    'follows OpenAI semantics: sample.output_text / output_json, item = the rollout',
    async () => {
      const g = py(`
def grade(sample, item):
    mode = item.get("meta", {}).get("mode")
    if mode == "json":
        j = sample["output_json"]
        return -1.0 if j is None else float(j["score"])
    if mode == "fields":
        return float(item["id"] == "r2" and item["prompt"] == "p?" and item["group"] == "g")
    return 1.0 if sample["output_text"].strip() == str(item["reference"]) else 0.0
`);
      const out = await gradeMany(g, [
        { completion: ' 42', reference: 42 },
        { completion: '41', reference: 42 },
        { completion: 'x', prompt: 'p?', group: 'g', meta: { mode: 'fields' } },
        { completion: '{"score": 0.25}', meta: { mode: 'json' } },
        { completion: 'not json {', meta: { mode: 'json' } },
      ]);
      expect(out).toEqual([{ score: 1 }, { score: 0 }, { score: 1 }, { score: 0.25 }, { score: -1 }]);
      await g.close!();
    },
    T,
  );

  it(
    'a call that raises, hangs or returns a non-number is an error for that rollout; the rest is scored',
    async () => {
      const g = py(
        `
import math
def grade(sample, item):
    t = sample["output_text"]
    if t == "raise":
        return 1 / 0
    if t == "loop":
        while True:
            pass
    if t == "str":
        return "1.0"
    if t == "nan":
        return math.nan
    if t == "inf":
        return math.inf
    if t == "none":
        return None
    if t == "true":
        return True
    if t == "mem":
        return len(bytearray(1 << 30))
    return len(t)
`,
        { timeout_ms: 300, workers: 1, memory_mb: 256 },
      );
      const out = await gradeMany(g, ['ab', 'raise', 'abc', 'loop', 'str', 'nan', 'inf', 'none', 'true', 'mem', 'abcd'].map((completion) => ({ completion })));
      expect(out).toEqual([
        { score: 2 },
        { error: 'ZeroDivisionError: division by zero (<source>, line 6)' },
        { score: 3 },
        { error: 'grade timed out after 300 ms' },
        { error: "grade returned str '1.0', not a number" },
        { error: 'grade returned nan, not a finite number' },
        { error: 'grade returned inf, not a finite number' },
        { error: 'grade returned NoneType None, not a number' },
        { score: 1 },
        { error: 'MemoryError (<source>, line 21)' },
        { score: 4 },
      ]);
      await g.close!();
    },
    T,
  );

  it(
    'a hang the worker cannot interrupt (the timeout swallowed) kills the worker; the other calls are re-run and scored',
    async () => {
      const g = py(
        `
def grade(sample, item):
    if sample["output_text"] == "stubborn":
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    return 0.5
`,
        { timeout_ms: 200, workers: 1 },
      );
      const out = await gradeMany(g, ['a', 'stubborn', 'b', 'c'].map((completion) => ({ completion })));
      expect(out[0]).toEqual({ score: 0.5 });
      expect(out[1]).toEqual({ error: 'grade timed out after 200 ms (the worker did not answer; killed)' });
      expect(out.slice(2)).toEqual([{ score: 0.5 }, { score: 0.5 }]);
      // The pool recovers: a new worker answers.
      expect(await gradeMany(g, [{ completion: 'd' }])).toEqual([{ score: 0.5 }]);
      await g.close!();
    },
    T,
  );

  it(
    'a call that kills its worker is an error; the rest of its batch is re-run and scored',
    async () => {
      const g = py(`
import os
def grade(sample, item):
    if sample["output_text"] == "die":
        os._exit(3)
    return 1
`);
      const out = await gradeMany(g, ['a', 'b', 'die', 'c', 'd', 'e'].map((completion) => ({ completion })));
      expect(out.filter((o) => 'score' in o)).toHaveLength(5);
      expect(out[2]).toMatchObject({ error: expect.stringMatching(/^the python worker died while grading: runtime_error \(exited with code 3\)/) });
      await g.close!();
    },
    T,
  );

  it(
    'a worker killed from outside mid-batch: its calls are re-run (each alone) or error, never lost; the pool recovers',
    async () => {
      const pool = new PythonPool({ source: 'import time\ndef grade(s, i):\n    time.sleep(0.02)\n    return 1\n', filename: 'g.py', timeoutMs: 2000, memoryMb: 256, workers: 1, batchSize: 64, recycleAfter: 1e6 });
      let answered = 0;
      const calls = Array.from({ length: 40 }, (_, i) => pool.call(`t${i}`, { id: `r${i}` }).then((r) => (answered++, r)));
      // Wait for the worker to be up and answering (its first results are in), then kill its whole process group.
      for (let k = 0; k < 1000 && answered === 0; k++) await new Promise((r) => setTimeout(r, 10));
      expect(answered).toBeGreaterThan(0);
      expect(answered).toBeLessThan(40);
      const [pid] = pool.pids();
      process.kill(-pid!, 'SIGKILL');
      const res = await Promise.all(calls);
      expect(res).toHaveLength(40);
      for (const r of res) expect('score' in r ? r.score : r.error).toSatisfy((v: unknown) => v === 1 || (typeof v === 'string' && v.startsWith('the python worker died')));
      expect(res.filter((r) => 'score' in r).length).toBeGreaterThanOrEqual(39);
      expect(pool.started).toBeGreaterThanOrEqual(2);
      expect(await pool.call('again', {})).toEqual({ score: 1 });
      await pool.close();
      expect(alive(pid!)).toBe(false);
    },
    T,
  );

  it(
    'a source that does not compile, has no grade, or raises at load: a clear error on every rollout',
    async () => {
      const bad = py('def grade(sample, item)\n    return 1\n');
      expect(await gradeMany(bad, [{ completion: 'a' }, { completion: 'b' }])).toEqual([
        { error: "python grader source: SyntaxError: expected ':' (<source>, line 1)" },
        { error: "python grader source: SyntaxError: expected ':' (<source>, line 1)" },
      ]);
      await bad.close!();
      const none = py('def score(sample, item):\n    return 1\n');
      expect(await gradeMany(none, [{ completion: 'a' }])).toEqual([{ error: 'python grader source: the source defines no function grade(sample, item)' }]);
      await none.close!();
      const raises = py('import nosuchmodule_rk\ndef grade(s, i):\n    return 1\n');
      expect(await gradeMany(raises, [{ completion: 'a' }])).toEqual([
        { error: "python grader source: ModuleNotFoundError: No module named 'nosuchmodule_rk' (<source>, line 1)" },
      ]);
      await raises.close!();
    },
    T,
  );

  it(
    'cannot read host files, open sockets, or see other workers; print does not break the protocol',
    async () => {
      const g = py(
        `
import os, socket
def grade(sample, item):
    t = sample["output_text"]
    print("noise", t)
    if t == "passwd":
        return float(len(open("/etc/passwd").read()))
    if t == "work":
        return float(len(os.listdir("/work")))
    if t == "socket":
        s = socket.create_connection(("1.1.1.1", 80), timeout=1)
        return 1.0
    if t == "procs":
        return float(len([p for p in os.listdir("/proc") if p.isdigit()]))
    if t == "uid":
        return float(os.getuid())
    if t == "ls":
        return float(len(os.listdir("/")))
    return 0.0
`,
        { workers: 2 },
      );
      const out = await gradeMany(g, ['passwd', 'work', 'socket', 'procs'].map((completion) => ({ completion })));
      expect(out[0]).toMatchObject({ error: expect.stringMatching(/^FileNotFoundError: .*'\/etc\/passwd' \(<source>, line 7\)$/) });
      expect(out[1]).toMatchObject({ error: expect.stringMatching(/^FileNotFoundError: .*'\/work' \(<source>, line 9\)$/) });
      expect(out[2]).toMatchObject({ error: expect.stringMatching(/^OSError: \[Errno 101\] Network is unreachable \(<source>, line 11\)$/) });
      // Inside its pid namespace a worker sees only itself (and its hidden init is not listed by hidepid).
      expect(out[3]).toEqual({ score: 1 });
      // Two workers run under two different uids (neither can signal or read the other).
      const uids = new Set<number>();
      for (let k = 0; k < 20 && uids.size < 2; k++) {
        const us = await gradeMany(g, Array.from({ length: 64 }, () => ({ completion: 'uid' })));
        for (const u of us) if ('score' in u && u.score !== null) uids.add(u.score);
      }
      expect(uids.size).toBe(2);
      for (const u of uids) expect(u).toBeGreaterThanOrEqual(1_000_000);
      await g.close!();
    },
    T,
  );

  it(
    'module-level state persists within a worker (documented), until the worker is recycled',
    async () => {
      const g = py('n = 0\ndef grade(sample, item):\n    global n\n    n += 1\n    return n\n', { workers: 1, recycle_after: 3 });
      const a = await gradeMany(g, [{ completion: 'a' }, { completion: 'b' }, { completion: 'c' }]);
      expect(a).toEqual([{ score: 1 }, { score: 2 }, { score: 3 }]);
      // recycled after 3 calls: a fresh worker starts at 0 again
      expect(await gradeMany(g, [{ completion: 'd' }])).toEqual([{ score: 1 }]);
      await g.close!();
    },
    T,
  );

  it(
    'isolation: call — each call in a forked child: no state carries over, an exit or a stubborn hang ends only that call',
    async () => {
      const g = py(
        `
import os
n = 0
def grade(sample, item):
    global n
    n += 1
    t = sample["output_text"]
    if t == "exit":
        os._exit(4)
    if t == "stubborn":
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    if t == "forge":
        for fd in range(3, 64):
            try:
                os.write(fd, b'NaN')
            except OSError:
                pass
        os._exit(0)
    return n
`,
        { isolation: 'call', workers: 1, timeout_ms: 300 },
      ) as RolloutGrader & { pool: PythonPool; close(): Promise<void> };
      const out = await gradeMany(g, ['a', 'exit', 'b', 'stubborn', 'forge', 'c'].map((completion) => ({ completion })));
      expect(out).toEqual([
        { score: 1 },
        { error: 'grade ended its process (exit code 4)' },
        { score: 1 },
        { error: 'grade timed out after 300 ms' },
        // it can spoil only its own result (it holds no pipe to the parent)
        { error: 'the call wrote something else than its result on its result pipe' },
        { score: 1 },
      ]);
      expect(g.pool.started).toBe(1);
      await g.close!();
    },
    T,
  );

  it(
    'on_error: zero scores a failing call 0 with details.error',
    async () => {
      const g = py('def grade(s, i):\n    raise ValueError("no answer")\n', { on_error: 'zero' });
      expect(await gradeMany(g, [{ completion: 'a' }])).toEqual([{ score: 0, details: { error: 'ValueError: no answer (<source>, line 2)' } }]);
      await g.close!();
    },
    T,
  );

  it(
    'path: resolves against the spec directory; the spec closes its workers (no process left)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rk-py-'));
      writeFileSync(join(dir, 'grader.py'), 'def grade(sample, item):\n    x = float(sample["output_text"])\n    return x / 2\n');
      const spec = parseSpecText('name: t\ncomponents:\n  - {name: half, grader: python, path: ./grader.py, workers: 2}\n');
      const compiled = compileSpec(spec, { specDir: dir });
      const res = await scoreBatch(compiled, [
        { id: 'a', prompt: 'p', completion: '3' },
        { id: 'b', prompt: 'p', completion: 'x' },
      ]);
      expect(res.results[0]!.components.half).toBe(1.5);
      expect(res.results[1]!.components.half).toBeNull();
      expect(res.results[1]!.errors).toEqual([{ component: 'half', message: "ValueError: could not convert string to float: 'x' (grader.py, line 2)" }]);
      const g = compiled.graders[0] as RolloutGrader & { pool: PythonPool };
      const pids = g.pool.pids();
      expect(pids.length).toBeGreaterThan(0);
      expect(pids.every(alive)).toBe(true);
      await compiled.close();
      // A cold run's pid is its own sandbox, gone with it; a warm run's is its pool slot's worker,
      // which outlives the run by design and kills what the run left (pool/warm.test.ts).
      if (!warmPoolEnabled()) expect(pids.some(alive)).toBe(false);
      expect(g.pool.size).toBe(0);
      await expect(g.grade(toSample({ id: 'c', completion: '1' } as Rollout))).rejects.toThrow('the python grader is closed');
    },
    T,
  );

  // Not under /tmp: the sandbox mounts its own private /tmp over it.
  it.skipIf(!existsSync('/usr/bin/python3') || !existsSync('/var/tmp'))(
    "the interpreter is the sandbox's: a venv's own packages are importable",
    async () => {
      const dir = mkdtempSync(join('/var/tmp', 'rk-venv-'));
      chmodSync(dir, 0o755);
      execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', join(dir, 'venv')]);
      const lib = join(dir, 'venv', 'lib');
      const site = join(lib, readdirSync(lib)[0]!, 'site-packages');
      writeFileSync(join(site, 'rk_venv_probe.py'), 'VALUE = 7\n');
      const before = sandboxConfig().python;
      configureSandbox({ python: join(dir, 'venv', 'bin', 'python') });
      try {
        const g = py('import rk_venv_probe\ndef grade(s, i):\n    return rk_venv_probe.VALUE\n');
        expect(await gradeMany(g, [{ completion: 'a' }])).toEqual([{ score: 7 }]);
        await g.close!();
      } finally {
        configureSandbox({ python: before });
      }
      const plain = py('import rk_venv_probe\ndef grade(s, i):\n    return 1\n');
      expect(await gradeMany(plain, [{ completion: 'a' }])).toEqual([{ error: "python grader source: ModuleNotFoundError: No module named 'rk_venv_probe' (<source>, line 1)" }]);
      await plain.close!();
      rmSync(dir, { recursive: true, force: true });
    },
    T,
  );

  it('rejects specs giving both or neither of source/path, or an unreadable path', () => {
    expect(() => buildGrader(pythonGrader, {})).toThrow(/exactly one of source/);
    expect(() => buildGrader(pythonGrader, { source: 'x', path: 'y.py' })).toThrow(/exactly one of source/);
    expect(() => buildGrader(pythonGrader, { path: '/nonexistent/g.py' })).toThrow(/cannot read/);
  });
});
