import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompareOptions, floatsClose, verifyNodes } from './compare.js';
import { NO_DEADLINE } from './deadline.js';
import { parseLatex } from './parser.js';

const base: CompareOptions = { precision: 6, strict: true, allowSetRelation: false, deadline: NO_DEADLINE };
const eq = (g: string, p: string, o: Partial<CompareOptions> = {}): boolean => verifyNodes(parseLatex(g), parseLatex(p), { ...base, ...o });

describe('floatsClose', () => {
  it('compares to `precision` decimal places', () => {
    expect(floatsClose(1 / 3, 0.333333, 6)).toBe(true);
    expect(floatsClose(1 / 3, 0.3333, 6)).toBe(false);
    expect(floatsClose(1 / 3, 0.3333, 4)).toBe(true);
    expect(floatsClose(1000, 1000.0000004, 6)).toBe(true);
  });
  it('compares values below 0.1 by significant digits, not decimal places', () => {
    // Math-Verify rounds both to 6 places (0.000000 = 0.000000) and accepts these.
    expect(floatsClose(1e-10, 2e-10, 6)).toBe(false);
    expect(floatsClose(1e-7, 2e-7, 6)).toBe(false);
    expect(floatsClose(1 / 12, 0.0833333333333333, 6)).toBe(true);
    expect(floatsClose(1.2345671e-10, 1.2345674e-10, 6)).toBe(true);
    expect(floatsClose(0, 1e-300, 6)).toBe(false);
  });
  it('tolerates binary noise on huge values', () => {
    expect(floatsClose(1.5e20, 150000000000000000000, 6)).toBe(true);
    expect(floatsClose(1.5e20, 1.5000001e20, 6)).toBe(false);
  });
});

describe('numbers and expressions', () => {
  it('compares exact numbers exactly', () => {
    expect(eq('\\frac{14}{3}', '\\dfrac{28}{6}')).toBe(true);
    expect(eq('\\frac{1}{2^{99}}', '\\frac{1}{2^{98}}')).toBe(false);
    expect(eq('\\frac{2^{2005}+1}{3 \\cdot 2^{2006}}', '\\frac{1}{3 \\cdot 2^{2006}}')).toBe(false);
    expect(eq('1000', '1000.0')).toBe(true);
    expect(eq('5', '5.001')).toBe(false);
  });
  it('rounds when one side is a decimal', () => {
    expect(eq('\\frac{1}{3}', '0.333333')).toBe(true);
    expect(eq('\\frac{1}{3}', '0.33')).toBe(false);
    expect(eq('\\frac{1}{3}', '0.33', { precision: 2 })).toBe(true);
    expect(eq('\\sqrt{17}', '4.123105625617661', { precision: 5 })).toBe(true);
    expect(eq('4', '4\\sqrt{2}', { precision: 5 })).toBe(false);
    expect(eq('1e-10', '2e-10')).toBe(false);
  });
  it('accepts a percentage for its number and its value', () => {
    expect(eq('28\\%', '28')).toBe(true);
    expect(eq('28\\%', '0.28')).toBe(true);
    expect(eq('28\\%', '29')).toBe(false);
  });
  it('decides symbolic identities by sampling', () => {
    expect(eq('3\\sqrt{13}', '\\sqrt{117}')).toBe(true);
    expect(eq('\\frac{\\sqrt{3}}{3}', '\\frac{1}{\\sqrt{3}}')).toBe(true);
    expect(eq('\\tan^2(y)+1', '\\sec^2(y)')).toBe(true);
    expect(eq('\\frac{x+2}{7}', '\\frac{x}{7}+\\frac{2}{7}')).toBe(true);
    expect(eq('(r+5)(r+5)', '(r+5)^2')).toBe(true);
    expect(eq('x+2n+1', 'x+1')).toBe(false);
    expect(eq('|x|', 'x')).toBe(false);
    expect(eq('e^{i\\pi}', '-1')).toBe(true);
    expect(eq('7\\pi', '\\pi \\cdot 7')).toBe(true);
    expect(eq('\\sqrt{2}^2', '2')).toBe(true);
  });
  it('treats variable names strictly unless asked not to', () => {
    expect(eq('f(x)', 'f(y)')).toBe(false);
    expect(eq('f(x)', 'f(y)', { strict: false })).toBe(true);
  });
  it('matches words and letter products case-insensitively', () => {
    expect(eq('\\text{Evelyn}', '\\text{evelyn}')).toBe(true);
    expect(eq('\\text{odd}', 'odd')).toBe(true);
    expect(eq('\\text{e}', 'e')).toBe(true);
    expect(eq('d', '\\text{E}')).toBe(false);
  });
  it('converts degrees to radians against an answer with π', () => {
    expect(eq('90^\\circ', '\\frac{\\pi}{2}')).toBe(true);
    expect(eq('90^\\circ', '90')).toBe(true);
    expect(eq('90^\\circ', '\\frac{\\pi}{3}')).toBe(false);
  });
  it('equal rationals in different forms agree, different ones do not (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -500, max: 500 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 9 }), (n, d, k) => {
        expect(eq(`\\frac{${n}}{${d}}`, `\\frac{${n * k}}{${d * k}}`)).toBe(true);
        expect(eq(`\\frac{${n}}{${d}}`, `\\frac{${n + 1}}{${d}}`)).toBe(false);
      }),
    );
  });
});

describe('relations (gold first)', () => {
  it('reduces an assignment gold to its value, an equation prediction only for a non-equation gold', () => {
    expect(eq('k=1', '1')).toBe(true);
    expect(eq('1', 'k=1')).toBe(true);
    expect(eq('x = 5+5+1 = 7 = 11', 'x = 11')).toBe(true);
    expect(eq('2x + z = 1', '1')).toBe(false);
    expect(eq('a + 3z = 0', '0')).toBe(false);
    expect(eq('7 = 11a+c', '11a+c')).toBe(false);
  });
  it('does not accept equations with different right-hand sides', () => {
    expect(eq('x = 1', 'x = 2')).toBe(false);
    expect(eq('3x - y + 13 = 0', '3x + 4y + 14 = 0')).toBe(false);
    expect(eq('n = 2, 3, 4', 'n = 1, 2, 3')).toBe(false);
    expect(eq('D = (0, 1)', 'D = (0, 1.5)')).toBe(false);
    expect(eq('x = 5', 'y = 5')).toBe(false);
  });
  it('accepts equations equal up to a constant factor', () => {
    expect(eq('2x+4y-3=0', 'y=-\\frac{1}{2}x+\\frac{3}{4}')).toBe(true);
    expect(eq('x^2/4 + y^2/3 = 1', 'x^2/16 + y^2/12 = 1/4')).toBe(true);
    expect(eq('34x+45y-20z+100=0', '-34x-45y+20z-100=0')).toBe(true);
    expect(eq('x = 0.3333', 'x = \\frac{1}{3}', { precision: 4 })).toBe(true);
  });
  it('compares inequalities by direction and solution set', () => {
    expect(eq('x \\leq 5', '5 \\geq x')).toBe(true);
    expect(eq('x < 1', '-x > -1')).toBe(true);
    expect(eq('x < 1', 'x > -1')).toBe(false);
    expect(eq('x > 5', 'x \\geq 5')).toBe(false);
    expect(eq('x^2 < 4', '-2 < x < 2')).toBe(true);
  });
  it('compares a relation gold with a set prediction, never a set gold with a relation by default', () => {
    expect(eq('-2 \\le x \\le 7', 'x \\in [-2,7]')).toBe(true);
    expect(eq('1\\leq|z|\\leq \\frac{3}{2}', 'z \\in \\left[-\\frac{3}{2}, -1\\right] \\cup \\left[1, \\frac{3}{2}\\right]')).toBe(true);
    expect(eq('0 < f(x) < 1', '(0, 1)')).toBe(true);
    expect(eq('x \\in [-2,7]', '-2 \\le x \\le 7')).toBe(false);
    expect(eq('x \\in [-2,7]', '-2 \\le x \\le 7', { allowSetRelation: true })).toBe(true);
    expect(eq('x > 3', '(3, \\infty)')).toBe(true);
    expect(eq('x > 3', '[3, \\infty)')).toBe(false);
  });
  it('tests a relation against a set at the relation\'s own constants too (x ≠ c is not ℝ)', () => {
    expect(eq('t \\neq -4', '\\mathbb{R}')).toBe(false);
    expect(eq('t \\neq -4', '(-\\infty, \\infty)')).toBe(false);
    expect(eq('t \\neq -4', '(-\\infty, -4) \\cup (-4, \\infty)')).toBe(true);
    expect(eq('t \\neq 2.5', '(-\\infty, 2.5) \\cup (2.5, \\infty)')).toBe(true);
    expect(eq('t \\ge 0', '[0, \\infty)')).toBe(true);
  });
});

describe('sets, tuples, intervals, matrices', () => {
  it('compares sets in any order, tuples in order', () => {
    expect(eq('\\{1\\pm\\sqrt{5},-2\\}', '-2, 1+\\sqrt{5}, 1-\\sqrt{5}')).toBe(true);
    expect(eq('(1, 2, 3)', '(3, 2, 1)')).toBe(false);
    expect(eq('(1, 2, 3)', '(1, 2, 3.0)')).toBe(true);
    expect(eq('\\pm 2021', '2021')).toBe(false);
    expect(eq('\\pm 2021', '\\{-2021, 2021\\}')).toBe(true);
  });
  it('reads a pair as an open interval or a point, as written', () => {
    expect(eq('(1,3)', '\\{1,3\\}')).toBe(true);
    expect(eq('(3,1)', '\\{1,3\\}')).toBe(false);
    expect(eq('(1, \\frac{9}{2})', '(1, 4.5)')).toBe(true);
  });
  it('never reads a pair as an empty interval: (5, \\frac{\\pi}{4}) is a point, not ∅', () => {
    for (const empty of ['\\emptyset', '\\varnothing', '\\{\\}']) {
      expect(eq('(5, \\frac{\\pi}{4})', empty), empty).toBe(false);
      expect(eq('(2, 2)', empty), empty).toBe(false);
    }
    expect(eq('(5, \\frac{\\pi}{4})', '(5, 0.785398)')).toBe(true);
    expect(eq('(5, \\frac{\\pi}{4})', '(\\frac{\\pi}{4}, 5)')).toBe(false);
  });
  it('compares intervals by endpoints and openness, unions as sets of reals', () => {
    expect(eq('[0,1)', '[0,1)')).toBe(true);
    expect(eq('[0,9)', '[0,1)')).toBe(false);
    expect(eq('(0,9)', '[0,9)')).toBe(false);
    expect(eq('(\\frac{3}{5},\\frac{8}{3}]', '(0.6,2.6667]', { precision: 2 })).toBe(true);
    expect(eq('(-\\infty, 0) \\cup (0, \\infty)', '(0, \\infty) \\cup (-\\infty, 0)')).toBe(true);
    expect(eq('[1, 2] \\cup [2, 3]', '[1, 3]')).toBe(true);
    expect(eq('\\{-1\\} \\cup [0,7)', '[0, 7) \\cup \\{-1\\}')).toBe(true);
    expect(eq('\\mathbb{R}', '(-\\infty, \\infty)')).toBe(true);
  });
  it('compares matrices element-wise and folds matrix arithmetic', () => {
    expect(eq('\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}', '\\begin{bmatrix}1 & 0 \\\\ 0 & 1\\end{bmatrix}')).toBe(true);
    expect(eq('\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}', '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}')).toBe(true);
    expect(eq('\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}', '\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}')).toBe(false);
    const m = '\\begin{pmatrix}1 & x \\\\ 0 & 2\\end{pmatrix}';
    expect(eq(`${m}^3`, `${m}${m}${m}`)).toBe(true);
    expect(eq(`${m}^3`, `${m}${m}`)).toBe(false);
    expect(eq('\\begin{pmatrix}1 \\\\ 2\\end{pmatrix}', '(1, 2)')).toBe(true);
    expect(eq('\\begin{pmatrix}1 \\\\ 2\\end{pmatrix}', '(2, 1)')).toBe(false);
  });
});
