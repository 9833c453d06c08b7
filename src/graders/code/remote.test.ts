/**
 * `serve --queue`: sandboxed programs run by `rewardkit worker` processes through a real Redis
 * (Debian's redis-server on a free loopback port). Needs the build (`npx tsc -p tsconfig.build.json`)
 * and a working sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, type RewardServer } from '../../server/app.js';
import { call, logSink } from '../../server/testing.js';
import { freePort, haveRedisServer, spawnWorker, startRedis, waitFor, type RedisProc, type WorkerProc } from '../../../test/redis.js';
import { connectRemoteSandbox, decodeRequest, decodeResult, encodeRequest, encodeResult } from './remote.js';
import { runProgram, sandboxSupport } from './sandbox.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const built = existsSync(join(ROOT, 'dist/graders/code/remote.js'));
const sandbox = sandboxSupport();
const ready = haveRedisServer && built && sandbox.ok;
if (!ready) console.log(`remote.test: skipping (${!haveRedisServer ? 'no /usr/bin/redis-server' : !built ? 'no build: run npx tsc -p tsconfig.build.json' : `no sandbox: ${sandbox.reason}`})`);

let dir = '';
let redis: RedisProc | null = null;
const servers: RewardServer[] = [];
const children = new Set<ChildProcess>();

function worker(url: string, extra: string[] = []): WorkerProc {
  return spawnWorker(url, ['--sandbox-jobs', '2', ...extra], children);
}

const until = waitFor;

/** SIGTERM to every worker still running, and wait for their exits. */
async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return children.delete(c);
      const gone = new Promise((res) => c.once('exit', res));
      c.kill('SIGTERM');
      return gone;
    }),
  );
}

const SPEC = `name: code-remote
components:
  - {name: tests, grader: code, language: python, timeout: 5}
`;

function rollouts(): unknown[] {
  const tests = { tests: [{ input: '2\n', output: '4\n' }, { input: '5\n', output: '10\n' }] };
  return [
    { id: 'right', group: 'g', completion: '```python\nprint(int(input()) * 2)\n```', reference: tests },
    { id: 'wrong', group: 'g', completion: '```python\nprint(int(input()) + 2)\n```', reference: tests },
    { id: 'crash', group: 'g', completion: '```python\nraise SystemExit(3)\n```', reference: tests },
    { id: 'slow', group: 'g', completion: '```python\nimport time\ntime.sleep(30)\n```', reference: tests },
  ];
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk-remote-'));
});

afterAll(async () => {
  for (const c of [...children]) c.kill('SIGKILL');
  await Promise.allSettled(servers.map((s) => s.close()));
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sandbox jobs', () => {
  it('carry requests and results exactly (binary files as base64)', () => {
    const req = { language: 'python' as const, code: 'x', stdin: 'in', files: { 'a.bin': new Uint8Array([0, 255, 7]), 'b.txt': 'text' }, fetchFiles: ['o'], limits: { timeoutMs: 10 } };
    const back = decodeRequest(JSON.parse(JSON.stringify(encodeRequest(req))));
    expect(back.files!['b.txt']).toBe('text');
    expect([...(back.files!['a.bin'] as Uint8Array)]).toEqual([0, 255, 7]);
    expect({ ...back, files: undefined }).toEqual({ ...req, files: undefined });
    const res = { compile: null, run: { status: 'ok' as const, exitCode: 0, signal: null, stdout: 'x', stderr: '', wallMs: 3 }, files: { o: Buffer.from([1, 2, 0]) }, fetchSkipped: ['p'] };
    expect(decodeResult(JSON.parse(JSON.stringify(encodeResult(res))))).toEqual(res);
  });
});

describe.skipIf(!ready)('serve --queue with a real Redis and rewardkit worker processes', () => {
  it('code grader runs and /run_code go to the workers; results equal a server that runs them itself', async () => {
    redis = await startRedis(await freePort(), dir);
    const w = [worker(redis.url), worker(redis.url)];
    await until(() => w.every((x) => x.err().includes('consuming rewardkit-sandbox')), 'workers to start');
    const spec = join(dir, 'code.yaml');
    writeFileSync(spec, SPEC);
    const local = await startServer({ specs: [spec], port: 0, scoring: 'inline', logStream: logSink() });
    servers.push(local.server);
    const remote = await startServer({ specs: [spec], port: 0, scoring: 'inline', queue: redis.url, logStream: logSink() });
    servers.push(remote.server);

    const here = await call(local.url, 'POST', '/v1/score', { rollouts: rollouts(), details: true });
    const there = await call(remote.url, 'POST', '/v1/score', { rollouts: rollouts(), details: true });
    expect(here.status, here.text).toBe(200);
    expect(there.status, there.text).toBe(200);
    const strip = (b: { results: { details?: Record<string, unknown> }[] }) =>
      b.results.map((r) => ({ ...r, details: JSON.parse(JSON.stringify(r.details ?? {}, (k, v) => (k === 'wallMs' || k === 'stderr' ? undefined : v))) }));
    expect(strip(there.body)).toEqual(strip(here.body));
    expect(there.body.results.map((r: { reward: number }) => r.reward)).toEqual([1, 0.5, 0, 0]);
    const runs = () => w.map((x) => (x.err().match(/sandbox run \S+ done/g) ?? []).length);
    // Identical programs on the same reference run once: 4 programs × 2 cases, some short-circuited.
    expect(runs().reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    const before = runs().reduce((a, b) => a + b, 0);
    const rc = await call(remote.url, 'POST', '/run_code', { code: 'print(6 * 7)', language: 'python' });
    expect(rc.status, rc.text).toBe(200);
    expect(rc.body.status).toBe('Success');
    expect(rc.body.run_result.stdout).toBe('42\n');
    expect(runs().reduce((a, b) => a + b, 0)).toBe(before + 1);
  }, 120_000);

  it('no worker left: a run ends as sandbox_error naming the queue, within its limits plus the wait; a worker SIGKILLed mid-run loses nothing', async () => {
    const url = redis!.url;
    const r = await connectRemoteSandbox(url, { waitMs: 300 });
    try {
      // A worker killed while it runs a program: its job's lock expires and another worker runs it.
      await stopAll();
      const a = worker(url, ['--lock-duration', '2000', '--stalled-interval', '500']);
      await until(() => a.err().includes('consuming rewardkit-sandbox'), 'worker a');
      const pending = r.run({ language: 'python', code: 'import time\ntime.sleep(1.5)\nprint("done")', limits: { timeoutMs: 20_000 } });
      await new Promise((res) => setTimeout(res, 700));
      a.child.kill('SIGKILL');
      await a.exited;
      // b's own lock is long (a loaded machine may miss a short lock's renewal); it looks for stalled jobs often.
      const b = worker(url, ['--lock-duration', '30000', '--stalled-interval', '500']).child;
      const got = await pending;
      expect(got.run?.status, got.run?.message).toBe('ok');
      expect(got.run?.stdout).toBe('done\n');
      b.kill('SIGTERM');
      await new Promise((res) => b.on('exit', res));
      children.delete(b);
      await stopAll();
      // Nobody consumes the queue now.
      const t0 = Date.now();
      const none = await r.run({ language: 'python', code: 'print(1)', limits: { timeoutMs: 500 }, compileLimits: { timeoutMs: 500 } });
      expect(none.run?.status).toBe('sandbox_error');
      expect(none.run?.message).toMatch(/^no sandbox worker finished the run within 6 s \(its limits plus 0 s of waiting\): start or add `rewardkit worker --queue redis:\/\/127\.0\.0\.1:\d+\/0`$/);
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      await r.close();
    }
    // Redis gone: the server cannot start with --queue (a clear error), and a bad URL is refused.
    await redis!.stop();
    await expect(connectRemoteSandbox(url, { connectMs: 500 })).rejects.toThrow(/^--queue: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 (unreachable \(.+\)|not reachable within 500 ms)$/);
    await expect(startServer({ specs: [join(dir, 'code.yaml')], port: 0, queue: 'http://x', logStream: logSink() })).rejects.toThrow(/--queue: "http:\/\/x" is not a redis:\/\/ URL/);
    // Programs run here again once no server holds the queue.
    for (const s of servers) await s.close();
    expect((await runProgram({ language: 'python', code: 'print(2)' })).run?.stdout).toBe('2\n');
  }, 120_000);
});
