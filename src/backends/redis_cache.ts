/**
 * The response cache on Redis (`cache: redis://HOST:PORT/DB` in a backend's config): replicas of the
 * server, pool workers and CLI runs on several machines share the model's answers, so a judge is asked
 * once per distinct request across all of them. Keys are the same SHA-256 request keys as the SQLite
 * cache's (cache.ts), under `rewardkit:cache:`; values are the JSON responses, kept forever or for
 * `?ttl=SECONDS` given in the URL.
 *
 * Redis being away never fails a grader: the cache is a saving, not state. A read that fails (Redis
 * unreachable, or slower than `timeout_ms` — 1 s) is a miss and the model is called; a write that
 * fails is dropped. One line on stderr says when the cache becomes unavailable and when it has reconnected;
 * ioredis reconnects by itself.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { ResponseCache } from './cache.js';
import { checkRedisUrl, redactRedisUrl } from './redis_url.js';

/** Options of {@link openRedisCache}. */
export interface RedisCacheOptions {
  /** Key prefix (default `rewardkit:cache:`). */
  prefix?: string;
  /** Longest wait for one command or the connection, ms (default 1000). */
  timeoutMs?: number;
  /** Where the unavailable/back lines go (default stderr). */
  warn?: (line: string) => void;
}

class RedisCache implements ResponseCache {
  readonly path: string;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttl: number | undefined;
  private readonly warn: (line: string) => void;
  private down = false;

  constructor(url: string, o: RedisCacheOptions) {
    checkRedisUrl(url, 'cache');
    const u = new URL(url);
    const ttl = u.searchParams.get('ttl');
    if (ttl !== null && !/^[1-9]\d*$/.test(ttl)) throw new Error(`cache: ttl=${ttl} in "${redactRedisUrl(url)}" is not a whole number of seconds`);
    for (const k of u.searchParams.keys()) if (k !== 'ttl') throw new Error(`cache: unknown URL parameter "${k}" in "${redactRedisUrl(url)}" (only ttl=SECONDS)`);
    this.ttl = ttl === null ? undefined : Number(ttl);
    u.search = '';
    this.path = redactRedisUrl(u.toString());
    this.prefix = o.prefix ?? 'rewardkit:cache:';
    this.warn = o.warn ?? ((line) => process.stderr.write(line + '\n'));
    const timeout = o.timeoutMs ?? 1000;
    // Loaded on first use: a spec without a Redis cache never loads the client.
    const { Redis: Client } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.redis = new Client(u.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeout,
      connectTimeout: timeout,
      retryStrategy: (n) => Math.min(100 * n, 2000),
      lazyConnect: true,
    });
    this.redis.on('error', (e: Error) => this.unavailable(e));
    this.redis.on('close', () => this.unavailable(new Error('connection closed')));
    this.redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      this.warn(`response cache ${this.path} reconnected`);
    });
    this.redis.connect().catch((e: Error) => this.unavailable(e));
  }

  private unavailable(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.warn(`warning: response cache ${this.path} unavailable (${e instanceof Error ? e.message : String(e)}): calling the model without it until it is back`);
  }

  private parse(text: string | null): unknown {
    if (text === null) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined; // not ours, or cut short: a miss
    }
  }

  async get(key: string): Promise<unknown> {
    if (this.redis.status !== 'ready') return undefined;
    try {
      return this.parse(await this.redis.get(this.prefix + key));
    } catch (e) {
      this.unavailable(e);
      return undefined;
    }
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0 || this.redis.status !== 'ready') return keys.map(() => undefined);
    try {
      return (await this.redis.mget(keys.map((k) => this.prefix + k))).map((t) => this.parse(t));
    } catch (e) {
      this.unavailable(e);
      return keys.map(() => undefined);
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    if (this.redis.status !== 'ready') return;
    const text = JSON.stringify(value);
    try {
      if (this.ttl !== undefined) await this.redis.set(this.prefix + key, text, 'EX', this.ttl);
      else await this.redis.set(this.prefix + key, text);
    } catch (e) {
      this.unavailable(e);
    }
  }

  /** Counts the keys under the prefix (SCAN: for tests and diagnostics, not for hot paths). Rejects when Redis is unreachable. */
  async size(): Promise<number> {
    let n = 0;
    for await (const batch of this.redis.scanStream({ match: `${this.prefix}*`, count: 1000 }) as AsyncIterable<string[]>) n += batch.length;
    return n;
  }

  /** Deletes the keys under the prefix. Rejects when Redis is unreachable. */
  async clear(): Promise<void> {
    for await (const batch of this.redis.scanStream({ match: `${this.prefix}*`, count: 1000 }) as AsyncIterable<string[]>) if (batch.length > 0) await this.redis.unlink(...batch);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * Opens a response cache on Redis at `url` (`redis://HOST:PORT/DB`, optionally `?ttl=SECONDS`);
 * connects in the background. Throws an Error naming `cache` for a malformed URL.
 *
 * @example
 * const cache = openRedisCache('redis://127.0.0.1:6379/0?ttl=604800');
 * await cache.set(cacheKey('openai', 'm', 'chat', req), { text: 'ok' });
 * await cache.get(cacheKey('openai', 'm', 'chat', req)) // → { text: 'ok' }
 */
export function openRedisCache(url: string, o: RedisCacheOptions = {}): ResponseCache {
  return new RedisCache(url, o);
}
