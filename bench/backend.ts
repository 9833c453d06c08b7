/**
 * Benchmark of the model-backend path (issue: model-based rewards): chat throughput through
 * `manage(createOpenAITransport(...))` — concurrency limit, deadline and per-attempt timers, output
 * validation, counters — against the local fake OpenAI-compatible server (src/backends/testing/
 * openai_server.ts, replying at once) in a child process, at concurrency 1, 16 and 64.
 *
 * Baselines, measured in the same run, interleaved round by round with the managed client (medians
 * of ROUNDS), the same number of workers hammering the server with: (a) the bare node:http keep-alive
 * client of http_fetch.ts alone — the cheapest client here, so the closest to what the server itself
 * answers; (b) Node's global fetch (undici); (c) the stock `openai` client (over undici) without the
 * wrapper. The goal is managed ≥ 90% of (a) at concurrency 64. Client CPU per request is
 * reported too: on a shared 2-core machine it is steadier than wall-clock rates. Then the cache-hit
 * path: ops/s of `chat` answered from the SQLite response cache (1 worker, and 64 workers).
 *
 * Every request is distinct (no coalescing, no cache in the throughput runs). Bounded in time;
 * everything on loopback.
 * Run: npx tsx bench/backend.ts [--seconds 2] [--rounds 3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const self = fileURLToPath(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

// ---- child mode: the fake server -------------------------------------------------------------
if (process.argv.includes('--child-server')) {
  const { startFakeOpenAIServer } = await import('../src/backends/testing/openai_server.js');
  const server = await startFakeOpenAIServer({ record: false });
  process.send!({ url: server.url, baseURL: server.baseURL });
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0));
  });
  await new Promise(() => {});
}

// ---- parent: clients and report -------------------------------------------------------------
const { manage } = await import('../src/backends/managed.js');
const { createOpenAITransport } = await import('../src/backends/openai.js');
const { openCache } = await import('../src/backends/cache.js');
const { createNodeFetch } = await import('../src/backends/http_fetch.js');

const seconds = arg('seconds', 2);
const rounds = arg('rounds', 3);
const levels = [1, 16, 64];

function startServer(): Promise<{ child: ChildProcess; baseURL: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--child-server'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, baseURL: (m as { baseURL: string }).baseURL }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

interface Rate {
  /** Completed operations per wall-clock second. */
  perSecond: number;
  /** This (client) process's CPU time per operation, in microseconds. */
  cpuMicros: number;
}

/** `workers` loops calling `op(i)` with a fresh index until `ms` elapse. */
async function hammer(workers: number, ms: number, op: (i: number) => Promise<unknown>): Promise<Rate> {
  let next = 0;
  let done = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await op(next++);
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(c0);
  return { perSecond: done / ((performance.now() - t0) / 1000), cpuMicros: (cpu.user + cpu.system) / done };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const body = (i: number) => ({ model: 'fake-model', messages: [{ role: 'user', content: `rate this answer #${i}` }], temperature: 0 });

async function main(): Promise<void> {
  const { child, baseURL } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'rk-bench-backend-'));
  try {
    const bareOpenAI = new OpenAI({ apiKey: 'EMPTY', baseURL, maxRetries: 0 });
    const url = `${baseURL}/chat/completions`;
    const lean = createNodeFetch();
    const post = (f: typeof fetch) => async (i: number) => {
      const r = await f(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer EMPTY' }, body: JSON.stringify(body(i)) });
      const j = (await r.json()) as { choices: { message: { content: string } }[] };
      if (!j.choices[0]!.message.content) throw new Error('empty');
    };
    const bareLean = post(lean.fetch);
    const bareFetch = post(fetch);
    let offset = 0;
    const rows: string[] = [];
    for (const c of levels) {
      const managed = manage('bench', createOpenAITransport({ base_url: baseURL, model: 'fake-model' }, {}), { concurrency: c, cache: null });
      const warm = seconds * 250;
      await hammer(c, warm, (i) => bareLean(offset + i));
      await hammer(c, warm, (i) => managed.chat({ messages: body(offset + 1e6 + i).messages as never }));
      const runs: Record<'lean' | 'fetch' | 'openai' | 'managed', Rate[]> = { lean: [], fetch: [], openai: [], managed: [] };
      for (let r = 0; r < rounds; r++) {
        offset += 1e7;
        runs.lean.push(await hammer(c, seconds * 1000, (i) => bareLean(offset + i)));
        runs.fetch.push(await hammer(c, seconds * 1000, (i) => bareFetch(offset + 1e6 + i)));
        runs.openai.push(await hammer(c, seconds * 1000, (i) => bareOpenAI.chat.completions.create(body(offset + 2e6 + i) as never)));
        runs.managed.push(await hammer(c, seconds * 1000, (i) => managed.chat({ messages: body(offset + 4e6 + i).messages as never })));
      }
      const st = managed.stats();
      if (st.errors > 0) throw new Error(`managed client had ${st.errors} errors`);
      const rate = (xs: Rate[]) => median(xs.map((x) => x.perSecond));
      const cpu = (xs: Rate[]) => median(xs.map((x) => x.cpuMicros)).toFixed(0);
      const [rl, rf, ro, rm] = [rate(runs.lean), rate(runs.fetch), rate(runs.openai), rate(runs.managed)];
      const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
      rows.push(
        `| ${c} | ${rl.toFixed(0)} | ${rf.toFixed(0)} | ${ro.toFixed(0)} | ${rm.toFixed(0)} | **${pct(rm, rl)}** | ${pct(rm, rf)} | ${cpu(runs.lean)} / ${cpu(runs.fetch)} / ${cpu(runs.openai)} / ${cpu(runs.managed)} |`,
      );
      await managed.close();
    }
    lean.close();
    console.log(`Chat throughput against the local fake server (child process, replies at once); medians of ${rounds} rounds of ${seconds} s, requests/s:\n`);
    console.log('| concurrency | (a) bare node:http | (b) bare fetch | (c) stock openai client | managed (rewardkit) | managed / (a) | managed / (b) | client CPU µs/request (a / b / c / managed) |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(r);

    const cache = openCache(join(dir, 'bench.sqlite'));
    const cached = manage('bench', createOpenAITransport({ base_url: baseURL, model: 'fake-model' }, {}), { concurrency: 64, cache });
    const K = 1000;
    for (let i = 0; i < K; i += 64) await Promise.all(Array.from({ length: Math.min(64, K - i) }, (_, j) => cached.chat({ messages: body(i + j).messages as never })));
    cached.resetStats();
    const one = (await hammer(1, seconds * 1000, (i) => cached.chat({ messages: body(i % K).messages as never }))).perSecond;
    const many = (await hammer(64, seconds * 1000, (i) => cached.chat({ messages: body(i % K).messages as never }))).perSecond;
    const st = cached.stats();
    if (st.calls !== 0 || st.cache_hits !== st.requests) throw new Error(`cache path made ${st.calls} calls`);
    await cached.close();
    console.log(`\nCache-hit path (SQLite file, ${K} distinct cached requests, no server calls): ${one.toFixed(0)} ops/s with 1 worker, ${many.toFixed(0)} ops/s with 64 workers.`);
    console.log(`\nload average after: ${loadavg()[0]!.toFixed(1)}`);
    cache.close();
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
