/**
 * Benchmark of `rewardkit score` against a bare pass written the obvious way (issue 12). Writes N
 * synthetic GSM8K-style rollouts (groups of 8: right, `####`, wrong, unformatted, overlong), then, each
 * pass in a fresh process, alternating, timed wall-clock by this script (start-up included for both):
 *  - baseline: `bench/readline-pass.mjs` — Node readline, JSON.parse, add a field, JSON.stringify, write;
 *  - rewardkit: the real CLI, `node BIN score -s SPEC -i FILE -o OUT -q` (BIN: the package's bin, bin/rewardkit.cjs;
 *    bin/rewardkit.js in checkouts older than it);
 *  - start-up: the same command on a one-rollout file.
 * Prints medians and the ratio score/baseline throughput; then (unless --no-1m) streams 1M rollouts
 * through the CLI and reports its peak RSS (goal < 300 MB).
 *
 * Run: npm run build && npx tsx bench/score.ts [N] [--spec FILE ...] [--tagless] [--runs R] [--no-1m] [--also DIR ...]
 *   N          rollouts (default 200000)
 *   --spec     reward spec (default bench/numeric_regex.yaml: numeric + regex; examples/gsm8k.yaml is the other
 *              usual one). Repeat it to time several specs on the same rollouts in the same run, interleaved
 *              (one row per spec and checkout): e.g. `--spec bench/numeric_regex.yaml --spec
 *              bench/numeric_regex_whole.yaml` measures the answer region (`answer: auto`, the default)
 *              against `answer: whole` (no region work) — issue 12's "the answer region costs < 5%".
 *   --tagless  the same rollouts with their `<answer>`/`</answer>` tags removed (`<think>…</think>` kept), so
 *              `auto` finds no answer tag and falls back to the response after the reasoning
 *   --runs     passes of each kind (default 5; the median is reported)
 *   --also     another built checkout (its bin/ and dist/) measured in the same run, e.g. the commit before a change
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { rng, syntheticRollout } from './synthetic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });

/** Rollout `i` of the bench's set; `tagless` drops the `<answer>` tags (the same text otherwise). */
function rollout(i: number, rand: () => number, tagless: boolean) {
  const r = syntheticRollout(i, rand);
  if (tagless) r.completion = r.completion.replaceAll('<answer>', '').replaceAll('</answer>', '');
  return r;
}

async function writeSynthetic(path: string, n: number, tagless = false): Promise<void> {
  if (existsSync(path) && statSync(path).size > 0) return;
  const rand = rng(7);
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += JSON.stringify(rollout(i, rand, tagless)) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'close');
}

/** The package's bin of a checkout: what `rewardkit` runs (bin/rewardkit.cjs; bin/rewardkit.js before it existed). */
function binOf(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(dir, pkg.bin.rewardkit!);
}

/**
 * Runs `node ARGS` (the bin's heap cap for every pass) and returns its wall time in seconds, and, via
 * /usr/bin/time when present, its CPU time (user + system, s) and peak RSS (MB). On a shared machine the
 * CPU time is the steadier figure: wall time grows with everyone else's load.
 */
function timed(args: string[]): { s: number; cpu: number; rss: number } {
  const haveTime = existsSync('/usr/bin/time');
  const cmd = haveTime ? '/usr/bin/time' : process.execPath;
  const full = haveTime ? ['-f', '%M %U %S', process.execPath, '--max-old-space-size=1024', ...args] : ['--max-old-space-size=1024', ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd, full, { encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [kb, user, sys] = haveTime ? r.stderr.trim().split('\n').pop()!.split(' ').map(Number) : [NaN, NaN, NaN];
  return { s, cpu: user! + sys!, rss: kb! / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const noValue = new Set(['--no-1m', '--tagless']);
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1]!.startsWith('--') && !noValue.has(all[i - 1]!)));
const n = Number(positional[0] ?? 200_000);
const runs = Number(flag('--runs') ?? 5);
const tagless = process.argv.includes('--tagless');
const allOf = (name: string) => process.argv.flatMap((a, i) => (a === name && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []));
const specs = allOf('--spec').map((p) => resolve(p));
if (specs.length === 0) specs.push(join(root, 'bench', 'numeric_regex.yaml'));
const spec = specs[0]!;
const rel = (p: string) => p.replace(root + '/', '');
// One row per (checkout, spec): [label, checkout dir, spec path].
const checkoutDirs: [string, string][] = [['rewardkit score', root]];
for (const d of allOf('--also')) checkoutDirs.push([`rewardkit score (${d})`, resolve(d)]);
const checkouts: [string, string, string][] = checkoutDirs.flatMap(([name, dir]) =>
  specs.map((sp): [string, string, string] => [specs.length > 1 ? `${name}, ${rel(sp)}` : name, dir, sp]),
);

const file = join(outDir, `gsm8k_synthetic_${tagless ? 'tagless_' : ''}${n}.jsonl`);
await writeSynthetic(file, n, tagless);
const one = join(outDir, 'one.jsonl');
writeFileSync(one, JSON.stringify(rollout(0, rng(1), tagless)) + '\n');

const base = { s: [] as number[], cpu: [] as number[], rss: [] as number[] };
const score = checkouts.map(() => ({ s: [] as number[], cpu: [] as number[], rss: [] as number[], start: [] as number[], startCpu: [] as number[] }));
for (let r = 0; r < runs; r++) {
  const b = timed([join(root, 'bench', 'readline-pass.mjs'), file, join(outDir, 'pass.jsonl')]);
  base.s.push(b.s);
  base.cpu.push(b.cpu);
  base.rss.push(b.rss);
  checkouts.forEach(([, dir, spec], k) => {
    const bin = binOf(dir);
    const s = timed([bin, 'score', '-s', spec, '-i', file, '-o', join(outDir, 'scored.jsonl'), '-q']);
    score[k]!.s.push(s.s);
    score[k]!.cpu.push(s.cpu);
    score[k]!.rss.push(s.rss);
    const st = timed([bin, 'score', '-s', spec, '-i', one, '-o', join(outDir, 'one.out.jsonl'), '-q']);
    score[k]!.start.push(st.s);
    score[k]!.startCpu.push(st.cpu);
  });
}
const bs = median(base.s);
const bc = median(base.cpu);
const f2 = (x: number) => x.toFixed(2);
console.log(`\n### rewardkit score vs a bare readline pass — ${n.toLocaleString('en-US')} rollouts${tagless ? ' without <answer> tags' : ''}, spec ${specs.map(rel).join(' vs ')} (median of ${runs}, one process per pass)\n`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average at the end ${loadavg()[0]!.toFixed(1)}\n`);
console.log('| pass | wall (s) | rollouts/s | ratio (wall) | CPU (s) | ratio (CPU) | start-up wall / CPU (s) | peak RSS (MB) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
console.log(`| baseline: readline + JSON.parse + add a field + JSON.stringify + write | ${f2(bs)} | ${Math.round(n / bs).toLocaleString('en-US')} | 1.00 | ${f2(bc)} | 1.00 | | ${Math.round(median(base.rss))} |`);
checkouts.forEach(([name], k) => {
  const x = score[k]!;
  const s = median(x.s);
  const c = median(x.cpu);
  console.log(`| ${name} | ${f2(s)} | ${Math.round(n / s).toLocaleString('en-US')} | **${f2(bs / s)}** | ${f2(c)} | **${f2(bc / c)}** | ${f2(median(x.start))} / ${f2(median(x.startCpu))} | ${Math.round(median(x.rss))} |`);
});
const list = (xs: number[]) => xs.map(f2).join(' ');
console.log(`\nall runs, wall (CPU) s: baseline ${list(base.s)} (${list(base.cpu)})`);
checkouts.forEach(([name], k) => {
  const x = score[k]!;
  console.log(`${name}: ${list(x.s)} (${list(x.cpu)}); start-up ${list(x.start)} (${list(x.startCpu)})`);
});
if (specs.length > 1) {
  // Each other spec against the first, per checkout: median of the per-run ratios (paired runs, so a
  // load change between rounds cancels out) and the ratio of the medians.
  console.log(`\nagainst ${rel(specs[0]!)}, same checkout (median of per-run ratios; ratio of medians):`);
  checkouts.forEach(([name], k) => {
    const first = k - (k % specs.length);
    if (k === first) return;
    const x = score[k]!;
    const y = score[first]!;
    const pct = (a: number[], b: number[]) => {
      const per = median(a.map((v, i) => v / b[i]! - 1)) * 100;
      const med = (median(a) / median(b) - 1) * 100;
      return `${per >= 0 ? '+' : ''}${per.toFixed(1)}%; ${med >= 0 ? '+' : ''}${med.toFixed(1)}%`;
    };
    console.log(`${name}: CPU ${pct(x.cpu, y.cpu)} · wall ${pct(x.s, y.s)}`);
  });
}

if (!process.argv.includes('--no-1m')) {
  const big = join(outDir, 'gsm8k_synthetic_1000000.jsonl');
  await writeSynthetic(big, 1_000_000); // the 1M check keeps the tagged set and the first spec
  const s = timed([binOf(root), 'score', '-s', spec, '-i', big, '-o', join(outDir, 'scored_1m.jsonl'), '-q']);
  console.log(`\nStreaming 1,000,000 rollouts through score: ${s.s.toFixed(1)} s (CPU ${s.cpu.toFixed(1)} s), peak RSS ${Math.round(s.rss)} MB (goal < 300 MB).`);
}
