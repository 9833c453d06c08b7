/**
 * `serve --state redis://…` against a real Redis (Debian's redis-server on a free loopback port):
 * two replicas (two servers in this process, each with its own compiled specs and connection) fed
 * batches sequentially and concurrently give the rewards of one process fed the same sequence;
 * Redis stopped, restarted with and without its data; the compare-and-set under a lost lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startServer, type RewardServer } from './app.js';
import { call, logSink } from './testing.js';
import { compileSpecFile, type CompiledSpec } from '../spec/compile.js';
import { scoreBatch } from '../pipeline.js';
import type { Rollout } from '../rollout/types.js';
import { freePort, haveRedisServer, startRedis, type RedisProc } from '../../test/redis.js';
import { ServerMetrics } from './metrics.js';
import { SharedState, stateKey, statefulParts } from './state.js';
import type { SpecEntry } from './specs.js';

if (!haveRedisServer) console.log('state.test: /usr/bin/redis-server not installed; skipping the Redis tests');

let dir = '';
const servers: RewardServer[] = [];
const redises: RedisProc[] = [];

function writeSpecs(): Record<string, string> {
  const files: Record<string, string> = {
    meanstd: `name: par-meanstd
components:
  - {name: sim, grader: edit_distance, weight: 1.0}
shape: [{type: meanstd}]
advantage: {estimator: grpo}
`,
    chain: `name: par-chain
components:
  - {name: sim, grader: edit_distance, weight: 1.0}
shape: [{type: clip}, {type: minmax}]
`,
    prorl: `name: prorl-centred
components:
  - {name: sim, grader: edit_distance, weight: 1.0}
credit: {method: prorl, center: {min_std: 0.1}}
`,
    plain: `name: plain
components:
  - {name: sim, grader: edit_distance, weight: 1.0}
advantage: {estimator: grpo}
`,
  };
  const paths: Record<string, string> = {};
  for (const [k, text] of Object.entries(files)) writeFileSync((paths[k] = join(dir, `${k}.yaml`)), text);
  return paths;
}

/** Seeded batches: 3 groups × 4 rollouts of random-ish completions against one reference. */
function makeBatches(count: number, seed: number): Rollout[][] {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
  const words = ['the', 'answer', 'is', '42', 'maybe', '41', 'so', 'we', 'get', 'x'];
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: 12 }, (_, i) => ({
      id: `b${b}-${i}`,
      group: `b${b}-g${Math.floor(i / 4)}`,
      prompt: 'what is the answer?',
      completion: Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => words[Math.floor(rnd() * words.length)]).join(' '),
      reference: 'the answer is 42',
      steps: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ reward: Math.round(rnd() * 100) / 100 })),
    })),
  );
}

interface Scored {
  reward: number | null;
  advantage?: number | null;
  /** Per step: [reward, advantage] (credit specs). */
  steps?: [unknown, unknown][];
}

function slim(x: { reward: number | null; advantage?: number | null; steps?: unknown }): Scored {
  const out: Scored = { reward: x.reward, advantage: x.advantage };
  if (Array.isArray(x.steps) && x.steps.some((st) => 'advantage' in st)) out.steps = (x.steps as { reward: unknown; advantage: unknown }[]).map((st) => [st.reward, st.advantage]);
  return out;
}

async function score(url: string, spec: string, rollouts: Rollout[]): Promise<{ status: number; results: Scored[]; body: any; headers: Headers }> {
  const r = await call(url, 'POST', '/v1/score', { spec, rollouts });
  return { status: r.status, results: r.status === 200 ? (r.body.results as Scored[]).map(slim) : [], body: r.body, headers: r.headers };
}

/** One process: the library's scoreBatch on one compiled spec, batch after batch. */
async function oneProcess(compiled: CompiledSpec, batch: Rollout[]): Promise<Scored[]> {
  const { results } = await scoreBatch(compiled, batch);
  return results.map((x) => slim(x as Parameters<typeof slim>[0]));
}

async function replica(specs: string[], state: string, name: string): Promise<{ server: RewardServer; url: string }> {
  const s = await startServer({ specs, port: 0, scoring: 'inline', state, replicaName: name, stateTimeoutMs: 500, logStream: logSink() });
  servers.push(s.server);
  return s;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk-state-'));
});

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  await Promise.allSettled(redises.map((r) => r.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveRedisServer)('serve --state with a real Redis', () => {
  it('two replicas fed interleaved batches (in turn, then all at once) give the rewards of one process fed the same sequence', async () => {
    const paths = writeSpecs();
    const redis = await startRedis(await freePort(), mkdtempSync(join(dir, 'r1-')));
    redises.push(redis);
    const all = [paths.meanstd!, paths.chain!, paths.prorl!, paths.plain!];
    const a = await replica(all, redis.url, 'replica-a');
    const b = await replica(all, redis.url, 'replica-b');
    const ref = { meanstd: compileSpecFile(paths.meanstd!), chain: compileSpecFile(paths.chain!), prorl: compileSpecFile(paths.prorl!) };
    expect(statefulParts(a.server.specs.entries.find((e) => e.name === 'prorl-centred')!)).toEqual(['credit (prorl)']);
    expect(statefulParts(a.server.specs.entries.find((e) => e.name === 'plain')!)).toEqual([]);

    // In turn: A, B, A, B …: the sequence is the sending order.
    const batches = makeBatches(8, 7);
    for (let k = 0; k < batches.length; k++) {
      const url = k % 2 === 0 ? a.url : b.url;
      for (const [spec, compiled] of [['par-meanstd', ref.meanstd], ['par-chain', ref.chain], ['prorl-centred', ref.prorl]] as const) {
        const got = await score(url, spec, batches[k]!);
        expect(got.status, JSON.stringify(got.body)).toBe(200);
        expect(got.results).toEqual(await oneProcess(compiled, batches[k]!));
      }
    }
    expect(ref.prorl.credit!.state!.save()).toMatchObject({ count: expect.any(Number) });
    expect((ref.prorl.credit!.state!.save() as { count: number }).count).toBeGreaterThan(12 * 8);
    // The running statistics moved: the same batch scores differently later (the test can fail).
    const again = await score(a.url, 'par-meanstd', batches[0]!);
    expect(again.results).not.toEqual(await oneProcess(compileSpecFile(paths.meanstd!), batches[0]!));
    expect(again.results).toEqual(await oneProcess(ref.meanstd, batches[0]!));

    // All at once, alternating replicas: whatever order the commits took, each answer must be what
    // one process gives for the batch at its place in that order. Recover the order greedily.
    const burst = makeBatches(10, 99);
    const answers = await Promise.all(burst.map((batch, k) => score(k % 2 === 0 ? a.url : b.url, 'par-meanstd', batch)));
    for (const r of answers) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const left = new Set(burst.keys());
    while (left.size > 0) {
      const before = ref.meanstd.shapers!.save();
      let match = -1;
      for (const k of left) {
        ref.meanstd.shapers!.load(before);
        const expected = await oneProcess(ref.meanstd, burst[k]!);
        if (JSON.stringify(expected) === JSON.stringify(answers[k]!.results)) {
          match = k;
          break;
        }
      }
      if (match < 0) {
        ref.meanstd.shapers!.load(before);
        throw new Error(`no remaining batch of ${[...left].join(', ')} has the rewards one process gives next`);
      }
      left.delete(match);
    }
    // Every batch counted once: the shared count is the one process's.
    const conn = new Redis(redis.url);
    const entry = a.server.specs.entries.find((e) => e.name === 'par-meanstd')!;
    const stored = JSON.parse((await conn.hget(stateKey('rewardkit:', entry), 's'))!);
    expect(stored.shape).toEqual(ref.meanstd.shapers!.save());
    expect(stored.shape[0].n).toBe(12 * (8 + 1 + 10));
    await conn.quit();

    // Metrics name the replica; the state steps are counted.
    const m = await call(b.url, 'GET', '/metrics');
    expect(m.text).toMatch(/rewardkit_state_steps_total\{spec="par-meanstd",outcome="committed",replica="replica-b"\} \d+/);
    expect(m.text).toMatch(/rewardkit_state_store_up\{replica="replica-b"\} 1/);
    expect((await call(a.url, 'GET', '/healthz')).body).toEqual({ status: 'ok', state: 'up' });
  }, 60_000);

  it('Redis down: 503 with Retry-After for specs with state, others served; back with its data → the sequence continues exactly; back empty → a loud 500, never a silent restart from zero', async () => {
    const paths = writeSpecs();
    const port = await freePort();
    const data = mkdtempSync(join(dir, 'r2-'));
    // The replica starts before Redis does: it serves, and reconnects when Redis comes up.
    const a = await replica([paths.meanstd!, paths.plain!], `redis://127.0.0.1:${port}/0`, 'replica-a');
    const batches = makeBatches(6, 3);
    const early = await score(a.url, 'par-meanstd', batches[0]!);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(early.body.error).toMatch(/spec "par-meanstd" keeps its cross-batch state in Redis \(--state redis:\/\/127\.0\.0\.1:\d+\/0\), which is unavailable: .*retry later/);
    expect((await score(a.url, 'plain', batches[0]!)).status).toBe(200);
    expect((await call(a.url, 'GET', '/healthz')).body).toEqual({ status: 'ok', state: 'unavailable' });

    let redis = await startRedis(port, data, { persist: true });
    redises.push(redis);
    const t0 = Date.now();
    while ((await call(a.url, 'GET', '/healthz')).body.state !== 'up') {
      if (Date.now() - t0 > 15_000) throw new Error('the replica did not reconnect');
      await new Promise((r) => setTimeout(r, 50));
    }
    const ref = compileSpecFile(paths.meanstd!);
    for (const batch of batches.slice(0, 3)) expect((await score(a.url, 'par-meanstd', batch)).results).toEqual(await oneProcess(ref, batch));

    // Down mid-run: answers come back at once (no hang), 503 for the stateful spec only.
    await redis.stop();
    const down = await score(a.url, 'par-meanstd', batches[3]!);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect((await score(a.url, 'plain', batches[3]!)).status).toBe(200);

    // Back with its append-only file: the trainer's retry of batch 3 continues the sequence exactly.
    redis = await startRedis(port, data, { persist: true });
    redises.push(redis);
    let got = await score(a.url, 'par-meanstd', batches[3]!);
    for (let i = 0; got.status === 503 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await score(a.url, 'par-meanstd', batches[3]!);
    }
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.results).toEqual(await oneProcess(ref, batches[3]!));

    // Back empty (another folder, no data): the replica saw version 4 and refuses to start from zero.
    await redis.stop();
    redis = await startRedis(port, mkdtempSync(join(dir, 'r2-empty-')));
    redises.push(redis);
    got = await score(a.url, 'par-meanstd', batches[4]!);
    for (let i = 0; got.status === 503 && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await score(a.url, 'par-meanstd', batches[4]!);
    }
    expect(got.status).toBe(500);
    expect(got.body.error).toMatch(/spec "par-meanstd": its shared state in Redis .* is gone after this replica saw version 4 .*Refusing to restart the running statistics silently/);
    // A fresh replica (never saw the state) starts from zero, as one new process would.
    const fresh = await replica([paths.meanstd!, paths.plain!], redis.url, 'replica-c');
    expect((await score(fresh.url, 'par-meanstd', batches[4]!)).results).toEqual(await oneProcess(compileSpecFile(paths.meanstd!), batches[4]!));
    const m = await call(a.url, 'GET', '/metrics');
    expect(m.text).toMatch(/rewardkit_state_steps_total\{spec="par-meanstd",outcome="unavailable",replica="replica-a"\} [1-9]/);
    expect(m.text).toMatch(/rewardkit_state_steps_total\{spec="par-meanstd",outcome="lost",replica="replica-a"\} 1/);
  }, 60_000);

  it('a commit after someone else committed (lost lease) is refused by the compare-and-set and the step is redone on the new state', async () => {
    const paths = writeSpecs();
    const redis = await startRedis(await freePort(), mkdtempSync(join(dir, 'r3-')));
    redises.push(redis);
    const compiled = compileSpecFile(paths.meanstd!);
    const entry: SpecEntry = { name: 'par-meanstd', file: paths.meanstd!, index: 0, compiled, graderKinds: ['edit_distance'] };
    expect(statefulParts(entry)).toEqual(['shape[0] (meanstd)']);
    const metrics = new ServerMetrics(() => 0);
    metrics.enableState();
    const store = new SharedState({ url: redis.url, replica: 't', metrics, logger: pino({ level: 'silent' }) });
    await store.connect();
    const other = new Redis(redis.url);
    const key = stateKey('rewardkit:', entry);
    const batch = makeBatches(1, 5)[0]!;
    let runs = 0;
    const out = await store.run(entry, new AbortController().signal, async () => {
      runs++;
      // Another replica commits while this one holds a (by now expired) lease: version 0 → 1.
      if (runs === 1) await other.hset(key, 'v', 1, 's', JSON.stringify({ shape: [{ n: 100, mean: 0.5, m2: 2.5 }], credit: null }), 't', 'other');
      return scoreBatch(compiled, batch);
    });
    expect(runs).toBe(2);
    const ref = compileSpecFile(paths.meanstd!);
    ref.shapers!.load([{ n: 100, mean: 0.5, m2: 2.5 }]);
    expect(out.results.map((r) => r.reward)).toEqual((await scoreBatch(ref, batch)).results.map((r) => r.reward));
    expect(await other.hget(key, 'v')).toBe('2');
    expect(JSON.parse((await other.hget(key, 's'))!).shape).toEqual(ref.shapers!.save());
    expect(await metrics.registry.getSingleMetricAsString('rewardkit_state_steps_total')).toMatch(/outcome="conflict"\} 1/);
    // The lock is released.
    expect(await other.exists(`${key}:lock`)).toBe(0);
    // A step that was aborted (deadline, client gone) commits nothing.
    const ctl = new AbortController();
    await expect(
      store.run(entry, ctl.signal, async () => {
        ctl.abort(new Error('deadline'));
        return scoreBatch(compiled, batch);
      }),
    ).rejects.toThrow('deadline');
    expect(await other.hget(key, 'v')).toBe('2');
    await other.quit();
    await store.close();
  }, 30_000);
});
