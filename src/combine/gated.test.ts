import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError } from '../graders/types.js';
import { buildCombiner, type CombineSpecInput } from './registry.js';
import { combineOnce, contextOf } from './harness.js';

const gra = ['outcome', 'step1', 'step2'];
const simple = { type: 'gated', gate: 'outcome', threshold: 0 } satisfies CombineSpecInput;
const value = fc.double({ min: -10, max: 10, noNaN: true });

function paramError(f: () => unknown): ParamError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('no ParamError thrown');
}

describe('gated (G-RA)', () => {
  it('reproduces the paper example: Δ = 0, r_low = [0.2, 0.3]', () => {
    expect(combineOnce(simple, gra, { outcome: -1, step1: 0.2, step2: 0.3 })).toBe(-1);
    expect(combineOnce(simple, gra, { outcome: 1, step1: 0.2, step2: 0.3 })).toBeCloseTo(1.5, 12);
  });

  it('passes on a tie (≥) and uses the raw gate value against the threshold, the weighted one in the sum', () => {
    expect(combineOnce(simple, gra, { outcome: 0, step1: 0.2, step2: 0.3 })).toBeCloseTo(0.5, 12);
    const w = { outcome: 2, step1: 0.5, step2: 0.5 };
    expect(combineOnce({ type: 'gated', gate: 'outcome', threshold: 0.75 }, w, { outcome: 0.5, step1: 1, step2: 1 })).toBe(1);
    expect(combineOnce({ type: 'gated', gate: 'outcome', threshold: 0.75 }, w, { outcome: 1, step1: 1, step2: 1 })).toBe(3);
  });

  it('SWE outcome levels with Δ at the fail level: a failing submitted patch still earns its step rewards', () => {
    const levels = { no_submit: -1, empty: -0.5, fail: 0, pass: 1 };
    const r = (outcome: number) => combineOnce({ type: 'gated', gate: 'outcome', threshold: levels.fail }, gra, { outcome, step1: 0.2, step2: 0.3 });
    expect(r(levels.no_submit)).toBe(-1);
    expect(r(levels.empty)).toBe(-0.5);
    expect(r(levels.fail)).toBeCloseTo(0.5, 12);
    expect(r(levels.pass)).toBeCloseTo(1.5, 12);
  });

  it('a null gate fails', () => {
    expect(combineOnce(simple, gra, { outcome: null, step1: 0.2, step2: 0.3 })).toBeNull();
    expect(combineOnce({ ...simple, on_null: 'zero' }, gra, { outcome: null, step1: 0.2, step2: 0.3 })).toBe(0);
    expect(combineOnce({ ...simple, on_null: 'exclude' }, gra, { outcome: null, step1: 0.2, step2: 0.3 })).toBeNull();
    // a null second gate: only the first gate counts (exclude, the default), rescaled under renormalize
    const two = { type: 'gated', gate: 'outcome', threshold: 0, levels: [{ gate: 'step1', threshold: 0 }] } satisfies CombineSpecInput;
    expect(combineOnce({ ...two, on_null: 'exclude' }, gra, { outcome: 1, step1: null, step2: 0.3 })).toBe(1);
    expect(combineOnce(two, gra, { outcome: 1, step1: null, step2: 0.3 })).toBe(1);
    expect(combineOnce({ ...two, on_null: 'renormalize' }, gra, { outcome: 1, step1: null, step2: 0.3 })).toBe(2);
  });

  it('applies on_null among the counted terms when the gate passes', () => {
    const row = { outcome: 1, step1: 0.2, step2: null };
    expect(combineOnce(simple, gra, row)).toBeCloseTo(1.2, 12);
    expect(combineOnce({ ...simple, on_null: 'renormalize' }, gra, row)).toBeCloseTo(1.2 * 1.5, 12);
    expect(combineOnce({ ...simple, on_null: 'exclude' }, gra, row)).toBeCloseTo(1.2, 12);
    expect(combineOnce({ ...simple, on_null: 'zero' }, gra, row)).toBeCloseTo(1.2, 12);
    expect(combineOnce({ ...simple, on_null: 'null' }, gra, row)).toBeNull();
    // gate failed: the null low-priority component is not read
    expect(combineOnce({ ...simple, on_null: 'null' }, gra, { outcome: -1, step1: 0.2, step2: null })).toBe(-1);
  });

  it('walks several levels, highest priority first', () => {
    const names = ['safe', 'correct', 'style'];
    const spec = { type: 'gated', levels: [{ gate: 'safe', threshold: 1 }, { gate: 'correct', threshold: 0.5 }] } satisfies CombineSpecInput;
    expect(combineOnce(spec, names, { safe: 0, correct: 1, style: 1 })).toBe(0);
    expect(combineOnce(spec, names, { safe: 1, correct: 0.25, style: 1 })).toBe(1.25);
    expect(combineOnce(spec, names, { safe: 1, correct: 0.5, style: 1 })).toBe(2.5);
    // gate/threshold is the first level, levels follow
    const mixed = { type: 'gated', gate: 'safe', threshold: 1, levels: [{ gate: 'correct', threshold: 0.5 }] } satisfies CombineSpecInput;
    expect(combineOnce(mixed, names, { safe: 1, correct: 0.25, style: 1 })).toBe(1.25);
  });

  it('checks its params against the components', () => {
    const ctx = contextOf(gra);
    let e = paramError(() => buildCombiner({ type: 'gated', gate: 'outcom', threshold: 0 }, ctx));
    expect(e.param).toBe('gate');
    expect(e.message).toContain('"outcome", "step1", "step2"');
    e = paramError(() => buildCombiner({ type: 'gated', levels: [{ gate: 'step1', threshold: 0 }, { gate: 'x', threshold: 0 }] }, ctx));
    expect(e.param).toBe('levels.1.gate');
    expect(paramError(() => buildCombiner({ type: 'gated', gate: 'outcome' }, ctx)).param).toBe('threshold');
    expect(paramError(() => buildCombiner({ type: 'gated', threshold: 0 }, ctx)).param).toBe('threshold');
    expect(paramError(() => buildCombiner({ type: 'gated' }, ctx)).param).toBe('gate');
    expect(paramError(() => buildCombiner({ type: 'gated', gate: 'outcome', threshold: 0, levels: [{ gate: 'outcome', threshold: 1 }] }, ctx)).param).toBe('levels.0.gate');
  });

  it('property: a gate-failed rollout gets exactly the gate’s weighted value, whatever the other components', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 5, noNaN: true }),
        value,
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.array(fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.option(value, { nil: null })), { maxLength: 6 }),
        fc.constantFrom('renormalize', 'exclude', 'zero', 'null') as fc.Arbitrary<'renormalize' | 'exclude' | 'zero' | 'null'>,
        (wg, threshold, below, others, on_null) => {
          const g = threshold - below - 1e-9;
          fc.pre(g < threshold);
          const ctx = {
            names: ['gate', ...others.map((_, k) => `c${k}`)],
            weights: Float64Array.from([wg, ...others.map(([w]) => w)]),
          };
          const c = buildCombiner({ type: 'gated', gate: 'gate', threshold, on_null }, ctx);
          expect(c.combine(Float64Array.from([g, ...others.map(([, v]) => v ?? NaN)]))).toBe(0 + wg * g); // exactly, the sum starts at +0
        },
      ),
    );
  });

  it('property: raising a gated component never raises a gate-failed reward', () => {
    fc.assert(
      fc.property(value, value, value, fc.double({ min: 0, max: 100, noNaN: true }), (g, a, b, lift) => {
        fc.pre(g < 0);
        const ctx = contextOf(['gate', 'a', 'b']);
        const c = buildCombiner({ type: 'gated', gate: 'gate', threshold: 0 }, ctx);
        expect(c.combine(Float64Array.of(g, a + lift, b + lift))).toBeLessThanOrEqual(c.combine(Float64Array.of(g, a, b)));
      }),
    );
  });

  it('property: non-decreasing in the gate value (non-negative weights and gated values)', () => {
    fc.assert(
      fc.property(
        value,
        value,
        value,
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true })), { maxLength: 5 }),
        (g1, g2, threshold, wg, others) => {
          const [lo, hi] = g1 <= g2 ? [g1, g2] : [g2, g1];
          const ctx = { names: ['gate', ...others.map((_, k) => `c${k}`)], weights: Float64Array.from([wg, ...others.map(([w]) => w)]) };
          const c = buildCombiner({ type: 'gated', gate: 'gate', threshold }, ctx);
          const rest = others.map(([, v]) => v);
          expect(c.combine(Float64Array.from([lo, ...rest]))).toBeLessThanOrEqual(c.combine(Float64Array.from([hi, ...rest])) + 1e-9);
        },
      ),
    );
  });

  it('property: equals the general form Σ_k (Π_{j higher} 1[R_j ≥ δ_j])·w_k·R_k (no nulls)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), value, fc.double({ min: -5, max: 5, noNaN: true })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), value), { maxLength: 4 }),
        (gates, rest) => {
          const names = [...gates.map((_, k) => `g${k}`), ...rest.map((_, k) => `r${k}`)];
          const weights = Float64Array.from([...gates.map(([w]) => w), ...rest.map(([w]) => w)]);
          const row = Float64Array.from([...gates.map(([, v]) => v), ...rest.map(([, v]) => v)]);
          const c = buildCombiner({ type: 'gated', levels: gates.map(([, , t], k) => ({ gate: `g${k}`, threshold: t })) }, { names, weights });
          let expected = 0;
          let open = 1;
          gates.forEach(([w, v, t]) => {
            expected += open * w * v;
            open *= v >= t ? 1 : 0;
          });
          rest.forEach(([w, v]) => (expected += open * w * v));
          expect(c.combine(row)).toBeCloseTo(expected, 9);
        },
      ),
    );
  });

  it('property: with every gate passing it equals weighted_sum', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.option(value, { nil: null })), { minLength: 1, maxLength: 6 }), value, (cols, g) => {
        const names = ['gate', ...cols.map((_, k) => `c${k}`)];
        const ctx = { names, weights: Float64Array.from([1, ...cols.map(([w]) => w)]) };
        const row = Float64Array.from([g, ...cols.map(([, v]) => v ?? NaN)]);
        const gated = buildCombiner({ type: 'gated', gate: 'gate', threshold: g }, ctx).combine(row);
        const sum = buildCombiner({ type: 'weighted_sum' }, ctx).combine(row);
        expect(gated).toBeCloseTo(sum, 9);
      }),
    );
  });
});
