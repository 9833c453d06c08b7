/**
 * Benchmark of `rewardkit eval` (issue: evaluating reward models and reward functions).
 *
 * 1. `eval pairs` on 100k synthetic pairs (HH-style transcripts: a 1–3 turn conversation, two answers
 *    of 20–800 characters) with a rule scorer (the `length` grader), against the bare read + JSON.parse
 *    pass over the same file as the baseline.
 * 2. `eval epic` on 1M synthetic rollouts (groups of 8) between two rule specs (`length` and
 *    `ngram_jaccard` against the reference), with the 200-resample group bootstrap, against the same
 *    read + parse baseline.
 *
 * Every measurement runs in a fresh Node process (`--child`), timed inside it after imports, through
 * the command's own entry point (`runEvalPairs` / `runEvalEpic`, the code path of the CLI): wall-clock
 * and CPU time (process.cpuUsage — steadier when other processes share the machine); the peak RSS is
 * that process's, including the ~230 MB of loading rewardkit and its grader dependencies from the
 * TypeScript sources. Medians of RUNS. Files are written once to bench/out/.
 *
 * Run: npx tsx bench/eval.ts [--pairs N] [--rollouts N] [--runs R]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const outDir = join(root, 'bench', 'out');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the a to of and is in that it you for can this be with not are your on have as do what if about or but help please they would like some people how there think more want know'.split(' ');
function text(rand: () => number, chars: number): string {
  let s = '';
  while (s.length < chars) s += WORDS[Math.floor(rand() * WORDS.length)] + (rand() < 0.08 ? '. ' : ' ');
  return s.trimEnd();
}

async function writeLines(path: string, n: number, line: (i: number) => string): Promise<void> {
  if (existsSync(path) && statSync(path).size > 0) return;
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += line(i) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'close');
}

async function writePairs(path: string, n: number): Promise<void> {
  const rand = rng(7);
  await writeLines(path, n, () => {
    let convo = '';
    const turns = 1 + Math.floor(rand() * 3);
    for (let t = 0; t < turns; t++) {
      convo += `\n\nHuman: ${text(rand, 30 + rand() * 150)}`;
      if (t < turns - 1) convo += `\n\nAssistant: ${text(rand, 40 + rand() * 300)}`;
    }
    const a = text(rand, 20 + rand() * 780);
    const b = text(rand, 20 + rand() * 780);
    return JSON.stringify({ chosen: `${convo}\n\nAssistant: ${a}`, rejected: `${convo}\n\nAssistant: ${b}` });
  });
}

async function writeRollouts(path: string, n: number): Promise<void> {
  const rand = rng(11);
  await writeLines(path, n, (i) => {
    const g = Math.floor(i / 8);
    return JSON.stringify({ id: `q${g}-${i % 8}`, group: `q${g}`, prompt: `Question ${g}: ${text(rand, 60)}`, completion: text(rand, 30 + rand() * 400), reference: `reference answer ${g % 97} ${text(rand, 40)}` });
  });
}

interface Measure {
  ms: number;
  cpu_ms: number;
  max_rss_mb: number;
  result?: Record<string, unknown>;
}

function child(args: string[]): Measure {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measure;
}

const HEADER = '| pass | wall (s) | CPU (s) | throughput (wall) | CPU vs baseline | peak RSS (MB) |';
const RULE = '|---|---:|---:|---:|---:|---:|';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function runChild(kind: string, rest: string[]): Promise<void> {
  let last = '';
  const io = { out: (s: string) => void (last = s), err: () => {}, tty: false };
  const { readJsonlLines } = await import('../src/rollout/jsonl.js');
  const evalCli = await import('../src/cli/eval.js');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let code = 0;
  if (kind === 'baseline') {
    let n = 0;
    for await (const lines of readJsonlLines(rest[0]!)) for (const l of lines) if (JSON.parse(l.text)) n++;
    last = JSON.stringify({ n });
  } else if (kind === 'pairs') code = await evalCli.runEvalPairs({ spec: rest[0]!, in: rest[1]!, json: true, quiet: true }, io);
  else if (kind === 'epic') code = await evalCli.runEvalEpic({ a: rest[0]!, b: rest[1]!, in: rest[2]!, json: true, quiet: true, bootstrap: 200 }, io);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (code !== 0) throw new Error(`exit ${code}`);
  const parsed = JSON.parse(last) as Record<string, unknown>;
  delete parsed.sample;
  delete parsed.subsets;
  console.log(JSON.stringify({ ms, cpu_ms: (cpu.user + cpu.system) / 1000, max_rss_mb: process.resourceUsage().maxRSS / 1024, result: parsed }));
}

async function main(): Promise<void> {
  const nPairs = arg('--pairs', 100_000);
  const nRollouts = arg('--rollouts', 1_000_000);
  const runs = arg('--runs', 3);
  mkdirSync(outDir, { recursive: true });
  const pairsFile = join(outDir, `eval_pairs_${nPairs}.jsonl`);
  const rolloutsFile = join(outDir, `eval_rollouts_${nRollouts}.jsonl`);
  const lengthSpec = join(outDir, 'eval_length.yaml');
  const jaccardSpec = join(outDir, 'eval_jaccard.yaml');
  writeFileSync(lengthSpec, 'name: length\ncomponents:\n  - {name: length, grader: length}\n');
  writeFileSync(jaccardSpec, 'name: jaccard\ncomponents:\n  - {name: overlap, grader: ngram_jaccard}\n');
  await writePairs(pairsFile, nPairs);
  await writeRollouts(rolloutsFile, nRollouts);

  const rows: string[] = [];
  const measure = (label: string, n: number, unit: string, args: string[], base?: number) => {
    const ms: Measure[] = [];
    for (let r = 0; r < runs; r++) ms.push(child(args));
    const t = median(ms.map((m) => m.ms));
    const cpu = median(ms.map((m) => m.cpu_ms));
    const rss = median(ms.map((m) => m.max_rss_mb));
    rows.push(
      `| ${label} | ${(t / 1000).toFixed(2)} | ${(cpu / 1000).toFixed(2)} | ${Math.round(n / (t / 1000)).toLocaleString('en-US')} ${unit}/s | ${base ? `${(cpu / base).toFixed(1)}×` : '1×'} | ${Math.round(rss)} |`,
    );
    return { t: cpu, result: ms[0]!.result };
  };
  const fileMb = (p: string) => (statSync(p).size / 1e6).toFixed(0);

  rows.push(`\n### rewardkit eval pairs — ${nPairs.toLocaleString('en-US')} synthetic transcript pairs (${fileMb(pairsFile)} MB), scorer: \`length\` grader (median of ${runs})\n`);
  rows.push(HEADER, RULE);
  const bp = measure('baseline: JSONL read + JSON.parse', nPairs, 'pairs', ['baseline', pairsFile]);
  const ep = measure('`eval pairs --json` (split transcripts, score 2 rollouts per pair, all statistics)', nPairs, 'pairs', ['pairs', lengthSpec, pairsFile], bp.t);
  rows.push(`\nResult: accuracy ${Number(ep.result!.accuracy).toFixed(4)} on ${ep.result!.n} pairs (random texts, so ≈ 0.5).`);

  rows.push(`\n### rewardkit eval epic — ${nRollouts.toLocaleString('en-US')} synthetic rollouts in groups of 8 (${fileMb(rolloutsFile)} MB), \`length\` vs \`ngram_jaccard\` (median of ${runs})\n`);
  rows.push(HEADER, RULE);
  const br = measure('baseline: JSONL read + JSON.parse', nRollouts, 'rollouts', ['baseline', rolloutsFile]);
  const ee = measure('`eval epic --json` (score with both specs, centre per prompt, distance, 200 group-bootstrap resamples)', nRollouts, 'rollouts', ['epic', lengthSpec, jaccardSpec, rolloutsFile], br.t);
  const ci = ee.result!.ci as { low: number; high: number } | null;
  rows.push(`\nResult: EPIC distance ${Number(ee.result!.distance).toFixed(4)}${ci ? ` (95% CI ${ci.low.toFixed(4)}–${ci.high.toFixed(4)})` : ''} over ${ee.result!.groups} prompts.`);
  rows.push(`\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.`);
  console.log(rows.join('\n'));
}

if (process.argv.includes('--child')) {
  const i = process.argv.indexOf('--child');
  await runChild(process.argv[i + 1]!, process.argv.slice(i + 2));
} else await main();
