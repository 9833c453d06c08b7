import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Node, key, show } from './ast.js';
import { evalExact } from './evaluate.js';
import { ParseError, parseLatex, tokenize } from './parser.js';
import { ratToString } from './rational.js';

const p = (s: string): string => show(parseLatex(s));
const exact = (s: string): string | null => {
  const v = evalExact(parseLatex(s));
  return v && ratToString(v);
};

describe('parseLatex: numbers', () => {
  it('reads integers, decimals, thousands and exponents exactly', () => {
    expect(exact('1,000,000')).toBe('1000000');
    expect(exact('1\\,000\\,000')).toBe('1000000');
    expect(exact('0,111')).toBe('111/1000');
    expect(exact('.5')).toBe('1/2');
    expect(exact('1e-10')).toBe('1/10000000000');
    expect(exact('2.5E3')).toBe('2500');
    expect(exact('204_5')).toBe('204');
  });
  it('marks decimals as inexact', () => {
    const n = parseLatex('0.5') as Extract<Node, { k: 'num' }>;
    expect(n.float).toBe(true);
    expect((parseLatex('12') as Extract<Node, { k: 'num' }>).float).toBe(false);
  });
  it('reads fractions, mixed numbers and malformed shorthands', () => {
    expect(exact('\\frac{28}{6}')).toBe('14/3');
    expect(exact('\\frac12')).toBe('1/2');
    expect(exact('\\frac1{72}')).toBe('1/72');
    expect(exact('918\\frac{1}{2}')).toBe('1837/2');
    expect(exact('-2\\frac{1}{2}')).toBe('-5/2');
    expect(exact('x^2\\frac{1}{2}')).toBeNull();
    expect(exact('10/4')).toBe('5/2');
    expect(exact('7:32')).toBe('7/32');
  });
  it('reads \\sqrt(2) as √2 (Math-Verify rewrites it to \\\\sqrt{2} and loses it)', () => {
    expect(key(parseLatex('4\\sqrt(2)'))).toBe(key(parseLatex('4\\sqrt{2}')));
    expect(key(parseLatex('\\sqrt3'))).toBe(key(parseLatex('\\sqrt{3}')));
    expect(key(parseLatex('sqrt(3)'))).toBe(key(parseLatex('\\sqrt{3}')));
    expect(exact('\\sqrt{16}')).toBe('4');
    expect(exact('\\sqrt[3]{-8}')).toBe('-2');
    expect(exact('x^23')).toBeNull();
    expect(p('x^23')).toBe('x^2·3');
  });
});

describe('parseLatex: structures', () => {
  it('reads lists as sets, pairs as open intervals, reversed pairs and triples as tuples', () => {
    expect(parseLatex('1, 2, 3').k).toBe('set');
    expect(parseLatex('(1, 2)')).toMatchObject({ k: 'interval', loOpen: true, hiOpen: true });
    expect(parseLatex('(3, 2)').k).toBe('tuple');
    expect(parseLatex('(1, 2, 3)').k).toBe('tuple');
    expect(parseLatex('[0, 1)')).toMatchObject({ k: 'interval', loOpen: false, hiOpen: true });
    expect(parseLatex('\\{5\\}')).toMatchObject({ k: 'set', items: [{ k: 'num' }] });
    expect(parseLatex('(0;0;6),(4;-2;0)').k).toBe('set');
    expect(p('(2,12) \\cup (12,102)')).toBe('(2, 12) ∪ (12, 102)');
    expect(() => parseLatex('(1, 2, 3]')).toThrow(ParseError);
  });
  it('expands ± into both elements', () => {
    expect(p('1 \\pm \\sqrt{19}')).toBe('{(1 + 19^1/2), (1 + -1·19^1/2)}');
    expect(p('\\pm 2021')).toBe('{-2021, 2021}');
    expect(p('x = 1 \\pm 2')).toBe('x = {(1 + 2), (1 + -2)}');
  });
  it('reads relations, chains, approximations and membership', () => {
    expect(p('x \\geq 5')).toBe('x >= 5');
    expect(p('1 \\le |z| \\le 2')).toBe('1 <= abs(z) ∧ abs(z) <= 2');
    expect(p('x \\approx 11')).toBe('11');
    expect(p('\\frac{9.5}{3.14159} \\approx 3.01')).toBe('19/2·(314159/100000)^-1');
    expect(p('x \\in [-2, 7]')).toBe('x = [-2, 7]');
    expect(p('n = 1, 2, 3')).toBe('n = {1, 2, 3}');
    expect(p('(p, q) = (3, 2)')).toBe('(p, q) = (3, 2)');
    expect(p('k = 45, n = 2')).toBe('{k = 45, n = 2}');
  });
  it('reads functions, calls of undefined functions and implicit products', () => {
    expect(p('2 \\sin b \\cos a')).toBe('2·sin(b)·cos(a)');
    expect(p('\\sin^{-1} x')).toBe('asin(x)');
    expect(p('\\sin^2(x)')).toBe('(sin(x))^2');
    expect(p('\\log_2 8')).toBe('log(8, 2)');
    expect(p('\\ln x')).toBe('log(x, e)');
    expect(p('f(x)')).toBe('f(x)');
    expect(p('x(y+1)')).toBe('x·(y + 1)');
    expect(p('a/bc')).toBe('a·(b·c)^-1');
    expect(p('\\text{Evelyn}')).toBe('text(evelyn)');
    expect(p('\\text{13}')).toBe('13');
    expect(p('F_{n-k-1}')).toBe('f_{n-k-1}');
    expect(p('a_3 + a_{3}')).toBe('(a_3 + a_3)');
    expect(p('\\quadx')).toBe('x');
  });
  it('reads matrices, determinants and sums', () => {
    expect(p('\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}')).toBe('[1, 2; 3, 4]');
    expect(p('\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]')).toBe('[1, 2; 3, 4]');
    expect(p('\\begin{vmatrix}1&2\\\\3&4\\end{vmatrix}')).toBe('det([1, 2; 3, 4])');
    expect(exact('\\sum_{k=1}^{10} k')).toBe('55');
    expect(() => parseLatex('\\begin{pmatrix}1&2\\\\3\\end{pmatrix}')).toThrow(ParseError);
  });
  it('reads degrees and percentages', () => {
    expect(p('90^\\circ')).toBe('90°');
    expect(p('90^{\\circ}')).toBe('90°');
    expect(p('28\\%')).toBe('28%');
  });
  it('rejects what it cannot read', () => {
    for (const bad of ['', '\\zzz', '1 +', '(1, 2', '\\frac{1}', '汉字']) expect(() => parseLatex(bad), bad).toThrow(ParseError);
    expect(() => parseLatex('{'.repeat(500) + '1' + '}'.repeat(500))).toThrow(ParseError);
  });
  it('tokenizes commands, text and unicode operators', () => {
    expect(tokenize('x ≤ 3 × π').map((t) => t.s)).toEqual(['x', 'le', '3', 'times', 'pi']);
    expect(tokenize('\\text{ cm }').map((t) => t.t)).toEqual(['text']);
  });
});

describe('parseLatex: exactness (property)', () => {
  it('a fraction written any common way is the same rational', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), (n, d) => {
        const forms = [`\\frac{${n}}{${d}}`, `${n}/${d}`, `\\dfrac{${2 * n}}{${2 * d}}`, `${n} \\div ${d}`];
        const values = forms.map(exact);
        expect(new Set(values).size).toBe(1);
      }),
    );
  });
  it('a terminating decimal equals its fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }), (m, k) => {
        const dec = (m / 10 ** k).toFixed(k);
        expect(exact(dec)).toBe(exact(`\\frac{${m}}{${10 ** k}}`));
      }),
    );
  });
});
