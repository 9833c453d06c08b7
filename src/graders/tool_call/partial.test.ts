import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Call, RefCall } from './parse.js';
import { pairCredit, partialCredit, valueEqual } from './partial.js';
import { PyFloat } from './json.js';

const ref = (name: string, args: Record<string, unknown>, optional: string[] = []): RefCall => ({
  name,
  params: new Map(Object.entries(args).map(([k, v]) => [k, { values: [v], optional: optional.includes(k) }])),
});
const call = (name: string, args: Record<string, unknown>): Call => ({ name, args: args as Call['args'] });

describe('partial credit', () => {
  it('credits name, argument names and values, a third each', () => {
    const e = ref('f', { a: 1, b: 'x' });
    expect(pairCredit(call('f', { a: 1, b: 'x' }), e).score).toBe(1);
    expect(pairCredit(call('f', { a: 1, b: 'y' }), e)).toEqual({ score: (1 + 1 + 0.5) / 3, name: 1, keys: 1, values: 0.5 });
    expect(pairCredit(call('f', { a: 1 }), e)).toEqual({ score: (1 + 0.5 + 0.5) / 3, name: 1, keys: 0.5, values: 0.5 });
    expect(pairCredit(call('f', { a: 1, b: 'x', c: 0 }), e).keys).toBeCloseTo(2 / 3, 12);
    expect(pairCredit(call('g', { a: 1, b: 'x' }), e).score).toBe(0);
    expect(pairCredit(call('f', {}), ref('f', {})).score).toBe(1);
    expect(pairCredit(call('f', { z: 1 }), ref('f', {})).score).toBeCloseTo(2 / 3, 12);
  });

  it('expects an omittable argument only when given, and accepts any acceptable value', () => {
    const e: RefCall = { name: 'f', params: new Map([['a', { values: [1, 2], optional: false }], ['u', { values: ['cm', ''], optional: true }]]) };
    expect(pairCredit(call('f', { a: 2 }), e).score).toBe(1);
    expect(pairCredit(call('f', { a: 2, u: 'cm' }), e).score).toBe(1);
    expect(pairCredit(call('f', { a: 2, u: 'mm' }), e).values).toBe(0.5);
    expect(pairCredit(call('f', { a: 2, u: '' }), e).values).toBe(0.5);
  });

  it('pairs calls in any order and divides by the larger count', () => {
    const expected = [ref('f', { a: 1 }), ref('g', { b: 2 })];
    expect(partialCredit([call('g', { b: 2 }), call('f', { a: 1 })], expected).score).toBe(1);
    expect(partialCredit([call('f', { a: 1 })], expected).score).toBe(0.5);
    expect(partialCredit([call('f', { a: 1 }), call('g', { b: 2 }), call('h', {})], expected).score).toBeCloseTo(2 / 3, 12);
    expect(partialCredit([call('f', { a: 1 }), call('g', { b: 2 })], expected, 1).score).toBeCloseTo(2 / 3, 12);
    expect(partialCredit([], []).score).toBe(1);
    expect(partialCredit([], [], 1).score).toBe(0);
    expect(partialCredit([call('f', {})], []).score).toBe(0);
    expect(partialCredit([], expected).score).toBe(0);
  });

  it('lies in [0, 1], is 1 on the expected calls in any order, and never rises when a value is broken', () => {
    const args = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(fc.integer(), fc.string({ maxLength: 3 })), { maxKeys: 4 });
    const calls = fc.array(fc.record({ name: fc.constantFrom('f', 'g', 'h'), args }), { maxLength: 4 });
    fc.assert(
      fc.property(calls, calls, (exp, pred) => {
        const expected = exp.map((c) => ref(c.name, c.args));
        const s = partialCredit(pred.map((c) => call(c.name, c.args)), expected).score;
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1 + 1e-12);
        const same = [...exp].reverse().map((c) => call(c.name, c.args));
        expect(partialCredit(same, expected).score).toBeCloseTo(1, 12);
        const broken = exp.map((c) => call(c.name, Object.fromEntries(Object.entries(c.args).map(([k, v], i) => [k, i === 0 ? [v] : v]))));
        expect(partialCredit(broken, expected).score).toBeLessThanOrEqual(1);
        if (exp.some((c) => Object.keys(c.args).length > 0)) expect(partialCredit(broken, expected).score).toBeLessThan(1);
      }),
    );
  });

  it('compares values as JSON with numbers by value', () => {
    expect(valueEqual(1, new PyFloat(1))).toBe(true);
    expect(valueEqual(true, 1)).toBe(false);
    expect(valueEqual({ a: [1, 'x'] }, { a: [1, 'x'] })).toBe(true);
    expect(valueEqual([1, 2], [2, 1])).toBe(false);
    expect(valueEqual(null, {})).toBe(false);
  });
});
