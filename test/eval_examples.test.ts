import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, rewardkit } from './cli.js';

/**
 * The README's `rewardkit eval pairs` examples run on a fresh clone: examples/eval/pairs.jsonl is
 * shipped, is exactly what scripts/make-eval-pairs.ts writes, and gives the readings the README
 * describes (a refusal detector right on every harmful pair and never right on a helpful one; length
 * right exactly when the chosen answer is the longer one). Runs the built CLI (`npm run build` first).
 */
describe('eval examples on shipped data', () => {
  const shipped = join(ROOT, 'examples', 'eval', 'pairs.jsonl');

  it('examples/eval/pairs.jsonl is what scripts/make-eval-pairs.ts writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-eval-pairs-'));
    try {
      const out = join(dir, 'pairs.jsonl');
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'make-eval-pairs.ts'), out], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(shipped, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refusal.yaml: right on every harmful pair, never right on a helpful one', () => {
    const r = rewardkit(['eval', 'pairs', '--spec', 'examples/eval/refusal.yaml', '--in', 'examples/eval/pairs.jsonl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { n: number; subsets: Record<string, { n: number; correct: number }> };
    expect(j.n).toBe(120);
    expect(j.subsets.harmful).toMatchObject({ n: 60, correct: 60 });
    expect(j.subsets.helpful).toMatchObject({ n: 60, correct: 0 });
  });

  it('length.yaml: right exactly on the pairs whose chosen answer is longer', () => {
    const r = rewardkit(['eval', 'pairs', '--spec', 'examples/eval/length.yaml', '--in', 'examples/eval/pairs.jsonl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { correct: number; length_bias: { chosen_longer: { n: number; correct: number }; chosen_shorter: { correct: number } } };
    const rows = readFileSync(shipped, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chosen: string; rejected: string });
    const longer = rows.filter((p) => [...p.chosen].length > [...p.rejected].length).length; // the grader's default unit: code points
    expect(j.correct).toBe(longer);
    expect(j.length_bias.chosen_shorter.correct).toBe(0);
  });
});
