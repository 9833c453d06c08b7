import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose, stepsOfRollout } from './testing.js';

const values = (rewards: number[]) => rewards.map((_, k) => rewards.slice(0, k + 1).reduce((s, v) => s + v, 0));

describe('rest_mcts credit (value inference along a path)', () => {
  it('mechanics-B §18 examples: m = [2, 1, 0] → v = [1/3, 2/3, 1]; r = [0, 1, 0], m = [2, 2, 1] → v = [1/3, 1/9, 5/9]', () => {
    const correct = batchOf([{ outcome: 1, steps: blankSteps(3) }]);
    const out = buildCredit({ method: 'rest_mcts', whiten: false }).compute(correct);
    expectClose(values(Array.from(out.reward)), [1 / 3, 2 / 3, 1]);
    expectClose(out.returns, [1]);
    expectClose(out.advantage, [1, 2 / 3, 1 / 3]);
    const wrong = batchOf([{ outcome: 0, steps: blankSteps(3) }], { q: [1, 0, 1], m: [2, 2, 1] });
    const w = buildCredit({ method: 'rest_mcts', quality: 'q', distance: 'm' }).compute(wrong);
    expectClose(values(Array.from(w.reward)), [1 / 3, 1 / 9, 5 / 9]);
    expectClose(w.reward, [1 / 3, -2 / 9, 4 / 9]);
    expectClose(w.returns, [5 / 9]);
  });

  it('inferred distances: a successful path of T steps grows v_k = (k+1)/T; a failed path stays at 0', () => {
    const b = batchOf([{ outcome: 1, steps: blankSteps(4) }, { outcome: 0.5, steps: blankSteps(2) }, { outcome: null, steps: blankSteps(1) }, { outcome: 1 }]);
    const out = buildCredit({ method: 'rest_mcts', advantage: 'grpo' }).compute(b);
    expectClose(out.reward, [0.25, 0.25, 0.25, 0.25, 0, 0, NaN]);
    expectClose(out.returns, [1, 0, NaN, 0]);
    expectClose(buildCredit({ method: 'rest_mcts', threshold: 0.5 }).compute(b).returns, [1, 1, NaN, 0]);
  });

  it('property: v stays in [0, 1], an incorrect step never raises it, a correct terminal step (m = 0) reaches 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 8 }),
        (steps) => {
          const b = batchOf([{ outcome: 0, steps: blankSteps(steps.length) }], { q: steps.map((s) => s[0]), m: steps.map((s) => s[1]) });
          const r = stepsOfRollout(b, buildCredit({ method: 'rest_mcts', quality: 'q', distance: 'm' }).compute(b).reward, 0);
          const v = values(r);
          v.forEach((x, k) => {
            expect(x).toBeGreaterThanOrEqual(-1e-12);
            expect(x).toBeLessThanOrEqual(1 + 1e-12);
            if (steps[k][0] === 0) expect(r[k]).toBeLessThanOrEqual(1e-12);
            if (steps[k][0] === 1 && steps[k][1] === 0) expect(Math.abs(x - 1)).toBeLessThanOrEqual(1e-12);
          });
        },
      ),
    );
  });

  it('rejects missing, negative or out-of-range signal values', () => {
    const b = (q: (number | null)[], m: (number | null)[]) => batchOf([{ outcome: 1, steps: blankSteps(2) }], { q, m });
    expect(() => buildCredit({ method: 'rest_mcts', distance: 'm' }).compute(b([1, 1], [1, -1]))).toThrow(/steps\[1\] has distance -1 .*must be ≥ 0/);
    expect(() => buildCredit({ method: 'rest_mcts', quality: 'q' }).compute(b([1.5, 1], [0, 0]))).toThrow(/steps\[0\] has quality 1.5 .*\[0, 1\]/);
    expect(() => buildCredit({ method: 'rest_mcts', quality: 'q' }).compute(b([1, null], [0, 0]))).toThrow(/steps\[1\] has no value for signal "q" \(credit\.quality\)/);
  });
});
