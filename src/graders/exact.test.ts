import { describe, expect, it } from 'vitest';
import { exactGrader } from './exact.js';
import { buildGrader, scoreOne } from './harness.js';

describe('exact', () => {
  it('compares after trimming by default', async () => {
    const g = buildGrader(exactGrader);
    expect(await scoreOne(g, ' Paris ', 'Paris')).toBe(1);
    expect(await scoreOne(g, 'paris', 'Paris')).toBe(0);
  });
  it('applies normalisation options', async () => {
    const g = buildGrader(exactGrader, { normalize: { case: 'lower', whitespace: true, punctuation: true, latex: true, markdown: true } });
    expect(await scoreOne(g, '**The  Eiffel tower.**', 'the eiffel tower')).toBe(1);
    expect(await scoreOne(g, '$\\boxed{42}$', '42')).toBe(1);
    expect(await scoreOne(g, '3.14', '314')).toBe(0); // punctuation inside numbers is kept
    expect(await scoreOne(g, 'Ÿes', 'ÿes')).toBe(1);
  });
  it('accepts any of several references; null without reference', async () => {
    const g = buildGrader(exactGrader);
    expect(await scoreOne(g, 'b', ['a', 'b'])).toBe(1);
    expect(await scoreOne(g, 'c', ['a', 'b'])).toBe(0);
    expect(await scoreOne(g, 'c', undefined)).toBeNull();
    expect(await scoreOne(g, '', '')).toBeNull(); // an empty reference cannot be judged
    expect(await scoreOne(g, '', 'a')).toBe(0); // an empty completion is a wrong answer
    expect(await scoreOne(g, 'x', { not: 'text' })).toBeNull();
  });
  it('rejects unknown params', () => {
    expect(() => buildGrader(exactGrader, { normalise: {} })).toThrow();
  });
});
