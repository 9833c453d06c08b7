import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from './rational.js';

const bigRat = fc
  .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n }))
  .map(([n, d]) => R.rat(n, d));

describe('rational', () => {
  it('normalises sign and common factors', () => {
    expect(R.rat(28n, 6n)).toEqual({ n: 14n, d: 3n });
    expect(R.rat(3n, -6n)).toEqual({ n: -1n, d: 2n });
    expect(() => R.rat(1n, 0n)).toThrow(RangeError);
  });

  it('parses decimals, leading dots and exponents exactly', () => {
    expect(R.parseDecimal('0.1')).toEqual({ n: 1n, d: 10n });
    expect(R.parseDecimal('.25')).toEqual({ n: 1n, d: 4n });
    expect(R.parseDecimal('-12.50')).toEqual({ n: -25n, d: 2n });
    expect(R.parseDecimal('1e-10')).toEqual({ n: 1n, d: 10n ** 10n });
    expect(R.parseDecimal('2.5E+3')).toEqual({ n: 2500n, d: 1n });
    expect(R.parseDecimal('1.2.3')).toBeNull();
    expect(R.parseDecimal('.')).toBeNull();
  });

  it('keeps 1/2^99 and 1/2^98 apart (no double rounding)', () => {
    const a = R.powInt(R.rat(2n), -99n)!;
    const b = R.powInt(R.rat(2n), -98n)!;
    expect(R.eq(a, b)).toBe(false);
    expect(R.toNumber(a)).toBeCloseTo(2 ** -99, 40);
  });

  it('converts huge numerators and denominators to the nearest double', () => {
    const big = R.rat(10n ** 400n + 1n, 10n ** 399n);
    expect(R.toNumber(big)).toBeCloseTo(10, 10);
    expect(R.toNumber(R.rat(1n, 3n))).toBe(1 / 3);
  });

  it('refuses powers beyond the size limit and 0 to a negative power', () => {
    expect(R.powInt(R.rat(10n), 10n ** 6n)).toBeNull();
    expect(R.powInt(R.ZERO, -1n)).toBeNull();
    expect(R.powInt(R.rat(-1n), 10n ** 12n)).toEqual(R.ONE);
  });

  it('takes exact roots only when they exist', () => {
    expect(R.rootExact(R.rat(9n, 4n), 2)).toEqual({ n: 3n, d: 2n });
    expect(R.rootExact(R.rat(-8n), 3)).toEqual({ n: -2n, d: 1n });
    expect(R.rootExact(R.rat(2n), 2)).toBeNull();
    expect(R.rootExact(R.rat(-4n), 2)).toBeNull();
    expect(R.exactRoot(3n ** 200n, 5)).toBe(3n ** 40n);
    expect(R.exactRoot(3n ** 200n + 1n, 5)).toBeNull();
  });

  it('satisfies the field laws (property)', () => {
    fc.assert(
      fc.property(bigRat, bigRat, (a, b) => {
        expect(R.eq(R.sub(R.add(a, b), b), a)).toBe(true);
        if (b.n !== 0n) expect(R.eq(R.mul(R.div(a, b)!, b), a)).toBe(true);
        expect(R.cmp(a, b)).toBe(-R.cmp(b, a));
        expect(R.cmp(R.add(a, b), a)).toBe(b.n === 0n ? 0 : b.n > 0n ? 1 : -1);
      }),
    );
  });
});
