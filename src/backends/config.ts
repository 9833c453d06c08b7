/**
 * The spec's `backends:` section — named model backends that model graders refer to by `backend: <name>`
 * — and {@link buildBackends}, which turns it into managed {@link Backend}s:
 *
 * ```yaml
 * backends:
 *   judge: {type: openai, base_url: http://127.0.0.1:8000/v1, model: Qwen/Qwen2.5-7B-Instruct, concurrency: 64}
 *   hosted: {type: openai, base_url: https://api.openai.com/v1, model: gpt-4o-mini, api_key_env: OPENAI_API_KEY}
 *   rm: {type: openai, base_url: http://127.0.0.1:8001/v1, model: Skywork/Skywork-Reward-V2-Qwen3-0.6B, reward_format: classify}
 *   local: {type: gguf, path: models/tiny.gguf}
 * ```
 *
 * The options every backend type shares (limits, retries, cache) are defined once here
 * ({@link sharedBackendOptions}) and added to each type's own schema.
 */
import { resolve } from 'node:path';
import { homedir } from 'node:os';
import * as z from 'zod';
import { SpecError, zodIssues } from '../spec/errors.js';
import { defaultCachePath, openCache, type ResponseCache } from './cache.js';
import { openRedisCache } from './redis_cache.js';
import { isRedisUrl } from './redis_url.js';
import { resolverOf } from './fake.js';
import { createGgufTransport, ggufConfigSchema } from './gguf.js';
import { manage } from './managed.js';
import { remoteBackends, remoteTransport, transportConfig } from './remote.js';
import { apiKeyOf, createOpenAITransport, defaultRewardTemplate, PLACEHOLDER_API_KEY, REWARD_TEMPLATE_FIELDS, unknownTemplateFields } from './openai.js';
import type { Backend, BackendResolver, BackendStats, Transport } from './types.js';

/**
 * The options of every backend type, with the default concurrency of that type (an HTTP server takes
 * many requests at once; an embedded model shares this machine's cores).
 *
 * @example
 * const schema = ggufConfigSchema.extend(sharedBackendOptions({ concurrency: 1 }));
 */
export function sharedBackendOptions(defaults: { concurrency: number }) {
  return {
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(defaults.concurrency)
      .describe(`Model calls in flight at once; further requests wait their turn (default ${defaults.concurrency}).`),
    timeout_ms: z.number().int().min(1).default(60_000).describe('Limit of one attempt in milliseconds; a slower call is aborted and retried (default 60000).'),
    deadline_ms: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Limit of one operation in milliseconds, retries and backoff included, counted from when it starts running (default: timeout_ms × (retries + 1) + max_backoff_ms × retries). Nothing waits on a backend longer.'),
    retries: z.number().int().min(0).max(20).default(4).describe('Retries after a 429, 5xx, timeout or connection error (default 4); other errors fail at once.'),
    backoff_ms: z.number().int().min(0).default(500).describe('Base of the exponential backoff between retries, with full jitter: retry k waits a uniform time in [0, backoff_ms × 2^(k−1)] (default 500).'),
    max_backoff_ms: z.number().int().min(0).default(30_000).describe("Cap of one backoff wait, a server's Retry-After included (default 30000)."),
    batch_size: z.number().int().min(1).max(4096).default(32).describe('Texts (embeddings) or inputs (reward models) sent in one call at most (default 32).'),
    cache: z
      .union([z.boolean(), z.string().min(1)])
      .default(true)
      .describe('Persistent response cache: true (the default file: $REWARDKIT_CACHE, else $XDG_CACHE_HOME/rewardkit/responses.sqlite, else ~/.cache/rewardkit/responses.sqlite), false (none), the path of a SQLite file (relative to the spec), or redis://HOST:PORT/DB[?ttl=SECONDS] to share answers between replicas and machines (Redis unreachable: the model is called, nothing fails).'),
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BACKEND_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `type: openai` — any OpenAI-compatible server (vLLM, SGLang, llama.cpp server, Ollama, hosted APIs). */
export const openaiConfigSchema = z.strictObject({
  type: z.literal('openai').describe('An OpenAI-compatible HTTP server, through the official openai client.'),
  base_url: z.url({ protocol: /^https?$/ }).describe('Base URL of the OpenAI API, including its /v1 (e.g. http://127.0.0.1:8000/v1).'),
  model: z.string().min(1).describe('Model name sent with every request (and part of every cache key).'),
  api_key_env: z
    .string()
    .regex(ENV_NAME, 'must be an environment variable name')
    .optional()
    .describe(`Name of the environment variable holding the API key (the key itself never goes in the spec). Unset or absent: the placeholder "${PLACEHOLDER_API_KEY}" is sent, which local servers accept.`),
  logprobs_mode: z
    .enum(['echo', 'prompt_logprobs'])
    .default('echo')
    .describe("How continuation log-probs are asked of /completions: 'echo' (echo: true with logprobs; vLLM, OpenAI legacy) or 'prompt_logprobs' (vLLM's prompt_logprobs parameter)."),
  echo_max_tokens: z
    .union([z.literal(0), z.literal(1)])
    .default(0)
    .describe('max_tokens of an echo log-prob request: 0 (vLLM) or 1 for servers that refuse 0 (the one generated token is ignored).'),
  reward_format: z
    .enum(['pooling', 'classify', 'score'])
    .default('pooling')
    .describe("Reply shape of the reward-model route: 'pooling' (vLLM /pooling: one value, a one-element vector, or per-token rows of which the last is used), 'classify' (vLLM /classify: probs, see reward_label_index) or 'score' (vLLM /score: a cross-encoder's score of text_1 = prompt against text_2 = the filled template). vLLM applies the model's activation (sigmoid/softmax) to classify and score unless a request field in extra_body turns it off."),
  reward_route: z
    .string()
    .min(1)
    .optional()
    .describe('Route of reward-model scoring: a path from the server root (vLLM serves /pooling, /classify and /score there, not under /v1), a path relative to base_url (no leading slash), or a full URL. Default: /pooling, /classify or /score per reward_format.'),
  reward_template: z
    .string()
    .min(1)
    .refine((t) => unknownTemplateFields(t).length === 0, { message: `may use only ${REWARD_TEMPLATE_FIELDS.map((f) => `{{${f}}}`).join(', ')}` })
    .optional()
    .describe('Text the reward model scores, with {{prompt}}, {{completion}} and {{reference}} filled in (a reference-conditioned reward model such as POLAR uses {{reference}}). Default: {{prompt}}{{completion}} — the two concatenated as they are, so put any chat template or separator here; for reward_format score, the default is {{completion}} (text_2; text_1 is the prompt).'),
  reward_label_index: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Which class (classify) or vector element (pooling) is the reward when the model returns more than one value; required then.'),
  extra_body: z.record(z.string(), z.unknown()).optional().describe('Extra fields merged into every request body (e.g. {chat_template_kwargs: {enable_thinking: false}}, top_k); passed through unchecked.'),
  ...sharedBackendOptions({ concurrency: 16 }),
});

/** `type: gguf` — the embedded model's own fields (gguf.ts) plus the shared options. */
export const ggufBackendSchema = ggufConfigSchema.extend(sharedBackendOptions({ concurrency: 1 }));

/** One entry of the spec's `backends:`, by `type`. */
export const backendConfigSchema = z.discriminatedUnion('type', [openaiConfigSchema, ggufBackendSchema]).describe('A model backend, by type: openai (an OpenAI-compatible server) or gguf (an embedded GGUF model).');

/** The spec's `backends:` section: backend name → config. */
export const backendsSectionSchema = z
  .record(z.string(), backendConfigSchema)
  .superRefine((section, ctx) => {
    for (const name of Object.keys(section)) {
      if (!BACKEND_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a backend name is letters, digits, _ and -, starting with a letter or _' });
    }
  })
  .describe('Named model backends; model graders refer to one with backend: <name>.');

export type OpenAIBackendConfig = z.output<typeof openaiConfigSchema>;
export type BackendConfig = z.output<typeof backendConfigSchema>;

/** What {@link buildBackends} returns. */
export interface BuiltBackends {
  /** For grader factories (GraderContext.backends). */
  resolver: BackendResolver;
  list: Backend[];
  /** Counters of every backend, by name. */
  stats(): Record<string, BackendStats>;
  /** Closes every backend and the cache files. */
  close(): Promise<void>;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

function transportOf(config: BackendConfig, specDir: string, env: NodeJS.ProcessEnv): Transport {
  if (config.type === 'openai') return createOpenAITransport(config, env);
  return createGgufTransport(config, specDir);
}

/**
 * A transport from a backend configuration as a backend job carries it (remote.ts: the spec's config
 * without the server-side options), validated by the spec's schema; the API key comes from `env`.
 * Returns the transport and the secrets its errors must not show. Throws a {@link SpecError} naming
 * the invalid field.
 *
 * @example
 * const { transport } = buildTransport({ type: 'openai', base_url: 'http://127.0.0.1:8000/v1', model: 'qwen' }, '.', process.env);
 */
export function buildTransport(config: unknown, specDir: string, env: NodeJS.ProcessEnv): { transport: Transport; secrets: string[] } {
  const parsed = backendConfigSchema.safeParse(config);
  if (!parsed.success) throw new SpecError('backend job', zodIssues(parsed.error, ['backend']));
  const key = parsed.data.type === 'openai' ? apiKeyOf(parsed.data, env) : PLACEHOLDER_API_KEY;
  return { transport: transportOf(parsed.data, specDir, env), secrets: key === PLACEHOLDER_API_KEY ? [] : [key] };
}

/** Settings that change an openai backend's answers without changing the requests (part of its cache keys). */
function scopeOf(config: BackendConfig): unknown {
  if (config.type !== 'openai') return undefined;
  return {
    reward_format: config.reward_format,
    reward_template: config.reward_template ?? defaultRewardTemplate(config.reward_format),
    reward_label_index: config.reward_label_index,
    extra_body: config.extra_body,
  };
}

/**
 * Builds the backends of a spec's `backends:` section (validated here; the input may be raw or already
 * parsed). Backends sharing a cache file share one connection to it. Throws a {@link SpecError} naming
 * the path of an invalid field, or an Error naming the backend that could not be built.
 *
 * @example
 * const built = buildBackends({ judge: { type: 'openai', base_url: 'http://127.0.0.1:8000/v1', model: 'qwen' } }, { specDir: '.' });
 * const judge = built.resolver.get('judge', ['chat']);
 * await built.close();
 */
export function buildBackends(section: z.input<typeof backendsSectionSchema>, opts: { specDir: string; env?: NodeJS.ProcessEnv }): BuiltBackends {
  // zod drops a `__proto__` key silently: a backend by that name would vanish (spec/names.ts).
  if (typeof section === 'object' && section !== null && Object.prototype.hasOwnProperty.call(section, '__proto__'))
    throw new SpecError('backends', [{ path: 'backends.__proto__', message: 'a `__proto__` key is not allowed in a spec (it would be dropped silently, or change an object\'s prototype): rename it' }]);
  const parsed = backendsSectionSchema.safeParse(section);
  if (!parsed.success) throw new SpecError('backends', zodIssues(parsed.error, ['backends']));
  const env = opts.env ?? process.env;
  const caches = new Map<string, ResponseCache>();
  const list: Backend[] = [];
  const closeAll = async () => {
    await Promise.allSettled(list.map((b) => b.close()));
    await Promise.allSettled([...caches.values()].map(async (c) => c.close()));
  };
  for (const [name, config] of Object.entries(parsed.data)) {
    try {
      let cache: ResponseCache | null = null;
      if (config.cache !== false) {
        const redis = typeof config.cache === 'string' && isRedisUrl(config.cache);
        const path = config.cache === true ? defaultCachePath(env) : redis ? (config.cache as string) : resolve(opts.specDir, expandHome(config.cache as string));
        cache = caches.get(path) ?? (redis ? openRedisCache(path) : openCache(path));
        caches.set(path, cache);
      }
      const key = config.type === 'openai' ? apiKeyOf(config, env) : PLACEHOLDER_API_KEY;
      // `serve --queue`: the calls become jobs for `rewardkit worker`s (remote.ts); cache, limits,
      // retries and deadline stay here. One attempt may also wait for a free worker.
      const remote = remoteBackends();
      const local = transportOf(config, opts.specDir, env);
      const transport = remote ? remoteTransport(name, transportConfig(config), opts.specDir, config.timeout_ms, local, remote) : local;
      list.push(
        manage(name, transport, {
          concurrency: config.concurrency,
          timeout_ms: remote ? config.timeout_ms + remote.waitMs : config.timeout_ms,
          deadline_ms: config.deadline_ms,
          retries: config.retries,
          backoff_ms: config.backoff_ms,
          max_backoff_ms: config.max_backoff_ms,
          batch_size: config.batch_size,
          cache,
          cacheScope: scopeOf(config),
          secrets: key === PLACEHOLDER_API_KEY ? [] : [key],
        }),
      );
    } catch (e) {
      void closeAll();
      throw new Error(`backends.${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return {
    resolver: resolverOf(list),
    list,
    stats: () => Object.fromEntries(list.map((b) => [b.name, b.stats()])),
    close: closeAll,
  };
}
