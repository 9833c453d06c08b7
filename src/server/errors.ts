/**
 * Errors the server answers with: every error response is `{error, path}` JSON, where `path` names
 * the offending part of the request (`rollouts[3].completion`, `headers.authorization`, `spec`) or is
 * `''` when the whole request is at fault.
 */

/** The body of every error response. */
export interface ErrorBody {
  error: string;
  path: string;
}

/** An error with an HTTP status and the request path it is about; the error handler turns it into `{error, path}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path = '',
    /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /** The JSON body sent for this error. */
  body(): ErrorBody {
    return { error: this.message, path: this.path };
  }
}

/** `['rollouts', 3, 'meta']` → `rollouts[3].meta` (the same notation as spec and rollout errors). */
export function jsonPath(parts: readonly (string | number)[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}

/** Short name of a JSON value's type for messages: `null`, `array`, `string` … */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
