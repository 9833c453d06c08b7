import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend } from '../backends/types.js';
import type { Grader, GraderKind } from './types.js';
import { gradeAll } from './harness.js';
import { cosineKernel } from './linalg.js';
import { vendiGrader, vendiRewards, vendiScore } from './vendi.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[]): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir: '.', name: 't', backends: resolverOf(backends) });
}

/** Encoder reading vectors from the text itself ("1,0,0"); records each call. */
function encoder() {
  const calls: string[][] = [];
  const backend = functionBackend('enc', {
    embed: async (texts) => {
      calls.push(texts);
      if (texts.includes('FAIL')) throw new Error('encoder down');
      return { vectors: texts.map((t) => t.split(',').map(Number)) };
    },
  });
  return { backend, calls };
}

const e = (i: number, n: number) => Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));

describe('vendiScore', () => {
  it('n identical vectors → 1; n orthogonal vectors → n (the DRAGON/Vendi checks)', () => {
    for (const n of [1, 2, 5, 16, 64]) {
      const same = Array.from({ length: n }, () => [0.3, -2, 1]);
      expect(vendiScore(cosineKernel(same), n)).toBeCloseTo(1, 10);
      const orth = Array.from({ length: n }, (_, i) => e(i, n));
      expect(vendiScore(cosineKernel(orth), n)).toBeCloseTo(n, 10);
    }
  });

  it('worked example: three items, two identical → 1.8899', () => {
    expect(vendiScore(cosineKernel([[1, 0], [1, 0], [0, 1]]), 3)).toBeCloseTo(1.8898815748423097, 12);
  });

  it('matches numpy (eigvalsh) on a non-trivial kernel', () => {
    // numpy: exp(entropy(eigvalsh(K/n))) for these unit-normed rows = 2.4580612091392053
    const v = [[1, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8], [0.3, 0.3, 0.9]];
    expect(vendiScore(cosineKernel(v), 4)).toBeCloseTo(2.4580612091392053, 12);
  });

  it('property: 1 ≤ Vendi ≤ n, invariant to scaling a vector', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (raw, k) => {
          const vs = raw.filter((v) => Math.hypot(...v) > 1e-3);
          fc.pre(vs.length > 0);
          const n = vs.length;
          const score = vendiScore(cosineKernel(vs), n);
          expect(score).toBeGreaterThanOrEqual(1 - 1e-9);
          expect(score).toBeLessThanOrEqual(n + 1e-9);
          const scaled = vs.map((v, i) => (i === 0 ? v.map((x) => x * k) : v));
          expect(vendiScore(cosineKernel(scaled), n)).toBeCloseTo(score, 9);
        },
      ),
    );
  });
});

describe('vendiRewards', () => {
  it('marginal: Vendi(group) − Vendi(group without the rollout)', () => {
    const { vendi, rewards } = vendiRewards([[1, 0], [1, 0], [0, 1]], 'marginal');
    expect(vendi).toBeCloseTo(1.8898815748423097, 12);
    // Dropping a duplicate leaves two orthogonal items (2); dropping the unique one leaves two identical (1).
    expect(rewards[0]).toBeCloseTo(1.8898815748423097 - 2, 12);
    expect(rewards[1]).toBeCloseTo(1.8898815748423097 - 2, 12);
    expect(rewards[2]).toBeCloseTo(0.8898815748423097, 12);
    // numpy leave-one-out differences for the 4-vector kernel above.
    const v = [[1, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8], [0.3, 0.3, 0.9]];
    const expected = [0.5186689540475806, 0.4237004365345438, 0.00890470651681774, 0.05795552070257104];
    vendiRewards(v, 'marginal').rewards.forEach((r, i) => expect(r).toBeCloseTo(expected[i]!, 12));
  });

  it('group: the group score for everyone; a lone rollout scores 1 either way', () => {
    expect(vendiRewards([[1, 0], [0, 1]], 'group').rewards).toEqual([expect.closeTo(2, 12), expect.closeTo(2, 12)]);
    expect(vendiRewards([[3, 4]], 'marginal').rewards).toEqual([1]);
    expect(vendiRewards([[3, 4]], 'group').rewards).toEqual([1]);
  });
});

describe('vendi grader', () => {
  it('is a group grader; embeds the group and scores marginal contributions', async () => {
    const { backend, calls } = encoder();
    const g = build(vendiGrader, { backend: 'enc' }, [backend]);
    expect(g.scope).toBe('group');
    const out = await gradeAll(g, ['1,0', '1,0', '0,1'].map((completion) => ({ completion, group: 'g' })));
    expect(out.map((o) => o.score)).toEqual([
      expect.closeTo(-0.1101184251576903, 12),
      expect.closeTo(-0.1101184251576903, 12),
      expect.closeTo(0.8898815748423097, 12),
    ]);
    expect(out[0]!.details).toMatchObject({ vendi: expect.closeTo(1.8898815748423097, 12), n: 3 });
    expect(calls).toEqual([['1,0', '0,1']]);
  });

  it('per_rollout: group; groups are kept apart and share one embed call', async () => {
    const { backend, calls } = encoder();
    const g = build(vendiGrader, { backend: 'enc', per_rollout: 'group' }, [backend]);
    const out = await gradeAll(g, [
      { completion: '1,0,0', group: 'a' },
      { completion: '0,1,0', group: 'a' },
      { completion: '0,0,1', group: 'a' },
      { completion: '2,0,0', group: 'b' },
      { completion: '1,0,0', group: 'b' },
    ]);
    expect(out.map((o) => o.score)).toEqual([3, 3, 3, 1, 1].map((x) => expect.closeTo(x, 10)));
    expect(calls.length).toBe(1);
  });

  it('empty completions → the group\'s lowest reward (at most 0), left out of the group', async () => {
    const { backend } = encoder();
    const out = await gradeAll(build(vendiGrader, { backend: 'enc', per_rollout: 'group' }, [backend]), [
      { completion: '1,0', group: 'g' },
      { completion: '  ', group: 'g' },
      { completion: '0,1', group: 'g' },
    ]);
    expect(out.map((o) => o.score)).toEqual([expect.closeTo(2, 12), 0, expect.closeTo(2, 12)]);
    expect(out[1]!.details).toEqual({ reason: 'the completion is empty: scored as the lowest of its group (at most 0)' });
    const marginal = await gradeAll(build(vendiGrader, { backend: 'enc' }, [backend]), [
      { completion: '1,0', group: 'g' },
      { completion: '1,0', group: 'g' },
      { completion: '', group: 'g' },
      { completion: '0,1', group: 'g' },
    ]);
    const s = marginal.map((o) => o.score as number);
    expect(s[2]).toBe(Math.min(s[0]!, s[1]!, s[3]!, 0));
  });

  it('errors: backend failure and vectors of different lengths reject the group', async () => {
    const { backend } = encoder();
    const g = build(vendiGrader, { backend: 'enc' }, [backend]);
    await expect(gradeAll(g, [{ completion: '1,0' }, { completion: 'FAIL' }])).rejects.toThrow('encoder down');
    await expect(gradeAll(g, [{ completion: '1,0' }, { completion: '1,0,0' }])).rejects.toThrow(/different dimensions/);
    await expect(gradeAll(g, [{ completion: '1,0' }, { completion: '0,0' }])).rejects.toThrow(/zero norm/);
  });

  it('params', () => {
    const { backend } = encoder();
    expect(() => build(vendiGrader, { backend: 'other' }, [backend])).toThrow(/unknown backend/);
    expect(() => build(vendiGrader, { backend: 'enc', per_rollout: 'rank' }, [backend])).toThrow();
  });
});
