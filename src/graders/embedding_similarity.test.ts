import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend } from '../backends/types.js';
import type { Grader, GraderKind } from './types.js';
import { gradeAll } from './harness.js';
import { embeddingSimilarityGrader } from './embedding_similarity.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[]): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir: '.', name: 't', backends: resolverOf(backends) });
}

/** An encoder that maps known texts to known vectors and records each call's texts. */
function encoder(table: Record<string, number[]>) {
  const calls: string[][] = [];
  const backend = functionBackend('enc', {
    embed: async (texts) => {
      calls.push(texts);
      return {
        vectors: texts.map((t) => {
          if (t === 'FAIL') throw new Error('encoder exploded');
          const v = table[t];
          if (!v) throw new Error(`no vector for "${t}"`);
          return v;
        }),
      };
    },
  });
  return { backend, calls };
}

const table: Record<string, number[]> = {
  cat: [1, 0],
  kitten: [1, 1],
  dog: [0, 1],
  anti: [-1, 0],
  '42': [0.6, 0.8],
  wide: [1, 0, 0],
};

describe('embedding_similarity', () => {
  it('cosine of completion and reference embeddings; unit maps to (cos+1)/2', async () => {
    const { backend } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc' }, [backend]);
    const out = await gradeAll(g, [
      { completion: 'cat', reference: 'kitten' },
      { completion: 'cat', reference: 'dog' },
      { completion: 'cat', reference: 'anti' },
    ]);
    expect(out[0]!.score).toBeCloseTo(Math.SQRT1_2, 15);
    expect(out[1]!.score).toBe(0);
    expect(out[2]!.score).toBe(-1);
    const unit = build(embeddingSimilarityGrader, { backend: 'enc', output: 'unit' }, [backend]);
    const u = await gradeAll(unit, [
      { completion: 'cat', reference: 'kitten' },
      { completion: 'cat', reference: 'anti' },
    ]);
    expect(u[0]!.score).toBeCloseTo((1 + Math.SQRT1_2) / 2, 15);
    expect(u[1]!.score).toBe(0);
  });

  it('several references: the best cosine, and which one it was', async () => {
    const { backend } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc' }, [backend]);
    const [r] = await gradeAll(g, [{ completion: 'cat', reference: ['dog', 'kitten', 'anti'] }]);
    expect(r!.score).toBeCloseTo(Math.SQRT1_2, 15);
    expect(r!.details).toMatchObject({ reference_index: 1 });
  });

  it('answer_pattern embeds only the last match (group 1), trimmed', async () => {
    const { backend, calls } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc', answer_pattern: '<answer>([\\s\\S]*?)</answer>' }, [backend]);
    const [r] = await gradeAll(g, [{ completion: '<answer>dog</answer> then <answer> 42 </answer>', reference: '42' }]);
    expect(r!.score).toBeCloseTo(1, 15);
    expect(calls).toEqual([['42']]);
  });

  it('rollouts graded in the same tick share one embed call; a shared reference is sent once', async () => {
    const { backend, calls } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc' }, [backend]);
    if (g.scope !== 'rollout') throw new Error('expected a rollout grader');
    const samples = ['cat', 'dog', 'kitten'].map((completion, i) => ({
      rollout: { id: `r${i}`, completion },
      id: `r${i}`,
      group: 'g',
      completion,
      prompt: '',
      reference: 'cat',
      meta: {},
    }));
    const outs = await Promise.all(samples.map((s) => g.grade(s)));
    expect(outs.map((o) => (o as { score: number }).score)).toEqual([1, 0, expect.closeTo(Math.SQRT1_2, 15)]);
    expect(calls).toEqual([['cat', 'dog', 'kitten']]);
  });

  it('batch_size bounds the texts per call', async () => {
    const { backend, calls } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc', batch_size: 2 }, [backend]);
    if (g.scope !== 'rollout') throw new Error('expected a rollout grader');
    const mk = (completion: string, reference: string) => ({ rollout: { id: 'x', completion }, id: 'x', group: 'g', completion, prompt: '', reference, meta: {} });
    await Promise.all([g.grade(mk('cat', 'dog')), g.grade(mk('kitten', '42'))]);
    expect(calls).toEqual([
      ['cat', 'dog'],
      ['kitten', '42'],
    ]);
  });

  it('null only without a usable reference; no answer is the minimum (null rule)', async () => {
    const { backend, calls } = encoder(table);
    const g = build(embeddingSimilarityGrader, { backend: 'enc' }, [backend]);
    const out = await gradeAll(g, [
      { completion: 'cat' },
      { completion: 'cat', reference: '  ' },
      { completion: '   ', reference: 'cat' },
      { completion: 'cat', reference: { not: 'text' } },
    ]);
    expect(out.map((o) => o.score)).toEqual([null, null, -1, null]);
    expect(out.map((o) => o.details?.reason)).toEqual([
      'no text reference to compare with',
      'the reference is empty',
      'the completion is empty',
      'no text reference to compare with',
    ]);
    const p = build(embeddingSimilarityGrader, { backend: 'enc', answer_pattern: '<answer>(.*)</answer>' }, [backend]);
    const [miss, empty] = await gradeAll(p, [
      { completion: 'cat', reference: 'cat' },
      { completion: '<answer> </answer>', reference: 'cat' },
    ]);
    expect([miss!.score, miss!.details?.reason]).toEqual([-1, 'answer_pattern does not match the completion']);
    expect([empty!.score, empty!.details?.reason]).toEqual([-1, 'the extracted answer is empty']);
    const u = build(embeddingSimilarityGrader, { backend: 'enc', output: 'unit' }, [backend]);
    expect((await gradeAll(u, [{ completion: '', reference: 'cat' }]))[0]!.score).toBe(0);
    expect(calls).toEqual([]);
  });

  it('errors, never numbers: backend failure, vectors of different lengths, zero vectors', async () => {
    const { backend } = encoder({ ...table, zero: [0, 0] });
    const g = build(embeddingSimilarityGrader, { backend: 'enc' }, [backend]);
    if (g.scope !== 'rollout') throw new Error('expected a rollout grader');
    const mk = (completion: string, reference: string) => ({ rollout: { id: 'x', completion }, id: 'x', group: 'g', completion, prompt: '', reference, meta: {} });
    await expect(g.grade(mk('FAIL', 'cat'))).rejects.toThrow('encoder exploded');
    await expect(g.grade(mk('wide', 'cat'))).rejects.toThrow(/different dimensions \(3 and 2\)/);
    await expect(g.grade(mk('zero', 'cat'))).rejects.toThrow(/zero norm/);
    // A failing call in one tick does not poison the next.
    expect(await g.grade(mk('cat', 'cat'))).toMatchObject({ score: 1 });
  });

  it('params: backend resolution and the regex are checked when the spec loads', () => {
    const { backend } = encoder(table);
    expect(() => build(embeddingSimilarityGrader, { backend: 'nope' }, [backend])).toThrow(/unknown backend "nope"/);
    const rm = functionBackend('rm', { reward: async () => ({ scores: [] }) });
    expect(() => build(embeddingSimilarityGrader, { backend: 'rm' }, [rm])).toThrow(/does not offer embed/);
    expect(() => build(embeddingSimilarityGrader, { backend: 'enc', answer_pattern: '(?=x)' }, [backend])).toThrow(/answer_pattern|RE2/);
    expect(() =>
      embeddingSimilarityGrader.create(z.strictObject(embeddingSimilarityGrader.params).parse({ backend: 'enc' }), { specDir: '.', name: 't' }),
    ).toThrow(/no `backends` section/);
    expect(() => build(embeddingSimilarityGrader, { backend: 'enc', output: 'percent' }, [backend])).toThrow();
  });
});
