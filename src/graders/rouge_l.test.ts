import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lcsLength, rougeL, rougeLGrader } from './rouge_l.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';

/** Textbook full-table LCS, to check the two-row implementation against. */
function naiveLcs(a: string[], b: string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
  return t[a.length]![b.length]!;
}

// Expected values are hand-computed; the first two pairs are also rouge-score's documented unit-test results.
describe('rouge_l', () => {
  it('consecutive and non-consecutive LCS: P = 1, R = 2/3, F = 4/5', async () => {
    const g = buildGrader(rougeLGrader);
    expect(await scoreOne(g, 'testing one', 'testing one two')).toBeCloseTo(0.8, 12);
    expect(await scoreOne(g, 'testing two', 'testing one two')).toBeCloseTo(0.8, 12);
    expect(await scoreOne(buildGrader(rougeLGrader, { measure: 'precision' }), 'testing one', 'testing one two')).toBe(1);
    expect(await scoreOne(buildGrader(rougeLGrader, { measure: 'recall' }), 'testing one', 'testing one two')).toBeCloseTo(2 / 3, 12);
  });

  it('beta weights recall: F2 = 5PR/(R + 4P)', async () => {
    // P = 1, R = 2/3 → (10/3)/(14/3) = 5/7.
    expect(await scoreOne(buildGrader(rougeLGrader, { beta: 2 }), 'testing one', 'testing one two')).toBeCloseTo(5 / 7, 12);
  });

  it("uses rouge-score's tokenisation: case and punctuation do not matter", async () => {
    const g = buildGrader(rougeLGrader);
    expect(await scoreOne(g, 'The CAT, sat!', 'the cat sat')).toBe(1);
    expect(await scoreOne(g, 'the cat sat', 'sat the cat')).toBeCloseTo(2 / 3, 12);
  });

  it('rouge_score tokeniser drops CJK (reference without tokens → null); unicode tokeniser scores it', async () => {
    expect(await scoreOne(buildGrader(rougeLGrader), '我喜欢猫', '我很喜欢猫')).toBeNull();
    // 4 vs 5 character tokens, LCS 4: P = 1, R = 4/5, F = 8/9.
    expect(await scoreOne(buildGrader(rougeLGrader, { tokenizer: 'unicode' }), '我喜欢猫', '我很喜欢猫')).toBeCloseTo(8 / 9, 12);
    expect(await scoreOne(buildGrader(rougeLGrader, { tokenizer: 'unicode' }), 'Naïve café 👍', 'naïve café')).toBe(1);
  });

  it('max over references; empty completion 0; missing or empty reference null', async () => {
    const g = buildGrader(rougeLGrader);
    expect(await scoreOne(g, 'testing one', ['x y', 'testing one two'])).toBeCloseTo(0.8, 12);
    expect(await scoreOne(g, '', 'testing one two')).toBe(0);
    expect(await scoreOne(g, '!!!', 'testing one two')).toBe(0);
    expect(await scoreOne(g, 'testing', undefined)).toBeNull();
    expect(await scoreOne(g, 'testing', '')).toBeNull();
    expect(await scoreOne(g, 'testing', [])).toBeNull();
    const [out] = await gradeAll(g, [{ completion: 'testing one', reference: 'testing one two' }]);
    expect(out!.details).toMatchObject({ precision: 1 });
  });

  it('cuts texts to max_tokens and says so', async () => {
    const g = buildGrader(rougeLGrader, { max_tokens: 3 });
    // Completion cut to "a b c": LCS with "a b c" = 3 → 1.
    const [out] = await gradeAll(g, [{ completion: 'a b c d e f', reference: 'a b c' }]);
    expect(out!.score).toBe(1);
    expect(out!.details).toMatchObject({ truncated: true });
    const [plain] = await gradeAll(buildGrader(rougeLGrader), [{ completion: 'a b c d e f', reference: 'a b c' }]);
    expect(plain!.score).toBeCloseTo((2 * 0.5 * 1) / 1.5, 12);
    expect(plain!.details).not.toHaveProperty('truncated');
  });

  it('handles a 1 MB completion within the token cap', async () => {
    const huge = 'the cat sat on the mat '.repeat(46_000);
    const [out] = await gradeAll(buildGrader(rougeLGrader), [{ completion: huge, reference: 'the cat is on the mat' }]);
    // Cut to 4000 tokens: LCS = 5 (every reference token but "is"), P = 5/4000, R = 5/6.
    expect(out!.details).toMatchObject({ truncated: true, recall: 5 / 6, precision: 5 / 4000 });
    expect(out!.score).toBeLessThan(0.01);
  });

  it('lcsLength matches the textbook table (rouge-score test: [1..5] vs [2,5,3,4] → 3)', () => {
    expect(lcsLength(['1', '2', '3', '4', '5'], ['2', '5', '3', '4'])).toBe(3);
    expect(lcsLength(['1', '2'], ['8', '9'])).toBe(0);
    expect(lcsLength([], ['a'])).toBe(0);
    const seq = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 15 });
    fc.assert(
      fc.property(seq, seq, (a, b) => {
        const l = lcsLength(a, b);
        expect(l).toBe(naiveLcs(a, b));
        expect(l).toBe(lcsLength(b, a));
      }),
    );
  });

  it('property: scores in [0, 1]; identical non-empty token lists score 1', () => {
    const seq = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 });
    fc.assert(
      fc.property(seq, seq, fc.double({ min: 0.1, max: 10, noNaN: true }), (a, b, beta) => {
        const r = rougeL(a, b, beta);
        for (const v of [r.precision, r.recall, r.fmeasure]) expect(v >= 0 && v <= 1 + 1e-12).toBe(true);
        if (a.length > 0) expect(rougeL(a, a, beta).fmeasure).toBeCloseTo(1, 12);
      }),
    );
  });

  it('rejects bad params', () => {
    expect(() => buildGrader(rougeLGrader, { max_tokens: 0 })).toThrow();
    expect(() => buildGrader(rougeLGrader, { measure: 'f1' })).toThrow();
    expect(() => buildGrader(rougeLGrader, { use_stemmer: true })).toThrow();
  });
});
