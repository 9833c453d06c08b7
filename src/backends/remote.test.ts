/**
 * `serve --queue`: model-backend calls (judge, reward model, embeddings, log-probs) made by
 * `rewardkit worker` processes through a real Redis (Debian's redis-server on a free loopback port)
 * against the fake OpenAI-compatible server. Needs the build (`npx tsc -p tsconfig.build.json`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startServer, type RewardServer } from '../server/app.js';
import { call, logSink } from '../server/testing.js';
import { freePort, haveRedisServer, spawnWorker, startRedis, waitFor, type RedisProc, type WorkerProc } from '../../test/redis.js';
import { startFakeOpenAIServer, type FakeServer } from './testing/openai_server.js';
import { BACKEND_QUEUE, backendJobRunner, jobError, transportConfig, type BackendJobData } from './remote.js';
import { retryAfterMs } from './managed.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/rewardkit.js');
const built = existsSync(join(ROOT, 'dist/backends/remote.js'));
const ready = haveRedisServer && built;
if (!ready) console.log(`backends/remote.test: skipping the Redis part (${!haveRedisServer ? 'no /usr/bin/redis-server' : 'no build: run npx tsc -p tsconfig.build.json'})`);

const KEY_ENV = 'RK_QUEUE_TEST_KEY';
const SECRET = 'sk-queue-secret-1234567';

let dir = '';
let fake: FakeServer;
let redis: RedisProc | null = null;
const servers: RewardServer[] = [];
const children = new Set<ChildProcess>();

type Proc = WorkerProc;

function worker(url: string, extra: string[] = [], env: Record<string, string> = { [KEY_ENV]: SECRET }): Proc {
  return spawnWorker(url, ['--sandbox-jobs', '0', '--backend-jobs', '4', ...extra], children, env);
}

const until = waitFor;

async function stop(p: Proc, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(sig);
  await p.exited;
}

/** A judge whose score is a function of the request (so a wrong routing shows as a wrong reward). */
function judgeReply(messages: { content: string }[]): unknown {
  const text = messages.map((m) => m.content).join('\n');
  const score = 1 + (text.length % 5);
  return {
    id: 'chatcmpl-q',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify({ score }) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
  };
}

function writeSpec(name: string, backend: Record<string, unknown>): string {
  const spec = {
    name,
    backends: { judge: { type: 'openai', base_url: fake.baseURL, model: 'm', api_key_env: KEY_ENV, cache: false, backoff_ms: 10, ...backend } },
    components: [
      { name: 'quality', grader: 'judge', backend: 'judge', mode: 'scale' },
      { name: 'rm', grader: 'reward_model', backend: 'judge' },
      { name: 'sim', grader: 'embedding_similarity', backend: 'judge' },
      { name: 'lik', grader: 'likelihood', backend: 'judge', variant: 'logprob', answer_template: '<answer>\n{{reference}}</answer>' },
      { name: 'fmt', grader: 'regex', pattern: '<answer>' },
    ],
    advantage: { estimator: 'grpo' },
  };
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(spec));
  return path;
}

function rollouts(n = 8): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    group: `g${i % 2}`,
    prompt: `Q${i % 2}: how many apples are ${i % 2} + 4?\n`,
    completion: i % 3 === 0 ? `<answer>\n${(i % 2) + 4}</answer>` : `I think ${i} apples`,
    reference: String((i % 2) + 4),
  }));
}

interface Scored {
  id: string;
  reward: number | null;
  components: Record<string, number | null>;
  advantage?: number | null;
  errors?: { component: string; message: string }[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk-backend-queue-'));
  fake = await startFakeOpenAIServer({ model: 'm', apiKey: SECRET });
  fake.handle('chat', (req) => judgeReply(req.body.messages as { content: string }[]));
});

function judgeOnly(): void {
  fake.reset();
  fake.handle('chat', (req) => judgeReply(req.body.messages as { content: string }[]));
  fake.resetCounts();
}

// A failed test must not leave workers (or faults) behind for the next one.
afterEach(async () => {
  await Promise.all(
    [...children].map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return children.delete(c);
      const gone = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      return gone;
    }),
  );
  judgeOnly();
});

afterAll(async () => {
  for (const c of [...children]) c.kill('SIGKILL');
  await Promise.allSettled(servers.map((s) => s.close()));
  await redis?.stop();
  await fake?.close();
  delete process.env[KEY_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('backend jobs', () => {
  it('carry no server-side option (no cache URL with its password, no limits)', () => {
    expect(transportConfig({ type: 'openai', base_url: 'http://h/v1', model: 'm', api_key_env: 'K', cache: 'redis://:pw@r:6379/0', retries: 4, concurrency: 8, timeout_ms: 5, deadline_ms: 9, backoff_ms: 1, max_backoff_ms: 2, batch_size: 3 })).toEqual({
      type: 'openai',
      base_url: 'http://h/v1',
      model: 'm',
      api_key_env: 'K',
    });
  });

  it('--queue-work takes sandbox and backends only', async () => {
    const { resolveOptions } = await import('../server/options.js');
    expect(resolveOptions({ specs: ['x.yaml'], queue: 'redis://127.0.0.1:1/0' }).queueWork).toEqual(['sandbox', 'backends']);
    expect(resolveOptions({ specs: ['x.yaml'], queue: 'redis://127.0.0.1:1/0', queueWork: ['backends', 'backends'] }).queueWork).toEqual(['backends']);
    expect(() => resolveOptions({ specs: ['x.yaml'], queue: 'redis://127.0.0.1:1/0', queueWork: ['judges' as never] })).toThrow('--queue-work: expected a comma-separated list of sandbox, backends, got "judges"');
  });

  it('a worker makes one call with its own API key, and returns errors as the server wrapper reads them (status, retryable, Retry-After, key scrubbed)', async () => {
    const data = (op: BackendJobData['op'], req: unknown, timeoutMs = 5000): BackendJobData => ({
      backend: 'judge',
      config: { type: 'openai', base_url: fake.baseURL, model: 'm', api_key_env: KEY_ENV },
      specDir: dir,
      op,
      req,
      timeoutMs,
    });
    const good = backendJobRunner({ [KEY_ENV]: SECRET });
    try {
      const r = await good.run(data('chat', { messages: [{ role: 'user', content: 'hi' }] }));
      expect(r).toEqual({ ok: true, value: { text: JSON.stringify({ score: 3 }), finish_reason: 'stop', usage: { prompt_tokens: 10, completion_tokens: 3 } } });
      const e = await good.run(data('embed', ['a', 'b']));
      expect(e.ok && (e.value as { vectors: number[][] }).vectors.length).toBe(2);
      fake.fail('chat', { kind: 'status', status: 429, retryAfter: '2' });
      const limited = await good.run(data('chat', { messages: [{ role: 'user', content: 'hi' }] }));
      expect(limited).toMatchObject({ ok: false, status: 429, retryable: true, retryAfterMs: 2000 });
      const back = jobError(limited as Extract<typeof limited, { ok: false }>);
      expect(back.retryable).toBe(true);
      expect(back.status).toBe(429);
      expect(retryAfterMs(back)).toBe(2000);
      fake.fail('chat', { kind: 'hang' });
      const slow = await good.run(data('chat', { messages: [{ role: 'user', content: 'hi' }] }, 300));
      expect(slow).toEqual({ ok: false, message: 'timed out after 300 ms', retryable: true });
    } finally {
      await good.close();
      fake.reset();
      fake.handle('chat', (req) => judgeReply(req.body.messages as { content: string }[]));
    }
    const wrong = backendJobRunner({ [KEY_ENV]: 'sk-wrong-key-987654' });
    try {
      const r = await wrong.run(data('chat', { messages: [{ role: 'user', content: 'hi' }] }));
      expect(r).toMatchObject({ ok: false, status: 401, retryable: false });
      expect(JSON.stringify(r)).not.toContain('sk-wrong-key-987654');
    } finally {
      await wrong.close();
    }
    // An invalid config is refused by the spec's own schema, naming the field.
    await expect(backendJobRunner({}).run({ ...data('chat', {}), config: { type: 'openai', model: 'm' } })).rejects.toThrow(/base_url/);
  });
});

describe.skipIf(!ready)('serve --queue: model calls on rewardkit worker processes, with a real Redis', () => {
  let local: Scored[] = [];

  it('a judge/reward-model/embedding/log-prob spec scored through 2 workers equals in-process scoring (inline and pool); the job never carries the API key', async () => {
    redis = await startRedis(await freePort(), dir);
    const spec = writeSpec('judge-queue', { timeout_ms: 20_000, retries: 2 });
    process.env[KEY_ENV] = SECRET; // the server has the key too: it must still not travel in a job
    fake.resetCounts();
    const here = await startServer({ specs: [spec], port: 0, scoring: 'inline', logStream: logSink() });
    servers.push(here.server);
    const a = await call(here.url, 'POST', '/v1/score', { rollouts: rollouts() });
    expect(a.status, a.text).toBe(200);
    local = a.body.results as Scored[];
    expect(local.every((r) => r.errors === undefined && r.reward !== null)).toBe(true);

    const w = [worker(redis.url), worker(redis.url)];
    await until(() => w.every((x) => x.err().includes(`consuming ${BACKEND_QUEUE}`)), 'workers to start');
    const inline = await startServer({ specs: [spec], port: 0, scoring: 'inline', queue: redis.url, queueWork: ['backends'], queueWaitMs: 20_000, logStream: logSink() });
    servers.push(inline.server);
    // Pool threads connect to the queue themselves: a `rewardkit serve` process (the threads then run dist's code).
    const port = await freePort();
    const serve = spawn('node', [BIN, 'serve', '--spec', spec, '--port', String(port), '--scoring', 'pool', '--workers', '1', '--queue', redis.url, '--queue-wait', '20'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, [KEY_ENV]: SECRET },
    });
    children.add(serve);
    let serveErr = '';
    serve.stderr!.on('data', (d: Buffer) => (serveErr += d.toString()));
    await until(() => serveErr.includes('rewardkit serving') || serve.exitCode !== null, 'rewardkit serve to start');
    expect(serveErr).toContain('scoring: pool');
    const pool = { url: `http://127.0.0.1:${port}` };
    // Record the jobs Redis holds while they wait.
    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(BACKEND_QUEUE, { connection: conn });
    try {
      const ROUTES = ['chat', 'completions', 'embeddings', 'pooling'] as const;
      const total = () => ROUTES.reduce((n, k) => n + fake.counts[k], 0);
      const done = () => w.map((x) => (x.err().match(/backend call \S+ \(judge \w+\) done: ok/g) ?? []).length).reduce((s, n) => s + n, 0);
      fake.resetCounts();
      const b = await call(inline.url, 'POST', '/v1/score', { rollouts: rollouts() });
      expect(b.status, b.text).toBe(200);
      expect(b.body.results).toEqual(local);
      // The model was asked exactly what the in-process server asked (no cache here), each call by a worker.
      // Every call the model received was made by a worker, and the server's counters (/metrics) count them.
      for (const k of ROUTES) expect(fake.counts[k], k).toBeGreaterThan(0);
      const calls = total();
      await until(() => done() >= calls, `the workers to log ${calls} calls`, 10_000);
      expect(done()).toBe(calls);
      expect(inline.server.specs.entries[0]!.compiled.backends!.stats().judge).toMatchObject({ calls, errors: 0, retries: 0 });
      // The pool's threads send theirs too.
      const p = await call(pool.url, 'POST', '/v1/score', { rollouts: rollouts() });
      expect(p.status, p.text).toBe(200);
      expect(p.body.results).toEqual(local);
      await until(() => done() >= total(), 'the workers to log every call', 10_000);
      expect(done()).toBe(total());
      expect(total()).toBeGreaterThan(calls);

      // A job as Redis holds it: the backend config without server-side options, and no key.
      await Promise.all(w.map((x) => stop(x)));
      const pending = call(inline.url, 'POST', '/v1/score', { rollouts: rollouts(1) });
      let jobs: { data: BackendJobData }[] = [];
      for (let i = 0; i < 200 && jobs.length === 0; i++) {
        jobs = await queue.getJobs(['waiting']);
        if (jobs.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(jobs.length).toBeGreaterThan(0);
      const raw = JSON.stringify(jobs.map((j) => j.data));
      expect(raw).not.toContain(SECRET);
      expect(jobs[0]!.data.config).toMatchObject({ type: 'openai', base_url: fake.baseURL, model: 'm', api_key_env: KEY_ENV });
      expect(Object.keys(jobs[0]!.data.config)).not.toContain('cache');
      const late = worker(redis.url);
      const r = await pending;
      expect(r.status, r.text).toBe(200);
      // Alone in its group: the same components and reward (the advantage differs: a group of one).
      expect({ ...r.body.results[0], advantage: undefined }).toEqual({ ...local[0], advantage: undefined });
      await stop(late);
    } finally {
      serve.kill('SIGTERM');
      await queue.close();
      conn.disconnect();
    }
  }, 180_000);

  it('a worker SIGKILLed mid-call: its job goes to another worker and every rollout is scored as in-process', async () => {
    const url = redis!.url;
    const spec = writeSpec('judge-kill', { timeout_ms: 30_000, retries: 1 });
    const s = await startServer({ specs: [spec], port: 0, scoring: 'inline', queue: url, queueWork: ['backends'], queueWaitMs: 30_000, logStream: logSink() });
    servers.push(s.server);
    // Every model call takes 1.5 s: worker a is killed while it holds some.
    fake.failWhen('chat', () => ({ kind: 'delay', ms: 1500 }));
    const a = worker(url, ['--lock-duration', '2000', '--stalled-interval', '500']);
    await until(() => a.err().includes(`consuming ${BACKEND_QUEUE}`), 'worker a');
    fake.resetCounts();
    const pending = call(s.url, 'POST', '/v1/score', { rollouts: rollouts() });
    await until(() => fake.inFlight > 0 && a.err().includes('started'), 'worker a to call the model');
    await stop(a, "SIGKILL");
    const b = worker(url, ['--lock-duration', '30000', '--stalled-interval', '500']);
    const r = await pending;
    expect(r.status, r.text).toBe(200);
    expect(r.body.results).toEqual(local);
    expect(b.err()).toMatch(/backend call \S+ \(judge chat\) done: ok/);
    await stop(b);
    fake.reset();
    fake.handle('chat', (req) => judgeReply(req.body.messages as { content: string }[]));
  }, 180_000);

  it('no worker: the call fails by the deadline with a message naming the queue (null with an error, not a hang); Redis down: a clear error per rollout, the batch still scored', async () => {
    const url = redis!.url;
    const spec = writeSpec('judge-none', { timeout_ms: 1000, deadline_ms: 4000, retries: 3 });
    const s = await startServer({ specs: [spec], port: 0, scoring: 'inline', queue: url, queueWork: ['backends'], queueWaitMs: 500, logStream: logSink() });
    servers.push(s.server);
    const t0 = Date.now();
    const r = await call(s.url, 'POST', '/v1/score', { rollouts: rollouts(2) });
    const took = Date.now() - t0;
    expect(r.status, r.text).toBe(200);
    const res = r.body.results as Scored[];
    for (const x of res) {
      expect(x.components.quality).toBeNull();
      expect(x.components.fmt).toBe(local.find((l) => l.id === x.id)!.components.fmt);
      const q = x.errors!.find((e) => e.component === 'quality')!;
      expect(q.message).toMatch(/no backend worker took the call within 0\.5 s \(queue rewardkit-backend on redis:\/\/127\.0\.0\.1:\d+\/0\): start or add `rewardkit worker --queue redis:\/\/127\.0\.0\.1:\d+\/0`/);
    }
    // 4 attempts of 0.5 s plus backoff, all within the 4 s deadline (plus scoring and a loaded machine).
    expect(took).toBeLessThan(15_000);

    // Redis stopped: every model component is an error naming Redis, the others are scored.
    await redis!.stop();
    const t1 = Date.now();
    const d = await call(s.url, 'POST', '/v1/score', { rollouts: rollouts(2) });
    expect(d.status, d.text).toBe(200);
    for (const x of d.body.results as Scored[]) {
      expect(x.components.fmt).toBe(local.find((l) => l.id === x.id)!.components.fmt);
      for (const c of ['quality', 'rm', 'sim', 'lik']) {
        expect(x.components[c]).toBeNull();
        expect(x.errors!.find((e) => e.component === c)?.message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/0|no backend worker took the call/);
      }
    }
    expect(Date.now() - t1).toBeLessThan(15_000);
  }, 120_000);
});
