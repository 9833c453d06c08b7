import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOpenAIServer, type FakeServer } from '../backends/testing/openai_server.js';
import { loadSpecFile } from '../spec/load.js';
import { buildProgram } from './main.js';
import { checkDraftText, DraftRejected, extractSpecText, runSpecDraft, type SpecDraftOptions } from './draft.js';

const GOOD = [
  'Here is the spec:',
  '```yaml',
  'name: math',
  'components:',
  '  - {name: correct, grader: numeric, weight: 1.0}',
  '  - {name: format, grader: format, tags: [think, answer], weight: 0.2}',
  'combine: {type: weighted_sum}',
  'advantage: {estimator: grpo}',
  '```',
].join('\n');
/** Pays any completion that contains the reference: answer spraying wins. */
const HACKABLE = '```yaml\nname: t\ncomponents:\n  - {name: has, grader: contains, weight: 1}\n```';
/** Runs model-written code: never allowed in a draft. */
const PYTHON = '```yaml\nname: t\ncomponents:\n  - {name: run, grader: python, weight: 1}\n```';

describe('rewardkit spec draft (Language to Rewards) against the fake OpenAI-compatible server', () => {
  let server: FakeServer;
  let dir: string;
  let samples: string;
  let replies: string[] = [];
  /** The chat requests the server received (messages of each). */
  let asked: { role: string; content: string }[][] = [];
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    dir = mkdtempSync(join(tmpdir(), 'rk-draft-'));
    samples = join(dir, 'samples.jsonl');
    writeFileSync(
      samples,
      [
        { id: 'a', prompt: 'Mara has 14 apples and picks 19 more. How many now?', reference: '33', completion: '<think>14 + 19 = 33</think><answer>33</answer>' },
        { id: 'b', prompt: 'Tom has 5 pens and buys 7. How many pens?', reference: '12', completion: '<think>5 + 7 = 12</think><answer>12</answer>' },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n',
    );
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.reset();
    replies = [];
    asked = [];
    server.handle('chat', (req) => {
      asked.push(req.body.messages as { role: string; content: string }[]);
      const content = replies[Math.min(asked.length - 1, replies.length - 1)];
      return { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] };
    });
  });

  async function draft(task: string, o: Partial<SpecDraftOptions>) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSpecDraft(task, { backend: server.baseURL, model: 'm', ...o }, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('accepts a spec that compiles, survives the probe and scores right answers above wrong ones; the prompt carries the task, the kinds and the samples', async () => {
    replies = [GOOD];
    const out = join(dir, 'drafted.yaml');
    const r = await draft('grade math word problems with the final answer in <answer> tags', { in: samples, out });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/accepted draft 1: components correct, format; probe: nothing beat a plain wrong answer \(\d+ attempts on 2 samples\); right vs wrong: a 1.2 > 0.2, b 1.2 > 0.2; written to /);
    // the written spec loads as a spec, with the header saying what was checked
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^# drafted by `rewardkit spec draft` for: grade math word problems/);
    expect(loadSpecFile(out).spec.components.map((c) => c.name)).toEqual(['correct', 'format']);
    expect(asked).toHaveLength(1);
    const [system, user] = asked[0];
    expect(system.role).toBe('system');
    expect(system.content).toContain('- numeric:');
    expect(system.content).not.toContain('- python:');
    expect(user.content).toContain('Task: grade math word problems');
    expect(user.content).toContain('Mara has 14 apples');
  });

  it('sends each rejection back to the model and accepts a corrected draft', async () => {
    replies = [HACKABLE, PYTHON, GOOD];
    const r = await draft('grade math word problems', { in: samples, json: true });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/draft 1 rejected \(probe\): the hack "spray-[a-z-]+" beats a plain wrong answer on component has: reward 1 vs 0/);
    expect(r.err).toMatch(/draft 2 rejected \(kinds\): components\[0\]\.grader: grader "python" is not allowed in a drafted spec/);
    const j = JSON.parse(r.out);
    expect(j.accepted).toBe(true);
    expect(j.attempts.map((a: { stage: string }) => a.stage)).toEqual(['probe', 'kinds', 'accepted']);
    expect(j.spec).toContain('name: math');
    // the third request holds the whole conversation, with both reasons
    expect(asked).toHaveLength(3);
    const third = asked[2];
    expect(third.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual([HACKABLE, PYTHON]);
    expect(third.at(-1)!.content).toMatch(/^Your spec was rejected at the kinds check: .*python/);
  });

  it('rejects a spec that cannot tell right from wrong, and exits 1 when no draft is accepted', async () => {
    // a format-only reward pays the right and the wrong answer alike
    replies = ['```yaml\nname: f\ncomponents:\n  - {name: format, grader: format, tags: [think, answer], weight: 1}\n```'];
    const r = await draft('math', { in: samples, attempts: 2, json: true });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/draft 1 rejected \(score\): sample "a": the right completion scores 1, no more than a plain wrong answer \(1\)/);
    expect(r.err).toMatch(/error: no draft accepted after 2 attempts/);
    const j = JSON.parse(r.out);
    expect(j).toEqual({ accepted: false, attempts: [expect.objectContaining({ attempt: 1, stage: 'score' }), expect.objectContaining({ attempt: 2, stage: 'score' })] });
  });

  it('names parse, schema and compile errors, a missing YAML block, and backends in a draft', async () => {
    replies = ['I cannot do that.'];
    expect((await draft('math', { in: samples, attempts: 1 })).err).toMatch(/draft 1 rejected \(extract\): the reply has no ```yaml block and is not a YAML mapping/);
    replies = ['```yaml\nname: t\ncomponents:\n  - {name: c, grader: regex, pattern: "(", weight: 1}\n```'];
    expect((await draft('math', { in: samples, attempts: 1 })).err).toMatch(/draft 1 rejected \((parse|compile)\): components\[0\]\.pattern/);
    replies = ['```yaml\nname: t\ncomponents: []\n```'];
    expect((await draft('math', { in: samples, attempts: 1 })).err).toMatch(/draft 1 rejected \(parse\): components: needs at least one component/);
    expect(() => checkDraftText('backends: {j: {type: openai}}\ncomponents: []')).toThrow(/backends: a drafted spec may not declare model backends/);
    expect(() => checkDraftText('components:\n  - {name: c, grader: first_judged, graders: [{grader: judge}]}')).toThrow(DraftRejected);
    expect(() => checkDraftText('a: [1\n')).toThrow(/YAML error at line/);
    expect(extractSpecText('```yml\nname: x\n```')).toBe('name: x\n');
    expect(extractSpecText('name: x\ncomponents: []')).toBe('name: x\ncomponents: []');
  });

  it('uses the built-in samples without --in (a right answer in the spec\'s layout)', async () => {
    replies = ['```yaml\nname: exact\ncomponents:\n  - {name: correct, grader: exact, weight: 1}\n```'];
    const r = await draft('short factual answers, the answer alone', {});
    expect(r.code).toBe(0);
    expect(r.out).toContain('name: exact');
    expect(r.err).toMatch(/right vs wrong: builtin-math 1 > 0, builtin-fact 1 > 0, builtin-choice 1 > 0/);
  });

  it('usage errors exit 2; a failing backend exits 1 naming it', async () => {
    expect((await draft('', {})).code).toBe(2);
    const noModel = await draft('math', { model: undefined });
    expect(noModel.code).toBe(2);
    expect(noModel.err).toMatch(/--model is required when --backend is a URL/);
    const badBackend = await draft('math', { backend: join(dir, 'nope.yaml') });
    expect(badBackend.err).toMatch(/--backend: ".*nope.yaml" is neither an http\(s\) URL nor an existing backend config file/);
    const badIn = await draft('math', { in: join(dir, 'missing.jsonl') });
    expect(badIn).toMatchObject({ code: 2 });
    expect(badIn.err).toMatch(/--in: no such file/);
    // a backend config file
    const cfg = join(dir, 'backend.yaml');
    writeFileSync(cfg, `type: openai\nbase_url: ${server.baseURL}\nmodel: m\n`);
    replies = [GOOD];
    expect((await draft('math', { backend: cfg, model: undefined, in: samples })).code).toBe(0);
    writeFileSync(cfg, `type: openai\nbase_url: not a url\nmodel: m\n`);
    expect((await draft('math', { backend: cfg, model: undefined, in: samples })).err).toMatch(/--backend: .*base_url/);
    // the server fails every request
    server.fail('chat', { kind: 'status', status: 400, message: 'no such model' }, 10);
    const down = await draft('math', { in: samples });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/error: backend http:\/\/127\.0\.0\.1:\d+\/v1 failed on draft 1: .*no such model/);
  });

  it('is registered as `rewardkit spec draft`', async () => {
    const program = await buildProgram('spec');
    const spec = program.commands.find((c) => c.name() === 'spec')!;
    const d = spec.commands.find((c) => c.name() === 'draft');
    expect(d).toBeDefined();
    expect(d!.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--backend', '--model', '--in', '--out', '--attempts', '--json']));
  });
});
