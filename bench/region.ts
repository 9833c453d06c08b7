/**
 * The answer region alone, in one process (issue 12: "the answer region must cost < 5%" of `score`).
 * `bench/score.ts --spec bench/numeric_regex_whole.yaml --spec bench/numeric_regex.yaml` times the whole
 * CLI with `answer: whole` against the default `auto`, but the difference is within the run-to-run
 * noise of a shared machine; this times just `answerRegion` on the same synthetic completions
 * (bench/synthetic.ts: R1-style with `<answer>…</answer>`, and the same without the tags, which takes
 * `auto`'s fallback to the text after `</think>`), and the `numeric` component's whole read (region +
 * number extraction) with `auto` and `whole`. CPU time (`process.cpuUsage`), median of R rounds after
 * a warm-up, in ns per rollout; compare with the `score` pass's CPU time per rollout.
 *
 * Run: npx tsx bench/region.ts [N] [--runs R]   (N rollouts, default 200000; R default 9)
 */
import { answerRegion, parseAnswerRegion, type AnswerRegion } from '../src/graders/answer.js';
import { extractAnswer } from '../src/graders/number_extract.js';
import { rng, syntheticRollout } from './synthetic.js';
import { cpus, loadavg } from 'node:os';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 9;
const n = Number(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? 200_000);

const make = (tagless: boolean): string[] => {
  const rand = rng(7);
  return Array.from({ length: n }, (_, i) => {
    const c = syntheticRollout(i, rand).completion;
    return tagless ? c.replaceAll('<answer>', '').replaceAll('</answer>', '') : c;
  });
};

let sink = 0;
/** answerRegion over every completion. */
const regionOnly = (comps: string[], r: AnswerRegion) => () => {
  for (const c of comps) {
    const a = answerRegion(c, r);
    sink += 'missing' in a ? 1 : a.text.length;
  }
};
/** What `numeric` does per rollout before comparing: the region, then the number in it. */
const regionAndNumber = (comps: string[], r: AnswerRegion) => () => {
  for (const c of comps) {
    const a = answerRegion(c, r);
    if ('missing' in a) continue;
    const got = extractAnswer(a.text, 'auto');
    sink += got === null ? 0 : got.value;
  }
};
const cpuMs = (f: () => void): number => {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const auto = parseAnswerRegion('auto');
const whole = parseAnswerRegion('whole');
console.log(`\n### The answer region alone — ${n.toLocaleString('en-US')} synthetic completions (median of ${runs}, CPU time)\n`);
console.log('| completions | answerRegion auto | answerRegion whole | auto − whole | numeric read, auto | numeric read, whole |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const tagless of [false, true]) {
  const comps = make(tagless);
  const cases = [regionOnly(comps, auto), regionOnly(comps, whole), regionAndNumber(comps, auto), regionAndNumber(comps, whole)];
  for (let w = 0; w < 3; w++) for (const f of cases) f();
  const t: number[][] = cases.map(() => []);
  for (let r = 0; r < runs; r++) cases.forEach((f, k) => t[k]!.push(cpuMs(f)));
  const ns = t.map((xs) => (median(xs) * 1e6) / n);
  const f0 = (x: number) => `${Math.round(x)} ns`;
  console.log(`| ${tagless ? 'without <answer> tags' : 'R1-style, <answer>…</answer>'} | ${f0(ns[0]!)} | ${f0(ns[1]!)} | **${f0(ns[0]! - ns[1]!)}** | ${f0(ns[2]!)} | ${f0(ns[3]!)} |`);
}
console.log(`\nper rollout; machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load average at the end ${loadavg()[0]!.toFixed(1)}${sink < 0 ? '' : ''}`);
