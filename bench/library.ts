/**
 * `scoreBatch` as a library call (`import { scoreBatch } from 'rewardkit'`): full results (each input
 * rollout copied into its result, the default) against `slim` results (id, group and the scoring
 * fields only, what the CLI and the server ask for), in the same process, alternating round by round.
 * The gap is the cost of the copy. Rollouts are synthetic GSM8K-style (bench/synthetic.ts), parsed from
 * JSON as a trainer's would be; spec bench/numeric_regex.yaml; batches of 4,096.
 *
 * Run: npx tsx bench/library.ts [N]   (N rollouts, default 100000; 5 rounds, median reported)
 */
import { cpus, loadavg } from 'node:os';
import { compileSpecFileAsync } from '../src/spec/load_async.js';
import { scoreBatch } from '../src/pipeline.js';
import type { Rollout } from '../src/rollout/types.js';
import { rng, syntheticRollout } from './synthetic.js';

const n = Number(process.argv[2] ?? 100_000);
const rand = rng(7);
const rollouts: Rollout[] = Array.from({ length: n }, (_, i) => JSON.parse(JSON.stringify(syntheticRollout(i, rand))) as Rollout);
const compiled = await compileSpecFileAsync('bench/numeric_regex.yaml');

/** CPU ms of scoring every rollout once, in batches of 4,096. */
async function pass(slim: boolean): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += 4096) await scoreBatch(compiled, rollouts.slice(i, i + 4096), { slim });
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / 1000;
}

await pass(false); // warm-up: compile, caches
await pass(true);
const times = { full: [] as number[], slim: [] as number[] };
for (let r = 0; r < 5; r++) {
  times.full.push(await pass(false));
  times.slim.push(await pass(true));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`scoreBatch, ${n.toLocaleString('en')} rollouts, spec bench/numeric_regex.yaml; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`);
for (const k of ['full', 'slim'] as const) {
  const ms = median(times[k]);
  console.log(`${k === 'full' ? 'full results (the default)' : 'slim results'}`.padEnd(28), `${ms.toFixed(0).padStart(6)} ms CPU`, `${Math.round(n / (ms / 1000)).toLocaleString('en').padStart(10)} rollouts/s`);
}
console.log(`copy cost: ${((median(times.full) - median(times.slim)) * 1000 / n).toFixed(2)} µs a rollout`);
process.exit(0);
