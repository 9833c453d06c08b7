/**
 * Offline scoring throughput: plain `rewardkit score` vs `score --queue` with 1, 2 (… N) worker
 * processes on this machine, same input, same run. Starts its own redis-server (loopback, temp dir,
 * no persistence) and stops it. Needs the build (`npx tsc -p tsconfig.build.json`).
 *
 *   npx tsx bench/queue.ts [rollouts=96000] [workers=1,2] [batch=1024]
 *
 * Two specs: examples/gsm8k.yaml (cheap graders: reading, parsing and writing dominate) and the same
 * plus a module grader that burns ~0.5 ms of CPU per rollout (grading dominates). Wall time is the
 * submitter's, from start to exit, with the workers already running. Checks that each queue run's
 * output equals the plain run's byte for byte.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/rewardkit.js');
const n = Number(process.argv[2] ?? 96000);
const workerCounts = (process.argv[3] ?? '1,2').split(',').map(Number);
const batch = process.argv[4] ?? '1024';
const dir = mkdtempSync(join(tmpdir(), 'rk-bench-queue-'));

const port: number = await new Promise((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});
const url = `redis://127.0.0.1:${port}/0`;
const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((r) => {
  let out = '';
  redis.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Ready to accept connections')) r();
  });
});

const base = readFileSync(join(ROOT, 'examples/gsm8k_rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const lines: string[] = [];
for (let r = 0; lines.length < n; r++) for (const x of base) lines.push(JSON.stringify({ ...x, id: `r${r}-${String(x.id)}`, group: `r${r}-${String(x.group)}` }));
const input = join(dir, 'in.jsonl');
writeFileSync(input, lines.slice(0, n).join('\n') + '\n');

writeFileSync(join(dir, 'burn.mjs'), `export function grade(s) { let x = 0; const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < 500000n) x++; return s.completion.length % 5 / 5; }\n`);
const heavy = join(dir, 'heavy.yaml');
writeFileSync(heavy, readFileSync(join(ROOT, 'examples/gsm8k.yaml'), 'utf8').replace('combine:', '  - {name: burn, grader: module, path: ./burn.mjs, export: grade, weight: 0.1}\ncombine:'));

function time(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync('node', [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} → ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

console.log(`${n.toLocaleString('en-US')} rollouts, --batch-size ${batch}, ${cpus().length} CPUs, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('| spec | run | wall s | rollouts/s |');
console.log('|---|---|---:|---:|');
for (const [name, spec] of [['gsm8k (cheap graders)', join(ROOT, 'examples/gsm8k.yaml')], ['gsm8k + 0.5 ms CPU grader', heavy]] as const) {
  const plainOut = join(dir, 'plain.jsonl');
  rmSync(plainOut, { force: true });
  const tp = time(['score', '--spec', spec, '--in', input, '--out', plainOut, '--batch-size', batch, '-q']);
  console.log(`| ${name} | score (1 process) | ${tp.toFixed(2)} | ${Math.round(n / tp).toLocaleString('en-US')} |`);
  const plain = readFileSync(plainOut, 'utf8');
  for (const k of workerCounts) {
    const ws = Array.from({ length: k }, () => spawn('node', [BIN, 'worker', '--queue', url, '-q'], { cwd: ROOT, stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 1500)); // workers connected and idle
    const out = join(dir, `q${k}.jsonl`);
    rmSync(out, { force: true });
    const tq = time(['score', '--spec', spec, '--in', input, '--out', out, '--queue', url, '--batch-size', batch, '-q']);
    const same = readFileSync(out, 'utf8') === plain;
    console.log(`| ${name} | --queue, ${k} worker${k === 1 ? '' : 's'} | ${tq.toFixed(2)} | ${Math.round(n / tq).toLocaleString('en-US')} |${same ? '' : ' OUTPUT DIFFERS'}`);
    for (const w of ws) w.kill('SIGTERM');
    await Promise.all(ws.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('exit', r)))));
  }
}
redis.kill('SIGTERM');
await new Promise((r) => redis.on('exit', r));
rmSync(dir, { recursive: true, force: true });
