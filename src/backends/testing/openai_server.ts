/**
 * A local fake OpenAI-compatible server for tests and benchmarks (node:http on 127.0.0.1, port 0).
 *
 * Routes: `POST /v1/chat/completions`, `/v1/completions` (echo + logprobs with `text_offset`, and vLLM's
 * `prompt_logprobs`), `/v1/embeddings`, and vLLM's `/pooling`, `/classify`, `/score` (at the root and
 * under /v1), `GET /v1/models`. Default replies are deterministic functions of the request, exported
 * so tests can compute the expected values: {@link fakeTokenize}, {@link fakeLogprob},
 * {@link fakeEmbedding}, {@link fakeReward}. Embedding and pooling-family replies list their entries
 * in reverse order, so clients must order them by `index`.
 *
 * Scripting: `handle(route, fn)` replaces a route's reply; `fail(route, fault, times)` queues a fault
 * for the next requests of a route; `failWhen(route, rule)` applies a fault to every request the rule
 * picks (a partial outage). Faults: an HTTP status (with Retry-After), a hang until the client gives
 * up, truncated JSON, a connection reset mid-body, a delay, or a wrong-shaped body. The server counts
 * requests per route and records the most requests it held at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeRoute = 'chat' | 'completions' | 'embeddings' | 'pooling' | 'classify' | 'score';

/** What can go wrong with one request. */
export type Fault =
  | { kind: 'status'; status: number; message?: string; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'truncate' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'shape'; body: unknown };

/** A request as a handler or a rule sees it. */
export interface FakeRequest {
  route: FakeRoute;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export interface FakeServerOptions {
  /** Model name reported by /v1/models and in replies. */
  model?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; others get a 401 that echoes the key sent. */
  apiKey?: string;
  /** Text of a BOS token prepended to completions' tokens (vLLM style: `null` log-prob, counted in `text_offset`). */
  bos?: string;
  /** Delay of every reply, in milliseconds. */
  delayMs?: number;
  /** Keep every request (route, body, headers) in `requests`. Default true; benchmarks turn it off. */
  record?: boolean;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `url + '/v1'`, the base_url of a backend. */
  readonly baseURL: string;
  /** Requests received per route (faulted ones included). */
  readonly counts: Record<FakeRoute, number>;
  /** Requests received, in order (when recording). */
  readonly requests: FakeRequest[];
  /** Requests being handled now, and the most at once since the start (or `resetCounts`). */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Replaces the default reply of `route` (return the JSON body of a 200 reply). */
  handle(route: FakeRoute, fn: (req: FakeRequest) => unknown): void;
  /** The next `times` requests of `route` meet `fault` (queued after faults already queued). */
  fail(route: FakeRoute, fault: Fault, times?: number): void;
  /** Every request of `route` for which `rule` returns a fault meets it (after queued faults). */
  failWhen(route: FakeRoute, rule: (req: FakeRequest) => Fault | undefined): void;
  /** Clears counts, recorded requests and the in-flight maximum. */
  resetCounts(): void;
  /** Removes handlers, faults and rules. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Tokens of the fake tokenizer: a newline alone, spaces joined to the word after them, trailing spaces alone.
 *
 * @example
 * fakeTokenize('Answer: 42\n') // → ['Answer:', ' 42', '\n']
 */
export function fakeTokenize(text: string): string[] {
  return text.match(/\n|[^\S\n]*[^\s]+|[^\S\n]+/g) ?? [];
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * The fake model's log-prob of a token: a function of the token's text only, in [-2.5, -0.1].
 *
 * @example
 * fakeLogprob(' 4') === fakeLogprob(' 4') // → true: the same token always gets the same value
 */
export function fakeLogprob(token: string): number {
  return -((hash(token) % 25) + 1) / 10;
}

/**
 * The fake embedding of a text: 8 numbers in [-1, 1] from its hash.
 *
 * @example
 * fakeEmbedding('alpha').length // → 8
 */
export function fakeEmbedding(text: string): number[] {
  const h = hash(text);
  return Array.from({ length: 8 }, (_, j) => Math.sin(h + j * 7919));
}

/**
 * The fake reward of a text: in [-1, 1], from its hash (pooling replies it as is, classify as the
 * probability sigmoid(r) of class 1, score on `text_1 + '\n' + text_2`).
 *
 * @example
 * fakeReward('Q1 A1') === fakeReward('Q1 A1') // → true
 */
export function fakeReward(text: string): number {
  return ((hash(text) % 2001) - 1000) / 1000;
}

const ROUTES: Record<string, FakeRoute> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/pooling': 'pooling',
  '/v1/pooling': 'pooling',
  '/classify': 'classify',
  '/v1/classify': 'classify',
  '/score': 'score',
  '/v1/score': 'score',
};

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function list(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new BadRequest('input must be a string or a list of strings');
}

class BadRequest extends Error {}

function defaultReply(req: FakeRequest, model: string, bos: string | undefined): unknown {
  const b = req.body;
  switch (req.route) {
    case 'chat': {
      const messages = b.messages as { role: string; content: string }[] | undefined;
      if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest('messages is required');
      const last = messages[messages.length - 1]!.content;
      const text = `echo: ${last}`;
      const prompt = messages.reduce((n, m) => n + words(String(m.content)), 0);
      return {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 0,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: words(text), total_tokens: prompt + words(text) },
      };
    }
    case 'completions': {
      if (typeof b.prompt !== 'string') throw new BadRequest('prompt must be a string');
      const maxTokens = typeof b.max_tokens === 'number' ? b.max_tokens : 16;
      const promptTokens = fakeTokenize(b.prompt);
      const generated = maxTokens > 0 ? [' fake'] : [];
      const choice: Record<string, unknown> = { index: 0, text: generated.join(''), finish_reason: 'length' };
      const all = [...(bos !== undefined ? [bos] : []), ...promptTokens];
      if (b.echo === true) choice.text = b.prompt + generated.join('');
      if (typeof b.logprobs === 'number') {
        const toks = b.echo === true ? [...all, ...generated] : generated;
        const offsets: number[] = [];
        let at = 0;
        for (const t of toks) {
          offsets.push(at);
          at += [...t].length;
        }
        choice.logprobs = {
          tokens: toks,
          token_logprobs: toks.map((t, i) => (b.echo === true && i === 0 ? null : fakeLogprob(t))),
          text_offset: offsets,
          top_logprobs: toks.map((t, i) => (b.echo === true && i === 0 ? null : { [t]: fakeLogprob(t) })),
        };
      }
      if (typeof b.prompt_logprobs === 'number') {
        choice.prompt_logprobs = all.map((t, i) => (i === 0 ? null : { [String(hash(t) % 50000)]: { logprob: fakeLogprob(t), rank: 1, decoded_token: t } }));
      }
      return {
        id: 'cmpl-fake',
        object: 'text_completion',
        created: 0,
        model,
        choices: [choice],
        usage: { prompt_tokens: all.length, completion_tokens: generated.length, total_tokens: all.length + generated.length },
      };
    }
    case 'embeddings': {
      const texts = list(b.input);
      const data = texts.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })).reverse();
      const n = texts.reduce((s, t) => s + words(t), 0);
      return { object: 'list', model, data, usage: { prompt_tokens: n, total_tokens: n } };
    }
    case 'pooling':
    case 'classify': {
      const texts = list(b.input);
      const data = texts
        .map((t, index) => {
          const r = fakeReward(t);
          if (req.route === 'pooling') return { index, object: 'pooling', data: [r] };
          const p = 1 / (1 + Math.exp(-r));
          return { index, label: p >= 0.5 ? 'good' : 'bad', probs: [1 - p, p], num_classes: 2 };
        })
        .reverse();
      const n = texts.reduce((s, t) => s + words(t), 0);
      return { id: `${req.route}-fake`, object: 'list', created: 0, model, data, usage: { prompt_tokens: n, total_tokens: n, completion_tokens: 0 } };
    }
    case 'score': {
      const a = list(b.text_1);
      const c = list(b.text_2);
      if (a.length !== 1 && a.length !== c.length) throw new BadRequest('text_1 must be one text or as many as text_2');
      const data = c.map((t, index) => ({ index, object: 'score', score: fakeReward(`${a.length === 1 ? a[0] : a[index]}\n${t}`) })).reverse();
      return { id: 'score-fake', object: 'list', created: 0, model, data, usage: { prompt_tokens: 0, total_tokens: 0 } };
    }
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Starts the fake server on 127.0.0.1 at a free port.
 *
 * @example
 * const server = await startFakeOpenAIServer();
 * server.fail('chat', { kind: 'status', status: 429, retryAfter: '0' });
 * const t = createOpenAITransport({ base_url: server.baseURL, model: 'fake' });
 * await server.close();
 */
export async function startFakeOpenAIServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const model = options.model ?? 'fake-model';
  const record = options.record ?? true;
  const handlers = new Map<FakeRoute, (req: FakeRequest) => unknown>();
  const queued = new Map<FakeRoute, Fault[]>();
  const rules = new Map<FakeRoute, (req: FakeRequest) => Fault | undefined>();
  const zero = (): Record<FakeRoute, number> => ({ chat: 0, completions: 0, embeddings: 0, pooling: 0, classify: 0, score: 0 });
  let counts = zero();
  let requests: FakeRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<Socket>();

  async function serve(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', owned_by: 'rewardkit' }] });
    const route = ROUTES[path];
    if (req.method !== 'POST' || !route) return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'NotFoundError', code: 404 } });
    counts[route]++;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: { message: 'body is not JSON', type: 'BadRequestError', code: 400 } });
    }
    const fr: FakeRequest = { route, body, headers: req.headers };
    if (record) requests.push(fr);
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      return sendJson(res, 401, { error: { message: `Incorrect API key provided: ${sent}`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    let fault = queued.get(route)?.shift();
    if (!fault) fault = rules.get(route)?.(fr);
    if (fault?.kind === 'delay') {
      const ms = fault.ms;
      await new Promise((r) => setTimeout(r, ms));
      fault = undefined;
    }
    if (fault?.kind === 'hang') {
      await new Promise<void>((r) => res.once('close', r));
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return sendJson(res, fault.status, { error: { message: fault.message ?? `injected ${fault.status}`, type: 'InjectedError', code: fault.status } }, headers);
    }
    if (fault?.kind === 'shape') return sendJson(res, 200, fault.body);
    let reply: unknown;
    try {
      const h = handlers.get(route);
      reply = h ? await h(fr) : defaultReply(fr, model, options.bos);
    } catch (e) {
      const status = e instanceof BadRequest ? 400 : 500;
      return sendJson(res, status, { error: { message: e instanceof Error ? e.message : String(e), type: 'HandlerError', code: status } });
    }
    const text = JSON.stringify(reply);
    if (fault?.kind === 'truncate') {
      const cut = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(cut) });
      res.end(cut);
      return;
    }
    if (fault?.kind === 'reset') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      await new Promise((r) => setTimeout(r, 5));
      res.socket?.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server: Server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      inFlight--;
    };
    res.once('finish', finish);
    res.once('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      serve(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: String(e), type: 'ServerError', code: 500 } });
        else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    get counts() {
      return counts;
    },
    get requests() {
      return requests;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    handle: (route, fn) => void handlers.set(route, fn),
    fail(route, fault, times = 1) {
      const q = queued.get(route) ?? [];
      for (let i = 0; i < times; i++) q.push(fault);
      queued.set(route, q);
    },
    failWhen: (route, rule) => void rules.set(route, rule),
    resetCounts() {
      counts = zero();
      requests = [];
      maxInFlight = inFlight;
    },
    reset() {
      handlers.clear();
      queued.clear();
      rules.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
