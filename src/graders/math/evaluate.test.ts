import { describe, expect, it } from 'vitest';
import { show } from './ast.js';
import { Deadline, MathTimeout } from './deadline.js';
import { evalCtx, evalExact, evalNode, foldMatrix, samplePoints } from './evaluate.js';
import { parseLatex } from './parser.js';
import { ratToString } from './rational.js';

const exact = (s: string): string | null => {
  const v = evalExact(parseLatex(s));
  return v && ratToString(v);
};
const at = (s: string, env: Record<string, number> = {}) =>
  evalNode(parseLatex(s), evalCtx(new Map(Object.entries(env).map(([k, v]) => [k, { re: v, im: 0 }]))));

describe('evalExact', () => {
  it('folds rational arithmetic, percentages and exact roots', () => {
    expect(exact('\\frac{2^{2005}+1}{3 \\cdot 2^{2006}} - \\frac{1}{3 \\cdot 2^{2006}}')).toBe('1/6');
    expect(exact('25\\%')).toBe('1/4');
    expect(exact('8^{2/3}')).toBe('4');
    expect(exact('\\sqrt{\\frac{9}{4}}')).toBe('3/2');
    expect(exact('\\sqrt{2}')).toBeNull();
    expect(exact('\\pi')).toBeNull();
  });
  it('computes factorials, binomials, gcd/lcm, floor/ceil and bounded sums', () => {
    expect(exact('5!')).toBe('120');
    expect(exact('\\binom{10}{3}')).toBe('120');
    expect(exact('\\gcd(12, 18) + \\operatorname{lcm}(4, 6)')).toBe('18');
    expect(exact('\\lfloor -2.5 \\rfloor + \\lceil 2.1 \\rceil')).toBe('0');
    expect(exact('\\sum_{k=1}^{100} k^2')).toBe('338350');
    expect(exact('\\prod_{k=1}^{5} k')).toBe('120');
    expect(exact('10000!')).toBeNull();
  });
  it('refuses results too large to hold exactly', () => {
    expect(exact('10^{10^{7}}')).toBeNull();
  });
});

describe('evalNode', () => {
  it('evaluates constants and functions in complex arithmetic', () => {
    expect(at('e^{i\\pi}').re).toBeCloseTo(-1, 12);
    expect(Math.abs(at('e^{i\\pi}').im)).toBeLessThan(1e-12);
    expect(at('\\sqrt{-4}')).toEqual({ re: 0, im: 2 });
    expect(at('\\sin^2 x + \\cos^2 x', { x: 0.7 }).re).toBeCloseTo(1, 14);
    expect(at('\\log_2 8').re).toBeCloseTo(3, 14);
    expect(at('\\log 1000').re).toBeCloseTo(3, 14);
    expect(at('\\arctan 1').re).toBeCloseTo(Math.PI / 4, 14);
    expect(at('\\sqrt[3]{-27}').re).toBeCloseTo(-3, 12);
  });
  it('gives NaN where undefined and for non-scalars', () => {
    expect(Number.isNaN(at('\\frac{1}{0}').re)).toBe(true);
    expect(Number.isNaN(at('\\{1, 2\\}').re)).toBe(true);
  });
  it('gives an undefined function one fixed value per argument', () => {
    expect(at('f(2)').re).toBe(at('f(2)').re);
    expect(at('f(2)').re).not.toBe(at('f(3)').re);
  });
  it('counts an index-free sum body (Σ_{k=0}^{n-1} c = n·c) and iterates otherwise', () => {
    expect(at('\\sum_{k=0}^{n-1} c', { n: 2.5, c: 3 }).re).toBeCloseTo(7.5, 12);
    expect(at('\\sum_{k=1}^{n} k', { n: 4 }).re).toBe(10);
    expect(Number.isNaN(at('\\sum_{k=1}^{n} k', { n: 4.5 }).re)).toBe(true);
  });
  it('tracks the largest term, so cancellation noise is recognised', () => {
    const ctx = evalCtx();
    const v = evalNode(parseLatex('\\sqrt{2}^2 - 2 + 10^{8} - 10^{8}'), ctx);
    expect(Math.abs(v.re)).toBeLessThan(1e-7);
    expect(ctx.scale).toBeGreaterThanOrEqual(1e8);
  });
  it('stops at the deadline', () => {
    const ctx = evalCtx(new Map(), new Deadline(0));
    expect(() => evalNode(parseLatex('\\sum_{k=1}^{90000} \\sin(k)'), ctx)).toThrow(MathTimeout);
  });
});

describe('foldMatrix and samplePoints', () => {
  it('adds, scales and multiplies matrix literals', () => {
    const m = foldMatrix(parseLatex('\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + 2\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}'))!;
    expect(m.map((r) => r.map((c) => ratToString(evalExact(c)!)))).toEqual([['3', '2'], ['3', '6']]);
    const p = foldMatrix(parseLatex('\\begin{pmatrix}1 & 1 \\\\ 0 & 1\\end{pmatrix}^3'))!;
    expect(p.map((r) => r.map((c) => ratToString(evalExact(c)!)))).toEqual([['1', '3'], ['0', '1']]);
    expect(foldMatrix(parseLatex('x + 1'))).toBeNull();
    expect(show(parseLatex('\\begin{pmatrix}a\\end{pmatrix}'))).toBe('[a]');
  });
  it('samples deterministic points with both signs and one integer point', () => {
    const a = samplePoints(['x', 'y']);
    expect(samplePoints(['x', 'y'])).toEqual(a);
    expect(a.some((m) => m.get('x')!.re < 0)).toBe(true);
    expect(Number.isInteger(a[a.length - 1]!.get('x')!.re)).toBe(true);
  });
});
