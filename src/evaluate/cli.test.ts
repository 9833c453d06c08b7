import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEvalBon, runEvalEpic, runEvalHacking, runEvalPairs, runEvalPreferences, runEvalStrength, type EvalIO } from '../cli/eval.js';
import { rewardkit, ROOT } from '../../test/cli.js';

/** Captures what a command prints. */
function io(): EvalIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), tty: false };
}

const dir = mkdtempSync(join(tmpdir(), 'rk-eval-cli-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const lengthSpec = file('length.yaml', 'name: length\ncomponents:\n  - {name: len, grader: length}\n');
const wordsSpec = file('words.yaml', 'name: words\ncomponents:\n  - {name: words, grader: length, unit: tokens}\n');
const rougeSpec = file('rouge.yaml', 'name: rouge\ncomponents:\n  - {name: r, grader: rouge_l}\n');
const badSpec = file('bad.yaml', 'components:\n  - {name: x, grader: no_such_grader}\n');

const pairs = file(
  'pairs.jsonl',
  jsonl([
    { prompt: 'q1', chosen: 'a long and careful answer', rejected: 'short', subset: 'alpacaeval-easy', user: 'u1' },
    { prompt: 'q2', chosen: 'ok', rejected: 'a rambling wrong answer', subset: 'alpacaeval-easy', user: 'u2' },
    { prompt: 'q3', chosen: 'same', rejected: 'same', subset: 'math-prm', user: 'u1' },
    { chosen: '\n\nHuman: hi\n\nAssistant: hello there, friend', rejected: '\n\nHuman: hi\n\nAssistant: go', subset: 'math-prm', user: 'u2' },
  ]),
);

// A spec with a `grader: module` component (a JavaScript module beside it): `eval` loads it like `score`.
file('vowels.mjs', 'export function grade(s) { return (s.completion.match(/[aeiou]/g) ?? []).length; }\n');
const moduleSpec = file('vowels.yaml', 'name: vowels\ncomponents:\n  - {name: v, grader: module, path: ./vowels.mjs, export: grade}\n');

describe('rewardkit eval pairs (in process)', () => {
  it('loads a spec with a grader: module component and scores with it', async () => {
    const c = io();
    expect(await runEvalPairs({ spec: moduleSpec, in: pairs, json: true }, c), c.stderr.join('\n')).toBe(0);
    const r = JSON.parse(c.stdout[0]!);
    // vowels: q1 chosen 9 > rejected 1 (right); q2 1 < 8 (wrong); q3 tie; the HH pair: 'hello there, friend' 6 > 'go' 1 (right).
    expect(r).toMatchObject({ eval: 'pairs', scorer: 'vowels', n: 4, correct: 2, ties: 1, scoring_errors: 0 });
  });
  it('prints the stable JSON keys with --json', async () => {
    const c = io();
    expect(await runEvalPairs({ spec: lengthSpec, in: pairs, json: true }, c)).toBe(0);
    expect(c.stdout).toHaveLength(1);
    const r = JSON.parse(c.stdout[0]!);
    expect(r).toMatchObject({ eval: 'pairs', scorer: 'length', n: 4, correct: 2, ties: 1, accuracy: 0.5 });
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['accuracy', 'n', 'ties', 'subsets', 'sections', 'users', 'length_bias', 'calibration', 'ci']));
    expect(r.subsets['math-prm']).toMatchObject({ n: 2, correct: 1, ties: 1 });
    expect(r.sections.Chat.score).toBe(0.5);
    expect(r.users.worst.user).toBe('u1');
  });
  it('prints a readable table and writes the HTML report', async () => {
    const c = io();
    const report = join(dir, 'pairs.html');
    expect(await runEvalPairs({ spec: lengthSpec, in: pairs, report }, c)).toBe(0);
    const text = c.stdout.join('\n');
    expect(text).toContain('eval pairs · scorer "length" · 4 pairs');
    expect(text).toMatch(/accuracy 0\.5000 \(95% CI/);
    expect(text).toMatch(/subset\s+n\s+correct\s+ties\s+accuracy\s+CI/);
    expect(text).toContain('RewardBench average');
    expect(c.stderr.join('\n')).toContain(`report → ${report}`);
    expect(readFileSync(report, 'utf8')).toContain('data-chart="reliability-curve"');
  });
  it('exits 1 naming the problem for an invalid spec or a missing input', async () => {
    const c = io();
    expect(await runEvalPairs({ spec: badSpec, in: pairs }, c)).toBe(1);
    expect(c.stderr.join('\n')).toMatch(/components\[0\]\.grader: unknown grader "no_such_grader"/);
    const d = io();
    expect(await runEvalPairs({ spec: lengthSpec, in: join(dir, 'nope.jsonl') }, d)).toBe(1);
    expect(d.stderr.join('\n')).toMatch(/nope\.jsonl: no such file/);
    const e = io();
    expect(await runEvalPairs({ spec: lengthSpec, in: file('junk.jsonl', '{"x": 1}\nnot json\n'), strict: true }, e)).toBe(1);
    expect(e.stderr.join('\n')).toMatch(/junk\.jsonl:1: chosen: is required/);
  });
});

describe('the other evaluations (in process)', () => {
  it('eval bon → {score, …}', async () => {
    const c = io();
    const bon = file('bon.jsonl', jsonl([{ prompt: 'p', chosen: ['the best answer'], rejected: ['meh', 'no', 'x'] }]));
    expect(await runEvalBon({ spec: lengthSpec, in: bon, json: true }, c)).toBe(0);
    expect(JSON.parse(c.stdout[0]!)).toMatchObject({ eval: 'bon', score: 1, n: 1 });
    const t = io();
    await runEvalBon({ spec: lengthSpec, in: bon }, t);
    expect(t.stdout[0]).toMatch(/score 1 · random baseline 0\.2500/);
  });

  it('eval strength with two scorers writes the relabelled file', async () => {
    const c = io();
    const out = join(dir, 'flipped.jsonl');
    expect(await runEvalStrength({ spec: [lengthSpec, wordsSpec], in: pairs, json: true, out, action: 'flip' }, c)).toBe(0);
    const r = JSON.parse(c.stdout[0]!);
    expect(r).toMatchObject({ eval: 'strength', scorers: ['length', 'words'], n: 4 });
    expect(r.mislabelled.count).toBe(1);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4);
    const one = io();
    expect(await runEvalStrength({ spec: [lengthSpec], in: pairs }, one)).toBe(2);
  });

  it('eval preferences', async () => {
    const c = io();
    const cmp = file('cmp.jsonl', jsonl([{ a: 'x', b: 'y', winner: 'a' }, { a: 'y', b: 'z', winner: 'a' }, { a: 'z', b: 'x', winner: 'a' }]));
    expect(await runEvalPreferences({ in: cmp, json: true }, c)).toBe(0);
    expect(JSON.parse(c.stdout[0]!)).toMatchObject({ eval: 'preferences', transitive: false, cycles: { triangles: 1 } });
    const t = io();
    await runEvalPreferences({ in: cmp }, t);
    expect(t.stdout[0]).toContain('strongest cycles:');
  });

  const rollouts = file(
    'rollouts.jsonl',
    jsonl(
      Array.from({ length: 40 }, (_, i) => ({
        id: `r${i}`,
        group: `q${Math.floor(i / 4)}`,
        prompt: `question ${Math.floor(i / 4)}`,
        completion: `answer ${'word '.repeat(i % 5)}${'x'.repeat((i * 3) % 7)}`,
        reference: 'answer word word',
        meta: { gold: (i * 7) % 5 },
      })),
    ),
  );

  it('eval epic → {distance, …}, with a matrix for three sources', async () => {
    const c = io();
    expect(await runEvalEpic({ a: lengthSpec, b: wordsSpec, in: rollouts, json: true }, c)).toBe(0);
    const r = JSON.parse(c.stdout[0]!);
    expect(r).toMatchObject({ eval: 'epic', mode: 'rollouts', names: ['length', 'words'], groups: 10 });
    expect(r.distance).toBeGreaterThan(0);
    expect(r.distance).toBeLessThan(1);
    const m = io();
    expect(await runEvalEpic({ spec: [lengthSpec, wordsSpec, 'field:meta.gold'], in: rollouts }, m)).toBe(0);
    expect(m.stdout[0]).toMatch(/field:meta\.gold/);
    const none = io();
    expect(await runEvalEpic({ a: lengthSpec, in: rollouts }, none)).toBe(2);
  });

  it('eval hacking → {curve: [{n, proxy, gold}], …}', async () => {
    const c = io();
    expect(await runEvalHacking({ proxy: lengthSpec, gold: rougeSpec, in: rollouts, json: true }, c)).toBe(0);
    const r = JSON.parse(c.stdout[0]!);
    expect(r.eval).toBe('hacking');
    expect(r.curve).toHaveLength(4);
    expect(r.curve[0]).toEqual(expect.objectContaining({ n: 1, proxy: expect.any(Number), gold: expect.any(Number) }));
    const t = io();
    await runEvalHacking({ proxy: lengthSpec, gold: 'field:meta.gold', in: rollouts }, t);
    expect(t.stdout[0]).toMatch(/n\s+KL bound\s+proxy\s+gold/);
  });
});

// Once `registerEval` is wired into src/cli/main.ts, the real CLI is exercised end to end.
const wired = readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').includes('registerEval');
describe.skipIf(!wired)('rewardkit eval (spawned CLI)', () => {
  it('eval pairs --json prints one JSON object and exits 0; bad usage exits 2', () => {
    const r = rewardkit(['eval', 'pairs', '--spec', lengthSpec, '--in', pairs, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ eval: 'pairs', n: 4 });
    expect(rewardkit(['eval', 'pairs', '--in', pairs]).code).toBe(2);
    expect(rewardkit(['eval', 'pairs', '--spec', badSpec, '--in', pairs]).code).toBe(1);
    expect(existsSync(lengthSpec)).toBe(true);
  });
});
