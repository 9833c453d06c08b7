/**
 * The reward-design lab: wall and CPU time of each experiment of `rewardkit lab` at its default
 * seeds, its environment steps and steps per wall- and per CPU-second (the CPU figure does not depend
 * on how busy a shared machine is), against a baseline in the same run: bare environment
 * stepping of the multi-turn tool toy with a frozen uniform policy (no scoring, no estimator, no
 * update), the cheapest thing an experiment's inner loop does. Experiments run one after the other
 * in this process, each once after a warm-up run with 2 seeds.
 *
 * Run: npx tsx bench/lab.ts   (prints a markdown table; `npm run bench -- lab`)
 */
import { cpus, loadavg } from 'node:os';
import { experiments } from '../src/lab/registry.js';
import { SoftmaxPolicy } from '../src/lab/learners/softmax.js';
import { EpisodeBuffer, TOOL_ACTIONS, TOOL_DEFAULTS, TOOL_STATES, runToolEpisode } from '../src/lab/envs/tooluse.js';
import { Rng } from '../src/lab/rng.js';

function baseline(): { steps: number; ms: number; cpuMs: number } {
  const pi = new SoftmaxPolicy(TOOL_STATES, TOOL_ACTIONS.length);
  const buf = new EpisodeBuffer(1000, TOOL_DEFAULTS.horizon);
  const rng = new Rng(1);
  let steps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let b = 0; b < 400; b++) {
    buf.clear();
    for (let i = 0; i < 1000; i++) runToolEpisode(TOOL_DEFAULTS, pi, rng, false, buf);
    steps += buf.steps;
  }
  const c = process.cpuUsage(c0);
  return { steps, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

const f1 = (x: number) => x.toFixed(1);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average at start ${loadavg().map(f1).join(' ')}\n`);
baseline();
const base = baseline();
const baseRate = base.steps / (base.ms / 1000);
const baseCpuRate = base.steps / (base.cpuMs / 1000);
console.log('| experiment | seeds | wall (s) | CPU (s) | env steps | env steps/s (wall) | env steps/CPU-s | × baseline (CPU) | claims holding |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| baseline: tool-toy episodes, frozen uniform policy | – | ${(base.ms / 1000).toFixed(2)} | ${(base.cpuMs / 1000).toFixed(2)} | ${int(base.steps)} | ${int(baseRate)} | ${int(baseCpuRate)} | 1.00 | – |`);
let wall = 0;
for (const e of experiments) {
  await e.run({ seeds: 2 });
  const c0 = process.cpuUsage();
  const r = await e.run({ seeds: e.defaultSeeds });
  const c = process.cpuUsage(c0);
  wall += r.wallMs;
  const cpu = (c.user + c.system) / 1e6;
  const cpuRate = r.envSteps / cpu;
  console.log(`| ${e.name} | ${r.seeds} | ${(r.wallMs / 1000).toFixed(2)} | ${cpu.toFixed(2)} | ${int(r.envSteps)} | ${int(r.envSteps / (r.wallMs / 1000))} | ${int(cpuRate)} | ${(cpuRate / baseCpuRate).toFixed(2)} | ${r.claims.filter((x) => x.holds).length}/${r.claims.length} |`);
}
console.log(`\nall experiments: ${(wall / 1000).toFixed(1)} s wall`);
