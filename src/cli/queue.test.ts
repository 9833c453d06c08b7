/**
 * `score --queue` and `rewardkit worker` against a real Redis (Debian's redis-server, started here on a
 * free loopback port with a temp dir, no persistence) and real `node bin/rewardkit.js` processes.
 * Needs the build: `npx tsc -p tsconfig.build.json`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../test/redis.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeColumns, encodeColumns } from './queue.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/rewardkit.js');
const REDIS = '/usr/bin/redis-server';
const haveRedis = existsSync(REDIS) && existsSync(join(ROOT, 'dist/cli/worker.js'));

const children = new Set<ChildProcess>();
let dir = '';

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code, sig) => {
      children.delete(child);
      r(code ?? (sig ? -1 : null));
    }),
  );
  return { child, out: () => out, err: () => err, exited };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startRedis(port: number): Promise<Proc> {
  const p = start(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no']);
  await until(() => p.out().includes('Ready to accept connections'), 'redis-server to start', 10_000);
  return p;
}

async function stop(p: Proc, sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(sig);
  return p.exited;
}

function worker(url: string, extra: string[] = []): Proc {
  // Short lock and stalled check, so a killed worker's chunk comes back within seconds; a loaded CI
  // machine may miss a lock renewal of a live worker now and then (its chunk is then scored twice and
  // written once), so a chunk may stall many times before it counts as failed.
  return start('node', [BIN, 'worker', '--queue', url, '--verbose', '--lock-duration', '3000', '--stalled-interval', '1000', '--max-stalled-count', '20', ...extra]);
}

/** 24 groups of 4 × `reps`, contiguous, with distinct ids and groups. */
function writeInput(path: string, reps: number): string[] {
  const base = readFileSync(join(ROOT, 'examples/gsm8k_rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const lines: string[] = [];
  const ids: string[] = [];
  for (let r = 0; r < reps; r++)
    for (const x of base) {
      const id = `r${r}-${String(x.id)}`;
      ids.push(id);
      lines.push(JSON.stringify({ ...x, id, group: `r${r}-${String(x.group)}` }));
    }
  writeFileSync(path, lines.join('\n') + '\n');
  return ids;
}

/**
 * The spec: gsm8k's graders plus a module grader that busy-waits 2 ms per rollout, so a chunk of 40
 * takes ~80 ms and a worker can be killed in the middle of one; GRPO advantages (group-normalised).
 */
function writeSpec(): string {
  writeFileSync(
    join(dir, 'slow.mjs'),
    `export function grade(s) { const t = Date.now(); while (Date.now() - t < 2) {} return s.completion.length % 7 / 7; }\n`,
  );
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    `name: queue-test
components:
  - {name: correct, grader: numeric, weight: 1.0}
  - {name: format, grader: format, tags: [think, answer], weight: 0.2}
  - {name: slow, grader: module, path: ./slow.mjs, export: grade, weight: 0.3}
combine: {type: weighted_sum}
advantage: {estimator: grpo}
`,
  );
  return spec;
}

function ids(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);
}

describe.skipIf(!haveRedis)('score --queue with real Redis and workers', () => {
  let spec = '';
  let input = '';
  let inputIds: string[] = [];
  let reference = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rk-queue-'));
    spec = writeSpec();
    input = join(dir, 'in.jsonl');
    inputIds = writeInput(input, 40); // 1,920 rollouts, 48 chunks of 40
    const ref = spawnSync('node', [BIN, 'score', '--spec', spec, '--in', input, '--out', join(dir, 'ref.jsonl'), '--batch-size', '40', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(ref.status, ref.stderr).toBe(0);
    reference = readFileSync(join(dir, 'ref.jsonl'), 'utf8');
  });

  afterAll(async () => {
    for (const c of [...children]) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('3 workers, one SIGKILLed mid-chunk: output complete, each id once, equal to a single-process score', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const redis = await startRedis(port);
    const ws = [worker(url), worker(url), worker(url)];
    await until(() => ws.every((w) => w.err().includes('consuming')), 'workers to start');
    const out = join(dir, 'out1.jsonl');
    const sub = start('node', [BIN, 'score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', '40', '--window', '6', '--progress-interval', '0']);
    // Kill worker 0 right after it starts its second chunk: it dies holding that chunk's lock.
    await until(() => (ws[0]!.err().match(/ started /g) ?? []).length >= 2, 'worker 0 to start a second chunk');
    ws[0]!.child.kill('SIGKILL');
    const starts = ws[0]!.err().match(/chunk (\d+) of run \S+ started/g)!;
    const killedChunk = Number(/chunk (\d+)/.exec(starts[starts.length - 1]!)![1]);
    expect(ws[0]!.err()).not.toMatch(new RegExp(`chunk ${killedChunk} of run \\S+ done`));
    expect(await ws[0]!.exited).toBe(-1);

    const code = await sub.exited;
    expect(code, sub.err()).toBe(0);
    const text = readFileSync(out, 'utf8');
    // Every rollout exactly once, in input order, with the values of one process.
    expect(ids(text)).toEqual(inputIds);
    expect(text).toBe(reference);
    expect(existsSync(out + '.partial')).toBe(false);
    // The killed worker's chunk was scored again by another worker (stalled-job detection).
    expect(ws[1]!.err() + ws[2]!.err()).toMatch(new RegExp(`chunk ${killedChunk} of run \\S+ done`));
    expect(sub.err()).toMatch(/chunks in flight/);
    expect(sub.out()).toMatch(/scored 1,920 rollouts/);

    // Workers stop on SIGTERM (exit 0); nothing left running.
    expect(await stop(ws[1]!)).toBe(0);
    expect(await stop(ws[2]!)).toBe(0);
    await stop(redis);
    expect(children.size).toBe(0);
  }, 120_000);

  it('Redis stopped mid-run: the run fails loudly, keeps OUT.partial; --resume after a restart completes it exactly', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    let redis = await startRedis(port);
    const ws = [worker(url), worker(url)];
    await until(() => ws.every((w) => w.err().includes('consuming')), 'workers to start');
    const out = join(dir, 'out2.jsonl');
    const args = ['score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', '40', '--window', '4', '--redis-timeout', '2'];
    const sub = start('node', [BIN, ...args]);
    await until(() => (ws[0]!.err() + ws[1]!.err()).split(' done ').length > 6, 'some chunks to be scored');
    await stop(redis);
    const code = await sub.exited;
    expect(code).toBe(1);
    expect(sub.err()).toMatch(/error: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 unreachable for 2 s/);
    expect(sub.err()).toMatch(/--resume/);
    expect(existsSync(out)).toBe(false);
    const partial = readFileSync(out + '.partial', 'utf8');
    const got = ids(partial);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(inputIds.length);
    // What was written is a prefix of the single-process output: whole lines, input order, no loss before it.
    expect(reference.startsWith(partial)).toBe(true);

    // Redis back (empty: no persistence); the workers reconnect by themselves; --resume finishes the run.
    redis = await startRedis(port);
    const again = start('node', [BIN, ...args, '--resume']);
    expect(await again.exited, again.err()).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(ids(text)).toEqual(inputIds);
    expect(text).toBe(reference);

    for (const w of ws) expect(await stop(w)).toBe(0);
    await stop(redis);
    expect(children.size).toBe(0);
  }, 120_000);

  it('Redis restarted (empty) within --redis-timeout: the chunks in flight are enqueued again and the run completes exactly', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    let redis = await startRedis(port);
    const ws = [worker(url), worker(url)];
    await until(() => ws.every((w) => w.err().includes('consuming')), 'workers to start');
    const out = join(dir, 'out3.jsonl');
    const sub = start('node', [BIN, 'score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', '40', '--window', '4', '--redis-timeout', '30']);
    await until(() => (ws[0]!.err() + ws[1]!.err()).split(' done ').length > 6, 'some chunks to be scored');
    await stop(redis);
    await new Promise((r) => setTimeout(r, 500));
    redis = await startRedis(port);
    expect(await sub.exited, sub.err()).toBe(0);
    expect(sub.err()).toMatch(/is gone from Redis \(restarted without persistence\?\); enqueued again/);
    const text = readFileSync(out, 'utf8');
    expect(ids(text)).toEqual(inputIds);
    expect(text).toBe(reference);
    for (const w of ws) expect(await stop(w)).toBe(0);
    await stop(redis);
    expect(children.size).toBe(0);
  }, 120_000);

  it('submitter SIGKILLed mid-run: --resume continues (with the same workers) to the single-process output; --strict stops at a bad line as without --queue', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const redis = await startRedis(port);
    const ws = [worker(url), worker(url)];
    await until(() => ws.every((w) => w.err().includes('consuming')), 'workers to start');
    const out = join(dir, 'out4.jsonl');
    const args = ['score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', '40', '--window', '4', '--progress-interval', '0'];
    const sub = start('node', [BIN, ...args]);
    await until(() => Math.max(0, ...[...sub.err().matchAll(/^scoring: ([\d,]+) rollouts/gm)].map((m) => Number(m[1]!.replace(/,/g, '')))) >= 800, '800 rollouts written');
    await new Promise((r) => setTimeout(r, 100));
    sub.child.kill('SIGKILL');
    await sub.exited;
    const partial = readFileSync(out + '.partial', 'utf8');
    expect(ids(partial.slice(0, partial.lastIndexOf('\n') + 1)).length).toBeGreaterThan(0);
    const again = start('node', [BIN, ...args, '--resume']);
    expect(await again.exited, again.err()).toBe(0);
    expect(again.err()).toMatch(/resuming: [\d,]+ rollouts already in .*out4\.jsonl\.partial/);
    const text = readFileSync(out, 'utf8');
    expect(ids(text)).toEqual(inputIds);
    expect(text).toBe(reference);

    // A bad line at 1,000 under --strict: the chunks before it are written (queue or not), then exit 1.
    const lines = readFileSync(input, 'utf8').split('\n');
    lines.splice(999, 0, '{"id": "broken", ');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, lines.join('\n'));
    const plain = spawnSync('node', [BIN, 'score', '--spec', spec, '--in', bad, '--out', join(dir, 'bad-plain.jsonl'), '--batch-size', '40', '--strict', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(plain.status).toBe(1);
    const q = start('node', [BIN, 'score', '--spec', spec, '--in', bad, '--out', join(dir, 'bad-queue.jsonl'), '--queue', url, '--batch-size', '40', '--strict', '-q']);
    expect(await q.exited).toBe(1);
    expect(q.err()).toMatch(/bad\.jsonl:1000: invalid JSON/);
    const written = readFileSync(join(dir, 'bad-queue.jsonl'), 'utf8');
    expect(ids(written)).toHaveLength(999);
    expect(written).toBe(readFileSync(join(dir, 'bad-plain.jsonl'), 'utf8'));

    for (const w of ws) expect(await stop(w)).toBe(0);
    await stop(redis);
    expect(children.size).toBe(0);
  }, 120_000);

  it('refuses a spec with state across batches (meanstd) in --queue mode, naming the shaper', async () => {
    const stateful = join(dir, 'stateful.yaml');
    writeFileSync(stateful, readFileSync(spec, 'utf8').replace('combine:', 'shape: [{type: meanstd}]\ncombine:'));
    const r = spawnSync('node', [BIN, 'score', '--spec', stateful, '--in', input, '--out', join(dir, 'x.jsonl'), '--queue', 'redis://127.0.0.1:1/0'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--queue: spec "queue-test" has stateful shapers \(meanstd\)/);
    expect(existsSync(join(dir, 'x.jsonl.partial'))).toBe(false);
  });

  it('fails loudly when Redis cannot be reached, leaving no output', async () => {
    const port = await freePort(); // nothing listens there
    const out = join(dir, 'none.jsonl');
    const r = spawnSync('node', [BIN, 'score', '--spec', spec, '--in', input, '--out', out, '--queue', `redis://127.0.0.1:${port}/0`, '--redis-timeout', '1'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error: Redis at redis://127\\.0\\.0\\.1:${port}/0 unreachable for 1 s \\(--redis-timeout; last error: connect ECONNREFUSED`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack traces
    expect(existsSync(out) || existsSync(out + '.partial')).toBe(false);
  });

  it('refuses a URL that is not redis://', async () => {
    const r = spawnSync('node', [BIN, 'worker', '--queue', 'http://127.0.0.1:1/0'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not a redis:\/\/ URL/);
  });
});

describe('chunk results', () => {
  it('carry the batch columns exactly (NaN, typed arrays, reasons)', () => {
    const cols = {
      components: [new Float64Array([1, NaN, 0.25])],
      rewards: new Float64Array([NaN, -0, 1e-300]),
      advantages: null,
      groupOf: new Int32Array([0, 0, 1]),
      groupCount: 2,
      groupKeys: ['a', 'b'],
      charLengths: new Float64Array([1, 2, 3]),
      tokenLengths: new Float64Array([4, 5, 6]),
      nullCounts: new Int32Array([1]),
      errorCounts: new Int32Array([0]),
      nullReasons: [new Map([['no number', 1]])],
    };
    const back = decodeColumns(JSON.parse(JSON.stringify(encodeColumns(cols))));
    expect(back).toEqual(cols);
    expect(Object.is(back.rewards[1], -0)).toBe(true);
  });
});
