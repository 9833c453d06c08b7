import { constants } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { HttpError, kindOf } from '../errors.js';
import { withDeadline } from '../limits.js';
import { runInSandbox, type RunResult, type SandboxLanguage } from '../../graders/code/sandbox.js';

/**
 * `POST /run_code` — the Sandbox Fusion request/response shape that verl's code reward posts to
 * `reward_model.sandbox_fusion.url`, run in the `code` grader's sandbox.
 *
 * Request: `{code, language, stdin?, compile_timeout?, run_timeout?, memory_limit_MB?, files?, fetch_files?}`
 * (seconds; `memory_limit_MB: -1` = the server's default). Response (always 200 once the request is
 * valid, as Sandbox Fusion does): `{status: "Success"|"Failed"|"SandboxError", message,
 * compile_result: null, run_result: {status: "Finished"|"TimeLimitExceeded"|"Error", execution_time,
 * return_code, stdout, stderr} | null, executor_pod_name: null, files: {}}`.
 *
 * `python` and `nodejs` run; other Sandbox Fusion languages answer `SandboxError` saying so; an unknown
 * language, or non-empty `files`/`fetch_files`, is a 422. Interpreted languages have no compile step
 * (`compile_result` is null, as in Sandbox Fusion); a syntax error is a run that exits non-zero.
 */

/** Languages Sandbox Fusion accepts (verl's list). */
export const FUSION_LANGUAGES = new Set([
  'python', 'cpp', 'nodejs', 'go', 'go_test', 'java', 'php', 'csharp', 'bash', 'typescript', 'sql', 'rust', 'cuda', 'lua', 'R', 'perl',
  'D_ut', 'ruby', 'scala', 'julia', 'pytest', 'junit', 'kotlin_script', 'jest', 'verilog', 'python_gpu', 'lean', 'swift', 'racket',
]);

/** Languages this server runs, by request name. A Map: a request's `language` is data, never a key into a prototype (`__proto__`, `constructor`). */
const LANGUAGES: ReadonlyMap<string, SandboxLanguage> = new Map([
  ['python', 'python'],
  ['nodejs', 'javascript'],
  ['javascript', 'javascript'],
]);

/** Memory when the request asks for none (-1) and the most a request may ask for, MiB. */
const DEFAULT_MEMORY_MB = 1024;
const MAX_MEMORY_MB = 4096;

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
  language: string;
  stdin: string | undefined;
  runTimeoutS: number;
  memoryMb: number;
}

function optNumber(b: Record<string, unknown>, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(422, `expected a number, got ${kindOf(v)}`, key);
  return v;
}

/** Checks a `/run_code` body; throws 422 naming the key. */
export function checkRunCodeBody(body: unknown): RunCodeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(422, `expected a JSON object {code, language, …}, got ${kindOf(body)}`, '');
  const b = body as Record<string, unknown>;
  if (typeof b.code !== 'string') throw new HttpError(422, b.code === undefined ? 'is required (the program source)' : `expected a string, got ${kindOf(b.code)}`, 'code');
  if (typeof b.language !== 'string') throw new HttpError(422, b.language === undefined ? 'is required (e.g. "python")' : `expected a string, got ${kindOf(b.language)}`, 'language');
  if (!FUSION_LANGUAGES.has(b.language) && !LANGUAGES.has(b.language))
    throw new HttpError(422, `unknown language "${b.language}" (this server runs: python, nodejs)`, 'language');
  if (b.stdin !== undefined && b.stdin !== null && typeof b.stdin !== 'string') throw new HttpError(422, `expected a string or null, got ${kindOf(b.stdin)}`, 'stdin');
  const run = optNumber(b, 'run_timeout') ?? 10;
  const compile = optNumber(b, 'compile_timeout');
  if (run <= 0) throw new HttpError(422, 'must be positive (seconds)', 'run_timeout');
  if (compile !== undefined && compile <= 0) throw new HttpError(422, 'must be positive (seconds)', 'compile_timeout');
  const mem = optNumber(b, 'memory_limit_MB') ?? -1;
  if (mem === 0 || mem < -1) throw new HttpError(422, 'expected a positive number of MiB, or -1 for the default', 'memory_limit_MB');
  if (b.files !== undefined && b.files !== null) {
    if (typeof b.files !== 'object' || Array.isArray(b.files)) throw new HttpError(422, `expected an object, got ${kindOf(b.files)}`, 'files');
    if (Object.keys(b.files).length > 0) throw new HttpError(422, 'extra files are not supported by this sandbox', 'files');
  }
  if (b.fetch_files !== undefined && b.fetch_files !== null) {
    if (!Array.isArray(b.fetch_files)) throw new HttpError(422, `expected a list, got ${kindOf(b.fetch_files)}`, 'fetch_files');
    if (b.fetch_files.length > 0) throw new HttpError(422, 'fetching files is not supported by this sandbox', 'fetch_files');
  }
  return {
    code: b.code,
    language: b.language,
    stdin: typeof b.stdin === 'string' ? b.stdin : undefined,
    runTimeoutS: run,
    memoryMb: mem === -1 ? DEFAULT_MEMORY_MB : Math.min(Math.ceil(mem), MAX_MEMORY_MB),
  };
}

/** Exit status as Python's subprocess reports it: the exit code, or −signal number when killed. */
function returnCode(r: RunResult): number | null {
  if (r.exitCode !== null) return r.exitCode;
  if (r.signal) {
    const n = (constants.signals as Record<string, number>)[r.signal];
    if (n !== undefined) return -n;
  }
  return null;
}

/** Translates a sandbox run into Sandbox Fusion's response. */
export function toFusionResponse(r: RunResult): RunCodeResponse {
  const base = { compile_result: null, executor_pod_name: null, files: {} };
  const time = Math.round(r.wallMs) / 1000;
  if (r.status === 'sandbox_error')
    return { ...base, status: 'SandboxError', message: r.message ?? 'sandbox error', run_result: { status: 'Error', execution_time: time, return_code: null, stdout: r.stdout, stderr: r.stderr } };
  if (r.status === 'timeout')
    return { ...base, status: 'Failed', message: '', run_result: { status: 'TimeLimitExceeded', execution_time: time, return_code: returnCode(r), stdout: r.stdout, stderr: r.stderr } };
  const code = returnCode(r) ?? (r.status === 'ok' ? 0 : 1);
  return {
    ...base,
    status: r.status === 'ok' && code === 0 ? 'Success' : 'Failed',
    message: '',
    run_result: { status: 'Finished', execution_time: time, return_code: code, stdout: r.stdout, stderr: r.stderr },
  };
}

/**
 * Longest wait in the admission queue for one `/run_code` request, ms: the server's setting, and at
 * most `compile_timeout` (default 10) + 8 s — verl's Sandbox Fusion client gives up on a request after
 * compile_timeout + run_timeout + 10 s, so a run that starts by then still answers in time.
 */
export function sandboxWait(body: unknown, maxMs: number): number {
  const c = (body as { compile_timeout?: unknown }).compile_timeout;
  const compileS = typeof c === 'number' && Number.isFinite(c) && c > 0 ? c : 10;
  return Math.max(1, Math.min(maxMs, Math.round((compileS + 8) * 1000)));
}

/** Registers `POST /run_code`. */
export function registerRunCodeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/run_code', { config: { auth: 'query', scoring: true } }, async (req): Promise<RunCodeResponse> => {
    const r = checkRunCodeBody(req.body);
    req.rolloutCount = 1;
    const language = LANGUAGES.get(r.language);
    if (language === undefined)
      return { status: 'SandboxError', message: `language "${r.language}" is not supported by rewardkit's sandbox (python, nodejs)`, compile_result: null, run_result: null, executor_pod_name: null, files: {} };
    const deadlineS = ctx.options.deadlineMs / 1000;
    const timeoutMs = Math.max(1, Math.round(Math.min(r.runTimeoutS, deadlineS) * 1000));
    // Admission: wait in order for a sandbox slot, at most until verl's client would still get the
    // run's answer in time (see sandboxWait); past that 504, the one status verl's client retries.
    const release = await ctx.admission.sandbox.enter(1, sandboxWait(req.body, ctx.options.sandboxQueueTimeoutMs), req.gone);
    const work = runInSandbox({ language, code: r.code, stdin: r.stdin, limits: { timeoutMs, memoryMb: r.memoryMb } });
    const result = await withDeadline(work, ctx.options.deadlineMs, ctx.metrics, release, undefined, 504);
    return toFusionResponse(result);
  });
}
