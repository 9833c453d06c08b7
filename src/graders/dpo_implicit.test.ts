import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend, LogprobRequest } from '../backends/types.js';
import type { Grader, GraderKind } from './types.js';
import { gradeAll } from './harness.js';
import { dpoImplicitGrader, dpoImplicitReward } from './dpo_implicit.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[]): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir: '.', name: 't', backends: resolverOf(backends) });
}

/** A model giving each character of the continuation the log-prob `perToken(char)`; records requests. */
function model(name: string, perToken: (c: string) => number) {
  const requests: LogprobRequest[] = [];
  const backend = functionBackend(name, {
    logprobs: async (req) => {
      requests.push(req);
      if (req.continuation.includes('FAIL')) throw new Error(`${name} unreachable`);
      return { tokens: [...req.continuation], logprobs: [...req.continuation].map(perToken) };
    },
  });
  return { backend, requests };
}

describe('dpoImplicitReward', () => {
  it('worked example: β 0.1, log π −10, log π_ref −12 → 0.2', () => {
    expect(dpoImplicitReward([-4, -6], [-5, -7], 0.1, false)).toBeCloseTo(0.2, 14);
    expect(dpoImplicitReward([-4, -6], [-5, -7], 0.1, true)).toBeCloseTo(0.1, 14);
  });
  it('is 0 when π = π_ref', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -30, max: 0, noNaN: true }), { minLength: 1 }), fc.double({ min: 0.01, max: 5, noNaN: true }), (lps, beta) => {
        expect(dpoImplicitReward(lps, lps, beta, false)).toBe(0);
      }),
    );
  });
});

describe('dpo_implicit grader', () => {
  it('β·(Σ log π − Σ log π_ref) of the completion given the prompt, from two backends', async () => {
    const pol = model('dpo', () => -2.5);
    const ref = model('sft', () => -3);
    const g = build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'sft', beta: 0.1 }, [pol.backend, ref.backend]);
    const [r] = await gradeAll(g, [{ prompt: 'Q: ', completion: 'four' }]);
    // 4 tokens: −10 vs −12 → 0.2.
    expect(r!.score).toBeCloseTo(0.2, 14);
    expect(r!.details).toEqual({ logprob_policy: -10, logprob_reference: -12, tokens_policy: 4, tokens_reference: 4 });
    expect(pol.requests).toEqual([{ prompt: 'Q: ', continuation: 'four' }]);
    expect(ref.requests).toEqual([{ prompt: 'Q: ', continuation: 'four' }]);
  });

  it('length_normalize divides each model\'s log-prob by its token count', async () => {
    const pol = model('dpo', () => -2.5);
    const ref = model('sft', () => -3);
    const g = build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'sft', beta: 2, length_normalize: true }, [pol.backend, ref.backend]);
    const [r] = await gradeAll(g, [{ completion: 'four' }]);
    expect(r!.score).toBeCloseTo(2 * (-2.5 + 3), 14);
  });

  it('claim (§4): a constant added to every token log-prob of both models leaves equal-length preferences unchanged; β > 0 does not change the ranking', async () => {
    const lp = (c: string) => (c === 'a' ? -1 : c === 'b' ? -2 : -0.5);
    const lpRef = (c: string) => (c === 'a' ? -1.2 : c === 'b' ? -1 : -0.9);
    const rollouts = ['aab', 'bbb', 'abc'].map((completion) => ({ prompt: 'Q', completion }));
    const rank = (xs: number[]) => [...xs.keys()].sort((i, j) => xs[j]! - xs[i]!);
    const scores = async (shift: number, beta: number) =>
      (
        await gradeAll(build(dpoImplicitGrader, { policy: 'p', reference_model: 'r', beta }, [model('p', (c) => lp(c) + shift).backend, model('r', (c) => lpRef(c) + shift).backend]), rollouts)
      ).map((r) => r.score!);
    const base = await scores(0, 0.1);
    expect(rank(await scores(-0.3, 0.1))).toEqual(rank(base));
    (await scores(-0.3, 0.1)).forEach((s, i) => expect(s).toBeCloseTo(base[i]!, 12));
    expect(rank(await scores(0, 3))).toEqual(rank(base));
    // aab: −4 − (−3.4) → −0.06; bbb: −6 − (−3) → −0.3; abc: −3.5 − (−3.1) → −0.04.
    expect(base).toEqual([expect.closeTo(-0.06, 14), expect.closeTo(-0.3, 14), expect.closeTo(-0.04, 14)]);
    expect(rank(base)).toEqual([2, 0, 1]);
  });

  it('either backend failing rejects with that backend\'s message; an empty completion is null with a reason', async () => {
    const g = build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'sft', beta: 0.1 }, [model('dpo', () => -1).backend, model('sft', () => -1).backend]);
    await expect(gradeAll(g, [{ completion: 'FAIL' }])).rejects.toThrow(/(dpo|sft) unreachable/);
    const [empty] = await gradeAll(g, [{ completion: '' }]);
    expect(empty).toEqual({ score: null, details: { reason: 'the completion is empty' } });
  });

  it('params: beta required and > 0; both backends resolved, errors name the param', () => {
    const backends = [model('dpo', () => -1).backend, model('sft', () => -1).backend];
    expect(() => build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'sft' }, backends)).toThrow();
    expect(() => build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'sft', beta: 0 }, backends)).toThrow();
    try {
      build(dpoImplicitGrader, { policy: 'dpo', reference_model: 'base', beta: 0.1 }, backends);
      expect.unreachable();
    } catch (e) {
      expect((e as { param?: string }).param).toBe('reference_model');
      expect((e as Error).message).toMatch(/unknown backend "base"/);
    }
    expect(() =>
      dpoImplicitGrader.create(z.strictObject(dpoImplicitGrader.params).parse({ policy: 'dpo', reference_model: 'sft', beta: 0.1 }), { specDir: '.', name: 't' }),
    ).toThrow(/no `backends` section/);
  });
});
