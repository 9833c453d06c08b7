/**
 * Benchmark of the judge path (issue: model-based rewards): rollouts scored by a spec whose only
 * component is a `judge` (mode scale) on an `openai` backend — template rendering, fencing, the
 * managed backend (concurrency limit, deadline, counters), the official openai client, strict answer
 * parsing and the pipeline — against the local fake OpenAI-compatible server in a child process.
 *
 * Two servers: one answering at once (the client's CPU is then the bound: a worst case no real model
 * server reaches) and one taking 50 ms per answer, any number at once (a small judge model on a GPU
 * answers in tens to hundreds of ms). "What the server itself can answer" is measured in the same run
 * by the cheapest client here — bare node:http keep-alive requests, no parsing — at the same
 * concurrency; the judge path's goal is ≥ 90% of it at concurrency 64. Then the cache-hit path:
 * the same batch scored again from the SQLite response cache.
 *
 * Run: npx tsx bench/judge.ts [--seconds 3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const seconds = (() => {
  const i = process.argv.indexOf('--seconds');
  return i >= 0 ? Number(process.argv[i + 1]) : 3;
})();

if (process.argv.includes('--child-server')) {
  const delayMs = Number(process.argv[process.argv.indexOf('--child-server') + 1]);
  const { startFakeOpenAIServer } = await import('../src/backends/testing/openai_server.js');
  const server = await startFakeOpenAIServer({ record: false, delayMs });
  // A judge answer in the scale mode's schema, varying with the request so the cache path is exercised honestly.
  let n = 0;
  server.handle('chat', () => ({
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'fake-judge',
    choices: [{ index: 0, message: { role: 'assistant', content: `{"score": ${1 + (n++ % 5)}}` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 50, completion_tokens: 6, total_tokens: 56 },
  }));
  process.send!({ baseURL: server.baseURL });
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
  await new Promise(() => {});
}

const { createScorer } = await import('../src/index.js');
const { createNodeFetch } = await import('../src/backends/http_fetch.js');

function startServer(delayMs: number): Promise<{ child: ChildProcess; baseURL: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--child-server', String(delayMs)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, baseURL: (m as { baseURL: string }).baseURL }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** Requests/s of `workers` loops of bare POSTs for `ms`. */
async function bare(post: (i: number) => Promise<void>, workers: number, ms: number): Promise<number> {
  let done = 0;
  let next = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        await post(next++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

function rollouts(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}`, group: `g${Math.floor(i / 8)}`, prompt: `Question ${i}: how many legs has a spider?`, completion: `It has ${i % 9} legs. (${tag}${i})` }));
}

const dir = mkdtempSync(join(tmpdir(), 'rk-bench-judge-'));
console.log(`Judge path (spec: one judge component, mode scale, openai backend) against the local fake server; ${seconds} s per measurement.\n`);
console.log('| server answer time | concurrency | server capacity (bare node:http), req/s | judge path, rollouts/s | judge / capacity |');
console.log('|---:|---:|---:|---:|---:|');
let cacheLine = '';
try {
  for (const delay of [0, 50]) {
    const { child, baseURL } = await startServer(delay);
    const lean = createNodeFetch();
    const post = async (i: number) => {
      const r = await lean.fetch(`${baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer EMPTY' },
        body: JSON.stringify({ model: 'fake-judge', messages: [{ role: 'user', content: `rate #${i}` }] }),
      });
      await r.text();
    };
    try {
      for (const c of [1, 16, 64]) {
        const capacity = await bare(post, c, seconds * 1000);
        const scorer = createScorer({
          backends: { judge: { type: 'openai', base_url: baseURL, model: 'fake-judge', concurrency: c, cache: false, retries: 0 } },
          components: [{ name: 'quality', grader: 'judge', backend: 'judge', mode: 'scale' }],
        });
        // A batch sized for about `seconds` at the measured capacity, scored as one batch, as trainers send them.
        const n = Math.max(c * 4, Math.round(capacity * seconds));
        await scorer.score(rollouts(Math.min(n, 200), `w${c}-`)); // warm-up
        const t0 = performance.now();
        const { columns } = await scorer.score(rollouts(n, `m${c}-`));
        const rate = n / ((performance.now() - t0) / 1000);
        const errors = columns.errorCounts[0]!;
        await scorer.close();
        if (errors > 0) throw new Error(`${errors} judge errors`);
        console.log(`| ${delay} ms | ${c} | ${capacity.toFixed(0)} | ${rate.toFixed(0)} | **${((100 * rate) / capacity).toFixed(0)}%** |`);
      }
      if (delay === 0) {
        const cache = join(dir, 'cache.sqlite');
        const spec = {
          backends: { judge: { type: 'openai', base_url: baseURL, model: 'fake-judge', concurrency: 64, cache } },
          components: [{ name: 'quality', grader: 'judge', backend: 'judge', mode: 'scale' }],
        };
        const batch = rollouts(5000, 'c');
        const first = createScorer(spec);
        await first.score(batch);
        await first.close();
        const second = createScorer(spec);
        const t0 = performance.now();
        await second.score(batch);
        const rate = batch.length / ((performance.now() - t0) / 1000);
        const st = second.compiled.backends!.stats().judge!;
        await second.close();
        if (st.calls !== 0) throw new Error(`cache path made ${st.calls} calls`);
        cacheLine = `Cache-hit path: the same 5,000 rollouts scored again by a fresh scorer on the same SQLite cache: ${rate.toFixed(0)} rollouts/s, ${st.cache_hits} cache hits, 0 model calls.`;
      }
    } finally {
      lean.close();
      child.kill('SIGTERM');
    }
  }
  console.log(`\n${cacheLine}\nload average after: ${loadavg()[0]!.toFixed(1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
