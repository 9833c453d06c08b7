import { describe, expect, it } from 'vitest';
import { meteorGrader, meteorScore } from './meteor.js';
import { buildGrader, scoreOne } from './harness.js';

const h1 = 'It is a guide to action which ensures that the military always obeys the commands of the party';
const r1 = 'It is a guide to action that ensures that the military will forever heed Party commands';
const r2 = 'It is the guiding principle which guarantees the military forces always being under the command of the Party';
const r3 = 'It is the practical guide for the army always to heed the directions of the party';
const OPTS = { alpha: 0.9, beta: 3, gamma: 0.5, stem: true };

describe('meteor', () => {
  it("NLTK's documented meteor_score values (no WordNet match is involved in them)", async () => {
    const g = buildGrader(meteorGrader);
    expect(await scoreOne(g, h1, r1)).toBeCloseTo(0.6944, 4); // round(single_meteor_score(...), 4): 0.6944
    expect(await scoreOne(g, h1, [r1, r2, r3])).toBeCloseTo(0.6944, 4); // round(meteor_score(...), 4): 0.6944
    expect(await scoreOne(g, 'non matching hypothesis', 'this is a cat')).toBe(0); // 0.0
    // By hand: 12 matches, P = 12/18, R = 12/16, 6 chunks.
    const st = meteorScore(r1.split(' '), h1.split(' '), OPTS);
    expect([st.matches, st.chunks]).toEqual([12, 6]);
    const P = 12 / 18;
    const R = 12 / 16;
    expect(st.score).toBeCloseTo((1 - 0.5 * (6 / 12) ** 3) * ((P * R) / (0.9 * P + 0.1 * R)), 15);
  });

  it('aligns exact words, then Porter stems; fragmentation is penalised (hand-computed)', async () => {
    // cats/cat match by stem: 3 matches in one chunk, P = R = 1 → 1 − 0.5·(1/3)³.
    expect(await scoreOne(buildGrader(meteorGrader), 'the cats sat', 'the cat sat')).toBeCloseTo(1 - 0.5 / 27, 15);
    // Without the stem stage: the, sat match (2 chunks), P = R = 2/3 → Fmean 2/3, penalty 0.5·1³.
    expect(await scoreOne(buildGrader(meteorGrader, { stem: false }), 'the cats sat', 'the cat sat')).toBeCloseTo((2 / 3) * 0.5, 15);
    // Case is folded, as NLTK's meteor lower-cases.
    expect(await scoreOne(buildGrader(meteorGrader), 'THE CAT SAT', 'the cat sat')).toBeCloseTo(1 - 0.5 / 27, 15);
    // Alpha, beta, gamma are the formula's.
    const st = meteorScore(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd'], { alpha: 0.5, beta: 2, gamma: 0.4, stem: true });
    expect(st.score).toBeCloseTo((1 - 0.4 * (2 / 3) ** 2) * 0.75, 15);
  });

  it("NLTK's matching order: each hypothesis word, from the last, takes the last unmatched equal reference word", () => {
    // hyp "a b a", ref "a a b": last hyp a ↔ ref 1, b ↔ 2, first a ↔ 0 → pairs (0,0) (1,2) (2,1): 3 chunks.
    expect(meteorScore(['a', 'a', 'b'], ['a', 'b', 'a'], OPTS).chunks).toBe(3);
  });

  it('null rule: no reference or one without tokens → null; an empty completion → 0', async () => {
    const g = buildGrader(meteorGrader);
    expect(await scoreOne(g, 'x', null)).toBeNull();
    expect(await scoreOne(g, 'x', ' ')).toBeNull();
    expect(await scoreOne(g, '', 'the cat')).toBe(0);
  });

  it('a hostile completion cannot spray its way up: the reference repeated, padded with a vocabulary dump, or empty scores below the reference itself', async () => {
    const ref = 'the quick brown fox jumps over the lazy dog';
    const g = buildGrader(meteorGrader);
    const honest = (await scoreOne(g, ref, ref)) as number;
    expect(honest).toBeCloseTo(1 - 0.5 / 9 ** 3, 15);
    expect((await scoreOne(g, Array(10).fill(ref).join(' '), ref)) as number).toBeLessThan(0.6); // P = 1/10
    expect((await scoreOne(g, `${ref} ${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`, ref)) as number).toBeLessThan(0.35);
    expect(await scoreOne(g, '', ref)).toBe(0);
  });
});
