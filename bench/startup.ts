/**
 * Start-up of the CLI (issue 12: goal < 0.25 s for `rewardkit score`). Each command runs in a fresh
 * process, timed by this script from spawn to exit, rounds interleaved so that every variant sees the
 * same machine load:
 *  - baseline: `node -e ''` (Node's own start-up, which no CLI can beat);
 *  - bundle: the package's bin (`rewardkit …`: bin/rewardkit.cjs, or bin/rewardkit.js in checkouts older
 *    than it) as shipped (dist/cli-bundle, built by scripts/bundle-cli.mjs);
 *  - modules: the same with REWARDKIT_NO_BUNDLE=1 (dist/cli/main.js and its ~270 compiled files: the
 *    start-up before the bundle);
 *  - with `--also DIR`, another built checkout's bin (e.g. the commit before a change).
 * Commands: `score` on a 10-rollout file with examples/gsm8k.yaml, `--version`, `--help`, `spec check`.
 * Every pass runs with the bin's heap cap (`--max-old-space-size=1024`). CPU time (user + system, from
 * /usr/bin/time when present) is printed next to wall time: on a shared machine it moves less with the load.
 *
 * Run: npm run build && npx tsx bench/startup.ts [--runs R] [--also DIR ...]   (default R = 21, median reported)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });
const input = join(outDir, 'startup-10.jsonl');
writeFileSync(input, readFileSync(join(root, 'examples', 'gsm8k_rollouts.jsonl'), 'utf8').split('\n').slice(0, 10).join('\n') + '\n');
const output = join(outDir, 'startup-out.jsonl');

const flag = (name: string): string[] => process.argv.flatMap((a, i, all) => (all[i - 1] === name ? [a] : []));
const runs = Number(flag('--runs')[0] ?? 21);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${flag('--runs')[0]}`);

const haveTime = existsSync('/usr/bin/time');
/** Runs `node ARGS` with `env`; wall seconds and CPU seconds (NaN without /usr/bin/time). Throws on a non-zero exit. */
function timed(args: string[], env: Record<string, string> = {}): { s: number; cpu: number } {
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const full = haveTime ? ['-f', '%U %S', process.execPath, '--max-old-space-size=1024', ...args] : ['--max-old-space-size=1024', ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd, full, { encoding: 'utf8', cwd: root, env: { ...process.env, ...env } });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [user, sys] = haveTime ? r.stderr.trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN];
  return { s, cpu: user! + sys! };
}

/** The package's bin of a checkout: what `rewardkit` runs (bin/rewardkit.cjs; bin/rewardkit.js before it existed). */
function binOf(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(dir, pkg.bin.rewardkit!);
}

const commands: Record<string, string[]> = {
  score: ['score', '--spec', 'examples/gsm8k.yaml', '--in', input, '--out', output, '-q'],
  '--version': ['--version'],
  '--help': ['--help'],
  'spec check': ['spec', 'check', 'examples/gsm8k.yaml'],
};
interface Variant {
  name: string;
  bin: string;
  env: Record<string, string>;
}
const variants: Variant[] = [
  { name: 'bundle (dist/cli-bundle)', bin: binOf(root), env: {} },
  { name: 'modules (REWARDKIT_NO_BUNDLE=1)', bin: binOf(root), env: { REWARDKIT_NO_BUNDLE: '1' } },
  ...flag('--also').map((d) => ({ name: `${resolve(d)}`, bin: binOf(resolve(d)), env: {} })),
];
if (!existsSync(join(root, 'dist', 'cli-bundle', 'main.cjs'))) throw new Error('no dist/cli-bundle: run `npm run build` first');

type Times = { s: number[]; cpu: number[] };
const base: Times = { s: [], cpu: [] };
const times = new Map<string, Times>();
for (const c of Object.keys(commands)) for (const v of variants) times.set(`${c}\0${v.name}`, { s: [], cpu: [] });
for (let r = 0; r < runs; r++) {
  const b = timed(['-e', '']);
  base.s.push(b.s);
  base.cpu.push(b.cpu);
  for (const [c, args] of Object.entries(commands))
    for (const v of variants) {
      const t = timed([v.bin, ...args], v.env);
      const x = times.get(`${c}\0${v.name}`)!;
      x.s.push(t.s);
      x.cpu.push(t.cpu);
    }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const bs = median(base.s);
const bc = median(base.cpu);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${runs} runs, load average at the end ${loadavg()[0]!.toFixed(1)}\n`);
console.log('| command | variant | wall median (s) | wall min (s) | − node (s) | CPU median (s) | − node CPU (s) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
console.log(`| \`node -e ''\` | baseline | ${f3(bs)} | ${f3(Math.min(...base.s))} | 0 | ${f3(bc)} | 0 |`);
for (const c of Object.keys(commands))
  for (const v of variants) {
    const x = times.get(`${c}\0${v.name}`)!;
    const s = median(x.s);
    const cpu = median(x.cpu);
    console.log(`| \`rewardkit ${c}\` | ${v.name} | **${f3(s)}** | ${f3(Math.min(...x.s))} | ${f3(s - bs)} | ${f3(cpu)} | ${f3(cpu - bc)} |`);
  }
