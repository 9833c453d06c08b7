/**
 * `rewardkit probe` through the real bin (bin/rewardkit.js → dist/; build with
 * `npx tsc -p tsconfig.build.json`): exit codes 0 (clean) / 1 (findings) / 2 (usage, input or spec
 * errors), the exact `--json` shape, and the human table.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rewardkit, ROOT } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-probe-cli-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const weak = file('weak.yaml', 'name: weak\ncomponents:\n  - {name: has, grader: contains}\n');
const strong = file('strong.yaml', 'name: strong\ncomponents:\n  - {name: correct, grader: exact, normalize: {case: lower, whitespace: true}}\n');
const samples = file('samples.jsonl', `${JSON.stringify({ id: 'q', prompt: 'What is 2 + 2?', completion: '4', reference: '4' })}\n`);

describe('rewardkit probe', { timeout: 120_000 }, () => {
  it('exit 1 and the exact --json shape when a strategy beats the wrong answer', () => {
    const r = rewardkit(['probe', '--spec', weak, '--in', samples, '--json', '--huge-chars', '5000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { findings: Record<string, unknown>[]; tried: number };
    expect(Object.keys(out)).toEqual(['findings', 'tried']);
    expect(out.tried).toBeGreaterThan(30);
    expect(out.findings.length).toBeGreaterThan(0);
    for (const f of out.findings) {
      expect(Object.keys(f).slice(0, 5)).toEqual(['component', 'strategy', 'reward', 'baseline', 'example']);
      expect(f.reward as number).toBeGreaterThan(f.baseline as number);
      expect(f.gain).toBeCloseTo((f.reward as number) - (f.baseline as number), 12);
    }
    expect(out.findings.find((f) => f.strategy === 'spray-integers')).toMatchObject({ component: 'has', reward: 1, baseline: 0, gain: 1, sample: 'q' });
  });

  it('exit 0 and a clean line for a strong spec, with the built-in samples (no --in)', () => {
    const r = rewardkit(['probe', '--spec', strong]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^probe "strong": nothing beat a plain wrong answer \(\d+ attempts on 3 samples\)$/m);
    expect(r.stdout).toMatch(/^baselines: builtin-math 0, builtin-fact 0, builtin-choice 0$/m);
    const j = rewardkit(['probe', '--spec', strong, '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ findings: [], tried: expect.any(Number) });
  });

  it('accepts samples without a completion (a prompt and a reference)', () => {
    const bare = file('bare.jsonl', `${JSON.stringify({ id: 'q', prompt: 'What is 2 + 2?', reference: '4' })}\n`);
    const r = rewardkit(['probe', '--spec', weak, '--in', bare, '--json', '--huge-chars', '1000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { findings: { strategy: string }[] }).findings.map((f) => f.strategy)).toContain('spray-integers');
  });

  it('prints a table of findings', () => {
    const r = rewardkit(['probe', '--spec', weak, '--in', samples, '--huge-chars', '5000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^probe "weak": \d+ strategies beat a plain wrong answer/m);
    expect(r.stdout).toMatch(/^component\s+strategy\s+reward\s+baseline\s+gain\s+samples\s+attempts\s+example$/m);
    expect(r.stdout).toMatch(/^has\s+spray-integers\s+1\s+0\s+1\s+1\/1\s+\d+\/\d+\s+0 1 2 3/m);
  });

  it('exit 2 for usage, spec and input errors, naming the problem', () => {
    expect(rewardkit(['probe']).code).toBe(2);
    expect(rewardkit(['probe', '--spec', strong, '--max-rollouts', '0']).code).toBe(2);
    const bad = rewardkit(['probe', '--spec', file('bad.yaml', 'name: bad\ncomponents:\n  - {name: x, grader: nope}\n')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/components\[0\]/);
    const code = rewardkit(['probe', '--spec', file('code.yaml', 'name: c\ncomponents:\n  - {name: tests, grader: code}\n')]);
    expect(code.code).toBe(2);
    expect(code.stderr).toMatch(/component "tests" \(grader code\) needs references from your data.*--in/);
    const missing = rewardkit(['probe', '--spec', strong, '--in', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl/);
    const broken = rewardkit(['probe', '--spec', strong, '--in', file('broken.jsonl', '{"id": "a", "completion": "x"}\n{oops\n')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.jsonl:2: not JSON/);
  });

  it('is listed in the help', () => {
    const r = rewardkit(['probe', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--max-rollouts <n>/);
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/Exit 0 when none does, 1 when some do, 2 for usage or spec errors/);
    expect(rewardkit(['--help']).stdout).toMatch(/^\s+probe \[options\]/m);
    expect(ROOT).toBeTruthy();
  });
});
