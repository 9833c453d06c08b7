import * as z from 'zod';
import { defineGrader } from '../types.js';
import { answerParam, answerRegion, regionDetails, resolveAnswerRegion } from '../answer.js';
import { outputsMatch } from './compare.js';
import { extractCode } from './extract.js';
import { parseJsonExact, runAssertCase, runAssertCases, runCallCase, runCallCases, runIoCases, VERL_PY_PREFIX, type CallCase, type CaseOutcome } from './harness/index.js';
import { remoteRunnerActive, runInSandbox, sandboxConfig, type RunResult, type SandboxLimits } from './sandbox.js';

export { runInSandbox, runProgram, programToRun, openSandboxes, configureSandbox, sandboxConfig, sandboxSupport, toolchainAvailable, DEFAULT_LIMITS, DEFAULT_COMPILE_LIMITS, SANDBOX_LANGUAGES, COMPILED_LANGUAGES } from './sandbox.js';
export { setWarmPool, stopWarmPools, warmPoolEnabled } from './pool/warm.js';
export type { ProgramRequest, ProgramResult, RunRequest, RunResult, RunStatus, SandboxConfig, SandboxLanguage, SandboxLimits, SandboxSession, SessionRequest } from './sandbox.js';
export { extractCode, fencedBlocks, type ExtractedCode } from './extract.js';
export { outputsMatch, type CompareOptions } from './compare.js';
export { runAssertCase, runAssertCases, runCallCase, runCallCases, setSessionOpener, resultMatches, parseJsonExact, decodeValue } from './harness/index.js';
export type { CallCase, CaseOutcome, OpenSessions, ProcessRequest, ProcessSession } from './harness/index.js';
export { FUSION_LANGUAGES, FUSION_RUNNERS, FusionRequestError, parseRunCodeRequest, runFusion, toFusionResponse, transpileTypeScript } from './fusion.js';
export type { CommandRunResult, RunCodeRequest, RunCodeResponse } from './fusion.js';

/** One stdin/stdout case. */
export interface IoTest {
  input: string;
  output: string;
}

/**
 * One test of a reference: a stdin/stdout case, an assertion block (run by the harness), or a call
 * of a named function (APPS/TACO/verl `prime_code` `fn_name`) whose result must equal `expected`.
 */
export type CodeCase =
  | { kind: 'io'; input: string; output: string }
  | { kind: 'assert'; block: string }
  | { kind: 'call'; fn: string; args: string[]; expected: unknown };

/**
 * What a rollout's reference asks for. `kind` is the kind shared by every case (`mixed` when a verl
 * `assert_case` list mixes blocks and stdin/stdout cases); `tests`/`blocks` are kept for callers of
 * the older shape. `prefix` (a dataset's `import_prefix`) runs before the program and before each
 * assertion block.
 */
export type CodeTests = {
  kind: 'io' | 'assert' | 'call' | 'mixed';
  cases: CodeCase[];
  prefix?: string;
  /** HumanEval-style `prompt` + `entry_point`: the prompt's helpers are run by the harness itself. */
  trusted?: { prelude: string; entryPoint: string };
  tests?: IoTest[];
  blocks?: string[];
};

/**
 * verl's per-test status codes (`sandbox_fusion`/`prime_code`): 1 passed, 0 wrong answer (a failed
 * assertion, or the right exit with the wrong output), −1 cannot judge (the harness cannot run this
 * test: the component is null), −2 runtime error (also memory and output limits, a program that ends
 * before its test finished), −3 timeout (wall or CPU), −4 compile error; `null` = not run (after a
 * failure under `scoring: all`, or after a compile error, which every later case would repeat).
 */
export type TestStatus = 1 | 0 | -1 | -2 | -3 | -4 | null;

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join('\n');
  return null;
}

/** A HumanEval-style block defines `check(candidate)` and may leave the call to the grader. */
function withEntryPoint(block: string, entryPoint: unknown): string {
  if (typeof entryPoint !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(entryPoint)) return block;
  if (!/^(def|function)\s+check\s*\(/m.test(block) || /^check\s*\(/m.test(block)) return block;
  return `${block}\ncheck(${entryPoint})\n`;
}

function callCase(fn: string, input: unknown, output: unknown, i: number): CodeCase | { error: string } {
  let args: string[];
  let expected: unknown;
  if (typeof input === 'string') {
    // verl prime_code: one JSON value per line of text, the output a JSON text.
    args = input.split('\n').filter((l, k, all) => l.trim() !== '' || k < all.length - 1);
    for (const a of args) {
      try {
        parseJsonExact(a);
      } catch {
        return { error: `inputs[${i}] must be JSON lines (one argument per line) for call-based tests` };
      }
    }
    if (typeof output === 'string') {
      try {
        expected = parseJsonExact(output);
      } catch {
        return { error: `outputs[${i}] must be JSON text for call-based tests` };
      }
    } else expected = output;
  } else if (Array.isArray(input)) {
    // APPS/TACO: the argument list itself, the output a value (often wrapped in a one-element list).
    try {
      args = input.map((a) => JSON.stringify(a));
    } catch {
      return { error: `inputs[${i}] cannot be written as JSON` };
    }
    if (args.some((a) => a === undefined)) return { error: `inputs[${i}] holds a value JSON cannot carry` };
    expected = output;
  } else return { error: `inputs[${i}] must be a list of arguments or JSON lines for call-based tests` };
  return { kind: 'call', fn, args, expected };
}

function finish(cases: CodeCase[], prefix: string | undefined, r: Record<string, unknown> = {}): CodeTests {
  const kinds = new Set(cases.map((c) => c.kind));
  const kind = kinds.size === 1 ? cases[0]!.kind : 'mixed';
  const out: CodeTests = { kind, cases };
  if (prefix) out.prefix = prefix;
  if (typeof r.prompt === 'string' && r.prompt.trim() !== '' && typeof r.entry_point === 'string' && /^[A-Za-z_]\w*$/.test(r.entry_point) && cases.some((c) => c.kind === 'assert'))
    out.trusted = { prelude: r.prompt, entryPoint: r.entry_point };
  if (kind === 'io') out.tests = cases.map((c) => ({ input: (c as { input: string }).input, output: (c as { output: string }).output }));
  if (kind === 'assert') out.blocks = cases.map((c) => (c as { block: string }).block);
  return out;
}

/**
 * Reads the tests of a reference (or a JSON string of one):
 * - `{tests: [{input, output}]}` — stdin/stdout cases;
 * - `{inputs: [...], outputs: [...]}` — verl/APPS stdin/stdout cases; with `fn_name` they are
 *   call-based: `inputs[i]` is the argument list (APPS/TACO) or JSON text with one argument per line
 *   (verl `prime_code`), `outputs[i]` the expected result (JSON text when the inputs are text);
 *   an `assert_case` list of the same length (Sandbox Fusion style) turns case i into that assertion
 *   block when its entry is not empty;
 * - `{assert: "…"}` or `{assert_case: "…"}` — one assertion block, or a list of blocks, one test each;
 *   with `entry_point`, a block that defines `check(candidate)` without calling it gets
 *   `check(<entry_point>)` appended (HumanEval); `import_prefix` runs before program and blocks;
 *   `prompt` with `entry_point` becomes the harness's trusted prelude (its helpers are not the program's);
 * - `{input_output: …}` — an APPS/TACO row: the same, one level down (object or JSON string).
 * Returns an error sentence when the reference is not usable.
 */
export function parseCodeTests(reference: unknown, depth = 0): CodeTests | { error: string } {
  let ref = reference;
  if (typeof ref === 'string') {
    try {
      ref = JSON.parse(ref);
    } catch {
      return { error: 'reference is a string but not JSON; expected {tests: [...]}, {inputs, outputs[, fn_name]} or {assert: "..."}' };
    }
  }
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return { error: 'reference must be an object with `tests`, `inputs`/`outputs` or `assert`' };
  const r = ref as Record<string, unknown>;
  // APPS/TACO rows carry the tests as `input_output` (a JSON string of {inputs, outputs, fn_name}).
  if (r.input_output !== undefined && r.tests === undefined && r.inputs === undefined && r.assert === undefined && r.assert_case === undefined)
    return depth > 0 ? { error: '`input_output` nested in `input_output`' } : parseCodeTests(r.input_output, depth + 1);
  const prefix = r.import_prefix === undefined || r.import_prefix === null ? undefined : r.import_prefix;
  if (prefix !== undefined && typeof prefix !== 'string') return { error: '`import_prefix` must be text' };
  if (r.tests !== undefined) {
    if (!Array.isArray(r.tests) || r.tests.length === 0) return { error: '`tests` must be a non-empty list of {input, output}' };
    const cases: CodeCase[] = [];
    for (const [i, t] of r.tests.entries()) {
      if (t === null || typeof t !== 'object') return { error: `tests[${i}] must be an object {input, output}` };
      const tt = t as Record<string, unknown>;
      const input = tt.input === undefined || tt.input === null ? '' : text(tt.input);
      const output = text(tt.output);
      if (input === null || output === null) return { error: `tests[${i}] needs a text \`output\` (and an optional text \`input\`)` };
      cases.push({ kind: 'io', input, output });
    }
    return finish(cases, prefix);
  }
  const asserts = r.assert_case ?? r.assert;
  const hasIo = r.inputs !== undefined || r.outputs !== undefined;
  if (hasIo && (asserts === undefined || (Array.isArray(r.inputs) && r.inputs.length > 0))) {
    if (!Array.isArray(r.inputs) || !Array.isArray(r.outputs) || r.inputs.length !== r.outputs.length || r.inputs.length === 0)
      return { error: '`inputs` and `outputs` must be non-empty lists of the same length' };
    if (asserts !== undefined && (!Array.isArray(asserts) || asserts.length !== r.inputs.length || !asserts.every((a) => typeof a === 'string')))
      return { error: 'an `assert_case` next to `inputs` must be a list of strings, one per input' };
    const fn = r.fn_name;
    if (fn !== undefined && fn !== null && fn !== '' && (typeof fn !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(fn))) return { error: '`fn_name` must be an identifier' };
    const perCase = Array.isArray(asserts) ? asserts : [];
    const cases: CodeCase[] = [];
    for (let i = 0; i < r.inputs.length; i++) {
      const a = perCase[i];
      if (typeof a === 'string' && a.trim() !== '') {
        cases.push({ kind: 'assert', block: withEntryPoint(a, r.entry_point) });
        continue;
      }
      if (typeof fn === 'string' && fn !== '') {
        const c = callCase(fn, r.inputs[i], r.outputs[i], i);
        if ('error' in c) return c;
        cases.push(c);
        continue;
      }
      const input = text(r.inputs[i]);
      const output = text(r.outputs[i]);
      if (input === null || output === null) return { error: `inputs[${i}]/outputs[${i}] must be text` };
      cases.push({ kind: 'io', input, output });
    }
    return finish(cases, prefix, r);
  }
  if (asserts !== undefined) {
    const key = r.assert_case !== undefined ? 'assert_case' : 'assert';
    const blocks = typeof asserts === 'string' ? [asserts] : asserts;
    if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => typeof b === 'string'))
      return { error: `\`${key}\` must be a string or a non-empty list of strings` };
    const nonEmpty = (blocks as string[]).filter((b) => b.trim() !== '');
    if (nonEmpty.length === 0) return { error: `\`${key}\` has no test code` };
    return finish(nonEmpty.map((b) => ({ kind: 'assert', block: withEntryPoint(b, r.entry_point) })), prefix, r);
  }
  return { error: 'reference has neither `tests`, `inputs`/`outputs` nor `assert`' };
}

const MAX_FAILURES = 5;
const STDERR_KEEP = 1000;

function tail(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n)}`;
}

function ioStatus(r: RunResult, expected: string, floatTolerance: number): TestStatus {
  switch (r.status) {
    case 'ok':
      return outputsMatch(r.stdout, expected, { floatTolerance }) ? 1 : 0;
    case 'compile_error':
      return -4;
    case 'timeout':
      return -3;
    case 'sandbox_error':
      return -1;
    default: // runtime_error, memory_limit, output_limit
      return -2;
  }
}

/** One failed case in the details. */
export interface CodeFailure {
  test: number;
  status: TestStatus;
  reason: string;
  stderr?: string;
  /** stdin/stdout cases: the head of the program's stdout on a wrong answer. */
  stdout?: string;
  /** Call-based cases: the program's result on a wrong answer. */
  got?: string;
}

/**
 * `code` — runs the completion's program against the rollout's tests in a sandbox and scores the
 * pass fraction (`scoring: fraction`, default) or 1/0 for all-or-nothing (`scoring: all`).
 *
 * **Program.** Read from the answer region (`answer:`, default `auto`: the last `<answer>…</answer>`,
 * else the completion without its `<think>` reasoning — a program drafted while thinking is not the
 * answer; a missing region scores 0, see graders/answer.ts). In it: the last fenced block tagged with
 * the language (```python, ```py, ```js, ```javascript …), else the last untagged fenced block, else
 * the last block, else the whole region. An unclosed block at the end of a truncated completion runs
 * to the end.
 *
 * **Tests** (from `reference`; a JSON string of it is read too — see {@link parseCodeTests}):
 * - `{tests: [{input, output}]}` or verl/APPS `{inputs, outputs}` — stdin/stdout cases,
 *   competitive-programming style. The program's whole stdout is compared outside the program, as
 *   testlib's default line checker does: same lines, same whitespace-separated tokens (runs of
 *   spaces, leading/trailing spaces, `\r\n` and trailing blank lines do not matter);
 *   `float_tolerance` lets numeric tokens differ by tol·max(1, |expected|). A non-zero exit fails;
 *   an early exit with part of the output fails (only the full output matches). Each case is judged
 *   **as a sandboxed run of its own**. Python (warm pool with its compiled forker; the default,
 *   `REWARDKIT_IO_BATCH=0` turns it off) runs the cases of a program in case mode: one sandboxed
 *   process compiles the source once and imports ahead the standard-library modules it imports, then
 *   its compiled supervisor forks one process per case — a fresh `__main__`, its own input on fd 0 /
 *   `sys.stdin`, stdout and stderr piped to the supervisor, the run's CPU, memory, process and file
 *   limits, its own wall-clock limit and output budget; the case ends as a run does (non-daemon
 *   threads joined, `atexit` handlers run, stdio flushed) and whatever it leaves running is killed
 *   before the next case. Only the supervisor writes to the host, in length-framed records, and it
 *   takes the case's status from the kernel (`wait4`): the program cannot end a case, set its status
 *   or move output between cases (it cannot trace or see the supervisor: not dumpable). Module
 *   state and `sys.setrecursionlimit` do not carry from case to case; files the program writes stay
 *   in its private `/tmp` for its later cases. A case that stops the supervisor (signalling its
 *   parent) fails, and the remaining cases run in a fresh sandbox. Otherwise (JavaScript, no
 *   compiled forker, a single case) each case is a sandboxed run of its own. docs/warm-pool.md,
 *   "Case mode".
 * - `{assert: "…"}` / `{assert_case: "…" | [...]}` — HumanEval/MBPP/verl assertion blocks, one test
 *   per block (`entry_point` appends `check(<entry_point>)` to a block that only defines `check`;
 *   `import_prefix` runs before the program and before each block; with `prompt` and `entry_point`
 *   (evalplus/HumanEval, Python) the prompt runs in the harness first, so the helpers it defines —
 *   `poly()` beside `find_zero` — are the reference's own, not ones the program redefines). Decided by the **harness**:
 *   two sandboxed processes — Python: one pair for all the blocks of a rollout, blocks run one after
 *   another; JavaScript: one pair per block. The *program process* runs the completion's program, then
 *   serves requests; it never receives a block or any expected value. The *harness process* runs
 *   each block with the real `assert`/`node:assert`/`unittest`; each name of the block that the
 *   program defines is bound to a proxy whose calls, method calls, attribute/item access and
 *   iteration are answered by the program process with **plain data only** — None/bool/int (exact)/
 *   float (nan, inf)/str/bytes/list/tuple/set/dict, or for JavaScript undefined/null/boolean/number/
 *   bigint/string/array/plain object/Map/Set — or an opaque handle that equals only itself (so
 *   `__eq__`, `valueOf` or `Symbol.toPrimitive` tricks compare false). Lists/dicts/sets passed to the
 *   program come back mutated (in-place tests work). Builtins and standard-library module names of
 *   the block always resolve in the harness, never to the program's objects. The verdict is written by
 *   the harness after a per-run random token on its own stdout, which the program cannot reach:
 *   pass (1) only when the whole block ran; a failed assertion is 0; an exception, a protocol error
 *   (anything on the protocol that is not a well-formed reply), or a program process that ends
 *   before the block finished (`os._exit(0)`, `sys.exit`, `process.exit(0)`, a crash) is −2; the
 *   program's own timeout is −3, its compile error −4. The program's prints go to its stderr.
 *   **Per block, verl semantics** (verl's Sandbox Fusion path runs `program + assert_case[i]` as its
 *   own run): each block has its own wall-clock limit (`timeout`; the program's load has its own
 *   too) and its own verdict, and sees a **fresh program state** — before every block after the first
 *   the program's top level runs again (compiled once) in a new module namespace, so globals, classes
 *   and caches never carry over (what it changes outside its namespace — patched builtins or modules,
 *   files in its private `/tmp` — stays within the rollout's sandbox). A block that fails, raises,
 *   hangs (−3), ends or kills the program process (−2) fails alone; the blocks after it still run, in
 *   a fresh pair when the program process is gone or a limit fired.
 * - `{fn_name, inputs, outputs}` — call-based tests (APPS/TACO argument lists, or verl `prime_code`
 *   JSON lines): one program process loads the program once (Python: after verl's import prefix) and
 *   calls `fn_name` — or `Solution().fn_name` when the program defines `class Solution` instead — once
 *   per case, in order, as verl's `prime_code` does: module state carries from call to call, the load
 *   and each call have their own wall-clock limit (`timeout`), a call that times out, ends the process
 *   or breaks the protocol fails that case and the rest run in a fresh process; the request ids are
 *   random (no answer can be written ahead). The result comes back as plain data and is compared here as verl's `prime_code` does
 *   (Python equality: `1 == 1.0 == True`, tuples as lists, JSON keys match string or integer keys,
 *   exact big integers; an expected `[value]` also accepts `value`).
 * A test the harness cannot run — the block passes something it cannot transfer to the program
 * (a lambda, a harness object), or the block does not compile — is status −1 and makes the
 * component `null` with `details.error`: never 0 and never 1. No reference, or one without tests →
 * `null` with the reason. An empty program scores 0. A sandbox failure (e.g. the run killed from
 * outside, by the OOM killer) throws: the component is an error (null), never a score.
 *
 * **Sandbox** (see `sandbox.ts`): a stdin/stdout case one sandboxed run (all the cases of a program
 * one sandbox, a forked process per case, for Python in case mode), the assertion
 * blocks of a program two processes (the program's and the harness's, each in its own sandbox; the
 * harness gets the program's limits plus 10 s and at least 512 MiB so that it outlives the program;
 * Python: one pair for all the blocks, JavaScript: one pair per block; `REWARDKIT_CASE_BATCH=0`: one
 * pair per block), the call-based
 * cases of one program one process (loaded once, one call per case with its own wall-clock limit, as
 * verl's prime_code; `REWARDKIT_CASE_BATCH=0` runs one process per case). Each sandbox runs in fresh Linux namespaces — no
 * network, a private read-only view of the filesystem with its own `/tmp` as working directory, an
 * unprivileged uid, a fixed three-variable environment — with CPU, wall-clock, memory, process-count,
 * file-size and output limits; the whole process tree is killed at the wall-clock limit. Runs share a
 * process-wide pool sized to the CPU count (`configureSandbox`); Python programs (and the harness) are
 * forked from a warm, pre-isolated zygote (`pool/warm.ts`) with the same guarantees. Needs Linux and root; a sandbox
 * failure makes the rollout's component an error (null), never a score.
 *
 * **Details**: `statuses` (one verl status code per case: 1 pass, 0 wrong answer, −1 cannot judge,
 * −2 runtime error, −3 timeout, −4 compile error, `null` not run), `passed`, `total`, `source` (where
 * the program was found), `failures` (first five: case index, status, reason, stderr tail of at
 * most 1000 characters, for stdin/stdout wrong answers the head of stdout, for call-based ones the
 * result as `got`), and `error` when a test cannot be judged. A compile error is deterministic:
 * the first one stops the remaining cases (they are reported −4 as well). Under `scoring: all` the
 * first failing case stops the rest (`null`). Identical programs on the same reference are run once
 * (GRPO groups often repeat a completion).
 *
 * @example
 * # spec
 * - {name: tests, grader: code, language: python, timeout: 5}
 * # rollout {"completion": "```python\nprint(int(input()) * 2)\n```",
 * #          "reference": {"tests": [{"input": "2\n", "output": "4\n"}, {"input": "5", "output": "10"}]}} → 1
 * # details {statuses: [1, 1], passed: 2, total: 2, source: 'tagged_block'}
 * # rollout {"completion": "```python\ndef add(a, b):\n    return a + b\n```",
 * #          "reference": {"assert": ["assert add(2, 3) == 5", "assert add(-1, 8) == 7"]}} → 1
 * # rollout {"completion": "```python\nimport os\ndef add(a, b):\n    os._exit(0)\n```", "reference": (same)} → 0
 * # details {statuses: [-2, -2], failures: [{reason: 'the program process ended before the test finished (exit 0)', …}, …]}
 */
export const codeGrader = defineGrader({
  kind: 'code',
  summary: 'Runs the completion’s Python/JavaScript program in a sandbox on stdin/stdout, call-based (fn_name) or assertion tests judged by a separate harness process (pass fraction).',
  params: {
    language: z.enum(['python', 'javascript']).default('python').describe('Language of the program: `python` (Python 3) or `javascript` (Node). Default `python`.'),
    scoring: z
      .enum(['fraction', 'all'])
      .default('fraction')
      .describe('`fraction` (default): passed cases / all cases; `all`: 1 when every case passes, else 0 (stops at the first failure).'),
    timeout: z.number().positive().max(600).default(5).describe('Wall-clock limit per case in seconds (default 5); the CPU-time limit is the same, rounded up.'),
    memory_mb: z
      .number()
      .int()
      .min(32)
      .max(65536)
      .default(512)
      .describe('Memory per case in MiB (default 512): the address-space limit for Python, the V8 heap limit for JavaScript.'),
    max_processes: z.number().int().min(0).max(1024).default(8).describe('Processes/threads a program may start besides the interpreter’s own (default 8).'),
    max_output_kb: z.number().int().min(1).default(8192).describe('Stdout + stderr per case in KiB (default 8192); a run writing more is stopped (runtime error).'),
    float_tolerance: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Numeric tokens of stdin/stdout cases, and numbers in call-based results, may differ by this much times max(1, |expected|) (default 0: exact).'),
    answer: answerParam,
  },
  create(params, ctx) {
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    const { language, scoring, float_tolerance: floatTolerance } = params;
    const limits: Partial<SandboxLimits> = {
      timeoutMs: Math.round(params.timeout * 1000),
      memoryMb: params.memory_mb,
      maxProcesses: params.max_processes,
      maxOutputBytes: params.max_output_kb * 1024,
    };

    let lastRef: unknown = Symbol('none');
    let lastTests: CodeTests | { error: string } = { error: '' };
    const parse = (ref: unknown) => {
      if (ref !== lastRef) {
        lastTests = parseCodeTests(ref);
        lastRef = ref;
      }
      return lastTests;
    };

    // Identical programs against the same reference run once (a small, insertion-ordered memo).
    const memo = new Map<string, { ref: unknown; refJson: string | undefined; result: Promise<{ score: number | null; details: Record<string, unknown> }> }>();
    const MEMO_SIZE = 128;

    async function runAll(code: string, tests: CodeTests, source: string) {
      const cases = tests.cases;
      const prefix = tests.prefix ?? '';
      const callPrefix = language === 'python' ? `${VERL_PY_PREFIX}${prefix ? `${prefix}\n` : ''}` : prefix;
      const statuses: TestStatus[] = cases.map(() => null);
      const outcomes: (CaseOutcome | null)[] = cases.map(() => null);
      const ioRuns: (RunResult | null)[] = cases.map(() => null);
      let stop = false;
      let compileFailed = false;
      let next = 0;
      const runCase = async (c: CodeCase): Promise<{ status: TestStatus; outcome: CaseOutcome | null; run: RunResult | null }> => {
        if (c.kind === 'io') {
          const program = prefix && language === 'python' ? `${prefix}\n${code}` : code;
          const r = await runInSandbox({ language, code: program, stdin: c.input, limits });
          return { status: ioStatus(r, c.output, floatTolerance), outcome: null, run: r };
        }
        const o =
          c.kind === 'assert'
            ? await runAssertCase(language, code, c.block, limits, prefix, tests.trusted ?? null)
            : await runCallCase(language, code, c, limits, { prefix: callPrefix, floatTolerance });
        return { status: o.status, outcome: o, run: null };
      };
      const worker = async () => {
        while (!stop && next < cases.length) {
          const i = next++;
          const { status, outcome, run } = await runCase(cases[i]!);
          statuses[i] = status;
          outcomes[i] = outcome;
          ioRuns[i] = run;
          if (run?.status === 'sandbox_error') stop = true;
          if (status === -4) {
            compileFailed = true;
            stop = true;
          }
          if (outcome?.cannotJudge) stop = true;
          if (status !== 1 && scoring === 'all') stop = true;
        }
      };
      if (tests.kind === 'call' && process.env.REWARDKIT_CASE_BATCH !== '0') {
        // Call-based tests: the program loaded once, one call per case (verl prime_code / APPS).
        const got = await runCallCases(language, code, cases as CallCase[], limits, { prefix: callPrefix, floatTolerance, stopAtFailure: scoring === 'all' });
        got.forEach((o, i) => {
          outcomes[i] = o;
          statuses[i] = o === null ? null : o.status;
          if (o?.status === -4) compileFailed = true;
        });
      } else if (tests.kind === 'io' && language === 'python' && !remoteRunnerActive() && process.env.REWARDKIT_CASE_BATCH !== '0') {
        // stdin/stdout cases (Python): one sandboxed program process compiles the program once and
        // a compiled supervisor forks a process per case (harness runIoCases; REWARDKIT_IO_BATCH=0 or
        // no warm pool: a run of its own per case).
        const program = prefix ? `${prefix}\n${code}` : code;
        const io = cases as { input: string; output: string }[];
        const passes = (k: number, r: RunResult) => ioStatus(r, io[k]!.output, floatTolerance) === 1;
        const got = await runIoCases(program, io.map((c) => c.input), limits, { passes, stopAtFailure: scoring === 'all' });
        got.forEach((r, i) => {
          ioRuns[i] = r;
          statuses[i] = r === null ? null : ioStatus(r, io[i]!.output, floatTolerance);
          if (statuses[i] === -4) compileFailed = true;
        });
      } else if (tests.kind === 'assert' && process.env.REWARDKIT_CASE_BATCH !== '0') {
        // Assertion blocks: one program process and one harness process for all of them (Python), a
        // fresh program state and its own time limit per block.
        const blocks = cases.map((c) => (c as { block: string }).block);
        const got = await runAssertCases(language, code, blocks, limits, { prefix, trusted: tests.trusted ?? null, stopAtFailure: scoring === 'all' });
        got.forEach((o, i) => {
          outcomes[i] = o;
          statuses[i] = o === null ? null : o.status;
          if (o?.status === -4) compileFailed = true;
        });
      } else {
        // An assertion test holds two sandbox slots (program and harness).
        const perCase = cases.some((c) => c.kind === 'assert') ? 2 : 1;
        const width = Math.max(1, Math.min(cases.length, Math.floor(sandboxConfig().concurrency / perCase)));
        await Promise.all(Array.from({ length: width }, worker));
      }
      if (compileFailed) for (let i = 0; i < statuses.length; i++) if (statuses[i] === null) statuses[i] = -4;

      const sandboxFailure = ioRuns.findIndex((r) => r?.status === 'sandbox_error');
      if (sandboxFailure >= 0) throw new Error(`code sandbox error on case ${sandboxFailure}: ${ioRuns[sandboxFailure]!.message ?? 'unknown'}`);

      const passed = statuses.filter((s) => s === 1).length;
      const total = cases.length;
      const failures: CodeFailure[] = [];
      for (let i = 0; i < total && failures.length < MAX_FAILURES; i++) {
        const st = statuses[i]!;
        if (st === null || st === 1) continue;
        const r = ioRuns[i];
        const o = outcomes[i];
        if (r) {
          const f: CodeFailure = { test: i, status: st, reason: st === 0 && r.status === 'ok' ? 'wrong answer' : (r.message ?? r.status) };
          if (r.stderr) f.stderr = tail(r.stderr, STDERR_KEEP);
          if (st === 0 && r.status === 'ok') f.stdout = r.stdout.length > 200 ? `${r.stdout.slice(0, 200)}…` : r.stdout;
          failures.push(f);
        } else if (o) {
          const f: CodeFailure = { test: i, status: st, reason: o.reason ?? 'failed' };
          if (o.stderr) f.stderr = tail(o.stderr, STDERR_KEEP);
          if (o.got !== undefined) f.got = o.got;
          failures.push(f);
        }
      }
      const details: Record<string, unknown> = { statuses, passed, total, source };
      if (failures.length > 0) details.failures = failures;
      const cannot = outcomes.findIndex((o) => o?.cannotJudge);
      if (cannot >= 0) {
        details.error = `test ${cannot} cannot be judged: ${outcomes[cannot]!.reason ?? 'unknown'}`;
        return { score: null, details };
      }
      const score = scoring === 'all' ? (passed === total ? 1 : 0) : passed / total;
      return { score, details };
    }

    return {
      scope: 'rollout',
      async grade(s) {
        const tests = parse(s.reference);
        if ('error' in tests) return { score: null, details: { reason: s.reference === undefined ? 'no reference' : tests.error } };
        const total = tests.cases.length;
        // The program is read from the answer region (a program drafted inside <think> is not the answer).
        const a = answerRegion(s.completion, region);
        if ('missing' in a) return { score: 0, details: { statuses: new Array(total).fill(null), passed: 0, total, ...regionDetails(a) } };
        const { code, source } = extractCode(a.text, language);
        if (code.trim() === '') return { score: 0, details: { statuses: new Array(total).fill(null), passed: 0, total, source, region: a.region, reason: 'no program in the completion' } };
        // Identical programs on an equal reference run once: the memo is keyed by the program, and the
        // reference is compared (as JSON) only when the program was seen before.
        const hit = memo.get(code);
        if (hit && (hit.ref === s.reference || hit.refJson === JSON.stringify(s.reference)))
          return hit.result.then((r) => ({ score: r.score, details: { ...r.details, region: a.region, cached: true } }));
        const result = runAll(code, tests, source).then((r) => ({ score: r.score, details: { ...r.details, region: a.region } }));
        memo.delete(code);
        memo.set(code, { ref: s.reference, refJson: JSON.stringify(s.reference), result });
        if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value!);
        result.catch(() => {
          if (memo.get(code)?.result === result) memo.delete(code);
        });
        return result;
      },
    };
  },
});
