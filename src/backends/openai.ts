/**
 * A {@link Transport} for any OpenAI-compatible server — vLLM, SGLang, llama.cpp server, Ollama, hosted
 * APIs — through the official `openai` client, with its own retries off (the wrapper in managed.ts
 * retries, with the backend's limits) and a lean node:http fetch under it (http_fetch.ts).
 *
 * Operations and the routes they use:
 * - `chat` → `POST /chat/completions` (temperature 0 unless asked; a JSON schema becomes
 *   `response_format: {type: 'json_schema', json_schema: {name, schema, strict: true}}`).
 * - `logprobs` → `POST /completions` on `prompt + continuation`, in one of two forms:
 *   `echo` (default): `echo: true, logprobs: 1, max_tokens: 0` (or 1, `echo_max_tokens`, for servers
 *   that refuse 0), reading `choices[0].logprobs.{tokens, token_logprobs, text_offset}`;
 *   `prompt_logprobs`: vLLM's extra parameter `prompt_logprobs: 0`, reading `choices[0].prompt_logprobs`
 *   (one `{token_id: {logprob, rank, decoded_token}}` per prompt token, `null` for the first).
 *   The continuation's tokens are those starting at or after the end of the prompt (see
 *   {@link splitContinuation}); a token spanning the boundary is an error, never a guess.
 * - `embed` → `POST /embeddings` with `encoding_format: 'float'`, vectors put back in input order by
 *   their `index`.
 * - `reward` → `reward_route` posted raw, read per `reward_format`: vLLM's `/pooling` (reward models:
 *   `data[i].data` is the score, a one-element vector, or per-token rows of which the last is taken),
 *   `/classify` (`data[i].probs`, the class `reward_label_index`) or `/score` (cross-encoder pairs
 *   `text_1[i]`, `text_2[i]` → `data[i].score`). The text scored is `reward_template` filled with the
 *   input's `{{prompt}}`, `{{completion}}` and `{{reference}}`; by default the prompt and the completion
 *   concatenated as they are (`{{prompt}}{{completion}}`); for `score` the template fills `text_2` (by
 *   default `{{completion}}`) and `text_1` is the prompt.
 *
 * Errors are {@link BackendError}s: HTTP 408, 409, 429 and 5xx, timeouts and connection failures are
 * retryable; other statuses, a reply that is not JSON and a reply of the wrong shape are not. The API
 * key never appears in a message; the cause of a status error is `{status, headers}` (no body), which
 * the wrapper reads for Retry-After.
 */
import { createRequire } from 'node:module';
import type OpenAIClient from 'openai';
import { createNodeFetch } from './http_fetch.js';

// The openai package costs ~14 MB and ~0.2 s to load: only specs with an openai backend pay for it.
let openaiClass: typeof OpenAIClient | undefined;
function OpenAIClass(): typeof OpenAIClient {
  return (openaiClass ??= (createRequire(import.meta.url)('openai') as { OpenAI: typeof OpenAIClient }).OpenAI);
}
import { BackendError, type ChatRequest, type ChatResponse, type LogprobRequest, type LogprobResponse, type RewardInput, type Transport, type Usage } from './types.js';

/** Sent as the API key when the spec names none, or names an unset variable: local servers accept anything. */
export const PLACEHOLDER_API_KEY = 'EMPTY';

export type LogprobsMode = 'echo' | 'prompt_logprobs';
export type RewardFormat = 'pooling' | 'classify' | 'score';

/** What the transport needs of a backend's config (see config.ts for the documented spec fields). */
export interface OpenAITransportConfig {
  base_url: string;
  model: string;
  api_key_env?: string;
  logprobs_mode?: LogprobsMode;
  echo_max_tokens?: 0 | 1;
  reward_format?: RewardFormat;
  reward_route?: string;
  reward_template?: string;
  reward_label_index?: number;
  extra_body?: Record<string, unknown>;
}

/** Route of each reward format when the spec gives none (vLLM serves them at the server root). */
export const DEFAULT_REWARD_ROUTES: Record<RewardFormat, string> = { pooling: '/pooling', classify: '/classify', score: '/score' };

/** The placeholders a reward template may use. */
export const REWARD_TEMPLATE_FIELDS = ['prompt', 'completion', 'reference'] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z_]\w*)\s*\}\}/g;

/**
 * The reward template used when the spec gives none.
 *
 * @example
 * defaultRewardTemplate('pooling') // → '{{prompt}}{{completion}}'
 */
export function defaultRewardTemplate(format: RewardFormat): string {
  return format === 'score' ? '{{completion}}' : '{{prompt}}{{completion}}';
}

/**
 * Placeholders of `template` that are not {@link REWARD_TEMPLATE_FIELDS} (for config validation).
 *
 * @example
 * unknownTemplateFields('{{prompt}} {{answer}}') // → ['answer']
 */
export function unknownTemplateFields(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!(REWARD_TEMPLATE_FIELDS as readonly string[]).includes(m[1]!)) out.push(m[1]!);
  return out;
}

/**
 * Fills a reward template in one pass (text inside the filled values is never expanded again).
 * Throws when the template uses `{{reference}}` and the input has none.
 *
 * @example
 * renderRewardTemplate('Q: {{prompt}}\nA: {{completion}}', { prompt: '2+2?', completion: '4' }) // → 'Q: 2+2?\nA: 4'
 */
export function renderRewardTemplate(template: string, input: RewardInput): string {
  return template.replace(PLACEHOLDER, (_, field: string) => {
    const v = input[field as keyof RewardInput];
    if (v === undefined) throw new BackendError(`reward_template uses {{${field}}} but the input has no ${field}`, { retryable: false });
    return v;
  });
}

/**
 * The API key a config gives: the value of its `api_key_env` variable, or {@link PLACEHOLDER_API_KEY}.
 *
 * @example
 * apiKeyOf({ api_key_env: 'MY_KEY' }, { MY_KEY: 'sk-1' }) // → 'sk-1'
 */
export function apiKeyOf(config: Pick<OpenAITransportConfig, 'api_key_env'>, env: NodeJS.ProcessEnv = process.env): string {
  const v = config.api_key_env ? env[config.api_key_env] : undefined;
  return v ? v : PLACEHOLDER_API_KEY;
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function bad(message: string): BackendError {
  return new BackendError(`bad response: ${message}`, { retryable: false });
}

/**
 * Picks the continuation's tokens out of a scored `prompt + continuation` (plus, in echo mode with
 * `max_tokens: 1`, one generated token after it). Offsets count code points (Python string length,
 * as vLLM and OpenAI report them) and may be shifted by a BOS token's text: the shift is found from the
 * end, where the last token ends at the end of `fullText`. The first token whose offset is at or past
 * the prompt's end starts the continuation — or, when the prompt ends in whitespace that the tokenizer
 * joined to the continuation's first word, that joined token; any other token spanning the boundary,
 * token texts that do not spell the continuation, or a continuation token without a log-prob are errors.
 *
 * @example
 * splitContinuation(['Q', ':', ' 4'], [0, 1, 2], [null, -1, -0.5], 'Q: 4', 'Q:', ' 4')
 * // → { tokens: [' 4'], logprobs: [-0.5] }
 */
export function splitContinuation(
  tokens: readonly string[],
  offsets: readonly number[],
  logprobs: readonly (number | null)[],
  fullText: string,
  prompt: string,
  continuation: string,
): { tokens: string[]; logprobs: number[] } {
  const n = tokens.length;
  if (n === 0) throw bad('no tokens');
  if (offsets.length !== n || logprobs.length !== n) throw bad(`${n} tokens, ${offsets.length} offsets and ${logprobs.length} log-probs`);
  if (!fullText.startsWith(prompt + continuation)) throw bad('the scored text the server echoed is not the prompt followed by the continuation');
  const base = offsets[n - 1]! + codePoints(tokens[n - 1]!) - codePoints(fullText);
  const promptEnd = base + codePoints(prompt);
  const contEnd = promptEnd + codePoints(continuation);
  let first = -1;
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (offsets[i]! >= promptEnd && offsets[i]! < contEnd) {
      if (first < 0) first = i;
      last = i;
    }
  }
  const straddles = (i: number) => offsets[i]! < promptEnd && offsets[i]! + codePoints(tokens[i]!) > promptEnd;
  // The usual case of a BPE tokenizer: the prompt ends in whitespace that the tokenizer joins to the
  // continuation's first word (prompt "<answer> ", continuation "7", token " 7"). That token is the
  // continuation's first: its log-prob is the word's, as a trainer scoring the whole text sees it.
  let lead = '';
  for (let i = 0; i < n; i++) {
    if (!straddles(i)) continue;
    const inPrompt = [...tokens[i]!].slice(0, promptEnd - offsets[i]!).join('');
    if ((first < 0 || i === first - 1) && /^\s+$/.test(inPrompt)) {
      if (first < 0) last = i;
      first = i;
      lead = inPrompt;
      continue;
    }
    throw new BackendError(
      `the token ${JSON.stringify(tokens[i])} spans the end of the prompt, so the continuation's log-prob cannot be separated from the prompt's; end the prompt at a token boundary — a newline, or move the whitespace between prompt and continuation into the continuation (prompt "…is", continuation " 42")`,
      { retryable: false },
    );
  }
  if (first < 0) throw bad('no token starts inside the continuation');
  const picked = tokens.slice(first, last + 1);
  if (picked.join('') !== lead + continuation) throw bad(`the continuation's tokens spell ${JSON.stringify(picked.join(''))}, not ${JSON.stringify(continuation)}`);
  const lps = logprobs.slice(first, last + 1).map((lp, j) => {
    if (typeof lp !== 'number') throw bad(`token ${JSON.stringify(picked[j])} has no log-prob`);
    return lp;
  });
  return { tokens: picked, logprobs: lps };
}

function usageOf(u: unknown): Usage | undefined {
  if (u === null || typeof u !== 'object') return undefined;
  const { prompt_tokens, completion_tokens } = u as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (typeof prompt_tokens !== 'number') return undefined;
  return { prompt_tokens, completion_tokens: typeof completion_tokens === 'number' ? completion_tokens : 0 };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `data` of a list reply (embeddings, pooling, classify, score), one entry per input, ordered by `index`. */
function byIndex(body: unknown, n: number, what: string): Record<string, unknown>[] {
  if (!isObject(body) || !Array.isArray(body.data)) throw bad(`${what} reply has no data list`);
  if (body.data.length !== n) throw bad(`${what} reply has ${body.data.length} entries for ${n} inputs`);
  const out = new Array<Record<string, unknown>>(n);
  body.data.forEach((d: unknown, j: number) => {
    if (!isObject(d)) throw bad(`${what} entry ${j} is not an object`);
    const i = d.index === undefined ? j : d.index;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n || out[i] !== undefined) throw bad(`${what} entry ${j} has index ${JSON.stringify(d.index)}`);
    out[i] = d;
  });
  return out;
}

function numberList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/** One class value of a vector of class scores: the only one, or the `reward_label_index`th. */
function pickClass(values: number[], labelIndex: number | undefined, where: string): number {
  if (labelIndex !== undefined) {
    if (labelIndex >= values.length) throw bad(`${where} has ${values.length} values, reward_label_index is ${labelIndex}`);
    return values[labelIndex]!;
  }
  if (values.length !== 1) throw bad(`${where} has ${values.length} values; set reward_label_index to the one that is the reward`);
  return values[0]!;
}

/**
 * Maps an error of the `openai` client (or of reading its reply) to a {@link BackendError}. `key` is
 * scrubbed from messages; `keyHint` is added to 401/403 messages.
 */
function mapError(e: unknown, key: string, keyHint: string): BackendError {
  if (e instanceof BackendError) return e;
  const clean = (s: string) => (key.length > 0 ? s.split(key).join('***') : s).slice(0, 500);
  if (e instanceof OpenAIClass().APIUserAbortError || (e instanceof Error && e.name === 'AbortError')) return new BackendError('request aborted', { retryable: true });
  if (e instanceof OpenAIClass().APIConnectionTimeoutError) return new BackendError('connection timed out', { retryable: true });
  if (e instanceof OpenAIClass().APIConnectionError) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}${e.cause.cause instanceof Error ? ` (${e.cause.cause.message})` : ''}` : '';
    return new BackendError(clean(`connection error${cause}`), { retryable: true });
  }
  if (e instanceof OpenAIClass().APIError && typeof e.status === 'number') {
    const status = e.status;
    const inner = isObject(e.error) && typeof e.error.message === 'string' ? e.error.message : e.message.replace(/^\d+\s*/, '');
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const hint = status === 401 || status === 403 ? keyHint : '';
    return new BackendError(clean(`HTTP ${status}: ${inner || 'no message'}`) + hint, { status, retryable, cause: { status, headers: e.headers } });
  }
  if (e instanceof SyntaxError) return bad(`the reply is not valid JSON (${clean(e.message)})`);
  // undici's "terminated": the connection closed while the body was being read.
  if (e instanceof TypeError && /terminated|other side closed|socket/i.test(`${e.message} ${e.cause instanceof Error ? e.cause.message : ''}`)) {
    return new BackendError('connection closed while reading the reply', { retryable: true });
  }
  return new BackendError(clean(e instanceof Error ? e.message : String(e)), { retryable: false });
}

/**
 * Builds the transport. The client is made once, over the lean keep-alive fetch of http_fetch.ts;
 * `close()` closes its idle connections.
 *
 * @example
 * const t = createOpenAITransport({ base_url: 'http://127.0.0.1:8000/v1', model: 'Qwen/Qwen2.5-7B-Instruct' });
 * await t.chat!({ messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal);
 */
export function createOpenAITransport(config: OpenAITransportConfig, env: NodeJS.ProcessEnv = process.env): Transport {
  const key = apiKeyOf(config, env);
  const keyHint =
    config.api_key_env === undefined
      ? ' (the backend names no api_key_env)'
      : key === PLACEHOLDER_API_KEY
        ? ` (environment variable ${config.api_key_env} is not set)`
        : ` (check the key in ${config.api_key_env})`;
  const lean = createNodeFetch();
  const client = new (OpenAIClass())({ apiKey: key, baseURL: config.base_url, maxRetries: 0, fetch: lean.fetch });
  const model = config.model;
  const extra = config.extra_body ?? {};
  const format = config.reward_format ?? 'pooling';
  const route = config.reward_route ?? DEFAULT_REWARD_ROUTES[format];
  const rewardURL = /^https?:\/\//i.test(route) ? route : route.startsWith('/') ? new URL(route, config.base_url).href : `${config.base_url.replace(/\/+$/, '')}/${route}`;
  const template = config.reward_template ?? defaultRewardTemplate(format);
  const wrap = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw mapError(e, key === PLACEHOLDER_API_KEY ? '' : key, keyHint);
    }
  };

  async function chat(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    const body: Record<string, unknown> = { model, messages: req.messages, temperature: req.temperature ?? 0, ...extra };
    if (req.max_tokens !== undefined) body.max_tokens = req.max_tokens;
    if (req.stop !== undefined) body.stop = req.stop;
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.json_schema) body.response_format = { type: 'json_schema', json_schema: { name: req.json_schema.name, schema: req.json_schema.schema, strict: true } };
    const r: unknown = await wrap(() => client.chat.completions.create(body as unknown as OpenAIClient.ChatCompletionCreateParamsNonStreaming, { signal }));
    if (!isObject(r) || !Array.isArray(r.choices) || r.choices.length === 0) throw bad('chat reply has no choices');
    const choice = r.choices[0] as { message?: { content?: unknown }; finish_reason?: unknown };
    const content = choice?.message?.content;
    if (typeof content !== 'string') throw bad(`chat reply's message has no text content (finish_reason ${JSON.stringify(choice?.finish_reason)})`);
    const out: ChatResponse = { text: content };
    if (typeof choice.finish_reason === 'string') out.finish_reason = choice.finish_reason;
    const usage = usageOf(r.usage);
    if (usage) out.usage = usage;
    return out;
  }

  async function logprobs(req: LogprobRequest, signal: AbortSignal): Promise<LogprobResponse> {
    if (req.continuation.length === 0) throw new BackendError('the continuation to score is empty', { retryable: false });
    const text = req.prompt + req.continuation;
    const promptLogprobs = config.logprobs_mode === 'prompt_logprobs';
    const body: Record<string, unknown> = promptLogprobs
      ? { model, prompt: text, max_tokens: 1, temperature: 0, prompt_logprobs: 0, ...extra }
      : { model, prompt: text, echo: true, logprobs: 1, max_tokens: config.echo_max_tokens ?? 0, temperature: 0, ...extra };
    const r: unknown = await wrap(() => client.completions.create(body as unknown as OpenAIClient.CompletionCreateParamsNonStreaming, { signal }));
    if (!isObject(r) || !Array.isArray(r.choices) || !isObject(r.choices[0])) throw bad('completion reply has no choices');
    const choice = r.choices[0];
    const usage = usageOf(r.usage);
    let split: { tokens: string[]; logprobs: number[] };
    if (promptLogprobs) {
      const entries = choice.prompt_logprobs;
      if (!Array.isArray(entries)) throw bad('completion reply has no prompt_logprobs (does the server support vLLM\'s prompt_logprobs? try logprobs_mode: echo)');
      const ids = Array.isArray(choice.prompt_token_ids) && choice.prompt_token_ids.length === entries.length ? (choice.prompt_token_ids as unknown[]) : undefined;
      const tokens: string[] = [];
      const lps: (number | null)[] = [];
      const offsets: number[] = [];
      let at = 0;
      entries.forEach((entry: unknown, i: number) => {
        offsets.push(at);
        if (entry === null) {
          tokens.push('');
          lps.push(null);
          return;
        }
        if (!isObject(entry)) throw bad(`prompt_logprobs[${i}] is not an object`);
        const pick = ids ? entry[String(ids[i])] : Object.values(entry)[0];
        if (!isObject(pick) || typeof pick.decoded_token !== 'string') throw bad(`prompt_logprobs[${i}] lacks the prompt token's {logprob, decoded_token}`);
        tokens.push(pick.decoded_token);
        lps.push(typeof pick.logprob === 'number' ? pick.logprob : null);
        at += codePoints(pick.decoded_token);
      });
      split = splitContinuation(tokens, offsets, lps, text, req.prompt, req.continuation);
    } else {
      const lp = choice.logprobs;
      if (!isObject(lp) || !Array.isArray(lp.tokens) || !Array.isArray(lp.token_logprobs) || !Array.isArray(lp.text_offset)) {
        throw bad('completion reply has no logprobs {tokens, token_logprobs, text_offset} (does the server support echo with logprobs? try echo_max_tokens: 1 or logprobs_mode: prompt_logprobs)');
      }
      if (typeof choice.text !== 'string') throw bad('completion reply has no echoed text');
      if (!lp.tokens.every((t: unknown) => typeof t === 'string') || !lp.text_offset.every((o: unknown) => typeof o === 'number')) throw bad('logprobs.tokens or text_offset hold values of the wrong type');
      split = splitContinuation(lp.tokens as string[], lp.text_offset as number[], lp.token_logprobs as (number | null)[], choice.text, req.prompt, req.continuation);
    }
    return usage ? { ...split, usage } : split;
  }

  async function embed(texts: string[], signal: AbortSignal): Promise<{ vectors: number[][]; usage?: Usage }> {
    const body = { model, input: texts, encoding_format: 'float', ...extra };
    const r: unknown = await wrap(() => client.embeddings.create(body as unknown as OpenAIClient.EmbeddingCreateParams, { signal }));
    const data = byIndex(r, texts.length, 'embeddings');
    const vectors = data.map((d, i) => {
      if (!numberList(d.embedding)) throw bad(`embedding ${i} is not a list of numbers`);
      return d.embedding;
    });
    const usage = usageOf(isObject(r) ? r.usage : undefined);
    return usage ? { vectors, usage } : { vectors };
  }

  async function reward(inputs: RewardInput[], signal: AbortSignal): Promise<{ scores: number[]; usage?: Usage }> {
    const texts = inputs.map((inp) => renderRewardTemplate(template, inp));
    const body: Record<string, unknown> = format === 'score' ? { model, text_1: inputs.map((inp) => inp.prompt), text_2: texts, ...extra } : { model, input: texts, ...extra };
    const r: unknown = await wrap(() => client.post(rewardURL, { body, signal }));
    const data = byIndex(r, inputs.length, format);
    const scores = data.map((d, i) => {
      const where = `${format} entry ${i}`;
      if (format === 'score') {
        if (typeof d.score !== 'number') throw bad(`${where} has no numeric score`);
        return d.score;
      }
      if (format === 'classify') {
        if (!numberList(d.probs)) throw bad(`${where} has no probs list`);
        return pickClass(d.probs, config.reward_label_index, where);
      }
      const v = d.data;
      if (typeof v === 'number') return v;
      if (numberList(v)) return pickClass(v, config.reward_label_index, where);
      if (Array.isArray(v) && v.length > 0 && v.every(numberList)) return pickClass(v[v.length - 1] as number[], config.reward_label_index, `${where} (last token)`);
      throw bad(`${where} data is not a number, a vector or per-token vectors`);
    });
    const usage = usageOf(isObject(r) ? r.usage : undefined);
    return usage ? { scores, usage } : { scores };
  }

  return {
    type: 'openai',
    model,
    chat,
    logprobs,
    embed,
    reward,
    close: async () => lean.close(),
  };
}
