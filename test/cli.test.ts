import { describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
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
  it('dcpo reads each rollout’s completion length (completion_ids): the shorter of two equal rewards is kept', () => {
    const f = join(dir, 'dcpo.jsonl');
    const rows = [
      { id: 'long', group: 'g', completion: 'x', reward: 1, completion_ids: [1, 2, 3, 4, 5, 6] },
      { id: 'short', group: 'g', completion: 'x', reward: 1, completion_ids: [1, 2] },
      { id: 'bad-short', group: 'g', completion: 'x', reward: 0, completion_ids: [1] },
      { id: 'bad-long', group: 'g', completion: 'x', reward: 0, completion_ids: [1, 2, 3, 4, 5, 6, 7, 8] },
    ];
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'dcpo-out.jsonl');
    expect(rewardkit(['advantages', '-i', f, '-e', 'dcpo', '-o', out, '-q']).code).toBe(0);
    expect(readJsonl(out).map((r) => Math.sign(r.advantage))).toEqual([0, 1, 0, -1]);
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

describe('rewardkit score loses no data', { timeout: 180_000 }, () => {
  const spec = ex('gsm8k.yaml');
  const examples = readFileSync(ex('gsm8k_rollouts.jsonl'), 'utf8');
  const ids = (rows: { id: string }[]) => rows.map((x) => x.id);
  /** N GSM8K-style rollouts in groups of 8 (right, wrong, unformatted), unique ids. */
  const synthetic = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) {
      const g = Math.floor(i / 8);
      const ans = g % 97;
      const c = i % 3 === 0 ? `<think>${'step '.repeat(i % 40)}</think>\n<answer>${ans}</answer>` : i % 3 === 1 ? `<think>x</think>\n<answer>${ans + 1}</answer>` : `it is ${ans}`;
      s += JSON.stringify({ id: `q${g}-${i % 8}`, group: `q${g}`, prompt: `Problem ${g}: what is ${ans}?`, completion: c, reference: String(ans) }) + '\n';
    }
    return s;
  };

  it('refuses an output that is the input — same path, symlink, hard link, or its .partial (exit 2, input untouched)', () => {
    const input = join(dir, 'safe-in.jsonl');
    writeFileSync(input, examples);
    symlinkSync(input, join(dir, 'safe-link.jsonl'));
    linkSync(input, join(dir, 'safe-hard.jsonl'));
    writeFileSync(join(dir, 'safe-p.jsonl'), '');
    for (const [out, how] of [
      [input, 'the same path'],
      [join(dir, 'safe-link.jsonl'), 'through a symlink'],
      [join(dir, 'safe-hard.jsonl'), 'a hard link'],
      [join(dir, '.', 'safe-in.jsonl'), 'the same'],
    ]) {
      const r = rewardkit(['score', '-s', spec, '-i', input, '-o', out!]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: the output .* is the input .*${how}.*: writing it would destroy the input`, 'm'));
    }
    // the input given through the symlink, the output by its real path
    expect(rewardkit(['score', '-s', spec, '-i', join(dir, 'safe-link.jsonl'), '-o', input]).code).toBe(2);
    // OUT.partial would be the input
    const p = rewardkit(['score', '-s', spec, '-i', input.replace('.jsonl', '-x.jsonl.partial'), '-o', input.replace('.jsonl', '-x.jsonl')]);
    expect(p.code).toBe(1); // that input does not exist: a plain missing-file error, no clash
    writeFileSync(join(dir, 'safe-q.jsonl.partial'), examples);
    const q = rewardkit(['score', '-s', spec, '-i', join(dir, 'safe-q.jsonl.partial'), '-o', join(dir, 'safe-q.jsonl')]);
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/safe-q\.jsonl\.partial .*is the input/);
    expect(readFileSync(input, 'utf8')).toBe(examples);
    expect(readFileSync(join(dir, 'safe-q.jsonl.partial'), 'utf8')).toBe(examples);
  });

  it('writes OUT.partial and renames it at the end; a failed run leaves an earlier OUT alone', () => {
    const out = join(dir, 'atomic.jsonl');
    expect(rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', out, '-q']).code).toBe(0);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(readJsonl(out)).toHaveLength(48);
    const r = rewardkit(['score', '-s', spec, '-i', join(dir, 'missing.jsonl'), '-o', out, '-q']);
    expect(r.code).toBe(1);
    expect(readJsonl(out)).toHaveLength(48);
    expect(existsSync(`${out}.partial`)).toBe(false);
    // a leftover OUT.partial is never overwritten without --resume
    writeFileSync(`${out}.partial`, '');
    const again = rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', out, '-q']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/atomic\.jsonl\.partial exists: an earlier run of this output was interrupted\. Add --resume/);
    rmSync(`${out}.partial`);
  });

  it('writes a device such as /dev/null in place: never replaced by a regular file', () => {
    const r = rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', '/dev/null', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(existsSync('/dev/null.partial')).toBe(false);
    expect(rewardkit(['score', '-s', spec, '-i', ex('gsm8k_rollouts.jsonl'), '-o', '/dev/null', '--resume']).code).toBe(2);
  });

  it('strips a UTF-8 BOM: the first rollout is scored', () => {
    const input = join(dir, 'bom.jsonl');
    writeFileSync(input, '\uFEFF' + examples);
    const out = join(dir, 'bom-out.jsonl');
    const r = rewardkit(['score', '-s', spec, '-i', input, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/error|line 1\b/); // only the token-estimate warning of the gsm8k spec
    expect(r.stdout).toMatch(/scored 48 rollouts/);
    expect(readJsonl(out)[0].id).toBe(JSON.parse(examples.split('\n')[0]!).id);
    const gz = join(dir, 'bom.jsonl.gz');
    writeFileSync(gz, gzipSync('\uFEFF' + examples));
    const g = rewardkit(['score', '-s', spec, '-i', gz, '-o', out, '-q']);
    expect(g.code, g.stderr).toBe(0);
    expect(readJsonl(out)).toHaveLength(48);
  });

  it('warns on duplicate ids with their lines; --strict makes them an error (the rollouts before it kept)', () => {
    const lines = examples.trim().split('\n');
    const input = join(dir, 'dups.jsonl');
    writeFileSync(input, [...lines, lines[0], lines[5]].join('\n') + '\n');
    const out = join(dir, 'dups-out.jsonl');
    const r = rewardkit(['score', '-s', spec, '-i', input, '-o', out, '--diagnostics', join(dir, 'dups.json')]);
    expect(r.code).toBe(0);
    const id0 = JSON.parse(lines[0]!).id;
    const id5 = JSON.parse(lines[5]!).id;
    expect(r.stderr).toContain(`warning: 2 rollouts have ids seen earlier in ${input}: "${id0}" at line 49 (first at line 1), "${id5}" at line 50 (first at line 6)`);
    expect(r.stdout).toMatch(/note: .*2 duplicate ids/);
    expect(JSON.parse(readFileSync(join(dir, 'dups.json'), 'utf8')).duplicate_ids).toBe(2);
    const s = rewardkit(['score', '-s', spec, '-i', input, '-o', out, '--strict']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`error: ${input}:49: duplicate id "${id0}" (first at line 1)`);
    expect(s.stderr).toContain('holds the 48 rollouts scored before it');
    expect(readJsonl(out)).toHaveLength(48);
  });

  it('scores the readable part of a truncated .gz, writes it, and exits 1 naming the line where it broke', () => {
    const text = synthetic(20_000);
    const whole = gzipSync(text);
    const gz = join(dir, 'trunc.jsonl.gz');
    writeFileSync(gz, whole.subarray(0, Math.floor(whole.length / 2)));
    const out = join(dir, 'trunc-out.jsonl');
    const r = rewardkit(['score', '-s', spec, '-i', gz, '-o', out, '-q']);
    expect(r.code).toBe(1);
    const m = /error: .*trunc\.jsonl\.gz:(\d+): the compressed input breaks here \(unexpected end of file\); the lines before it were scored and .*trunc-out\.jsonl holds the ([\d,]+) rollouts scored before it/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const line = Number(m![1]);
    const rows = readJsonl(out);
    expect(rows.length).toBe(line - 1);
    expect(Number(m![2]!.replace(/,/g, ''))).toBe(line - 1);
    expect(rows.length).toBeGreaterThan(1000);
    // exactly the input's first line-1 rollouts, in order
    const inputIds = text.split('\n').slice(0, line - 1).map((l) => JSON.parse(l).id);
    expect(ids(rows)).toEqual(inputIds);
  });

  it('SIGINT on a .jsonl.gz output: valid gzip of whole lines kept as OUT.partial, count and --resume command printed; --resume completes every id exactly once', async () => {
    const input = join(dir, 'big.jsonl');
    writeFileSync(input, synthetic(120_000));
    const out = join(dir, 'big-out.jsonl.gz');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rewardkit.js'), 'score', '-s', spec, '-i', input, '-o', out, '--batch-size', '64', '--progress-interval', '0'], { cwd: ROOT });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('scoring: ')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code, stderr).toBe(130);
    expect(existsSync(out)).toBe(false);
    const partial = `${out}.partial`;
    const text = gunzipSync(readFileSync(partial)).toString(); // throws on a broken gzip stream
    expect(text.endsWith('\n')).toBe(true);
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(120_000);
    const m = /interrupted by SIGINT: (.*) holds ([\d,]+) scored rollouts .*gzip stream closed.*To continue:\n {2}(rewardkit score .* --resume)\n/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(m![1]).toBe(partial);
    expect(Number(m![2]!.replace(/,/g, ''))).toBe(rows.length);
    // run the printed command as it is
    const resume = m![3]!.split(' ').slice(1);
    expect(resume).toEqual(['score', '--spec', spec, '--in', input, '--out', out, '--batch-size', '64', '--progress-interval', '0', '--resume']);
    const r = rewardkit(resume);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming: ${rows.length.toLocaleString('en-US')} rollouts already in ${partial} are skipped`);
    expect(existsSync(partial)).toBe(false);
    const all = gunzipSync(readFileSync(out)).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toHaveLength(120_000);
    expect(new Set(ids(all)).size).toBe(120_000);
    // the same rewards and advantages as one uninterrupted run (batches close at group boundaries)
    const ref = join(dir, 'big-ref.jsonl');
    expect(rewardkit(['score', '-s', spec, '-i', input, '-o', ref, '--batch-size', '64', '-q']).code).toBe(0);
    const byId = new Map(readJsonl(ref).map((x) => [x.id, x]));
    for (const x of all) expect(x).toEqual(byId.get(x.id));
  });

  it('SIGTERM on a .jsonl output and SIGINT on stdout: whole lines, exit 143/130; --resume drops a torn tail', async () => {
    const input = join(dir, 'big2.jsonl');
    writeFileSync(input, synthetic(60_000));
    const run = async (out: string, sig: NodeJS.Signals) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'rewardkit.js'), 'score', '-s', spec, '-i', input, '-o', out, '--batch-size', '64', '--progress-interval', '0'], { cwd: ROOT });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('scoring: ') && !child.killed) child.kill(sig);
      });
      const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
      return { code, stderr, stdout };
    };
    const out = join(dir, 'big2-out.jsonl');
    const t = await run(out, 'SIGTERM');
    expect(t.code, t.stderr).toBe(143);
    const kept = readFileSync(`${out}.partial`, 'utf8');
    expect(kept.endsWith('\n')).toBe(true);
    const n = kept.trim().split('\n').map((l) => JSON.parse(l)).length;
    expect(t.stderr).toContain(`interrupted by SIGTERM: ${out}.partial holds ${n.toLocaleString('en-US')} scored rollouts`);
    // a run killed hard leaves a torn last line: --resume drops it and rescores that rollout
    writeFileSync(`${out}.partial`, kept + kept.split('\n')[0]!.slice(0, 30));
    const r = rewardkit(['score', '-s', spec, '-i', input, '-o', out, '--batch-size', '64', '--resume', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const all = readJsonl(out);
    expect(all).toHaveLength(60_000);
    expect(new Set(ids(all)).size).toBe(60_000);

    const s = await run('-', 'SIGINT');
    expect(s.code, s.stderr).toBe(130);
    expect(s.stderr).toMatch(/interrupted by SIGINT: [\d,]+ scored rollouts written to stdout \(whole lines\)/);
    expect(s.stdout.endsWith('\n')).toBe(true);
    for (const l of s.stdout.trim().split('\n')) JSON.parse(l);
    expect(rewardkit(['score', '-s', spec, '-i', input, '--resume']).code).toBe(2);
  });
});
