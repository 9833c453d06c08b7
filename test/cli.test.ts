import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rewardkit, ROOT } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-cli-'));
const ex = (f: string) => join(ROOT, 'examples', f);
const readJsonl = (p: string) =>
  readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('rewardkit score (end to end on the examples)', { timeout: 180_000 }, () => {
  it('scores the GSM8K example: right answers win, advantages per group, summary printed', () => {
    const out = join(dir, 'gsm8k.jsonl');
    const diag = join(dir, 'diag.json');
    const r = rewardkit(['score', '--spec', ex('gsm8k.yaml'), '--in', ex('gsm8k_rollouts.jsonl'), '--out', out, '--diagnostics', diag]);
    // The example rollouts carry no token data and the spec names no tokenizer: one warning, once.
    expect(r.stderr).toMatch(/^warning: component "overlong" \(length\): unit tokens on rollouts without completion_ids or response_length[^\n]*\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scored 48 rollouts in 6 groups with spec "gsm8k-r1"/);
    expect(r.stdout).toMatch(/^correct\s+0\.7500\s+0\.4376\s+0\s+1\s+0\s+0$/m);
    const rows = readJsonl(out);
    expect(rows).toHaveLength(48);
    const byKind = (k: string) => rows.filter((x) => x.meta.kind === k);
    for (const x of byKind('right')) expect(x).toMatchObject({ reward: 1.2, components: { correct: 1, format: 1, overlong: 0 } });
    for (const x of byKind('wrong')) expect(x.components.correct).toBe(0);
    for (const x of byKind('bad_format')) expect(x.components.format).toBe(0);
    for (const x of byKind('overlong_right')) expect(x.components.overlong).toBe(-1);
    // GRPO: advantages sum to ~0 within each group, and right answers beat wrong ones.
    for (const g of new Set(rows.map((x) => x.group))) {
      const adv = rows.filter((x) => x.group === g).map((x) => x.advantage as number);
      expect(Math.abs(adv.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9);
    }
    expect(byKind('right')[0].advantage).toBeGreaterThan(byKind('wrong')[0].advantage);
    const d = JSON.parse(readFileSync(diag, 'utf8'));
    expect(d).toMatchObject({ spec: 'gsm8k-r1', rollouts: 48, groups: 6, bad_lines: 0, collapse_rate: 0 });
    expect(d.components.map((c: { name: string }) => c.name)).toEqual(['correct', 'format', 'overlong']);
  });

  it('scores every bundled spec', () => {
    for (const [spec, input] of [
      ['gated.yaml', 'gsm8k_rollouts.jsonl'],
      ['hierarchical.yaml', 'gsm8k_rollouts.jsonl'],
      ['tool_json.yaml', 'tool_json_rollouts.jsonl'],
    ]) {
      const out = join(dir, `${spec}.jsonl`);
      const r = rewardkit(['score', '-s', ex(spec!), '-i', ex(input!), '-o', out, '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      const rows = readJsonl(out);
      if (spec === 'gated.yaml') for (const x of rows.filter((x) => x.components.correct === 0)) expect(x.reward).toBe(0);
      if (spec === 'hierarchical.yaml') for (const x of rows.filter((x) => x.components.format === 0)) expect(x.reward).toBe(-1);
      if (spec === 'tool_json.yaml') {
        const kinds = Object.fromEntries(rows.slice(0, 6).map((x) => [x.meta.kind, x.reward]));
        expect(kinds).toEqual({ valid: 1.5, valid_fenced: 1.5, missing_arg: 0, wrong_type: 0, bad_enum: 0, not_json: 0 });
      }
    }
  });

  it('GDPO keeps the reward patterns apart that GRPO merges (resolution in the diagnostics)', () => {
    const diag = (spec: string) => {
      const d = join(dir, `${spec}.diag.json`);
      expect(rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', join(dir, 'r.jsonl'), '-q', '--diagnostics', d]).code).toBe(0);
      return JSON.parse(readFileSync(d, 'utf8'));
    };
    const grpoSpec = join(dir, 'grpo.yaml');
    writeFileSync(grpoSpec, readFileSync(ex('gdpo.yaml'), 'utf8').replace('estimator: gdpo', 'estimator: grpo'));
    expect(diag(ex('gdpo.yaml')).resolution).toBe(1);
    expect(diag(grpoSpec).resolution).toBe(0.75);
  });

  it('gives every step of a multi-turn rollout reward and advantage (G-RA: no step credit for a failed episode)', () => {
    const out = join(dir, 'agent.jsonl');
    const r = rewardkit(['score', '-s', ex('agent_gated.yaml'), '-i', ex('agent_rollouts.jsonl'), '-o', out, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const rows = readJsonl(out);
    for (const x of rows) {
      for (const s of x.steps) expect(typeof s.advantage).toBe('number');
      if (x.reward === 0) for (const s of x.steps) expect(s.reward).toBe(0);
    }
    const solved = rows.find((x) => x.meta.kind === 'solves');
    expect(solved.steps.map((s: { reward: number }) => s.reward)).toEqual([0.1, 0.1, 1]);
    expect(rows.find((x) => x.meta.kind === 'loops').steps.map((s: { reward: number }) => s.reward)).toEqual([0, 0, 0]);
  });

  it('reads stdin, writes stdout, and handles gzip', () => {
    const input = readFileSync(ex('gsm8k_rollouts.jsonl'), 'utf8');
    const r = rewardkit(['score', '--spec', ex('gsm8k.yaml'), '--in', '-'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(48);
    expect(r.stderr).toMatch(/scored 48 rollouts/); // summary goes to stderr when the output is stdout
    const gz = join(dir, 'in.jsonl.gz');
    writeFileSync(gz, gzipSync(input));
    const out = join(dir, 'out.jsonl.gz');
    expect(rewardkit(['score', '-s', ex('gsm8k.yaml'), '-i', gz, '-o', out, '-q']).code).toBe(0);
    expect(gunzipSync(readFileSync(out)).toString().trim().split('\n')).toHaveLength(48);
  });

  it('skips and counts malformed lines, naming each; --strict stops with exit 1', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, ['{"id":"a","completion":"<think>x</think><answer>1</answer>","reference":"1"}', '{not json', '{"id":"b"}', '{"id":"c","completion":5}', '[1,2]', '{"id":"d","completion":"2","reference":"2"}'].join('\n'));
    const out = join(dir, 'bad-out.jsonl');
    const r = rewardkit(['score', '-s', ex('gsm8k.yaml'), '-i', bad, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${bad}:2: invalid JSON`);
    expect(r.stderr).toContain(`${bad}:3: completion: is required`);
    expect(r.stderr).toContain(`${bad}:4: completion: expected a string or a list of chat messages, got number`);
    expect(r.stderr).toContain(`${bad}:5: (record): expected a JSON object, got array`);
    expect(r.stdout).toMatch(/4 bad input lines skipped/);
    expect(readJsonl(out).map((x) => x.id)).toEqual(['a', 'd']);
    const s = rewardkit(['score', '-s', ex('gsm8k.yaml'), '-i', bad, '-o', out, '--strict']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`error: ${bad}:2: invalid JSON`);
  });

  it('reports an invalid spec with paths (exit 1), a missing file (exit 1), usage errors (exit 2)', () => {
    const spec = join(dir, 'bad.yaml');
    writeFileSync(spec, 'components:\n  - {name: fmt, grader: regex, pattern: "(unclosed"}\n  - {name: x, grader: numbr}\n');
    const r = rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', join(dir, 'o.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/components\[1\]\.grader: unknown grader "numbr"/);
    const r2 = rewardkit(['spec', 'check', spec.replace('bad', 'missing')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/missing\.yaml:\n\s+no such file/);
    const r3 = rewardkit(['score', '-s', ex('gsm8k.yaml'), '-i', join(dir, 'nope.jsonl'), '-o', join(dir, 'o.jsonl')]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/nope\.jsonl: no such file/);
    expect(rewardkit(['score', '--spec', ex('gsm8k.yaml')]).code).toBe(2);
    expect(rewardkit(['score', '-s', 'a', '-i', 'b', '--batch-size', '0']).code).toBe(2);
    expect(rewardkit(['frobnicate']).code).toBe(2);
  });
});

describe('rewardkit spec', { timeout: 120_000 }, () => {
  it('check: exit 0 for the examples, 1 with the path of a bad regex', () => {
    const r = rewardkit(['spec', 'check', ex('gsm8k.yaml'), ex('gated.yaml'), ex('hierarchical.yaml'), ex('tool_json.yaml'), ex('gdpo.yaml'), ex('eval/length.yaml'), ex('eval/refusal.yaml'), ex('agent_gated.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(8);
    expect(r.stdout).toMatch(/spec "agent-gated", 1 components \(solved\), step components \(valid_call\), combine weighted_sum, credit gated/);
    // A gguf backend's model file must exist; the issue is reported with the compile errors.
    const model = join(dir, 'model-spec.yaml');
    writeFileSync(model, 'backends:\n  local: {type: gguf, path: nowhere/m.gguf, cache: false}\ncomponents:\n  - {name: lik, grader: likelihood, backend: local, variant: prob}\n');
    const m = rewardkit(['spec', 'check', model]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`backends.local.path: no model file at ${join(dir, 'nowhere', 'm.gguf')}`);
    const spec = join(dir, 'regex.yaml');
    writeFileSync(spec, 'components:\n  - {name: a, grader: exact}\n  - {name: b, grader: exact}\n  - {name: fmt, grader: regex, pattern: "(unclosed"}\n');
    const bad = rewardkit(['spec', 'check', spec]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/components\[2\]\.pattern: invalid regular expression/);
  });
  it('schema: prints a JSON Schema', () => {
    const r = rewardkit(['spec', 'schema']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.$schema).toMatch(/json-schema/);
    expect(JSON.stringify(s)).toContain('"numeric"');
  });
});

describe('rewardkit graders', { timeout: 120_000 }, () => {
  it('lists kinds and shows params', () => {
    const r = rewardkit(['graders']);
    expect(r.stdout).toMatch(/^numeric\s+/m);
    const one = rewardkit(['graders', 'regex']);
    expect(one.stdout).toMatch(/^pattern\s+/m);
    expect(rewardkit(['graders', 'nope']).code).toBe(1);
  });
});

describe('rewardkit advantages', { timeout: 120_000 }, () => {
  it('recomputes advantages from scored rollouts: RLOO = n/(n-1) · Dr.GRPO on every group of 8', () => {
    const scored = join(dir, 'scored-for-adv.jsonl');
    expect(rewardkit(['score', '-s', ex('gsm8k.yaml'), '-i', ex('gsm8k_rollouts.jsonl'), '-o', scored, '-q']).code).toBe(0);
    const rloo = join(dir, 'rloo.jsonl');
    const dr = join(dir, 'dr.jsonl');
    expect(rewardkit(['advantages', '-i', scored, '-e', 'rloo', '-o', rloo, '-q']).code).toBe(0);
    expect(rewardkit(['advantages', '-i', scored, '-e', 'dr_grpo', '-o', dr, '-q']).code).toBe(0);
    const a = readJsonl(rloo);
    const b = readJsonl(dr);
    a.forEach((x, i) => expect(x.advantage).toBeCloseTo((8 / 7) * b[i].advantage, 12));
    expect(a[0]).toMatchObject({ id: 'apples-0', reward: 1.2 });
  });
  it('rejects bad estimator options (exit 2) and non-finite rewards (exit 1)', () => {
    const bad = rewardkit(['advantages', '-i', ex('gsm8k_rollouts.jsonl'), '-e', 'grpo', '--option', 'std=bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--option std: /);
    expect(rewardkit(['advantages', '-i', ex('gsm8k_rollouts.jsonl'), '-e', 'nope']).stderr).toMatch(/--estimator: expected one of: grpo/);
    const f = join(dir, 'inf.jsonl');
    writeFileSync(f, '{"id":"a","completion":"x","reward":"high"}\n');
    const r = rewardkit(['advantages', '-i', f, '-e', 'grpo']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rollout "a": reward: expected a finite number or null/);
  });
});
