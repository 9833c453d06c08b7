/**
 * Benchmark of `rewardkit serve` (issue: reward server). Bounded in time; everything on loopback.
 *
 *  1. baseline: the in-process `score` (validate + `scoreBatch`) throughput of the same batches, in
 *     this process, before any server runs;
 *  2. for each scoring mode (inline = event loop, pool = worker threads): the server in a child
 *     process, autocannon POSTing `/v1/score` batches of 64 and 256 synthetic GSM8K-style rollouts
 *     (groups of 8): peak throughput in rollouts/s (best of a few connection counts), then p50/p99
 *     latency at 80% of that peak request rate;
 *  3. soak: the default mode at 80% of its 256-batch peak for `--soak` seconds, RSS of the server
 *     process sampled every few seconds; growth after warm-up (the first 20% of the soak).
 *
 * The load generator shares the machine's cores with the server (2 on the reference machine), and
 * other work on the machine competes too: besides wall-clock rates, every point records the CPU time
 * the server process spent (from /proc) and the baseline records its own CPU time, so the
 * "per CPU-second" columns compare the cost of a rollout over HTTP with its cost in-process
 * independently of how busy the machine was. The load average is printed with the results.
 * Run: npx tsx bench/server.ts [--spec examples/gsm8k.yaml] [--duration 8] [--soak 300]
 *      [--modes inline,pool] [--workers N] [--out bench/out/server.md]
 *
 * Burst mode (issue 13, admission by capacity): `--burst` instead runs the trainers' own call
 * patterns against a server child started with default admission settings and reports latency
 * percentiles (per call, retries and queue waits included), HTTP attempts by status and the
 * server's RSS:
 *  - OpenRLHF per-sample client: `--samples` (8000) concurrent `POST /get_reward`, one query each,
 *    5 tries 1 s apart (src/server/trainers.ts);
 *  - verl Sandbox Fusion client: `--runs` (1200) `POST /run_code` of a small Python program at
 *    `max_concurrent` 100, timeout=10 (request timeout 30 s, retries 504 only);
 *  - OpenRLHF whole-batch client: one `POST /get_reward` of `--batch` (20000) queries with 2,000-char
 *    prompts and `--response-chars` (16000) responses (~330 MiB of JSON).
 * Run: npx tsx bench/server.ts --burst [--samples 8000] [--runs 1200] [--batch 20000] [--out bench/out/server-burst.md]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng, syntheticRollout } from './synthetic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

// ---- child mode: the server under test ------------------------------------------------------
if (process.argv.includes('--child-server')) {
  const { startServer } = await import('../src/server/index.js');
  const { server, url } = await startServer({
    specs: [arg('spec', '')],
    port: 0,
    scoring: arg('scoring', 'inline') as 'inline' | 'pool',
    workers: Number(arg('workers', String(availableParallelism()))),
    ...(process.argv.includes('--defaults') ? {} : { maxInflightRequests: 1024 }),
    logLevel: arg('log-level', 'info'),
  });
  process.send!({ url });
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0));
  });
  await new Promise(() => {});
}

// ---- burst mode: the trainers' clients at production size ------------------------------------
if (process.argv.includes('--burst')) {
  const { openRlhfBurst, openRlhfSample, rssOf, sandboxFusionLoad } = await import('../src/server/trainers.js');
  const { sandboxSupport } = await import('../src/graders/code/sandbox.js');
  const burstSpec = resolve(arg('spec', join(root, 'examples', 'gsm8k.yaml')));
  const samples = Number(arg('samples', '8000'));
  const runs = Number(arg('runs', '1200'));
  const out = resolve(arg('out', join(root, 'bench', 'out', 'server-burst.md')));
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child-server', '--defaults', '--spec', burstSpec, '--scoring', 'auto', '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((res, rej) => {
    proc.once('message', (m: { url: string }) => res(m.url));
    proc.once('exit', (code) => rej(new Error(`server child exited with ${code}`)));
  });
  const out2: string[] = [];
  const say2 = (x = '') => {
    out2.push(x);
    console.log(x);
  };
  const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
  say2(`### rewardkit serve under trainer bursts — default admission settings, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`);
  say2();
  say2('Latency per call from the first attempt to the usable answer (retries and queue waits included); the client runs on the same machine.');
  say2();
  say2('| load | calls | ok | failed | attempts by status | p50 ms | p90 ms | p99 ms | max ms | wall s | calls/s | server RSS after (peak) MB |');
  say2('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, r: Awaited<ReturnType<typeof openRlhfBurst>>) => {
    const m = rssOf(proc.pid!);
    say2(
      `| ${name} | ${f0(r.calls)} | ${f0(r.ok)} | ${r.failed} | ${Object.entries(r.attempts).map(([k, v]) => `${k === '0' ? 'conn. error' : k}: ${f0(v)}`).join(', ')} | ${f0(r.latency.p50)} | ${f0(r.latency.p90)} | ${f0(r.latency.p99)} | ${f0(r.latency.max)} | ${(r.wallMs / 1000).toFixed(1)} | ${f0(r.calls / (r.wallMs / 1000))} | ${m.nowMb} (${m.peakMb}) |`,
    );
    for (const e of r.errors) console.error(`  ${e}`);
  };
  try {
    // Warm-up: JIT and the spec's lazy loads, off the record.
    await openRlhfBurst(url, Array.from({ length: 200 }, (_, i) => openRlhfSample(i)), () => true);
    const rs = Array.from({ length: samples }, (_, i) => openRlhfSample(i));
    row(`OpenRLHF per-sample burst: ${f0(samples)} concurrent \`POST /get_reward\`, 5 tries 1 s apart`, await openRlhfBurst(url, rs, (_i, b) => Array.isArray(b.rewards) && b.rewards.length === 1));
    // The whole-batch client: one request of `--batch` (20,000) queries with long texts (2,000-char
    // prompts, `--response-chars` (16,000) responses: ~330 MB of JSON), as the old OpenRLHF client sent a batch.
    {
      const { Agent } = await import('node:http');
      const { postJson } = await import('../src/server/trainers.js');
      const nb = Number(arg('batch', '20000'));
      const chars = Number(arg('response-chars', '16000'));
      const big = Array.from({ length: nb }, (_, i) => {
        const x = openRlhfSample(i, chars);
        return { ...x, prompt: x.prompt + ' '.repeat(Math.max(0, 2000 - x.prompt.length)) };
      });
      const body = JSON.stringify({ query: big.map((x) => x.prompt + x.response), prompts: big.map((x) => x.prompt), labels: big.map((x) => x.label) });
      const x = await postJson(new Agent(), `${url}/get_reward`, body);
      const ok = x.status === 200 && Array.isArray(x.body.rewards) && x.body.rewards.length === nb;
      const m = rssOf(proc.pid!);
      say2(
        `| OpenRLHF whole batch: 1 \`POST /get_reward\` of ${f0(nb)} queries (${(body.length / 2 ** 20).toFixed(0)} MiB) | 1 | ${ok ? 1 : 0} | ${ok ? 0 : 1} | ${x.status} | ${f0(x.ms)} | | | | ${(x.ms / 1000).toFixed(1)} | ${f0(nb / (x.ms / 1000))} queries/s | ${m.nowMb} (${m.peakMb}) |`,
      );
    }
    if (sandboxSupport().ok) {
      const programs = Array.from({ length: runs }, (_, i) => ({ code: 'import sys\nn = int(sys.stdin.read())\nprint(sum(range(n)))\n', stdin: String(i) }));
      row(
        `verl Sandbox Fusion: ${f0(runs)} \`POST /run_code\` (Python), max_concurrent 100, timeout=10`,
        await sandboxFusionLoad(url, programs, (i, b) => b.status === 'Success' && b.run_result?.stdout === `${(i * (i - 1)) / 2}\n`),
      );
    } else say2(`| verl Sandbox Fusion | skipped: ${sandboxSupport().reason} |`);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  say2();
  say2('Goal (issue 13): zero failed calls, only latency; no 429 at all (503/504 only when the queue is full or a wait passes its deadline).');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, out2.join('\n') + '\n');
  console.log(`\n(written to ${out})`);
  process.exit(0);
}

// ---- load generator and report --------------------------------------------------------------
interface Histogram {
  average: number;
  p50: number;
  p99: number;
  max: number;
}
interface CannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<CannonResult>;

/** GSM8K-style rollouts in groups of 8 (bench/synthetic.ts); `seed` picks the set. */
function rollouts(n: number, seed: number) {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => syntheticRollout(i, rand, seed * 1000));
}

const spec = resolve(arg('spec', join(root, 'examples', 'gsm8k.yaml')));
const duration = Number(arg('duration', '8'));
const soakSeconds = Number(arg('soak', '300'));
const modes = arg('modes', 'inline,pool').split(',') as ('inline' | 'pool')[];
const workers = Number(arg('workers', String(availableParallelism())));
const outFile = resolve(arg('out', join(root, 'bench', 'out', 'server.md')));
const sizes = [64, 256];
const connectionCounts = [2, 8];

const batches = new Map(sizes.map((n) => [n, rollouts(n, n)]));
// Bodies as the trainers' Python clients send them: `requests.post(json=…)`, aiohttp's `json=` and
// clients/python all use json.dumps, whose ensure_ascii escapes every non-ASCII character. (Raw UTF-8
// bodies, as JSON.stringify writes them, cost more to decode: on Node 20 a body with any non-ASCII
// byte takes V8's slow UTF-8 path, ~1 ms per 80 KB, about a quarter of a 256-rollout request.)
const asciiJson = (v: unknown) => JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const bodies = new Map(sizes.map((n) => [n, asciiJson({ rollouts: batches.get(n) })]));
const lines: string[] = [];
const say = (s = '') => {
  lines.push(s);
  console.log(s);
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

say(`### rewardkit serve — spec ${spec.startsWith(root) ? spec.slice(root.length + 1) : spec}, ${availableParallelism()} cores, node ${process.version}`);
say();
say(`Synthetic GSM8K-style rollouts in groups of 8; autocannon on loopback (same machine) for ${duration} s per point.`);
say();

// 1. Baseline: in-process score of the same batches.
const { createScorer } = await import('../src/index.js');
const scorer = createScorer(spec);
const baseline = new Map<number, { wall: number; cpu: number }>();
const load0 = loadavg()[0]!;
for (const n of sizes) {
  const batch = batches.get(n)!;
  for (let i = 0; i < 200; i++) await scorer.score(batch); // warm-up
  let count = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < duration * 1000) {
    await scorer.score(batch);
    count++;
  }
  const c = process.cpuUsage(c0);
  baseline.set(n, { wall: (count * n) / ((performance.now() - t0) / 1000), cpu: (count * n) / ((c.user + c.system) / 1e6) });
}

interface Child {
  proc: ChildProcess;
  url: string;
}
async function startChild(mode: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child-server', '--spec', spec, '--scoring', mode, '--workers', String(workers)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((res, rej) => {
    proc.once('message', (m: { url: string }) => res(m.url));
    proc.once('exit', (code) => rej(new Error(`server child exited with ${code}`)));
  });
  return { proc, url };
}
async function stopChild(c: Child): Promise<void> {
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await exited;
}
/** CPU seconds a process has used (utime + stime from /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function cannon(url: string, n: number, o: Record<string, unknown>): Promise<CannonResult> {
  return autocannon({
    url: `${url}/v1/score`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies.get(n),
    duration,
    timeout: 60,
    ...o,
  });
}

interface Point {
  mode: string;
  n: number;
  peakRps: number;
  /** Rollouts per CPU-second of the server process during the peak run. */
  cpuRate: number;
  connections: number;
  p50: number;
  p99: number;
  rateRps: number;
  errors: number;
}
const points: Point[] = [];
for (const mode of modes) {
  const child = await startChild(mode);
  try {
    for (const n of sizes) {
      await cannon(child.url, n, { connections: 4, duration: 2 }); // warm-up
      let best: { rps: number; c: number; errors: number; cpuRate: number } = { rps: 0, c: 0, errors: 0, cpuRate: 0 };
      for (const c of connectionCounts) {
        const cpu0 = cpuSeconds(child.proc.pid!);
        const r = await cannon(child.url, n, { connections: c });
        const cpu = cpuSeconds(child.proc.pid!) - cpu0;
        const rps = r.requests.total / r.duration;
        if (rps > best.rps) best = { rps, c, errors: r.errors + r.non2xx + r.timeouts, cpuRate: (r.requests.total * n) / cpu };
      }
      const rate = Math.max(1, Math.floor(best.rps * 0.8));
      const at80 = await cannon(child.url, n, { connections: best.c, overallRate: rate });
      points.push({ mode, n, peakRps: best.rps, cpuRate: best.cpuRate, connections: best.c, p50: at80.latency.p50, p99: at80.latency.p99, rateRps: rate, errors: best.errors + at80.errors + at80.non2xx + at80.timeouts });
    }
  } finally {
    await stopChild(child);
  }
}

say(
  '| scoring | batch | peak rollouts/s over HTTP | requests/s | in-process `score` rollouts/s | HTTP ÷ in-process | rollouts per server CPU-s | in-process rollouts per CPU-s | CPU cost ratio | p50 at 80% of peak (ms) | p99 at 80% of peak (ms) | errors |',
);
say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const p of points) {
  const base = baseline.get(p.n)!;
  const http = p.peakRps * p.n;
  say(
    `| ${p.mode}${p.mode === 'pool' ? ` (${workers} workers)` : ''} | ${p.n} | ${fmt(http)} | ${fmt(p.peakRps)} (${p.connections} conn.) | ${fmt(base.wall)} | ${((http / base.wall) * 100).toFixed(0)}% | ${fmt(p.cpuRate)} | ${fmt(base.cpu)} | ${((p.cpuRate / base.cpu) * 100).toFixed(0)}% | ${p.p50} | ${p.p99} | ${p.errors} |`,
  );
}
say();
say(`Load average (1 min) ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} after the throughput runs, on ${availableParallelism()} cores.`);
say('"rollouts per server CPU-s": rollouts served ÷ CPU time of the server process (all its threads) during the peak run; the in-process column is the same for the baseline loop.');
say();
say('Goals (issue 5): ≥ 30,000 rollouts/s over HTTP; ≥ 60% of the in-process rate.');

// 3. Soak in the faster mode at 80% of its 256-batch peak.
if (soakSeconds > 0) {
  const best256 = points.filter((p) => p.n === 256).sort((a, b) => b.peakRps - a.peakRps)[0]!;
  const child = await startChild(best256.mode);
  const pid = child.proc.pid!;
  const samples: { t: number; mb: number }[] = [];
  const t0 = performance.now();
  samples.push({ t: 0, mb: rssMb(pid) });
  const timer = setInterval(() => samples.push({ t: (performance.now() - t0) / 1000, mb: rssMb(pid) }), Math.max(1000, Math.min(5000, (soakSeconds * 1000) / 30)));
  const r = await cannon(child.url, 256, { connections: best256.connections, overallRate: best256.rateRps, duration: soakSeconds });
  clearInterval(timer);
  samples.push({ t: (performance.now() - t0) / 1000, mb: rssMb(pid) });
  await stopChild(child);
  // RSS saw-tooths with garbage collection, so compare window means rather than single samples:
  // the window right after warm-up (20–40% of the soak) against the last 20%.
  const mean = (xs: { mb: number }[]) => xs.reduce((a, x) => a + x.mb, 0) / Math.max(1, xs.length);
  const early = samples.filter((x) => x.t >= soakSeconds * 0.2 && x.t < soakSeconds * 0.4);
  const late = samples.filter((x) => x.t >= soakSeconds * 0.8);
  const max = Math.max(...samples.map((x) => x.mb));
  const growth = ((mean(late) - mean(early)) / mean(early)) * 100;
  say();
  say(
    `Soak (${best256.mode}, batches of 256 at ${fmt(best256.rateRps)} req/s = ${fmt(best256.rateRps * 256)} rollouts/s, ${soakSeconds} s, ${fmt(r.requests.total)} requests, ${r.errors + r.non2xx + r.timeouts} errors): ` +
      `RSS ${samples[0]!.mb.toFixed(0)} MB at start; mean ${mean(early).toFixed(0)} MB over 20–40% of the soak, ${mean(late).toFixed(0)} MB over the last 20%; max ${max.toFixed(0)} MB — growth after warm-up ${growth.toFixed(1)}% (goal < 10%).`,
  );
  say();
  say(`RSS samples (s: MB): ${samples.map((s) => `${s.t.toFixed(0)}: ${s.mb.toFixed(0)}`).join(', ')}`);
}

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, lines.join('\n') + '\n');
console.log(`\n(written to ${outFile})`);
