import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maxAssignment } from './assign.js';

function bruteForce(score: number[][]): number {
  const rows = score.length;
  const cols = score[0]?.length ?? 0;
  let best = 0;
  const used = new Array<boolean>(cols).fill(false);
  const go = (i: number, acc: number) => {
    if (i === rows) {
      best = Math.max(best, acc);
      return;
    }
    go(i + 1, acc);
    for (let j = 0; j < cols; j++) {
      if (used[j]) continue;
      used[j] = true;
      go(i + 1, acc + score[i]![j]!);
      used[j] = false;
    }
  };
  go(0, 0);
  return best;
}

describe('maxAssignment', () => {
  it('finds the best pairing where greedy would not', () => {
    // Greedy takes (0,0)=0.9 and is left with 0.1; the best is 0.8 + 0.8.
    const r = maxAssignment([
      [0.9, 0.8],
      [0.8, 0.1],
    ]);
    expect(r.total).toBeCloseTo(1.6, 12);
    expect(r.columnOf).toEqual([1, 0]);
  });

  it('handles empty and rectangular matrices', () => {
    expect(maxAssignment([])).toEqual({ columnOf: [], total: 0 });
    expect(maxAssignment([[], []])).toEqual({ columnOf: [-1, -1], total: 0 });
    const r = maxAssignment([[1], [3], [2]]);
    expect(r.total).toBe(3);
    expect(r.columnOf).toEqual([-1, 0, -1]);
  });

  it('matches brute force, with each column used at most once', () => {
    const matrix = fc.integer({ min: 1, max: 5 }).chain((rows) =>
      fc.integer({ min: 1, max: 5 }).chain((cols) => fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows })),
    );
    fc.assert(
      fc.property(matrix, (m) => {
        const r = maxAssignment(m);
        expect(r.total).toBeCloseTo(bruteForce(m), 9);
        const cols = r.columnOf.filter((c) => c >= 0);
        expect(new Set(cols).size).toBe(cols.length);
        expect(r.columnOf.reduce((s, c, i) => s + (c >= 0 ? m[i]![c]! : 0), 0)).toBeCloseTo(r.total, 9);
      }),
      { numRuns: 300 },
    );
  });
});
