/**
 * Scaling out on Redis, measured on this machine in one run (docs/scaling.md). Starts its own
 * redis-server (loopback, temp dir, no persistence) and stops it. Needs the build
 * (`npx tsc -p tsconfig.build.json && node scripts/bundle-cli.mjs`) and, for the code part, a
 * working sandbox (root or unprivileged user namespaces).
 *
 *   npx tsx bench/queue.ts [rollouts=96000] [workers=1,2,4] [batch=1024]
 *   CODE_ROLLOUTS=n (default 960) · PARTS=1,2,3 (default: all) picks the parts
 *
 * 1. Offline scoring throughput: plain `rewardkit score` vs `score --queue` with 1, 2, 4 worker
 *    processes, same input. Two specs: examples/gsm8k.yaml (cheap graders: reading, parsing and
 *    writing dominate) and the same plus a module grader that burns ~0.5 ms of CPU per rollout
 *    (grading dominates). Wall time is the submitter's, from start to exit, with the workers
 *    already running. Checks that each queue run's output equals the plain run's byte for byte.
 * 2. `code`-heavy offline scoring: the same comparison on Python rollouts graded by `code` (4
 *    stdin/stdout cases each, every program distinct), workers with the default `--sandbox-jobs`.
 * 3. `code`-heavy serving: `rewardkit serve` running the programs itself vs `serve --queue` whose
 *    programs run on 1, 2, 4 workers; the client posts the rollouts in requests of 64, 4 at a time.
 *
 * Every worker process here shares this machine's CPUs, so the queue rows show the queue's cost
 * and each process's rate, not more capacity. For parts 2–3 the script also reports CPU seconds
 * per 1000 rollouts of the submitter/server (what one front process pays per rollout: its ceiling)
 * and of the workers (what each worker core delivers), from which it prints the projection to many
 * machines — a projection, not a measurement. CPU is read from /proc (utime + stime, children not
 * included; sandboxed programs run as children of the workers or of the single process, so they
 * are counted in neither: the projection's worker side is an upper bound per core).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/rewardkit.js');
const n = Number(process.argv[2] ?? 96000);
const workerCounts = (process.argv[3] ?? '1,2,4').split(',').map(Number);
const batch = process.argv[4] ?? '1024';
const codeN = Number(process.env.CODE_ROLLOUTS ?? 960);
const dir = mkdtempSync(join(tmpdir(), 'rk-bench-queue-'));
const TICK = 100; // USER_HZ on Linux

const freePort = (): Promise<number> =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
const port = await freePort();
const url = `redis://127.0.0.1:${port}/0`;
const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => redis.kill('SIGKILL')); // also when a part throws
await new Promise<void>((r) => {
  let out = '';
  redis.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Ready to accept connections')) r();
  });
});

/** CPU seconds of a process and of its reaped children (utime + stime + cutime + cstime), from /proc. */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
  } catch {
    return 0;
  }
}

/** Runs the CLI to completion: wall seconds and CPU seconds (polled every 50 ms: the last moments are missed). */
async function run(args: string[]): Promise<{ wall: number; cpu: number }> {
  const t = process.hrtime.bigint();
  const child = spawn('node', [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let cpu = 0;
  const poll = setInterval(() => (cpu = Math.max(cpu, cpuOf(child.pid))), 50);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  if (code !== 0) throw new Error(`${args.join(' ')} → ${code}: ${err}`);
  return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu };
}

function startWorkers(k: number, extra: string[] = []): ChildProcess[] {
  return Array.from({ length: k }, () => spawn('node', [BIN, 'worker', '--queue', url, '-q', ...extra], { cwd: ROOT, stdio: 'ignore' }));
}

async function stopAll(ps: ChildProcess[]): Promise<void> {
  for (const p of ps) p.kill('SIGTERM');
  await Promise.all(ps.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.on('exit', r)))));
}

const rate = (count: number, s: number) => (count / s < 100 ? (count / s).toFixed(1) : Math.round(count / s).toLocaleString('en-US'));
const per1k = (cpu: number, count: number) => ((cpu / count) * 1000).toFixed(2);

console.log(`${cpus().length} CPUs, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// ── 1. Offline scoring throughput ────────────────────────────────────────────────────────────────
const parts = (process.env.PARTS ?? '1,2,3').split(',');
if (parts.includes('1')) {
  const base = readFileSync(join(ROOT, 'examples/gsm8k_rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const lines: string[] = [];
  for (let r = 0; lines.length < n; r++) for (const x of base) lines.push(JSON.stringify({ ...x, id: `r${r}-${String(x.id)}`, group: `r${r}-${String(x.group)}` }));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, lines.slice(0, n).join('\n') + '\n');
  writeFileSync(join(dir, 'burn.mjs'), `export function grade(s) { let x = 0; const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < 500000n) x++; return s.completion.length % 5 / 5; }\n`);
  const heavy = join(dir, 'heavy.yaml');
  writeFileSync(heavy, readFileSync(join(ROOT, 'examples/gsm8k.yaml'), 'utf8').replace('combine:', '  - {name: burn, grader: module, path: ./burn.mjs, export: grade, weight: 0.1}\ncombine:'));

  console.log(`\n## 1. Offline scoring: ${n.toLocaleString('en-US')} rollouts, --batch-size ${batch}\n`);
  console.log('| spec | run | wall s | rollouts/s | vs 1 process | submitter CPU s / 1k rollouts |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const [name, spec] of [['gsm8k (cheap graders)', join(ROOT, 'examples/gsm8k.yaml')], ['gsm8k + 0.5 ms CPU grader', heavy]] as const) {
    const plainOut = join(dir, 'plain.jsonl');
    rmSync(plainOut, { force: true });
    const p = await run(['score', '--spec', spec, '--in', input, '--out', plainOut, '--batch-size', batch, '-q']);
    console.log(`| ${name} | score (1 process) | ${p.wall.toFixed(2)} | ${rate(n, p.wall)} | 1.00 | ${per1k(p.cpu, n)} |`);
    const plain = readFileSync(plainOut, 'utf8');
    for (const k of workerCounts) {
      const ws = startWorkers(k);
      await new Promise((r) => setTimeout(r, 2000)); // workers connected and idle
      const out = join(dir, `q${k}.jsonl`);
      rmSync(out, { force: true });
      const q = await run(['score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', batch, '-q']);
      const same = readFileSync(out, 'utf8') === plain;
      console.log(`| ${name} | --queue, ${k} worker${k === 1 ? '' : 's'} | ${q.wall.toFixed(2)} | ${rate(n, q.wall)} | ${(p.wall / q.wall).toFixed(2)} | ${per1k(q.cpu, n)} |${same ? '' : ' OUTPUT DIFFERS'}`);
      await stopAll(ws);
    }
  }
}

// ── 2–3. code-heavy scoring ──────────────────────────────────────────────────────────────────────
if (parts.includes('2') || parts.includes('3')) {
  const spec = join(dir, 'code.yaml');
  writeFileSync(spec, 'name: code-bench\ncomponents:\n  - {name: tests, grader: code, language: python, timeout: 5}\n');
  const tests = { tests: [1, 2, 5, 11].map((x) => ({ input: `${x}\n`, output: `${2 * x}\n` })) };
  const programs = ['print(int(input()) * 2)', 'print(int(input()) + 2)', 'n = int(input())\nprint(sum([n, n]))', 'raise SystemExit(3)'];
  const rollouts = Array.from({ length: codeN }, (_, i) => ({
    id: `c${i}`,
    group: `g${Math.floor(i / 8)}`,
    prompt: 'Read n, print 2n.',
    // A distinct program each (a comment), so no run is shared between rollouts.
    completion: '```python\n# ' + i + '\n' + programs[i % programs.length] + '\n```',
    reference: tests,
  }));
  const codeIn = join(dir, 'code.jsonl');
  writeFileSync(codeIn, rollouts.map((r) => JSON.stringify(r)).join('\n') + '\n');

  if (parts.includes('2')) {
    console.log(`\n## 2. code-heavy offline scoring: ${codeN} Python rollouts × 4 stdin/stdout cases, --batch-size 64\n`);
    console.log('| run | wall s | rollouts/s | vs 1 process | submitter CPU s / 1k | workers CPU s / 1k (programs included) |');
    console.log('|---|---:|---:|---:|---:|---:|');
    const plainOut = join(dir, 'code-plain.jsonl');
    const p = await run(['score', '--spec', spec, '--in', codeIn, '--out', plainOut, '--batch-size', '64', '-q']);
    console.log(`| score (1 process) | ${p.wall.toFixed(2)} | ${rate(codeN, p.wall)} | 1.00 | ${per1k(p.cpu, codeN)} (programs included) | — |`);
    const plain = readFileSync(plainOut, 'utf8');
    const strip = (s: string) => s.split('\n').map((l) => (l ? JSON.stringify({ ...JSON.parse(l), details: undefined }) : l)).join('\n');
    let projection: { submitter: number; worker: number } | undefined;
    for (const k of workerCounts) {
      const ws = startWorkers(k, ['--concurrency', '2']);
      await new Promise((r) => setTimeout(r, 2000));
      const before = ws.map((w) => cpuOf(w.pid));
      const out = join(dir, `code-q${k}.jsonl`);
      const q = await run(['score', '--spec', spec, '--in', codeIn, '--out', out, '--queue', url, '--batch-size', '64', '-q']);
      const wcpu = ws.reduce((s, w, i) => s + cpuOf(w.pid) - before[i]!, 0);
      const same = strip(readFileSync(out, 'utf8')) === strip(plain);
      console.log(`| --queue, ${k} worker${k === 1 ? '' : 's'} | ${q.wall.toFixed(2)} | ${rate(codeN, q.wall)} | ${(p.wall / q.wall).toFixed(2)} | ${per1k(q.cpu, codeN)} | ${per1k(wcpu, codeN)} |${same ? '' : ' OUTPUT DIFFERS'}`);
      // From the row with the fewest workers: each process's fixed costs (start, spec compile, JIT) weigh least there.
      projection ??= { submitter: q.cpu / codeN, worker: wcpu / codeN };
      await stopAll(ws);
    }
    if (projection)
      console.log(
        `\nProjection (not measured): one worker core scores ~${Math.round(1 / projection.worker)} code rollouts/s here; the submitter pays ${(projection.submitter * 1000).toFixed(2)} ms CPU per rollout, so one submitter keeps up to ~${Math.round(1 / projection.submitter)} rollouts/s ≈ ${Math.round(projection.worker / projection.submitter)} such worker cores busy (Redis's own CPU not counted).`,
      );

  }

  // 3. serve vs serve --queue
  if (parts.includes('3')) {
    console.log(`\n## 3. code-heavy serving: the same ${codeN} rollouts posted to /v1/score in requests of 64, 4 in flight\n`);
    console.log('| server | wall s | rollouts/s | vs 1 server | server CPU s / 1k | workers CPU s / 1k (programs included) |');
    console.log('|---|---:|---:|---:|---:|---:|');
    async function serveRun(extra: string[], workers: ChildProcess[]): Promise<{ wall: number; server: number; workers: number; rewards: string }> {
      const sport = await freePort();
      const srv = spawn('node', [BIN, 'serve', '--spec', spec, '--port', String(sport), '--scoring', 'inline', '--log-level', 'error', '--deadline', '1800', '--queue-timeout', '1800', ...extra], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      srv.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      for (let i = 0; !err.includes('rewardkit serving'); i++) {
        if (srv.exitCode !== null || i > 600) throw new Error(`serve did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const base = `http://127.0.0.1:${sport}`;
      const post = async (rs: unknown[]) => {
        const r = await fetch(`${base}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rollouts: rs }) });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
        return ((await r.json()) as { results: { id: string; reward: number | null }[] }).results;
      };
      await post(rollouts.slice(0, 8).map((r) => ({ ...r, id: `warm-${r.id}` }))); // warm up (sandbox pool, connections)
      const s0 = cpuOf(srv.pid);
      const w0 = workers.map((w) => cpuOf(w.pid));
      const t = process.hrtime.bigint();
      const chunks: unknown[][] = [];
      for (let i = 0; i < rollouts.length; i += 64) chunks.push(rollouts.slice(i, i + 64));
      const results: { id: string; reward: number | null }[][] = new Array(chunks.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < chunks.length) {
            const i = next++;
            results[i] = await post(chunks[i]!);
          }
        }),
      );
      const wall = Number(process.hrtime.bigint() - t) / 1e9;
      const out = { wall, server: cpuOf(srv.pid) - s0, workers: workers.reduce((s, w, i) => s + cpuOf(w.pid) - w0[i]!, 0), rewards: JSON.stringify(results.flat().map((r) => [r.id, r.reward])) };
      srv.kill('SIGTERM');
      await new Promise((r) => srv.on('exit', r));
      return out;
    }
    const single = await serveRun([], []);
    console.log(`| serve (runs its programs) | ${single.wall.toFixed(2)} | ${rate(codeN, single.wall)} | 1.00 | ${per1k(single.server, codeN)} (programs included) | — |`);
    let sp: { server: number; worker: number } | undefined;
    for (const k of workerCounts) {
      const ws = startWorkers(k, ['--backend-jobs', '0']);
      await new Promise((r) => setTimeout(r, 2000));
      const q = await serveRun(['--queue', url, '--queue-work', 'sandbox'], ws);
      console.log(`| serve --queue, ${k} worker${k === 1 ? '' : 's'} | ${q.wall.toFixed(2)} | ${rate(codeN, q.wall)} | ${(single.wall / q.wall).toFixed(2)} | ${per1k(q.server, codeN)} | ${per1k(q.workers, codeN)} |${q.rewards === single.rewards ? '' : ' REWARDS DIFFER'}`);
      sp ??= { server: q.server / codeN, worker: q.workers / codeN };
      await stopAll(ws);
    }
    if (sp)
      console.log(
        `\nProjection (not measured): with --queue the server pays ${(sp.server * 1000).toFixed(2)} ms CPU per code rollout (one core: ~${Math.round(1 / sp.server)} rollouts/s), a worker core delivers ~${Math.round(1 / sp.worker)} rollouts/s, so one server core keeps ~${Math.round(sp.worker / sp.server)} worker cores busy before the server is the limit (then add replicas); Redis's own CPU not counted.`,
      );
  }
}

console.log(`\nload average at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
redis.kill('SIGTERM');
await new Promise((r) => redis.on('exit', r));
rmSync(dir, { recursive: true, force: true });
