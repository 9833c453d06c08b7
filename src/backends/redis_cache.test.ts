/**
 * `cache: redis://…` against a real Redis (Debian's redis-server on a free loopback port): two
 * "replicas" (separate connections, separate backends) share answers; a spec's backend config opens
 * it (with a TTL); Redis down → the model is called and nothing fails, and the cache is used again
 * once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { manage } from './managed.js';
import { openRedisCache } from './redis_cache.js';
import { buildBackends } from './config.js';
import { startFakeOpenAIServer } from './testing/openai_server.js';
import type { Transport } from './types.js';
import { freePort, haveRedisServer, startRedis, type RedisProc } from '../../test/redis.js';

if (!haveRedisServer) console.log('redis_cache.test: /usr/bin/redis-server not installed; skipping the Redis tests');

let dir = '';
const redises: RedisProc[] = [];

/** A model that answers with a counter, so a cached answer is told apart from a fresh one. */
function model(): Transport & { chats: number; embedded: string[] } {
  const t = {
    type: 'test',
    model: 'm',
    chats: 0,
    embedded: [] as string[],
    async chat() {
      t.chats++;
      return { text: `answer ${t.chats}` };
    },
    async embed(texts: string[]) {
      t.embedded.push(...texts);
      return { vectors: texts.map((x) => [x.length, 1]) };
    },
  };
  return t;
}

const req = { messages: [{ role: 'user' as const, content: 'is 2+2=4?' }] };
const FAST = { retries: 0, timeout_ms: 5000 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk-rcache-'));
});

afterAll(async () => {
  await Promise.allSettled(redises.map((r) => r.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  // A condition that throws (Redis not connected yet) is not met yet.
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!haveRedisServer)('cache: redis:// with a real Redis', () => {
  it('two replicas share answers: chat asked once, embeddings of a batch fetched in one MGET and only the new ones computed', async () => {
    const redis = await startRedis(await freePort(), mkdtempSync(join(dir, 'a-')));
    redises.push(redis);
    const ca = openRedisCache(redis.url);
    const cb = openRedisCache(redis.url);
    expect(ca.path).toBe(redis.url);
    const ta = model();
    const tb = model();
    const a = manage('judge', ta, { ...FAST, cache: ca });
    const b = manage('judge', tb, { ...FAST, cache: cb });
    await until(async () => (await ca.size()) === 0 && (await cb.size()) === 0, 'connections');
    expect((await a.chat(req)).text).toBe('answer 1');
    expect((await b.chat(req)).text).toBe('answer 1'); // replica b never asked its model
    expect(tb.chats).toBe(0);
    expect(b.stats()).toMatchObject({ requests: 1, cache_hits: 1, calls: 0 });
    expect(await a.embed(['x', 'yy'])).toEqual([[1, 1], [2, 1]]);
    expect(await b.embed(['x', 'yy', 'zzz'])).toEqual([[1, 1], [2, 1], [3, 1]]);
    expect(tb.embedded).toEqual(['zzz']);
    expect(await cb.size()).toBe(4);
    await cb.clear();
    expect(await ca.size()).toBe(0);
    await ca.close();
    await cb.close();
  });

  it('spec backends with cache: redis://…?ttl= on two replicas: the OpenAI server is asked once, keys expire; a bad URL names the backend', async () => {
    const redis = await startRedis(await freePort(), mkdtempSync(join(dir, 'b-')));
    redises.push(redis);
    const server = await startFakeOpenAIServer({ model: 'q' });
    try {
      const config = { judge: { type: 'openai' as const, base_url: server.baseURL, model: 'q', cache: `${redis.url}?ttl=600`, api_key_env: 'K' } };
      const replicas = [buildBackends(config, { specDir: dir, env: { K: 'k' } }), buildBackends(config, { specDir: dir, env: { K: 'k' } })];
      const [a, b] = replicas.map((r) => r.resolver.get('judge', ['chat']));
      // Both connect in the background; wait until a written answer is readable by the other.
      let first = '';
      await until(async () => {
        first = (await a!.chat(req)).text;
        return (await b!.chat(req)).text === first && b!.stats().cache_hits > 0;
      }, 'the replicas to share the answer');
      const asked = server.counts.chat;
      expect((await b!.chat(req)).text).toBe(first);
      expect((await a!.chat(req)).text).toBe(first);
      expect(server.counts.chat).toBe(asked);
      const conn = new Redis(redis.url);
      const keys = await conn.keys('rewardkit:cache:*');
      expect(keys).toHaveLength(1);
      const left = await conn.ttl(keys[0]!);
      expect(left).toBeGreaterThan(590);
      expect(left).toBeLessThanOrEqual(600);
      await conn.quit();
      for (const r of replicas) await r.close();
    } finally {
      await server.close();
    }
    expect(() => buildBackends({ judge: { type: 'openai', base_url: 'http://127.0.0.1:9/v1', model: 'q', cache: 'redis://127.0.0.1:1/x' } }, { specDir: dir, env: {} })).toThrow(
      /backends\.judge: cache: database "x" in "redis:\/\/127\.0\.0\.1:1\/x" is not a number/,
    );
    expect(() => openRedisCache(`${redis.url}?ttl=soon`)).toThrow(/ttl=soon .* is not a whole number of seconds/);
  });

  it('Redis down: the model answers (nothing fails), one warning; Redis back: the cache is used again', async () => {
    const port = await freePort();
    const data = mkdtempSync(join(dir, 'c-'));
    let redis = await startRedis(port, data, { persist: true });
    redises.push(redis);
    const lines: string[] = [];
    const cache = openRedisCache(redis.url, { warn: (l) => lines.push(l), timeoutMs: 300 });
    const t = model();
    const b = manage('judge', t, { ...FAST, cache });
    await until(async () => (await cache.size()) === 0, 'connection');
    expect((await b.chat(req)).text).toBe('answer 1');
    expect((await b.chat(req)).text).toBe('answer 1');
    expect(t.chats).toBe(1);

    await redis.stop();
    const other = { messages: [{ role: 'user' as const, content: 'and 3+3?' }] };
    expect((await b.chat(other)).text).toBe('answer 2');
    expect((await b.chat(other)).text).toBe('answer 3'); // no cache: asked again
    expect(await b.embed(['abc'])).toEqual([[3, 1]]);
    expect(lines.filter((l) => l.startsWith('warning: response cache'))).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^warning: response cache redis://127\\.0\\.0\\.1:${port}/0 unavailable \\(.*\\): calling the model without it until it is back$`));

    redis = await startRedis(port, data, { persist: true });
    redises.push(redis);
    await until(() => lines.some((l) => l.endsWith(' reconnected')), 'the cache to reconnect');
    expect((await b.chat(req)).text).toBe('answer 1'); // stored before the outage, kept by the append-only file
    expect(t.chats).toBe(3);
    await cache.close();
  }, 60_000);
});
