import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extractAnswer, parseReferenceNumber, readAnswer } from './number_extract.js';

// Fragments of the number grammar, so generated text hits its corners more often than random characters would.
const PIECES = fc.constantFrom(
  ...['0', '1', '5', '9', '.', ',', ' ', '\n', '-', '−', '+', '$', '\\$', '€', '%', '\\%', '/', '{', '}', '{,}', '\\,', ',\\!'],
  ...['\\frac', '\\dfrac', '\\boxed{', '\\fbox', '####', 'answer is', 'Answer:', '=', 'e', 'E', '\\times', '×', '10^', '^', 'x', 'percent', '😀'],
);

const value = (text: string, mode: Parameters<typeof extractAnswer>[1] = 'auto') => extractAnswer(text, mode)?.value ?? null;

describe('number tokens', () => {
  it.each([
    ['18', 18],
    ['-10', -10],
    ['−7', -7],
    ['+3', 3],
    ['3.25', 3.25],
    ['.5 cups', 0.5],
    ['1,000', 1000],
    ['1,234,567.89', 1234567.89],
    ['1 000 000', 1000000],
    ['1\u00a0000', 1000],
    ['1\u2009000', 1000],
    ['10{,}000', 10000],
    ['10\\,000', 10000],
    ['10,\\!000', 10000],
    ['$18.50', 18.5],
    ['\\$18', 18],
    ['-$5', -5],
    ['$-5', -5],
    ['€12', 12],
    ['3/4', 0.75],
    ['3 / 4', 0.75],
    ['\\frac{3}{4}', 0.75],
    ['\\dfrac{3}{4}', 0.75],
    ['\\tfrac{1}{8}', 0.125],
    ['\\frac12', 0.5],
    ['-\\frac{3}{4}', -0.75],
    ['\\frac{-3}{4}', -0.75],
    ['2\\frac{1}{2}', 2.5],
    ['2.5e3', 2500],
    ['1e-3', 0.001],
    ['1.5 \\times 10^{-3}', 0.0015],
    ['1.5×10^3', 1500],
    ['6 \\cdot 10^{2}', 600],
    ['18 dollars.', 18],
    ['18.', 18],
    ['5km', 5],
  ])('%s → %d', (text, expected) => {
    expect(value(text, 'last_number')).toBeCloseTo(expected, 12);
  });

  it('reports percent signs separately from the value', () => {
    for (const t of ['50%', '50 %', '50\\%', '50 percent', '50％'])
      expect(extractAnswer(t, 'last_number')).toMatchObject({ value: 50, percent: true });
    expect(extractAnswer('50 percentile', 'last_number')).toMatchObject({ value: 50, percent: false });
  });

  it('does not read hyphens, ranges and version dots as signs or decimals', () => {
    expect(value('pages 3-4', 'last_number')).toBe(4);
    expect(value('<<16-3-4=9>>9', 'last_number')).toBe(9);
    expect(value('x=-5', 'last_number')).toBe(-5);
    expect(value('COVID-19', 'last_number')).toBe(19);
    expect(value('(3)-2', 'last_number')).toBe(2);
    expect(value('v1.2.3', 'last_number')).toBe(3);
    expect(value('12,34', 'last_number')).toBe(12.34); // not a thousands group: a decimal comma
    expect(value('1, 000', 'last_number')).toBe(0);
    expect(value('1234,567', 'last_number')).toBe(1234.567); // the lead has more than 3 digits: a decimal comma
  });

  it('skips fractions with a zero denominator and finds earlier numbers', () => {
    expect(value('1/0', 'last_number')).toBeNull();
    expect(value('5\n1/0', 'last_number')).toBe(5);
    expect(value('7 then 1/0', 'last_number')).toBe(7);
  });
});

describe('extractAnswer', () => {
  it('reads GSM8K `####` answers: the number right after the marker', () => {
    expect(extractAnswer('9 * 2 = 18\n#### 18', 'auto')).toEqual({ text: '18', value: 18, percent: false, method: 'gsm8k' });
    expect(value('#### 1,000 dollars\nextra 7')).toBe(1000);
    expect(value('####-3')).toBe(-3);
    expect(value('#### $18.50')).toBe(18.5);
    expect(value('#### 5\n#### 6')).toBe(6);
    expect(value('##### 8')).toBe(8);
    expect(value('#### 5\n#### Done')).toBe(5); // the last marker followed by a number
    expect(value('no marker 42', 'gsm8k')).toBeNull();
    expect(value('#### Step 1\nso 42', 'gsm8k')).toBeNull();
    // Markdown headings are not answer markers.
    expect(extractAnswer('#### Step 1\nWe add.\n#### Final answer\n$\\boxed{18}$', 'auto')).toMatchObject({ value: 18, method: 'boxed' });
    expect(extractAnswer('#### Step 2: add\nTotal 42', 'auto')).toMatchObject({ value: 42, method: 'last_number' });
  });

  it('reads the last \\boxed{} as a single number', () => {
    expect(extractAnswer('so $\\boxed{\\frac{3}{4}}$.', 'auto')).toMatchObject({ value: 0.75, method: 'boxed' });
    expect(value('\\boxed{1} then \\boxed{2}')).toBe(2);
    expect(value('\\boxed{x = 5}')).toBe(5);
    expect(value('\\boxed{18 \\text{ dollars}}')).toBe(18);
    expect(value('\\fbox{7}')).toBe(7);
    expect(value('\\boxed 9 is it')).toBe(9);
    expect(value('\\boxed{\\frac{\\sqrt{3}}{2}}')).toBeNull();
    expect(value('\\boxed{2\\pi}')).toBeNull();
    expect(value('\\boxed{(2, 3)}')).toBeNull();
    expect(value('\\boxed{7')).toBe(7); // unclosed box: falls back to the last number
    expect(value('answer 4', 'boxed')).toBeNull();
  });

  it('reads "the answer is" sentences', () => {
    expect(extractAnswer('The answer is 3 + 4 = 7. Later 99', 'auto')).toMatchObject({ value: 7, method: 'answer_is' });
    expect(value('Final answer: -12.5.')).toBe(-12.5);
    expect(value('**Answer:** 42')).toBe(42);
    expect(value('The answer is $18. Check: 9*2=18, 3 extra')).toBe(18);
    // An answer phrase without a number falls back to the last number.
    expect(extractAnswer('The answer is simple. We get 42 apples', 'auto')).toMatchObject({ value: 42, method: 'last_number' });
    expect(value('The answer is simple. We get 42', 'answer_is')).toBeNull();
    expect(value('Let me answer this: 5, no wait, the answer is 6')).toBe(6);
  });

  it('falls back to the last number; nothing on empty or digit-free text', () => {
    expect(value('First 3, then 4, finally 5 apples.')).toBe(5);
    expect(value('')).toBeNull();
    expect(value('no numbers here')).toBeNull();
    expect(value('日本語で答えは 42 です')).toBe(42);
    expect(value('😀 12 😀')).toBe(12);
  });

  it('handles a 1 MB completion', () => {
    const big = 'word '.repeat(200_000) + 'total 42 apples';
    expect(value(big)).toBe(42);
    expect(value('1 '.repeat(500_000))).toBe(1);
    expect(value('x'.repeat(1 << 20))).toBeNull();
    expect(value('answer is '.repeat(100_000))).toBeNull();
    expect(value(`answer${' '.repeat(1 << 20)}x 5`)).toBe(5);
    expect(value(`answer${' '.repeat(1 << 20)}: 5`)).toBe(5);
    expect(value(`\\boxed{${'{'.repeat(1 << 19)}`)).toBeNull();
  });

  it('finds any integer in the usual answer layouts (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.boolean(), (n, grouped) => {
        const s = grouped ? n.toLocaleString('en-US') : String(n);
        for (const t of [`#### ${s}`, `so \\boxed{${s}}.`, `The answer is ${s}.`, `we get ${s} apples`, `=${s}`])
          if (value(t) !== n) return false;
        return true;
      }),
    );
  });

  it('never throws and gives finite values on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: PIECES, maxLength: 60 }), fc.string({ maxLength: 100 })), (t) => {
        for (const m of ['auto', 'gsm8k', 'boxed', 'answer_is', 'last_number'] as const) {
          const got = extractAnswer(t, m);
          if (got !== null && !Number.isFinite(got.value)) return false;
        }
        return true;
      }),
    );
  });

  it('gives the same last number whatever precedes or follows on other lines (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: PIECES, maxLength: 60 }), (t) => {
        const got = value(t, 'last_number');
        if (got === null) return value(`7\n${t}`, 'last_number') === 7;
        return value(`7\n${t}`, 'last_number') === got && value(`${t}\nno digits`, 'last_number') === got;
      }),
    );
  });
});

describe('hedged answers', () => {
  it('an answer phrase or a last number offering alternatives is no answer (never its first or last value)', () => {
    for (const t of ['The answer is 5 or 7.', 'The answer is x = 5 or x = 7.', 'Answer: $5, or $7', 'The answer is 5 \\text{ or } 7', '5 or 7', 'x = 5 or x = 7', 'It is between 1 and 100', 'The answer is 5 \\lor 7'])
      expect(extractAnswer(t, 'auto'), t).toBeNull();
    expect(readAnswer('The answer is 5 or 7.', 'auto')).toMatchObject({ method: 'answer_is', hedge: expect.stringContaining('5 or 7') });
    expect(readAnswer('5 or 7', 'last_number')).toMatchObject({ method: 'last_number' });
  });

  it('keeps committed answers next to an "or", and verl\'s #### and last-box readings', () => {
    expect(extractAnswer('The answer is 5 or more.', 'auto')?.value).toBe(5);
    expect(extractAnswer('3 or 4 of them came. The answer is 7.', 'auto')?.value).toBe(7);
    expect(extractAnswer('The difference between 12 and 5 is 7', 'auto')?.value).toBe(7);
    expect(extractAnswer('#### 5 or 7', 'auto')?.value).toBe(5);
    expect(extractAnswer('\\boxed{5} \\boxed{7}', 'auto')?.value).toBe(7);
  });

  it('two alternatives of one value are one answer, not a hedge (5 or 5.0, x = 5 or x = 5); 5% or 5 still is', () => {
    for (const t of ['The answer is 5 or 5.0', 'So x = 5 or x = 5.', 'The answer is 5, or 5.00.', '5 \\lor 5']) expect(extractAnswer(t, 'auto')?.value, t).toBe(5);
    for (const t of ['The answer is 5% or 5', 'The answer is 5 or 5%']) expect(extractAnswer(t, 'auto'), t).toBeNull();
  });
});

describe('parseReferenceNumber', () => {
  it('reads a whole reference as one number', () => {
    expect(parseReferenceNumber('18')?.value).toBe(18);
    expect(parseReferenceNumber(' 1,000 ')?.value).toBe(1000);
    expect(parseReferenceNumber('$18.00')?.value).toBe(18);
    expect(parseReferenceNumber('\\dfrac{3}{4}')?.value).toBe(0.75);
    expect(parseReferenceNumber('x = 5')?.value).toBe(5);
    expect(parseReferenceNumber('50\\%')).toMatchObject({ value: 50, percent: true });
    expect(parseReferenceNumber('3 \\text{ cm}')?.value).toBe(3);
  });
  it('extracts from GSM8K and boxed solutions', () => {
    expect(parseReferenceNumber('She sells 9 eggs.\n#### 18')?.value).toBe(18);
    expect(parseReferenceNumber('Thus $\\boxed{-2}$.')?.value).toBe(-2);
  });
  it('rejects expressions and tuples', () => {
    for (const r of ['\\sqrt{2}', '2\\pi', '(2, 3)', '10^{3}', '1 and 2', '', 'seven', '\\frac{\\sqrt3}{2}'])
      expect(parseReferenceNumber(r)).toBeNull();
  });
  it('round-trips any finite double written by String() (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const got = parseReferenceNumber(String(d));
        return got !== null && got.value === (d === 0 ? 0 : d);
      }),
    );
  });
});

describe('numbers as Math-Verify reads them (its tests/test_all.py test_number_extraction)', () => {
  it('reads space, thin-space and LaTeX-space thousands', () => {
    for (const t of ['1 000', '1\u00a0000', '1\u2009000', '1\u202f000', '1\\,000', '1\\ 000', '1{,}000', '1,000'])
      expect(value(`so ${t} apples`, 'last_number'), t).toBe(1000);
    expect(value('7 425 000', 'last_number')).toBe(7425000);
    expect(value('7,425,000', 'last_number')).toBe(7425000);
  });
  it('reads a comma that is not a thousands separator as a decimal comma', () => {
    expect(value('1000,99', 'last_number')).toBe(1000.99);
    expect(value('1,22', 'last_number')).toBe(1.22);
    expect(value('0,111', 'last_number')).toBe(0.111);
    expect(value('3{,}5', 'last_number')).toBe(3.5);
    expect(value('Soucis : 2,74 $ a..', 'last_number')).toBe(2.74);
    expect(value('1 000,5', 'last_number')).toBe(1000.5); // space thousands, decimal comma (French)
    expect(value('1,000.5', 'last_number')).toBe(1000.5);
  });
  it('keeps comma lists apart: 1,2,3 is three numbers, not 1.2 and 3', () => {
    expect(value('1,2,3', 'last_number')).toBe(3);
    expect(value('the roots are 1, 22', 'last_number')).toBe(22);
    expect(parseReferenceNumber('1,22')!.value).toBe(1.22);
    expect(parseReferenceNumber('1,2,3')).toBeNull();
  });
});
