import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeServer } from '../backends/testing/openai_server.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { gradeAll } from './harness.js';

describe('hindsight_bonus (HeRL: r + α·(best rewrite − r))', () => {
  let server: FakeServer;
  const value: Record<string, number> = { draft: 0.6, 'rewrite A': 1.0, 'rewrite B': 0.8, 'rewrite same': 0.6, 'rewrite worse': 0.2 };
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    server.handle('pooling', (req) => {
      const texts = req.body.input as string[];
      return { object: 'list', data: texts.map((t, index) => ({ index, object: 'pooling', data: [value[t] ?? 0] })) };
    });
  });
  afterAll(async () => server.close());

  const compile = (extra: Record<string, unknown> = {}) =>
    compileSpec(
      parseSpec({
        backends: { rm: { type: 'openai', base_url: server.baseURL, model: 'rm', reward_format: 'pooling', cache: false } },
        components: [{ name: 'h', grader: 'hindsight_bonus', grader_spec: { grader: 'reward_model', backend: 'rm' }, ...extra }],
      }),
      { specDir: process.cwd() },
    );

  it('mechanics-A §17 example: r = 0.6, rewrite 1.0 → 0.62 (α = 0.05); the best of several rewrites counts', async () => {
    const c = compile();
    try {
      const out = await gradeAll(c.graders[0]!, [
        { completion: 'draft', meta: { rewrites: ['rewrite A'] } },
        { completion: 'draft', meta: { rewrites: ['rewrite B', 'rewrite A'] } },
        { completion: 'draft', meta: { rewrites: 'rewrite B' } },
        { completion: 'draft', meta: { rewrites: ['rewrite same'] } },
        { completion: 'draft', meta: { rewrites: ['rewrite worse'] } },
        { completion: 'draft' },
      ]);
      const s = out.map((o) => o.score!);
      expect(s[0]).toBeCloseTo(0.62, 12);
      expect(s[1]).toBeCloseTo(0.62, 12);
      expect(s[2]).toBeCloseTo(0.61, 12);
      expect(s[3]).toBe(0.6); // equal rewrite: no bonus
      expect(s[4]).toBeCloseTo(0.58, 12); // HeRL applies the term both ways: between r and the rewrite
      expect(s[5]).toBe(0.6);
      expect(out[0]!.details).toMatchObject({ base: 0.6, rewrite_best: 1, rewrite_scores: [1] });
      expect(out[0]!.details!.bonus).toBeCloseTo(0.02, 12);
    } finally {
      await c.close();
    }
  });

  it('alpha is a param; a rule grader works the same; null stays null; bad meta.rewrites is an error', async () => {
    const c = compile({ alpha: 0.5 });
    try {
      const [o] = await gradeAll(c.graders[0]!, [{ completion: 'draft', meta: { rewrites: ['rewrite A'] } }]);
      expect(o!.score).toBeCloseTo(0.8, 12);
      await expect(gradeAll(c.graders[0]!, [{ completion: 'draft', meta: { rewrites: [1] } }])).rejects.toThrow(/meta\.rewrites/);
    } finally {
      await c.close();
    }
    const rule = compileSpec(parseSpec({ components: [{ name: 'h', grader: 'hindsight_bonus', grader_spec: { grader: 'numeric' } }] }), { specDir: process.cwd() });
    const out = await gradeAll(rule.graders[0]!, [
      { completion: 'The answer is 5', reference: '4', meta: { rewrites: ['The answer is 4'] } },
      { completion: 'The answer is 5', meta: { rewrites: ['The answer is 4'] } },
    ]);
    expect(out[0]!.score).toBeCloseTo(0.05, 12);
    expect(out[1]!.score).toBeNull();
    expect(() => compileSpec(parseSpec({ components: [{ name: 'h', grader: 'hindsight_bonus', grader_spec: { grader: 'numeric' }, alpha: 2 }] }))).toThrow(/alpha/);
    expect(() => compileSpec(parseSpec({ components: [{ name: 'h', grader: 'hindsight_bonus', grader_spec: { grader: 'nope' } }] }))).toThrow(/grader_spec\.grader/);
  });
});
