import { describe, expect, it } from 'vitest';
import { gleuGrader, sentenceGleu } from './gleu.js';
import { buildGrader, scoreOne } from './harness.js';

/** NLTK's doctests print `0.4393...`: the value starts with those digits. */
function expectDoctest(x: unknown, printed: string): void {
  const lo = Number(printed);
  expect(x as number).toBeGreaterThanOrEqual(lo);
  expect(x as number).toBeLessThan(lo + 10 ** -(printed.length - 2));
}

const ref1 = 'It is a guide to action that ensures that the military will forever heed Party commands';
const hyp1 = 'It is a guide to action which ensures that the military always obeys the commands of the party';
const hyp2 = 'It is to insure the troops forever hearing the activity guidebook that party direct';

describe('gleu', () => {
  it("NLTK's documented sentence_gleu values", async () => {
    const g = buildGrader(gleuGrader);
    expectDoctest(await scoreOne(g, 'the the the the the the the', 'the cat is on the mat'), '0.0909'); // 0.0909...
    expectDoctest(await scoreOne(g, hyp1, ref1), '0.4393'); // 0.4393...
    expectDoctest(await scoreOne(g, hyp2, ref1), '0.1206'); // 0.1206...
  });

  it('min(precision, recall) over all 1…4-grams (hand-computed), symmetric', async () => {
    // "a b" has 3 n-grams (a, b, a b), "a b c" 6; all 3 of the first match → 3 / max(3, 6).
    const g = buildGrader(gleuGrader);
    expect(await scoreOne(g, 'a b', 'a b c')).toBe(0.5);
    expect(await scoreOne(g, 'a b c', 'a b')).toBe(0.5);
    // the ×7 vs "the cat is on the mat": 2 clipped unigram matches of max(7+6+5+4, 6+5+4+3) = 22.
    expect(sentenceGleu([['the', 'cat', 'is', 'on', 'the', 'mat']], Array(7).fill('the'))).toEqual({ score: 2 / 22, matches: 2, total: 22 });
    expect(await scoreOne(buildGrader(gleuGrader, { max_len: 1 }), 'a b', 'a b c')).toBeCloseTo(2 / 3, 15);
  });

  it('takes the best reference; bad order range is a parameter error', async () => {
    expect(await scoreOne(buildGrader(gleuGrader), 'a b', ['x y', 'a b'])).toBe(1);
    expect(() => buildGrader(gleuGrader, { min_len: 3, max_len: 2 })).toThrow(/min_len \(3\) must not exceed max_len \(2\)/);
  });

  it('null rule: no reference or one without tokens → null; an empty completion → 0', async () => {
    const g = buildGrader(gleuGrader);
    expect(await scoreOne(g, 'x', undefined)).toBeNull();
    expect(await scoreOne(g, 'x', '')).toBeNull();
    expect(await scoreOne(g, '', 'the cat')).toBe(0);
  });

  it('a hostile completion cannot spray its way up: the reference repeated, padded with a vocabulary dump, or empty scores below the reference itself', async () => {
    const ref = 'the quick brown fox jumps over the lazy dog';
    const g = buildGrader(gleuGrader);
    expect(await scoreOne(g, ref, ref)).toBe(1);
    expect((await scoreOne(g, Array(10).fill(ref).join(' '), ref)) as number).toBeLessThan(0.15);
    expect((await scoreOne(g, `${ref} ${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`, ref)) as number).toBeLessThan(0.1);
    expect(await scoreOne(g, '', ref)).toBe(0);
  });
});
