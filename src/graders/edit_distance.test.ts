import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { editDistanceGrader, indelSimilarity, lcsLength, levenshteinSimilarity, unitDistance } from './edit_distance.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { wordTokens } from './tokens.js';

/** Textbook Wagner–Fischer distance over arrays, to check the fast path and the re-encoding against. */
function naiveDistance(a: string[], b: string[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Textbook LCS length by dynamic programming. */
function naiveLcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = [0];
    for (let j = 1; j <= b.length; j++) row[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  return prev[b.length]!;
}

describe('edit_distance', () => {
  it('kitten → sitting: d = 3 over 7 characters', async () => {
    expect(await scoreOne(buildGrader(editDistanceGrader), 'kitten', 'sitting')).toBeCloseTo(1 - 3 / 7, 12);
  });

  it('empty reference → null (cannot judge), empty completion → 0, identical → 1', async () => {
    const g = buildGrader(editDistanceGrader);
    expect(await scoreOne(g, '', '')).toBeNull();
    expect(await scoreOne(g, '', 'abc')).toBe(0);
    expect(await scoreOne(g, 'abc', '')).toBeNull();
    expect(await scoreOne(g, 'same text', 'same text')).toBe(1);
  });

  it('counts Unicode code points, not UTF-16 units', async () => {
    const g = buildGrader(editDistanceGrader);
    expect(await scoreOne(g, 'a👍', 'a')).toBe(0.5); // one deletion of one character, max length 2
    expect(await scoreOne(g, '👍', '👎')).toBe(0); // the two emoji share their high surrogate
    expect(await scoreOne(g, '我喜欢猫', '我很喜欢猫')).toBeCloseTo(0.8, 12);
  });

  it('unit tokens edits whole words', async () => {
    const g = buildGrader(editDistanceGrader, { unit: 'tokens' });
    expect(await scoreOne(g, 'the cat sat', 'the dog sat')).toBeCloseTo(2 / 3, 12);
    expect(await scoreOne(g, 'the cat sat.', 'the cat sat')).toBeCloseTo(3 / 4, 12);
  });

  it('max over references; no reference → null; normalisation applies', async () => {
    const g = buildGrader(editDistanceGrader);
    expect(await scoreOne(g, 'kitten', ['xyz', 'sitting', 'kitten!'])).toBeCloseTo(6 / 7, 12);
    expect(await scoreOne(g, 'x', undefined)).toBeNull();
    expect(await scoreOne(g, 'x', [])).toBeNull();
    expect(await scoreOne(g, 'x', { y: 1 })).toBeNull();
    expect(await scoreOne(g, '  Paris ', 'Paris')).toBe(1);
    expect(await scoreOne(buildGrader(editDistanceGrader, { normalize: { case: 'lower' } }), 'PARIS', 'paris')).toBe(1);
  });

  it('cuts both texts to max_chars and says so', async () => {
    const [out] = await gradeAll(buildGrader(editDistanceGrader, { max_chars: 3 }), [{ completion: 'abcdef', reference: 'abc' }]);
    expect(out).toEqual({ score: 1, details: { truncated: true } });
    expect(await scoreOne(buildGrader(editDistanceGrader), 'abcdef', 'abc')).toBe(0.5);
  });

  it('handles a 1 MB completion: compared on its first max_chars characters, scores low', async () => {
    const huge = 'the cat sat on the mat '.repeat(46_000);
    const [out] = await gradeAll(buildGrader(editDistanceGrader), [{ completion: huge, reference: 'the cat sat on the mat' }]);
    // 20 000 characters against 22: at least 19 978 deletions.
    expect(out!.score).toBeCloseTo(22 / 20_000, 12);
    expect(out!.details).toEqual({ truncated: true });
    const [tok] = await gradeAll(buildGrader(editDistanceGrader, { unit: 'tokens' }), [{ completion: huge, reference: 'the cat sat on the mat' }]);
    expect(tok!.score).toBeLessThan(0.01);
  });

  it('property: distance equals the textbook DP, on code points and on tokens (incl. > 32 units)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '👍', '👎', '猫', '\ud83d'), maxLength: 45 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(unitDistance(a, b, 'chars').distance).toBe(naiveDistance(Array.from(a), Array.from(b)));
        expect(unitDistance(a, b, 'tokens').distance).toBe(naiveDistance(wordTokens(a), wordTokens(b)));
      }),
    );
  });

  it('property: similarity in [0, 1], symmetric, 1 for identical text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (a, b) => {
        for (const unit of ['chars', 'tokens'] as const) {
          const s = levenshteinSimilarity(a, b, unit);
          expect(s >= 0 && s <= 1).toBe(true);
          expect(levenshteinSimilarity(b, a, unit)).toBe(s);
          expect(levenshteinSimilarity(a, a, unit)).toBe(1);
        }
      }),
    );
  });

  it('rejects a cap above what the encoding supports', () => {
    expect(() => buildGrader(editDistanceGrader, { max_chars: 70_000 })).toThrow();
    expect(() => buildGrader(editDistanceGrader, { unit: 'words' })).toThrow();
  });

  describe('metric: indel (rapidfuzz fuzz.ratio / 100, what spec import maps OpenAI fuzzy_match onto)', () => {
    it("rapidfuzz's documented example and hand-computed cases: 2·LCS / (|a| + |b|)", async () => {
      const g = buildGrader(editDistanceGrader, { metric: 'indel' });
      // rapidfuzz README: fuzz.ratio("this is a test", "this is a test!") → 96.55172413793103
      expect(await scoreOne(g, 'this is a test', 'this is a test!')).toBeCloseTo(0.9655172413793103, 15);
      // kitten / sitting: LCS "ittn" = 4 → 8/13 (Levenshtein would say 1 − 3/7).
      expect(await scoreOne(g, 'kitten', 'sitting')).toBeCloseTo(8 / 13, 15);
      expect(await scoreOne(g, 'a👍', 'a')).toBeCloseTo(2 / 3, 15); // code points, not UTF-16 units
      expect(await scoreOne(buildGrader(editDistanceGrader, { metric: 'indel', unit: 'tokens' }), 'the cat sat', 'the dog sat')).toBeCloseTo(4 / 6, 15);
    });

    it('null rule: no or empty reference → null; empty completion → 0', async () => {
      const g = buildGrader(editDistanceGrader, { metric: 'indel' });
      expect(await scoreOne(g, 'x', null)).toBeNull();
      expect(await scoreOne(g, 'x', '')).toBeNull();
      expect(await scoreOne(g, '', 'abc')).toBe(0);
    });

    it('a hostile completion cannot spray its way up: the reference repeated, padded with a vocabulary dump, or empty scores below the reference itself', async () => {
      const ref = 'the quick brown fox jumps over the lazy dog';
      const g = buildGrader(editDistanceGrader, { metric: 'indel' });
      expect(await scoreOne(g, ref, ref)).toBe(1);
      expect((await scoreOne(g, Array(10).fill(ref).join(' '), ref)) as number).toBeLessThan(0.2); // 2·43 / (439 + 43)
      expect((await scoreOne(g, `${ref} ${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`, ref)) as number).toBeLessThan(0.1);
      expect(await scoreOne(g, '', ref)).toBe(0);
    });

    it('property: the bit-parallel LCS equals the textbook DP (incl. > 32 and > 64 units), similarity symmetric in [0, 1]', () => {
      const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '👍', '猫'), maxLength: 90 });
      fc.assert(
        fc.property(text, text, (a, b) => {
          const ca = Array.from(a);
          const cb = Array.from(b);
          const ids = new Map<string, number>();
          const id = (u: string) => ids.get(u) ?? (ids.set(u, ids.size), ids.size - 1);
          expect(lcsLength(ca.map(id), cb.map(id))).toBe(naiveLcs(ca, cb));
          const s = indelSimilarity(a, b, 'chars');
          expect(s >= 0 && s <= 1).toBe(true);
          expect(indelSimilarity(b, a, 'chars')).toBe(s);
        }),
      );
    });
  });
});
