import { describe, expect, it } from 'vitest';
import { show } from './ast.js';
import { divergence, extrapolateToZero, integrate, limit } from './calculus.js';
import { evalCtx, evalNode } from './evaluate.js';
import { ParseError, parseLatex } from './parser.js';
import { DEFAULT_OPTIONS, MathVerifier } from './verify.js';

const real = (f: (x: number) => number) => (x: number) => ({ re: f(x), im: 0 });
const value = (latex: string): number => {
  const v = evalNode(parseLatex(latex), evalCtx());
  return v.im === 0 ? v.re : NaN;
};

describe('integrate (adaptive Gauss–Kronrod)', () => {
  it('matches known integrals, over finite and infinite ranges', () => {
    expect(integrate(real((x) => x * x), 0, 1).value.re).toBeCloseTo(1 / 3, 14);
    expect(integrate(real(Math.sin), 0, Math.PI).value.re).toBeCloseTo(2, 13);
    expect(integrate(real((x) => Math.exp(-x)), 0, Infinity).value.re).toBeCloseTo(1, 12);
    expect(integrate(real((x) => Math.exp(-x * x)), -Infinity, Infinity).value.re).toBeCloseTo(Math.sqrt(Math.PI), 12);
    expect(integrate(real((x) => Math.exp(x)), -Infinity, 0).value.re).toBeCloseTo(1, 12);
    // An integrable endpoint singularity: the endpoint itself is never evaluated.
    expect(integrate(real((x) => 1 / Math.sqrt(x)), 0, 1).value.re).toBeCloseTo(2, 10);
    expect(integrate(real(Math.log), 0, 1).value.re).toBeCloseTo(-1, 10);
    expect(integrate(real((x) => x), 1, 0).value.re).toBeCloseTo(-0.5, 14);
    expect(integrate(real((x) => x), 2, 2).value.re).toBe(0);
    const c = integrate((x) => ({ re: Math.cos(x), im: Math.sin(x) }), 0, 1).value;
    expect(c.re).toBeCloseTo(Math.sin(1), 13);
    expect(c.im).toBeCloseTo(1 - Math.cos(1), 13);
  });

  it('is NaN for a divergent or non-converging integral, never a guess', () => {
    expect(integrate(real((x) => 1 / x), 0, 1).value.re).toBeNaN();
    expect(integrate(real((x) => 1 / x), 1, Infinity).value.re).toBeNaN();
    expect(integrate(real((x) => Math.sin(x) / x), 0, Infinity).value.re).toBeNaN();
    expect(integrate(real((x) => Math.sin(x)), 0, 1e300).value.re).toBeNaN();
    expect(integrate(real(() => NaN), 0, 1).value.re).toBeNaN();
  });
});

describe('limit (Richardson extrapolation)', () => {
  it('matches known limits, one- and two-sided, at points and at ±∞', () => {
    expect(limit(real((x) => Math.sin(x) / x), 0, 0).value.re).toBeCloseTo(1, 12);
    expect(limit(real((x) => (x * x - 1) / (x - 1)), 1, 0).value.re).toBeCloseTo(2, 12);
    expect(limit(real((x) => (1 - Math.cos(x)) / (x * x)), 0, 0).value.re).toBeCloseTo(0.5, 10);
    expect(limit(real((n) => (1 + 1 / n) ** n), Infinity, 0).value.re).toBeCloseTo(Math.E, 11);
    expect(limit(real((x) => (2 * x + 1) / (x + 3)), -Infinity, 0).value.re).toBeCloseTo(2, 12);
    expect(limit(real((x) => Math.abs(x) / x), 0, 1).value.re).toBe(1);
    expect(limit(real((x) => Math.abs(x) / x), 0, -1).value.re).toBe(-1);
    expect(extrapolateToZero(real((h) => 3 + 2 * h), 0.125, 1).value.re).toBeCloseTo(3, 14);
  });

  it('is ±∞ when f grows without bound (on both sides alike, for a two-sided limit)', () => {
    expect(limit(real((x) => 1 / x), 0, 1).value.re).toBe(Infinity);
    expect(limit(real((x) => 1 / x), 0, -1).value.re).toBe(-Infinity);
    expect(limit(real((x) => -1 / (x * x)), 0, 0).value.re).toBe(-Infinity);
    expect(limit(real((x) => Math.exp(1 / x)), 0, 1).value.re).toBe(Infinity);
    expect(limit(real((x) => x * x), Infinity, 0).value.re).toBe(Infinity);
    expect(divergence(real((h) => 1 / Math.sqrt(h)), 0.125)).toBe(1);
    // Too slow to tell from convergence: not called infinite.
    expect(divergence(real((h) => Math.log(h)), 0.125)).toBe(0);
  });

  it('is NaN when the limit does not exist or cannot be extrapolated', () => {
    expect(limit(real((x) => Math.abs(x) / x), 0, 0).value.re).toBeNaN();
    expect(limit(real((x) => 1 / x), 0, 0).value.re).toBeNaN();
    expect(limit(real(Math.log), 0, 1).value.re).toBeNaN();
    expect(limit(real((x) => Math.sin(1 / x)), 0, 0).value.re).toBeNaN();
    expect(limit(real((x) => x * Math.sin(1 / x)), 0, 0).value.re).toBeNaN();
    expect(limit(real((x) => x), NaN, 0).value.re).toBeNaN();
  });
});

describe('parsing ∫, lim, Σ, Π and repeating decimals', () => {
  it('reads definite integrals in their common spellings', () => {
    expect(show(parseLatex('\\int_0^1 x^2\\,dx'))).toBe('int(x^2, x=0..1)');
    expect(show(parseLatex('\\int\\limits_{0}^{\\pi} \\sin\\theta \\, d\\theta'))).toBe('int(sin(theta), theta=0..π)');
    expect(show(parseLatex('\\int_0^1 x \\mathrm{d}x'))).toBe('int(x, x=0..1)');
    expect(show(parseLatex('\\int_1^2 \\frac{dx}{x}'))).toBe('int(1·x^-1, x=1..2)');
    expect(show(parseLatex('\\int_0^1 \\int_0^2 xy \\, dx\\, dy'))).toBe('int(int(x·y, x=0..2), y=0..1)');
    expect(show(parseLatex('\\int_0^1 dx'))).toBe('int(1, x=0..1)');
    expect(show(parseLatex('2\\int_0^1 x\\,dx + 1'))).toBe('(2·int(x, x=0..1) + 1)');
    expect(() => parseLatex('\\int x\\,dx')).toThrow(ParseError);
    expect(() => parseLatex('\\int_0^1 x^2')).toThrow(/differential/);
  });

  it('reads limits with one-sided and infinite targets', () => {
    expect(show(parseLatex('\\lim_{x\\to 0}\\frac{\\sin x}{x}'))).toBe('lim(sin(x)·x^-1, x→0)');
    expect(show(parseLatex('\\lim_{x \\rightarrow 0^+} \\frac{|x|}{x}'))).toBe('lim(abs(x)·x^-1, x→0+)');
    expect(show(parseLatex('\\lim_{x\\to 0^{-}} x'))).toBe('lim(x, x→0-)');
    expect(show(parseLatex('\\lim_{n\\to\\infty}\\left(1+\\frac{1}{n}\\right)^n'))).toBe('lim(((1 + 1·n^-1))^n, n→∞)');
    expect(() => parseLatex('\\lim \\frac{1}{x}')).toThrow(ParseError);
  });

  it('evaluates them to known values', () => {
    expect(value('\\int_0^1 x^2\\,dx')).toBeCloseTo(1 / 3, 14);
    expect(value('\\int_0^1 \\int_0^1 xy \\, dx\\, dy')).toBeCloseTo(0.25, 14);
    expect(value('\\int_0^{2\\pi} \\sin^2\\theta \\, d\\theta')).toBeCloseTo(Math.PI, 13);
    expect(value('\\lim_{x\\to 0}(1+x)^{1/x}')).toBeCloseTo(Math.E, 11);
    expect(value('\\sum_{k=1}^{10} k')).toBe(55);
    expect(value('\\prod_{k=1}^{5} k')).toBe(120);
    expect(show(parseLatex('0.\\overline{3}'))).toBe('1/3');
    expect(show(parseLatex('1.2\\overline{45}'))).toBe('137/110');
    expect(show(parseLatex('0.\\bar{142857}'))).toBe('1/7');
  });
});

describe('the verifier on integrals, limits, sums', () => {
  const v = new MathVerifier({ ...DEFAULT_OPTIONS, timeoutMs: 10_000 });
  /** Also evaluates answers left as integrals, limits, sums (`allow_unevaluated: true`). */
  const va = new MathVerifier({ ...DEFAULT_OPTIONS, timeoutMs: 10_000, allowUnevaluated: true });

  it('grades against a reference written as an integral, a limit or a sum, and the reverse', () => {
    expect(v.verify('\\int_0^1 x^2\\,dx', 'So it is $\\boxed{\\frac{1}{3}}$.').score).toBe(1);
    expect(v.verify('\\int_0^1 x^2\\,dx', 'So it is $\\boxed{\\frac{1}{2}}$.').score).toBe(0);
    expect(v.verify('\\int_0^1 x^2\\,dx', '$\\boxed{0.333333}$').score).toBe(1);
    expect(v.verify('\\int_0^1 x^2\\,dx', '$\\boxed{0.33}$').score).toBe(0);
    expect(va.verify('\\sqrt{\\pi}', '$\\boxed{\\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx}$').score).toBe(1);
    expect(v.verify('\\int_0^a x\\,dx', '$\\boxed{\\frac{a^2}{2}}$').score).toBe(1);
    expect(v.verify('\\int_0^a x\\,dx', '$\\boxed{a^2}$').score).toBe(0);
    expect(v.verify('\\lim_{x \\to 1} \\frac{x^2-1}{x-1}', 'The limit is $\\boxed{2}$.').score).toBe(1);
    expect(va.verify('e', '$\\boxed{\\lim_{n\\to\\infty}(1+\\frac{1}{n})^n}$').score).toBe(1);
    expect(v.verify('\\sum_{k=1}^{10} k', '$\\boxed{55}$').score).toBe(1);
    expect(v.verify('\\sum_{k=1}^{10} k', '$\\boxed{56}$').score).toBe(0);
    expect(v.verify('\\prod_{k=1}^{5} k', '$\\boxed{5!}$').score).toBe(1);
    expect(v.verify('0.\\overline{3}', '$\\boxed{\\frac13}$').score).toBe(1);
  });

  it('pays no answer that restates the problem as an unevaluated integral, limit, sum or product (unless allowed)', () => {
    const restated: [string, string, string][] = [
      ['\\frac{1}{3}', '$\\boxed{\\int_0^1 x^2\\,dx}$', 'integral'],
      ['2', 'The limit is $\\boxed{\\lim_{x \\to 1} \\frac{x^2-1}{x-1}}$.', 'limit'],
      ['55', 'So the total is $\\boxed{\\sum_{k=1}^{10} k}$.', 'sum'],
      ['120', '$\\boxed{\\prod_{k=1}^{5} k}$', 'product'],
      ['\\sqrt{\\pi}', '$\\boxed{\\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx}$', 'integral'],
    ];
    for (const [ref, answer, what] of restated) {
      const r = v.verify(ref, answer);
      expect(r.score, answer).toBe(0);
      expect(String(r.details['reason'])).toMatch(new RegExp(`^answer is an unevaluated ${what}`));
      expect(va.verify(ref, answer).score, answer).toBe(1);
    }
    // The reference's own form is no restatement: the same operator in both is compared as usual.
    expect(v.verify('\\sum_{k=1}^{10} k', '$\\boxed{\\sum_{k=1}^{10} k}$').score).toBe(1);
    expect(v.verify('\\int_0^1 x^2\\,dx', '$\\boxed{\\int_0^1 t^2\\,dt}$').score).toBe(1);
    expect(v.verify('\\int_0^1 x^2\\,dx', '$\\boxed{\\int_0^1 x^3\\,dx}$').score).toBe(0);
    // Closed forms that merely look like operators are answers: 5!, binomials.
    expect(v.verify('120', '$\\boxed{5!}$').score).toBe(1);
    expect(v.verify('10', '$\\boxed{\\binom{5}{2}}$').score).toBe(1);
  });

  it('compares an infinite limit with a written ∞, and never an overflowing number', () => {
    expect(v.verify('\\lim_{x\\to 0^+} \\frac{1}{x}', '$\\boxed{\\infty}$').score).toBe(1);
    expect(v.verify('\\lim_{x\\to 0^+} \\frac{1}{x}', '$\\boxed{-\\infty}$').score).toBe(0);
    expect(v.verify('\\lim_{x\\to 0^+} \\frac{1}{x}', '$\\boxed{5}$').score).toBe(0);
    expect(va.verify('-\\infty', '$\\boxed{\\lim_{x\\to 0} -\\frac{1}{x^2}}$').score).toBe(1);
    expect(v.verify('\\infty', '$\\boxed{10^{400}}$').score).toBe(0);
  });

  it('cannot judge a reference it cannot evaluate (null, with a reason); an answer it cannot evaluate is 0 with a reason', () => {
    expect(v.verify('\\int_0^1 \\frac{1}{x}\\,dx', '$\\boxed{\\infty}$')).toMatchObject({ score: null, details: { reason: expect.stringMatching(/^reference integral cannot be evaluated/) } });
    expect(v.verify('\\lim_{x\\to 0} \\frac{|x|}{x}', '$\\boxed{1}$')).toMatchObject({ score: null, details: { reason: expect.stringMatching(/^reference limit cannot be evaluated/) } });
    expect(v.verify('\\int x\\,dx', '$\\boxed{\\frac{x^2}{2}}$')).toMatchObject({ score: null });
    expect(va.verify('1', '$\\boxed{\\int_0^1 \\frac{1}{x}\\,dx}$')).toMatchObject({ score: 0, details: { reason: expect.stringMatching(/^answer integral cannot be evaluated/) } });
    expect(va.verify('0', '$\\boxed{\\lim_{x\\to 0} \\sin\\frac{1}{x}}$')).toMatchObject({ score: 0, details: { reason: expect.stringMatching(/^answer limit cannot be evaluated/) } });
  });

  it('stays within the time limit on hostile answers and references (huge bounds, wild integrands, nesting)', () => {
    const quick = new MathVerifier({ ...DEFAULT_OPTIONS, timeoutMs: 50, allowUnevaluated: true });
    const verdicts = [
      quick.verify('1', '$\\boxed{\\sum_{i=1}^{100000}\\sum_{j=1}^{100000} i j}$'),
      quick.verify('1', '$\\boxed{\\int_0^1\\int_0^1\\int_0^1\\int_0^1 \\sin\\frac{1}{xyzw}\\,dx\\,dy\\,dz\\,dw}$'),
      quick.verify('1', '$\\boxed{\\int_0^{10^{300}} \\sin x \\, dx}$'),
      quick.verify('1', '$\\boxed{\\lim_{x\\to 0} \\int_0^1 \\sin\\frac{t}{x}\\,dt}$'),
    ];
    for (const r of verdicts) {
      expect(r.score).toBe(0);
      expect(String(r.details['reason'])).toMatch(/^(timeout|answer (integral|limit) cannot be evaluated)/);
    }
    // By default the same answers are restated operators: 0 before any evaluation.
    const strictQuick = new MathVerifier({ ...DEFAULT_OPTIONS, timeoutMs: 50 });
    expect(strictQuick.verify('1', '$\\boxed{\\int_0^{10^{300}} \\sin x \\, dx}$')).toMatchObject({ score: 0, details: { reason: expect.stringMatching(/^answer is an unevaluated integral/) } });
    // Nesting deeper than the parser allows is an unreadable answer, not a stack overflow.
    const deep = `$\\boxed{${'\\int_0^1 '.repeat(300)}x ${'\\,dx'.repeat(300)}}$`;
    expect(quick.verify('1', deep)).toMatchObject({ score: 0 });
    // A hostile reference: null (cannot judge), never a hang.
    const ref = quick.verify('\\int_0^1\\int_0^1\\int_0^1\\int_0^1 \\sin\\frac{1}{xyzw}\\,dx\\,dy\\,dz\\,dw', '$\\boxed{1}$');
    expect(ref.score).toBeNull();
    expect(String(ref.details['reason'])).toMatch(/^reference (timeout|integral cannot be evaluated)/);
  });
});
