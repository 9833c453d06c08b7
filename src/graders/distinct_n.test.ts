import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { distinctN, distinctNGrader, groupUniqueness } from './distinct_n.js';
import { buildGrader, gradeAll } from './harness.js';
import { countNgrams } from './tokens.js';

const scores = async (params: Record<string, unknown>, completions: string[], groups?: string[]) =>
  (await gradeAll(buildGrader(distinctNGrader, params), completions.map((completion, i) => ({ completion, group: groups?.[i] ?? 'g' })))).map(
    (g) => g.score,
  );

describe('distinct_n', () => {
  it('is a group grader', () => {
    expect(buildGrader(distinctNGrader).scope).toBe('group');
  });

  it('group mode: share of a completion\'s bigrams no sibling has', async () => {
    // {the cat, cat sat}, {the cat, cat ran}, {a dog, dog barked}: "the cat" is shared.
    expect(await scores({}, ['the cat sat', 'the cat ran', 'a dog barked'])).toEqual([0.5, 0.5, 1]);
  });

  it('group mode: identical completions score 0, a lone completion 1, groups are kept apart', async () => {
    expect(await scores({}, ['same words here', 'same words here'])).toEqual([0, 0]);
    expect(await scores({}, ['only one here'])).toEqual([1]);
    expect(await scores({}, ['a b c', 'a b c', 'a b c'], ['g1', 'g2', 'g2'])).toEqual([1, 0, 0]);
  });

  it('self mode: distinct-n = distinct / total n-grams', async () => {
    // a b a b: bigrams ab, ba, ab → 2/3; a b c d: no repeat → 1.
    expect(await scores({ mode: 'self' }, ['a b a b', 'a b c d'])).toEqual([2 / 3, 1]);
    expect(await scores({ mode: 'self', n: 1 }, ['a a a a'])).toEqual([0.25]);
    // CJK characters and emoji are tokens: 哈 哈 哈 👍 → bigrams 哈哈, 哈哈, 哈👍 → 2/3.
    expect(await scores({ mode: 'self' }, ['哈哈哈👍'])).toEqual([2 / 3]);
    expect(await scores({ mode: 'self', unit: 'chars', n: 1 }, ['abca'])).toEqual([0.75]);
  });

  it('a completion with no n-gram → 0, the minimum, never null (both modes)', async () => {
    expect(await scores({}, ['', 'word', 'two words'])).toEqual([0, 0, 1]);
    expect(await scores({ mode: 'self' }, ['', 'word'])).toEqual([0, 0]);
    expect(distinctN([], 1)).toBeNull();
  });

  it('applies normalisation', async () => {
    expect(await scores({}, ['The Cat', 'the cat'])).toEqual([1, 1]);
    expect(await scores({ normalize: { case: 'lower' } }, ['The Cat', 'the cat'])).toEqual([0, 0]);
  });

  it('handles a 1 MB repetitive completion (linear work)', async () => {
    const huge = 'the cat sat on the mat '.repeat(46_000);
    const [self] = await scores({ mode: 'self' }, [huge]);
    // 276 000 tokens, 275 999 bigrams, 6 distinct (… mat the closes the loop).
    expect(self).toBeCloseTo(6 / 275_999, 12);
    expect(await scores({}, [huge, 'a dog barked'])).toEqual([1, 1]);
  });

  it('property (MultiRole-R1 test): distinct-n ∈ (0, 1], and 1 exactly when no n-gram repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', '猫', '👍'), { maxLength: 20 }), fc.integer({ min: 1, max: 4 }), (tokens, n) => {
        const d = distinctN(tokens, n);
        if (tokens.length < n) {
          expect(d).toBeNull();
          return;
        }
        expect(d! > 0 && d! <= 1).toBe(true);
        const noRepeat = [...countNgrams(tokens, n).values()].every((c) => c === 1);
        expect(d === 1).toBe(noRepeat);
      }),
    );
  });

  it('property: group scores in [0, 1]; adding a sibling never raises a score', () => {
    const seq = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 2, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(seq, { minLength: 1, maxLength: 5 }), seq, (group, extra) => {
        const before = groupUniqueness(group, 2);
        const after = groupUniqueness([...group, extra], 2);
        before.forEach((b, i) => {
          expect(b! >= 0 && b! <= 1).toBe(true);
          expect(after[i]!).toBeLessThanOrEqual(b!);
        });
      }),
    );
  });

  it('rejects bad params', () => {
    expect(() => buildGrader(distinctNGrader, { mode: 'batch' })).toThrow();
    expect(() => buildGrader(distinctNGrader, { n: 0 })).toThrow();
  });
});
