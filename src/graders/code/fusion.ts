/**
 * Sandbox Fusion's `/run_code` wire format (bytedance/SandboxFusion, `sandbox/server/sandbox_api.py`
 * and the runner types) mapped onto {@link runInSandbox}, so that a server can offer the route that
 * verl's `sandbox_fusion` reward and other trainers call. Only `python` and `nodejs` (plus the alias
 * `javascript`) are runnable here; `files` and `fetch_files` are not supported.
 *
 * Status mapping, chosen so that verl's `check_correctness` derives the same codes as the `code`
 * grader: ok → `Success`, run `Finished` with code 0; compile error → `Failed` with a failed
 * `compile_result` (verl −4; Sandbox Fusion itself has no compile step for Python, so its syntax errors
 * surface as runtime errors); timeout → `Failed`, run `TimeLimitExceeded` (−3); runtime error, memory
 * or output limit → `Failed`, run `Finished` with a non-zero code (128 + signal when killed) (−2);
 * sandbox failure → `SandboxError` (−1).
 */
import type { RunRequest, RunResult, SandboxLanguage } from './sandbox.js';

export interface RunCodeRequestBody {
  code: string;
  language: string;
  stdin?: string | null;
  compile_timeout?: number;
  run_timeout?: number;
  memory_limit_MB?: number;
  files?: Record<string, string | null>;
  fetch_files?: string[];
}

export interface CommandRunResult {
  status: 'Finished' | 'Error' | 'TimeLimitExceeded';
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

export interface RunCodeResponseBody {
  status: 'Success' | 'Failed' | 'SandboxError';
  message: string;
  compile_result: CommandRunResult | null;
  run_result: CommandRunResult | null;
  executor_pod_name: string | null;
  files: Record<string, string>;
}

const LANGUAGES: Record<string, SandboxLanguage> = { python: 'python', nodejs: 'javascript', javascript: 'javascript' };

/** A `/run_code` request body as a {@link RunRequest}, or an error sentence (for a 400 response). */
export function runCodeRequestToRun(body: unknown): RunRequest | { error: string } {
  if (body === null || typeof body !== 'object') return { error: 'the body must be a JSON object' };
  const b = body as Partial<RunCodeRequestBody>;
  if (typeof b.code !== 'string') return { error: '`code` must be a string' };
  const language = typeof b.language === 'string' && Object.hasOwn(LANGUAGES, b.language) ? LANGUAGES[b.language] : undefined;
  if (language === undefined) return { error: `unsupported language ${JSON.stringify(b.language)}; supported: python, nodejs` };
  if (b.stdin !== undefined && b.stdin !== null && typeof b.stdin !== 'string') return { error: '`stdin` must be a string' };
  if ((b.files && Object.keys(b.files).length > 0) || (b.fetch_files && b.fetch_files.length > 0)) return { error: '`files` and `fetch_files` are not supported' };
  const runTimeout = b.run_timeout ?? 10;
  if (typeof runTimeout !== 'number' || !(runTimeout > 0)) return { error: '`run_timeout` must be a positive number of seconds' };
  const limits: RunRequest['limits'] = { timeoutMs: Math.round(runTimeout * 1000) };
  if (typeof b.memory_limit_MB === 'number' && b.memory_limit_MB > 0) limits.memoryMb = b.memory_limit_MB;
  return { language, code: b.code, stdin: b.stdin ?? '', limits };
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25 };

/** A {@link RunResult} as a `/run_code` response body. */
export function runResultToRunCodeResponse(r: RunResult): RunCodeResponseBody {
  const seconds = r.wallMs / 1000;
  const base = { executor_pod_name: null, files: {} };
  const returnCode = r.exitCode ?? (r.signal !== null ? 128 + (SIGNAL_NUMBERS[r.signal] ?? 0) : 1);
  const cmd = (status: CommandRunResult['status'], code: number | null): CommandRunResult => ({ status, execution_time: seconds, return_code: code, stdout: r.stdout, stderr: r.stderr });
  switch (r.status) {
    case 'sandbox_error':
      return { ...base, status: 'SandboxError', message: r.message ?? 'sandbox error', compile_result: null, run_result: null };
    case 'ok':
      return { ...base, status: 'Success', message: '', compile_result: null, run_result: cmd('Finished', 0) };
    case 'compile_error':
      return { ...base, status: 'Failed', message: '', compile_result: cmd('Finished', returnCode), run_result: null };
    case 'timeout':
      return { ...base, status: 'Failed', message: '', compile_result: null, run_result: cmd('TimeLimitExceeded', null) };
    default: // runtime_error, memory_limit, output_limit
      return { ...base, status: 'Failed', message: '', compile_result: null, run_result: cmd('Finished', returnCode === 0 ? 1 : returnCode) };
  }
}
