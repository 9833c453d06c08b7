import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/**
 * `GET /openapi.json` (OpenAPI 3.1 description of every route) and `GET /docs` (the same, as one
 * self-contained HTML page: no scripts, no external assets).
 */

const error = { $ref: '#/components/schemas/Error' };
const errorResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      {
        description:
          {
            400: 'Malformed JSON, JSON nested too deeply, or a `__proto__` key.',
            401: 'Missing or invalid token (when the server has one).',
            413: 'Body over the byte limit (`--body-limit`). There is no rollout-count limit: large batches are scored in chunks.',
            415: 'Content type is not application/json.',
            422: 'Well-formed JSON that breaks the contract: wrong type, missing field, empty batch, unknown spec.',
            503: 'The admission queue is full (bytes or rollouts held) or the request waited past the queue deadline — retry after `Retry-After` seconds; the scoring deadline passed; or the server is shutting down.',
            504: '`/run_code`: the admission queue is full or the request waited past its queue deadline (verl\'s Sandbox Fusion client retries 504); retry after `Retry-After` seconds.',
          }[c] ?? '',
        content: { 'application/json': { schema: error } },
      },
    ]),
  );

const rollout = {
  type: 'object',
  required: ['id', 'completion'],
  description: 'One sampled completion for one prompt (rewardkit data contract). Other keys are allowed and ignored.',
  properties: {
    id: { type: 'string', minLength: 1 },
    group: { type: 'string', description: 'Rollouts sharing a group were sampled for the same prompt (default: one group per distinct prompt).' },
    prompt: { oneOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/components/schemas/ChatMessage' } }] },
    completion: { oneOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/components/schemas/ChatMessage' } }] },
    reference: { description: 'Ground truth (any JSON value).' },
    steps: { type: 'array', items: { type: 'object' } },
    meta: { type: 'object', description: '`data_source` routes the rollout to a spec when the request names none.' },
    completion_ids: {
      type: ['array', 'null'],
      items: { type: 'integer', minimum: 0 },
      description: "The completion's token ids (TRL's `completion_ids`); their count is the length `unit: tokens` reads first.",
    },
    response_length: {
      type: ['integer', 'null'],
      minimum: 0,
      description: "The completion's length in the policy's tokens (verl's `valid_response_length`), read when `completion_ids` is absent.",
    },
  },
};

/** The OpenAPI document of the server (paths and schemas; the served spec names as an enum). */
export function openApiDocument(ctx: ServerContext): Record<string, unknown> {
  const specNames = ctx.specs.names();
  const bearer = ctx.options.token ? [{ bearer: [] }] : [];
  const bearerOrQuery = ctx.options.token ? [{ bearer: [] }, { queryToken: [] }] : [];
  return {
    openapi: '3.1.0',
    info: {
      title: 'rewardkit reward server',
      version: '1',
      description:
        'Scores rollouts with declarative reward specs. Native API (`/v1/score`), OpenRLHF remote reward (`/get_reward`), Sandbox Fusion code runs for verl (`/run_code`). Every error is `{error, path}`.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'For trainers that cannot send headers (OpenRLHF, verl sandbox_fusion).' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'path'],
          properties: { error: { type: 'string' }, path: { type: 'string', description: 'Offending part of the request, e.g. `rollouts[3].completion`; empty for the whole request.' } },
        },
        ChatMessage: { type: 'object', required: ['role'], properties: { role: { type: 'string' }, content: {}, tool_calls: { type: 'array' } } },
        Rollout: rollout,
        Result: {
          type: 'object',
          required: ['id', 'reward', 'components'],
          properties: {
            id: { type: 'string' },
            reward: { type: ['number', 'null'] },
            components: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
            advantage: { type: ['number', 'null'], description: 'Present when the spec has an estimator; 0 when the reward is null (a rollout that cannot be judged does not move the policy).' },
            details: { type: 'object', description: "Each grader's details, when asked." },
            errors: { type: 'array', items: { type: 'object', properties: { component: { type: 'string' }, message: { type: 'string' } } } },
            steps: {
              type: 'array',
              description: 'Per step of a multi-turn rollout, when the spec has `credit` or step-scoped components.',
              items: {
                type: 'object',
                required: ['reward'],
                properties: {
                  reward: { type: ['number', 'null'], description: 'The credited step reward.' },
                  advantage: { type: ['number', 'null'], description: 'Present when the spec has `credit`.' },
                  components: { type: 'object', additionalProperties: { type: ['number', 'null'] }, description: 'Step-scoped components.' },
                  details: { type: 'object' },
                },
              },
            },
          },
        },
      },
    },
    paths: {
      '/v1/score': {
        post: {
          summary: 'Score a batch of rollouts',
          description:
            "Each spec's rollouts form one batch: groups and advantages as `rewardkit score` computes them. Spec: `spec`, else each rollout's `meta.data_source` (route table, or a spec of that name), else the default spec.",
          security: bearer,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['rollouts'],
                  additionalProperties: false,
                  properties: {
                    spec: { type: 'string', enum: specNames },
                    rollouts: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/Rollout' } },
                    details: { type: 'boolean', default: false },
                    diagnostics: { type: 'boolean', default: false },
                  },
                },
              },
            },
          },
          responses: {
            200: {
              description: 'Results in request order; `diagnostics` keyed by spec name when asked.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['results'],
                    properties: { results: { type: 'array', items: { $ref: '#/components/schemas/Result' } }, diagnostics: { type: 'object', additionalProperties: { type: 'object' } } },
                  },
                },
              },
            },
            ...errorResponses(400, 401, 413, 415, 422, 503),
          },
        },
      },
      '/get_reward': {
        post: {
          summary: 'OpenRLHF remote reward',
          description:
            'Body as OpenRLHF posts it. Each response = query minus its prompt prefix (EOS markers stripped). `scores` ∈ [0,1] for dynamic filtering. `extra_logs` holds one number per query and key: `rk/<component>`, `rk_meta/error`, `rk_meta/null_reward`, `rk_meta/judged`, `rk_meta/prefix_mismatch`. A null reward is sent as the mean of the judged rewards of the queries with the same prompt (advantage 0), or the configured null reward when none is judged.',
          security: bearerOrQuery,
          parameters: [
            { name: 'spec', in: 'query', required: false, schema: { type: 'string', enum: specNames } },
            { name: 'token', in: 'query', required: false, schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['query'],
                  properties: { query: { type: 'array', items: { type: 'string' } }, prompts: { type: 'array', items: { type: 'string' } }, labels: { type: 'array' } },
                },
              },
            },
          },
          responses: {
            200: {
              description: 'One reward and score per query.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['rewards', 'scores', 'extra_logs'],
                    properties: {
                      rewards: { type: 'array', items: { type: 'number' } },
                      scores: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
                      extra_logs: { type: 'object', additionalProperties: { type: 'array', items: { type: 'number' } } },
                    },
                  },
                },
              },
            },
            ...errorResponses(400, 401, 413, 415, 422, 503),
          },
        },
      },
      '/run_code': {
        post: {
          summary: 'Run a program (Sandbox Fusion protocol, for verl)',
          description:
            'python, nodejs (js, javascript), typescript (ts), c, cpp, java, go, rust and bash run in the code grader\'s sealed sandbox (compiled languages are compiled there first; a language whose toolchain the machine lacks answers SandboxError). The response follows Sandbox Fusion: 200 with `status` Success / Failed / SandboxError, `compile_result` for compiled languages, fetched `files` as base64.',
          security: bearerOrQuery,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['code', 'language'],
                  properties: {
                    code: { type: 'string' },
                    language: { type: 'string', description: 'python, nodejs, js, javascript, typescript, ts, c, cpp, java, go, rust, bash; other Sandbox Fusion languages answer SandboxError' },
                    stdin: { type: ['string', 'null'] },
                    compile_timeout: { type: 'number', description: 'seconds, default 10 (compiled languages)' },
                    run_timeout: { type: 'number', description: 'seconds, default 10' },
                    memory_limit_MB: { type: 'integer', description: 'MiB, default -1: no per-request limit (the sandbox ceiling, 4096)' },
                    files: { type: 'object', additionalProperties: { type: ['string', 'null'] }, description: 'relative path → base64 content, written to the working directory before the run' },
                    fetch_files: { type: 'array', items: { type: 'string' }, description: 'relative paths read back after the run (base64 in the response `files`)' },
                    args: { type: 'array', description: 'accepted and ignored (Sandbox Fusion passes them to pytest)' },
                  },
                },
              },
            },
          },
          responses: {
            200: { description: 'Sandbox Fusion RunCodeResponse: `{status, message, compile_result, run_result, executor_pod_name, files}`.' },
            ...errorResponses(400, 401, 413, 415, 422, 503, 504),
          },
        },
      },
      '/v1/specs': { get: { summary: 'Served specs, default spec and data_source routes', security: bearer, responses: { 200: { description: 'The specs.' }, ...errorResponses(401) } } },
      '/healthz': { get: { summary: 'Liveness (no token needed)', security: [], responses: { 200: { description: '`{status: "ok"}`; with `--state`, also `state: "up"` or `"unavailable"` (Redis unreachable: specs with cross-batch state get 503 meanwhile, the others are served)' }, 503: { description: 'Shutting down.' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: bearer, responses: { 200: { description: 'Prometheus text exposition.' }, ...errorResponses(401) } } },
      '/openapi.json': { get: { summary: 'This document', security: bearer, responses: { 200: { description: 'OpenAPI 3.1 JSON.' } } } },
      '/docs': { get: { summary: 'This document as HTML', security: bearer, responses: { 200: { description: 'HTML.' } } } },
    },
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Renders the OpenAPI document as a static HTML page. */
export function docsHtml(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; description: string };
  const paths = doc.paths as Record<string, Record<string, { summary: string; description?: string; requestBody?: unknown; parameters?: unknown; responses: Record<string, { description: string }> }>>;
  let body = `<h1>${esc(info.title)}</h1><p>${esc(info.description)}</p><p><a href="openapi.json">openapi.json</a></p>`;
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      body += `<section><h2><code>${method.toUpperCase()} ${esc(path)}</code> — ${esc(op.summary)}</h2>`;
      if (op.description) body += `<p>${esc(op.description)}</p>`;
      if (op.parameters) body += `<h3>Query parameters</h3><pre>${esc(JSON.stringify(op.parameters, null, 2))}</pre>`;
      if (op.requestBody) body += `<h3>Request body</h3><pre>${esc(JSON.stringify(op.requestBody, null, 2))}</pre>`;
      body += '<h3>Responses</h3><ul>';
      for (const [code, r] of Object.entries(op.responses)) body += `<li><b>${code}</b> ${esc(r.description)}</li>`;
      body += '</ul></section>';
    }
  }
  body += `<h2>Schemas</h2><pre>${esc(JSON.stringify((doc.components as { schemas: unknown }).schemas, null, 2))}</pre>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(info.title)}</title><style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.6rem;overflow:auto;font-size:13px}section{border-top:1px solid #ddd;margin-top:1.2rem}</style></head><body>${body}</body></html>`;
}

/** Registers `GET /openapi.json` and `GET /docs`. */
export function registerOpenApiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const doc = openApiDocument(ctx);
  const html = docsHtml(doc);
  app.get('/openapi.json', { config: { auth: 'bearer' } }, async () => doc);
  app.get('/docs', { config: { auth: 'bearer' } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(html));
}
