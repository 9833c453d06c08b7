import { describe, expect, it } from 'vitest';
import { fsum, nltkBleuGrader, nltkSentenceBleu } from './nltk_bleu.js';
import { buildGrader, scoreOne } from './harness.js';

/** NLTK's doctests print `0.4393...`: the value starts with those digits. */
function expectDoctest(x: unknown, printed: string): void {
  const lo = Number(printed);
  expect(x as number).toBeGreaterThanOrEqual(lo);
  expect(x as number).toBeLessThan(lo + 10 ** -(printed.length - 2));
}

const h1 = 'It is a guide to action which ensures that the military always obeys the commands of the party';
const h2 = 'It is to insure the troops forever hearing the activity guidebook that party direct';
const r1 = 'It is a guide to action that ensures that the military will forever heed Party commands';
const r2 = 'It is the guiding principle which guarantees the military forces always being under the command of the Party';
const r3 = 'It is the practical guide for the army always to heed the directions of the party';

describe('nltk_bleu', () => {
  it("NLTK's documented sentence_bleu values (no zero precision there, so method 4 changes nothing)", async () => {
    const g = (params: Record<string, unknown>) => buildGrader(nltkBleuGrader, { tokenizer: 'whitespace', ...params });
    expect(await scoreOne(g({}), h1, [r1, r2, r3])).toBeCloseTo(0.5045666840058485, 12); // 0.5045...
    expect(await scoreOne(g({}), h1, r1)).toBeCloseTo(0.41180376356915777, 12); // 0.4118... (SmoothingFunction docstring, method4)
    expectDoctest(await scoreOne(g({ max_order: 5 }), h1, [r1, r2, r3]), '0.3920'); // BLEU-5: 0.3920...
    expectDoctest(await scoreOne(g({ max_order: 2 }), h1, [r1, r2, r3]), '0.7453'); // BLEU-2: 0.7453...
    expectDoctest(await scoreOne(g({ max_order: 3 }), h1, [r1, r2, r3]), '0.6240'); // BLEU-3: 0.6240...
  });

  it('method 4 smooths the k-th zero precision to (ln|h| / (5·2^k)) / its denominator (hand-computed)', async () => {
    // p = 5/6, 3/5, 1/4, and 0/3 → (ln 6 / 10) / 3; BP = 1.
    const expected = Math.exp((Math.log(5 / 6) + Math.log(3 / 5) + Math.log(1 / 4) + Math.log(Math.log(6) / 10 / 3)) / 4);
    expect(await scoreOne(buildGrader(nltkBleuGrader), 'the cat sat on the mat', 'the cat is on the mat')).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.293945703509473, 12); // NLTK 3.8 prints 0.293945703509473
    // h2 against three references: p = 8/14, 1/13, 0/12, 0/11 → ln14/10/12 and ln14/20/11; BP = exp(1 − 16/14).
    const st = nltkSentenceBleu([r1, r2, r3].map((r) => r.split(' ')), h2.split(' '));
    const bp = Math.exp(1 - 16 / 14);
    const p = [8 / 14, 1 / 13, Math.log(14) / 10 / 12, Math.log(14) / 20 / 11];
    expect(st.score).toBeCloseTo(bp * Math.exp(p.reduce((s, x) => s + Math.log(x) / 4, 0)), 12);
  });

  it("NLTK's edge cases: no unigram match → 0; a one-token hypothesis leaves its zero precisions out", async () => {
    expect(await scoreOne(buildGrader(nltkBleuGrader), 'dog', 'the cat')).toBe(0);
    // |h| = 1: p1 = 1, p2…p4 = 0 unsmoothed and dropped from the sum → BP = exp(1 − 2/1) (NLTK: 0.36787944117144233).
    expect(await scoreOne(buildGrader(nltkBleuGrader), 'cat', 'the cat')).toBeCloseTo(Math.exp(-1), 15);
  });

  it('tokenises with NLTK word_tokenize and is case-sensitive', async () => {
    const g = buildGrader(nltkBleuGrader);
    expect(await scoreOne(g, "The cat didn't sit.", "The cat didn't sit.")).toBe(1);
    // "sit." vs "sit ." are the same tokens; "The" vs "the" are not.
    expect(await scoreOne(g, 'The cat sat on the mat .', 'The cat sat on the mat.')).toBe(1);
    expect((await scoreOne(g, 'the cat sat on the mat', 'The cat sat on the mat')) as number).toBeLessThan(1);
    expect(await scoreOne(buildGrader(nltkBleuGrader, { normalize: { case: 'lower' } }), 'the cat sat on the mat', 'The cat sat on the mat')).toBe(1);
  });

  it('null rule: no reference or one without tokens → null; an empty completion → 0', async () => {
    const g = buildGrader(nltkBleuGrader);
    expect(await scoreOne(g, 'x', null)).toBeNull();
    expect(await scoreOne(g, 'x', '   ')).toBeNull();
    expect(await scoreOne(g, '', 'the cat')).toBe(0);
  });

  it('a hostile completion cannot spray its way up: the reference repeated, padded with a vocabulary dump, or empty scores below the reference itself', async () => {
    const ref = 'the quick brown fox jumps over the lazy dog';
    const g = buildGrader(nltkBleuGrader);
    expect(await scoreOne(g, ref, ref)).toBe(1);
    expect((await scoreOne(g, Array(10).fill(ref).join(' '), ref)) as number).toBeLessThan(0.15); // clipped: every precision ≈ 1/10
    expect((await scoreOne(g, `${ref} ${Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')}`, ref)) as number).toBeLessThan(0.1);
    expect(await scoreOne(g, '', ref)).toBe(0);
  });

  it('fsum is exactly rounded (Python math.fsum)', () => {
    expect(fsum([1e100, 1, -1e100])).toBe(1);
    expect(fsum([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])).toBe(1);
    expect(fsum([])).toBe(0);
  });
});
