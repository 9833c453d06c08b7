/**
 * The token column of every batch: `estimateTokens` (src/tokenize/estimate.ts) against the whitespace
 * word count it replaced, on 1 MiB strings of four kinds (English-like prose, code-like text, one run
 * of letters, CJK). Each function runs in its own child process (so one's JIT state cannot slow the
 * other), RUNS timed passes after WARMUP; medians of CPU time (process.cpuUsage: steadier than wall
 * clock when other processes share the machine) in MB/s, and the ratio.
 *
 * Optional: `--tokenizer path/to/tokenizer.json` also times `loadTokenizer(...).count` on 64 KB of
 * the prose (a full BPE pass, what `unit: tokens` with `tokenizer:` pays per rollout).
 *
 * Run: npx tsx bench/tokens.ts [--tokenizer FILE]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { estimateTokens } from '../src/tokenize/estimate.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';

const SIZE = 1 << 20;
const WARMUP = 5;
const RUNS = 21;

/** The pipeline's previous token count: maximal runs of non-whitespace. */
function whitespaceWords(s: string): number {
  let n = 0;
  let inTok = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ws = c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
    if (ws) inTok = false;
    else if (!inTok) {
      inTok = true;
      n++;
    }
  }
  return n;
}

function fill(unit: string): string {
  return unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
}

const inputs: Record<string, string> = {
  prose: fill('The quick brown fox jumps over the lazy dog, and then it computes 12 + 30 = 42.\n'),
  code: fill('  for (let i = 0; i < xs.length; i++) { total += xs[i] * 2; }\n'),
  'no spaces': fill('x'),
  cjk: fill('日本語のテキストと中文文本。'),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function cpuMs(f: (s: string) => number, s: string): number {
  const t0 = process.cpuUsage();
  f(s);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

const fns: Record<string, (s: string) => number> = { words: whitespaceWords, estimate: estimateTokens };
const one = process.argv.indexOf('--one');
if (one > 0) {
  // Child: time one function on every input, print JSON {input: median ms}.
  const f = fns[process.argv[one + 1]!]!;
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(inputs)) {
    const xs: number[] = [];
    for (let r = 0; r < WARMUP + RUNS; r++) {
      const ms = cpuMs(f, s);
      if (r >= WARMUP) xs.push(ms);
    }
    out[name] = median(xs);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const child = (fn: string): Record<string, number> => {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', fn], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
};
const words = child('words');
const est = child('estimate');
const mbps = (ms: number) => `${(SIZE / 1e6 / (ms / 1e3)).toFixed(0)} MB/s (${ms.toFixed(2)} ms)`;
console.log('| input (1 MiB) | whitespace words (before) | estimateTokens (now) | time ratio | words → tokens |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, s] of Object.entries(inputs))
  console.log(`| ${name} | ${mbps(words[name]!)} | ${mbps(est[name]!)} | ${(est[name]! / words[name]!).toFixed(2)}× | ${whitespaceWords(s)} → ${estimateTokens(s)} |`);

const at = process.argv.indexOf('--tokenizer');
if (at > 0 && process.argv[at + 1]) {
  const t0 = performance.now();
  const tok = loadTokenizer(process.argv[at + 1]!, process.cwd());
  const load = performance.now() - t0;
  const text = inputs.prose!.slice(0, 1 << 16);
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    tok.count(text);
    runs.push(performance.now() - t);
  }
  console.log(`\ntokenizer ${tok.path}: load ${load.toFixed(0)} ms; 64 KiB of prose: ${median(runs).toFixed(1)} ms (${tok.count(text)} tokens; estimate ${estimateTokens(text)})`);
}
