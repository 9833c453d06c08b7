import { describe, expect, it } from 'vitest';
import { functionBackend, resolverOf } from '../backends/fake.js';
import { BackendError } from '../backends/types.js';
import { ParamError } from './types.js';
import { MicroBatcher, batchedEmbedder, batchedRewarder, continuationLogprobs, resolveBackend } from './model_calls.js';

describe('resolveBackend', () => {
  const embedder = functionBackend('enc', { embed: async (texts) => ({ vectors: texts.map(() => [1]) }) });
  it('returns the named backend offering the ops', () => {
    expect(resolveBackend({ specDir: '.', name: 'c', backends: resolverOf([embedder]) }, 'enc', ['embed'])).toBe(embedder);
  });
  it('no backends section, unknown name, missing op → ParamError on the param', () => {
    const noSection = () => resolveBackend({ specDir: '.', name: 'c' }, 'enc', ['embed'], 'policy');
    expect(noSection).toThrow(ParamError);
    expect(noSection).toThrow(/no `backends` section/);
    try {
      noSection();
    } catch (e) {
      expect((e as ParamError).param).toBe('policy');
    }
    const ctx = { specDir: '.', name: 'c', backends: resolverOf([embedder]) };
    expect(() => resolveBackend(ctx, 'judge', ['embed'])).toThrow(/unknown backend "judge".*enc/);
    expect(() => resolveBackend(ctx, 'enc', ['logprobs'])).toThrow(/does not offer logprobs/);
  });
});

describe('MicroBatcher', () => {
  it('requests of the same tick share one call; later ones go in the next', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), xs.map((x) => x * 10)), { maxBatch: 100, key: String, what: 'test' });
    expect(await Promise.all([1, 2, 3].map((x) => b.submit(x)))).toEqual([10, 20, 30]);
    expect(await b.submit(4)).toBe(40);
    expect(calls).toEqual([[1, 2, 3], [4]]);
  });

  it('splits at maxBatch and sends identical inputs once per call', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), xs.map((x) => -x)), { maxBatch: 2, key: String, what: 'test' });
    expect(await Promise.all([1, 1, 2, 3, 3, 4, 5].map((x) => b.submit(x)))).toEqual([-1, -1, -2, -3, -3, -4, -5]);
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('a failed call rejects only its own requests, with its own error', async () => {
    const b = new MicroBatcher<number, number>(
      async (xs) => {
        if (xs.includes(3)) throw new BackendError('503 from server', { retryable: true, status: 503 });
        return xs;
      },
      { maxBatch: 2, key: String, what: 'test' },
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('503 from server');
  });

  it('a call answering with the wrong count rejects its requests', async () => {
    const b = new MicroBatcher<number, number>(async (xs) => xs.slice(1), { maxBatch: 10, key: String, what: 'embedding' });
    await expect(Promise.all([1, 2].map((x) => b.submit(x)))).rejects.toThrow('embedding call returned 1 results for 2 inputs');
  });

  it('a synchronous throw of the call function rejects too', async () => {
    const b = new MicroBatcher<number, number>(
      () => {
        throw new Error('boom');
      },
      { maxBatch: 10, key: String, what: 'x' },
    );
    await expect(b.submit(1)).rejects.toThrow('boom');
  });
});

describe('checked backend outputs', () => {
  it('batchedEmbedder: one embed call per tick; bad vectors are errors', async () => {
    const seen: string[][] = [];
    const b = functionBackend('enc', {
      embed: async (texts) => {
        seen.push(texts);
        return { vectors: texts.map((t) => (t === 'nan' ? [NaN] : t === 'empty' ? [] : [t.length])) };
      },
    });
    const embed = batchedEmbedder(b, 64);
    const [a, c] = await Promise.all([embed('ab'), embed('abc'), embed('ab')]);
    expect([a, c]).toEqual([[2], [3]]);
    expect(seen).toEqual([['ab', 'abc']]);
    await expect(embed('nan')).rejects.toThrow(/non-finite entry/);
    await expect(embed('empty')).rejects.toThrow(/empty or non-array embedding/);
  });

  it('batchedRewarder: non-finite scores are errors', async () => {
    const b = functionBackend('rm', { reward: async (inputs) => ({ scores: inputs.map((i) => (i.completion === 'x' ? Infinity : 1.5)) }) });
    const score = batchedRewarder(b, 8);
    expect(await score({ prompt: 'p', completion: 'ok' })).toBe(1.5);
    await expect(score({ prompt: 'p', completion: 'x' })).rejects.toThrow(/non-finite reward/);
  });

  it('continuationLogprobs: shape checks', async () => {
    const b = functionBackend('lm', {
      logprobs: async ({ continuation }) =>
        continuation === 'ok'
          ? { tokens: ['o', 'k'], logprobs: [-0.5, -1] }
          : continuation === 'short'
            ? { tokens: ['s'], logprobs: [-1, -2] }
            : continuation === 'nan'
              ? { tokens: ['n'], logprobs: [NaN] }
              : { tokens: [], logprobs: [] },
    });
    expect(await continuationLogprobs(b, 'p', 'ok')).toEqual([-0.5, -1]);
    await expect(continuationLogprobs(b, 'p', 'short')).rejects.toThrow(/equal length/);
    await expect(continuationLogprobs(b, 'p', 'nan')).rejects.toThrow(/non-finite log-prob/);
    await expect(continuationLogprobs(b, 'p', 'gone')).rejects.toThrow(/no tokens for a non-empty continuation/);
  });
});
