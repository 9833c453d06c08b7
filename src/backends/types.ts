/**
 * The contract between model graders and model backends.
 *
 * A {@link Transport} talks to one model (an OpenAI-compatible server, an embedded GGUF file) and knows
 * nothing of caching, retries or concurrency. {@link Backend} is what graders receive: a transport
 * wrapped with a concurrency limit, retries with backoff and jitter, a per-call deadline, a persistent
 * response cache and counters (see `managed.ts`). Graders never see API keys.
 */

/** One chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A chat (generation) request. `temperature` defaults to 0. */
export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  /** Constrain the answer to JSON matching this schema (OpenAI `response_format: json_schema`; a grammar for GGUF). */
  json_schema?: { name: string; schema: Record<string, unknown> };
  stop?: string[];
  seed?: number;
}

/** Token usage of one call, when the model reports it. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ChatResponse {
  text: string;
  /** `stop`, `length`, … as the model reports it. */
  finish_reason?: string;
  usage?: Usage;
}

/** Log-probabilities of `continuation` given `prompt` (the prompt itself is not scored). */
export interface LogprobRequest {
  prompt: string;
  continuation: string;
}

export interface LogprobResponse {
  /** The continuation's tokens as text, in order. */
  tokens: string[];
  /** Natural-log probability of each token given everything before it. Same length as `tokens`. */
  logprobs: number[];
  usage?: Usage;
}

/** What a reward model scores: a conversation turn, optionally with a reference (POLAR). */
export interface RewardInput {
  prompt: string;
  completion: string;
  reference?: string;
}

/** The operations a backend may offer. Not every transport offers all of them. */
export type BackendOp = 'chat' | 'logprobs' | 'embed' | 'reward';

/** A raw connection to one model. Methods a model cannot serve are left undefined. */
export interface Transport {
  /** `openai`, `gguf`, … */
  readonly type: string;
  /** Model identifier (part of the cache key). */
  readonly model: string;
  chat?(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
  logprobs?(req: LogprobRequest, signal: AbortSignal): Promise<LogprobResponse>;
  /** One vector per text, in order. */
  embed?(texts: string[], signal: AbortSignal): Promise<{ vectors: number[][]; usage?: Usage }>;
  /** One scalar reward per input, in order. */
  reward?(inputs: RewardInput[], signal: AbortSignal): Promise<{ scores: number[]; usage?: Usage }>;
  close?(): Promise<void>;
}

/** Counters of one backend since it was built (or since {@link Backend.resetStats}). */
export interface BackendStats {
  /** Operations asked of the backend (cache hits included). */
  requests: number;
  /** Operations answered from the cache without calling the model. */
  cache_hits: number;
  /** Calls that reached the model (retries included). */
  calls: number;
  /** Calls retried after a 429, 5xx, timeout or connection error. */
  retries: number;
  /** Operations that failed after all retries (each becomes an error on the rollouts that needed it). */
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * What graders use. Each method rejects with {@link BackendError} on failure; it never resolves with an
 * invented value. Results are cached by (type, model, operation, request).
 */
export interface Backend {
  /** Name in the spec's `backends`. */
  readonly name: string;
  readonly type: string;
  readonly model: string;
  /** Whether the transport offers `op`; graders check this when they are built. */
  supports(op: BackendOp): boolean;
  chat(req: ChatRequest): Promise<ChatResponse>;
  logprobs(req: LogprobRequest): Promise<LogprobResponse>;
  embed(texts: string[]): Promise<number[][]>;
  reward(inputs: RewardInput[]): Promise<number[]>;
  stats(): BackendStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Why a backend call failed. `retryable` errors (429, 5xx, timeouts, resets) are retried by the wrapper. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly opts: { backend?: string; op?: BackendOp; status?: number; retryable: boolean; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BackendError';
  }
  get retryable(): boolean {
    return this.opts.retryable;
  }
  get status(): number | undefined {
    return this.opts.status;
  }
}

/** Looks up a backend by its spec name; given to grader factories through their context. */
export interface BackendResolver {
  /**
   * The backend named `name`, checked to offer every op in `needs`. Throws an Error whose message names
   * the known backends, or the missing operation.
   */
  get(name: string, needs: readonly BackendOp[]): Backend;
}
