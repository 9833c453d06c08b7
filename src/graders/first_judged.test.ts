import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeServer } from '../backends/testing/openai_server.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { gradeAll } from './harness.js';
import { graderKind } from './registry.js';

describe('first_judged (HARMO hybrid rule-or-model reward)', () => {
  let server: FakeServer;
  /** Every text the reward model was asked to score. */
  let scored: string[] = [];
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    server.handle('pooling', (req) => {
      const texts = req.body.input as string[];
      scored.push(...texts);
      return { object: 'list', data: texts.map((t, index) => ({ index, object: 'pooling', data: [t.includes('poem') ? 0.8 : -1.5] })) };
    });
  });
  afterAll(async () => server.close());

  const spec = () =>
    parseSpec({
      backends: { rm: { type: 'openai', base_url: server.baseURL, model: 'rm', reward_format: 'pooling', cache: false } },
      components: [
        {
          name: 'correct',
          grader: 'first_judged',
          graders: [{ grader: 'numeric' }, { grader: 'reward_model', backend: 'rm', sigmoid: true }],
        },
      ],
    });

  it('the rule judges rows with a reference (1 or 0), the model only the rows where the rule abstains: R = σ(logit)', async () => {
    scored = [];
    server.resetCounts();
    const compiled = compileSpec(spec(), { specDir: process.cwd() });
    try {
      const out = await gradeAll(compiled.graders[0]!, [
        { prompt: 'What is 2+2?', completion: 'The answer is 4.', reference: '4' },
        { prompt: 'What is 2+2?', completion: 'The answer is 5.', reference: '4' },
        { prompt: 'What is 2+2?', completion: 'I refuse to say. Write me a poem instead.', reference: '4' },
        { prompt: 'Write a poem.', completion: 'A short poem about the sea.' },
        { prompt: 'Write a story.', completion: 'Once upon a time.' },
      ]);
      expect(out.map((o) => o.score)).toEqual([1, 0, 0, expect.closeTo(0.689974, 6), expect.closeTo(0.182426, 6)]);
      // σ(0.8) = 0.689974, σ(−1.5) = 0.182426
      expect(out[3]!.score).toBeCloseTo(1 / (1 + Math.exp(-0.8)), 12);
      expect(out.map((o) => o.details?.judged_by)).toEqual([0, 0, 0, 1, 1]);
      expect(out[3]!.details).toMatchObject({ grader: 'reward_model', raw: 0.8 });
      // the model saw exactly the two rows without a reference: the rule-judged rows (including the
      // answer-less one that mentions a poem) never reached it
      expect(scored).toEqual(['Write a poem.A short poem about the sea.', 'Write a story.Once upon a time.']);
      expect(server.counts.pooling).toBeLessThanOrEqual(2);
      expect(server.counts.pooling).toBeGreaterThanOrEqual(1);
    } finally {
      await compiled.close();
    }
  });

  it('all rule-judged: zero model requests', async () => {
    scored = [];
    server.resetCounts();
    const compiled = compileSpec(spec(), { specDir: process.cwd() });
    try {
      const out = await gradeAll(compiled.graders[0]!, [
        { completion: '4', reference: '4' },
        { completion: 'no number here', reference: '4' },
      ]);
      expect(out.map((o) => o.score)).toEqual([1, 0]);
      expect(server.counts.pooling).toBe(0);
      expect(scored).toEqual([]);
    } finally {
      await compiled.close();
    }
  });

  it('every grader abstains → null with the reasons', async () => {
    const g = graderKind('first_judged')!;
    const compiled = compileSpec(
      parseSpec({
        components: [{ name: 'c', grader: 'first_judged', graders: [{ grader: 'numeric' }, { grader: 'exact' }] }],
      }),
      { specDir: process.cwd() },
    );
    expect(g.kind).toBe('first_judged');
    const [o] = await gradeAll(compiled.graders[0]!, [{ completion: '4' }]);
    expect(o!.score).toBeNull();
    expect((o!.details!.reasons as unknown[]).length).toBe(2);
    // a non-numeric reference: numeric abstains, exact judges
    const [e] = await gradeAll(compiled.graders[0]!, [{ completion: 'x', reference: 'x' }]);
    expect(e).toMatchObject({ score: 1, details: { judged_by: 1, grader: 'exact' } });
  });

  it('bad entries are spec errors naming the path', () => {
    const bad = (graders: unknown[]) => () => compileSpec(parseSpec({ components: [{ name: 'c', grader: 'first_judged', graders }] }), { specDir: process.cwd() });
    expect(bad([{ grader: 'numeric' }, { grader: 'nope' }])).toThrow(/graders\[1\]\.grader/);
    expect(bad([{ grader: 'numeric' }, { grader: 'exact', bogus: 1 }])).toThrow(/graders\[1\]/);
    expect(bad([{ grader: 'numeric' }, { grader: 'reward_model', backend: 'rm' }])).toThrow(/graders\[1\]\.backend|backends/);
    expect(bad([{ grader: 'numeric' }, { grader: 'vendi', backend: 'x' }])).toThrow(/graders\[1\]/);
    expect(bad([{ grader: 'numeric' }])).toThrow(/graders/);
  });
});
