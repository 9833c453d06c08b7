/**
 * `math` grader throughput on MATH-500-style pairs, single process. Data read in place from
 * ../shared/data (MATH-500 split of PRM800K, MIT; GSM8K test split, openai/grade-school-math, MIT).
 *
 * Rows (each verification = extract + parse the completion, compare with the reference; references
 * are parsed once and kept in the grader's LRU, as in GRPO where a group shares its reference):
 *  - answer variants: each MATH-500 answer as written, restyled (\dfrac, spacing, \left…\right),
 *    as a decimal or plain fraction where it is a number, in a one-line boxed sentence, and a wrong
 *    answer (another problem's); answer-text cache off, so every completion is parsed cold;
 *  - the same with the answer-text cache on (GRPO groups repeat answers);
 *  - whole MATH-500 solutions against their answer and against a different answer;
 *  - whole GSM8K solutions (`#### n`) against their number;
 *  - GSM8K answers alone, as the `<answer>…</answer>` region of an R1-style completion holds them: each
 *    of the first 500 GSM8K numbers as written, with thousands separators (`1,000`), with a dollar sign
 *    (`$18`), with a trailing `.0`, in a sentence (`The answer is 72.`), and a wrong number (n + 1);
 *  - the same answers through the `math` grader itself (answer region `auto` + verification + details),
 *    each in an R1-style completion (`<think>…</think>\n<answer>72</answer>`).
 * Baseline: compute-engine alone (`ce.parse(a).isEqual(ce.parse(b))`) on the answer variants, when
 * @cortex-js/compute-engine is installed (no longer a dependency: `npm i --no-save @cortex-js/compute-engine`,
 * which needs Node ≥ 22.3); otherwise that row is skipped.
 * "agrees" = share of verdicts that match the construction (variants 1, wrong answers 0).
 * Rates are medians of 5 runs; "per CPU s" divides by the process's CPU time, which moves less than
 * wall-clock time when other processes share the machine (the load average is printed).
 * Run: npx tsx bench/math.ts   (prints a markdown table)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS, MathVerifier } from '../src/graders/math/verify.js';
import { mathGrader } from '../src/graders/math/index.js';
import { buildGrader } from '../src/graders/harness.js';
import type { RolloutGrader } from '../src/graders/types.js';
import type { Sample } from '../src/rollout/types.js';

const DATA = process.env.REWARDKIT_SHARED_DATA ?? join(dirname(fileURLToPath(import.meta.url)), '../../shared/data');
const readJsonl = <T>(rel: string): T[] =>
  readFileSync(join(DATA, rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

interface Pair {
  gold: string;
  completion: string;
  want: 0 | 1;
}

const math500 = readJsonl<{ solution: string; answer: string }>('math_data/math500_test.jsonl');
const gsm8k = readJsonl<{ answer: string }>('math_data/gsm8k_test.jsonl');

function rough(a: string): string {
  return a.replace(/\\[dt]frac/g, '\\frac').replace(/\\left|\\right|\s|\\[,!;]/g, '').replace(/^[a-z]=/i, '');
}

function restyle(a: string): string {
  const paren = a.includes('\\text');
  const s = a
    .replace(/\\frac/g, '\\dfrac')
    .replace(/\(/g, paren ? '(' : '\\left(')
    .replace(/\)/g, paren ? ')' : '\\right)')
    .replace(/\s+/g, '')
    .replace(/([+=<>])/g, ' $1 ');
  return s === a ? ` ${a} ` : s;
}

function numeric(a: string): string | null {
  const frac = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(a.trim());
  if (frac) return `${frac[1]}${frac[2]}/${frac[3]}`;
  if (/^-?\d+$/.test(a.trim())) return `${a.trim()}.0`;
  return null;
}

function differentAnswer(i: number): string {
  let j = (i + 13) % math500.length;
  while (rough(math500[j]!.answer) === rough(math500[i]!.answer)) j = (j + 1) % math500.length;
  return math500[j]!.answer;
}

const variants: Pair[] = [];
math500.forEach((r, i) => {
  variants.push({ gold: r.answer, completion: r.answer, want: 1 });
  variants.push({ gold: r.answer, completion: restyle(r.answer), want: 1 });
  const n = numeric(r.answer);
  if (n) variants.push({ gold: r.answer, completion: n, want: 1 });
  variants.push({ gold: r.answer, completion: `So the answer is $\\boxed{${r.answer}}$.`, want: 1 });
  variants.push({ gold: r.answer, completion: `So the answer is $\\boxed{${differentAnswer(i)}}$.`, want: 0 });
});
const solutions: Pair[] = math500.flatMap((r, i) => [
  { gold: r.answer, completion: r.solution, want: 1 as const },
  { gold: differentAnswer(i), completion: r.solution, want: 0 as const },
]);
const gsm: Pair[] = gsm8k.slice(0, 500).map((r) => ({ gold: r.answer.split('####').pop()!.trim(), completion: r.answer, want: 1 as const }));

const plainAnswers: Pair[] = gsm.flatMap(({ gold }) => {
  const n = Number(gold.replace(/,/g, ''));
  return [
    { gold, completion: gold, want: 1 as const },
    { gold, completion: n.toLocaleString('en-US'), want: 1 as const },
    { gold, completion: `\$${gold}`, want: 1 as const },
    { gold, completion: `${n}.0`, want: 1 as const },
    { gold, completion: `The answer is ${gold}.`, want: 1 as const },
    { gold, completion: String(n + 1), want: 0 as const },
  ];
});

interface Row {
  name: string;
  pairs: Pair[];
  answerCache: boolean;
}
const rows: Row[] = [
  { name: 'answer variants (cold answer parse)', pairs: variants, answerCache: false },
  { name: 'answer variants (answer cache on)', pairs: variants, answerCache: true },
  { name: 'whole MATH-500 solutions', pairs: solutions, answerCache: false },
  { name: 'whole GSM8K solutions (#### n)', pairs: gsm, answerCache: false },
  { name: 'GSM8K answers alone (72, 1,000, $18, 72.0, a sentence, a wrong number)', pairs: plainAnswers, answerCache: false },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median verifications per second over `runs` runs of ≥ `minMs`: wall clock, and per CPU second. */
function timeRuns(pass: () => number, runs = 5, minMs = 400): { wall: number; cpu: number } {
  pass();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < minMs) n += pass();
    const c = process.cpuUsage(c0);
    wall.push((n * 1000) / (performance.now() - t0));
    cpu.push((n * 1e6) / (c.user + c.system));
  }
  return { wall: median(wall), cpu: median(cpu) };
}

// The grader row: R1-style samples holding the plain answers, graded by the `math` grader (region + verify).
const r1Samples: (Sample & { want: 0 | 1 })[] = plainAnswers.map((p, i) => {
  const completion = `<think>\nLet me work it out step by step: the total is what the question asks.\n</think>\n<answer>${p.completion}</answer>`;
  return { rollout: { id: String(i), completion }, id: String(i), group: String(i), completion, prompt: '', reference: p.gold, meta: {}, want: p.want };
});

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const lines: string[] = [
  '| pairs | n | verifications/s (wall) | verifications/s (per CPU s) | µs / verification (wall) | agrees |',
  '|---|---:|---:|---:|---:|---:|',
];
const load0 = loadavg()[0]!;
for (const row of rows) {
  const v = new MathVerifier({ ...DEFAULT_OPTIONS, answerCacheSize: row.answerCache ? undefined : 0 });
  let agree = 0;
  for (const p of row.pairs) if ((v.verify(p.gold, p.completion).score === 1 ? 1 : 0) === p.want) agree++;
  const r = timeRuns(() => {
    for (const p of row.pairs) v.verify(p.gold, p.completion);
    return row.pairs.length;
  });
  lines.push(`| ${row.name} | ${row.pairs.length} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${(1e6 / r.wall).toFixed(1)} | ${((100 * agree) / row.pairs.length).toFixed(1)}% |`);
}

{
  // The math grader itself (its reference and answer-text caches on, as in a run): region, verify, details.
  const g = buildGrader(mathGrader) as RolloutGrader;
  let agree = 0;
  for (const s of r1Samples) if (((g.grade(s) as { score: number | null }).score === 1 ? 1 : 0) === s.want) agree++;
  const r = timeRuns(() => {
    for (const s of r1Samples) g.grade(s);
    return r1Samples.length;
  });
  lines.push(`| math grader: the same answers in R1 completions (<answer>…</answer>) | ${r1Samples.length} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${(1e6 / r.wall).toFixed(1)} | ${((100 * agree) / r1Samples.length).toFixed(1)}% |`);
}

// Baseline: compute-engine's own parse + isEqual on a slice of the variants (when it is installed).
type Engine = new () => { parse(s: string): { isEqual(o: unknown): boolean | undefined } };
let ComputeEngine: Engine | null = null;
try {
  ComputeEngine = (createRequire(import.meta.url)('@cortex-js/compute-engine') as { ComputeEngine: Engine }).ComputeEngine;
} catch {
  lines.push('| baseline: compute-engine — skipped (@cortex-js/compute-engine is not installed) | | | | | |');
}
if (ComputeEngine) {
  const ce = new ComputeEngine();
  const slice = variants.filter((p) => !p.completion.includes('answer is')).slice(0, 300);
  let agree = 0;
  for (const p of slice) if ((ce.parse(p.gold).isEqual(ce.parse(p.completion)) === true ? 1 : 0) === p.want) agree++;
  const r = timeRuns(() => {
    for (const p of slice) ce.parse(p.gold).isEqual(ce.parse(p.completion));
    return slice.length;
  }, 3, 1000);
  lines.push(`| baseline: compute-engine parse + isEqual (bare answer variants) | ${slice.length} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${(1e6 / r.wall).toFixed(1)} | ${((100 * agree) / slice.length).toFixed(1)}% |`);
}

console.log(`math grader, single process (Node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})\n`);
console.log(lines.join('\n'));
