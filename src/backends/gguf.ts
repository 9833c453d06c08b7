/**
 * The embedded GGUF backend: a local model file run in-process by node-llama-cpp (llama.cpp), so model
 * graders work without any server.
 *
 * - Nothing native is loaded until the first call: `node-llama-cpp` is imported then, the file is
 *   checked with `readGgufFileInfo` (llama.cpp aborts the whole process on some missing metadata
 *   keys, so they are checked first and reported by name), and the model is loaded once for all callers.
 * - One context (chat, log-probs) and one embedding context serve every call, one call at a time, each
 *   starting from an empty state, so a result does not depend on what was evaluated before it.
 * - `exact` (the default) keeps the KV cache in F32 and turns flash attention off: log-probs then agree
 *   with a float64 reference to about 1e-6 instead of 1e-3, for twice the KV-cache memory.
 * - Texts (prompts, continuations, message contents) are tokenised as plain text: a special-token
 *   spelling such as `<|im_end|>` inside a completion stays text and never becomes a control token.
 */
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import * as z from 'zod';
import type * as NodeLlamaCpp from 'node-llama-cpp';
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaGrammar,
  LlamaModel,
  LlamaText,
  Token,
} from 'node-llama-cpp';
import {
  BackendError,
  type BackendOp,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type LogprobRequest,
  type LogprobResponse,
  type Transport,
  type Usage,
} from './types.js';

/** Spec config of a `type: gguf` backend. */
export const ggufConfigSchema = z.strictObject({
  type: z.literal('gguf').describe('An embedded local model in a GGUF file, run in-process by node-llama-cpp.'),
  path: z.string().min(1).describe('Path of the .gguf file (relative to the spec file).'),
  threads: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe(
      'CPU threads per evaluation. Default 1: llama.cpp\'s own default (all cores) was ~100× slower on a small shared machine; raise it for large models on a machine of your own.',
    ),
  context_size: z
    .number()
    .int()
    .min(16)
    .optional()
    .describe(
      'Tokens the model sees at once (prompt + continuation or generated text); llama.cpp may round it up to a multiple of 256. Default: the length the model was trained on, at most 4096.',
    ),
  gpu: z.boolean().default(false).describe('Use a GPU (CUDA, Vulkan, Metal) when node-llama-cpp finds one; default CPU only.'),
  exact: z
    .boolean()
    .default(true)
    .describe(
      'Keep the KV cache in F32 and turn flash attention off, so log-probs match a float64 reference to ~1e-6 (instead of ~1e-3 with F16). Doubles the KV-cache memory; set false for speed on large models.',
    ),
  chat_template: z
    .string()
    .min(1)
    .optional()
    .describe(
      'How `chat` lays out messages: a Jinja chat template (the format of a model\'s `tokenizer.chat_template`), or `plain` for one `role: content` line per message followed by `assistant:`. Default: the template stored in the model file, else `plain`. Jinja templates go through node-llama-cpp\'s JinjaTemplateChatWrapper (which also takes the template\'s end-of-turn text as a stop). A BOS token is prepended when the model asks for one and the template did not add it.',
    ),
  pooling: z
    .enum(['model', 'last', 'mean'])
    .default('model')
    .describe(
      'How `embed` turns per-token hidden states (after the final norm) into one vector: `model` = what the file declares in `<arch>.pooling_type` (embedding models declare mean or cls; a chat/base model declares none, which gives the last token\'s state); `last` = the last token\'s state; `mean` = the mean over all tokens (BOS included). Vectors are not normalised.',
    ),
  // config.ts extends this schema with the shared backend options (concurrency, timeouts, retries,
  // cache); the transport ignores them (the managed wrapper applies them).
});
export type GgufConfig = z.output<typeof ggufConfigSchema>;

/** The default context size cap when `context_size` is not set. */
const DEFAULT_MAX_CONTEXT = 4096;
/** Tokens evaluated per step while scoring, so an abort is seen between steps. */
const SCORE_CHUNK = 256;
/** GGUF `<arch>.pooling_type` values. */
const POOLING_TYPE = { mean: 1, last: 3 } as const;

type Nlc = typeof NodeLlamaCpp;
let nlcImport: Promise<Nlc> | undefined;

/** Imports node-llama-cpp on first use (the import alone does not load the native addon; getLlama does). */
function importNodeLlamaCpp(): Promise<Nlc> {
  nlcImport ??= import('node-llama-cpp').catch((e: unknown) => {
    nlcImport = undefined;
    throw new Error(`cannot import node-llama-cpp (needed by gguf backends): ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  });
  return nlcImport;
}

/** One llama.cpp runtime per process and GPU setting, shared by every transport that uses it. */
const runtimes = new Map<string, { llama: Promise<Llama>; refs: number }>();

function acquireRuntime(nlc: Nlc, gpu: boolean): Promise<Llama> {
  const key = gpu ? 'gpu' : 'cpu';
  let entry = runtimes.get(key);
  if (!entry) {
    // build: 'never' — use the prebuilt binaries; never compile llama.cpp from source behind the user's back.
    // maxThreads: 0 — each context gets exactly the threads its config asks for.
    const llama = nlc.getLlama({ gpu: gpu ? 'auto' : false, build: 'never', maxThreads: 0, progressLogs: false });
    entry = { llama, refs: 0 };
    runtimes.set(key, entry);
    llama.catch(() => {
      if (runtimes.get(key) === entry) runtimes.delete(key);
    });
  }
  entry.refs++;
  return entry.llama;
}

async function releaseRuntime(gpu: boolean): Promise<void> {
  const key = gpu ? 'gpu' : 'cpu';
  const entry = runtimes.get(key);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  runtimes.delete(key);
  const llama = await entry.llama.catch(() => undefined);
  await llama?.dispose();
}

/** Reads a metadata value by its dotted GGUF key from readGgufFileInfo's nested object. */
function metadataValue(metadata: unknown, key: string): unknown {
  let cur: unknown = metadata;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * The first problem that would stop llama.cpp from loading a model with this metadata — some of them
 * abort the whole process natively instead of throwing — or undefined when the keys are all there.
 *
 * @example
 * ggufMetadataProblem({ general: { architecture: 'llama' } }) // → 'missing metadata key "llama.context_length"'
 */
export function ggufMetadataProblem(metadata: unknown): string | undefined {
  const arch = metadataValue(metadata, 'general.architecture');
  if (typeof arch !== 'string' || arch === '') return 'missing metadata key "general.architecture"';
  const required = [
    `${arch}.context_length`,
    `${arch}.embedding_length`,
    `${arch}.block_count`,
    `${arch}.feed_forward_length`,
    `${arch}.attention.head_count`,
    'tokenizer.ggml.model',
    'tokenizer.ggml.tokens',
  ];
  for (const key of required) if (metadataValue(metadata, key) === undefined) return `missing metadata key "${key}"`;
  const eps = [`${arch}.attention.layer_norm_rms_epsilon`, `${arch}.attention.layer_norm_epsilon`];
  if (eps.every((k) => metadataValue(metadata, k) === undefined)) return `missing metadata key "${eps[0]}" (or "${eps[1]}")`;
  const tokens = metadataValue(metadata, 'tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || tokens.length === 0) return 'metadata key "tokenizer.ggml.tokens" is not a non-empty list';
  for (const key of ['tokenizer.ggml.token_type', 'tokenizer.ggml.scores']) {
    const v = metadataValue(metadata, key);
    if (v !== undefined && (!Array.isArray(v) || v.length !== tokens.length)) {
      return `metadata key "${key}" has ${Array.isArray(v) ? v.length : 'no'} entries for ${tokens.length} tokens`;
    }
  }
  for (const key of ['bos', 'eos', 'unknown', 'padding'].map((t) => `tokenizer.ggml.${t}_token_id`)) {
    const id = metadataValue(metadata, key);
    if (id !== undefined && !(Number(id) >= 0 && Number(id) < tokens.length)) {
      return `metadata key "${key}" = ${String(id)} is not a token id (vocabulary of ${tokens.length})`;
    }
  }
  return undefined;
}

/** A tokenizer as {@link alignContinuation} needs it. */
export interface ContinuationTokenizer<T> {
  /** Tokens of `text` as plain text, without BOS; `trimLeadingSpace` drops a space prefix the tokenizer adds. */
  tokenize(text: string, trimLeadingSpace: boolean): T[];
  detokenize(tokens: readonly T[]): string;
}

function sameTokens<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * Splits `prompt + continuation` into prompt tokens and continuation tokens. When tokenising the two
 * texts separately gives the tokens of the whole text, those are used. Otherwise the whole text's
 * tokens are used, split where their text reaches the end of the prompt; when a token straddles that
 * point, the continuation cannot be scored on its own and the error shows both tokenisations.
 *
 * @example
 * alignContinuation(tok, 'Q: 2+2=', '4') // → { prompt: [...tokens of 'Q: 2+2='], continuation: [...tokens of '4'] }
 */
export function alignContinuation<T>(
  tok: ContinuationTokenizer<T>,
  prompt: string,
  continuation: string,
): { prompt: T[]; continuation: T[] } {
  const p = tok.tokenize(prompt, false);
  const c = continuation === '' ? [] : tok.tokenize(continuation, true);
  const whole = tok.tokenize(prompt + continuation, false);
  if (sameTokens(whole, [...p, ...c])) return { prompt: p, continuation: c };
  for (let k = 0; k <= whole.length; k++) {
    const text = tok.detokenize(whole.slice(0, k));
    if (text === prompt) return { prompt: whole.slice(0, k), continuation: whole.slice(k) };
    if (text.length > prompt.length) break;
  }
  const show = (ts: readonly T[]) => JSON.stringify(ts.map((t) => tok.detokenize([t])));
  throw new Error(
    `the prompt/continuation boundary falls inside a token: tokenised separately, the prompt ends ${show(p.slice(-4))} and the ` +
      `continuation starts ${show(c.slice(0, 4))}; tokenised as one text: ${show(whole.slice(Math.max(0, p.length - 4), p.length + 4))}. ` +
      'End the prompt with whitespace or a newline, or move the split point.',
  );
}

/** A chat request laid out as tokens, with the template's own end-of-turn markers. */
interface RenderedChat {
  tokens: Token[];
  /** Texts that end the answer (cut before them). */
  stopTexts: string[];
  /** Token sequences that end the answer (for special tokens, which have no text). */
  stopTokens: Token[][];
}

type ChatRenderer = (messages: readonly ChatMessage[]) => RenderedChat;

/** Everything built on first use. */
interface Loaded {
  nlc: Nlc;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  embedding?: LlamaEmbeddingContext;
  /** The chat template in use: a Jinja template, or undefined for the plain layout. */
  template: string | undefined;
  /** Built on the first chat call, so a template node-llama-cpp cannot use only breaks `chat`. */
  render?: ChatRenderer;
  grammars: Map<string, Promise<LlamaGrammar>>;
}

/** Rejects as soon as `signal` aborts, without waiting for `p` (which keeps running for its other users). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        res(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rej(e);
      },
    );
  });
}

function plainRenderer(model: LlamaModel, withBos: (t: Token[]) => Token[]): ChatRenderer {
  return (messages) => {
    const text = messages.map((m) => `${m.role}: ${m.content}\n`).join('') + 'assistant:';
    return { tokens: withBos(model.tokenize(text, false)), stopTexts: [], stopTokens: [] };
  };
}

function jinjaRenderer(nlc: Nlc, model: LlamaModel, template: string, withBos: (t: Token[]) => Token[]): ChatRenderer {
  const wrapper: ChatWrapper = new nlc.JinjaTemplateChatWrapper({ template });
  return (messages) => {
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
    );
    history.push({ type: 'model', response: [] });
    const state = wrapper.generateContextState({ chatHistory: history });
    const stopTexts: string[] = [];
    const stopTokens: Token[][] = [];
    for (const trigger of state.stopGenerationTriggers as LlamaText[]) {
      const tokens = trigger.tokenize(model.tokenizer);
      if (tokens.length > 0) stopTokens.push(tokens);
      if (trigger.values.every((v) => typeof v === 'string' || v instanceof nlc.SpecialTokensText)) {
        const text = trigger.values.map((v) => (typeof v === 'string' ? v : (v as NodeLlamaCpp.SpecialTokensText).value)).join('');
        if (text !== '') stopTexts.push(text);
      }
    }
    return { tokens: withBos(state.contextText.tokenize(model.tokenizer)), stopTexts, stopTokens };
  };
}

/** A stable id of the model file and the settings that change results (part of the cache key). */
function modelId(file: string, config: GgufConfig): string {
  let id = file;
  try {
    const st = statSync(file);
    id += `@${st.size}-${Math.round(st.mtimeMs)}`;
  } catch {
    // A missing file is reported on first use; the id only needs to be stable.
  }
  const opts: string[] = [];
  if (!config.exact) opts.push('exact=false');
  if (config.pooling !== 'model') opts.push(`pooling=${config.pooling}`);
  if (config.chat_template !== undefined) {
    opts.push(`chat_template=${createHash('sha256').update(config.chat_template).digest('hex').slice(0, 12)}`);
  }
  return opts.length > 0 ? `${id}?${opts.join('&')}` : id;
}

/**
 * Builds the transport of a `type: gguf` backend. Nothing is read or loaded until the first call;
 * `close()` frees the model (and the llama.cpp runtime once no other transport uses it). Offers `chat`
 * (greedy by default; `json_schema` becomes a grammar), `logprobs` (natural-log probabilities of the
 * continuation's tokens after BOS + prompt) and `embed` (one unnormalised vector per text); no `reward`.
 *
 * @example
 * const t = createGgufTransport(ggufConfigSchema.parse({ type: 'gguf', path: 'models/tiny.gguf' }), specDir);
 * const { tokens, logprobs } = await t.logprobs!({ prompt: 'Q: 2+2=', continuation: '4' }, new AbortController().signal);
 * await t.close!();
 */
export function createGgufTransport(config: GgufConfig, specDir: string): Transport {
  const file = resolve(specDir, config.path);
  const where = `gguf model ${file}`;
  let loading: Promise<Loaded> | undefined;
  let closed = false;
  let holdsRuntime = false;
  let tail: Promise<void> = Promise.resolve();

  const fail = (op: BackendOp | undefined, message: string, cause?: unknown) =>
    new BackendError(`${where}: ${message}`, { op, retryable: false, cause });

  async function validate(nlc: Nlc): Promise<NodeLlamaCpp.GgufFileInfo> {
    try {
      statSync(file);
    } catch {
      throw fail(undefined, `file not found (spec path "${config.path}", resolved from ${specDir})`);
    }
    let info: NodeLlamaCpp.GgufFileInfo;
    try {
      info = await nlc.readGgufFileInfo(file, { sourceType: 'filesystem', readTensorInfo: false, logWarnings: false });
    } catch (e) {
      throw fail(undefined, `not a readable GGUF file: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const problem = ggufMetadataProblem(info.metadata);
    if (problem) throw fail(undefined, `${problem}; refusing to load it (llama.cpp would abort the process)`);
    return info;
  }

  async function load(): Promise<Loaded> {
    const nlc = await importNodeLlamaCpp();
    const info = await validate(nlc);
    const arch = String(metadataValue(info.metadata, 'general.architecture'));
    const trained = Number(metadataValue(info.metadata, `${arch}.context_length`));
    const contextSize = config.context_size ?? Math.min(trained > 0 ? trained : DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT);
    const llama = await acquireRuntime(nlc, config.gpu);
    holdsRuntime = true;
    let model: LlamaModel | undefined;
    try {
      const exact = config.exact
        ? {
            defaultContextFlashAttention: false,
            experimentalDefaultContextKvCacheKeyType: 'F32',
            experimentalDefaultContextKvCacheValueType: 'F32',
          } as const
        : {};
      const pooling =
        config.pooling === 'model'
          ? {}
          : { metadataOverrides: { [arch]: { pooling_type: POOLING_TYPE[config.pooling] } } as NodeLlamaCpp.OverridesObject<NodeLlamaCpp.GgufMetadata, number> };
      model = await llama.loadModel({ modelPath: file, ...(config.gpu ? {} : { gpuLayers: 0 }), ...exact, ...pooling });
      const context = await model.createContext({
        contextSize,
        threads: config.threads,
        ...(config.exact ? { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } : {}),
      });
      const template = config.chat_template ?? (info.metadata.tokenizer as { chat_template?: string } | undefined)?.chat_template;
      return {
        nlc,
        llama,
        model,
        context,
        sequence: context.getSequence(),
        template: template === 'plain' ? undefined : template,
        grammars: new Map(),
      };
    } catch (e) {
      await model?.dispose().catch(() => undefined);
      throw e;
    }
  }

  function loaded(signal: AbortSignal): Promise<Loaded> {
    if (closed) return Promise.reject(fail(undefined, 'the backend is closed'));
    if (!loading) {
      loading = load();
      loading.catch(async () => {
        loading = undefined;
        if (holdsRuntime) {
          holdsRuntime = false;
          await releaseRuntime(config.gpu);
        }
      });
    }
    return unlessAborted(loading, signal);
  }

  /** Runs `fn` alone on the shared context, after the calls before it; an abort while queued skips it. */
  async function exclusive<T>(op: BackendOp, signal: AbortSignal, fn: (l: Loaded) => Promise<T>): Promise<T> {
    const before = tail;
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    tail = before.then(() => mine);
    try {
      const l = await loaded(signal);
      await unlessAborted(before, signal);
      signal.throwIfAborted();
      return await fn(l);
    } catch (e) {
      if (signal.aborted && e === signal.reason) throw e;
      if (e instanceof BackendError) throw e.opts.op ? e : new BackendError(e.message, { ...e.opts, op });
      throw fail(op, `${op} failed: ${e instanceof Error ? e.message : String(e)}`, e);
    } finally {
      done();
    }
  }

  function pieces(model: LlamaModel, tokens: readonly Token[], context: readonly Token[]): string[] {
    const all = [...context, ...tokens];
    return tokens.map((t, i) => model.detokenize([t], false, all.slice(Math.max(0, context.length + i - 8), context.length + i)));
  }

  async function logprobs(req: LogprobRequest, signal: AbortSignal): Promise<LogprobResponse> {
    return exclusive('logprobs', signal, async ({ model, sequence }) => {
      let split: { prompt: Token[]; continuation: Token[] };
      try {
        split = alignContinuation<Token>(
          {
            tokenize: (text, trim) => (text === '' ? [] : model.tokenize(text, false, trim ? 'trimLeadingSpace' : undefined)),
            detokenize: (tokens) => model.detokenize(tokens, false),
          },
          req.prompt,
          req.continuation,
        );
      } catch (e) {
        throw fail('logprobs', e instanceof Error ? e.message : String(e), e);
      }
      const bos = model.tokens.bos;
      const prefix = bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...split.prompt] : split.prompt;
      const cont = split.continuation;
      const all = [...prefix, ...cont];
      const usage: Usage = { prompt_tokens: all.length, completion_tokens: 0 };
      if (cont.length === 0) return { tokens: [], logprobs: [], usage };
      if (prefix.length === 0) throw fail('logprobs', 'the prompt is empty and the model adds no BOS token: nothing to condition the first token on');
      if (all.length > sequence.contextSize) {
        throw fail('logprobs', `prompt + continuation are ${all.length} tokens, more than context_size (${sequence.contextSize})`);
      }
      await sequence.clearHistory();
      const out: number[] = [];
      // Position i's output is the distribution of token i+1; score positions prefix.length-1 … all.length-2.
      for (let start = 0; start < all.length - 1; start += SCORE_CHUNK) {
        signal.throwIfAborted();
        const end = Math.min(all.length - 1, start + SCORE_CHUNK);
        const input: NodeLlamaCpp.ControlledEvaluateInputItem[] = all
          .slice(start, end)
          .map((t, j) => (start + j >= prefix.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
        const res = await sequence.controlledEvaluate(input);
        for (let j = 0; j < input.length; j++) {
          const i = start + j;
          if (i < prefix.length - 1) continue;
          const next = all[i + 1]!;
          const p = res[j]?.next.probabilities?.get(next);
          if (p === undefined) throw fail('logprobs', `no probability for token ${next} at position ${i + 1}`);
          if (!(p > 0)) {
            throw fail('logprobs', `token ${JSON.stringify(model.detokenize([next]))} at position ${i + 1} has probability 0 in float32 (log-prob below about -103)`);
          }
          // A float32 softmax can round the top probability a hair above 1.
          out.push(Math.min(0, Math.log(p)));
        }
      }
      return { tokens: pieces(model, cont, prefix), logprobs: out, usage };
    });
  }

  async function grammarFor(l: Loaded, schema: { name: string; schema: Record<string, unknown> }): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema.schema);
    let g = l.grammars.get(key);
    if (!g) {
      // The schema comes from a spec at run time; node-llama-cpp reports what it cannot turn into a grammar.
      const create = l.llama.createGrammarForJsonSchema.bind(l.llama) as (s: unknown) => Promise<LlamaGrammar>;
      g = create(schema.schema);
      l.grammars.set(key, g);
      g.catch(() => l.grammars.delete(key));
    }
    try {
      return await g;
    } catch (e) {
      throw fail('chat', `json_schema "${schema.name}": ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  async function chat(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    return exclusive('chat', signal, async (l) => {
      const { model, sequence } = l;
      let rendered: RenderedChat;
      try {
        if (!l.render) {
          const bos = model.tokens.bos;
          const withBos = (tokens: Token[]): Token[] =>
            bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos ? [bos, ...tokens] : tokens;
          l.render = l.template === undefined ? plainRenderer(model, withBos) : jinjaRenderer(l.nlc, model, l.template, withBos);
        }
        rendered = l.render(req.messages);
      } catch (e) {
        throw fail('chat', `chat_template: ${e instanceof Error ? e.message : String(e)}`, e);
      }
      const prompt = rendered.tokens;
      const room = sequence.contextSize - prompt.length;
      if (room <= 0) throw fail('chat', `the prompt is ${prompt.length} tokens, no room left in context_size (${sequence.contextSize})`);
      const maxTokens = Math.min(req.max_tokens ?? room, room);
      const usage = (n: number): Usage => ({ prompt_tokens: prompt.length, completion_tokens: n });
      if (maxTokens <= 0) return { text: '', finish_reason: 'length', usage: usage(0) };
      const grammar = req.json_schema ? await grammarFor(l, req.json_schema) : undefined;
      const stops = [...(req.stop ?? []).filter((s) => s !== ''), ...rendered.stopTexts];
      const context = prompt.slice(-8);
      const decode = (tokens: readonly Token[]) => model.detokenize(tokens, false, context);

      await sequence.clearHistory();
      const generated: Token[] = [];
      let text = '';
      let finish = 'stop';
      const temperature = req.temperature ?? 0;
      const it = sequence.evaluate(prompt, {
        temperature,
        ...(temperature > 0 && req.seed !== undefined ? { seed: req.seed } : {}),
        ...(grammar ? { grammarEvaluationState: new l.nlc.LlamaGrammarEvaluationState({ model, grammar }) } : {}),
      });
      for await (const token of it) {
        generated.push(token);
        const endMarker = rendered.stopTokens.find((s) => s.length <= generated.length && sameTokens(generated.slice(-s.length), s));
        if (endMarker) {
          text = decode(generated.slice(0, generated.length - endMarker.length));
          break;
        }
        text = decode(generated);
        const cut = stops.reduce((best, s) => {
          const at = text.indexOf(s);
          return at >= 0 && (best < 0 || at < best) ? at : best;
        }, -1);
        if (cut >= 0) {
          text = text.slice(0, cut);
          break;
        }
        if (generated.length >= maxTokens) {
          finish = 'length';
          break;
        }
        if (signal.aborted) break;
      }
      signal.throwIfAborted();
      return { text, finish_reason: finish, usage: usage(generated.length) };
    });
  }

  async function embed(texts: string[], signal: AbortSignal): Promise<{ vectors: number[][]; usage?: Usage }> {
    return exclusive('embed', signal, async (l) => {
      const { model } = l;
      l.embedding ??= await model.createEmbeddingContext({ contextSize: l.context.contextSize, threads: config.threads });
      const vectors: number[][] = [];
      let tokensIn = 0;
      for (const [i, text] of texts.entries()) {
        signal.throwIfAborted();
        let tokens = model.tokenize(text, false);
        if (tokens.length === 0) {
          if (model.tokens.bos === null) throw fail('embed', `text ${i} is empty and the model has no BOS token to embed instead`);
          tokens = [model.tokens.bos];
        }
        const length = l.embedding.calculateInputLength([...tokens]);
        if (length >= l.context.contextSize) {
          throw fail('embed', `text ${i} is ${length} tokens, more than context_size allows (${l.context.contextSize - 1})`);
        }
        tokensIn += length;
        const { vector } = await l.embedding.getEmbeddingFor(tokens);
        vectors.push(Array.from(vector));
      }
      return { vectors, usage: { prompt_tokens: tokensIn, completion_tokens: 0 } };
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await tail;
    const l = await loading?.catch(() => undefined);
    loading = undefined;
    if (!l) return;
    await l.embedding?.dispose();
    await l.context.dispose();
    await l.model.dispose();
    if (holdsRuntime) {
      holdsRuntime = false;
      await releaseRuntime(config.gpu);
    }
  }

  return { type: 'gguf', model: modelId(file, config), chat, logprobs, embed, close };
}
