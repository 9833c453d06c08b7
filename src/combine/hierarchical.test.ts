import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError } from '../graders/types.js';
import { buildCombiner, type CombineSpecInput } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const search = {
  type: 'hierarchical',
  levels: [{ constraints: { grounded: 1, format: 1 }, floor: -1 }, { rewards: ['robust', 'aligned'] }],
} satisfies CombineSpecInput;
const searchNames = ['grounded', 'format', 'robust', 'aligned'];

// ChatShopBuddy's HRM reading: R = g_correct·(r_correct + g_quality·(r_persuasive + r_quality)) + r_process
const hrm: CombineSpecInput = {
  type: 'hierarchical',
  levels: [
    { rewards: ['correct', 'process'], constraints: { correct: 1 } },
    { constraints: { quality: 0.5 } },
    { rewards: ['persuasive', 'quality'] },
  ],
};
const hrmNames = ['correct', 'process', 'persuasive', 'quality'];

type Level = { constraints?: Record<string, number>; rewards?: string[]; floor?: number };

const unit = fc.double({ min: 0, max: 1, noNaN: true });

function paramError(f: () => unknown): ParamError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('no ParamError thrown');
}

describe('hierarchical', () => {
  it('SearchLLM gated aggregation: Σ w·b when all bottom lines hold, else the floor', () => {
    expect(combineOnce(search, searchNames, { grounded: 1, format: 1, robust: 0.5, aligned: 0.75 })).toBe(1.25);
    expect(combineOnce(search, searchNames, { grounded: 0, format: 1, robust: 1, aligned: 1 })).toBe(-1);
    expect(combineOnce(search, searchNames, { grounded: 1, format: 0.99, robust: 1, aligned: 1 })).toBe(-1);
    expect(combineOnce(search, { grounded: 1, format: 1, robust: 2, aligned: 0.5 }, { grounded: 1, format: 1, robust: 0.5, aligned: 1 })).toBe(1.5);
  });

  it('ChatShopBuddy HRM reading matches its formula', () => {
    const r = (v: Record<string, number>) => combineOnce(hrm, hrmNames, v);
    expect(r({ correct: 0, process: 0.25, persuasive: 1, quality: 1 })).toBe(0.25);
    expect(r({ correct: 1, process: 0.25, persuasive: 1, quality: 0.25 })).toBe(1.25);
    expect(r({ correct: 1, process: 0.25, persuasive: 0.5, quality: 0.75 })).toBe(2.5);
  });

  it('without a floor a failed level yields the reward accumulated through it; with one, the floor', () => {
    const names = ['a', 'b', 'c'];
    const levels: Level[] = [{ rewards: ['a'], constraints: { a: 0.5 } }, { rewards: ['b'], constraints: { b: 0.5 } }, { rewards: ['c'] }];
    const spec = { type: 'hierarchical', levels } satisfies CombineSpecInput;
    expect(combineOnce(spec, names, { a: 0.25, b: 1, c: 1 })).toBe(0.25);
    expect(combineOnce(spec, names, { a: 1, b: 0.25, c: 1 })).toBe(1.25);
    expect(combineOnce(spec, names, { a: 1, b: 1, c: 1 })).toBe(3);
    const floored = { type: 'hierarchical', levels: [levels[0]!, { ...levels[1]!, floor: 0.1 }, levels[2]!] } satisfies CombineSpecInput;
    expect(combineOnce(floored, names, { a: 1, b: 0.25, c: 1 })).toBe(0.1);
    expect(combineOnce(floored, names, { a: 0.25, b: 0.25, c: 1 })).toBe(0.25);
  });

  it('a null constraint fails; on_null applies to the counted rewards; a floor is returned as is', () => {
    expect(combineOnce(search, searchNames, { grounded: null, format: 1, robust: 1, aligned: 1 })).toBe(-1);
    const row = { grounded: 1, format: 1, robust: 0.5, aligned: null };
    expect(combineOnce(search, searchNames, row)).toBe(0.5);
    expect(combineOnce({ ...search, on_null: 'renormalize' }, searchNames, row)).toBe(1);
    expect(combineOnce({ ...search, on_null: 'exclude' }, searchNames, row)).toBe(0.5);
    expect(combineOnce({ ...search, on_null: 'zero' }, searchNames, row)).toBe(0.5);
    expect(combineOnce({ ...search, on_null: 'null' }, searchNames, row)).toBeNull();
    expect(combineOnce({ ...search, on_null: 'null' }, searchNames, { ...row, grounded: 0 })).toBe(-1);
    expect(combineOnce(search, searchNames, { grounded: 1, format: 1, robust: null, aligned: null })).toBeNull();
  });

  it('checks component names with the param path, and duplicate rewards', () => {
    const ctx = contextOf(searchNames);
    let e = paramError(() => buildCombiner({ type: 'hierarchical', levels: [{ constraints: { grounding: 1 } }] }, ctx));
    expect(e.param).toBe('levels.0.constraints.grounding');
    expect(e.message).toContain('"grounded", "format", "robust", "aligned"');
    e = paramError(() => buildCombiner({ type: 'hierarchical', levels: [{ rewards: ['robust'] }, { rewards: ['x'] }] }, ctx));
    expect(e.param).toBe('levels.1.rewards.0');
    e = paramError(() => buildCombiner({ type: 'hierarchical', levels: [{ rewards: ['robust'] }, { rewards: ['aligned', 'robust'] }] }, ctx));
    expect(e.param).toBe('levels.1.rewards.1');
    expect(() => buildCombiner({ type: 'hierarchical', levels: [] }, ctx)).toThrow();
  });

  it('property: with floor ≤ the least compliant reward, any violated bottom line gives R ≤ every compliant R', () => {
    // rewards in [0, 1] with weights ≥ 0: a compliant response gets ≥ 0, so any floor ≤ 0 works
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 0, noNaN: true }),
        fc.tuple(unit, unit, fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })),
        fc.tuple(unit, unit, unit, unit),
        fc.tuple(unit, unit, unit, unit),
        (floor, [t1, t2, w1, w2], violating, compliant) => {
          const ctx = { names: searchNames, weights: Float64Array.of(1, 1, w1, w2) };
          const c = buildCombiner({ type: 'hierarchical', levels: [{ constraints: { grounded: t1, format: t2 }, floor }, { rewards: ['robust', 'aligned'] }] }, ctx);
          const [g, f] = violating;
          fc.pre(g < t1 || f < t2);
          fc.pre(compliant[0] >= t1 && compliant[1] >= t2);
          expect(c.combine(Float64Array.from(violating))).toBeLessThanOrEqual(c.combine(Float64Array.from(compliant)));
        },
      ),
    );
  });

  it('a floor above the least compliant reward breaks that guarantee (documented, not checked)', () => {
    const high = { type: 'hierarchical', levels: [{ constraints: { grounded: 1, format: 1 }, floor: 0.5 }, { rewards: ['robust', 'aligned'] }] } satisfies CombineSpecInput;
    const violated = combineOnce(high, searchNames, { grounded: 0, format: 1, robust: 0, aligned: 0 })!;
    const compliant = combineOnce(high, searchNames, { grounded: 1, format: 1, robust: 0, aligned: 0 })!;
    expect(violated).toBeGreaterThan(compliant);
  });

  it('property: with the correctness gate failed, R does not depend on the subjective scores', () => {
    fc.assert(
      fc.property(unit, unit, fc.tuple(unit, unit), fc.tuple(unit, unit), (correct, process, s1, s2) => {
        fc.pre(correct < 1);
        const c = buildCombiner(hrm, contextOf(hrmNames));
        expect(c.combine(Float64Array.of(correct, process, ...s1))).toBe(c.combine(Float64Array.of(correct, process, ...s2)));
        expect(c.combine(Float64Array.of(correct, process, NaN, NaN))).toBe(correct + process);
      }),
    );
  });

  it('property: equals the HRM formula for a binary correctness', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), unit, unit, unit, (correct, process, persuasive, quality) => {
        const c = buildCombiner(hrm, contextOf(hrmNames));
        const expected = correct * (correct + (quality >= 0.5 ? 1 : 0) * (persuasive + quality)) + process;
        expect(c.combine(Float64Array.of(correct, process, persuasive, quality))).toBeCloseTo(expected, 12);
      }),
    );
  });
});
