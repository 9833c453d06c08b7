import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { containsGrader } from './contains.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';

describe('contains', () => {
  it('finds the reference as a substring (trim only by default)', async () => {
    const g = buildGrader(containsGrader);
    expect(await scoreOne(g, 'The capital is Paris.', 'Paris')).toBe(1);
    expect(await scoreOne(g, 'The capital is paris.', 'Paris')).toBe(0);
    expect(await scoreOne(g, 'The capital is Paris.', '  Paris  ')).toBe(1);
    expect(await scoreOne(g, 'concatenate', 'cat')).toBe(1);
    expect(await scoreOne(g, 'it is 42', 42)).toBe(1);
  });

  it('gives the documented example result', async () => {
    const g = buildGrader(containsGrader, { whole_word: true, normalize: { case: 'lower' } });
    const [r] = await gradeAll(g, [{ completion: 'It is PARIS, of course.', reference: 'Paris' }]);
    expect(r).toEqual({ score: 1, details: { matched: 'paris', region: 'whole' } });
  });

  it('reports the matching reference', async () => {
    const [r] = await gradeAll(buildGrader(containsGrader), [{ completion: 'red and blue', reference: ['green', 'blue'] }]);
    expect(r).toEqual({ score: 1, details: { matched: 'blue', region: 'whole' } });
  });

  it('applies normalisation to both sides', async () => {
    const g = buildGrader(containsGrader, { normalize: { case: 'lower', whitespace: true, punctuation: true, markdown: true } });
    expect(await scoreOne(g, 'It is **New\n  York**!', 'new york')).toBe(1);
    expect(await scoreOne(g, 'ÉCOLE normale', 'école')).toBe(1);
    expect(await scoreOne(g, 'Costs 3.14 now', '314')).toBe(0);
  });

  it('matches whole words only when asked, Unicode-aware', async () => {
    const g = buildGrader(containsGrader, { whole_word: true });
    expect(await scoreOne(g, 'concatenate', 'cat')).toBe(0);
    expect(await scoreOne(g, 'a cat sat', 'cat')).toBe(1);
    expect(await scoreOne(g, 'cat', 'cat')).toBe(1);
    expect(await scoreOne(g, 'catégorie', 'cat')).toBe(0);
    expect(await scoreOne(g, 'scat, cat_x, the cat.', 'cat')).toBe(1); // the third occurrence is whole
    expect(await scoreOne(g, 'scat, cat_x', 'cat')).toBe(0);
    expect(await scoreOne(g, '42nd', '42')).toBe(0);
    expect(await scoreOne(g, 'x=42.', '42')).toBe(1);
    expect(await scoreOne(g, 'I use C++.', 'C++')).toBe(1);
    expect(await scoreOne(g, 'I use C++x', 'C++')).toBe(1); // the reference ends in a non-word character
    expect(await scoreOne(g, '東京に行く', '東京')).toBe(0); // no spaces between CJK words: whole-word cannot apply
    expect(await scoreOne(g, '😀cat😀', 'cat')).toBe(1);
    expect(await scoreOne(g, '𝒜cat', 'cat')).toBe(0); // astral letter before
  });

  it('accepts any of several references; null without one or when all are empty', async () => {
    const g = buildGrader(containsGrader);
    expect(await scoreOne(g, 'b', ['a', 'b'])).toBe(1);
    expect(await scoreOne(g, 'c', ['a', 'b'])).toBe(0);
    expect(await scoreOne(g, 'c', undefined)).toBeNull();
    expect(await scoreOne(g, 'c', { text: 'c' })).toBeNull();
    expect(await scoreOne(g, 'c', '   ')).toBeNull();
    expect(await scoreOne(g, 'c', ['', 'c'])).toBe(1);
    expect(await scoreOne(g, '', 'a')).toBe(0);
  });

  it('handles a 1 MB completion', async () => {
    const g = buildGrader(containsGrader, { whole_word: true });
    expect(await scoreOne(g, 'cats '.repeat(200_000) + 'cat', 'cat')).toBe(1);
    expect(await scoreOne(g, 'cats '.repeat(200_000), 'cat')).toBe(0);
  });

  it('finds any inserted word and agrees with includes() (property)', async () => {
    const g = buildGrader(containsGrader);
    const w = buildGrader(containsGrader, { whole_word: true });
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.stringMatching(/^[a-z]{1,8}$/), fc.string(), async (a, word, b) => {
        const text = `${a} ${word} ${b}`;
        return (await scoreOne(g, text, word)) === 1 && (await scoreOne(w, text, word)) === 1 && (await scoreOne(g, a, word)) === (a.trim().includes(word) ? 1 : 0);
      }),
    );
  });

  it('rejects unknown params', () => {
    expect(() => buildGrader(containsGrader, { wholeWord: true })).toThrow();
  });
});
