import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend } from '../backends/types.js';
import type { Grader, GraderKind } from './types.js';
import { gradeAll } from './harness.js';
import { fitReference, frechetDistance, frechetGrader, frechetRewards } from './frechet.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[], specDir = '.'): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir, name: 't', backends: resolverOf(backends) });
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

// Two 3-D sets and numpy/scipy values: ‖μ₁−μ₂‖² + Tr(Σ₁+Σ₂−2·sqrtm(Σ₁Σ₂)), np.cov (ddof 1).
const A = [[1, 2, 0.5], [0.3, -1, 2], [2, 0, 1], [-0.5, 1, 1], [1, 1, -1]];
const B = [[0, 1, 1], [1, 0, 2], [2, 2, 0], [0.5, -1, 1], [1, 1, 1], [-1, 0, 0.5]];
const FD_AB = 0.5256519892621112;
const MARGINAL_A = [0.35577929646997664, 0.7043021079190748, 0.30742124408046934, 0.40744901594897964, 0.036763420735409724];
const INSTANCE_A = [-5.180555555555555, -6.087222222222223, -4.847222222222222, -4.013888888888889, -6.680555555555555];

describe('frechetDistance', () => {
  it('1-D closed form (μ₁−μ₂)² + (σ₁−σ₂)²: N(0, 1) vs N(1, 4) → 2.0 (the DRAGON worked example)', () => {
    // [-1, 0, 1]: mean 0, sample variance 1; [-1, 1, 3]: mean 1, sample variance 4.
    expect(frechetDistance([[-1], [0], [1]], [[-1], [1], [3]])).toBeCloseTo(2, 12);
    // N(2, 1) vs N(-1, 9): 9 + (1 − 3)² = 13.
    expect(frechetDistance([[1], [2], [3]], [[-4], [-1], [2]])).toBeCloseTo(13, 12);
  });

  it('diagonal covariances: ‖Δμ‖² + Σ (σ₁ᵢ − σ₂ᵢ)²', () => {
    // Axis-aligned ±s points give mean 0 and diagonal covariance (variance s²·2/3 per axis with 4 points, ddof 1).
    const cross = (sx: number, sy: number, mx: number, my: number) => [
      [mx + sx, my],
      [mx - sx, my],
      [mx, my + sy],
      [mx, my - sy],
    ];
    const v = (s: number) => (2 * s * s) / 3;
    const expected = 2 ** 2 + 1 + (Math.sqrt(v(1)) - Math.sqrt(v(3))) ** 2 + (Math.sqrt(v(2)) - Math.sqrt(v(0.5))) ** 2;
    expect(frechetDistance(cross(1, 2, 0, 0), cross(3, 0.5, 2, 1))).toBeCloseTo(expected, 12);
  });

  it('matches scipy on non-commuting 3-D covariances; symmetric; FD(X, X) = 0', () => {
    expect(frechetDistance(A, B)).toBeCloseTo(FD_AB, 12);
    expect(frechetDistance(B, A)).toBeCloseTo(FD_AB, 12);
    expect(frechetDistance(A, A)).toBeCloseTo(0, 12);
    expect(frechetDistance(B, B)).toBeCloseTo(0, 12);
    // High dimension (d = 50 > n): the cross term goes through the nuclear norm of Helmert contrasts.
    let seed = 3;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const X = Array.from({ length: 8 }, () => Array.from({ length: 50 }, rnd));
    const Y = Array.from({ length: 6 }, () => Array.from({ length: 50 }, rnd));
    expect(frechetDistance(X, X)).toBeCloseTo(0, 12);
    expect(frechetDistance(X, Y)).toBeCloseTo(frechetDistance(Y, X), 12);
  });

  it('property: FD ≥ 0, FD(X, X) ≈ 0, symmetric, shifting both sets changes nothing', () => {
    // Random sets may repeat points (rank-deficient covariances), where a zero singular value costs √ε.
    const set = fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 2, maxLength: 7 });
    fc.assert(
      fc.property(set, set, fc.double({ min: -5, max: 5, noNaN: true }), (x, y, shift) => {
        const fd = frechetDistance(x, y);
        expect(fd).toBeGreaterThanOrEqual(0);
        expect(Math.abs(fd - frechetDistance(y, x))).toBeLessThan(1e-6 * (1 + fd));
        expect(frechetDistance(x, x)).toBeLessThan(1e-6);
        const sh = (s: number[][]) => s.map((v) => v.map((e) => e + shift));
        expect(Math.abs(frechetDistance(sh(x), sh(y)) - fd)).toBeLessThan(1e-6 * (1 + fd));
      }),
    );
  });

  it('a single vector is a point mass; dimension mismatches are errors', () => {
    // ‖x − μ‖² + Tr Σ_ref = (3 − 1)² + 4.
    expect(frechetDistance([[3]], [[-1], [1], [3]])).toBeCloseTo(8, 12);
    expect(() => frechetDistance([[1, 2]], [[1], [2]])).toThrow(/different dimensions/);
    expect(() => fitReference([[1, 2], [1]])).toThrow(/different dimensions/);
  });
});

describe('frechetRewards', () => {
  const ref = fitReference(B);
  it('marginal: FD(group without i) − FD(group) (scipy values)', () => {
    const { distance, rewards } = frechetRewards(A, ref, 'marginal');
    expect(distance).toBeCloseTo(FD_AB, 9);
    rewards.forEach((r, i) => expect(r).toBeCloseTo(MARGINAL_A[i]!, 12));
  });
  it('group: −FD for everyone; instance: −FD of the rollout alone', () => {
    expect(frechetRewards(A, ref, 'group').rewards).toEqual(A.map(() => expect.closeTo(-FD_AB, 9)));
    frechetRewards(A, ref, 'instance').rewards.forEach((r, i) => expect(r).toBeCloseTo(INSTANCE_A[i]!, 9));
  });
  it('a group of one has no marginal contribution', () => {
    expect(frechetRewards([[1, 2, 3]], ref, 'marginal').rewards).toEqual([null]);
  });
  it('claim: an outlier rollout gets the lowest marginal reward', () => {
    const group = [[0, 1, 1], [1, 0, 1.5], [1.5, 1.5, 0.5], [40, -40, 40]];
    const { rewards } = frechetRewards(group, ref, 'marginal');
    expect(rewards.indexOf(Math.min(...(rewards as number[])))).toBe(3);
    expect(rewards[3]).toBeLessThan(0);
  });
});

describe('frechet grader', () => {
  const refTexts = B.map((v) => v.join(','));

  it('is a group grader; the reference set is embedded once and reused', async () => {
    const { backend, calls } = encoder();
    const g = build(frechetGrader, { backend: 'enc', references: refTexts }, [backend]);
    expect(g.scope).toBe('group');
    const rollouts = A.map((v) => ({ completion: v.join(','), group: 'g' }));
    const out = await gradeAll(g, rollouts);
    out.forEach((o, i) => expect(o.score).toBeCloseTo(MARGINAL_A[i]!, 12));
    expect(out[0]!.details).toEqual({ distance: expect.closeTo(FD_AB, 9) });
    await gradeAll(g, rollouts);
    const refCalls = calls.filter((c) => c.includes(refTexts[0]!));
    expect(refCalls.length).toBe(1);
  });

  it('references_file (.jsonl, .json, plain) resolves against the spec directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-frechet-'));
    writeFileSync(join(dir, 'refs.jsonl'), refTexts.map((t, i) => JSON.stringify(i % 2 ? { text: t } : t)).join('\n') + '\n');
    writeFileSync(join(dir, 'refs.json'), JSON.stringify(refTexts));
    writeFileSync(join(dir, 'refs.txt'), refTexts.join('\n') + '\n\n');
    for (const file of ['refs.jsonl', 'refs.json', 'refs.txt']) {
      const { backend } = encoder();
      const g = build(frechetGrader, { backend: 'enc', references_file: file, per_rollout: 'group' }, [backend], dir);
      const out = await gradeAll(g, A.map((v) => ({ completion: v.join(','), group: 'g' })));
      expect(out.map((o) => o.score)).toEqual(A.map(() => expect.closeTo(-FD_AB, 9)));
    }
    const { backend } = encoder();
    expect(() => build(frechetGrader, { backend: 'enc', references_file: 'missing.txt' }, [backend], dir)).toThrow(/cannot read reference texts from .*missing\.txt/);
    writeFileSync(join(dir, 'bad.jsonl'), '"ok"\n{"nope": 1}\n');
    expect(() => build(frechetGrader, { backend: 'enc', references_file: 'bad.jsonl' }, [backend], dir)).toThrow(/line 2/);
  });

  it('per_rollout instance and group; empty completions → the group\'s lowest reward (at most 0)', async () => {
    const { backend } = encoder();
    const g = build(frechetGrader, { backend: 'enc', references: refTexts, per_rollout: 'instance' }, [backend]);
    const out = await gradeAll(g, [{ completion: A[0]!.join(',') }, { completion: '' }]);
    expect(out[0]!.score).toBeCloseTo(INSTANCE_A[0]!, 9);
    expect(out[1]).toEqual({ score: Math.min(0, out[0]!.score as number), details: { reason: 'the completion is empty: scored as the lowest of its group (at most 0)' } });
    const lone = await gradeAll(build(frechetGrader, { backend: 'enc', references: refTexts }, [backend]), [{ completion: '1,1,1' }]);
    expect(lone[0]!.score).toBeNull();
    expect(lone[0]!.details?.reason).toBe('a group of one has no marginal contribution');
  });

  it('errors: a backend failure rejects, and a failed reference embedding is retried next time', async () => {
    let fail = true;
    const backend = functionBackend('enc', {
      embed: async (texts) => {
        if (fail) throw new Error('encoder down');
        return { vectors: texts.map((t) => t.split(',').map(Number)) };
      },
    });
    const g = build(frechetGrader, { backend: 'enc', references: refTexts, per_rollout: 'group' }, [backend]);
    const rollouts = A.map((v) => ({ completion: v.join(',') }));
    await expect(gradeAll(g, rollouts)).rejects.toThrow('encoder down');
    fail = false;
    expect((await gradeAll(g, rollouts))[0]!.score).toBeCloseTo(-FD_AB, 9);
    await expect(gradeAll(g, [{ completion: '1,2' }, { completion: '3,4' }])).rejects.toThrow(/different dimensions \(3 and 2\)/);
  });

  it('params: exactly one reference source, no empty texts', () => {
    const { backend } = encoder();
    expect(() => build(frechetGrader, { backend: 'enc' }, [backend])).toThrow(/exactly one of references and references_file/);
    expect(() => build(frechetGrader, { backend: 'enc', references: ['a'], references_file: 'x' }, [backend])).toThrow(/exactly one/);
    expect(() => build(frechetGrader, { backend: 'enc', references: ['a', ' '] }, [backend])).toThrow(/reference text 2 is empty/);
    expect(() => build(frechetGrader, { backend: 'none', references: ['a'] }, [backend])).toThrow(/unknown backend/);
  });
});
