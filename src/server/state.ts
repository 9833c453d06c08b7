import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { canonicalJson } from '../backends/cache.js';
import { checkRedisUrl, redactRedisUrl } from '../backends/redis_url.js';
import { HttpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { SpecEntry } from './specs.js';

/**
 * Cross-batch state shared by server replicas (`rewardkit serve --state redis://HOST:PORT/DB`).
 *
 * Some parts of a spec carry state from one batch to the next: the running statistics of the
 * shapers `meanstd`, `clip` and `minmax` (PAR's baselines), LaRe's decoder (`credit: {method: lare,
 * carry: true}`) and ProRL's running centring. One process applies them batch after batch; N
 * replicas behind a load balancer would each keep their own and compute different rewards for the
 * same rollouts. With a state store, such a spec's state lives in Redis and every batch makes one
 * atomic step on it:
 *
 * 1. the batch is graded (outside any lock: grading is the expensive, stateless part);
 * 2. the replica takes the spec's lock (`SET key token NX PX lease`, renewed while held), reads the
 *    state and its version (`HMGET`), loads it into the spec's shapers and credit method, combines,
 *    shapes, credits and computes advantages over the batch, and saves the new state with a Lua
 *    compare-and-set on the version: it is written only if no one wrote since it was read;
 * 3. only then are the rewards returned. A compare-and-set that fails (the lease expired and another
 *    replica committed meanwhile) reruns step 2 on the new state, so every answered batch's rewards
 *    are the ones its committed state update produced.
 *
 * The sequence of commits is therefore one order of the batches, and the rewards are exactly those of
 * one process fed the batches in that order (state travels as JSON, whose numbers round-trip
 * Float64 exactly). The lock only saves wasted work; correctness rests on the compare-and-set.
 *
 * Failures are loud and bounded: Redis unreachable (or a command slower than the timeout) → 503 with
 * `Retry-After` for the specs that hold state, while every other spec is served as before; a batch
 * past its deadline or whose client left is not committed; a state that vanished or went back in
 * version (Redis restarted without persistence, or restored from an older snapshot) after this
 * replica saw it is refused with 500 naming the spec — its running statistics would silently restart
 * from zero otherwise. ioredis reconnects by itself when Redis returns.
 */

/** Which parts of a compiled spec carry state across batches, or null for a stateless spec. */
export function statefulParts(entry: SpecEntry): string[] {
  const c = entry.compiled;
  const parts: string[] = [];
  const shaped = c.shapers?.save() ?? [];
  (c.spec.shape ?? []).forEach((s, i) => {
    if (shaped[i] !== null && shaped[i] !== undefined) parts.push(`shape[${i}] (${(s as { type: string }).type})`);
  });
  if (c.credit?.state) parts.push(`credit (${(c.spec.credit as { method: string }).method})`);
  return parts;
}

/** The Redis key of a spec's state: its name and a fingerprint of its stateful configuration (a changed `shape:`/`credit:` starts a new state). */
export function stateKey(prefix: string, entry: SpecEntry): string {
  const fp = createHash('sha256')
    .update(canonicalJson({ shape: entry.compiled.spec.shape ?? null, credit: entry.compiled.spec.credit ?? null }))
    .digest('hex')
    .slice(0, 16);
  return `${prefix}state:${entry.name}:${fp}`;
}

/**
 * Compare-and-set of a spec's state: KEYS[1] the state hash, ARGV[1] the version read (0 when
 * absent), ARGV[2] the new state JSON, ARGV[3] the writer's token. Returns the new version, or -1
 * when someone committed since the read.
 */
const COMMIT = `
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[1] then return -1 end
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'v', nv, 's', ARGV[2], 't', ARGV[3])
return nv`;

/** Deletes KEYS[1] if it still holds ARGV[1] (a lock is released by its holder only). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Extends KEYS[1]'s expiry to ARGV[2] ms if it still holds ARGV[1]. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** Settings of {@link SharedState}. */
export interface SharedStateOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string;
  /** Key prefix (default `rewardkit:`). */
  prefix?: string;
  /** Longest wait for one Redis command or for a connection, ms (default 2000). */
  timeoutMs?: number;
  /** Lock lease, ms, renewed every third of it while held (default 5000): how long a crashed holder blocks the spec. */
  leaseMs?: number;
  /** Name of this replica, written into each commit (`t`) with a random suffix, for debugging. */
  replica: string;
  metrics: ServerMetrics;
  logger: Logger;
}

/** A Redis failure while handling state: answered 503 with Retry-After. */
class Unavailable extends Error {}

/** The per-spec state store of a server started with `--state` (see the module comment). */
export class SharedState {
  readonly url: string;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  /** One critical section per spec at a time in this process (the compiled spec's shapers are shared). */
  private readonly local = new Map<number, Promise<void>>();
  /** Highest state version this replica has seen per state key: a lower one (or none) later is a lost state. */
  private readonly seen = new Map<string, number>();
  private up = false;
  private lastError = 'not connected yet';

  constructor(private readonly o: SharedStateOptions) {
    checkRedisUrl(o.url, '--state');
    this.url = redactRedisUrl(o.url);
    this.prefix = o.prefix ?? 'rewardkit:';
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.leaseMs = o.leaseMs ?? 5000;
    this.redis = new Redis(o.url, {
      // Fail fast while Redis is away (no offline queue, one attempt per command, bounded commands);
      // ioredis keeps reconnecting in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.timeoutMs,
      connectTimeout: this.timeoutMs,
      retryStrategy: (n) => Math.min(100 * n, 2000),
      lazyConnect: true,
    });
    this.redis.on('ready', () => {
      if (!this.up) o.logger.info({ state: this.url }, 'state store connected');
      this.up = true;
      o.metrics.stateUp.set(1);
    });
    this.redis.on('error', (e: Error) => {
      this.lastError = e.message;
    });
    this.redis.on('close', () => {
      if (this.up) o.logger.warn({ state: this.url, reason: this.lastError }, 'state store disconnected; specs with state get 503 until it is back');
      this.up = false;
      o.metrics.stateUp.set(0);
    });
    o.metrics.stateUp.set(0);
  }

  /** Starts connecting; resolves once connected or after the first failure (the server starts either way and reconnects in the background). */
  async connect(): Promise<void> {
    await this.redis.connect().catch((e: Error) => {
      this.lastError = e.message;
      this.o.logger.warn({ state: this.url, reason: e.message }, 'state store unreachable at start; specs with state get 503 until it is reachable');
    });
  }

  /** True while connected. */
  available(): boolean {
    return this.up;
  }

  /** Why the store is unavailable (the last connection error). */
  reason(): string {
    return this.lastError;
  }

  private unavailable(entry: SpecEntry, why: string): HttpError {
    this.o.metrics.stateOps.inc({ spec: entry.name, outcome: 'unavailable' });
    return new HttpError(503, `spec "${entry.name}" keeps its cross-batch state in Redis (--state ${this.url}), which is unavailable: ${why}; retry later`, '', { 'retry-after': '5' });
  }

  /** Throws the 503 at once when the store is known to be down (before grading a batch whose state could not be saved). */
  assertAvailable(entry: SpecEntry): void {
    if (!this.up) throw this.unavailable(entry, this.lastError);
  }

  private async cmd<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw new Unavailable(e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * Runs `step` — which applies the spec's shapers/credit to one graded batch — as one atomic step
   * on the spec's shared state: lock, load, `step()`, compare-and-set, unlock (see the module
   * comment). `step` may run more than once (after a lost compare-and-set) and must be a pure
   * function of the loaded state and the batch. Throws HttpError 503 (Redis unavailable, `signal`
   * aborted) or 500 (state lost).
   */
  async run<T>(entry: SpecEntry, signal: AbortSignal, step: () => Promise<T>): Promise<T> {
    const prev = this.local.get(entry.index) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = prev.then(() => mine);
    this.local.set(entry.index, tail);
    await prev;
    try {
      return await this.locked(entry, signal, step);
    } catch (e) {
      if (e instanceof Unavailable) throw this.unavailable(entry, e.message);
      throw e;
    } finally {
      done();
      if (this.local.get(entry.index) === tail) this.local.delete(entry.index);
    }
  }

  private async locked<T>(entry: SpecEntry, signal: AbortSignal, step: () => Promise<T>): Promise<T> {
    const key = stateKey(this.prefix, entry);
    const lock = `${key}:lock`;
    const token = `${this.o.replica}:${randomUUID()}`;
    const t0 = performance.now();
    // Take the lock: poll with jittered backoff; the request's deadline (signal) bounds the wait.
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw aborted(signal);
      if (!this.up) throw new Unavailable(this.lastError);
      const ok = await this.cmd(this.redis.set(lock, token, 'PX', this.leaseMs, 'NX'));
      if (ok === 'OK') break;
      await sleep(Math.min(50, 2 + attempt * 2) * (0.5 + Math.random()), signal);
    }
    this.o.metrics.stateLockWait.observe({ spec: entry.name }, (performance.now() - t0) / 1000);
    let renewError: string | null = null;
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, lock, token, this.leaseMs).catch((e: Error) => (renewError = e.message));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    renew.unref();
    try {
      for (;;) {
        const [v, s] = await this.cmd(this.redis.hmget(key, 'v', 's'));
        const version = v === null ? 0 : Number(v);
        const seen = this.seen.get(key) ?? 0;
        if (version < seen) {
          this.o.metrics.stateOps.inc({ spec: entry.name, outcome: 'lost' });
          throw new HttpError(
            500,
            `spec "${entry.name}": its shared state in Redis (--state ${this.url}, key ${key}) ${v === null ? 'is gone' : `went back to version ${version}`} after this replica saw version ${seen} — Redis restarted without persistence or from an older snapshot? Refusing to restart the running statistics silently: restore Redis's data, or restart every replica to start the state from zero`,
            '',
          );
        }
        this.load(entry, s);
        const out = await step();
        if (signal.aborted) throw aborted(signal);
        const next = JSON.stringify(this.save(entry));
        const nv = await this.cmd(this.redis.eval(COMMIT, 1, key, String(version), next, token) as Promise<number>);
        if (nv >= 1) {
          this.seen.set(key, nv);
          this.o.metrics.stateOps.inc({ spec: entry.name, outcome: 'committed' });
          return out;
        }
        // Someone committed since the read (our lease ran out): redo the step on the new state.
        this.o.metrics.stateOps.inc({ spec: entry.name, outcome: 'conflict' });
        if (renewError !== null) throw new Unavailable(renewError);
      }
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, lock, token).catch(() => undefined);
    }
  }

  /** Loads a stored state (JSON text, or null: none yet) into the spec's shapers and credit method. */
  private load(entry: SpecEntry, text: string | null): void {
    const c = entry.compiled;
    if (text === null) {
      c.shapers?.reset();
      c.credit?.state?.reset();
      return;
    }
    let s: { shape?: unknown; credit?: unknown };
    try {
      s = JSON.parse(text) as typeof s;
      if (c.shapers) c.shapers.load(s.shape);
      if (c.credit?.state) c.credit.state.load(s.credit);
    } catch (e) {
      throw new HttpError(500, `spec "${entry.name}": the shared state in Redis (--state ${this.url}) cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, '');
    }
  }

  private save(entry: SpecEntry): { shape: unknown[] | null; credit: unknown } {
    const c = entry.compiled;
    return { shape: c.shapers ? c.shapers.save() : null, credit: c.credit?.state ? c.credit.state.save() : null };
  }

  /** Closes the connection (after in-flight commands). */
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function aborted(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('scoring was cancelled');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
