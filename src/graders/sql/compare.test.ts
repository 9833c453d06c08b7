import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cellKey, resultsMatch, type CompareOptions } from './compare.js';

const spider: CompareOptions = { ordered: false, columns: 'permuted', rows: 'multiset' };
const t = (rows: unknown[][], columns = rows[0]?.length ?? 1) => ({ columns, rows });

describe('resultsMatch', () => {
  it('compares rows as a multiset unless ordered', () => {
    expect(resultsMatch(t([[1], [2], [2]]), t([[2], [1], [2]]), spider)).toBe(true);
    expect(resultsMatch(t([[1], [2], [2]]), t([[1], [1], [2]]), spider)).toBe(false);
    expect(resultsMatch(t([[1], [2]]), t([[2], [1]]), { ...spider, ordered: true })).toBe(false);
    expect(resultsMatch(t([[1], [2]]), t([[1], [2]]), { ...spider, ordered: true })).toBe(true);
  });

  it('allows any column order unless told otherwise', () => {
    const gold = t([
      [1, 'a', 'x'],
      [2, 'b', 'x'],
    ]);
    const pred = t([
      ['x', 'b', 2],
      ['x', 'a', 1],
    ]);
    expect(resultsMatch(gold, pred, spider)).toBe(true);
    expect(resultsMatch(gold, pred, { ...spider, columns: 'ordered' })).toBe(false);
    // Same column multisets, but no single permutation lines the rows up.
    expect(resultsMatch(t([[1, 2], [2, 1]]), t([[1, 1], [2, 2]]), spider)).toBe(false);
    expect(resultsMatch(t([[1, 2]]), t([[1, 2, 3]]), spider)).toBe(false);
  });

  it('compares numbers by value, INTEGER or REAL, and keeps types apart otherwise', () => {
    expect(resultsMatch(t([[1, 2.5]]), t([[1n, 2.5]]), spider)).toBe(true);
    expect(resultsMatch(t([[1]]), t([['1']]), spider)).toBe(false);
    expect(resultsMatch(t([[null]]), t([['']]), spider)).toBe(false);
    expect(cellKey(Buffer.from([0, 255]))).toBe(cellKey(new Uint8Array([0, 255])));
    expect(cellKey(9007199254740993n)).not.toBe(cellKey(9007199254740992n));
  });

  it('treats two empty results as equal, set semantics on request', () => {
    expect(resultsMatch(t([], 2), t([], 3), spider)).toBe(true);
    expect(resultsMatch(t([], 1), t([[1]]), spider)).toBe(false);
    const set: CompareOptions = { ...spider, rows: 'set' };
    expect(resultsMatch(t([[1], [2]]), t([[2], [1], [1]]), set)).toBe(true);
    expect(resultsMatch(t([[1], [2]]), t([[2], [1], [1]]), spider)).toBe(false);
    expect(resultsMatch(t([[1], [2]]), t([[2], [1]]), { ...set, ordered: true })).toBe(true);
  });

  it('is symmetric and invariant to shuffling rows and columns (multiset, permuted)', () => {
    const cell = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b'), fc.constant(null));
    const table = fc.integer({ min: 1, max: 4 }).chain((cols) => fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { maxLength: 6 }).map((rows) => ({ columns: cols, rows })));
    fc.assert(
      fc.property(table, table, fc.array(fc.nat()), (a, b, seeds) => {
        expect(resultsMatch(a, b, spider)).toBe(resultsMatch(b, a, spider));
        const perm = [...Array(a.columns).keys()].sort((x, y) => (seeds[x] ?? 0) - (seeds[y] ?? 0));
        const shuffled = { columns: a.columns, rows: [...a.rows].reverse().map((r) => perm.map((i) => r[i])) };
        expect(resultsMatch(a, shuffled, spider)).toBe(true);
      }),
    );
  });
});
