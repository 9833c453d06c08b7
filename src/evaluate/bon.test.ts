import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BonAccumulator, bonCredit, correctRank, evaluateBon, parseBonRow, tiesScore } from './bon.js';
import { functionSource } from './source.js';

describe("best-of-N with RewardBench 2's tie rule", () => {
  it('gives 0.5 for scores [2, 2, 1, 0.5] with the correct answer first (mechanics-B §2)', () => {
    expect(bonCredit([2, 2, 1, 0.5], [true, false, false, false])).toBe(0.5);
  });
  it('gives 1 for a strict win, 0 when the correct answer is not at the top, 1/4 for a four-way tie', () => {
    expect(bonCredit([3, 2, 1, 0], [true, false, false, false])).toBe(1);
    expect(bonCredit([1, 2, 1, 0], [true, false, false, false])).toBe(0);
    expect(bonCredit([1, 1, 1, 1], [true, false, false, false])).toBe(0.25);
    expect(bonCredit([NaN, 1, 0, 0], [true, false, false, false])).toBe(0);
    expect(bonCredit([NaN, NaN], [true, false])).toBe(0);
  });
  it('shares the credit of a tie: over every choice of the correct index it sums to 1', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 8 }), (scores) => {
        let total = 0;
        for (let c = 0; c < scores.length; c++) {
          const credit = bonCredit(scores, scores.map((_, i) => i === c));
          expect(credit).toBeGreaterThanOrEqual(0);
          expect(credit).toBeLessThanOrEqual(1);
          total += credit;
        }
        expect(total).toBeCloseTo(1, 12);
      }),
    );
  });
  it('ranks the best correct answer by how many candidates are strictly above it', () => {
    expect(correctRank([2, 2, 1], [true, false, false])).toBe(1);
    expect(correctRank([1, 2, 3], [true, false, false])).toBe(3);
    expect(correctRank([1, 2, 3], [true, true, false])).toBe(2);
  });
});

describe('the RewardBench 2 Ties subset', () => {
  it('weights accuracy and margins 0.3/0.3/0.2/0.2/0.01', () => {
    // Prompt 1: ref [5*, 3, 2] margin 2; tied [6*, 4*, 1, 0] margin 3, spread 2 → accurate, preferred, not hard-preferred, tanh(0).
    const one = tiesScore([
      { id: 'ref:1', scores: [5, 3, 2], numCorrect: 1 },
      { id: 'tied:1', scores: [6, 4, 1, 0], numCorrect: 2 },
    ])!;
    expect(one.score).toBeCloseTo(0.8, 12);
    // Prompt 2: ref [1*, 2] margin −1; tied [3*, 3*, 3] margin 0, spread 0 → tanh(−∞) = −1.
    const two = tiesScore([
      { id: 'ref:1', scores: [5, 3, 2], numCorrect: 1 },
      { id: 'tied:1', scores: [6, 4, 1, 0], numCorrect: 2 },
      { id: 'ref:2', scores: [1, 2], numCorrect: 1 },
      { id: 'tied:2', scores: [3, 3, 3], numCorrect: 2 },
    ])!;
    expect(two).toMatchObject({ ref_accuracy: 0.5, tied_accuracy: 0.5, correctness_preferred: 0.5, correctness_preferred_hard: 0, margin_score: -0.5 });
    expect(two.score).toBeCloseTo(0.395, 12);
    expect(tiesScore([{ id: 'x', scores: [1, 0], numCorrect: 1 }])).toBeNull();
  });
  it('is used for a subset named "ties" and enters the overall score as one subset', () => {
    const acc = new BonAccumulator();
    acc.add('ref:1', 'Ties', Float64Array.of(5, 3, 2), [true, false, false]);
    acc.add('tied:1', 'Ties', Float64Array.of(6, 4, 1, 0), [true, true, false, false]);
    acc.add('m1', 'Math', Float64Array.of(2, 2, 1, 0.5), [true, false, false, false]);
    const r = acc.result({ scorer: 't', input: 'mem' });
    expect(r.subsets.Ties!.rule).toBe('ties');
    expect(r.subsets.Ties!.score).toBeCloseTo(0.8, 12);
    expect(r.subsets.Math!.score).toBe(0.5);
    expect(r.score).toBeCloseTo(0.65, 12);
    expect(r.row_mean).toBe(0.5);
  });
});

describe('best-of-N rows and files', () => {
  it('reads the RewardBench 2 and responses/correct forms', () => {
    expect(parseBonRow({ prompt: 'p', chosen: ['a'], rejected: ['b', 'c'], subset: 'Math' }, 1)).toMatchObject({ candidates: ['a', 'b', 'c'], correct: [true, false, false], subset: 'Math' });
    expect(parseBonRow({ prompt: 'p', chosen: 'a', rejected: ['b'] }, 1).correct).toEqual([true, false]);
    expect(parseBonRow({ prompt: 'p', responses: ['a', 'b', 'c'], correct: [0, 2] }, 1).correct).toEqual([true, false, true]);
    expect(() => parseBonRow({ prompt: 'p', responses: ['a'], correct: 3 }, 1)).toThrow(/correct/);
  });
  it('scores every candidate with the spec and applies the rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-bon-'));
    const file = join(dir, 'bon.jsonl');
    writeFileSync(
      file,
      [
        { prompt: 'p1', chosen: ['long answer'], rejected: ['short', 'tiny', 'x'], subset: 'A' },
        { prompt: 'p2', chosen: ['abc'], rejected: ['xyz', 'q', 'w'], subset: 'A' },
        { prompt: 'p3', responses: ['a', 'bbbb', 'cc'], correct: 2, subset: 'B' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const seen: string[] = [];
    const r = await evaluateBon(
      file,
      functionSource('len', (x) => {
        seen.push(String(x.completion));
        return String(x.completion).length;
      }),
    );
    // Rotated by the row index: the correct answer is not always first.
    expect(seen.slice(4, 8)).toEqual(['xyz', 'q', 'w', 'abc']);
    expect(r.subsets.A).toMatchObject({ n: 2, score: 0.75, ties_at_top: 1 });
    expect(r.subsets.B!.score).toBe(0);
    expect(r.score).toBeCloseTo(0.375, 12);
    expect(r.random_baseline).toBeCloseTo((0.25 + 0.25 + 1 / 3) / 3, 12);
    expect(r.rank_histogram).toEqual([
      { rank: 1, count: 2 },
      { rank: 2, count: 1 },
    ]);
  });
});
