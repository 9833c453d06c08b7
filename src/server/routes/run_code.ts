import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { withDeadline } from '../limits.js';
import { FusionRequestError, parseRunCodeRequest, runFusion, type RunCodeRequest, type RunCodeResponse } from '../../graders/code/fusion.js';

/**
 * `POST /run_code` — Sandbox Fusion's request/response shape (what verl's code reward posts to
 * `reward_model.sandbox_fusion.url`), run in the `code` grader's sealed sandbox; the format, field by
 * field, is in `graders/code/fusion.ts`.
 *
 * Request: `{code, language, stdin?, compile_timeout?, run_timeout?, memory_limit_MB?, files?, fetch_files?}`
 * (seconds; `memory_limit_MB: -1`, the default, = no per-request limit: the sandbox's 4 GiB ceiling).
 * Response (always 200 once the request is valid, as Sandbox Fusion does): `{status:
 * "Success"|"Failed"|"SandboxError", message, compile_result, run_result, executor_pod_name: null, files}`.
 *
 * Runs python, nodejs (js, javascript), typescript (ts), c, cpp, java, go, rust and bash — each only
 * if the machine has its toolchain (otherwise a `SandboxError` saying which is missing). Other
 * Sandbox Fusion languages answer `SandboxError`; an unknown language, a bad field, an absolute or
 * `..` path in `files`/`fetch_files` is a 422 naming the field.
 */

export { FUSION_LANGUAGES, toFusionResponse, type CommandRunResult, type RunCodeRequest, type RunCodeResponse } from '../../graders/code/fusion.js';

/** Checks a `/run_code` body; throws 422 naming the key. */
export function checkRunCodeBody(body: unknown): RunCodeRequest {
  try {
    return parseRunCodeRequest(body);
  } catch (e) {
    if (e instanceof FusionRequestError) throw new HttpError(422, e.message, e.field);
    throw e;
  }
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
    // Admission: wait in order for a sandbox slot, at most until verl's client would still get the
    // run's answer in time (see sandboxWait); past that 504, the one status verl's client retries.
    const release = await ctx.admission.sandbox.enter(1, sandboxWait(req.body, ctx.options.sandboxQueueTimeoutMs), req.gone);
    const work = runFusion(r, ctx.options.deadlineMs / 1000);
    return await withDeadline(work, ctx.options.deadlineMs, ctx.metrics, release, undefined, 504);
  });
}
