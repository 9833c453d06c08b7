/**
 * Issue 11 ("Reward integrity") audit: what src/graders/code/hostile.test.ts, sandbox.test.ts and
 * languages.test.ts do not already cover, tried as a hostile policy would.
 *
 * - The issue's exit and harness tricks in the test modes where hostile.test.ts does not try them
 *   (call-based `fn_name` and stdin/stdout next to assert blocks) and variants of each (other hooks
 *   that end the run: `threading.excepthook`, `weakref.finalize`, `gc.callbacks`, `beforeExit`, a
 *   microtask exit, a locked `process.exitCode` …) → 0; correct programs in the same modes → 1.
 * - Every other `/run_code` language (c, cpp, java, go, rust, bash, typescript): the analogous exit
 *   tricks (`_exit(0)`, `atexit`, a signal or panic hook exiting 0, `System.exit(0)`, `os.Exit(0)`,
 *   `std::process::exit(0)`, `trap 'exit 0' EXIT`) judged as verl's Sandbox Fusion client judges a
 *   stdin/stdout case (status Success and the same stripped stdout) → fail; the correct program → pass;
 *   and none of them can open the host's files (the rollouts file with the expected output, /etc/passwd,
 *   /root, /home, /work, the project, /proc/1/root, /sys).
 * - A correct program whose run is killed from outside (the run's process group SIGKILLed on the host)
 *   in stdin/stdout and call-based mode → the component is null with an error, through the pipeline.
 * - Through the real CLI: a program that searches the host for the rollouts file scores 0; names like
 *   `__proto__` work as plain names in `spec check` and `score` (components and groups).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asGraded, buildGrader } from '../src/graders/harness.js';
import { codeGrader } from '../src/graders/code/index.js';
import { parseRunCodeRequest, runFusion, type RunCodeResponse } from '../src/graders/code/fusion.js';
import { sandboxSupport, toolchainAvailable, type SandboxLanguage } from '../src/graders/code/sandbox.js';
import { toSample } from '../src/rollout/sample.js';
import type { Rollout } from '../src/rollout/types.js';
import type { Graded } from '../src/graders/types.js';
import { compileSpec } from '../src/spec/compile.js';
import { parseSpec } from '../src/spec/load.js';
import { scoreBatch } from '../src/pipeline.js';
import { ROOT, rewardkit } from './cli.js';

const sandboxOk = sandboxSupport().ok;
if (!sandboxOk) console.log(`integrity_audit.test: sandbox tests skipped, ${sandboxSupport().reason}`);

const py = (src: string) => `\`\`\`python\n${src}\n\`\`\``;
const js = (src: string) => `\`\`\`javascript\n${src}\n\`\`\``;

const PY_ASSERT = { assert: ['assert add(2, 3) == 5', 'assert add(-1, 8) == 7'] };
const JS_ASSERT = { assert: ['const assert = require("assert");\nassert.strictEqual(add(2, 3), 5);', 'const assert = require("assert");\nassert.strictEqual(add(-1, 8), 7);'] };
const CALL_LISTS = { fn_name: 'add', inputs: [[2, 3], [-1, 8]], outputs: [5, 7] };
const CALL_JSONL = { fn_name: 'add', inputs: ['2\n3', '-1\n8'], outputs: ['5', '7'] };
const IO = { tests: [{ input: '2 3\n', output: '5\n' }, { input: '-1 8\n', output: '7\n' }] };

type Case = { completion: string; reference: unknown; language?: 'javascript' };
const P = (src: string, reference: unknown): Case => ({ completion: py(src), reference });
const J = (src: string, reference: unknown): Case => ({ completion: js(src), reference, language: 'javascript' });

/** Python: the issue's exit tricks and variants, in the modes hostile.test.ts leaves out. */
const PY_EXITS: Record<string, string> = {
  osExit: 'import os\ndef add(a, b):\n    os._exit(0)',
  sysExit: 'import sys\ndef add(a, b):\n    sys.exit(0)',
  raiseSystemExit: 'def add(a, b):\n    raise SystemExit',
  atexit: 'import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    raise ValueError("wrong")',
  excepthook: 'import sys, os\nsys.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    raise ValueError("wrong")',
  threadExit: 'import threading, os, time\ndef add(a, b):\n    threading.Thread(target=lambda: os._exit(0)).start()\n    time.sleep(2)\n    return 0',
  threadingExcepthook: 'import threading, os, time\nthreading.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    threading.Thread(target=lambda: 1 / 0).start()\n    time.sleep(2)\n    return 0',
  sigalrm: 'import signal, os, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\ndef add(a, b):\n    signal.setitimer(signal.ITIMER_REAL, 0.01)\n    time.sleep(2)\n    return 0',
  weakrefFinalize: 'import weakref, os\nclass O:\n    pass\ndef add(a, b):\n    o = O()\n    weakref.finalize(o, os._exit, 0)\n    del o\n    return 0',
  gcCallback: 'import gc, os\ngc.callbacks.append(lambda *a: os._exit(0))\ndef add(a, b):\n    gc.collect()\n    return 0',
  delExit: 'import os\nclass D:\n    def __del__(self):\n        os._exit(0)\ndef add(a, b):\n    D()\n    return 0',
  eqAlwaysTrue: 'class A:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n    __hash__ = object.__hash__\ndef add(a, b):\n    return A()',
  floatSubclassEq: 'class F(float):\n    def __eq__(self, o):\n        return True\n    __hash__ = float.__hash__\ndef add(a, b):\n    return F(0.5)',
  listSubclassEq: 'class L(list):\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return L([0])',
  readOwnFile: 'import re\ntry:\n    src = open(__file__).read()\nexcept Exception:\n    src = ""\ndef add(a, b):\n    m = re.search(r"add\\(%d, %d\\) == (-?\\d+)" % (a, b), src)\n    return int(m.group(1)) if m else 0',
  unittestNoop: 'import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\ndef add(a, b):\n    return 0',
};

/** Python stdin/stdout programs that end early or crash and force exit 0 (the right answer would be a + b). */
const PY_IO: Record<string, string> = {
  osExitBeforeOutput: 'import os\nos._exit(0)',
  sysExitBeforeOutput: 'import sys\nsys.exit(0)',
  atexitAfterCrash: 'import atexit, os\natexit.register(lambda: os._exit(0))\na, b = map(int, input().split())\nprint(a * b)\nraise ValueError',
  excepthookAfterCrash: 'import sys, os\nsys.excepthook = lambda *a: os._exit(0)\nprint(0)\nraise ValueError',
  threadExitEarly: 'import threading, os, time\nthreading.Thread(target=lambda: os._exit(0)).start()\ntime.sleep(2)\nprint(5)',
  sigalrmEarly: 'import signal, os, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\nsignal.setitimer(signal.ITIMER_REAL, 0.01)\ntime.sleep(2)\na, b = map(int, input().split())\nprint(a + b)',
  readOwnFile: 'print(open(__file__).read().count("add"))',
};

/** JavaScript variants, in every mode. */
const JS_EXITS: Record<string, string> = {
  processExit: 'function add(a, b) { process.exit(0); }',
  topReturn: 'return;\nfunction add(a, b) { return 0; }',
  uncaught: 'process.on("uncaughtException", () => process.exit(0));\nfunction add(a, b) { throw new Error("x"); }',
  exitListener: 'process.on("exit", () => { process.exitCode = 0; });\nfunction add(a, b) { throw new Error("x"); }',
  lockedExitCode: 'Object.defineProperty(process, "exitCode", { get: () => 0, set: () => {} });\nfunction add(a, b) { throw new Error("x"); }',
  unhandledRejection: 'process.on("unhandledRejection", () => process.exit(0));\nfunction add(a, b) { Promise.reject(new Error("x")); return new Promise(() => {}); }',
  beforeExit: 'process.on("beforeExit", () => process.exit(0));\nfunction add(a, b) { return new Promise(() => {}); }',
  microtaskExit: 'function add(a, b) { queueMicrotask(() => process.exit(0)); return 0; }',
  immediateExit: 'setImmediate(() => process.exit(0));\nfunction add(a, b) { return 0; }',
  ifFalse: 'function add(a, b) { return 0; }\nif (false)',
  whileFalse: 'function add(a, b) { return 0; }\nwhile (false)',
  patchAssert: 'const a = require("assert"); a.strictEqual = () => {}; a.deepStrictEqual = () => {}; a.equal = () => {};\nfunction add(a, b) { return 0; }',
  patchRequire: 'const M = require("module"); const r = M.prototype.require; M.prototype.require = function (n) { const m = r.apply(this, arguments); if (/assert/.test(n)) { m.strictEqual = () => {}; m.deepStrictEqual = () => {}; } return m; };\nfunction add(a, b) { return 0; }',
  protoPollution: 'Object.prototype.strictEqual = () => {}; Object.prototype.toJSON = function () { return 5; };\nfunction add(a, b) { return {}; }',
  toJSON: 'function add(a, b) { return { toJSON() { return a + b; }, valueOf() { return a + b; } }; }',
  readOwnFile: 'let s = ""; try { s = require("fs").readFileSync(__filename, "utf8"); } catch (e) {}\nfunction add(a, b) { const m = new RegExp("add\\\\(" + a + ", " + b + "\\\\), (-?\\\\d+)").exec(s); return m ? Number(m[1]) : 0; }',
};

/** JavaScript stdin/stdout programs that end early or crash and force exit 0. */
const JS_IO: Record<string, string> = {
  processExitBeforeOutput: 'process.exit(0);',
  topReturn: 'return;\nconsole.log(5);',
  exitListenerAfterCrash: 'process.on("exit", () => { process.exitCode = 0; });\nthrow new Error("x");',
  uncaughtAfterCrash: 'process.on("uncaughtException", () => process.exit(0));\nthrow new Error("x");',
  lockedExitCode: 'Object.defineProperty(process, "exitCode", { get: () => 0, set: () => {} });\nthrow new Error("x");',
};

function tricks(): Record<string, Case> {
  const out: Record<string, Case> = {};
  for (const [n, src] of Object.entries(PY_EXITS)) {
    out[`py/assert/${n}`] = P(src, PY_ASSERT);
    if (n !== 'unittestNoop') {
      out[`py/call-lists/${n}`] = P(src, CALL_LISTS);
      out[`py/call-jsonl/${n}`] = P(src, CALL_JSONL);
    }
  }
  for (const [n, src] of Object.entries(PY_IO)) out[`py/io/${n}`] = P(src, IO);
  for (const [n, src] of Object.entries(JS_EXITS)) {
    out[`js/assert/${n}`] = J(src, JS_ASSERT);
    out[`js/call/${n}`] = J(src, CALL_LISTS);
  }
  for (const [n, src] of Object.entries(JS_IO)) out[`js/io/${n}`] = J(src, IO);
  return out;
}

const CORRECT: Record<string, Case> = {
  'py/assert': P('def add(a, b):\n    return a + b', PY_ASSERT),
  'py/call-lists': P('def add(a, b):\n    return a + b', CALL_LISTS),
  'py/call-jsonl': P('def add(a, b):\n    return a + b', CALL_JSONL),
  'py/io': P('a, b = map(int, input().split())\nprint(a + b)', IO),
  'py/io-atexit-benign': P('import atexit\natexit.register(lambda: None)\na, b = map(int, input().split())\nprint(a + b)', IO),
  'js/assert': J('function add(a, b) { return a + b; }', JS_ASSERT),
  'js/call': J('const add = (a, b) => a + b;', CALL_LISTS),
  'js/io': J('const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);', IO),
};

describe.skipIf(!sandboxOk)('issue 11: exit and harness tricks in every test mode (Python, JavaScript)', () => {
  const results: Record<string, Graded> = {};
  const all = { ...tricks(), ...CORRECT };
  beforeAll(async () => {
    const opts = { timeout: 5, memory_mb: 256, max_processes: 4, max_output_kb: 256 };
    const graders = { python: buildGrader(codeGrader, opts), javascript: buildGrader(codeGrader, { ...opts, language: 'javascript' }) };
    await Promise.all(
      Object.entries(all).map(async ([name, c]) => {
        const g = graders[c.language ?? 'python'];
        if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
        results[name] = asGraded(await g.grade(toSample({ id: name, completion: c.completion, reference: c.reference } as Rollout)));
      }),
    );
  }, 900_000);

  it(`every trick scores 0 (${Object.keys(tricks()).length} programs)`, () => {
    const paid = Object.keys(tricks()).filter((n) => results[n]!.score !== 0);
    expect(paid.map((n) => [n, results[n]!.score, JSON.stringify(results[n]!.details).slice(0, 300)])).toEqual([]);
  });
  it('every correct program scores 1', () => {
    const failed = Object.keys(CORRECT).filter((n) => results[n]!.score !== 1);
    expect(failed.map((n) => [n, results[n]!.score, JSON.stringify(results[n]!.details).slice(0, 300)])).toEqual([]);
  });
  it('an early exit in a call-based test is a runtime error (−2), never a pass', () => {
    for (const n of ['py/call-lists/osExit', 'py/call-jsonl/sysExit', 'js/call/processExit', 'js/call/uncaught', 'js/call/exitListener'])
      expect((results[n]!.details!.statuses as number[])[0], n).toBe(-2);
  });
});

// ---------------------------------------------------------------------------------------------------
// OPEN hole (inside src/graders/code/harness/): the function under test need not be the program's
// ---------------------------------------------------------------------------------------------------

/**
 * A program that defines nothing passes when the test's function name is also a name the harness
 * itself provides: call-based tests look `fn_name` up in a namespace that also holds verl's import
 * prefix (`from math import *`, `from operator import *` …, harness/python.ts VERL_PY_PREFIX) and the
 * builtins (JavaScript: globalThis), and assertion blocks resolve names through the dataset's
 * `import_prefix` (and HumanEval's `entry_point`) when the program does not define them. So `pass`
 * earns 1 on a TACO/APPS row whose fn_name is `gcd`, `factorial`, `comb`, `lcm`, `add`, `sorted`, `max`
 * …, and `const x = 1;` on `parseInt`/`isNaN`. verl's prime_code behaves the same (getattr on the
 * module after its import prefix), but a policy that learns to answer such rows with an empty program
 * is rewarded for not doing the task.
 *
 * Fix (harness/python.ts, harness/javascript.ts, harness/index.ts): resolve `fn_name` / `entry_point` /
 * the block's free names only among the names the program's own code binds — Python: snapshot the
 * module globals after the prefix ran and accept a name only if the program (re)bound it (`def`,
 * `class`, assignment or its own `import`, which stays legitimate); JavaScript: only the program's own
 * top-level declarations (its scope), never globalThis — and report "the program does not define
 * `fn`" as a runtime error (−2, score 0), as a missing function is today when no library has the name.
 */
const NOT_DEFINED: Record<string, Case> = {
  'py/call-lists/gcd': P('pass', { fn_name: 'gcd', inputs: [[12, 18]], outputs: [6] }),
  'py/call-lists/add': P('pass', { fn_name: 'add', inputs: [[2, 3]], outputs: [5] }),
  'py/call-jsonl/comb': P('pass', { fn_name: 'comb', inputs: ['5\n2'], outputs: ['10'] }),
  'py/call-lists/sorted': P('x = 1', { fn_name: 'sorted', inputs: [[[3, 1, 2]]], outputs: [[1, 2, 3]] }),
  'py/assert/import_prefix': P('pass', { assert: 'assert gcd(12, 18) == 6', import_prefix: 'from math import *' }),
  'py/humaneval/entry_point': P('pass', { assert_case: 'def check(candidate):\n    assert candidate(12, 18) == 6\n', entry_point: 'gcd', import_prefix: 'from math import *' }),
  'js/call/parseInt': J('const x = 1;', { fn_name: 'parseInt', inputs: [['12']], outputs: [12] }),
  'js/call/isNaN': J('const x = 1;', { fn_name: 'isNaN', inputs: [['x']], outputs: [true] }),
};

describe.skipIf(!sandboxOk)('issue 11: a test function the program never defined', () => {
  const results: Record<string, Graded> = {};
  beforeAll(async () => {
    const opts = { timeout: 5, memory_mb: 256, max_processes: 4, max_output_kb: 256 };
    const graders = { python: buildGrader(codeGrader, opts), javascript: buildGrader(codeGrader, { ...opts, language: 'javascript' }) };
    await Promise.all(
      Object.entries(NOT_DEFINED).map(async ([name, c]) => {
        const g = graders[c.language ?? 'python'];
        if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
        results[name] = asGraded(await g.grade(toSample({ id: name, completion: c.completion, reference: c.reference } as Rollout)));
      }),
    );
  }, 300_000);

  it('a program that defines nothing scores 0 whatever the function is called', () => {
    const paid = Object.keys(NOT_DEFINED).filter((n) => results[n]!.score !== 0);
    expect(paid).toEqual([]);
  });
  it('a program that binds the function itself is a correct program and keeps its 1 (import, star import, alias, runtime definition, Solution class, JS declaration)', async () => {
    const g = buildGrader(codeGrader, { timeout: 5 });
    const gj = buildGrader(codeGrader, { timeout: 5, language: 'javascript' });
    if (g.scope !== 'rollout' || gj.scope !== 'rollout') throw new Error('code is a rollout grader');
    const ref = { fn_name: 'gcd', inputs: [[12, 18]], outputs: [6] };
    const prefixed = { assert: 'assert gcd(12, 18) == 6', import_prefix: 'from math import *' };
    const cases: [typeof g, string, unknown][] = [
      [g, py('from math import gcd'), ref],
      [g, py('from math import *'), ref],
      [g, py('import math\ngcd = math.gcd'), ref],
      [g, py('import math\nglobals()["gcd"] = lambda a, b: math.gcd(a, b)'), ref],
      [g, py('class Solution:\n    def gcd(self, a, b):\n        while b:\n            a, b = b, a % b\n        return a'), ref],
      [g, py('def gcd(a, b):\n    return a if b == 0 else gcd(b, a % b)'), prefixed],
      [g, py('from math import gcd'), prefixed],
      [g, py('def gcd(a, b):\n    return a if b == 0 else gcd(b, a % b)'), { assert_case: 'def check(candidate):\n    assert candidate(12, 18) == 6\n', entry_point: 'gcd', import_prefix: 'from math import *' }],
      [gj, '```javascript\nfunction parseInt(s) { return Number(s); }\n```', { fn_name: 'parseInt', inputs: [['12']], outputs: [12] }],
    ];
    const got = await Promise.all(cases.map(async ([gr, completion, reference], i) => asGraded(await (gr as typeof g & { scope: 'rollout' }).grade(toSample({ id: `own${i}`, completion, reference } as Rollout))).score));
    expect(got).toEqual(cases.map(() => 1));
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------
// /run_code languages other than Python and JavaScript
// ---------------------------------------------------------------------------------------------------

/** verl's Sandbox Fusion client on a stdin/stdout case: the run succeeded and its stripped stdout equals the expected output. */
function verlPasses(r: RunCodeResponse, expected: string): boolean {
  return r.status === 'Success' && r.run_result !== null && (r.run_result.stdout ?? '').trim() === expected.trim();
}

const tag = randomBytes(6).toString('hex');
/** A world-readable rollouts file holding the expected output, in a world-readable host folder outside /tmp, and one in /tmp. */
const leakDirs = [join(ROOT, `.rk-audit-${tag}`), join(tmpdir(), `rk-audit-${tag}`)];
const leakFiles = leakDirs.map((d) => join(d, 'rollouts.jsonl'));
const SECRET_OUTPUT = `expected-${tag}`;
/** Files and folders a sealed program must not open. */
const HOST_FILES = ['/etc/passwd', '/etc/shadow', '/proc/1/root/etc/passwd', '/proc/1/environ', '/root/.bashrc', join(ROOT, 'package.json'), ...leakFiles];
const HOST_DIRS = ['/home', '/root', '/work', '/sys', '/proc/1/root', '/var', '/srv', '/opt', ROOT, join(ROOT, 'examples'), ...leakDirs];
/** What the probes try: one file and one folder a sealed program may open (/dev/null, its own /tmp) as a control, then the host's. */
const PROBE_FILES = ['/dev/null', ...HOST_FILES];
const PROBE_DIRS = ['/tmp', ...HOST_DIRS];

interface LangCase {
  name: string;
  sandbox: SandboxLanguage;
  correct: string;
  tricks: Record<string, string>;
  /** Prints `opened=N`: how many of PROBE_FILES it could open and of PROBE_DIRS it could list (2: the controls only). */
  probe: string;
}

const cList = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');
const C_PROBE = `#include <stdio.h>
#include <dirent.h>
int main(void) {
  const char *files[] = {${cList(PROBE_FILES)}};
  const char *dirs[] = {${cList(PROBE_DIRS)}};
  int n = 0;
  for (unsigned i = 0; i < sizeof files / sizeof *files; i++) { FILE *f = fopen(files[i], "r"); if (f) { n++; fclose(f); } }
  for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) { DIR *d = opendir(dirs[i]); if (d) { n++; closedir(d); } }
  printf("opened=%d\\n", n);
  return 0;
}
`;

const LANGS: LangCase[] = [
  {
    name: 'c',
    sandbox: 'c',
    correct: '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); return 0; }',
    tricks: {
      _exit: '#include <unistd.h>\nint main(void) { _exit(0); }',
      atexit: '#include <stdlib.h>\n#include <unistd.h>\nstatic void h(void) { _exit(0); }\nint main(void) { atexit(h); exit(3); }',
      segvHandler: '#include <signal.h>\n#include <unistd.h>\nstatic void h(int s) { (void)s; _exit(0); }\nint main(void) { signal(SIGSEGV, h); volatile int *p = 0; return *p; }',
      abortHandler: '#include <signal.h>\n#include <stdlib.h>\n#include <unistd.h>\nstatic void h(int s) { (void)s; _exit(0); }\nint main(void) { signal(SIGABRT, h); abort(); }',
    },
    probe: C_PROBE,
  },
  {
    name: 'cpp',
    sandbox: 'cpp',
    correct: '#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }',
    tricks: {
      quickExit: '#include <cstdlib>\nint main() { std::quick_exit(0); }',
      terminateHandler: '#include <exception>\n#include <cstdlib>\nint main() { std::set_terminate([] { std::_Exit(0); }); throw 1; }',
    },
    probe: C_PROBE,
  },
  {
    name: 'java',
    sandbox: 'java',
    correct: 'import java.util.*;\npublic class Main { public static void main(String[] x) { Scanner s = new Scanner(System.in); long a = s.nextLong(), b = s.nextLong(); System.out.println(a + b); } }',
    tricks: {
      systemExit: 'public class Main { public static void main(String[] x) { System.exit(0); } }',
      halt: 'public class Main { public static void main(String[] x) { Runtime.getRuntime().halt(0); } }',
      uncaughtHandler: 'public class Main { public static void main(String[] x) { Thread.setDefaultUncaughtExceptionHandler((t, e) -> Runtime.getRuntime().halt(0)); throw new RuntimeException("wrong"); } }',
      shutdownHook: 'public class Main { public static void main(String[] x) { Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0))); System.exit(3); } }',
    },
    probe: `import java.io.*;\npublic class Main { public static void main(String[] x) { String[] files = {${cList(PROBE_FILES)}}; String[] dirs = {${cList(PROBE_DIRS)}}; int n = 0; for (String f : files) { try (FileInputStream in = new FileInputStream(f)) { n++; } catch (Exception e) {} } for (String d : dirs) { if (new File(d).list() != null) n++; } System.out.println("opened=" + n); } }`,
  },
  {
    name: 'go',
    sandbox: 'go',
    correct: 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); fmt.Println(a + b) }',
    tricks: {
      osExit: 'package main\nimport "os"\nfunc main() { os.Exit(0) }',
      recoverExit: 'package main\nimport "os"\nfunc main() { defer func() { recover(); os.Exit(0) }(); var m map[string]int; m["x"] = 1 }',
    },
    probe: `package main\nimport ("fmt"; "os")\nfunc main() { n := 0; for _, f := range []string{${cList(PROBE_FILES)}} { if h, err := os.Open(f); err == nil { n++; h.Close() } }; for _, d := range []string{${cList(PROBE_DIRS)}} { if _, err := os.ReadDir(d); err == nil { n++ } }; fmt.Printf("opened=%d\\n", n) }`,
  },
  {
    name: 'rust',
    sandbox: 'rust',
    correct: 'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }',
    tricks: {
      processExit: 'fn main() { std::process::exit(0); }',
      panicHook: 'fn main() { std::panic::set_hook(Box::new(|_| std::process::exit(0))); panic!("wrong"); }',
    },
    probe: `fn main() { let mut n = 0; for f in [${cList(PROBE_FILES)}] { if std::fs::File::open(f).is_ok() { n += 1; } } for d in [${cList(PROBE_DIRS)}] { if std::fs::read_dir(d).is_ok() { n += 1; } } println!("opened={}", n); }`,
  },
  {
    name: 'bash',
    sandbox: 'bash',
    correct: 'read a b\necho $((a + b))',
    tricks: {
      exit0: 'exit 0',
      trapExit: "trap 'exit 0' EXIT\nfalse\nexit 1",
      errTrap: "set -e\ntrap 'exit 0' ERR\nfalse",
    },
    probe: `n=0\nfor f in ${PROBE_FILES.map((f) => `'${f}'`).join(' ')}; do cat "$f" >/dev/null 2>&1 && n=$((n+1)); done\nfor d in ${PROBE_DIRS.map((d) => `'${d}'`).join(' ')}; do ls "$d" >/dev/null 2>&1 && n=$((n+1)); done\necho "opened=$n"`,
  },
  {
    name: 'typescript',
    sandbox: 'javascript',
    correct: 'const [a, b]: number[] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
    tricks: {
      processExit: 'const code: number = 0;\nprocess.exit(code);',
      exitListener: 'process.on("exit", (): void => { process.exitCode = 0; });\nthrow new Error("wrong");',
    },
    probe: `const fs = require("fs"); let n: number = 0;\nfor (const f of [${cList(PROBE_FILES)}]) { try { fs.closeSync(fs.openSync(f, "r")); n++; } catch (e) {} }\nfor (const d of [${cList(PROBE_DIRS)}]) { try { fs.readdirSync(d); n++; } catch (e) {} }\nconsole.log("opened=" + n);`,
  },
  {
    name: 'python',
    sandbox: 'python',
    correct: 'a, b = map(int, input().split())\nprint(a + b)',
    tricks: {},
    probe: `import os\nn = 0\nfor f in [${cList(PROBE_FILES)}]:\n    try:\n        open(f).close(); n += 1\n    except OSError:\n        pass\nfor d in [${cList(PROBE_DIRS)}]:\n    try:\n        os.listdir(d); n += 1\n    except OSError:\n        pass\nprint(f"opened={n}")`,
  },
  {
    name: 'nodejs',
    sandbox: 'javascript',
    correct: 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
    tricks: {},
    probe: `const fs = require("fs"); let n = 0;\nfor (const f of [${cList(PROBE_FILES)}]) { try { fs.closeSync(fs.openSync(f, "r")); n++; } catch (e) {} }\nfor (const d of [${cList(PROBE_DIRS)}]) { try { fs.readdirSync(d); n++; } catch (e) {} }\nconsole.log("opened=" + n);`,
  },
];

describe.skipIf(!sandboxOk)('issue 11: /run_code in every language — exit tricks fail a stdin/stdout case, the host stays invisible', () => {
  beforeAll(() => {
    for (const d of leakDirs) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    const row = JSON.stringify({ id: 'q', prompt: 'add', reference: { tests: [{ input: '2 3\n', output: SECRET_OUTPUT }] } });
    for (const f of leakFiles) {
      writeFileSync(f, `${row}\n`);
      chmodSync(f, 0o644);
    }
  });
  afterAll(() => {
    for (const d of leakDirs) rmSync(d, { recursive: true, force: true });
  });

  for (const lang of LANGS) {
    const tool = toolchainAvailable(lang.sandbox);
    if (!tool.ok) console.log(`integrity_audit.test: ${lang.name} skipped, ${tool.reason}`);
    it.skipIf(!tool.ok)(`${lang.name}: ${Object.keys(lang.tricks).length} exit tricks fail, the correct program passes, the host's files cannot be opened`, async () => {
      const run = (code: string, stdin = '2 3\n') => runFusion(parseRunCodeRequest({ code, language: lang.name, stdin, compile_timeout: 120, run_timeout: 10 }));
      const [correct, probe, ...tricked] = await Promise.all([run(lang.correct), run(lang.probe, ''), ...Object.values(lang.tricks).map((t) => run(t))]);
      expect(verlPasses(correct, '5'), JSON.stringify(correct).slice(0, 600)).toBe(true);
      const names = Object.keys(lang.tricks);
      const paid = tricked.map((r, i) => [names[i], verlPasses(r, '5'), r.status, r.run_result?.return_code, r.compile_result?.stderr?.slice(0, 200)] as const).filter((x) => x[1] || x[2] === 'SandboxError');
      expect(paid).toEqual([]);
      // Each trick really ran (compiled and ended), so "fails" is the verdict, not a compile error.
      for (const [i, r] of tricked.entries()) expect(r.run_result, `${names[i]}: ${JSON.stringify(r).slice(0, 300)}`).not.toBeNull();
      expect(probe.status, JSON.stringify(probe).slice(0, 600)).toBe('Success');
      expect((probe.run_result!.stdout ?? '').trim()).toBe('opened=2'); // /dev/null and /tmp: nothing of the host
    }, 600_000);
  }
});

// ---------------------------------------------------------------------------------------------------
// Killed from outside: null with an error, through the pipeline
// ---------------------------------------------------------------------------------------------------

/**
 * Polls the host's /proc for a process whose private /tmp holds `mark` (the program wrote it), then
 * SIGKILLs that run's process group — what the OOM killer or an operator would do to the run from outside.
 */
async function killRunMarked(mark: string, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 10; i++) {
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        readFileSync(`/proc/${p}/root/tmp/${mark}`);
      } catch {
        continue;
      }
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        process.kill(-pgid, 'SIGKILL');
        return true;
      } catch {
        /* gone meanwhile: keep looking */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe.skipIf(!sandboxOk)('issue 11: a correct program killed from outside is null with an error, not 0', () => {
  const modes: Record<string, { src: (mark: string) => string; reference: unknown }> = {
    'stdin/stdout': { src: (m) => `open("/tmp/${m}", "w").write("x")\nimport time\ntime.sleep(8)\na, b = map(int, input().split())\nprint(a + b)`, reference: { tests: [{ input: '2 3\n', output: '5\n' }] } },
    'call-based': { src: (m) => `open("/tmp/${m}", "w").write("x")\nimport time\ndef add(a, b):\n    time.sleep(8)\n    return a + b`, reference: { fn_name: 'add', inputs: [[2, 3]], outputs: [5] } },
    assert: { src: (m) => `open("/tmp/${m}", "w").write("x")\nimport time\ndef add(a, b):\n    time.sleep(8)\n    return a + b`, reference: { assert: 'assert add(2, 3) == 5' } },
  };
  for (const [mode, m] of Object.entries(modes)) {
    it(`${mode}: the run's process group SIGKILLed on the host → reward null, an error naming the sandbox`, async () => {
      const compiled = compileSpec(parseSpec({ name: 'killed', components: [{ name: 'tests', grader: 'code', timeout: 20 }] }, 'spec'));
      try {
        const mark = `rk-kill-${randomBytes(5).toString('hex')}`;
        const scoring = scoreBatch(compiled, [{ id: 'k', completion: py(m.src(mark)), reference: m.reference } as Rollout]);
        expect(await killRunMarked(mark, 60)).toBe(true);
        const { results } = await scoring;
        expect(results[0]!.reward).toBeNull();
        expect(results[0]!.components.tests).toBeNull();
        expect(results[0]!.errors?.[0]?.message).toMatch(/sandbox/i);
      } finally {
        await compiled.close();
      }
    }, 120_000);
  }

  // Deliberate: a SIGKILL sent from the host to the program's own process (not its process group) looks
  // exactly like a program that SIGKILLs itself (from a child, a sibling, `kill(0)`, an fcntl F_SETSIG or
  // a POSIX timer), which must count as the program's runtime error — else a failing program could turn
  // its 0 into "cannot judge" (null, advantage 0, which pays more than a wrong answer in a group with
  // right answers). The README states it. The kernel OOM killer is told apart by /proc/vmstat's oom_kill
  // counter and a kill of the run's process group by the init's death; a stray `kill -9 <pid>` is not.
  it('a host SIGKILL of the program process alone (not its group) counts as the program\'s own: 0, never null', async () => {
    const compiled = compileSpec(parseSpec({ name: 'killed1', components: [{ name: 'tests', grader: 'code', timeout: 20 }] }, 'spec'));
    try {
      const mark = `rk-kill1-${randomBytes(5).toString('hex')}`;
      const src = `import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(8); print(5)", "${mark}"])`;
      const scoring = scoreBatch(compiled, [{ id: 'k', completion: py(src), reference: { tests: [{ input: '', output: '5' }] } } as Rollout]);
      let killed = false;
      for (let i = 0; i < 600 && !killed; i++) {
        for (const p of readdirSync('/proc'))
          try {
            if (/^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(mark)) {
              process.kill(Number(p), 'SIGKILL');
              killed = true;
            }
          } catch {
            /* gone */
          }
        if (!killed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(killed).toBe(true);
      const { results } = await scoring;
      expect(results[0]!.reward).toBe(0); // a runtime error ("killed by SIGKILL"), as a self-kill
    } finally {
      await compiled.close();
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------
// Through the real CLI
// ---------------------------------------------------------------------------------------------------

describe('issue 11 through the CLI (bin/rewardkit.js)', () => {
  const dir = join(tmpdir(), `rk-audit-cli-${tag}`);
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!sandboxOk)('score: a program that searches the host for the rollouts file (world-readable, its own test inside) scores 0; the correct one 1', () => {
    const spec = join(dir, 'code.yaml');
    writeFileSync(spec, 'name: code-audit\ncomponents:\n  - {name: tests, grader: code, timeout: 10}\n');
    const search = [
      'import glob, json, os',
      'out = "none"',
      `for p in glob.glob(${JSON.stringify(dir)} + "/*.jsonl") + glob.glob("/tmp/*/*.jsonl") + glob.glob("/work/**/*.jsonl", recursive=True) + glob.glob("/proc/1/root/tmp/*/*.jsonl"):`,
      '    try:',
      '        for line in open(p):',
      '            r = json.loads(line)',
      '            if r.get("id") == "hostile":',
      '                out = r["reference"]["tests"][0]["output"]',
      '    except Exception:',
      '        pass',
      'print(out)',
    ].join('\n');
    const rows = [
      { id: 'hostile', completion: py(search), reference: { tests: [{ input: '2 3\n', output: `found-${tag}` }] } },
      { id: 'correct', completion: py('a, b = map(int, input().split())\nprint(a + b)'), reference: { tests: [{ input: '2 3\n', output: '5' }] } },
    ];
    const input = join(dir, 'rollouts.jsonl');
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    chmodSync(input, 0o644);
    const r = rewardkit(['score', '--spec', spec, '--in', input, '--out', '-', '--details']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; reward: number; details: { tests: { failures?: { stdout?: string }[] } } });
    expect(out.map((o) => [o.id, o.reward])).toEqual([['hostile', 0], ['correct', 1]]);
    expect(out[0]!.details.tests.failures?.[0]?.stdout).toBe('none\n');
  }, 120_000);

  it('spec check and score: components and groups named like prototype members are plain names; a __proto__ backend is a clear error', () => {
    const spec = join(dir, 'names.yaml');
    writeFileSync(
      spec,
      'name: __proto__\ncomponents:\n  - {name: __proto__, grader: exact}\n  - {name: constructor, grader: contains}\n  - {name: toString, grader: length, unit: chars, weight: 0}\n  - {name: hasOwnProperty, grader: exact}\ncombine:\n  type: hierarchical\n  levels:\n    - {constraints: {constructor: 1}, floor: -1}\n    - {rewards: [__proto__, toString, hasOwnProperty]}\nadvantage: {estimator: grpo}\n',
    );
    const check = rewardkit(['spec', 'check', spec]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/4 components \(__proto__, constructor, toString, hasOwnProperty\)/);
    const input = join(dir, 'names.jsonl');
    const rows = [
      { id: '__proto__', group: '__proto__', completion: '42', reference: '42' },
      { id: 'constructor', group: '__proto__', completion: '4', reference: '42' },
      { id: 'valueOf', group: 'toString', completion: '42', reference: '42' },
      { id: 'x', group: 'toString', completion: '7', reference: '42' },
    ];
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = rewardkit(['score', '--spec', spec, '--in', input, '--out', '-']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; reward: number; advantage: number; components: Record<string, number> });
    for (const o of out) expect(Object.keys(o.components)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(out.map((o) => o.id)).toEqual(['__proto__', 'constructor', 'valueOf', 'x']);
    expect(out.map((o) => o.reward)).toEqual([2, -1, 2, -1]); // __proto__ 1 + toString 2 × weight 0 + hasOwnProperty 1; the constructor level floors the wrong ones
    expect(out[0]!.advantage).toBeGreaterThan(0);
    expect(out[1]!.advantage).toBeLessThan(0);

    const backend = join(dir, 'backend.yaml');
    writeFileSync(backend, 'name: b\nbackends:\n  __proto__: {type: openai, base_url: "http://127.0.0.1:9/v1", model: m}\ncomponents:\n  - {name: q, grader: judge, backend: __proto__, mode: scale}\n');
    const bad = rewardkit(['spec', 'check', backend]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/backends\.__proto__: a `__proto__` key is not allowed/);
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'name: u\nbackends:\n  constructor: {type: openai, base_url: "http://127.0.0.1:9/v1", model: m}\ncomponents:\n  - {name: q, grader: judge, backend: toString, mode: scale}\n');
    const u = rewardkit(['spec', 'check', unknown]);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/components\[0\]\.backend: unknown backend "toString"/);
  });
});
