/**
 * Benchmark of `rewardkit score` (issue: foundation). Writes N synthetic GSM8K-style rollouts (groups of
 * 8, the example spec's kinds of completion), then, each in a fresh process:
 *  - baseline: the bare JSONL read + parse + stringify + write pass of the same file;
 *  - rewardkit: `score` with examples/gsm8k.yaml.
 * Reports throughput, the ratio to the baseline (goal ≥ 40%) and peak RSS; then streams 1M rollouts
 * through `score` and reports its peak RSS (goal < 300 MB).
 * Run: npm run build && npx tsx bench/score.ts [N]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });

/** Deterministic PRNG (mulberry32) so every run scores the same file. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeSynthetic(path: string, n: number): Promise<void> {
  if (existsSync(path) && statSync(path).size > 0) return;
  const rand = rng(7);
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / 8);
    const a = 10 + (g % 90);
    const b = 3 + (g % 17);
    const answer = a * b - b;
    const prompt = `Problem ${g}: a shop has ${a} boxes with ${b} pens each and sells ${b} pens. How many pens are left?`;
    const u = rand();
    const reasoning = `<think>\n${a} boxes × ${b} pens = ${a * b} pens.\nAfter selling ${b}: ${a * b} − ${b} = ${answer}.\n</think>\n`;
    let completion: string;
    if (u < 0.45) completion = `${reasoning}<answer>${answer}</answer>`;
    else if (u < 0.6) completion = `${reasoning}<answer>The answer is #### ${answer}</answer>`;
    else if (u < 0.8) completion = `${reasoning}<answer>${answer + 1 + Math.floor(rand() * 5)}</answer>`;
    else if (u < 0.9) completion = `${a * b} − ${b} = ${answer}. The answer is ${answer}.`;
    else completion = `${reasoning.repeat(6)}<answer>${answer}</answer>`;
    buf += JSON.stringify({ id: `p${g}-${i % 8}`, group: `p${g}`, prompt, completion, reference: String(answer) }) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'close');
}

function child(script: string, args: string[]): { ms: number; max_rss_mb: number } {
  const text = execFileSync(process.execPath, [join(root, 'bench', script), ...args], { encoding: 'utf8' });
  return JSON.parse(text.trim().split('\n').pop()!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const n = Number(process.argv[2] ?? 200_000);
const file = join(outDir, `gsm8k_synthetic_${n}.jsonl`);
await writeSynthetic(file, n);
const spec = join(root, 'examples', 'gsm8k.yaml');
const runs = 3;
const base: { ms: number; max_rss_mb: number }[] = [];
const score: { ms: number; max_rss_mb: number }[] = [];
for (let r = 0; r < runs; r++) {
  base.push(child('jsonl-pass.mjs', [file, join(outDir, 'pass.jsonl')]));
  score.push(child('score-child.mjs', [spec, file, join(outDir, 'scored.jsonl')]));
}
const bms = median(base.map((b) => b.ms));
const sms = median(score.map((s) => s.ms));
console.log(`\n### rewardkit score — ${n.toLocaleString('en-US')} synthetic GSM8K-style rollouts, spec examples/gsm8k.yaml (median of ${runs})\n`);
console.log('| pass | time (s) | rollouts/s | ratio to baseline | peak RSS (MB) |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| baseline: JSONL read+parse+stringify+write | ${(bms / 1000).toFixed(2)} | ${Math.round(n / (bms / 1000)).toLocaleString('en-US')} | 100% | ${Math.round(median(base.map((b) => b.max_rss_mb)))} |`);
console.log(`| rewardkit score | ${(sms / 1000).toFixed(2)} | ${Math.round(n / (sms / 1000)).toLocaleString('en-US')} | ${((bms / sms) * 100).toFixed(0)}% | ${Math.round(median(score.map((s) => s.max_rss_mb)))} |`);

if (!process.argv.includes('--no-1m')) {
  const big = join(outDir, 'gsm8k_synthetic_1000000.jsonl');
  await writeSynthetic(big, 1_000_000);
  const s = child('score-child.mjs', [spec, big, join(outDir, 'scored_1m.jsonl')]);
  console.log(`\nStreaming 1,000,000 rollouts through score: ${(s.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(s.max_rss_mb)} MB (goal < 300 MB).`);
}
