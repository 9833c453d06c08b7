import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCache } from './cache.js';
import { manage, retryAfterMs, type ManageOptions } from './managed.js';
import { BackendError, type ChatRequest, type Transport } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-managed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const req: ChatRequest = { messages: [{ role: 'user', content: 'x' }] };
const FAST: ManageOptions = { backoff_ms: 1, max_backoff_ms: 10, retries: 4, timeout_ms: 2000 };

const http = (status: number, headers?: Record<string, string>) =>
  new BackendError(`HTTP ${status}: injected`, { status, retryable: status === 429 || status >= 500, cause: headers ? { status, headers: new Headers(headers) } : undefined });

/** A chat transport answering from a script: each entry is an error to throw or a text to return (the last repeats). */
function scripted(script: (BackendError | Error | string)[], model = 'm'): Transport & { calls: number; signals: AbortSignal[] } {
  const t = {
    type: 'test',
    model,
    calls: 0,
    signals: [] as AbortSignal[],
    async chat(_req: ChatRequest, signal: AbortSignal) {
      const step = script[Math.min(t.calls, script.length - 1)]!;
      t.calls++;
      t.signals.push(signal);
      if (typeof step === 'string') return { text: step, usage: { prompt_tokens: 3, completion_tokens: 1 } };
      throw step;
    },
  };
  return t;
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

describe('manage: retries', () => {
  it('retries retryable errors then succeeds, counting calls, retries and tokens', async () => {
    const t = scripted([http(503), http(429), 'ok']);
    const b = manage('judge', t, FAST);
    expect(await b.chat(req)).toEqual({ text: 'ok', usage: { prompt_tokens: 3, completion_tokens: 1 } });
    expect(t.calls).toBe(3);
    expect(b.stats()).toEqual({ requests: 1, cache_hits: 0, calls: 3, retries: 2, errors: 0, prompt_tokens: 3, completion_tokens: 1 });
  });

  it('gives up after `retries` retries with the last status', async () => {
    const t = scripted([http(502)]);
    const b = manage('judge', t, { ...FAST, retries: 3 });
    const e = await rejection(b.chat(req));
    expect(t.calls).toBe(4);
    expect(e.message).toBe('backend "judge" chat: HTTP 502: injected (4 attempts)');
    expect(e.status).toBe(502);
    expect(e.opts).toMatchObject({ backend: 'judge', op: 'chat' });
    expect(b.stats()).toMatchObject({ requests: 1, calls: 4, retries: 3, errors: 1 });
  });

  it('fails at once on a non-retryable error, and wraps plain errors', async () => {
    const t = scripted([http(400), 'never']);
    const b = manage('judge', t, FAST);
    expect((await rejection(b.chat(req))).message).toBe('backend "judge" chat: HTTP 400: injected');
    expect(t.calls).toBe(1);
    const t2 = scripted([new Error('model file missing'), 'never']);
    const e = await rejection(manage('local', t2, FAST).chat(req));
    expect(e.message).toBe('backend "local" chat: model file missing');
    expect(e.retryable).toBe(false);
    expect(t2.calls).toBe(1);
  });

  it('backoff: exponential with full jitter, capped; Retry-After honoured up to the cap', async () => {
    const delays: number[] = [];
    const sleep = async (ms: number) => void delays.push(ms);
    const t = scripted([http(500), http(500), http(500), http(500), 'ok']);
    await manage('judge', t, { retries: 4, backoff_ms: 100, max_backoff_ms: 500, random: () => 0.5, sleep }).chat(req);
    expect(delays).toEqual([50, 100, 200, 250]);

    delays.length = 0;
    const t2 = scripted([http(429, { 'retry-after': '0.3' }), http(429, { 'retry-after': '120' }), http(429, { 'retry-after-ms': '42' }), 'ok']);
    await manage('judge', t2, { retries: 4, backoff_ms: 100, max_backoff_ms: 5000, random: () => 0.5, sleep }).chat(req);
    expect(delays).toEqual([300, 5000, 42]);
  });

  it('retryAfterMs reads seconds, milliseconds and HTTP dates', () => {
    expect(retryAfterMs(http(429, { 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(http(429, { 'retry-after-ms': '15' }))).toBe(15);
    const inFiveSeconds = new Date(Date.now() + 5000).toUTCString();
    const d = retryAfterMs(http(429, { 'retry-after': inFiveSeconds }))!;
    expect(d).toBeGreaterThan(3000);
    expect(d).toBeLessThanOrEqual(5000);
    expect(retryAfterMs(http(429))).toBeUndefined();
    expect(retryAfterMs(http(429, { 'retry-after': 'soon' }))).toBeUndefined();
  });
});

describe('manage: timeouts and deadline', () => {
  const hanging = (): Transport & { signals: AbortSignal[] } => {
    const t = { type: 'test', model: 'm', signals: [] as AbortSignal[], chat: (_r: ChatRequest, s: AbortSignal) => (t.signals.push(s), new Promise<never>(() => {})) };
    return t;
  };

  it('a hung attempt times out (even when the transport ignores the signal), is aborted and retried', async () => {
    const t = hanging();
    const b = manage('judge', t, { timeout_ms: 30, retries: 2, backoff_ms: 1 });
    const e = await rejection(b.chat(req));
    expect(e.message).toBe('backend "judge" chat: timed out after 30 ms (3 attempts)');
    expect(e.retryable).toBe(true);
    expect(t.signals).toHaveLength(3);
    expect(t.signals.every((s) => s.aborted)).toBe(true);
    expect(b.stats()).toMatchObject({ calls: 3, retries: 2, errors: 1 });
  });

  it('the deadline ends the operation whatever the retry budget', async () => {
    const t = hanging();
    const b = manage('judge', t, { timeout_ms: 10_000, deadline_ms: 60, retries: 10 });
    const e = await rejection(b.chat(req));
    expect(e.message).toBe('backend "judge" chat: deadline of 60 ms exceeded');
    expect(e.retryable).toBe(false);
    expect(t.signals).toHaveLength(1);
    expect(t.signals[0]!.aborted).toBe(true);
  });

  it('a backoff longer than the time left gives up with the last error', async () => {
    const t = scripted([http(429, { 'retry-after': '10' }), 'ok']);
    const e = await rejection(manage('judge', t, { deadline_ms: 200, max_backoff_ms: 60_000 }).chat(req));
    expect(e.message).toBe('backend "judge" chat: HTTP 429: injected; no time left before the 200 ms deadline for another attempt');
    expect(e.status).toBe(429);
    expect(t.calls).toBe(1);
  });
});

describe('manage: concurrency', () => {
  it('holds at most `concurrency` calls in flight and runs them all', async () => {
    let inFlight = 0;
    let max = 0;
    const t: Transport = {
      type: 'test',
      model: 'm',
      async chat(r) {
        inFlight++;
        max = Math.max(max, inFlight);
        await new Promise((res) => setTimeout(res, 2));
        inFlight--;
        return { text: r.messages[0]!.content };
      },
    };
    const b = manage('judge', t, { concurrency: 4 });
    const out = await Promise.all(Array.from({ length: 50 }, (_, i) => b.chat({ messages: [{ role: 'user', content: `m${i}` }] })));
    expect(out.map((o) => o.text)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(max).toBe(4);
  });
});

describe('manage: cache and coalescing', () => {
  it('a hit skips the transport; failures are not stored', async () => {
    const cache = openCache(join(dir, 'a.sqlite'));
    const t = scripted([http(400), 'first', 'second']);
    const b = manage('judge', t, { ...FAST, cache });
    await rejection(b.chat(req));
    expect(cache.size()).toBe(0);
    expect((await b.chat(req)).text).toBe('first');
    expect((await b.chat(req)).text).toBe('first');
    expect(t.calls).toBe(2);
    expect(b.stats()).toMatchObject({ requests: 3, cache_hits: 1, calls: 2, errors: 1 });
    cache.close();
  });

  it('the cache key includes the transport type, model and scope', async () => {
    const cache = openCache(join(dir, 'b.sqlite'));
    const mk = (model: string, scope?: unknown) => {
      const t = scripted([model], model);
      return { t, b: manage('x', t, { ...FAST, cache, cacheScope: scope }) };
    };
    const a = mk('m1');
    const b = mk('m2');
    const c = mk('m1', { reward_template: '{{completion}}' });
    expect((await a.b.chat(req)).text).toBe('m1');
    expect((await b.b.chat(req)).text).toBe('m2');
    expect((await c.b.chat(req)).text).toBe('m1');
    expect([a.t.calls, b.t.calls, c.t.calls]).toEqual([1, 1, 1]);
    expect(cache.size()).toBe(3);
    cache.close();
  });

  it('identical requests in flight share one call; so do their failures', async () => {
    const cache = openCache(join(dir, 'c.sqlite'));
    let calls = 0;
    let fail = true;
    const t: Transport = {
      type: 'test',
      model: 'm',
      async chat() {
        calls++;
        await new Promise((r) => setTimeout(r, 10));
        if (fail) throw new BackendError('HTTP 400: nope', { status: 400, retryable: false });
        return { text: 'shared' };
      },
    };
    const b = manage('judge', t, { ...FAST, cache });
    const failed = await Promise.allSettled(Array.from({ length: 5 }, () => b.chat(req)));
    expect(failed.every((s) => s.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    fail = false;
    const ok = await Promise.all(Array.from({ length: 5 }, () => b.chat(req)));
    expect(ok.map((r) => r.text)).toEqual(Array(5).fill('shared'));
    expect(calls).toBe(2);
    expect(b.stats()).toMatchObject({ requests: 10, calls: 2, errors: 5, cache_hits: 4 });
    cache.close();
  });

  it('batch ops cache and coalesce per item, and call only for the misses', async () => {
    const cache = openCache(join(dir, 'd.sqlite'));
    const sent: string[][] = [];
    const t: Transport = {
      type: 'test',
      model: 'm',
      async embed(texts) {
        sent.push(texts);
        await new Promise((r) => setTimeout(r, 5));
        return { vectors: texts.map((x) => [x.length, 1]) };
      },
    };
    const b = manage('emb', t, { ...FAST, cache, batch_size: 2 });
    const [v1, v2] = await Promise.all([b.embed(['a', 'bb', 'ccc']), b.embed(['bb', 'dddd', 'a'])]);
    expect(v1).toEqual([[1, 1], [2, 1], [3, 1]]);
    expect(v2).toEqual([[2, 1], [4, 1], [1, 1]]);
    expect(sent).toEqual([['a', 'bb'], ['ccc'], ['dddd']]);
    expect(await b.embed(['dddd', 'dddd'])).toEqual([[4, 1], [4, 1]]);
    expect(sent).toHaveLength(3);
    expect(await b.embed([])).toEqual([]);
    expect(b.stats()).toMatchObject({ requests: 4, calls: 3, cache_hits: 1, errors: 0 });
    cache.close();
  });
});

describe('manage: output validation', () => {
  const cases: [string, Transport, (b: ReturnType<typeof manage>) => Promise<unknown>, RegExp][] = [
    ['chat without text', { type: 't', model: 'm', chat: async () => ({ text: 3 as unknown as string }) }, (b) => b.chat(req), /bad response: chat answer has no text/],
    ['unequal log-prob arrays', { type: 't', model: 'm', logprobs: async () => ({ tokens: ['a', 'b'], logprobs: [-1] }) }, (b) => b.logprobs({ prompt: 'p', continuation: 'ab' }), /2 tokens but 1 log-probs/],
    ['a positive log-prob', { type: 't', model: 'm', logprobs: async () => ({ tokens: ['a'], logprobs: [0.3] }) }, (b) => b.logprobs({ prompt: 'p', continuation: 'a' }), /log-prob of token 0 \("a"\) is 0.3 > 0/],
    ['a NaN log-prob', { type: 't', model: 'm', logprobs: async () => ({ tokens: ['a'], logprobs: [NaN] }) }, (b) => b.logprobs({ prompt: 'p', continuation: 'a' }), /is null, not a finite number/],
    ['too few vectors', { type: 't', model: 'm', embed: async () => ({ vectors: [[1]] }) }, (b) => b.embed(['a', 'b']), /1 vectors for 2 texts/],
    ['ragged vectors', { type: 't', model: 'm', embed: async () => ({ vectors: [[1, 2], [1]] }) }, (b) => b.embed(['a', 'b']), /vector 1 has 1 dimensions, vector 0 has 2/],
    ['a string in a vector', { type: 't', model: 'm', embed: async () => ({ vectors: [['1' as unknown as number]] }) }, (b) => b.embed(['a']), /vector 0 holds "1"/],
    ['too many scores', { type: 't', model: 'm', reward: async () => ({ scores: [1, 2] }) }, (b) => b.reward([{ prompt: 'p', completion: 'c' }]), /2 scores for 1 inputs/],
    ['an infinite score', { type: 't', model: 'm', reward: async () => ({ scores: [Infinity] }) }, (b) => b.reward([{ prompt: 'p', completion: 'c' }]), /score 0 is null, not a finite number/],
    ['bad usage', { type: 't', model: 'm', chat: async () => ({ text: 'x', usage: { prompt_tokens: -1, completion_tokens: 0 } }) }, (b) => b.chat(req), /usage is not/],
  ];
  for (const [what, t, call, msg] of cases) {
    it(`${what} is a non-retryable BackendError and is not cached`, async () => {
      const cache = openCache(join(dir, `v-${what.replace(/\W/g, '_')}.sqlite`));
      const b = manage('b', t, { ...FAST, cache });
      const e = await rejection(call(b));
      expect(e.message).toMatch(msg);
      expect(e.message).toMatch(/^backend "b" /);
      expect(e.retryable).toBe(false);
      expect(b.stats()).toMatchObject({ calls: 1, errors: 1 });
      expect(cache.size()).toBe(0);
      cache.close();
    });
  }

  it('log-probs a hair above 0 (float noise) read as 0', async () => {
    const b = manage('b', { type: 't', model: 'm', logprobs: async () => ({ tokens: ['a', 'b'], logprobs: [2e-7, -0.5] }) }, FAST);
    expect((await b.logprobs({ prompt: 'p', continuation: 'ab' })).logprobs).toEqual([0, -0.5]);
  });
});

describe('manage: errors', () => {
  it('an operation the transport lacks is refused', async () => {
    const b = manage('judge', scripted(['x']), FAST);
    expect(b.supports('chat')).toBe(true);
    expect(b.supports('embed')).toBe(false);
    const e = await rejection(b.embed(['a']));
    expect(e.message).toBe('backend "judge" (test) does not offer embed');
    expect(b.stats()).toMatchObject({ requests: 1, errors: 1, calls: 0 });
  });

  it('secrets are scrubbed from messages', async () => {
    const b = manage('judge', scripted([new BackendError('HTTP 401: bad key sk-abc123', { status: 401, retryable: false })]), { ...FAST, secrets: ['sk-abc123'] });
    const e = await rejection(b.chat(req));
    expect(e.message).toBe('backend "judge" chat: HTTP 401: bad key ***');
  });

  it('resetStats zeroes the counters', async () => {
    const b = manage('judge', scripted(['x']), FAST);
    await b.chat(req);
    b.resetStats();
    expect(b.stats()).toEqual({ requests: 0, cache_hits: 0, calls: 0, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 });
  });
});
