import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { pairPenaltyGrader, readRankingJson, weightedPairPenalty } from './pair_penalty.js';

const reply = (scores: Record<string, unknown>) => `<think>comparing the responses against the principle</think>\n${JSON.stringify({ scores, 'best-to-worst': Object.keys(scores) })}`;

describe('pair_penalty (RewardAnything weighted pair penalty)', () => {
  it('reproduces the mechanics-B §8 worked example: 1 − 4/9 = 0.556', async () => {
    const r = weightedPairPenalty({ a: 5, b: 3, c: 3 }, { a: 4, b: 2, c: 5 });
    expect(r.weight).toBe(9);
    expect(r.penalty).toBe(4);
    expect(r.reversed).toBe(1);
    expect(r.tied).toBe(1);
    expect(r.reward).toBeCloseTo(5 / 9, 12);
    const g = buildGrader(pairPenaltyGrader);
    expect(await scoreOne(g, reply({ a: 5, b: 3, c: 3 }), { scores: { a: 4, b: 2, c: 5 } })).toBeCloseTo(0.5556, 4);
  });

  it('a perfect ordering scores 1, a fully reversed one 0; invariant to monotone rescaling of the prediction', () => {
    const gt = { a: 1, b: 2, c: 3, d: 5 };
    expect(weightedPairPenalty({ a: 1, b: 2, c: 3, d: 4 }, gt).reward).toBe(1);
    expect(weightedPairPenalty({ a: 4, b: 3, c: 2, d: 1 }, gt).reward).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 }), (p, t) => {
        const names = ['a', 'b', 'c', 'd'];
        const pred = Object.fromEntries(names.map((n, i) => [n, p[i]!]));
        const scaled = Object.fromEntries(names.map((n, i) => [n, Math.exp(p[i]!) * 3 - 7]));
        const truth = Object.fromEntries(names.map((n, i) => [n, t[i]!]));
        const a = weightedPairPenalty(pred, truth).reward!;
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
        expect(weightedPairPenalty(scaled, truth).reward).toBeCloseTo(a, 12);
      }),
    );
  });

  it('reads the authors’ reply shapes: think block, ```json fences, text around the object', () => {
    expect(readRankingJson('<think>x</think>```json\n{"scores": {"a": 1}}\n```')).toEqual({ scores: { a: 1 } });
    expect(readRankingJson('Here you go: {"scores": {"a": 1}} hope it helps')).toEqual({ scores: { a: 1 } });
    expect(readRankingJson('<think>{"scores": {"a": 5}}')).toBeNull();
  });

  it('hostile: an empty, partial or non-numeric scores object does not pay (coverage: penalize)', async () => {
    const g = buildGrader(pairPenaltyGrader);
    const ref = { scores: { a: 4, b: 2, c: 5 } };
    const honestWrong = (await scoreOne(g, reply({ a: 1, b: 5, c: 3 }), ref))!;
    expect(await scoreOne(g, reply({}), ref)).toBe(0);
    // Scoring only the pair it is sure of: (b,c) right, the two pairs with a count as reversed.
    expect(await scoreOne(g, reply({ b: 1, c: 5 }), ref)).toBeCloseTo(1 - 5 / 9, 12);
    expect(await scoreOne(g, reply({ a: 'n/a', b: 1, c: 5 }), ref)).toBeCloseTo(1 - 5 / 9, 12);
    // All ties earn exactly the tie credit.
    expect(await scoreOne(g, reply({ a: 3, b: 3, c: 3 }), ref)).toBe(0.5);
    expect(honestWrong).toBeGreaterThanOrEqual(0);
    // The authors' common-model rule: partial predictions only compare shared models; an empty one is 0, not their 1.0.
    const common = buildGrader(pairPenaltyGrader, { coverage: 'common' });
    expect(await scoreOne(common, reply({ b: 1, c: 5 }), ref)).toBe(1);
    expect(await scoreOne(common, reply({ c: 5 }), ref)).toBe(0);
    expect(await scoreOne(common, reply({}), ref)).toBe(0);
  });

  it('null rule: unreadable replies score 0 (never above a wrong ranking); no usable reference is null', async () => {
    const g = buildGrader(pairPenaltyGrader);
    const ref = { a: 4, b: 2, c: 5 };
    const wrong = (await scoreOne(g, reply({ a: 1, b: 5, c: 3 }), ref))!;
    for (const c of ['', 'I prefer a.', '<think>a is best', '{"best-to-worst": ["a"]}', '{"scores": [1, 2]}']) {
      const [r] = await gradeAll(g, [{ completion: c, reference: ref }]);
      expect(r!.score, c).toBe(0);
      expect(r!.score!).toBeLessThanOrEqual(wrong);
      expect(r!.details?.reason, c).toBeTypeOf('string');
    }
    expect(await scoreOne(g, reply({ a: 1 }), undefined)).toBeNull();
    expect(await scoreOne(g, reply({ a: 1 }), { scores: { a: 3 } })).toBeNull();
    expect(await scoreOne(g, reply({ a: 1 }), { scores: { a: 'high', b: 1 } })).toBeNull();
    // A JSON-string reference works too.
    expect(await scoreOne(g, reply({ a: 5, b: 3, c: 3 }), JSON.stringify({ scores: { a: 4, b: 2, c: 5 } }))).toBeCloseTo(5 / 9, 12);
  });
});
