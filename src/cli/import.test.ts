import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpecText, parseSpec } from '../spec/load.js';
import { compileSpec } from '../spec/compile.js';
import { scoreBatch } from '../pipeline.js';
import { convertOpenAIGrader, ImportError, runSpecImport } from './import.js';

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
    expect(fails({ ...multi, graders: { ...multi.graders, sim: { type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.answer }}', evaluation_metric: 'fuzzy_match' } } })).toMatch(
      /^grader capital_check\.graders\.sim: evaluation_metric: cannot convert "fuzzy_match"/,
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
    expect(fails({ type: 'score_model', name: 'judge', input: [], model: 'o4-mini' })).toMatch(/^grader judge: type: cannot convert score_model/);
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
    writeFileSync(bad, JSON.stringify({ type: 'text_similarity', name: 'sim', input: '{{ sample.output_text }}', reference: '{{ item.a }}', evaluation_metric: 'bleu' }));
    expect(runSpecImport(bad, {}, () => {}, (s) => errs.push(s))).toBe(1);
    expect(errs.at(-1)).toMatch(/bad\.json: grader sim: evaluation_metric: cannot convert "bleu"/);
    writeFileSync(bad, '{not json');
    expect(runSpecImport(bad, {}, () => {}, (s) => errs.push(s))).toBe(2);
  });
});
