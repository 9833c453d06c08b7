import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bleuGrader, bleuTokens, sentenceBleu } from './bleu.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';

const HYP = 'the cat sat on the mat';
const REF = 'the cat is on the mat';

// Hand-computed: matches per order 5/6, 3/5, 1/4, 0/3 (hyp and ref both 6 tokens, BP = 1).
// Values marked "sacrebleu" were also checked with sacrebleu 2.6.0 sentence_bleu on the same strings.
describe('bleu', () => {
  it('scores identical text 1', async () => {
    const g = buildGrader(bleuGrader);
    expect(await scoreOne(g, 'The quick brown fox jumps over the lazy dog.', 'The quick brown fox jumps over the lazy dog.')).toBe(1);
    expect(await scoreOne(g, 'ok', 'ok')).toBe(1);
  });

  it('exp smoothing (default): the zero 4-gram precision becomes 1/(2·3)', async () => {
    const expected = ((5 / 6) * (3 / 5) * (1 / 4) * (1 / 6)) ** 0.25; // (1/48)^(1/4); sacrebleu 37.99178428257963
    expect(expected).toBeCloseTo(0.3799178428, 9);
    expect(await scoreOne(buildGrader(bleuGrader), HYP, REF)).toBeCloseTo(expected, 12);
  });

  it('floor, add-k and none smoothing', async () => {
    const floor = ((5 / 6) * (3 / 5) * (1 / 4) * (0.1 / 3)) ** 0.25; // sacrebleu 25.40663740773073
    const addK = ((5 / 6) * (4 / 6) * (2 / 5) * (1 / 4)) ** 0.25; // orders ≥ 2 get +1/+1; sacrebleu 48.54917717073236
    expect(await scoreOne(buildGrader(bleuGrader, { smooth_method: 'floor' }), HYP, REF)).toBeCloseTo(floor, 12);
    expect(await scoreOne(buildGrader(bleuGrader, { smooth_method: 'add-k' }), HYP, REF)).toBeCloseTo(addK, 12);
    expect(await scoreOne(buildGrader(bleuGrader, { smooth_method: 'none' }), HYP, REF)).toBe(0);
    const floor2 = ((5 / 6) * (3 / 5) * (1 / 4) * (0.5 / 3)) ** 0.25;
    expect(await scoreOne(buildGrader(bleuGrader, { smooth_method: 'floor', smooth_value: 0.5 }), HYP, REF)).toBeCloseTo(floor2, 12);
  });

  it('disjoint text scores 0 with any smoothing', async () => {
    for (const smooth_method of ['none', 'exp', 'floor', 'add-k']) {
      expect(await scoreOne(buildGrader(bleuGrader, { smooth_method }), 'a b c d', 'e f g h')).toBe(0);
    }
  });

  it('brevity penalty and effective order', async () => {
    // 2 of 6 tokens, all matching: effective order 2, BP = exp(1 − 6/2); sacrebleu 13.533528323661276.
    expect(await scoreOne(buildGrader(bleuGrader), 'the cat', 'the cat sat on the mat')).toBeCloseTo(Math.exp(-2), 12);
    // Without effective order the empty 3- and 4-gram precisions count as log(0).
    expect(await scoreOne(buildGrader(bleuGrader, { effective_order: false }), 'the cat', 'the cat sat on the mat')).toBe(0);
  });

  it('multi-reference: max n-gram counts, closest reference length (shorter on ties)', async () => {
    const g = buildGrader(bleuGrader);
    // sacrebleu 67.56000774035174
    expect(await scoreOne(g, HYP, ['a cat is on the mat', 'the cat sat on a mat'])).toBeCloseTo(0.6756000774035174, 12);
    // Lengths 3 and 5 are equally close to 4: the shorter (3) is used, so no brevity penalty.
    expect(await scoreOne(g, 'a b c d', ['a b c', 'a b c d e'])).toBe(1);
    const stats = sentenceBleu(['a', 'b', 'c', 'd'], [['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e']], {
      maxOrder: 4,
      smoothing: 'exp',
      smoothValue: 0,
      effectiveOrder: true,
    });
    expect(stats.refLength).toBe(3);
    expect(stats.brevityPenalty).toBe(1);
  });

  it('13a tokenisation splits punctuation (sacrebleu 86.66415730847507)', async () => {
    const g = buildGrader(bleuGrader);
    expect(await scoreOne(g, 'Hello, world! It costs $3.14 (approx.) &amp; more.', 'Hello world! It costs $ 3.14 ( approx. ) & more .')).toBeCloseTo(
      0.8666415730847507,
      12,
    );
  });

  it('char tokeniser scores CJK; 13a sees one token per unspaced run', async () => {
    // chars 猫が好き vs 猫が大好き: 4/4, 2/3, 0/2 → 1/4, 0/1 → 1/4; BP = exp(1 − 5/4); sacrebleu 35.1862973998119.
    const expected = Math.exp(-0.25) * (1 * (2 / 3) * (1 / 4) * (1 / 4)) ** 0.25;
    expect(await scoreOne(buildGrader(bleuGrader, { tokenize: 'char' }), '猫が好き', '猫が大好き')).toBeCloseTo(expected, 12);
    expect(await scoreOne(buildGrader(bleuGrader), '猫が好き', '猫が大好き')).toBe(0);
    expect(bleuTokens('a b\tc', 'none')).toEqual(['a', 'b', 'c']);
    expect(bleuTokens('a b👍', 'char')).toEqual(['a', 'b', '👍']);
  });

  it('applies normalisation to both sides', async () => {
    expect(await scoreOne(buildGrader(bleuGrader), 'THE CAT', 'the cat')).toBe(0);
    expect(await scoreOne(buildGrader(bleuGrader, { normalize: { case: 'lower' } }), 'THE CAT', 'the cat')).toBe(1);
  });

  it('empty completion 0; missing, empty or non-text reference null', async () => {
    const g = buildGrader(bleuGrader);
    expect(await scoreOne(g, '', REF)).toBe(0);
    expect(await scoreOne(g, HYP, undefined)).toBeNull();
    expect(await scoreOne(g, HYP, '')).toBeNull();
    expect(await scoreOne(g, HYP, '   ')).toBeNull();
    expect(await scoreOne(g, HYP, [])).toBeNull();
    expect(await scoreOne(g, HYP, { text: REF })).toBeNull();
    // An empty reference among others is ignored.
    expect(await scoreOne(g, HYP, ['', HYP])).toBe(1);
    const [out] = await gradeAll(g, [{ completion: HYP, reference: '' }]);
    expect(out!.details).toEqual({ reason: 'the reference has no tokens' });
  });

  it('reports precisions and lengths in details', async () => {
    const [out] = await gradeAll(buildGrader(bleuGrader), [{ completion: HYP, reference: REF }]);
    expect(out!.details).toMatchObject({ brevity_penalty: 1, hyp_length: 6, ref_length: 6 });
    const p = out!.details!.precisions as number[];
    expect(p[0]).toBeCloseTo(5 / 6, 12);
    expect(p[3]).toBeCloseTo(1 / 6, 12);
  });

  it('handles a 1 MB completion (linear work, low score)', async () => {
    const huge = 'the cat sat on the mat '.repeat(46_000);
    expect(huge.length).toBeGreaterThan(1_000_000);
    const s = await scoreOne(buildGrader(bleuGrader), huge, REF);
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(0.01);
  });

  it('rejects a smoothing value the method does not use, and unknown params', () => {
    expect(() => buildGrader(bleuGrader, { smooth_method: 'exp', smooth_value: 0.2 })).toThrow(/smooth_value/);
    expect(() => buildGrader(bleuGrader, { tokenize: 'intl' })).toThrow();
    expect(() => buildGrader(bleuGrader, { lowercase: true })).toThrow();
  });

  it('property: in [0, 1]; a completion equal to one of the references scores 1', async () => {
    const g = buildGrader(bleuGrader);
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'the', '.', ',', '猫', '👍'), { maxLength: 12 }).map((t) => t.join(' '));
    await fc.assert(
      fc.asyncProperty(text, fc.array(text, { minLength: 1, maxLength: 3 }), async (hyp, refs) => {
        const s = await scoreOne(g, hyp, refs);
        if (s !== null) expect(s >= 0 && s <= 1).toBe(true);
        if (hyp.trim() !== '') expect(await scoreOne(g, hyp, [...refs, hyp])).toBe(1);
      }),
    );
  });
});
