import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSpecCheck } from './spec.js';

const ROOT = join(import.meta.dirname, '..', '..');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fixture(): { dir: string; spec: string; rollouts: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rk-spec-check-'));
  dirs.push(dir);
  const spec = join(dir, 'spec.yaml');
  // `correct` compares with a reference the data does not have: null on every rollout.
  writeFileSync(spec, ['name: no-refs', 'components:', '  - {name: correct, grader: numeric, weight: 1}', '  - {name: nonempty, grader: length, unit: chars, mode: raw, weight: 0.1}'].join('\n'));
  const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `r${i}`, group: `g${Math.floor(i / 4)}`, prompt: 'q', completion: `answer ${i}` }));
  const rollouts = join(dir, 'rollouts.jsonl');
  writeFileSync(rollouts, lines.join('\n') + '\n');
  return { dir, spec, rollouts };
}

async function check(files: string[], opts: { on?: string; sample?: number }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSpecCheck(files, (s) => out.push(s), (s) => err.push(s), opts);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rewardkit spec check --on', () => {
  it('grades the first 200 rollouts by default and prints the null table and a warning for a 100%-null component (exit 0)', async () => {
    const f = fixture();
    const r = await check([f.spec], { on: f.rollouts });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`graded the first 200 rollouts of ${f.rollouts}`);
    expect(r.out).toMatch(/component\s+null %\s+error %\s+top reasons/);
    // the grader's own reason, counted (its wording is the grader's business)
    expect(r.out).toMatch(/correct\s+100\.0%\s+0\.0%\s+[a-z][^\n]* ×200\n/);
    expect(r.out).toMatch(/nonempty\s+0\.0%\s+0\.0%/);
    expect(r.out).toMatch(/warning: component "correct" is null on 100\.0% of 200 rollouts \(0 errors; warn above 20%\): [a-z][^\n]* ×200\n/);
    expect(r.out).not.toMatch(/warning: component "nonempty"/);
  });

  it('takes --sample and the spec\'s diagnostics.warn_null_rate', async () => {
    const f = fixture();
    expect((await check([f.spec], { on: f.rollouts, sample: 7 })).out).toContain('graded the first 7 rollouts');
    const lax = join(f.dir, 'lax.yaml');
    writeFileSync(lax, ['name: lax', 'components:', '  - {name: correct, grader: exact}', 'diagnostics: {warn_null_rate: 1}'].join('\n'));
    const r = await check([lax], { on: f.rollouts, sample: 10 });
    expect(r.out).toMatch(/correct\s+100\.0%/);
    expect(r.out).not.toContain('warning:');
  });

  it('exits 1 on a missing rollouts file or one without a valid rollout', async () => {
    const f = fixture();
    expect((await check([f.spec], { on: join(f.dir, 'missing.jsonl') })).code).toBe(1);
    const junk = join(f.dir, 'junk.jsonl');
    writeFileSync(junk, 'not json\n');
    const r = await check([f.spec], { on: junk });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no valid rollout to grade \(1 malformed lines\)/);
  });

  it('prints the warning from the built CLI (bin/rewardkit.js; run `npx tsc -p tsconfig.build.json` first)', async () => {
    const f = fixture();
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [join(ROOT, 'bin', 'rewardkit.js'), 'spec', 'check', f.spec, '--on', f.rollouts, '--sample', '50'], { cwd: ROOT }, (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('warning: component "correct" is null on 100.0% of 50 rollouts');
    expect(r.out).toMatch(/: [a-z][^\n]* ×50\n/);
  });
});
