import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError } from '../graders/types.js';
import { buildCombiner } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const value = fc.double({ min: -10, max: 10, noNaN: true });

describe('weighted_mean', () => {
  it('is Σ w·c / Σ w, and the plain mean with default weights', () => {
    expect(combineOnce({ type: 'weighted_mean' }, { a: 3, b: 1 }, { a: 1, b: 0 })).toBe(0.75);
    expect(combineOnce({ type: 'weighted_mean' }, ['a', 'b', 'c'], { a: 1, b: 0, c: 0.5 })).toBe(0.5);
  });

  it('applies each on_null policy', () => {
    const w = { a: 3, b: 1 };
    const row = { a: null, b: 0.5 };
    expect(combineOnce({ type: 'weighted_mean' }, w, row)).toBe(0.125);
    expect(combineOnce({ type: 'weighted_mean', on_null: 'exclude' }, w, row)).toBe(0.125);
    expect(combineOnce({ type: 'weighted_mean', on_null: 'renormalize' }, w, row)).toBe(0.5);
    expect(combineOnce({ type: 'weighted_mean', on_null: 'zero' }, w, row)).toBe(0.125);
    expect(combineOnce({ type: 'weighted_mean', on_null: 'null' }, w, row)).toBeNull();
    expect(combineOnce({ type: 'weighted_mean' }, w, { a: null, b: null })).toBeNull();
    expect(combineOnce({ type: 'weighted_mean', on_null: 'zero' }, w, { a: null, b: null })).toBe(0);
  });

  it('rejects negative weights, naming the component', () => {
    const build = () => buildCombiner({ type: 'weighted_mean' }, contextOf({ good: 1, penalty: -1 }));
    expect(build).toThrow(ParamError);
    expect(build).toThrow(/"penalty" has weight -1/);
  });

  it('does not read weight-0 components; no weighted component at all gives null', () => {
    expect(combineOnce({ type: 'weighted_mean', on_null: 'null' }, { a: 1, log: 0 }, { a: 0.25, log: null })).toBe(0.25);
    expect(combineOnce({ type: 'weighted_mean' }, { log: 0 }, { log: 1 })).toBeNull();
  });

  it('property: renormalize lies within [min, max] of the present components', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.option(value, { nil: null, freq: 3 })), { minLength: 1, maxLength: 8 }),
        (cols) => {
          const present = cols.filter(([w, v]) => w > 0 && v !== null).map(([, v]) => v!);
          fc.pre(present.length > 0);
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const r = buildCombiner({ type: 'weighted_mean', on_null: 'renormalize' }, ctx).combine(Float64Array.from(cols, ([, v]) => v ?? NaN));
          expect(r).toBeGreaterThanOrEqual(Math.min(...present) - 1e-9);
          expect(r).toBeLessThanOrEqual(Math.max(...present) + 1e-9);
        },
      ),
    );
  });

  it('property: exclude equals the mean with every null read as 0 (null only when all are null)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0.01, max: 5, noNaN: true }), fc.option(value, { nil: null, freq: 3 })), { minLength: 1, maxLength: 8 }),
        (cols) => {
          const ctx = { names: cols.map((_, k) => `c${k}`), weights: Float64Array.from(cols, ([w]) => w) };
          const r = buildCombiner({ type: 'weighted_mean' }, ctx).combine(Float64Array.from(cols, ([, v]) => v ?? NaN));
          if (cols.every(([, v]) => v === null)) {
            expect(r).toBeNaN();
            return;
          }
          const zeroed = buildCombiner({ type: 'weighted_mean' }, ctx).combine(Float64Array.from(cols, ([, v]) => v ?? 0));
          expect(r).toBeCloseTo(zeroed, 9);
        },
      ),
    );
  });

  it('property: scaling every weight leaves the mean unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0.01, max: 5, noNaN: true }), value), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (cols, s) => {
          const names = cols.map((_, k) => `c${k}`);
          const row = Float64Array.from(cols, ([, v]) => v);
          const a = buildCombiner({ type: 'weighted_mean' }, { names, weights: Float64Array.from(cols, ([w]) => w) }).combine(row);
          const b = buildCombiner({ type: 'weighted_mean' }, { names, weights: Float64Array.from(cols, ([w]) => w * s) }).combine(row);
          expect(b).toBeCloseTo(a, 9);
        },
      ),
    );
  });
});
