import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chrfGrader, chrfWords, sentenceChrf } from './chrf.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';

// Values marked "sacrebleu" were checked with sacrebleu 2.6.0 sentence_chrf on the same strings.
describe('chrf', () => {
  it('hand-computed: "ab" vs "abc"', async () => {
    // Orders 1–2 have n-grams on both sides: P = (2/2 + 1/1)/2 = 1, R = (2/3 + 1/2)/2 = 7/12.
    // F2 = 5PR/(4P + R) = 7/11 (sacrebleu 63.636363636363626); F1 = 2PR/(P + R) = 14/19 (sacrebleu 73.68421052631578).
    expect(await scoreOne(buildGrader(chrfGrader), 'ab', 'abc')).toBeCloseTo(7 / 11, 12);
    expect(await scoreOne(buildGrader(chrfGrader, { beta: 1 }), 'ab', 'abc')).toBeCloseTo(14 / 19, 12);
  });

  it('identical → 1, disjoint → 0, whitespace ignored', async () => {
    const g = buildGrader(chrfGrader);
    expect(await scoreOne(g, 'the cat sat on the mat', 'the cat sat on the mat')).toBe(1);
    expect(await scoreOne(g, 'abc', 'xyz')).toBe(0);
    expect(await scoreOne(g, 'a b\tc', 'abc')).toBe(1);
  });

  it('matches sacrebleu on sentences, chrF++, CJK and emoji', async () => {
    const hyp = 'the cat sat on the mat.';
    const ref = 'the cat is on the mat.';
    expect(await scoreOne(buildGrader(chrfGrader), hyp, ref)).toBeCloseTo(0.6717273492330233, 12);
    expect(await scoreOne(buildGrader(chrfGrader, { word_order: 2 }), hyp, ref)).toBeCloseTo(0.6943695278069349, 12);
    expect(await scoreOne(buildGrader(chrfGrader), '我喜欢猫', '我很喜欢猫')).toBeCloseTo(0.4294768069039914, 12);
    // 👍🏽 is two code points (thumbs up + skin tone), so one of its character unigrams matches 👍.
    expect(await scoreOne(buildGrader(chrfGrader), 'great 👍🏽', 'great 👍')).toBeCloseTo(0.9325876662636034, 12);
  });

  it('multi-reference keeps the best reference (sacrebleu 77.57103344229319)', async () => {
    const g = buildGrader(chrfGrader);
    expect(await scoreOne(g, 'the cat', ['a dog', 'the cats'])).toBeCloseTo(0.7757103344229319, 12);
    expect(await scoreOne(g, 'the cat', ['a dog', 'the cat'])).toBe(1);
  });

  it('chrF++ word splitting separates one edge punctuation mark', () => {
    expect(chrfWords('(hi) there, ok . "x')).toEqual(['(hi', ')', 'there', ',', 'ok', '.', '"', 'x']);
    expect(chrfWords('')).toEqual([]);
  });

  it('empty completion 0; missing, blank or non-text reference null', async () => {
    const g = buildGrader(chrfGrader);
    expect(await scoreOne(g, '', 'abc')).toBe(0);
    expect(await scoreOne(g, 'abc', undefined)).toBeNull();
    expect(await scoreOne(g, 'abc', ' \n ')).toBeNull();
    expect(await scoreOne(g, 'abc', [])).toBeNull();
    expect(await scoreOne(g, 'abc', { a: 1 })).toBeNull();
    expect(await scoreOne(g, 'abc', ['', 'abc'])).toBe(1);
    const [out] = await gradeAll(g, [{ completion: 'abc', reference: '' }]);
    expect(out!.details).toEqual({ reason: 'the reference has no non-space characters' });
  });

  it('applies normalisation', async () => {
    expect(await scoreOne(buildGrader(chrfGrader), 'ABC', 'abc')).toBe(0);
    expect(await scoreOne(buildGrader(chrfGrader, { normalize: { case: 'lower' } }), 'ABC', 'abc')).toBe(1);
  });

  it('handles a 1 MB completion (linear work, low score)', async () => {
    const huge = 'the cat sat on the mat '.repeat(46_000);
    const s = await scoreOne(buildGrader(chrfGrader, { word_order: 2 }), huge, 'the cat is on the mat');
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(0.05);
  });

  it('rejects bad params', () => {
    expect(() => buildGrader(chrfGrader, { char_order: 0 })).toThrow();
    expect(() => buildGrader(chrfGrader, { beta: 0 })).toThrow();
    expect(() => buildGrader(chrfGrader, { whitespace: true })).toThrow();
  });

  it('property: in [0, 1], 1 when the completion is one of the references', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '.', '猫', '👍'), maxLength: 20 });
    fc.assert(
      fc.property(text, fc.array(text, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), (hyp, refs, wordOrder) => {
        const opts = { charOrder: 6, wordOrder, beta: 2 };
        const s = sentenceChrf(hyp, refs, opts);
        expect(s >= 0 && s <= 1).toBe(true);
        if (hyp.replace(/\s/g, '') !== '') expect(sentenceChrf(hyp, [...refs, hyp], opts)).toBeCloseTo(1, 12);
      }),
    );
  });
});
