import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from './cache.js';
import { manage, type ManageOptions } from './managed.js';
import { createOpenAITransport, renderRewardTemplate, splitContinuation, type OpenAITransportConfig } from './openai.js';
import { fakeEmbedding, fakeLogprob, fakeReward, fakeTokenize, startFakeOpenAIServer, type FakeServer } from './testing/openai_server.js';
import { BackendError } from './types.js';

let server: FakeServer;
let dir: string;

beforeAll(async () => {
  server = await startFakeOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'rk-openai-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  server.reset();
  server.resetCounts();
});

const FAST: ManageOptions = { backoff_ms: 1, max_backoff_ms: 20, retries: 3, timeout_ms: 5000 };

function backend(config: Partial<OpenAITransportConfig> = {}, options: ManageOptions = {}, env: NodeJS.ProcessEnv = {}) {
  return manage('judge', createOpenAITransport({ base_url: server.baseURL, model: 'fake-model', ...config }, env), { ...FAST, ...options });
}

async function rejection(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    return e as BackendError;
  }
  throw new Error('expected a rejection');
}

const hi = { messages: [{ role: 'user' as const, content: 'hi there' }] };

describe('openai transport: chat', () => {
  it('sends the model, temperature 0 and a strict json_schema; returns text and usage', async () => {
    const b = backend();
    const r = await b.chat({ ...hi, max_tokens: 5, json_schema: { name: 'verdict', schema: { type: 'object' } } });
    expect(r).toEqual({ text: 'echo: hi there', finish_reason: 'stop', usage: { prompt_tokens: 2, completion_tokens: 3 } });
    const sent = server.requests[0]!.body;
    expect(sent).toMatchObject({ model: 'fake-model', temperature: 0, max_tokens: 5 });
    expect(sent.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'verdict', schema: { type: 'object' }, strict: true } });
    expect(b.stats()).toMatchObject({ requests: 1, calls: 1, retries: 0, errors: 0, prompt_tokens: 2, completion_tokens: 3 });
  });

  it('passes extra_body through', async () => {
    await backend({ extra_body: { top_k: 5, chat_template_kwargs: { enable_thinking: false } } }).chat(hi);
    expect(server.requests[0]!.body).toMatchObject({ top_k: 5, chat_template_kwargs: { enable_thinking: false } });
  });

  it('retries a 429 (Retry-After honoured up to the cap) then succeeds', async () => {
    server.fail('chat', { kind: 'status', status: 429, retryAfter: '0' }, 2);
    const b = backend();
    expect((await b.chat(hi)).text).toBe('echo: hi there');
    expect(server.counts.chat).toBe(3);
    expect(b.stats()).toMatchObject({ calls: 3, retries: 2, errors: 0 });
  });

  it('a 500 that persists: BackendError with the status, backend, op and attempts', async () => {
    server.fail('chat', { kind: 'status', status: 500, message: 'engine died' }, 10);
    const b = backend({}, { retries: 2 });
    const e = await rejection(b.chat(hi));
    expect(e.status).toBe(500);
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('backend "judge" chat: HTTP 500: engine died (3 attempts)');
    expect(server.counts.chat).toBe(3);
    expect(b.stats()).toMatchObject({ calls: 3, retries: 2, errors: 1 });
  });

  it('a 400 fails at once', async () => {
    server.fail('chat', { kind: 'status', status: 400, message: 'bad field' }, 10);
    const e = await rejection(backend().chat(hi));
    expect(e.status).toBe(400);
    expect(e.retryable).toBe(false);
    expect(e.message).toBe('backend "judge" chat: HTTP 400: bad field');
    expect(server.counts.chat).toBe(1);
  });

  it('a hanging server is cut off by the deadline, and the request is aborted', async () => {
    server.fail('chat', { kind: 'hang' }, 100);
    const b = backend({}, { timeout_ms: 60, deadline_ms: 250, retries: 10, backoff_ms: 1 });
    const e = await rejection(b.chat(hi));
    // Either the deadline cut an attempt short, or the last backoff would have passed it.
    expect(e.message).toMatch(/^backend "judge" chat: (deadline of 250 ms exceeded; last error: timed out after 60 ms|timed out after 60 ms; no time left before the 250 ms deadline)/);
    expect(e.retryable).toBe(false);
    expect(server.counts.chat).toBeGreaterThanOrEqual(1);
    expect(server.counts.chat).toBeLessThanOrEqual(5);
    for (let i = 0; i < 100 && server.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.inFlight).toBe(0);
  });

  it('a per-attempt timeout is retried and the next attempt can succeed', async () => {
    // The fault matches this test's own message only, so no late request of another test can take it.
    let hung = 0;
    server.failWhen('chat', (req) => ((req.body.messages as { content: string }[])[0]!.content === 'hang once' && hung++ === 0 ? { kind: 'hang' } : undefined));
    const b = backend({}, { timeout_ms: 300 });
    expect((await b.chat({ messages: [{ role: 'user', content: 'hang once' }] })).text).toBe('echo: hang once');
    expect(b.stats()).toMatchObject({ calls: 2, retries: 1 });
  });

  it('truncated JSON is a non-retryable bad response', async () => {
    server.fail('chat', { kind: 'truncate' }, 10);
    const b = backend();
    const e = await rejection(b.chat(hi));
    expect(e.message).toMatch(/^backend "judge" chat: bad response: the reply is not valid JSON/);
    expect(e.retryable).toBe(false);
    expect(server.counts.chat).toBe(1);
  });

  it('a connection reset mid-body is retried', async () => {
    server.fail('chat', { kind: 'reset' });
    const b = backend();
    expect((await b.chat(hi)).text).toBe('echo: hi there');
    expect(server.counts.chat).toBe(2);
  });

  it('a reply of the wrong shape is an error, not an empty answer', async () => {
    server.fail('chat', { kind: 'shape', body: { choices: [] } });
    expect((await rejection(backend().chat(hi))).message).toBe('backend "judge" chat: bad response: chat reply has no choices');
    server.fail('chat', { kind: 'shape', body: { choices: [{ message: { content: null }, finish_reason: 'tool_calls' }] } });
    expect((await rejection(backend().chat(hi))).message).toMatch(/no text content \(finish_reason "tool_calls"\)/);
  });

  it('the concurrency limit bounds the requests the server holds at once', async () => {
    server.failWhen('chat', () => ({ kind: 'delay', ms: 30 }));
    const b = backend({}, { concurrency: 5 });
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => b.chat({ messages: [{ role: 'user', content: `q${i}` }] })));
    expect(rs.map((r) => r.text)).toEqual(Array.from({ length: 40 }, (_, i) => `echo: q${i}`));
    expect(server.counts.chat).toBe(40);
    expect(server.maxInFlight).toBe(5);
  });

  it('a cache hit skips the server and survives reopening the file', async () => {
    const path = join(dir, 'chat.sqlite');
    let cache = openCache(path);
    let b = backend({}, { cache });
    await b.chat(hi);
    await b.chat(hi);
    expect(server.counts.chat).toBe(1);
    expect(b.stats()).toMatchObject({ requests: 2, cache_hits: 1, calls: 1 });
    cache.close();
    cache = openCache(path);
    b = backend({}, { cache });
    expect(await b.chat(hi)).toEqual({ text: 'echo: hi there', finish_reason: 'stop', usage: { prompt_tokens: 2, completion_tokens: 3 } });
    expect(server.counts.chat).toBe(1);
    cache.close();
  });

  it('identical requests in flight at once make one call', async () => {
    const cache = openCache(join(dir, 'coalesce.sqlite'));
    server.failWhen('chat', () => ({ kind: 'delay', ms: 20 }));
    const b = backend({}, { cache });
    const rs = await Promise.all(Array.from({ length: 8 }, () => b.chat(hi)));
    expect(new Set(rs.map((r) => r.text))).toEqual(new Set(['echo: hi there']));
    expect(server.counts.chat).toBe(1);
    expect(b.stats()).toMatchObject({ requests: 8, calls: 1, cache_hits: 7 });
    cache.close();
  });

  it('never puts the API key in an error message or its cause', async () => {
    const secretServer = await startFakeOpenAIServer({ apiKey: 'the-right-key' });
    try {
      const key = 'sk-test-SECRET-0123456789';
      const b = manage('hosted', createOpenAITransport({ base_url: secretServer.baseURL, model: 'm', api_key_env: 'RK_TEST_KEY' }, { RK_TEST_KEY: key }), { ...FAST, secrets: [key] });
      const e = await rejection(b.chat(hi));
      expect(e.status).toBe(401);
      expect(e.message).toBe('backend "hosted" chat: HTTP 401: Incorrect API key provided: *** (check the key in RK_TEST_KEY)');
      const everything = [e.message, e.stack, String(e.cause), JSON.stringify(e.opts.cause), JSON.stringify((e.cause as BackendError).opts), (e.cause as BackendError).message].join('\n');
      expect(everything).not.toContain(key);
      expect(everything).not.toContain('SECRET');
    } finally {
      await secretServer.close();
    }
  });

  it('sends a placeholder key when the variable is unset, and says so on a 401', async () => {
    const secretServer = await startFakeOpenAIServer({ apiKey: 'k' });
    try {
      const b = manage('hosted', createOpenAITransport({ base_url: secretServer.baseURL, model: 'm', api_key_env: 'RK_UNSET_KEY' }, {}), FAST);
      const e = await rejection(b.chat(hi));
      expect(e.message).toBe('backend "hosted" chat: HTTP 401: Incorrect API key provided: EMPTY (environment variable RK_UNSET_KEY is not set)');
      expect(secretServer.requests[0]!.headers.authorization).toBe('Bearer EMPTY');
    } finally {
      await secretServer.close();
    }
  });

  it('a mid-batch outage fails just the requests it hits', async () => {
    server.failWhen('chat', (req) => ((req.body.messages as { content: string }[])[0]!.content.endsWith('7') ? { kind: 'status', status: 503 } : undefined));
    const b = backend({}, { retries: 2, concurrency: 8 });
    const prompts = Array.from({ length: 30 }, (_, i) => `q${i}`);
    const settled = await Promise.allSettled(prompts.map((p) => b.chat({ messages: [{ role: 'user', content: p }] })));
    const failed = prompts.filter((_, i) => settled[i]!.status === 'rejected');
    expect(failed).toEqual(['q7', 'q17', 'q27']);
    for (const s of settled) {
      if (s.status === 'rejected') expect((s.reason as BackendError).status).toBe(503);
      else expect(s.value.text).toMatch(/^echo: q\d+$/);
    }
    expect(b.stats()).toMatchObject({ requests: 30, errors: 3, retries: 6, calls: 27 + 9 });
  });
});

describe('openai transport: logprobs', () => {
  const prompt = 'Question: what is 2+2?\nAnswer:';
  const continuation = ' it is 4';
  const expected = { tokens: [' it', ' is', ' 4'], logprobs: [' it', ' is', ' 4'].map(fakeLogprob) };

  it('echo mode splits the continuation by text_offset', async () => {
    const r = await backend().logprobs({ prompt, continuation });
    expect(r.tokens).toEqual(expected.tokens);
    expect(r.logprobs).toEqual(expected.logprobs);
    expect(server.requests[0]!.body).toMatchObject({ echo: true, logprobs: 1, max_tokens: 0, temperature: 0, prompt: prompt + continuation });
  });

  it('echo mode with a BOS token counted in the offsets (vLLM) and with max_tokens 1', async () => {
    const bosServer = await startFakeOpenAIServer({ bos: '<|begin_of_text|>' });
    try {
      for (const echo_max_tokens of [0, 1] as const) {
        const b = manage('lm', createOpenAITransport({ base_url: bosServer.baseURL, model: 'm', echo_max_tokens }, {}), FAST);
        const r = await b.logprobs({ prompt, continuation });
        expect(r.tokens).toEqual(expected.tokens);
        expect(r.logprobs).toEqual(expected.logprobs);
      }
    } finally {
      await bosServer.close();
    }
  });

  it('prompt_logprobs mode gives the same numbers', async () => {
    const bosServer = await startFakeOpenAIServer({ bos: '<s>' });
    try {
      for (const base_url of [server.baseURL, bosServer.baseURL]) {
        const b = manage('lm', createOpenAITransport({ base_url, model: 'm', logprobs_mode: 'prompt_logprobs' }, {}), FAST);
        const r = await b.logprobs({ prompt, continuation });
        expect(r.tokens).toEqual(expected.tokens);
        expect(r.logprobs).toEqual(expected.logprobs);
      }
      expect(server.requests.at(-1)!.body).toMatchObject({ prompt_logprobs: 0, max_tokens: 1 });
    } finally {
      await bosServer.close();
    }
  });

  it('whitespace joined to the continuation\'s first word is scored with it; any other token spanning the boundary is an error with advice', async () => {
    // "Answer: " + "4": the fake tokenizer joins the space to "4", so the token " 4" starts in the prompt.
    expect(fakeTokenize('Answer: 4')).toEqual(['Answer:', ' 4']);
    for (const mode of ['echo', 'prompt_logprobs'] as const) {
      const r = await backend({ logprobs_mode: mode }).logprobs({ prompt: 'Answer: ', continuation: '4' });
      expect(r).toMatchObject({ tokens: [' 4'], logprobs: [fakeLogprob(' 4')] });
      // "Q Answ" + "er: 4": the token " Answer:" has letters on both sides of the boundary.
      const e = await rejection(backend({ logprobs_mode: mode }).logprobs({ prompt: 'Q Answ', continuation: 'er: 4' }));
      expect(e.message).toMatch(/the token " Answer:" spans the end of the prompt/);
      expect(e.retryable).toBe(false);
    }
  });

  it('a newline-terminated prompt splits cleanly', async () => {
    const r = await backend().logprobs({ prompt: 'Q\n', continuation: 'yes' });
    expect(r).toMatchObject({ tokens: ['yes'], logprobs: [fakeLogprob('yes')] });
  });

  it('log-probs of the wrong shape are errors', async () => {
    server.fail('completions', { kind: 'shape', body: { choices: [{ text: prompt + continuation, logprobs: { tokens: ['a'], token_logprobs: [], text_offset: [0] } }] } });
    expect((await rejection(backend().logprobs({ prompt, continuation }))).message).toMatch(/bad response: 1 tokens, 1 offsets and 0 log-probs/);
    server.fail('completions', { kind: 'shape', body: { choices: [{ text: 'Q' + ' 4', logprobs: { tokens: ['Q', ' 4'], token_logprobs: [null, 0.5], text_offset: [0, 1] } }] } });
    expect((await rejection(backend().logprobs({ prompt: 'Q', continuation: ' 4' }))).message).toMatch(/log-prob of token 0 \(" 4"\) is 0.5 > 0/);
    server.fail('completions', { kind: 'shape', body: { choices: [{ text: 'Q' }] } });
    expect((await rejection(backend().logprobs({ prompt: 'Q', continuation: ' 4' }))).message).toMatch(/no logprobs/);
  });
});

describe('openai transport: embeddings and reward models', () => {
  it('embeddings come back in input order (the server lists them reversed)', async () => {
    const texts = ['alpha', 'beta', 'gamma'];
    const v = await backend().embed(texts);
    expect(v).toEqual(texts.map(fakeEmbedding));
    expect(server.requests[0]!.body).toMatchObject({ input: texts, encoding_format: 'float' });
  });

  it('embeddings are sent in batches of batch_size and cached per text', async () => {
    const cache = openCache(join(dir, 'embed.sqlite'));
    const b = backend({}, { batch_size: 2, cache });
    const texts = ['a', 'b', 'c', 'd', 'e'];
    expect(await b.embed(texts)).toEqual(texts.map(fakeEmbedding));
    expect(server.requests.map((r) => r.body.input)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await b.embed(['e', 'f', 'a'])).toEqual(['e', 'f', 'a'].map(fakeEmbedding));
    expect(server.requests.at(-1)!.body.input).toEqual(['f']);
    cache.close();
  });

  const inputs = [
    { prompt: 'Q1 ', completion: 'A1', reference: 'R1' },
    { prompt: 'Q2 ', completion: 'A2', reference: 'R2' },
  ];

  it('pooling: default template prompt+completion, one value per input', async () => {
    const scores = await backend().reward(inputs);
    expect(scores).toEqual([fakeReward('Q1 A1'), fakeReward('Q2 A2')]);
    expect(server.counts.pooling).toBe(1);
    expect(server.requests[0]!.body).toEqual({ model: 'fake-model', input: ['Q1 A1', 'Q2 A2'] });
  });

  it('pooling: per-token rows use the last token; a template with the reference', async () => {
    server.handle('pooling', (req) => ({ data: (req.body.input as string[]).map((t, index) => ({ index, data: [[0.5], [fakeReward(t)]] })) }));
    const scores = await backend({ reward_template: '{{prompt}}|{{completion}}|{{reference}}' }).reward(inputs);
    expect(scores).toEqual([fakeReward('Q1 |A1|R1'), fakeReward('Q2 |A2|R2')]);
  });

  it('classify: the class picked by reward_label_index; several classes without it is an error', async () => {
    const b = backend({ reward_format: 'classify', reward_label_index: 1 });
    const p = (t: string) => 1 / (1 + Math.exp(-fakeReward(t)));
    expect(await b.reward(inputs)).toEqual([p('Q1 A1'), p('Q2 A2')]);
    expect(server.counts.classify).toBe(1);
    const e = await rejection(backend({ reward_format: 'classify' }).reward(inputs));
    expect(e.message).toMatch(/classify entry 0 has 2 values; set reward_label_index/);
  });

  it('score: text_1 is the prompt, text_2 the template (default the completion)', async () => {
    const scores = await backend({ reward_format: 'score' }).reward(inputs);
    expect(scores).toEqual([fakeReward('Q1 \nA1'), fakeReward('Q2 \nA2')]);
    expect(server.requests[0]!.body).toMatchObject({ text_1: ['Q1 ', 'Q2 '], text_2: ['A1', 'A2'] });
  });

  it('a custom route: root path, relative path and full URL', async () => {
    await backend({ reward_route: '/v1/pooling' }).reward(inputs);
    await backend({ reward_route: 'pooling' }).reward(inputs);
    await backend({ reward_route: `${server.url}/pooling` }).reward(inputs);
    expect(server.counts.pooling).toBe(3);
  });

  it('a wrong count of scores or a missing reference is an error', async () => {
    server.fail('pooling', { kind: 'shape', body: { data: [{ index: 0, data: [1] }] } });
    expect((await rejection(backend().reward(inputs))).message).toMatch(/pooling reply has 1 entries for 2 inputs/);
    const e = await rejection(backend({ reward_template: '{{completion}} vs {{reference}}' }).reward([{ prompt: 'p', completion: 'c' }]));
    expect(e.message).toMatch(/reward_template uses \{\{reference\}\} but the input has no reference/);
  });
});

describe('openai helpers', () => {
  it('renderRewardTemplate fills in one pass', () => {
    expect(renderRewardTemplate('<{{ prompt }}>{{completion}}', { prompt: '{{completion}}', completion: 'x' })).toBe('<{{completion}}>x');
  });

  it('splitContinuation counts code points, as servers do', () => {
    // "é😀" is 2 code points but 3 UTF-16 units.
    const r = splitContinuation(['é😀', ' ok'], [0, 2], [null, -0.25], 'é😀 ok', 'é😀', ' ok');
    expect(r).toEqual({ tokens: [' ok'], logprobs: [-0.25] });
  });
});
