/**
 * The persistent response cache of model backends: one SQLite file (better-sqlite3) mapping a request
 * key — the SHA-256 of a canonical JSON of `[type, model, op, request]` — to the JSON response.
 *
 * Several processes may share the file (a trainer's workers, a server and a CLI run): the database is
 * in WAL mode, so readers never wait for a writer, and a writer that finds the file locked waits up to
 * {@link BUSY_TIMEOUT_MS} instead of failing. Only successful, validated responses are stored (the
 * wrapper in managed.ts decides that); a file that is not a readable SQLite database is reported with
 * its path, never silently replaced.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

/** How long a write waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * A key → JSON value store for backend responses: the SQLite file ({@link openCache}, synchronous), or
 * Redis (`cache: redis://…`, redis_cache.ts, asynchronous) so that replicas on several machines share
 * answers. `set` never rejects with an asynchronous store (a failed write is a missed chance, not an error).
 */
export interface ResponseCache {
  /** Absolute path of the SQLite file, or the Redis URL (without its password). */
  readonly path: string;
  /** The stored value, or `undefined` when absent. */
  get(key: string): unknown;
  /** The stored values of several keys (`undefined` where absent), in order. */
  getMany(keys: readonly string[]): unknown[] | Promise<unknown[]>;
  set(key: string, value: unknown): void | Promise<void>;
  /** Number of stored responses. */
  size(): number | Promise<number>;
  clear(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** The SQLite cache: every operation synchronous. */
export interface LocalResponseCache extends ResponseCache {
  getMany(keys: readonly string[]): unknown[];
  set(key: string, value: unknown): void;
  size(): number;
  clear(): void;
  close(): void;
}

/**
 * JSON with object keys sorted and `undefined` members dropped, so that equal requests built in any
 * key order serialise identically. Non-finite numbers are refused: they have no JSON form and would
 * collide with `null`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, { d: null, c: undefined }] }) // → '{"a":[true,{"d":null}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(obj).sort()) {
      if (obj[k] === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    }
    return `{${parts.join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot serialise a ${typeof value}`);
}

/**
 * The cache key of one request: hex SHA-256 of the canonical JSON of `[type, model, op, request]`, with
 * `scope` appended when given (settings of a backend that change its answers without changing the
 * request, such as a reward input template).
 *
 * @example
 * cacheKey('openai', 'qwen', 'chat', { messages: [{ role: 'user', content: 'hi' }] }) // → '3f1c…' (64 hex digits)
 */
export function cacheKey(type: string, model: string, op: string, request: unknown, scope?: unknown): string {
  const parts: unknown[] = [type, model, op, request];
  if (scope !== undefined) parts.push(scope);
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/**
 * Where the response cache lives when a spec does not say: `$REWARDKIT_CACHE` if set, else
 * `$XDG_CACHE_HOME/rewardkit/responses.sqlite`, else `~/.cache/rewardkit/responses.sqlite`.
 *
 * @example
 * defaultCachePath({ XDG_CACHE_HOME: '/tmp/c' }) // → '/tmp/c/rewardkit/responses.sqlite'
 */
export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REWARDKIT_CACHE) return resolve(env.REWARDKIT_CACHE);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return resolve(base, 'rewardkit', 'responses.sqlite');
}

function fail(path: string, action: string, e: unknown): never {
  const reason = e instanceof Error ? e.message : String(e);
  throw new Error(`response cache ${path}: cannot ${action} (${reason}); delete or move the file, or point the backend's cache (or REWARDKIT_CACHE) elsewhere`, { cause: e });
}

class SqliteCache implements LocalResponseCache {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { value: string }>;
  private readonly setStmt: Database.Statement<[string, string, number]>;
  private readonly countStmt: Database.Statement<[], { n: number }>;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      fail(path, 'create its folder', e);
    }
    let db: Database.Database | undefined;
    try {
      // Loaded on first use: a spec without model backends never loads the native module here.
      const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
      db = new Sqlite(path, { timeout: BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID');
      this.getStmt = db.prepare('SELECT value FROM responses WHERE key = ?');
      this.setStmt = db.prepare('INSERT OR REPLACE INTO responses (key, value, created_ms) VALUES (?, ?, ?)');
      this.countStmt = db.prepare('SELECT count(*) AS n FROM responses');
    } catch (e) {
      db?.close();
      fail(path, 'open it as a SQLite database', e);
    }
    this.db = db;
  }

  get(key: string): unknown {
    let row: { value: string } | undefined;
    try {
      row = this.getStmt.get(key);
    } catch (e) {
      fail(this.path, 'read', e);
    }
    if (row === undefined) return undefined;
    try {
      return JSON.parse(row.value);
    } catch (e) {
      fail(this.path, `parse the entry ${key.slice(0, 12)}…`, e);
    }
  }

  getMany(keys: readonly string[]): unknown[] {
    return keys.map((k) => this.get(k));
  }

  set(key: string, value: unknown): void {
    try {
      this.setStmt.run(key, JSON.stringify(value), Date.now());
    } catch (e) {
      fail(this.path, 'write', e);
    }
  }

  size(): number {
    try {
      return this.countStmt.get()!.n;
    } catch (e) {
      fail(this.path, 'count entries', e);
    }
  }

  clear(): void {
    try {
      this.db.exec('DELETE FROM responses');
    } catch (e) {
      fail(this.path, 'clear', e);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating the file and its folders as needed) the response cache at `path`, or at
 * {@link defaultCachePath} when omitted. Throws an Error naming the path when the file cannot be used.
 *
 * @example
 * const cache = openCache('/tmp/rk/responses.sqlite');
 * cache.set(cacheKey('openai', 'm', 'chat', req), { text: 'ok' });
 * cache.get(cacheKey('openai', 'm', 'chat', req)) // → { text: 'ok' }
 */
export function openCache(path?: string): LocalResponseCache {
  return new SqliteCache(resolve(path ?? defaultCachePath()));
}
