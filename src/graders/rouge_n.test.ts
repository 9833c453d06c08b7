import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rougeN, rougeNGrader } from './rouge_n.js';
import { buildGrader, scoreOne } from './harness.js';

/** ROUGE-N written out from its definition (rouge-score's `_score_ngrams`), on string keys, to check against. */
function naiveRougeN(p: string[], t: string[], n: number): number {
  const grams = (x: string[]) => Array.from({ length: Math.max(x.length - n + 1, 0) }, (_, i) => JSON.stringify(x.slice(i, i + n)));
  const pg = grams(p);
  const tg = grams(t);
  const left = [...tg];
  let overlap = 0;
  for (const g of pg) {
    const k = left.indexOf(g);
    if (k >= 0) {
      overlap++;
      left.splice(k, 1);
    }
  }
  const P = overlap / Math.max(pg.length, 1);
  const R = overlap / Math.max(tg.length, 1);
  return P + R > 0 ? (2 * P * R) / (P + R) : 0;
}

// Expected values hand-computed from rouge-score's definition.
describe('rouge_n', () => {
  it('ROUGE-1 and ROUGE-2 of "the cat sat on the mat" vs "the cat lay on the mat": 5/6 and 3/5', async () => {
    // Unigrams: the×2, cat, on, mat shared (clipped) = 5 of 6 on each side. Bigrams: the-cat, on-the, the-mat = 3 of 5.
    expect(await scoreOne(buildGrader(rougeNGrader, { n: 1 }), 'the cat sat on the mat', 'the cat lay on the mat')).toBeCloseTo(5 / 6, 12);
    expect(await scoreOne(buildGrader(rougeNGrader, { n: 2 }), 'the cat sat on the mat', 'the cat lay on the mat')).toBeCloseTo(3 / 5, 12);
  });

  it('clips repeated n-grams: "the the the" vs "the cat" has ROUGE-1 P = 1/3, R = 1/2, F = 2/5', async () => {
    expect(await scoreOne(buildGrader(rougeNGrader), 'the the the', 'the cat')).toBeCloseTo(0.4, 12);
    expect(await scoreOne(buildGrader(rougeNGrader, { measure: 'precision' }), 'the the the', 'the cat')).toBeCloseTo(1 / 3, 12);
    expect(await scoreOne(buildGrader(rougeNGrader, { measure: 'recall' }), 'the the the', 'the cat')).toBeCloseTo(0.5, 12);
  });

  it("rouge-score's tokenisation; a completion shorter than n scores 0; a reference without tokens → null", async () => {
    expect(await scoreOne(buildGrader(rougeNGrader, { n: 2 }), 'The CAT, sat!', 'the cat sat')).toBe(1);
    expect(await scoreOne(buildGrader(rougeNGrader, { n: 3 }), 'the cat', 'the cat sat')).toBe(0);
    expect(await scoreOne(buildGrader(rougeNGrader), '', 'the cat')).toBe(0);
    expect(await scoreOne(buildGrader(rougeNGrader), 'the cat', '猫')).toBeNull();
    expect(await scoreOne(buildGrader(rougeNGrader), 'the cat', null)).toBeNull();
  });

  it('a hostile completion cannot spray its way up: the reference repeated, or padded with a vocabulary dump, scores below the reference itself', async () => {
    const ref = 'the quick brown fox jumps over the lazy dog';
    const g = buildGrader(rougeNGrader, { n: 2 });
    const honest = await scoreOne(g, ref, ref);
    expect(honest).toBe(1);
    const repeated = (await scoreOne(g, Array(10).fill(ref).join(' '), ref)) as number;
    expect(repeated).toBeLessThan(0.25); // clipped counts: recall 1, precision ≈ 1/10
    const dump = (await scoreOne(g, `${ref} ${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`, ref)) as number;
    expect(dump).toBeLessThan(0.1);
    // An empty completion is a wrong answer (0), never null.
    expect(await scoreOne(g, '', ref)).toBe(0);
  });

  it('takes the best of several references', async () => {
    expect(await scoreOne(buildGrader(rougeNGrader), 'a b', ['x y', 'a b'])).toBe(1);
  });

  it('equals the definition on random token lists (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 12 }), fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (p, t, n) => {
        expect(rougeN(p, t, n).fmeasure).toBeCloseTo(naiveRougeN(p, t, n), 12);
      }),
    );
  });
});
