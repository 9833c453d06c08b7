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
import { rng, syntheticRollout } from './synthetic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench', 'out');
mkdirSync(outDir, { recursive: true });

async function writeSynthetic(path: string, n: number): Promise<void> {
  if (existsSync(path) && statSync(path).size > 0) return;
  const rand = rng(7);
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += JSON.stringify(syntheticRollout(i, rand)) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'close');
}

function child(script: string, args: string[]): { ms: number; max_rss_mb: number } {
  // The same heap cap as bin/rewardkit.js's shebang, for both passes.
  const text = execFileSync(process.execPath, ['--max-old-space-size=1024', join(root, 'bench', script), ...args], { encoding: 'utf8' });
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
const runs = 7;
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
