import { describe, expect, it } from 'vitest';
import { key, show } from './ast.js';
import { ceFallback, fromMathJson, loadComputeEngine, toMathJson } from './ce.js';
import { parseLatex } from './parser.js';
import { DEFAULT_OPTIONS, MathVerifier } from './verify.js';

describe('compute-engine fallback', () => {
  it('converts MathJSON to answer trees and back', () => {
    expect(show(fromMathJson(['Add', ['Multiply', 3, ['Sqrt', 13]], ['Rational', 1, 2]])!)).toBe('(3·13^1/2 + 1/2)');
    expect(fromMathJson(['Interval', 0, 1])).toBeNull();
    expect(fromMathJson(['Less', 'x', 3])).toMatchObject({ k: 'rel', op: '<' });
    expect(fromMathJson("'Evelyn'")).toEqual({ k: 'text', s: 'evelyn' });
    const n = parseLatex('\\frac{\\sqrt{3}}{3} + \\sin(x)^2');
    expect(key(fromMathJson(toMathJson(n)!)!)).toBe(key(n));
    expect(toMathJson(parseLatex('\\{1, 2\\}'))).toBeNull();
  });

  it('reads LaTeX the fast parser rejects and decides symbolic identities, within the time left', () => {
    expect(loadComputeEngine()).toBe(true);
    expect(() => parseLatex('\\int_0^1 x^2 dx')).toThrow();
    const integral = ceFallback.parse('\\int_0^1 x^2 dx', 1000);
    expect(integral && show(integral)).toBe('1/3');
    expect(ceFallback.parse('\\int_0^1 x^2 dx', 1)).toBeNull();
    expect(ceFallback.parse('答案', 1000)).toBeNull();
    expect(ceFallback.equal(parseLatex('\\tan^2(y)+1'), parseLatex('\\sec^2(y)'), 1000)).toBe(true);
    expect(ceFallback.equal(parseLatex('\\{1\\}'), parseLatex('1'), 1000)).toBeNull();
  });

  it('lets the grader read such references only when enabled', () => {
    const withCe = new MathVerifier({ ...DEFAULT_OPTIONS, fallback: ceFallback });
    const without = new MathVerifier({ ...DEFAULT_OPTIONS });
    expect(withCe.verify('\\int_0^1 x^2\\,dx', 'So it is $\\boxed{\\frac{1}{3}}$.').score).toBe(1);
    expect(without.verify('\\int_0^1 x^2\\,dx', 'So it is $\\boxed{\\frac{1}{3}}$.')).toMatchObject({ score: null, details: { reason: 'reference has no answer' } });
  });
});
