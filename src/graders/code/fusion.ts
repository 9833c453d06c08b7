/**
 * Sandbox Fusion's `/run_code` wire format (bytedance/SandboxFusion: `sandbox/server/sandbox_api.py`,
 * `sandbox/runners/types.py`, `base.py`, `major.py`) on top of {@link runProgram}, so that a server can
 * offer the route verl's `sandbox_fusion` reward and other trainers call.
 *
 * Request, field by field as Sandbox Fusion's `RunCodeRequest`: `code` (string, required), `language`
 * (required; see {@link FUSION_RUNNERS}), `stdin` (string or null), `compile_timeout` (seconds, default
 * 10; the compile phase's wall clock and CPU limit), `run_timeout` (seconds, default 10), `memory_limit_MB`
 * (default −1: no per-request limit — Sandbox Fusion then sets no rlimit and its sandbox's own 4 GiB
 * cgroup applies; here the sandbox's ceiling, {@link MAX_MEMORY_MB}), `files` (relative path → base64
 * content or null; null entries are skipped, as Sandbox Fusion does; absolute paths and `..` are
 * refused), `fetch_files` (relative paths read back after the run; a missing file is left out, as
 * Sandbox Fusion does), `args` (accepted, ignored: Sandbox Fusion passes them to pytest only).
 *
 * Response, as `RunCodeResponse`: `status` (`Success` when every phase finished with return code 0,
 * `Failed` when one timed out or returned non-zero, `SandboxError` when one could not run — its
 * `message` says why), `message`, `compile_result` and `run_result` (`CommandRunResult`: `status`
 * `Finished`/`TimeLimitExceeded`/`Error`, `execution_time` in seconds, `return_code` — the exit code,
 * −signal when killed, null on a time-out —, `stdout`, `stderr`), `executor_pod_name` (null) and
 * `files` (fetched path → base64). `compile_result` is null for interpreted languages (python, nodejs,
 * bash) as in Sandbox Fusion, and present for compiled ones (c, cpp, java, go, rust, and typescript,
 * which is transpiled by esbuild on the host — pure text transformation — then run by node); a
 * compile failure leaves `run_result` null (verl reads that as a compile error, −4).
 */
import { Buffer } from 'node:buffer';
import { MAX_FETCH_BYTES_DEFAULT, runProgram, type ProgramResult, type RunResult, type SandboxLanguage, type SandboxLimits } from './sandbox.js';

/** Languages Sandbox Fusion accepts (its `Language` literal). */
export const FUSION_LANGUAGES: ReadonlySet<string> = new Set([
  'python', 'cpp', 'nodejs', 'go', 'go_test', 'java', 'php', 'csharp', 'bash', 'typescript', 'sql', 'rust', 'cuda', 'lua', 'R', 'perl',
  'D_ut', 'ruby', 'scala', 'julia', 'pytest', 'junit', 'kotlin_script', 'jest', 'verilog', 'python_gpu', 'lean', 'swift', 'racket',
]);

/**
 * Languages this server runs, by request name (a Map: a request's `language` is data, never a key into a prototype).
 * Sandbox Fusion's names plus `c` and the aliases its runners accept (`js`, `ts`, and `javascript`).
 */
export const FUSION_RUNNERS: ReadonlyMap<string, { language: SandboxLanguage; typescript?: true }> = new Map<string, { language: SandboxLanguage; typescript?: true }>([
  ['python', { language: 'python' }],
  ['nodejs', { language: 'javascript' }],
  ['js', { language: 'javascript' }],
  ['javascript', { language: 'javascript' }],
  ['typescript', { language: 'javascript', typescript: true }],
  ['ts', { language: 'javascript', typescript: true }],
  ['c', { language: 'c' }],
  ['cpp', { language: 'cpp' }],
  ['java', { language: 'java' }],
  ['go', { language: 'go' }],
  ['rust', { language: 'rust' }],
  ['bash', { language: 'bash' }],
]);

/** Memory of a request that asks for none (−1), and the most any request gets, MiB (Sandbox Fusion's sandbox cgroup is 4 GiB). */
export const MAX_MEMORY_MB = 4096;
/** Total bytes of `files` a request may send (decoded). */
export const MAX_FILES_BYTES = 32 << 20;

/** A bad field of a `/run_code` body: `field` names it (`files["a.txt"]`, `run_timeout`, …). */
export class FusionRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'FusionRequestError';
  }
}

/** One Sandbox Fusion `CommandRunResult`. */
export interface CommandRunResult {
  status: 'Finished' | 'Error' | 'TimeLimitExceeded';
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

/** A Sandbox Fusion `RunCodeResponse`. */
export interface RunCodeResponse {
  status: 'Success' | 'Failed' | 'SandboxError';
  message: string;
  compile_result: CommandRunResult | null;
  run_result: CommandRunResult | null;
  executor_pod_name: string | null;
  files: Record<string, string>;
}

/** A checked `/run_code` request. */
export interface RunCodeRequest {
  code: string;
  /** The request's language name (e.g. `nodejs`). */
  language: string;
  stdin: string | undefined;
  compileTimeoutS: number;
  runTimeoutS: number;
  /** MiB: the request's limit, capped at {@link MAX_MEMORY_MB}; −1 → {@link MAX_MEMORY_MB}. */
  memoryMb: number;
  files: Record<string, Buffer>;
  fetchFiles: string[];
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v;
}

function optNumber(b: Record<string, unknown>, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FusionRequestError(key, `expected a number, got ${kind(v)}`);
  return v;
}

function relativePath(p: string, field: string): string {
  if (p.length === 0) throw new FusionRequestError(field, 'expected a non-empty relative path');
  if (p.startsWith('/')) throw new FusionRequestError(field, `"${p}" is absolute (paths are relative to the working directory)`);
  if (/[\x00-\x1f\x7f]/.test(p)) throw new FusionRequestError(field, `"${p}" contains a control character`);
  const parts = p.replace(/^\.\//, '').split('/');
  if (parts.includes('..')) throw new FusionRequestError(field, `"${p}" leaves the working directory ("..")`);
  if (parts.some((x) => x === '' || x === '.')) throw new FusionRequestError(field, `"${p}" has an empty or "." component`);
  return p;
}

/**
 * Checks a `/run_code` body field by field (see the module comment); throws {@link FusionRequestError}
 * naming the field. An unknown language is an error; a Sandbox Fusion language this server does not
 * run passes here (the route answers it with a `SandboxError`).
 *
 * @example
 * parseRunCodeRequest({ code: 'print(1)', language: 'python' })
 * // → { code: 'print(1)', language: 'python', stdin: undefined, compileTimeoutS: 10, runTimeoutS: 10, memoryMb: 4096, files: {}, fetchFiles: [] }
 */
export function parseRunCodeRequest(body: unknown): RunCodeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FusionRequestError('', `expected a JSON object {code, language, …}, got ${kind(body)}`);
  const b = body as Record<string, unknown>;
  if (typeof b.code !== 'string') throw new FusionRequestError('code', b.code === undefined ? 'is required (the program source)' : `expected a string, got ${kind(b.code)}`);
  if (typeof b.language !== 'string') throw new FusionRequestError('language', b.language === undefined ? 'is required (e.g. "python")' : `expected a string, got ${kind(b.language)}`);
  if (!FUSION_LANGUAGES.has(b.language) && !FUSION_RUNNERS.has(b.language))
    throw new FusionRequestError('language', `unknown language "${b.language}" (this server runs: ${[...FUSION_RUNNERS.keys()].join(', ')})`);
  if (b.stdin !== undefined && b.stdin !== null && typeof b.stdin !== 'string') throw new FusionRequestError('stdin', `expected a string or null, got ${kind(b.stdin)}`);
  const run = optNumber(b, 'run_timeout') ?? 10;
  const compile = optNumber(b, 'compile_timeout') ?? 10;
  if (run <= 0) throw new FusionRequestError('run_timeout', 'must be positive (seconds)');
  if (compile <= 0) throw new FusionRequestError('compile_timeout', 'must be positive (seconds)');
  const mem = optNumber(b, 'memory_limit_MB') ?? -1;
  if (mem === 0 || mem < -1) throw new FusionRequestError('memory_limit_MB', 'expected a positive number of MiB, or -1 for no per-request limit');
  const files: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
  if (b.files !== undefined && b.files !== null) {
    if (typeof b.files !== 'object' || Array.isArray(b.files)) throw new FusionRequestError('files', `expected an object of path → base64 content, got ${kind(b.files)}`);
    let total = 0;
    for (const [path, content] of Object.entries(b.files as Record<string, unknown>)) {
      const field = `files[${JSON.stringify(path)}]`;
      relativePath(path, field);
      if (content === null) continue; // Sandbox Fusion skips null entries
      if (typeof content !== 'string') throw new FusionRequestError(field, `expected base64 text or null, got ${kind(content)}`);
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(content)) throw new FusionRequestError(field, 'is not base64');
      const data = Buffer.from(content, 'base64');
      total += data.length;
      if (total > MAX_FILES_BYTES) throw new FusionRequestError('files', `more than ${MAX_FILES_BYTES} bytes in all`);
      files[path] = data;
    }
  }
  const fetchFiles: string[] = [];
  if (b.fetch_files !== undefined && b.fetch_files !== null) {
    if (!Array.isArray(b.fetch_files)) throw new FusionRequestError('fetch_files', `expected a list of relative paths, got ${kind(b.fetch_files)}`);
    b.fetch_files.forEach((f, i) => {
      if (typeof f !== 'string') throw new FusionRequestError(`fetch_files[${i}]`, `expected a string, got ${kind(f)}`);
      fetchFiles.push(relativePath(f, `fetch_files[${i}]`));
    });
    if (fetchFiles.length > 64) throw new FusionRequestError('fetch_files', 'at most 64 files');
  }
  if (b.args !== undefined && b.args !== null && !Array.isArray(b.args)) throw new FusionRequestError('args', `expected a list, got ${kind(b.args)}`);
  return {
    code: b.code,
    language: b.language,
    stdin: typeof b.stdin === 'string' ? b.stdin : undefined,
    compileTimeoutS: compile,
    runTimeoutS: run,
    memoryMb: mem === -1 ? MAX_MEMORY_MB : Math.min(Math.ceil(mem), MAX_MEMORY_MB),
    files,
    fetchFiles,
  };
}

/** Exit status as Python's subprocess reports it (Sandbox Fusion's `return_code`): the exit code, or −signal number when killed. */
function returnCode(r: RunResult): number | null {
  if (r.exitCode !== null) return r.exitCode;
  const n = r.signal !== null ? SIGNAL_NUMBERS[r.signal] : undefined;
  return n !== undefined ? -n : null;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25, SIGSYS: 31 };

/** One phase's {@link RunResult} as a Sandbox Fusion `CommandRunResult`. */
export function toCommandRunResult(r: RunResult): CommandRunResult {
  const execution_time = Math.round(r.wallMs) / 1000;
  if (r.status === 'sandbox_error') return { status: 'Error', execution_time, return_code: null, stdout: r.stdout, stderr: r.stderr || (r.message ?? 'sandbox error') };
  if (r.status === 'timeout') return { status: 'TimeLimitExceeded', execution_time, return_code: null, stdout: r.stdout, stderr: r.stderr };
  let code = returnCode(r) ?? (r.status === 'ok' ? 0 : 1);
  if (r.status !== 'ok' && code === 0) code = 1; // a failed phase never reads as success
  return { status: 'Finished', execution_time, return_code: code, stdout: r.stdout, stderr: r.stderr };
}

/** Sandbox Fusion's `parse_run_status` over the phases: an Error → SandboxError (its stderr as message); a time-out or non-zero code → Failed. */
export function fusionStatus(compile: CommandRunResult | null, run: CommandRunResult | null): { status: RunCodeResponse['status']; message: string } {
  const phases = [compile, run].filter((c): c is CommandRunResult => c !== null);
  const error = phases.find((c) => c.status === 'Error');
  if (error) return { status: 'SandboxError', message: error.stderr ?? 'sandbox error' };
  if (phases.length === 0) return { status: 'SandboxError', message: 'nothing ran' };
  if (phases.some((c) => c.status === 'TimeLimitExceeded' || (c.return_code !== null && c.return_code !== 0))) return { status: 'Failed', message: '' };
  return { status: 'Success', message: '' };
}

/** A {@link ProgramResult} as a `RunCodeResponse`; fetched files as base64. */
export function toFusionResponse(p: ProgramResult): RunCodeResponse {
  const compile_result = p.compile === null ? null : toCommandRunResult(p.compile);
  const run_result = p.run === null ? null : toCommandRunResult(p.run);
  const files: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.files)) files[k] = v.toString('base64');
  return { ...fusionStatus(compile_result, run_result), compile_result, run_result, executor_pod_name: null, files };
}

/** A response for a request that cannot run (a Sandbox Fusion language this machine lacks, a sandbox failure before any phase). */
export function fusionSandboxError(message: string): RunCodeResponse {
  return { status: 'SandboxError', message, compile_result: null, run_result: null, executor_pod_name: null, files: {} };
}

type Transform = (code: string, options: Record<string, unknown>) => Promise<{ code: string }>;
let esbuild: Promise<Transform | null> | null = null;
/** esbuild's `transform` when installed (it is a dependency of the dev tools; a production install may lack it). It runs in esbuild's own process: the event loop stays free. */
function loadEsbuild(): Promise<Transform | null> {
  esbuild ??= import('esbuild' as string).then(
    (m: { transform?: Transform; default?: { transform?: Transform } }) => m.transform ?? m.default?.transform ?? null,
    () => null,
  );
  return esbuild;
}

/**
 * TypeScript → JavaScript (CommonJS, node 20), types stripped without type checking — as `tsx`, which
 * Sandbox Fusion runs TypeScript with. A pure text transformation on the host; the result runs sandboxed.
 * Returns the JS, or the transpile errors as a failed compile phase; null when esbuild is not installed.
 */
export async function transpileTypeScript(code: string): Promise<{ js: string; wallMs: number } | { error: RunResult } | null> {
  const transform = await loadEsbuild();
  if (transform === null) return null;
  const t = performance.now();
  try {
    const js = (await transform(code, { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: 'prog.ts', logLevel: 'silent' })).code;
    return { js, wallMs: performance.now() - t };
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { line: number; column: number; lineText: string } | null }[] }).errors ?? [];
    const stderr = errors.length
      ? errors.map((x) => (x.location ? `prog.ts:${x.location.line}:${x.location.column}: error: ${x.text}\n  ${x.location.lineText}\n` : `error: ${x.text}\n`)).join('')
      : `${(e as Error).message}\n`;
    return { error: { status: 'runtime_error', exitCode: 1, signal: null, stdout: '', stderr, wallMs: performance.now() - t, message: 'the program does not compile' } };
  }
}

/** Limits of one `/run_code` request, given the server's own cap on wall time (its deadline). */
export function fusionLimits(r: RunCodeRequest, maxSeconds = Infinity): { limits: Partial<SandboxLimits>; compileLimits: Partial<SandboxLimits> } {
  const ms = (s: number) => Math.max(1, Math.round(Math.min(s, maxSeconds) * 1000));
  const compileMem = Math.max(2048, r.memoryMb);
  return { limits: { timeoutMs: ms(r.runTimeoutS), memoryMb: r.memoryMb }, compileLimits: { timeoutMs: ms(r.compileTimeoutS), memoryMb: compileMem } };
}

/**
 * Runs a checked `/run_code` request and answers in Sandbox Fusion's shape. Never throws for anything the program does.
 *
 * @example
 * await runFusion(parseRunCodeRequest({ code: 'int main(){return 3;}', language: 'c' }))
 * // → { status: 'Failed', message: '', compile_result: { status: 'Finished', return_code: 0, … }, run_result: { status: 'Finished', return_code: 3, … }, executor_pod_name: null, files: {} }
 */
export async function runFusion(r: RunCodeRequest, maxSeconds = Infinity): Promise<RunCodeResponse> {
  const runner = FUSION_RUNNERS.get(r.language);
  if (runner === undefined) return fusionSandboxError(`language "${r.language}" is not supported by rewardkit's sandbox (it runs: ${[...FUSION_RUNNERS.keys()].join(', ')})`);
  const { limits, compileLimits } = fusionLimits(r, maxSeconds);
  let code = r.code;
  let tsCompile: RunResult | null = null;
  if (runner.typescript) {
    const t = await transpileTypeScript(r.code);
    if (t === null) return fusionSandboxError('typescript needs the esbuild package (npm install esbuild) to strip types');
    if ('error' in t) return toFusionResponse({ compile: t.error, run: null, files: {}, fetchSkipped: [] });
    code = t.js;
    tsCompile = { status: 'ok', exitCode: 0, signal: null, stdout: '', stderr: '', wallMs: t.wallMs };
  }
  let result: ProgramResult;
  try {
    result = await runProgram({
    language: runner.language,
    code,
    stdin: r.stdin,
    limits,
    compileLimits,
    files: r.files,
    fetchFiles: r.fetchFiles,
    maxFetchBytes: MAX_FETCH_BYTES_DEFAULT,
    });
  } catch (e) {
    return fusionSandboxError((e as Error).message); // a request the sandbox refuses (e.g. a path both a file and a directory)
  }
  return toFusionResponse(tsCompile && result.compile === null ? { ...result, compile: tsCompile } : result);
}
