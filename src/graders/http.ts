import * as z from 'zod';
import { manage } from '../backends/managed.js';
import { BackendError, type Transport } from '../backends/types.js';
import { MicroBatcher } from './model_calls.js';
import { defineGrader, ParamError, type GradeOutput } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerValueSchema = z.union([
  z.string().describe('A literal value (not for secrets).'),
  z
    .strictObject({
      env: z.string().regex(ENV_NAME, 'must be an environment variable name').describe('Environment variable holding the value (e.g. a token).'),
      prefix: z.string().default('').describe('Text put before the value (e.g. "Bearer ").'),
    })
    .describe('A value read from an environment variable when the spec loads.'),
]);

/**
 * `http` — your own reward service: rollouts are POSTed in batches to `url`, the service answers one
 * score per rollout.
 *
 * ```yaml
 * - name: service
 *   grader: http
 *   url: http://127.0.0.1:9000/grade
 *   headers: {Authorization: {env: GRADER_TOKEN, prefix: "Bearer "}, X-Team: rl}
 *   params: {strict: true}
 *   batch_size: 32
 * ```
 *
 * Request (`POST url`, `content-type: application/json`):
 * `{"rollouts": [{"id", "prompt", "completion", "reference", "meta"}, …], "params": {…}}` — prompt
 * and completion as plain text (chat messages joined the way every grader sees them), `reference` and
 * `meta` as given, `params` the component's `params:` object.
 *
 * Response (status 2xx, JSON): a list with one entry per rollout, in order — or `{"scores": [...]}` —
 * each entry a number, `null` ("cannot judge") or `{"score": number | null, "details": {...}}`.
 *
 * Calls go through the managed backend wrapper like every model backend: at most `concurrency`
 * requests in flight, each attempt bounded by `timeout_ms`, retries with exponential backoff and
 * jitter after a 429, a 5xx, a timeout or a connection error (a `Retry-After` is honoured), every
 * call bounded by `deadline_ms`, and counters (requests, calls, retries, errors) in the spec's backend
 * stats under `http:<component name>` (`rewardkit score` summary, the server's metrics). Rollouts
 * graded in the same tick share a request of up to `batch_size` rollouts. Responses are not cached.
 *
 * Failures never lose the batch: a request that still fails after its retries (service down, 4xx,
 * deadline) is an error on each rollout it carried; a response that is not JSON, not a list, of the
 * wrong length is an error on each rollout of that request; an entry that is not a number / null /
 * `{score, details}` is an error on its rollout only. Messages name the URL and what was wrong.
 *
 * **Security model.** The service is yours: rewardkit sends it the rollouts (prompts, completions,
 * references, meta) and trusts the numbers it returns. Header values that are secrets come from
 * environment variables (`{env: NAME}`), never from the spec, and are scrubbed from error messages.
 * The null rule is the service's responsibility: it should answer `null` only when it cannot judge.
 *
 * @example
 * # spec
 * - {name: service, grader: http, url: "http://127.0.0.1:9000/grade", params: {word: Paris}}
 * # service answers [1, 0] to {"rollouts": [{"id": "a", "completion": "Paris", …}, {"id": "b", "completion": "Lyon", …}], "params": {"word": "Paris"}}
 * # → service = 1 for a, 0 for b
 */
export const httpGrader = defineGrader({
  kind: 'http',
  summary: 'Your own reward service: rollouts POSTed in batches to a URL, one score (number, null or {score, details}) per rollout back.',
  params: {
    url: z.url({ protocol: /^https?$/ }).describe('Endpoint the batches are POSTed to (http or https).'),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), headerValueSchema)
      .default({})
      .describe('Request headers: a literal string, or {env: NAME, prefix?} to read the value (a token) from an environment variable.'),
    params: z.record(z.string(), z.unknown()).default({}).describe('Sent as `params` in every request body.'),
    batch_size: z.number().int().min(1).max(4096).default(32).describe('Most rollouts in one request; rollouts graded in the same tick are grouped up to this size (default 32).'),
    concurrency: z.number().int().min(1).max(1024).default(4).describe('Requests in flight at once (default 4).'),
    timeout_ms: z.number().int().min(1).default(30_000).describe('Limit of one attempt in milliseconds; a slower request is aborted and retried (default 30000).'),
    retries: z.number().int().min(0).max(20).default(2).describe('Retries after a 429, 5xx, timeout or connection error (default 2); other errors fail at once.'),
    backoff_ms: z.number().int().min(0).default(500).describe('Base of the exponential backoff between retries, with full jitter (default 500).'),
    max_backoff_ms: z.number().int().min(0).default(5_000).describe("Cap of one backoff wait, a server's Retry-After included (default 5000)."),
    deadline_ms: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Limit of one request in milliseconds, retries and backoff included (default: timeout_ms × (retries + 1) + max_backoff_ms × retries).'),
  },
  create(params, ctx) {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const secrets: string[] = [];
    for (const [name, v] of Object.entries(params.headers)) {
      if (typeof v === 'string') headers[name] = v;
      else {
        const value = process.env[v.env];
        if (value === undefined || value === '') throw new ParamError(`headers.${name}.env`, `environment variable ${v.env} is not set (it holds the ${name} header)`);
        headers[name] = v.prefix + value;
        secrets.push(value);
      }
    }
    const url = params.url;
    const transport: Transport = {
      type: 'http',
      model: url,
      // The managed wrapper's single-request operation carries one POST: the body is the message content.
      chat: (req, signal) => post(url, headers, req.messages[0]!.content, signal),
    };
    const name = `http:${ctx.name}`;
    const backend = manage(name, transport, {
      concurrency: params.concurrency,
      timeout_ms: params.timeout_ms,
      deadline_ms: params.deadline_ms,
      retries: params.retries,
      backoff_ms: params.backoff_ms,
      max_backoff_ms: params.max_backoff_ms,
      cache: null,
      secrets,
    });
    ctx.registerBackend?.(backend);
    const prefix = `backend "${name}" chat: `;
    const label = `http grader "${ctx.name}": POST ${url}`;
    const userParams = params.params;
    type Item = { id: string; prompt: string; completion: string; reference: unknown; meta: unknown };
    type Out = { ok: GradeOutput } | { error: string };
    const batcher = new MicroBatcher<Item, Out>(
      async (items) => {
        let text: string;
        try {
          ({ text } = await backend.chat({ messages: [{ role: 'user', content: JSON.stringify({ rollouts: items, params: userParams }) }] }));
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          throw new Error(`${label}: ${msg.startsWith(prefix) ? msg.slice(prefix.length) : msg}`, { cause: e });
        }
        return parseAnswer(text, items.length, label);
      },
      { maxBatch: params.batch_size, key: (it) => JSON.stringify(it), what: label },
    );
    return {
      scope: 'rollout',
      async grade(s) {
        const out = await batcher.submit({
          id: s.id,
          prompt: s.prompt,
          completion: s.completion,
          reference: s.reference ?? null,
          meta: s.meta ?? {},
        });
        if ('error' in out) throw new Error(out.error);
        return out.ok;
      },
    };
  },
});

const RETRYABLE_STATUS = (s: number) => s === 408 || s === 409 || s === 429 || s >= 500;

/** One POST; statuses and connection failures become {@link BackendError}s the wrapper retries or not. */
async function post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<{ text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new BackendError(`connection failed: ${cause?.code ?? cause?.message ?? (e as Error).message}`, { retryable: true, cause: e });
  }
  const text = await res.text();
  if (!res.ok) {
    const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new BackendError(`HTTP ${res.status}${snippet ? `: ${snippet.replace(/\s+/g, ' ')}` : ''}`, {
      retryable: RETRYABLE_STATUS(res.status),
      status: res.status,
      cause: { status: res.status, headers: res.headers },
    });
  }
  return { text };
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Reads a service's answer: a list of `n` entries or `{scores: [...]}`. A whole answer that is wrong
 * throws (every rollout of the request errs); a wrong entry errs its rollout only.
 */
function parseAnswer(text: string, n: number, label: string): ({ ok: GradeOutput } | { error: string })[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${label} answered with something that is not JSON: ${show(text.slice(0, 120))}`);
  }
  const list = Array.isArray(body) ? body : body !== null && typeof body === 'object' && Array.isArray((body as { scores?: unknown }).scores) ? (body as { scores: unknown[] }).scores : null;
  if (!list) throw new Error(`${label} answered ${show(body)}, expected a list of ${n} scores or {"scores": [...]}`);
  if (list.length !== n) throw new Error(`${label} answered ${list.length} scores for ${n} rollouts`);
  return list.map((v, i) => {
    const bad = (what: string) => ({ error: `${label} answered scores[${i}] = ${show(v)}: ${what}` });
    if (v === null) return { ok: null };
    if (typeof v === 'number') return Number.isFinite(v) ? { ok: v } : bad('not a finite number');
    if (typeof v === 'object' && !Array.isArray(v) && 'score' in v) {
      const { score, details } = v as { score: unknown; details?: unknown };
      if (score !== null && (typeof score !== 'number' || !Number.isFinite(score))) return bad('score is not a finite number or null');
      if (details !== undefined && (details === null || typeof details !== 'object' || Array.isArray(details))) return bad('details is not an object');
      return { ok: details === undefined ? { score: score as number | null } : { score: score as number | null, details: details as Record<string, unknown> } };
    }
    return bad('expected a number, null or {"score", "details"}');
  });
}
