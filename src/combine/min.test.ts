import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError } from '../graders/types.js';
import { buildCombiner } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const hhh = ['helpful', 'harmless', 'honest'];

describe('min', () => {
  it('is the smallest component, weights not scaling it', () => {
    expect(combineOnce({ type: 'min' }, hhh, { helpful: 0.9, harmless: 0.4, honest: 0.7 })).toBe(0.4);
    expect(combineOnce({ type: 'min' }, { helpful: 5, harmless: 0.1, honest: 1 }, { helpful: 0.9, harmless: 0.4, honest: 0.7 })).toBe(0.4);
    expect(combineOnce({ type: 'min' }, ['a', 'b'], { a: -2, b: 3 })).toBe(-2);
  });

  it('applies each on_null policy', () => {
    const row = { helpful: 0.9, harmless: null, honest: 0.7 };
    expect(combineOnce({ type: 'min' }, hhh, row)).toBe(0);
    expect(combineOnce({ type: 'min', on_null: 'exclude' }, hhh, row)).toBe(0);
    expect(combineOnce({ type: 'min', on_null: 'exclude' }, hhh, { helpful: -1, harmless: null, honest: 0.7 })).toBe(-1);
    expect(combineOnce({ type: 'min', on_null: 'renormalize' }, hhh, row)).toBe(0.7);
    expect(combineOnce({ type: 'min', on_null: 'zero' }, hhh, row)).toBe(0);
    expect(combineOnce({ type: 'min', on_null: 'zero' }, hhh, { helpful: -1, harmless: null, honest: 0.7 })).toBe(-1);
    expect(combineOnce({ type: 'min', on_null: 'null' }, hhh, row)).toBeNull();
    expect(combineOnce({ type: 'min' }, hhh, { helpful: null, harmless: null, honest: null })).toBeNull();
    expect(combineOnce({ type: 'min', on_null: 'zero' }, hhh, { helpful: null, harmless: null, honest: null })).toBe(0);
  });

  it('leaves out weight-0 components and rejects negative weights', () => {
    expect(combineOnce({ type: 'min' }, { a: 1, log: 0 }, { a: 0.5, log: -100 })).toBe(0.5);
    expect(() => buildCombiner({ type: 'min' }, contextOf({ a: 1, b: -0.5 }))).toThrow(ParamError);
  });

  it('property: under renormalize the min is one of the present values and ≤ all of them', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: null, freq: 3 }), { minLength: 1, maxLength: 8 }), (vals) => {
        const present = vals.filter((v): v is number => v !== null);
        fc.pre(present.length > 0);
        const ctx = contextOf(vals.map((_, k) => `c${k}`));
        const r = buildCombiner({ type: 'min', on_null: 'renormalize' }, ctx).combine(Float64Array.from(vals, (v) => v ?? NaN));
        expect(present).toContain(r);
        for (const v of present) expect(r).toBeLessThanOrEqual(v);
      }),
    );
  });

  it('property: by default a null never pays more than a 0 in its place', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.double({ min: -10, max: 10, noNaN: true }), { nil: null, freq: 3 }), { minLength: 1, maxLength: 8 }), (vals) => {
        const ctx = contextOf(vals.map((_, k) => `c${k}`));
        const c = buildCombiner({ type: 'min' }, ctx);
        const r = c.combine(Float64Array.from(vals, (v) => v ?? NaN));
        if (vals.every((v) => v === null)) {
          expect(r).toBeNaN();
          return;
        }
        expect(r).toBe(c.combine(Float64Array.from(vals, (v) => v ?? 0)));
      }),
    );
  });
});
