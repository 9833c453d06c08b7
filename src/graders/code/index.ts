import { z } from 'zod';
import { defineGrader } from '../types.js';
import { outputsMatch } from './compare.js';
import { extractCode } from './extract.js';
import { runInSandbox, sandboxConfig, type RunResult, type SandboxLanguage, type SandboxLimits } from './sandbox.js';

export { runInSandbox, runProgram, programToRun, openSandboxes, configureSandbox, sandboxConfig, sandboxSupport, toolchainAvailable, DEFAULT_LIMITS, DEFAULT_COMPILE_LIMITS, SANDBOX_LANGUAGES, COMPILED_LANGUAGES } from './sandbox.js';
export type { ProgramRequest, ProgramResult, RunRequest, RunResult, RunStatus, SandboxConfig, SandboxLanguage, SandboxLimits, SandboxSession, SessionRequest } from './sandbox.js';
export { extractCode, fencedBlocks, type ExtractedCode } from './extract.js';
export { outputsMatch, type CompareOptions } from './compare.js';
export { FUSION_LANGUAGES, FUSION_RUNNERS, FusionRequestError, parseRunCodeRequest, runFusion, toFusionResponse, transpileTypeScript } from './fusion.js';
export type { CommandRunResult, RunCodeRequest, RunCodeResponse } from './fusion.js';

/** One stdin/stdout case. */
export interface IoTest {
  input: string;
  output: string;
}

/** What a rollout's reference asks for: stdin/stdout cases, or assertion blocks appended to the program. */
export type CodeTests = { kind: 'io'; tests: IoTest[] } | { kind: 'assert'; blocks: string[] };

/**
 * verl's per-test status codes (`sandbox_fusion`/`prime_code`): 1 passed, 0 wrong answer (a failed
 * assertion, or the right exit with the wrong output), −1 sandbox error, −2 runtime error (also
 * memory and output limits), −3 timeout (wall or CPU), −4 compile error; `null` = not run (after a
 * failure under `scoring: all`, or after a compile error, which every later case would repeat).
 */
export type TestStatus = 1 | 0 | -1 | -2 | -3 | -4 | null;

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join('\n');
  return null;
}

/**
 * Reads the tests of a reference: `{tests: [{input, output}]}`, `{assert: "…"}` (or a list of
 * blocks, each its own test), verl/APPS-style `{inputs: [...], outputs: [...]}`, or a JSON string of
 * any of these. Returns an error sentence when the reference is not usable.
 */
export function parseCodeTests(reference: unknown): CodeTests | { error: string } {
  let ref = reference;
  if (typeof ref === 'string') {
    try {
      ref = JSON.parse(ref);
    } catch {
      return { error: 'reference is a string but not JSON; expected {tests: [...]} or {assert: "..."}' };
    }
  }
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return { error: 'reference must be an object with `tests` or `assert`' };
  const r = ref as Record<string, unknown>;
  if (r.tests !== undefined) {
    if (!Array.isArray(r.tests) || r.tests.length === 0) return { error: '`tests` must be a non-empty list of {input, output}' };
    const tests: IoTest[] = [];
    for (const [i, t] of r.tests.entries()) {
      if (t === null || typeof t !== 'object') return { error: `tests[${i}] must be an object {input, output}` };
      const tt = t as Record<string, unknown>;
      const input = tt.input === undefined || tt.input === null ? '' : text(tt.input);
      const output = text(tt.output);
      if (input === null || output === null) return { error: `tests[${i}] needs a text \`output\` (and an optional text \`input\`)` };
      tests.push({ input, output });
    }
    return { kind: 'io', tests };
  }
  if (r.inputs !== undefined || r.outputs !== undefined) {
    if (r.fn_name !== undefined) return { error: 'call-based tests (`fn_name`) are not supported; use stdin/stdout tests or an assertion block' };
    if (!Array.isArray(r.inputs) || !Array.isArray(r.outputs) || r.inputs.length !== r.outputs.length || r.inputs.length === 0)
      return { error: '`inputs` and `outputs` must be non-empty lists of the same length' };
    const tests: IoTest[] = [];
    for (let i = 0; i < r.inputs.length; i++) {
      const input = text(r.inputs[i]);
      const output = text(r.outputs[i]);
      if (input === null || output === null) return { error: `inputs[${i}]/outputs[${i}] must be text` };
      tests.push({ input, output });
    }
    return { kind: 'io', tests };
  }
  if (r.assert !== undefined) {
    const blocks = typeof r.assert === 'string' ? [r.assert] : r.assert;
    if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => typeof b === 'string'))
      return { error: '`assert` must be a string or a non-empty list of strings' };
    return { kind: 'assert', blocks: blocks as string[] };
  }
  return { error: 'reference has neither `tests` nor `assert`' };
}

const STDERR_KEEP = 1000;
const MAX_FAILURES = 5;

function tail(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n)}`;
}

function isAssertionFailure(language: SandboxLanguage, stderr: string): boolean {
  return language === 'python' ? /^AssertionError\b/m.test(stderr) : /\bAssertionError\b/.test(stderr);
}

function statusOf(r: RunResult, kind: CodeTests['kind'], language: SandboxLanguage, expected: string | null, floatTolerance: number): TestStatus {
  switch (r.status) {
    case 'ok':
      return expected === null || outputsMatch(r.stdout, expected, { floatTolerance }) ? 1 : 0;
    case 'compile_error':
      return -4;
    case 'timeout':
      return -3;
    case 'sandbox_error':
      return -1;
    case 'runtime_error':
      return kind === 'assert' && isAssertionFailure(language, r.stderr) ? 0 : -2;
    default: // memory_limit, output_limit
      return -2;
  }
}

/** One failed case in the details. */
export interface CodeFailure {
  test: number;
  status: TestStatus;
  reason: string;
  stderr?: string;
  stdout?: string;
}

/**
 * `code` — runs the completion's program against the rollout's tests in a sandbox and scores the
 * pass fraction (`scoring: fraction`, default) or 1/0 for all-or-nothing (`scoring: all`).
 *
 * **Program.** The last fenced block of the completion tagged with the language (```python, ```py,
 * ```js, ```javascript …), else the last untagged fenced block, else the last block, else the whole
 * completion. An unclosed block at the end of a truncated completion runs to the end.
 *
 * **Tests** (from `reference`; a JSON string of it is read too):
 * - `{tests: [{input, output}]}` — stdin/stdout cases, competitive-programming style. The output
 *   matches as testlib's default line checker does: same lines, same whitespace-separated tokens
 *   (runs of spaces, leading/trailing spaces, `\r\n` and trailing blank lines do not matter);
 *   `float_tolerance` lets numeric tokens differ by tol·max(1, |expected|). A non-zero exit fails.
 *   verl/APPS's `{inputs: [...], outputs: [...]}` is accepted as well (not the call-based `fn_name`).
 * - `{assert: "…"}` — HumanEval/MBPP style: the block is appended to the program (after a blank line)
 *   and the run passes when it exits with 0; a failed assertion is a wrong answer. A list of blocks
 *   makes one test per block.
 * No reference, or one without tests → `null` with the reason. An empty program scores 0.
 *
 * **Sandbox** (see `sandbox.ts`): every case is a separate process in fresh Linux namespaces — no
 * network, a private read-only view of the filesystem with its own `/tmp` as working directory, an
 * unprivileged uid, a fixed three-variable environment — with CPU, wall-clock, memory, process-count,
 * file-size and output limits; the whole process tree is killed at the wall-clock limit. Runs share a
 * process-wide pool sized to the CPU count (`configureSandbox`). Needs Linux and root; a sandbox
 * failure makes the rollout's component an error (null), never a score.
 *
 * **Details**: `statuses` (one verl status code per case: 1 pass, 0 wrong answer, −1 sandbox error,
 * −2 runtime error, −3 timeout, −4 compile error, `null` not run), `passed`, `total`, `source` (where
 * the program was found), and `failures` (first five: case index, status, reason, stderr tail of at
 * most 1000 characters, and for wrong answers the head of stdout). A compile error is deterministic:
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
 */
export const codeGrader = defineGrader({
  kind: 'code',
  summary: 'Runs the completion’s Python/JavaScript program on stdin/stdout tests or an assertion block in a sandbox (pass fraction).',
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
      .describe('Numeric tokens of stdin/stdout cases may differ by this much times max(1, |expected|) (default 0: tokens compare exactly).'),
  },
  create(params) {
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
    const memo = new Map<string, { ref: unknown; refJson: string | undefined; result: Promise<{ score: number; details: Record<string, unknown> }> }>();
    const MEMO_SIZE = 128;

    async function runAll(code: string, tests: CodeTests, source: string) {
      const cases: { program: string; stdin: string; expected: string | null }[] =
        tests.kind === 'io'
          ? tests.tests.map((t) => ({ program: code, stdin: t.input, expected: t.output }))
          : tests.blocks.map((b) => ({ program: `${code}\n\n${b}\n`, stdin: '', expected: null }));
      const statuses: TestStatus[] = cases.map(() => null);
      const results: (RunResult | null)[] = cases.map(() => null);
      let stop = false;
      let compileFailed = false;
      let next = 0;
      const worker = async () => {
        while (!stop && next < cases.length) {
          const i = next++;
          const c = cases[i]!;
          const r = await runInSandbox({ language, code: c.program, stdin: c.stdin, limits });
          const st = statusOf(r, tests.kind, language, c.expected, floatTolerance);
          statuses[i] = st;
          results[i] = r;
          if (st === -4 && tests.kind === 'io') {
            compileFailed = true;
            stop = true;
          }
          if (st !== 1 && scoring === 'all') stop = true;
        }
      };
      const width = Math.min(cases.length, sandboxConfig().concurrency);
      await Promise.all(Array.from({ length: width }, worker));
      if (compileFailed) for (let i = 0; i < statuses.length; i++) if (statuses[i] === null) statuses[i] = -4;

      const sandboxFailure = results.findIndex((r) => r?.status === 'sandbox_error');
      if (sandboxFailure >= 0) throw new Error(`code sandbox error on case ${sandboxFailure}: ${results[sandboxFailure]!.message ?? 'unknown'}`);

      const passed = statuses.filter((s) => s === 1).length;
      const total = cases.length;
      const failures: CodeFailure[] = [];
      for (let i = 0; i < total && failures.length < MAX_FAILURES; i++) {
        const r = results[i];
        const st = statuses[i]!;
        if (r === null || st === 1) continue;
        const f: CodeFailure = { test: i, status: st, reason: st === 0 && r.status === 'ok' ? 'wrong answer' : (r.message ?? r.status) };
        if (r.stderr) f.stderr = tail(r.stderr, STDERR_KEEP);
        if (st === 0 && r.status === 'ok') f.stdout = r.stdout.length > 200 ? `${r.stdout.slice(0, 200)}…` : r.stdout;
        failures.push(f);
      }
      const score = scoring === 'all' ? (passed === total ? 1 : 0) : passed / total;
      const details: Record<string, unknown> = { statuses, passed, total, source };
      if (failures.length > 0) details.failures = failures;
      return { score, details };
    }

    return {
      scope: 'rollout',
      async grade(s) {
        const tests = parse(s.reference);
        if ('error' in tests) return { score: null, details: { reason: s.reference === undefined ? 'no reference' : tests.error } };
        const { code, source } = extractCode(s.completion, language);
        const total = tests.kind === 'io' ? tests.tests.length : tests.blocks.length;
        if (code.trim() === '') return { score: 0, details: { statuses: new Array(total).fill(null), passed: 0, total, source, reason: 'no program in the completion' } };
        // Identical programs on an equal reference run once: the memo is keyed by the program, and the
        // reference is compared (as JSON) only when the program was seen before.
        const hit = memo.get(code);
        if (hit && (hit.ref === s.reference || hit.refJson === JSON.stringify(s.reference)))
          return hit.result.then((r) => ({ score: r.score, details: { ...r.details, cached: true } }));
        const result = runAll(code, tests, source);
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
