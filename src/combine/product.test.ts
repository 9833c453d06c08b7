import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildCombiner } from './registry.js';
import { combineOnce } from './harness.js';

const cc = ['correct', 'confidence'];

describe('product', () => {
  it('is Π c^w, the plain product with default weights', () => {
    expect(combineOnce({ type: 'product' }, cc, { correct: 1, confidence: 0.8 })).toBe(0.8);
    expect(combineOnce({ type: 'product' }, cc, { correct: 0, confidence: 0.8 })).toBe(0);
    expect(combineOnce({ type: 'product' }, { a: 2, b: 0.5 }, { a: 0.5, b: 0.25 })).toBeCloseTo(0.125, 12);
    expect(combineOnce({ type: 'product' }, { a: 1, b: -1 }, { a: 0.6, b: 0.3 })).toBeCloseTo(2, 12);
  });

  it('applies each on_null policy', () => {
    const row = { correct: 0.5, confidence: null };
    expect(combineOnce({ type: 'product' }, cc, row)).toBe(0);
    expect(combineOnce({ type: 'product', on_null: 'exclude' }, cc, row)).toBe(0);
    expect(combineOnce({ type: 'product', on_null: 'renormalize' }, cc, row)).toBeCloseTo(0.25, 12);
    expect(combineOnce({ type: 'product', on_null: 'zero' }, cc, row)).toBe(0);
    expect(combineOnce({ type: 'product', on_null: 'null' }, cc, row)).toBeNull();
    expect(combineOnce({ type: 'product' }, cc, { correct: null, confidence: null })).toBeNull();
    expect(combineOnce({ type: 'product', on_null: 'zero' }, cc, { correct: null, confidence: null })).toBe(0);
  });

  it('keeps the algebraic sign with integer weights and is null where no real value exists', () => {
    expect(combineOnce({ type: 'product' }, cc, { correct: -0.5, confidence: 0.8 })).toBeCloseTo(-0.4, 12);
    expect(combineOnce({ type: 'product' }, { a: 2 }, { a: -3 })).toBe(9);
    expect(combineOnce({ type: 'product' }, { a: 0.5 }, { a: -4 })).toBeNull();
    expect(combineOnce({ type: 'product' }, { a: -1 }, { a: 0 })).toBeNull();
    // renormalize turns exponent 1 into 2 for the present factor: (-0.5)^2
    expect(combineOnce({ type: 'product', on_null: 'renormalize' }, cc, { correct: -0.5, confidence: null })).toBeCloseTo(0.25, 12);
  });

  it('property: under renormalize / null, log R is the weighted_sum of the logs (positive values, nulls included)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.double({ min: 0.1, max: 3, noNaN: true }), fc.option(fc.double({ min: 0.05, max: 4, noNaN: true }), { nil: null, freq: 4 })),
          { minLength: 1, maxLength: 6 },
        ),
        fc.constantFrom('renormalize', 'null') as fc.Arbitrary<'renormalize' | 'null'>,
        (cols, on_null) => {
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const p = buildCombiner({ type: 'product', on_null }, ctx).combine(Float64Array.from(cols, ([, v]) => v ?? NaN));
          const s = buildCombiner({ type: 'weighted_sum', on_null }, ctx).combine(Float64Array.from(cols, ([, v]) => (v === null ? NaN : Math.log(v))));
          if (Number.isNaN(s)) expect(p).toBeNaN();
          else expect(Math.log(p)).toBeCloseTo(s, 9);
        },
      ),
    );
  });

  it('property: by default a null factor pays no more than a 0 in its place (positive weights)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0.1, max: 3, noNaN: true }), fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null, freq: 3 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (cols) => {
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const c = buildCombiner({ type: 'product' }, ctx);
          const r = c.combine(Float64Array.from(cols, ([, v]) => v ?? NaN));
          if (cols.every(([, v]) => v === null)) {
            expect(r).toBeNaN();
            return;
          }
          expect(r).toBe(c.combine(Float64Array.from(cols, ([, v]) => v ?? 0)));
        },
      ),
    );
  });
});
