import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError } from '../graders/types.js';
import { buildCombiner } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const names = ['correct', 'format', 'length'];
const f = (expression: string, values: Record<string, number | null> = {}, on_null?: 'zero' | 'null') =>
  combineOnce({ type: 'formula', expression, ...(on_null ? { on_null } : {}) }, names, values);

function paramError(f: () => unknown): ParamError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('no ParamError thrown');
}

describe('formula', () => {
  it('computes the documented example', () => {
    expect(f('correct * (1 + 0.2 * format) - 0.001 * max(length - 500, 0)', { correct: 1, format: 1, length: 700 })).toBeCloseTo(1.0, 12);
    expect(f('correct * (1 + 0.2 * format) - 0.001 * max(length - 500, 0)', { correct: 1, format: 0, length: 100 })).toBe(1);
  });

  it('follows the usual precedence, ^ right-associative and above unary minus', () => {
    expect(f('1 + 2 * 3')).toBe(7);
    expect(f('(1 + 2) * 3')).toBe(9);
    expect(f('2 ^ 3 ^ 2')).toBe(512);
    expect(f('-2 ^ 2')).toBe(-4);
    expect(f('(-2) ^ 2')).toBe(4);
    expect(f('8 / 4 / 2')).toBe(1);
    expect(f('10 - 4 - 3')).toBe(3);
    expect(f('--correct + +format', { correct: 2, format: 3 })).toBe(5);
    expect(f('2 * -correct', { correct: 3 })).toBe(-6);
  });

  it('has min max abs floor ceil exp log sqrt clip', () => {
    expect(f('min(correct, format, length)', { correct: 3, format: -1, length: 2 })).toBe(-1);
    expect(f('max(correct, format, length)', { correct: 3, format: -1, length: 2 })).toBe(3);
    expect(f('min(correct)', { correct: 3 })).toBe(3);
    expect(f('abs(-2.5) + floor(1.7) + ceil(1.2)')).toBe(5.5);
    expect(f('log(exp(2))')).toBeCloseTo(2, 12);
    expect(f('sqrt(16)')).toBe(4);
    expect(f('clip(length / 100, 0, 1)', { length: 250 })).toBe(1);
    expect(f('clip(length / 100, 0, 1)', { length: -5 })).toBe(0);
    expect(f('clip(length / 100, 0, 1)', { length: 50 })).toBe(0.5);
  });

  it('returns null for a non-finite result; intermediate infinities follow IEEE rules', () => {
    expect(f('correct / format', { correct: 1, format: 0 })).toBeNull();
    expect(f('0 / 0')).toBeNull();
    expect(f('log(0)')).toBeNull();
    expect(f('sqrt(-1)')).toBeNull();
    expect(f('exp(1000)')).toBeNull();
    expect(f('min(1, 1 / 0)')).toBe(1);
    expect(f('exp(-1 / 0)')).toBe(0);
  });

  it('on_null null (default) nulls the reward when a named component is null; zero reads it as 0', () => {
    expect(f('correct + format', { correct: 1, format: null })).toBeNull();
    expect(f('correct ^ 0', { correct: null })).toBeNull(); // Math.pow(NaN, 0) would be 1
    expect(f('min(correct, 5)', { correct: null })).toBeNull();
    expect(f('correct + format', { correct: 1, format: null }, 'zero')).toBe(1);
    expect(f('correct ^ 0', { correct: null }, 'zero')).toBe(1);
    expect(f('correct * 2', { correct: 1, format: null, length: null })).toBe(2); // unnamed components are not read
  });

  it('rejects on_null policies it cannot honour', () => {
    for (const on_null of ['renormalize', 'exclude'] as const) {
      const e = paramError(() => buildCombiner({ type: 'formula', expression: 'correct', on_null }, contextOf(names)));
      expect(e.param).toBe('on_null');
      expect(e.message).toMatch(/null \| zero/);
    }
  });

  const rejected: [string, RegExp][] = [
    ['x = 1', /assignment "x = 1"/],
    ['g(x) = x', /function definition/],
    ['correct.value', /property or index access/],
    ['correct[1]', /property or index access/],
    ['"text"', /"\\"text\\"" is not a number/],
    ['[1, 2]', /matrix/],
    ['{a: 1}', /object/],
    ['correct > 0.5 ? 1 : 0', /conditional/],
    ['correct > 0.5', /operator ">"/],
    ['correct < format < 1', /comparison/],
    ['correct and format', /operator "and"/],
    ['not correct', /operator "not"/],
    ['5!', /operator "!"/],
    ['correct % 2', /operator "%"/],
    ['correct mod 2', /operator "mod"/],
    ['correct .* format', /operator ".\*"/],
    ["correct'", /operator "'"/],
    ['correct to format', /operator "to"/],
    ['1:3', /range/],
    ['correct; format', /several statements/],
    ['true', /"true" is not a number/],
    ['2 correct', /implicit multiplication/],
    ['correct format', /implicit multiplication/],
    ['pi', /unknown name "pi"/],
    ['corect + 1', /unknown name "corect"; known components: "correct", "format", "length"/],
    ['evaluate("1+1")', /function "evaluate" is not allowed/],
    ['import(x)', /function "import" is not allowed/],
    ['sin(correct)', /function "sin" is not allowed/],
    ['log(correct, 2)', /log takes 1 argument/],
    ['clip(correct, 0)', /clip takes 3 arguments/],
    ['max()', /max needs at least 1 argument/],
    ['min + 1', /min is a function/],
    ['1e400', /not finite/],
    ['correct +', /cannot parse/],
    ['', /./],
  ];
  it.each(rejected)('rejects %j naming the offending token', (expression, message) => {
    const build = () => buildCombiner({ type: 'formula', expression }, contextOf(names));
    if (expression === '') {
      expect(build).toThrow(); // zod: the expression must be non-empty
      return;
    }
    const e = paramError(build);
    expect(e.param).toBe('expression');
    expect(e.message).toMatch(message);
  });

  it('names only identifier-like components', () => {
    const ctx = contextOf(['format-ok', 'ok_2', 'café']);
    expect(buildCombiner({ type: 'formula', expression: 'ok_2 + café' }, ctx).combine(Float64Array.of(0, 1, 2))).toBe(3);
    expect(paramError(() => buildCombiner({ type: 'formula', expression: 'format-ok' }, ctx)).message).toMatch(/unknown name "format".*identifier/);
  });

  it('property: a*w1 + b*w2 equals weighted_sum with weights w1, w2', () => {
    const num = fc.double({ min: -100, max: 100, noNaN: true });
    fc.assert(
      fc.property(num, num, num, num, (a, b, w1, w2) => {
        const ctx = { names: ['a', 'b'], weights: Float64Array.of(w1, w2) };
        const row = Float64Array.of(a, b);
        const formula = buildCombiner({ type: 'formula', expression: `a*${w1} + b*${w2}` }, ctx).combine(row);
        const sum = buildCombiner({ type: 'weighted_sum' }, ctx).combine(row);
        expect(formula + 0).toBe(sum + 0); // exact, but for the sign of a zero
      }),
    );
  });

  it('property: random expressions evaluate like the reference arithmetic', () => {
    type Expr = { src: string; eval: (x: number, y: number) => number };
    const leaf: fc.Arbitrary<Expr> = fc.oneof(
      fc.constant<Expr>({ src: 'x', eval: (x) => x }),
      fc.constant<Expr>({ src: 'y', eval: (_, y) => y }),
      fc.integer({ min: 0, max: 9 }).map((n): Expr => ({ src: String(n), eval: () => n })),
    );
    const ops: Record<string, (a: number, b: number) => number> = {
      '+': (a, b) => a + b,
      '-': (a, b) => a - b,
      '*': (a, b) => a * b,
      '/': (a, b) => a / b,
    };
    const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/'), tie('expr')).map(([a, op, b]): Expr => ({
          src: `(${a.src} ${op} ${b.src})`,
          eval: (x, y) => ops[op]!(a.eval(x, y), b.eval(x, y)),
        })),
        tie('expr').map((a): Expr => ({ src: `-${a.src}`, eval: (x, y) => -a.eval(x, y) })),
        fc.tuple(tie('expr'), tie('expr')).map(([a, b]): Expr => ({ src: `max(${a.src}, ${b.src})`, eval: (x, y) => Math.max(a.eval(x, y), b.eval(x, y)) })),
      ),
    }));
    fc.assert(
      fc.property(expr, fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true }), (e, x, y) => {
        const got = buildCombiner({ type: 'formula', expression: e.src }, contextOf(['x', 'y'])).combine(Float64Array.of(x, y));
        const want = e.eval(x, y);
        if (Number.isFinite(want)) expect(got).toBe(want);
        else expect(got).toBeNaN();
      }),
    );
  });
});
