/**
 * Many test cases per sandbox: the call-based cases of a program run in one program process
 * (`runCallCases`, as verl's prime_code), each call with its own time limit, compared outside.
 */
import { describe, expect, it } from 'vitest';
import { toSample } from '../../rollout/sample.js';
import type { Rollout } from '../../rollout/types.js';
import { asGraded, buildGrader } from '../harness.js';
import { codeGrader, runInSandbox, sandboxSupport, type RunResult } from './index.js';

const ok = sandboxSupport().ok;
const py = (src: string) => `\`\`\`python\n${src}\n\`\`\``;
const LIMITS = { timeoutMs: 2000, memoryMb: 256, maxProcesses: 4, maxOutputBytes: 64 << 10 };

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
    for (const t of tricks) {
      const r = await grade(t, REF);
      expect(r.score, t).toBe(0);
    }
  }, 120_000);

  it('a compile error is reported for every case, once', async () => {
    const r = await grade('def f(x:\n    return x', REF);
    expect(r.details!.statuses).toEqual([-4, -4, -4, -4]);
  }, 60_000);
});
