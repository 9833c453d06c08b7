import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildCombiner } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const weights = { correct: 1, format: 0.2 };
const value = fc.double({ min: -10, max: 10, noNaN: true });
const nullable = fc.option(value, { nil: null, freq: 3 });

describe('weighted_sum', () => {
  it('is Σ w·c, and the default when combine is omitted', () => {
    expect(combineOnce({ type: 'weighted_sum' }, weights, { correct: 1, format: 0.5 })).toBeCloseTo(1.1, 12);
    expect(combineOnce(undefined, weights, { correct: 1, format: 0.5 })).toBeCloseTo(1.1, 12);
    expect(combineOnce(undefined, { a: 2, b: -0.5 }, { a: 0.25, b: 3 })).toBeCloseTo(-1, 12);
  });

  it('applies each on_null policy', () => {
    const row = { correct: 1, format: null };
    expect(combineOnce({ type: 'weighted_sum' }, weights, row)).toBe(1);
    expect(combineOnce({ type: 'weighted_sum', on_null: 'renormalize' }, weights, row)).toBeCloseTo(1.2, 12);
    expect(combineOnce({ type: 'weighted_sum', on_null: 'exclude' }, weights, row)).toBe(1);
    expect(combineOnce({ type: 'weighted_sum', on_null: 'zero' }, weights, row)).toBe(1);
    expect(combineOnce({ type: 'weighted_sum', on_null: 'null' }, weights, row)).toBeNull();
  });

  it('is null when every component is null, except under zero', () => {
    const row = { correct: null, format: null };
    for (const on_null of ['renormalize', 'exclude', 'null'] as const) {
      expect(combineOnce({ type: 'weighted_sum', on_null }, weights, row)).toBeNull();
    }
    expect(combineOnce({ type: 'weighted_sum', on_null: 'zero' }, weights, row)).toBe(0);
  });

  it('does not read weight-0 components', () => {
    const w = { correct: 1, logged: 0 };
    expect(combineOnce({ type: 'weighted_sum', on_null: 'null' }, w, { correct: 0.5, logged: null })).toBe(0.5);
    expect(combineOnce({ type: 'weighted_sum' }, w, { correct: 0.5, logged: null })).toBe(0.5);
  });

  it('renormalizes by Σ|w| so a penalty keeps its sign', () => {
    // a missing, penalty p = 1 known: -0.5·1 · (1.5 / 0.5) = -1.5
    expect(combineOnce({ type: 'weighted_sum', on_null: 'renormalize' }, { a: 1, p: -0.5 }, { a: null, p: 1 })).toBeCloseTo(-1.5, 12);
  });

  it('property: linear in the component vector (no nulls)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), value, value), { minLength: 1, maxLength: 8 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (cols, alpha) => {
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const c = buildCombiner({ type: 'weighted_sum' }, ctx);
          const x = Float64Array.from(cols, ([, a]) => a);
          const y = Float64Array.from(cols, ([, , b]) => b);
          const mix = Float64Array.from(cols, ([, a, b]) => alpha * a + b);
          const expected = alpha * c.combine(x) + c.combine(y);
          expect(c.combine(mix)).toBeCloseTo(expected, 6);
        },
      ),
    );
  });

  it('property: renormalize keeps the scale — equal present values give value·Σw', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0.01, max: 5, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 8 }),
        value,
        (cols, v) => {
          fc.pre(cols.some(([, present]) => present));
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const row = Float64Array.from(cols, ([, present]) => (present ? v : NaN));
          const total = cols.reduce((s, [w]) => s + w, 0);
          expect(buildCombiner({ type: 'weighted_sum', on_null: 'renormalize' }, ctx).combine(row)).toBeCloseTo(v * total, 6);
        },
      ),
    );
  });

  it('property: exclude sums the present terms, zero equals exclude, null is null iff some null', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), nullable), { minLength: 1, maxLength: 8 }), (cols) => {
        const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
        const row = Float64Array.from(cols, ([, v]) => v ?? NaN);
        const anyNullWeighted = cols.some(([w, v]) => v === null && w !== 0);
        const allWeightedNull = cols.every(([w, v]) => w === 0 || v === null) && cols.some(([w]) => w !== 0);
        const sum = cols.reduce((s, [w, v]) => s + (v === null ? 0 : w * v), 0);
        const ex = buildCombiner({ type: 'weighted_sum', on_null: 'exclude' }, ctx).combine(row);
        if (allWeightedNull) expect(ex).toBeNaN();
        else expect(ex).toBeCloseTo(sum, 9);
        expect(buildCombiner({ type: 'weighted_sum', on_null: 'zero' }, ctx).combine(row)).toBeCloseTo(sum, 9);
        const nu = buildCombiner({ type: 'weighted_sum', on_null: 'null' }, ctx).combine(row);
        expect(Number.isNaN(nu)).toBe(anyNullWeighted);
      }),
    );
  });

  it('renormalize pays an unjudged answer more than a wrong one; the default does not', () => {
    // the R1 recipe: correctness null (cannot judge) vs 0 (wrong), same format
    const unjudged = { correct: null, format: 1 };
    const wrong = { correct: 0, format: 1 };
    expect(combineOnce({ type: 'weighted_sum', on_null: 'renormalize' }, weights, unjudged)!).toBeGreaterThan(combineOnce({ type: 'weighted_sum' }, weights, wrong)!);
    expect(combineOnce({ type: 'weighted_sum' }, weights, unjudged)).toBe(combineOnce({ type: 'weighted_sum' }, weights, wrong));
  });

  it('rejects params it does not have', () => {
    expect(() => buildCombiner({ type: 'weighted_sum', weights: {} } as never, contextOf(['a']))).toThrow(/Unrecognized key/);
  });
});
