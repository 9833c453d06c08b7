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

/** Registers `POST /run_code`. */
export function registerRunCodeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/run_code', { config: { auth: 'query', scoring: true } }, async (req): Promise<RunCodeResponse> => {
    const r = checkRunCodeBody(req.body);
    req.rolloutCount = 1;
    const work = runFusion(r, ctx.options.deadlineMs / 1000);
    return await withDeadline(work, ctx.options.deadlineMs, ctx.metrics, () => {});
  });
}
