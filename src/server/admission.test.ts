import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionLane, ByteBudget, RolloutBudget, defaultCapacity, MAX_STRING_BYTES } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { HttpError } from './errors.js';
import { resolveOptions } from './options.js';
import { startServer } from './app.js';
import { createScorer } from '../index.js';
import { serveOptions } from '../cli/serve.js';
import { SPECS_DIR, call, halfSent, logSink, metric, until } from './testing.js';

/**
 * Admission by capacity (limits.ts): requests wait in a FIFO queue instead of being refused, and
 * only a full queue or a passed wait deadline answers 503 (504 on /run_code) with Retry-After.
 */

const tick = () => new Promise<void>((r) => setImmediate(r));

function lane(o: { maxRunning?: number; maxRollouts?: number; waitMs?: number; status?: 503 | 504 } = {}) {
  const metrics = new ServerMetrics(() => 0);
  const rollouts = new RolloutBudget(o.maxRollouts ?? 1000, metrics);
  const l = new AdmissionLane({ name: 'score', maxRunning: o.maxRunning ?? 1, rollouts, waitMs: o.waitMs ?? 60_000, status: o.status ?? 503 }, metrics);
  return { lane: l, rollouts, metrics };
}

describe('AdmissionLane', () => {
  it('runs up to maxRunning at once and the rest strictly in arrival order', async () => {
    const { lane: l, rollouts } = lane({ maxRunning: 2 });
    const started: number[] = [];
    const releases = new Map<number, () => void>();
    const all = Array.from({ length: 6 }, (_, i) =>
      l.enter(1).then((release) => {
        started.push(i);
        releases.set(i, release);
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([l.active, l.depth, rollouts.held]).toEqual([2, 4, 6]);
    releases.get(1)!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    releases.get(0)!();
    releases.get(2)!();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    releases.get(3)!();
    releases.get(3)!(); // a second call releases nothing
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(l.active).toBe(2);
    releases.get(4)!();
    releases.get(5)!();
    await Promise.all(all);
    expect([l.active, l.depth, rollouts.held]).toEqual([0, 0, 0]);
  });

  it('refuses a request whose rollouts do not fit (503 + Retry-After), admits one alone whatever its size', async () => {
    const { lane: l, rollouts, metrics } = lane({ maxRunning: 1, maxRollouts: 100 });
    const running = await l.enter(60);
    const queued = l.enter(30);
    const full = await l.enter(20).catch((e) => e);
    expect(full).toBeInstanceOf(HttpError);
    expect([full.status, full.message]).toEqual([503, 'server queue full: 90 rollouts held (capacity 100); retry later']);
    expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    running();
    (await queued)();
    expect(rollouts.held).toBe(0);
    (await l.enter(5000))(); // alone: admitted whatever its size (the body limit bounds it)
    expect(metric(await metrics.text(), 'rewardkit_rejected_requests_total{reason="queue_full"}')).toBe(1);
  });

  it('answers a request still waiting at its deadline with the lane status (504 for the sandbox lane) and frees its place', async () => {
    const { lane: l, rollouts, metrics } = lane({ maxRunning: 1, status: 504 });
    const running = await l.enter(1);
    const late = await l.enter(3, 20).catch((e) => e);
    expect(late).toBeInstanceOf(HttpError);
    expect(late.status).toBe(504);
    expect(late.message).toMatch(/^waited 0\.02 s in the queue behind 0 requests without a free slot \(1 run at once\)/);
    expect(late.headers['retry-after']).toMatch(/^\d+$/);
    expect([l.depth, rollouts.held]).toEqual([0, 1]);
    running();
    expect(metric(await metrics.text(), 'rewardkit_rejected_requests_total{reason="queue_timeout"}')).toBe(1);
    expect(metric(await metrics.text(), 'rewardkit_queue_wait_seconds_count{lane="score"}')).toBe(2);
  });
});

describe('AdmissionLane: clients that go away', () => {
  it('a waiting request whose client closed leaves the queue unscored; the next one takes its turn', async () => {
    const { lane: l, rollouts, metrics } = lane({ maxRunning: 1 });
    const running = await l.enter(1);
    const gone = new AbortController();
    const left = l.enter(5, undefined, gone.signal).catch((e) => e);
    const next = l.enter(2);
    await tick();
    expect([l.depth, rollouts.held]).toEqual([2, 8]);
    gone.abort();
    const e = await left;
    expect([e.status, e.message]).toEqual([503, 'the client closed the connection while the request waited in the queue']);
    expect([l.depth, rollouts.held]).toEqual([1, 3]);
    running();
    (await next)();
    expect([l.active, l.depth, rollouts.held]).toEqual([0, 0, 0]);
    const already = new AbortController();
    already.abort();
    await expect(l.enter(1, undefined, already.signal)).rejects.toThrow(/closed the connection/);
    expect(metric(await metrics.text(), 'rewardkit_rejected_requests_total{reason="client_gone"}')).toBe(2);
  });
});

describe('ByteBudget', () => {
  it('holds bodies up to its capacity, then 503 (or 504) with Retry-After; a body alone always fits; 503 once closing', () => {
    const metrics = new ServerMetrics(() => 0);
    const gate = { closing: false };
    const b = new ByteBudget(1000, metrics, gate, () => 7);
    const a = b.admit(5000);
    const c = (() => {
      try {
        b.admit(10, 504);
      } catch (e) {
        return e as HttpError;
      }
    })()!;
    expect([c.status, c.headers['retry-after'], c.message]).toEqual([504, '7', 'server queue full: 5000 bytes of requests held (capacity 1000); retry later']);
    a.release();
    a.release();
    expect([b.bytes, b.inflightRequests]).toEqual([0, 0]);
    const x = b.admit(600);
    expect(() => x.add(600)).toThrow(/queue full/);
    x.add(300);
    expect(b.bytes).toBe(900);
    x.release();
    gate.closing = true;
    expect(() => b.admit(1)).toThrow(/shutting down/);
  });

  it('serve flags map onto the capacity settings (MiB → bytes, seconds → ms; unset → memory-sized defaults)', () => {
    const base = { spec: ['x'], host: '127.0.0.1', port: 0, route: {}, scoring: 'auto' as const, maxRollouts: 8192, maxInflight: 64, queueTimeout: 120, sandboxQueueTimeout: 60, deadline: 60, maxJsonDepth: 64, nullReward: 0, logLevel: 'info', shutdownTimeout: 30 };
    const set = serveOptions({ ...base, bodyLimit: 500, queueMemory: 2048, maxInflightRollouts: 10, queueTimeout: 1.5, sandboxQueueTimeout: 9 });
    expect([set.bodyLimit, set.queueBytes, set.maxInflightRollouts, set.queueTimeoutMs, set.sandboxQueueTimeoutMs]).toEqual([500 * 2 ** 20, 2048 * 2 ** 20, 10, 1500, 9000]);
    const unset = resolveOptions(serveOptions(base), {});
    expect(unset).toMatchObject(Object.fromEntries(Object.entries(defaultCapacity()).map(([k, v]) => [k === 'queueRollouts' ? 'maxInflightRollouts' : k, v])));
  });

  it('defaults are sized from memory', () => {
    const gib = 1024 ** 3;
    expect(defaultCapacity(24 * gib, 4 * gib)).toEqual({ queueBytes: gib, queueRollouts: 524_288, bodyLimit: 480 * 1024 ** 2 });
    expect(defaultCapacity(2 * gib, 4 * gib)).toEqual({ queueBytes: gib / 4, queueRollouts: 131_072, bodyLimit: gib / 4 });
    expect(defaultCapacity(64 * gib, 16 * gib).bodyLimit).toBeLessThanOrEqual(MAX_STRING_BYTES);
    const o = resolveOptions({ specs: ['x'] }, {});
    expect(o.bodyLimit).toBeGreaterThanOrEqual(Math.min(400e6, o.queueBytes));
    expect(() => resolveOptions({ specs: ['x'], bodyLimit: 2 ** 30 }, {})).toThrow(/at most/);
  });
});

const gsm = (n: number, groupSize = 4) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, group: `g${Math.floor(i / groupSize)}`, completion: i % 3 === 0 ? '42' : i % 3 === 1 ? '41' : 'forty two', reference: '42' }));

describe('chunked scoring', () => {
  // A batch-level estimator (REINFORCE++ whitens over the whole batch) and a group grader: chunks
  // keep groups whole and the rewards are combined over the whole request, so the numbers equal one batch.
  const SPEC = `
name: whole
components:
  - {name: correct, grader: exact, weight: 1.0}
  - {name: close, grader: edit_distance, weight: 0.5}
  - {name: distinct, grader: distinct_n, weight: 0.1}
advantage: {estimator: reinforce_pp}
`;
  for (const scoring of ['inline', 'pool'] as const) {
    it(`${scoring}: a request of many chunks equals one batch (library), groups whole`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rk-chunks-'));
      writeFileSync(join(dir, 'whole.yaml'), SPEC);
      const { server, url } = await startServer({ specs: [dir], port: 0, scoring, workers: 2, maxRollouts: 50, logStream: logSink() });
      try {
        const rollouts = gsm(998, 6);
        const r = await call(url, 'POST', '/v1/score', { rollouts, details: true });
        expect(r.status).toBe(200);
        const lib = await createScorer(join(dir, 'whole.yaml')).score(rollouts, { details: true });
        r.body.results.forEach((res: any, i: number) => {
          const want = lib.results[i]!;
          expect(res).toEqual({ id: want.id, reward: want.reward, components: want.components, advantage: want.advantage, details: want.details });
        });
        expect(metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_scoring_chunks_total')).toBeGreaterThanOrEqual(998 / 54);
      } finally {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});

describe('admission over HTTP', () => {
  it('a full byte budget answers 503 (/run_code 504) with Retry-After before the body is read; /healthz and /metrics stay outside the queue', async () => {
    const { server, url } = await startServer({ specs: [join(SPECS_DIR, 'exact.yaml')], port: 0, queueBytes: 4096, logStream: logSink() });
    const body = JSON.stringify({ rollouts: gsm(60) });
    const held = halfSent(url, '/v1/score', body);
    try {
      expect(body.length).toBeGreaterThan(3000);
      await until(async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_queue_bytes') === body.length, 'the held body to be counted');
      const full = await call(url, 'POST', '/v1/score', { rollouts: gsm(30) });
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(full.body).toEqual({ error: `server queue full: ${body.length} bytes of requests held (capacity 4096); retry later`, path: '' });
      const openrlhf = await call(url, 'POST', '/get_reward', { query: Array(300).fill('42'), labels: Array(300).fill('42') });
      expect(openrlhf.status).toBe(503);
      const code = await call(url, 'POST', '/run_code', { code: 'print(1)'.repeat(200), language: 'python' });
      expect(code.status).toBe(504);
      expect(code.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await call(url, 'GET', '/healthz')).status).toBe(200);
      const m = await call(url, 'GET', '/metrics');
      expect(m.status).toBe(200);
      expect(metric(m.text, 'rewardkit_rejected_requests_total{reason="queue_full"}')).toBe(3);
      expect(m.text).toContain('rewardkit_queue_waiting{lane="score"}');
      expect(m.text).toContain('# TYPE rewardkit_queue_wait_seconds histogram');
      held.finish();
      const first = await held.done;
      expect(first.status).toBe(200);
      expect(JSON.parse(first.text).results).toHaveLength(60);
      await until(async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_queue_bytes') === 0, 'the bytes to be released');
      expect((await call(url, 'POST', '/v1/score', { rollouts: gsm(30) })).status).toBe(200);
    } finally {
      held.finish();
      await server.close();
    }
  });

  it('beyond --max-inflight requests wait in order instead of 429; past the wait deadline 503 with Retry-After', async () => {
    // The slot holder: rouge_l LCS over long texts, 1,000 rollouts of tens of ms each (many seconds of sliced
    // grading even on an idle machine), ended by the 2 s deadline.
    const dir = mkdtempSync(join(tmpdir(), 'rk-queue-'));
    writeFileSync(join(dir, 'lcs.yaml'), 'name: lcs\ncomponents:\n  - {name: lcs, grader: rouge_l, max_tokens: 100000}\n');
    const { server, url } = await startServer({ specs: [dir], port: 0, scoring: 'inline', maxInflightRequests: 1, deadlineMs: 2000, queueTimeoutMs: 30_000, logStream: logSink() });
    const words = (n: number, k: number) => Array.from({ length: n }, (_, i) => `w${(i * k) % 97}`).join(' ');
    try {
      const heavy = call(url, 'POST', '/v1/score', { rollouts: Array.from({ length: 1000 }, (_, i) => ({ id: `h${i}`, completion: words(2000, 7), reference: words(2000, 11) })) });
      const waiting = async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_queue_waiting{lane="score"}');
      await until(async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_queue_running{lane="score"}') === 1, 'the heavy request to run');
      const done: number[] = [];
      const queued: Promise<unknown>[] = [];
      for (let i = 0; i < 4; i++) {
        queued.push(call(url, 'POST', '/v1/score', { rollouts: [{ id: `q${i}`, completion: 'a b', reference: 'a b' }] }).then((r) => (done.push(i), r)));
        await until(async () => (await waiting()) === i + 1, `request ${i} to queue`);
      }
      // A client that gives up while waiting: its request leaves the queue, unscored.
      const quitter = new AbortController();
      const quit = fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rollouts: [{ id: 'x', completion: 'a', reference: 'a' }] }), signal: quitter.signal }).catch(() => 'aborted');
      await until(async () => (await waiting()) === 5, 'the quitter to queue');
      quitter.abort();
      expect(await quit).toBe('aborted');
      await until(async () => (await waiting()) === 4, 'the quitter to leave the queue');
      expect(metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_rejected_requests_total{reason="client_gone"}')).toBe(1);
      const h = await heavy;
      expect(h.status).toBe(503); // its own scoring deadline, not the queue
      const replies = (await Promise.all(queued)) as { status: number; body: any }[];
      expect(replies.map((r) => [r.status, r.body.results[0].reward])).toEqual(Array(4).fill([200, 1]));
      expect(done).toEqual([0, 1, 2, 3]);
      expect(metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_rollouts_scored_total{spec="lcs"}')).toBe(4);
    } finally {
      await server.close();
    }
    const short = await startServer({ specs: [dir], port: 0, scoring: 'inline', maxInflightRequests: 1, deadlineMs: 2000, queueTimeoutMs: 100, logStream: logSink() });
    try {
      const heavy = call(short.url, 'POST', '/v1/score', { rollouts: Array.from({ length: 1000 }, (_, i) => ({ id: `h${i}`, completion: words(2000, 7), reference: words(2000, 11) })) });
      await until(async () => metric((await call(short.url, 'GET', '/metrics')).text, 'rewardkit_queue_running{lane="score"}') === 1, 'the heavy request to run');
      const late = await call(short.url, 'POST', '/v1/score', { rollouts: [{ id: 'late', completion: 'a', reference: 'a' }] });
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(late.body.error).toMatch(/^waited 0\.1 s in the queue behind 0 requests without a free slot \(1 run at once\); retry later$/);
      await heavy;
    } finally {
      await short.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
