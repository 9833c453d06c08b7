import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ngramJaccard, ngramJaccardGrader } from './ngram_jaccard.js';
import { buildGrader, scoreOne } from './harness.js';

describe('ngram_jaccard', () => {
  it('bigrams by default: {the cat, cat sat} vs {the cat, cat ran} → 1/3', async () => {
    expect(await scoreOne(buildGrader(ngramJaccardGrader), 'the cat sat', 'the cat ran')).toBeCloseTo(1 / 3, 12);
  });

  it('n and unit params', async () => {
    expect(await scoreOne(buildGrader(ngramJaccardGrader, { n: 1 }), 'the cat sat', 'the cat ran')).toBe(0.5);
    expect(await scoreOne(buildGrader(ngramJaccardGrader, { unit: 'chars' }), 'abc', 'abd')).toBeCloseTo(1 / 3, 12);
    // CJK characters are tokens: {我喜, 喜欢, 欢猫} vs {我很, 很喜, 喜欢, 欢猫} → 2/5.
    expect(await scoreOne(buildGrader(ngramJaccardGrader), '我喜欢猫', '我很喜欢猫')).toBeCloseTo(2 / 5, 12);
    // Emoji with a skin tone is one token, and one character pair per code point with unit chars.
    expect(await scoreOne(buildGrader(ngramJaccardGrader, { n: 1 }), 'ok 👍🏽', 'ok 👍')).toBeCloseTo(1 / 3, 12);
  });

  it('counts a repeated n-gram once', () => {
    expect(ngramJaccard(['a', 'b', 'a', 'b'], ['a', 'b'], 2)).toBe(0.5); // {ab, ba} vs {ab}
  });

  it('texts too short for an n-gram are compared whole', async () => {
    const g = buildGrader(ngramJaccardGrader);
    expect(await scoreOne(g, 'yes', 'yes')).toBe(1);
    expect(await scoreOne(g, 'yes', 'no')).toBe(0);
    expect(await scoreOne(g, '', '')).toBeNull(); // an empty reference cannot be judged
    expect(await scoreOne(g, '', 'a b')).toBe(0);
    expect(await scoreOne(g, 'yes', 'yes it is')).toBe(0);
  });

  it('max over references; no reference → null; normalisation applies', async () => {
    const g = buildGrader(ngramJaccardGrader);
    expect(await scoreOne(g, 'the cat sat', ['a dog', 'the cat sat'])).toBe(1);
    expect(await scoreOne(g, 'x', undefined)).toBeNull();
    expect(await scoreOne(g, 'x', [])).toBeNull();
    expect(await scoreOne(g, 'x', { y: 'x' })).toBeNull();
    expect(await scoreOne(g, 'The cat sat', 'the cat sat')).toBeCloseTo(1 / 3, 12);
    expect(await scoreOne(buildGrader(ngramJaccardGrader, { normalize: { case: 'lower' } }), 'The cat sat', 'the cat sat')).toBe(1);
  });

  it('handles a 1 MB completion (linear work, low score)', async () => {
    const huge = Array.from({ length: 120_000 }, (_, i) => `w${i}`).join(' ');
    expect(huge.length).toBeGreaterThan(800_000);
    const s = await scoreOne(buildGrader(ngramJaccardGrader), huge, 'w1 w2 w3');
    expect(s).toBeCloseTo(2 / (120_000 - 1), 12);
  });

  it('property: in [0, 1], symmetric, 1 for identical sequences', () => {
    const seq = fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 12 });
    fc.assert(
      fc.property(seq, seq, fc.integer({ min: 1, max: 4 }), (a, b, n) => {
        const j = ngramJaccard(a, b, n);
        expect(j >= 0 && j <= 1).toBe(true);
        expect(ngramJaccard(b, a, n)).toBe(j);
        expect(ngramJaccard(a, a, n)).toBe(1);
      }),
    );
  });

  it('rejects bad params', () => {
    expect(() => buildGrader(ngramJaccardGrader, { n: 0 })).toThrow();
    expect(() => buildGrader(ngramJaccardGrader, { unit: 'words' })).toThrow();
  });
});
