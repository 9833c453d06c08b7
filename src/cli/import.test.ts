import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpecText, parseSpec } from '../spec/load.js';
import { compileSpec } from '../spec/compile.js';
import { scoreBatch } from '../pipeline.js';
import { convertOpenAIGrader, ImportError, runSpecImport } from './import.js';
import { fakeEmbedding, startFakeOpenAIServer, type FakeRequest, type FakeServer } from '../backends/testing/openai_server.js';

/** OpenAI's documented string_check semantics, computed independently of rewardkit. */
const openai = {
  eq: (output: string, ref: string) => (output === ref ? 1 : 0),
  ne: (output: string, ref: string) => (output !== ref ? 1 : 0),
  like: (output: string, ref: string) => (output.includes(ref) ? 1 : 0),
  ilike: (output: string, ref: string) => (output.toLowerCase().includes(ref.toLowerCase()) ? 1 : 0),
};

const multi = {
  type: 'multi',
  name: 'capital_check',
  graders: {
    exact: { type: 'string_check', name: 'exact', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', operation: 'eq' },
    mention: { type: 'string_check', name: 'mention', input: '{{sample.output_text}}', reference: '{{ item.answer }}', operation: 'ilike' },
    verbose: { type: 'string_check', name: 'verbose', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', operation: 'ne' },
  },
  calculate_output: '0.6 * exact + 0.3 * mention + 0.1 * max(verbose, exact) ^ 2',
};

describe('spec import: OpenAI multi grader', () => {
  it('three sub-graders convert and score as OpenAI documents them', async () => {
    const spec = convertOpenAIGrader(multi);
    const compiled = compileSpec(parseSpec(spec, 'imported'));
    const answer = 'Paris';
    const outputs = ['Paris', 'paris', ' Paris', 'It is PARIS.', 'Lyon', '', 'Paris\n', 'Par is'];
    const rollouts = outputs.map((completion, i) => ({ id: `r${i}`, completion, reference: answer }));
    const { results } = await scoreBatch(compiled, rollouts);
    const expected = outputs.map((o) => {
      const exact = openai.eq(o, answer);
      const mention = openai.ilike(o, answer);
      const verbose = openai.ne(o, answer);
      return 0.6 * exact + 0.3 * mention + 0.1 * Math.max(verbose, exact) ** 2;
    });
    expect(results.map((r) => r.reward)).toEqual(expected.map((e) => expect.closeTo(e, 12)));
    // spot check by hand: "Paris" → 0.6 + 0.3 + 0.1 = 1; " Paris" → 0 + 0.3 + 0.1 = 0.4; "Lyon" → 0.1
    expect(results[0]!.reward).toBeCloseTo(1, 12);
    expect(results[2]!.reward).toBeCloseTo(0.4, 12);
    expect(results[4]!.reward).toBeCloseTo(0.1, 12);
    expect(spec.description).toContain('item.answer');
  });

  it('like is case-sensitive containment, a single grader converts to one component', async () => {
    const spec = convertOpenAIGrader({ type: 'string_check', name: 'has_it', input: '{{ sample.output_text }}', reference: '{{ item.reference }}', operation: 'like' });
    const c = compileSpec(parseSpec(spec, 'imported'));
    const outs = ['the Paris one', 'the paris one', 'Paris'];
    const { results } = await scoreBatch(c, outs.map((completion, i) => ({ id: `${i}`, completion, reference: 'Paris' })));
    expect(results.map((r) => r.reward)).toEqual(outs.map((o) => openai.like(o, 'Paris')));
  });

  it('a top-level ne reads as 1 - eq', async () => {
    const spec = convertOpenAIGrader({ type: 'string_check', name: 'differs', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', operation: 'ne' });
    const c = compileSpec(parseSpec(spec, 'imported'));
    const { results } = await scoreBatch(c, [
      { id: 'a', completion: 'x', reference: 'x' },
      { id: 'b', completion: 'y', reference: 'x' },
    ]);
    expect(results.map((r) => r.reward)).toEqual([0, 1]);
  });

  it('python becomes grader: python with the same source', () => {
    const source = 'def grade(sample, item):\n    return 1.0\n';
    const spec = convertOpenAIGrader({ type: 'python', name: 'py', source });
    expect(spec.components).toEqual([{ name: 'py', grader: 'python', source }]);
  });
});

/**
 * OpenAI's text_similarity rouge_* metrics are rouge-score's F-measures (`RougeScorer([...],
 * use_stemmer=False)`), written out here independently of rewardkit: rouge-score's tokeniser
 * (lower-case, non-[a-z0-9] runs are separators), clipped n-gram overlap, LCS for rouge_l.
 */
const rougeScore = {
  tokens: (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim().split(' ').filter((t) => t !== ''),
  f: (overlap: number, p: number, t: number) => {
    const P = overlap / Math.max(p, 1);
    const R = overlap / Math.max(t, 1);
    return P + R > 0 ? (2 * P * R) / (P + R) : 0;
  },
  n(output: string, ref: string, n: number): number {
    const grams = (x: string[]) => Array.from({ length: Math.max(x.length - n + 1, 0) }, (_, i) => x.slice(i, i + n).join(' '));
    const o = grams(this.tokens(output));
    const r = grams(this.tokens(ref));
    const left = [...r];
    let overlap = 0;
    for (const g of o) {
      const k = left.indexOf(g);
      if (k >= 0) [overlap, left[k]] = [overlap + 1, '\u0000'];
    }
    return this.f(overlap, o.length, r.length);
  },
  l(output: string, ref: string): number {
    const a = this.tokens(output);
    const b = this.tokens(ref);
    const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    return a.length && b.length ? this.f(t[a.length]![b.length]!, a.length, b.length) : 0;
  },
};

describe('spec import: OpenAI text_similarity rouge_*', () => {
  const outputs = ['The cat sat on the mat.', 'the cat lay on the mat', 'so the cat sat on the mat today', 'A dog ran in the park today', 'mat the on sat cat the', 'THE CAT', ''];
  const reference = 'the cat sat on the mat';
  for (const metric of ['rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'])
    it(`${metric} converts and scores as rouge-score computes it`, async () => {
      const spec = convertOpenAIGrader({ type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: metric, pass_threshold: 0.5 });
      const c = compileSpec(parseSpec(spec, 'imported'));
      const { results } = await scoreBatch(c, outputs.map((completion, i) => ({ id: `r${i}`, completion, reference })));
      const expected = outputs.map((o) => (metric === 'rouge_l' ? rougeScore.l(o, reference) : rougeScore.n(o, reference, Number(metric.slice(6)))));
      results.forEach((r, i) => expect(r.reward, `${metric} on ${JSON.stringify(outputs[i])}`).toBeCloseTo(expected[i]!, 12));
      // Not a test that cannot fail: the outputs give distinct values for every metric.
      expect(new Set(expected.map((x) => x.toFixed(6))).size).toBeGreaterThan(2);
    });

  it('inside a multi: rouge_2 and string_check combined by calculate_output', async () => {
    const spec = convertOpenAIGrader({
      type: 'multi',
      name: 'mix',
      graders: {
        overlap: { type: 'text_similarity', name: 'overlap', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'rouge_2' },
        exact: multi.graders.exact,
      },
      calculate_output: '0.5 * overlap + 0.5 * exact',
    });
    const c = compileSpec(parseSpec(spec, 'imported'));
    const { results } = await scoreBatch(c, outputs.map((completion, i) => ({ id: `r${i}`, completion, reference })));
    results.forEach((r, i) => expect(r.reward).toBeCloseTo(0.5 * rougeScore.n(outputs[i]!, reference, 2) + 0.5 * openai.eq(outputs[i]!, reference), 12));
  });
});

/**
 * OpenAI's fuzzy_match, bleu, gleu and meteor [INF]: OpenAI publishes no scorer, so the expected
 * numbers are those of the reference implementations Azure AI evaluation runs, obtained independently
 * of rewardkit: rapidfuzz's fuzz.ratio written out here (2·LCS / (|a| + |b|) over code points), and
 * NLTK's own values (documented in NLTK's docstrings where marked, else printed by NLTK 3.8 for these
 * exact token lists; METEOR with no synonym match involved).
 */
const fuzzRatio = (a: string, b: string): number => {
  const x = Array.from(a);
  const y = Array.from(b);
  if (x.length + y.length === 0) return 1;
  let prev = new Array<number>(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const row = [0];
    for (let j = 1; j <= y.length; j++) row[j] = x[i - 1] === y[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  return (2 * prev[y.length]!) / (x.length + y.length);
};
const GUIDE = {
  hyp1: 'It is a guide to action which ensures that the military always obeys the commands of the party',
  hyp2: 'It is to insure the troops forever hearing the activity guidebook that party direct',
  ref1: 'It is a guide to action that ensures that the military will forever heed Party commands',
};
/** NLTK on (ref1, hyp): bleu = sentence_bleu(method4), gleu = sentence_gleu, meteor = meteor_score (alpha 0.9, beta 3, gamma 0.5). */
const NLTK_VALUES: Record<string, { bleu: number; gleu: number; meteor: number }> = {
  [GUIDE.hyp1]: { bleu: 0.41180376356915777 /* documented 0.4118... */, gleu: 0.4393939393939394 /* 0.4393... */, meteor: 0.6944444444444445 /* 0.6944 */ },
  [GUIDE.hyp2]: { bleu: 0.04707619221181687, gleu: 0.1206896551724138 /* 0.1206... */, meteor: 0.3035391371738569 },
  [GUIDE.ref1]: { bleu: 1, gleu: 1, meteor: 1 - 0.5 * (1 / 16) ** 3 },
  '': { bleu: 0, gleu: 0, meteor: 0 },
};

describe('spec import: OpenAI text_similarity fuzzy_match, bleu, gleu, meteor [INF]', () => {
  const sim = (evaluation_metric: string, name = 'sim') => ({ type: 'text_similarity', name, input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric, pass_threshold: 0.5 });

  it('each converts onto the grader that computes the reference implementation, reading the texts whole, with the inference stated', () => {
    const component = (metric: string) => convertOpenAIGrader(sim(metric)).components as Array<Record<string, unknown>>;
    expect(component('fuzzy_match')).toEqual([expect.objectContaining({ name: 'sim', grader: 'edit_distance', metric: 'indel', normalize: { trim: false } })]);
    expect(component('bleu')).toEqual([expect.objectContaining({ name: 'sim', grader: 'nltk_bleu', normalize: { trim: false } })]);
    expect(component('gleu')).toEqual([expect.objectContaining({ name: 'sim', grader: 'gleu', normalize: { trim: false } })]);
    expect(component('meteor')).toEqual([expect.objectContaining({ name: 'sim', grader: 'meteor', normalize: { trim: false } })]);
    expect(component('meteor')[0]!.description).toMatch(/inferred \[INF\].*without the WordNet synonym stage/);
  });

  it('fuzzy_match scores rapidfuzz fuzz.ratio / 100', async () => {
    const c = compileSpec(parseSpec(convertOpenAIGrader(sim('fuzzy_match')), 'imported'));
    const pairs: Array<[string, string]> = [['this is a test', 'this is a test!'], ['kitten', 'sitting'], [' Paris', 'Paris'], ['PARIS', 'Paris'], ['我喜欢猫', '我很喜欢猫'], ['', 'x']];
    const { results } = await scoreBatch(c, pairs.map(([completion, reference], i) => ({ id: `${i}`, completion, reference })));
    results.forEach((r, i) => expect(r.reward, JSON.stringify(pairs[i])).toBeCloseTo(fuzzRatio(...pairs[i]!), 12));
    expect(results[0]!.reward).toBeCloseTo(0.9655172413793103, 12); // rapidfuzz README: 96.55172413793103
  });

  for (const metric of ['bleu', 'gleu', 'meteor'] as const)
    it(`${metric} scores as NLTK computes it`, async () => {
      const c = compileSpec(parseSpec(convertOpenAIGrader(sim(metric)), 'imported'));
      const outputs = Object.keys(NLTK_VALUES);
      const { results } = await scoreBatch(c, outputs.map((completion, i) => ({ id: `${i}`, completion, reference: GUIDE.ref1 })));
      results.forEach((r, i) => expect(r.reward, `${metric} on ${JSON.stringify(outputs[i])}`).toBeCloseTo(NLTK_VALUES[outputs[i]!]![metric], 12));
    });

  it('an OpenAI multi grader over all four (and a string_check) converts and scores as the hand-computed formula', async () => {
    const spec = convertOpenAIGrader({
      type: 'multi',
      name: 'similarity',
      graders: { fuzzy: sim('fuzzy_match', 'fuzzy'), bleu: sim('bleu', 'bleu'), gleu: sim('gleu', 'gleu'), meteor: sim('meteor', 'meteor'), exact: multi.graders.exact },
      calculate_output: '0.1 * fuzzy + 0.3 * bleu + 0.2 * gleu + 0.3 * max(meteor, exact) + 0.1 * exact',
    });
    expect((spec.components as Array<{ grader: string }>).map((x) => x.grader)).toEqual(['edit_distance', 'nltk_bleu', 'gleu', 'meteor', 'exact']);
    const c = compileSpec(parseSpec(spec, 'imported'));
    const outputs = Object.keys(NLTK_VALUES);
    const { results } = await scoreBatch(c, outputs.map((completion, i) => ({ id: `${i}`, completion, reference: GUIDE.ref1 })));
    results.forEach((r, i) => {
      const o = outputs[i]!;
      const v = NLTK_VALUES[o]!;
      const exact = openai.eq(o, GUIDE.ref1);
      expect(r.reward, JSON.stringify(o)).toBeCloseTo(0.1 * fuzzRatio(o, GUIDE.ref1) + 0.3 * v.bleu + 0.2 * v.gleu + 0.3 * Math.max(v.meteor, exact) + 0.1 * exact, 12);
    });
    // The reference itself scores 1 everywhere (meteor then takes exact's 1): the top reward.
    expect(results[2]!.reward).toBeCloseTo(1, 12);
    expect(results[3]!.reward).toBe(0);
  });
});

describe('spec import: what cannot be converted is an error naming grader and field', () => {
  const fails = (def: unknown) => {
    try {
      convertOpenAIGrader(def);
    } catch (e) {
      expect(e).toBeInstanceOf(ImportError);
      return (e as ImportError).message;
    }
    throw new Error('expected an ImportError');
  };
  it('text_similarity with an unknown metric, or a template other than the output text as input', () => {
    expect(fails({ type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'rouge_9' })).toMatch(
      /^grader sim: evaluation_metric: expected one of .*got "rouge_9"/,
    );
    expect(fails({ type: 'text_similarity', name: 'sim', input: '{{ item.question }}', reference: '{{ item.answer }}', evaluation_metric: 'rouge_l' })).toMatch(/^grader sim: input: cannot convert/);
  });
  it('text_similarity', () => {
    expect(fails({ ...multi, graders: { ...multi.graders, sim: { type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'fuzzy' } } })).toMatch(
      /^grader capital_check\.graders\.sim: evaluation_metric: expected one of fuzzy_match, bleu, gleu, meteor, .*got "fuzzy"/,
    );
  });
  it('an input other than the output text, a literal reference, two item fields', () => {
    expect(fails({ type: 'string_check', name: 'g', input: '{{ item.question }}', reference: '{{ item.answer }}', operation: 'eq' })).toMatch(/^grader g: input: cannot convert/);
    expect(fails({ type: 'string_check', name: 'g', input: '{{ sample.output_text }}', reference: 'yes', operation: 'eq' })).toMatch(/^grader g: reference: cannot convert "yes"/);
    expect(
      fails({ ...multi, graders: { a: multi.graders.exact, b: { ...multi.graders.mention, reference: '{{ item.label }}' } }, calculate_output: 'a + b' }),
    ).toMatch(/^grader capital_check\.graders\.b: reference: cannot convert: uses item\.label while another grader uses item\.answer/);
  });
  it('bad operation, unknown name in calculate_output, models and nested multis', () => {
    expect(fails({ ...multi.graders.exact, operation: 'regex' })).toMatch(/^grader exact: operation: expected eq, ne, like or ilike/);
    expect(fails({ ...multi, calculate_output: 'exact + bogus' })).toMatch(/^grader capital_check: calculate_output: names "bogus"/);
    expect(fails({ type: 'score_model', name: 'judge', input: [], model: 'o4-mini' })).toMatch(/^grader judge: input: expected a non-empty list of messages/);
    expect(fails({ ...multi, graders: { inner: { ...multi } }, calculate_output: 'inner' })).toMatch(/^grader capital_check\.graders\.inner: type: cannot convert a multi/);
  });
});

describe('rewardkit spec import (command)', () => {
  it('writes a spec that loads; a bad definition exits 1 naming grader and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-import-'));
    const good = join(dir, 'grader.json');
    writeFileSync(good, JSON.stringify({ grader: multi }));
    const out = join(dir, 'spec.yaml');
    const errs: string[] = [];
    expect(runSpecImport(good, { out }, () => {}, (s) => errs.push(s))).toBe(0);
    const spec = parseSpecText(readFileSync(out, 'utf8'), out);
    expect(spec.components.map((c) => [c.name, c.grader])).toEqual([['exact', 'exact'], ['mention', 'contains'], ['verbose_eq', 'exact']]);
    expect((spec.combine as { expression: string }).expression).toBe('0.6 * exact + 0.3 * mention + 0.1 * max((1 - verbose_eq), exact) ^ 2');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.a }}', evaluation_metric: 'bleurt' }));
    expect(runSpecImport(bad, {}, () => {}, (s) => errs.push(s))).toBe(1);
    expect(errs.at(-1)).toMatch(/bad\.json: grader sim: evaluation_metric: expected one of .*got "bleurt"/);
    writeFileSync(bad, '{not json');
    expect(runSpecImport(bad, {}, () => {}, (s) => errs.push(s))).toBe(2);
  });
});

/** The fenced values of every user message of a recorded chat request (tag from the system message). */
function fenced(req: FakeRequest): Map<string, string> {
  const messages = req.body.messages as { role: string; content: string }[];
  const tag = /<<<BEGIN ([0-9a-f]{32}) name>>>/.exec(messages[0]!.content)![1]!;
  const out = new Map<string, string>();
  for (const m of messages.filter((x) => x.role === 'user'))
    for (const b of m.content.matchAll(new RegExp(`<<<BEGIN ${tag} ([^>]+)>>>\\n([\\s\\S]*?)\\n<<<END ${tag} \\1>>>`, 'g'))) out.set(b[1]!, b[2]!);
  return out;
}

const chatReply = (content: string) => ({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });

describe('spec import: OpenAI score_model, label_model and cosine, scored through a fake OpenAI server', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(async () => server.close());

  /** The converted spec with its openai backends pointed at the fake server (no cache, no retries). */
  const local = (spec: Record<string, unknown>) => {
    const backends = Object.fromEntries(Object.entries(spec.backends as Record<string, Record<string, unknown>>).map(([n, b]) => [n, { ...b, base_url: server.baseURL, cache: false, retries: 0 }]));
    return compileSpec(parseSpec({ ...spec, backends }, 'imported'), { specDir: process.cwd() });
  };

  /** OpenAI's score_model semantics: the model's number truncated to the range. */
  const openaiScore = (x: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, x));

  const scoreModel = {
    type: 'score_model',
    name: 'closeness',
    model: 'o4-mini',
    input: [
      { role: 'developer', content: 'Score how close the model answer is to the reference, 0 to 10.' },
      { role: 'user', content: [{ type: 'input_text', text: 'Question: {{ item.question }}\nReference: {{item.answer}}' }] },
      { role: 'user', content: 'Model answer: {{ sample.output_text }}' },
    ],
    range: [0, 10],
    pass_threshold: 7,
    sampling_params: { temperature: 0.5, seed: 7, max_completion_tokens: 2048, top_p: 1 },
  };

  it('score_model converts onto judge mode score with an openai backend; input messages and templates map onto the chat', () => {
    const spec = convertOpenAIGrader(scoreModel);
    expect(spec.backends).toEqual({ openai: { type: 'openai', base_url: 'https://api.openai.com/v1', model: 'o4-mini', api_key_env: 'OPENAI_API_KEY' } });
    expect(spec.components).toEqual([
      {
        name: 'closeness',
        grader: 'judge',
        backend: 'openai',
        mode: 'score',
        range: [0, 10],
        system: 'Score how close the model answer is to the reference, 0 to 10.',
        messages: [
          { role: 'user', content: 'Question: {{meta.question}}\nReference: {{meta.answer}}' },
          { role: 'user', content: 'Model answer: {{completion}}' },
        ],
        temperature: 0.5,
        sampling_seed: 7,
        max_tokens: 2048,
      },
    ]);
    expect(spec.description).toMatch(/item\.question, item\.answer are read from each rollout's `meta`/);
  });

  it('a multi with a score_model, a string_check and a rouge_1 sub-grader scores as OpenAI computes it', async () => {
    server.reset();
    server.resetCounts();
    // The grader model reads the number the answer starts with (some out of range, one not a number).
    server.handle('chat', (req) => {
      const answer = fenced(req).get('completion')!;
      const n = Number(answer.split(' ')[0]);
      return chatReply(Number.isFinite(n) ? JSON.stringify({ steps: [{ description: 'compare', conclusion: 'done' }], result: n }) : '{"steps": [], "result": "n/a"}');
    });
    const def = {
      type: 'multi',
      name: 'mixed',
      graders: {
        judged: scoreModel,
        exact: { type: 'string_check', name: 'exact', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', operation: 'eq' },
        overlap: { type: 'text_similarity', name: 'overlap', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'rouge_1' },
      },
      calculate_output: '0.5 * judged / 10 + 0.3 * exact + 0.2 * overlap',
    };
    const spec = convertOpenAIGrader(def);
    // item.answer is the strings' reference, so the judge reads it as {{reference}}; item.question stays in meta.
    expect((spec.components as { messages?: unknown }[])[0]!.messages).toEqual([
      { role: 'user', content: 'Question: {{meta.question}}\nReference: {{reference}}' },
      { role: 'user', content: 'Model answer: {{completion}}' },
    ]);
    const c = local(spec);
    try {
      const answer = '7 apples';
      const outs = ['7 apples', '12 pears and apples', '-2 apples', '3', 'apples'];
      const rollouts = outs.map((completion, i) => ({ id: `r${i}`, completion, reference: answer, meta: { question: 'How many?' } }));
      const { results } = await scoreBatch(c, rollouts, { details: true });
      const expected = outs.map((o) => {
        const n = Number(o.split(' ')[0]);
        if (!Number.isFinite(n)) return null; // an unusable grader answer: an error, not OpenAI's 0
        return (0.5 * openaiScore(n, [0, 10])) / 10 + 0.3 * openai.eq(o, answer) + 0.2 * rougeScore.n(o, answer, 1);
      });
      results.forEach((r, i) => (expected[i] === null ? expect(r.reward).toBeNull() : expect(r.reward, outs[i]).toBeCloseTo(expected[i]!, 12)));
      // by hand: "7 apples" → 0.35 + 0.3 + 0.2 = 0.85; "12 pears and apples" → 0.5 (12 clamped to 10) + 0 + 0.2·F(P ¼, R ½) = 0.5 + 0.2·⅓
      expect(results[0]!.reward).toBeCloseTo(0.85, 12);
      expect(results[1]!.reward).toBeCloseTo(0.5 + 0.2 / 3, 12);
      expect(results[4]!.errors).toEqual([{ component: 'judged', message: expect.stringMatching(/^judge gave no usable answer/) }]);
      const req = server.requests.find((r) => fenced(r).get('completion') === '7 apples')!;
      expect(fenced(req)).toEqual(new Map([['meta.question', 'How many?'], ['reference', '7 apples'], ['completion', '7 apples']]));
      expect(req.body).toMatchObject({ model: 'o4-mini', temperature: 0.5, seed: 7, max_tokens: 2048 });
    } finally {
      await c.close();
    }
  });

  it('label_model converts onto judge mode label: 1 for a passing label, else 0', async () => {
    server.reset();
    server.handle('chat', (req) => {
      const t = fenced(req).get('completion')!;
      return chatReply(JSON.stringify({ steps: [], result: t.includes('great') ? 'positive' : t.includes('awful') ? 'negative' : 'neutral' }));
    });
    const spec = convertOpenAIGrader({
      type: 'label_model',
      name: 'sentiment',
      model: 'gpt-4o-2024-08-06',
      input: [
        { role: 'developer', content: "Classify the sentiment of the following statement as one of 'positive', 'neutral', or 'negative'" },
        { role: 'user', content: 'Statement: {{sample.output_text}}' },
      ],
      labels: ['positive', 'neutral', 'negative'],
      passing_labels: ['positive'],
    });
    expect(spec.components).toMatchObject([{ grader: 'judge', mode: 'label', labels: ['positive', 'neutral', 'negative'], passing_labels: ['positive'] }]);
    const c = local(spec);
    try {
      const outs = ['a great day', 'an awful day', 'a day'];
      const { results } = await scoreBatch(c, outs.map((completion, i) => ({ id: `r${i}`, completion })));
      // OpenAI: 1 when the model's label is in passing_labels, else 0.
      expect(results.map((r) => r.reward)).toEqual([1, 0, 0]);
    } finally {
      await c.close();
    }
  });

  it('text_similarity cosine converts onto embedding_similarity over text-embedding-3-large embeddings', async () => {
    const spec = convertOpenAIGrader({ type: 'text_similarity', name: 'sem', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'cosine', pass_threshold: 0.8 });
    expect(spec.backends).toEqual({ openai_embeddings: { type: 'openai', base_url: 'https://api.openai.com/v1', model: 'text-embedding-3-large', api_key_env: 'OPENAI_API_KEY' } });
    const c = local(spec);
    try {
      const outs = ['Paris is the capital.', 'Lyon', 'The capital of France is Paris.'];
      const reference = 'Paris';
      const { results } = await scoreBatch(c, outs.map((completion, i) => ({ id: `r${i}`, completion, reference })));
      // OpenAI: cosine of the two embeddings (the fake server's embeddings stand in for the model's).
      const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
      results.forEach((r, i) => expect(r.reward).toBeCloseTo(cos(fakeEmbedding(outs[i]!), fakeEmbedding(reference)), 12));
    } finally {
      await c.close();
    }
  });
});

describe('spec import: model graders and metrics that cannot be converted name grader and field', () => {
  const fails = (def: unknown) => {
    try {
      convertOpenAIGrader(def);
    } catch (e) {
      expect(e).toBeInstanceOf(ImportError);
      return (e as ImportError).message;
    }
    throw new Error('expected an ImportError');
  };
  const base = { type: 'score_model', name: 'j', model: 'o4-mini', input: [{ role: 'user', content: 'Rate {{ sample.output_text }}' }] };
  const user = (content: unknown) => ({ ...base, input: [{ role: 'user', content }] });
  it('inputs: images, unknown roles, templates in system messages, unknown variables, no output text', () => {
    expect(fails(user([{ type: 'input_text', text: '{{ sample.output_text }}' }, { type: 'input_image', image_url: 'https://x/y.png' }]))).toMatch(
      /^grader j: input\[0\]\.content: cannot convert a "input_image" content item/,
    );
    expect(fails({ ...base, input: [{ role: 'tool', content: 'x' }, ...base.input] })).toMatch(/^grader j: input\[0\]\.role: expected system, developer, user or assistant, got "tool"/);
    expect(fails({ ...base, input: [{ role: 'system', content: 'Reference: {{ item.answer }}' }, ...base.input] })).toMatch(/^grader j: input\[0\]\.content: cannot convert template variables in a system message/);
    expect(fails(user('Rate {{ sample.output_json.answer }}'))).toMatch(/^grader j: input\[0\]\.content: cannot convert the template variable \{\{ sample\.output_json\.answer \}\}/);
    expect(fails(user('Rate {{ item.answer }}'))).toMatch(/^grader j: input: cannot convert: no message uses \{\{ sample\.output_text \}\}/);
    expect(fails({ ...base, input: [{ role: 'assistant', content: '{{ sample.output_text }}' }] })).toMatch(/^grader j: input: cannot convert: no user message/);
    expect(fails({ ...base, model: undefined })).toMatch(/^grader j: model: expected a string/);
  });
  it('range, sampling params we cannot honour, labels', () => {
    expect(fails({ ...base, range: [1, 0] })).toMatch(/^grader j: range: expected \[min, max\] with min < max/);
    expect(fails({ ...base, sampling_params: { top_p: 0.9 } })).toMatch(/^grader j: sampling_params\.top_p: cannot convert top_p 0\.9/);
    expect(fails({ ...base, sampling_params: { reasoning_effort: 'high' } })).toMatch(/^grader j: sampling_params\.reasoning_effort: cannot convert/);
    expect(fails({ ...base, sampling_params: { logprobs: true } })).toMatch(/^grader j: sampling_params\.logprobs: unknown sampling parameter/);
    const label = { ...base, type: 'label_model', labels: ['a', 'b'], passing_labels: ['a'] };
    expect(fails({ ...label, passing_labels: ['c'] })).toMatch(/^grader j: passing_labels: must be a subset of labels; "c" is not a label/);
    expect(fails({ ...label, labels: [] })).toMatch(/^grader j: labels: expected a non-empty list/);
    expect(fails({ ...multi, graders: { ...multi.graders, m: { ...label, input: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] } }, calculate_output: 'm' })).toMatch(
      /^grader capital_check\.graders\.m: input\[0\]\.content: cannot convert a "input_audio"/,
    );
  });
});
