import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StepwiseCentring } from './centring.js';
import { expectClose } from './testing.js';

describe('StepwiseCentring (ProRL)', () => {
  it('known values, the 0.1 std floor and freezing', () => {
    expectClose(new StepwiseCentring().update([1, 2, 3]).apply([1, 2, 3, NaN]), [-1, 0, 1, NaN]);
    expectClose(new StepwiseCentring().update([1, 1]).apply([1, 1.1]), [0, 1]);
    expectClose(new StepwiseCentring().update([5]).apply([5.2]), [2]);
    const c = new StepwiseCentring().update([0, 2]);
    c.frozen = true;
    c.update([100, 200]);
    expect(c.mean).toBe(1);
    expect(c.count).toBe(2);
    expect(() => new StepwiseCentring(0)).toThrow(/minStd/);
  });

  it('save → JSON → load continues exactly; reset forgets; a malformed state is rejected', () => {
    const a = new StepwiseCentring().update([1, 4, 2]);
    const b = new StepwiseCentring();
    b.load(JSON.parse(JSON.stringify(a.save())));
    a.update([7]);
    b.update([7]);
    expect([b.count, b.mean, b.std]).toEqual([a.count, a.mean, a.std]);
    b.reset();
    expect([b.count, b.mean, b.std]).toEqual([0, 0, 0.1]);
    expect(() => b.load({ count: -1, mean: 0, m2: 0 })).toThrow(/count is -1/);
    expect(() => b.load({ count: 1, mean: 0, m2: -2 })).toThrow(/m2 is -2/);
    expect(() => b.load('x')).toThrow(/must be an object/);
  });

  it('running stats over several batches equal the stats of their concatenation', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { maxLength: 6 }), { maxLength: 5 }), (batches) => {
        const a = new StepwiseCentring();
        for (const b of batches) a.update(b);
        const all = batches.flat();
        const b = new StepwiseCentring().update(all);
        expect(a.count).toBe(all.length);
        expectClose([a.mean, a.std], [b.mean, b.std], 1e-9);
      }),
    );
  });

  it('property: centred rewards have zero mean, so an average step adds nothing to the return (path extension)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 30 }), (xs) => {
        const c = new StepwiseCentring().update(xs);
        const centred = c.apply(xs);
        const mean = centred.reduce((s, v) => s + v, 0) / xs.length;
        expect(Math.abs(mean)).toBeLessThanOrEqual(1e-9 * Math.max(1, ...Array.from(centred, Math.abs)));
        const path = c.apply(xs.slice(0, 3));
        const extended = c.apply([...xs.slice(0, 3), c.mean]);
        const ret = (r: Float64Array) => r.reduce((s, v) => s + v, 0);
        expectClose([ret(extended)], [ret(path)], 1e-9);
      }),
    );
  });
});
