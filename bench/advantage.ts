/**
 * Advantage estimators on 1M rollouts × 4 components in groups of 16, against a plain single pass
 * over the same typed arrays (read every column once, write one output column) as the baseline.
 *
 * Each estimator runs in its own Node process (so one estimator's JIT state cannot slow another),
 * timed in alternation with the baseline on the same arrays in that process: RUNS timed pairs after
 * WARMUP, medians reported. Columns: wall-clock and CPU time (process.cpuUsage, steadier when other
 * processes share the machine) with a reused output buffer (`compute(batch, out)`), and wall-clock
 * with a fresh output array per call (`compute(batch)`), where faulting in 8 MB of new memory can
 * dominate.
 *
 * Run: npx tsx bench/advantage.ts            (prints a markdown table)
 *      npx tsx bench/advantage.ts --one SPEC (one estimator, JSON; used by the table run)
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildEstimator, estimators, type AdvantageSpecInput } from '../src/advantage/registry.js';
import type { AdvantageBatch } from '../src/advantage/types.js';

const N = 1_000_000;
const K = 4;
const GROUP = 16;
const WARMUP = 5;
const RUNS = 15;

function makeBatch(): AdvantageBatch {
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const weights = Float64Array.from([1, 0.5, 0.2, 1]);
  const components = Array.from({ length: K }, () => new Float64Array(N));
  const rewards = new Float64Array(N);
  const groupOf = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    groupOf[i] = Math.floor(i / GROUP);
    components[0][i] = rnd() < 0.4 ? 1 : 0; // correctness
    components[1][i] = rnd() < 0.8 ? 1 : 0; // format
    components[2][i] = rnd(); // a continuous score
    components[3][i] = rnd() < 0.02 ? NaN : Math.round(rnd() * 6 - 3); // ToolRL-like in [-3, 3], some nulls
    let r = 0;
    for (let k = 0; k < K; k++) r += weights[k] * (Number.isNaN(components[k][i]) ? 0 : components[k][i]);
    rewards[i] = r;
  }
  return { rewards, components, weights, groupOf, groupCount: Math.ceil(N / GROUP) };
}

function baseline(b: AdvantageBatch, dest?: Float64Array): Float64Array {
  const { rewards, groupOf } = b;
  const [c0, c1, c2, c3] = b.components;
  const out = dest ?? new Float64Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) out[i] = rewards[i] + c0[i] + c1[i] + c2[i] + c3[i] + groupOf[i];
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Timing {
  wall: number;
  cpu: number;
}

/** Medians (ms per call) of `f` and `g`, timed in alternation. */
function timePair(f: () => Float64Array, g: () => Float64Array): [Timing, Timing] {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += f()[7] + g()[7];
  const acc = [
    { wall: [] as number[], cpu: [] as number[] },
    { wall: [] as number[], cpu: [] as number[] },
  ];
  for (let i = 0; i < RUNS; i++) {
    [f, g].forEach((h, j) => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const out = h();
      acc[j].wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      acc[j].cpu.push((c.user + c.system) / 1000);
      sink += out[out.length >> 1];
    });
  }
  if (!Number.isFinite(sink) && !Number.isNaN(sink)) console.error('checksum', sink);
  return [
    { wall: median(acc[0].wall), cpu: median(acc[0].cpu) },
    { wall: median(acc[1].wall), cpu: median(acc[1].cpu) },
  ];
}

function runOne(spec: AdvantageSpecInput | null): void {
  const batch = makeBatch();
  const reused = new Float64Array(N);
  const est = spec === null ? null : buildEstimator(spec);
  const run = (out?: Float64Array) => (est === null ? baseline(batch, out) : est.compute(batch, out));
  const [base, withOut] = timePair(() => baseline(batch, reused), () => run(reused));
  const [baseFresh, fresh] = timePair(() => baseline(batch), () => run());
  console.log(JSON.stringify({ base, withOut, baseFresh, fresh }));
}

if (process.argv[2] === '--one') {
  runOne(JSON.parse(process.argv[3]) as AdvantageSpecInput | null);
} else {
  const specs: [string, AdvantageSpecInput | null][] = [
    ['baseline (one pass)', null],
    ...Object.keys(estimators).map((name): [string, AdvantageSpecInput] => [name, { estimator: name } as AdvantageSpecInput]),
    ['grpo scale=batch', { estimator: 'grpo', scale: 'batch' }],
    ['grpo value_anchor', { estimator: 'grpo', value_anchor: { anchor: 'batch_mean' } }],
    ['gdpo null_components=skip', { estimator: 'gdpo', null_components: 'skip' }],
  ];
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  console.log(`Advantage estimators: ${N.toLocaleString('en')} rollouts × ${K} components, groups of ${GROUP}; medians of ${RUNS} runs after ${WARMUP} warm-up, one process per row.`);
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average at start ${loadavg().map(f1).join(' ')}\n`);
  console.log('| estimator | wall ms | × baseline | CPU ms | × baseline | wall ms, fresh output | × baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const self = fileURLToPath(import.meta.url);
  for (const [label, spec] of specs) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, '--one', JSON.stringify(spec)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${label}: ${child.stderr}`);
    const t = JSON.parse(child.stdout.trim().split('\n').pop() as string) as Record<'base' | 'withOut' | 'baseFresh' | 'fresh', Timing>;
    console.log(
      `| ${label} | ${f1(t.withOut.wall)} | ${f2(t.withOut.wall / t.base.wall)} | ${f1(t.withOut.cpu)} | ${f2(t.withOut.cpu / t.base.cpu)} | ${f1(t.fresh.wall)} | ${f2(t.fresh.wall / t.baseFresh.wall)} |`,
    );
  }
}
