/**
 * Step-level credit methods on 100k rollouts × 10 steps in groups of 8, against a bare pass over
 * the same typed arrays (copy every step reward out and sum them per rollout, into freshly
 * allocated output arrays as a method's `compute` does) as the baseline.
 *
 * The batch is synthetic and seeded: step rewards, values, potentials, executable flags, two
 * alternating agents and the step signals the signal-reading methods name (a gold-answer
 * probability, an implicit reward, two features, a 0/1 step quality); outcomes are 0/1.
 * Each method runs in its own Node process (so one method's JIT state cannot slow another), timed in
 * alternation with the baseline in that process: RUNS timed pairs after WARMUP, medians reported
 * (wall-clock and CPU time, process.cpuUsage), with a full GC before every timed call so that one
 * call's garbage (every call allocates ~17 MB of output) is not collected on another's clock. Stateful methods (lare, prorl with `center`) keep
 * learning across the timed calls, as they would in training.
 *
 * Run: npx tsx bench/credit.ts            (prints a markdown table)
 *      npx tsx bench/credit.ts --one SPEC (one method, JSON; used by the table run)
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildCredit, credits, type CreditSpecInput } from '../src/credit/registry.js';
import type { CreditOutput, StepBatch } from '../src/credit/types.js';

const N = 100_000;
const STEPS = 10;
const GROUP = 8;
const WARMUP = 3;
const RUNS = 9;

function makeBatch(): StepBatch {
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const total = N * STEPS;
  const offsets = new Int32Array(N + 1);
  for (let i = 0; i <= N; i++) offsets[i] = i * STEPS;
  const col = (f: (k: number) => number) => {
    const c = new Float64Array(total);
    for (let k = 0; k < total; k++) c[k] = f(k);
    return c;
  };
  const outcome = new Float64Array(N);
  const groupOf = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    outcome[i] = rnd() < 0.4 ? 1 : 0;
    groupOf[i] = Math.floor(i / GROUP);
  }
  const agent = new Int32Array(total);
  for (let k = 0; k < total; k++) agent[k] = k % 2;
  return {
    offsets,
    reward: col(() => (rnd() < 0.3 ? 1 : 0)),
    value: col(() => rnd()),
    potential: col((k) => (k % STEPS) / STEPS),
    executable: col(() => (rnd() < 0.8 ? 1 : 0)),
    agent,
    agents: ['planner', 'actor'],
    signals: new Map([
      ['p_gold', col(() => rnd())],
      ['implicit', col(() => rnd() * 0.2 - 0.1)],
      ['f1', col(() => rnd())],
      ['f2', col(() => (rnd() < 0.5 ? 1 : 0))],
      ['quality', col(() => (rnd() < 0.7 ? 1 : 0))],
    ]),
    outcome,
    groupOf,
    groupCount: Math.ceil(N / GROUP),
  };
}

function baseline(b: StepBatch): CreditOutput {
  const { offsets, reward } = b;
  const out: CreditOutput = { reward: new Float64Array(reward.length), advantage: new Float64Array(reward.length), returns: new Float64Array(N) };
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      out.reward[k] = reward[k];
      sum += reward[k];
    }
    out.returns[i] = sum;
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * glibc malloc settings for the child processes: without them, whether a fresh 8 MB output array
 * reuses freed memory or faults in new pages depends on malloc's adaptive mmap threshold, which
 * made the baseline itself vary 10× between processes. With a fixed 32 MB threshold and no heap
 * trimming, every call (method and baseline alike) reuses the memory its predecessor freed.
 */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(32 * 2 ** 20), MALLOC_TRIM_THRESHOLD_: String(2 ** 30) };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Timing {
  wall: number;
  cpu: number;
}

/** Medians (ms per call) of `f` and `g`, timed in alternation. */
function timePair(f: () => CreditOutput, g: () => CreditOutput): [Timing, Timing] {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += f().returns[7] + g().returns[7];
  const acc = [
    { wall: [] as number[], cpu: [] as number[] },
    { wall: [] as number[], cpu: [] as number[] },
  ];
  for (let i = 0; i < RUNS; i++) {
    [f, g].forEach((h, j) => {
      gc?.();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const out = h();
      acc[j].wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const c = process.cpuUsage(c0);
      acc[j].cpu.push((c.user + c.system) / 1000);
      sink += out.advantage[out.advantage.length >> 1];
    });
  }
  if (!Number.isFinite(sink) && !Number.isNaN(sink)) console.error('checksum', sink);
  return [
    { wall: median(acc[0].wall), cpu: median(acc[0].cpu) },
    { wall: median(acc[1].wall), cpu: median(acc[1].cpu) },
  ];
}

function runOne(spec: CreditSpecInput | null): void {
  const batch = makeBatch();
  const credit = spec === null ? null : buildCredit(spec);
  const [base, method] = timePair(
    () => baseline(batch),
    () => (credit === null ? baseline(batch) : credit.compute(batch)),
  );
  console.log(JSON.stringify({ base, method }));
}

/** The spec each method is benchmarked with (defaults, plus the signals the batch carries). */
const specs: Record<string, CreditSpecInput> = {
  dense_turn: { method: 'dense_turn', max_total_rewards: STEPS },
  igpo: { method: 'igpo', signal: 'p_gold' },
  spa: { method: 'spa', features: ['f1', 'f2'] },
  oprl: { method: 'oprl', signal: 'implicit' },
  rest_mcts: { method: 'rest_mcts', quality: 'quality' },
  lare: { method: 'lare', factors: ['f1', 'f2'] },
};

if (process.argv[2] === '--one') {
  runOne(JSON.parse(process.argv[3]) as CreditSpecInput | null);
} else {
  const rows: [string, CreditSpecInput | null][] = [
    ['baseline (one pass)', null],
    ...Object.keys(credits).map((m): [string, CreditSpecInput] => [m, specs[m] ?? ({ method: m } as CreditSpecInput)]),
    ['prorl center', { method: 'prorl', center: {} }],
    ['renorm group_norm', { method: 'renorm', mode: 'group_norm' }],
    ['lare carry=false', { method: 'lare', factors: ['f1', 'f2'], carry: false }],
  ];
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  console.log(
    `Credit methods: ${N.toLocaleString('en')} rollouts × ${STEPS} steps, groups of ${GROUP}; medians of ${RUNS} runs after ${WARMUP} warm-up, one process per row.`,
  );
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average at start ${loadavg().map(f1).join(' ')}\n`);
  console.log('| method | ms per batch | × baseline | CPU ms | × baseline | rollouts/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const self = fileURLToPath(import.meta.url);
  for (const [label, spec] of rows) {
    const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', self, '--one', JSON.stringify(spec)], { encoding: 'utf8', env: { ...process.env, ...MALLOC_ENV } });
    if (child.status !== 0) throw new Error(`${label}: ${child.stderr}`);
    const t = JSON.parse(child.stdout.trim().split('\n').pop() as string) as Record<'base' | 'method', Timing>;
    const perSec = N / (t.method.wall / 1000);
    console.log(
      `| ${label} | ${f1(t.method.wall)} | ${f2(t.method.wall / t.base.wall)} | ${f1(t.method.cpu)} | ${f2(t.method.cpu / t.base.cpu)} | ${Math.round(perSec).toLocaleString('en')} |`,
    );
  }
}
