import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootstrapGrouped,
  canonicalizeGrouped,
  canonicalizeTable,
  epicGrouped,
  epicTable,
  evaluateEpic,
  pearsonDistance,
  rewardTable,
  shapeTable,
  stepSource,
  type RewardTable,
} from './epic.js';
import { fieldSource, functionSource } from './source.js';
import { EvalInputError } from './io.js';

// Worked examples: mechanics-B §1 (2 states, 1 action, γ = 0.9, uniform distributions), computed there
// with numpy from HumanCompatibleAI/evaluating-rewards `distances/tabular.py`.
const R = rewardTable(2, 1, (_s, _a, t) => (t === 1 ? 1 : 0));
const R2 = rewardTable(2, 1, (_s, _a, t) => (t === 0 ? 1 : 0));
const R3 = rewardTable(2, 1, (s, _a, t) => (s === 0 && t === 1 ? 1 : 0));

function scaled(T: RewardTable, k: number): RewardTable {
  return { ...T, data: T.data.map((x) => k * x) };
}

describe('EPIC, tabular form: the reference examples', () => {
  it('canonicalises R = 1[s′ = 1] to R − 0.5', () => {
    expect(Array.from(canonicalizeTable(R, 0.9).data)).toEqual([-0.5, 0.5, -0.5, 0.5].map((x) => expect.closeTo(x, 12)));
  });
  it('is 0.0 between R and 2.5·shape(R, Φ = [3, −2])', () => {
    const shaped = scaled(shapeTable(R, [3, -2], 0.9), 2.5);
    expect(Array.from(canonicalizeTable(shaped, 0.9).data)).toEqual([-1.25, 1.25, -1.25, 1.25].map((x) => expect.closeTo(x, 12)));
    expect(epicTable(R, shaped, 0.9)).toBeCloseTo(0, 7);
  });
  it('is 1.0 between R and R2 = 1[s′ = 0]', () => {
    expect(epicTable(R, R2, 0.9)).toBeCloseTo(1, 12);
  });
  it('is 0.671 between R and R3 = 1[s = 0 ∧ s′ = 1], with C(R3) = [−.275, .275, .225, −.225]', () => {
    expect(Array.from(canonicalizeTable(R3, 0.9).data)).toEqual([-0.275, 0.275, 0.225, -0.225].map((x) => expect.closeTo(x, 12)));
    expect(epicTable(R, R3, 0.9)).toBeCloseTo(0.671, 3);
  });
  it('is undefined (NaN) for a reward equivalent to zero', () => {
    const shapedZero = shapeTable(rewardTable(2, 1, () => 0), [1, 4], 0.9);
    expect(epicTable(R, shapedZero, 0.9)).toBeNaN();
  });
});

const table = (S: number, A: number) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: S * A * S, maxLength: S * A * S }).map((xs) => ({ S, A, data: Float64Array.from(xs) }));
const dims = fc.record({ S: fc.integer({ min: 2, max: 4 }), A: fc.integer({ min: 1, max: 3 }) });
/** C(R) spread is not rounding noise: the distance is defined. */
const informative = (T: RewardTable, g: number) => {
  const c = canonicalizeTable(T, g).data;
  const m = c.reduce((a, b) => a + b, 0) / c.length;
  return c.reduce((a, b) => a + (b - m) ** 2, 0) / c.length > 1e-6;
};

describe('EPIC, tabular form: properties (random rewards)', () => {
  it('is invariant to potential shaping and positive scaling', () => {
    fc.assert(
      fc.property(
        dims.chain(({ S, A }) => fc.tuple(table(S, A), fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: S, maxLength: S }))),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        ([T, phi], k, g) => {
          fc.pre(informative(T, g));
          expect(epicTable(T, scaled(shapeTable(T, phi, g), k), g)).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('is symmetric, zero on itself, in [0, 1], 1 against its negation, and C is idempotent', () => {
    fc.assert(
      fc.property(
        dims.chain(({ S, A }) => fc.tuple(table(S, A), table(S, A))),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        ([X, Y], g) => {
          fc.pre(informative(X, g) && informative(Y, g));
          const d = epicTable(X, Y, g);
          expect(d).toBeCloseTo(epicTable(Y, X, g), 10);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(1);
          expect(epicTable(X, X, g)).toBeLessThan(1e-6);
          expect(epicTable(X, scaled(X, -1), g)).toBeCloseTo(1, 6);
          const c = canonicalizeTable(X, g);
          const cc = canonicalizeTable(c, g);
          cc.data.forEach((v, i) => expect(v).toBeCloseTo(c.data[i]!, 9));
        },
      ),
      { numRuns: 300 },
    );
  });
  it('satisfies the triangle inequality', () => {
    fc.assert(
      fc.property(
        dims.chain(({ S, A }) => fc.tuple(table(S, A), table(S, A), table(S, A))),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        ([X, Y, Z], g) => {
          fc.pre(informative(X, g) && informative(Y, g) && informative(Z, g));
          // D = sqrt((1 − ρ)/2) amplifies a rounding error ε in ρ near 1 to about sqrt(ε) ≈ 1e-8, so the
          // inequality holds to that precision, not to 1e-9 (a seed found a pair at ρ ≈ 1 − 1e-16).
          expect(epicTable(X, Z, g)).toBeLessThanOrEqual(epicTable(X, Y, g) + epicTable(Y, Z, g) + 1e-6);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('Pearson distance is 0 for equal vectors and 1 for opposite ones', () => {
    expect(pearsonDistance([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
    expect(pearsonDistance([1, 2, 3], [-1, -2, -3])).toBeCloseTo(1, 12);
    expect(pearsonDistance([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe('EPIC, single-turn form (γ = 0, centred per prompt)', () => {
  it('centres each reward on its group mean', () => {
    expect(Array.from(canonicalizeGrouped([1, 3, 10, 20, 30], [0, 0, 1, 1, 1], 2))).toEqual([-1, 1, -10, 0, 10]);
  });
  it('is invariant to a per-prompt offset and positive scaling, symmetric, and 1 against the negation', () => {
    const groups = fc.integer({ min: 2, max: 6 }).chain((G) =>
      fc.tuple(
        fc.constant(G),
        fc.array(fc.tuple(fc.integer({ min: 0, max: G - 1 }), fc.double({ min: -5, max: 5, noNaN: true })), { minLength: 6, maxLength: 40 }),
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: G, maxLength: G }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
      ),
    );
    fc.assert(
      fc.property(groups, ([G, rows, offset, k]) => {
        const go = rows.map((r) => r[0]);
        const r = rows.map((x) => x[1]);
        const c = canonicalizeGrouped(r, go, G);
        fc.pre(c.reduce((a, b) => a + b * b, 0) > 1e-6);
        const shaped = r.map((x, i) => k * x + offset[go[i]!]!);
        expect(epicGrouped(r, shaped, go, G).distance).toBeLessThan(1e-6);
        expect(epicGrouped(r, r.map((x) => -x), go, G).distance).toBeCloseTo(1, 6);
        const other = r.map((x, i) => Math.sin(7 * x + i));
        const d1 = epicGrouped(r, other, go, G).distance;
        const d2 = epicGrouped(other, r, go, G).distance;
        if (d1 === d1) expect(d1).toBeCloseTo(d2, 10);
      }),
      { numRuns: 300 },
    );
  });
  it('leaves out null rewards from both sides', () => {
    const d = epicGrouped([1, 2, NaN, 4, 5, 6], [10, 20, 30, 40, NaN, 60], [0, 0, 0, 1, 1, 1], 2);
    expect(d.n).toBe(4);
    expect(d.distance).toBeCloseTo(0, 7);
  });
  it('bootstraps an interval around the distance, deterministically', () => {
    const go = Array.from({ length: 400 }, (_, i) => Math.floor(i / 4));
    const a = go.map((g, i) => Math.sin(i * 1.3) + g);
    const b = a.map((x, i) => x + 0.5 * Math.cos(i * 2.1));
    const d = epicGrouped(a, b, go, 100).distance;
    const ci = bootstrapGrouped(a, b, go, 100, 300, 0.95, 7)!;
    expect(ci.low).toBeLessThanOrEqual(d);
    expect(ci.high).toBeGreaterThanOrEqual(d);
    expect(bootstrapGrouped(a, b, go, 100, 300, 0.95, 7)).toEqual(ci);
  });
});

function writeRollouts(rows: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rk-epic-'));
  const file = join(dir, 'rollouts.jsonl');
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

describe('evaluateEpic on a rollouts file', () => {
  const rows = Array.from({ length: 60 }, (_, i) => ({
    id: `r${i}`,
    group: `q${Math.floor(i / 6)}`,
    prompt: `question ${Math.floor(i / 6)}`,
    completion: 'x'.repeat(1 + ((i * 7) % 11)),
    meta: { gold: (i * 13) % 5, offset: Math.floor(i / 6) * 3 },
  }));

  it('gives 0 between a reward and its scaled, per-prompt-shifted copy, and a symmetric matrix', async () => {
    const file = writeRollouts(rows);
    const len = functionSource('len', (r) => String(r.completion).length);
    const shifted = functionSource('shifted', (r) => 3 * String(r.completion).length + (r.meta!.offset as number));
    const gold = fieldSource('meta.gold', 'gold');
    const res = await evaluateEpic(file, [len, shifted, gold], { bootstrap: 50 });
    expect(res.mode).toBe('rollouts');
    expect(res.distance).toBeCloseTo(0, 7);
    expect(res.names).toEqual(['len', 'shifted', 'gold']);
    expect(res.matrix[0]![2]).toBeCloseTo(res.matrix[2]![0]!, 12);
    expect(res.matrix[0]![2]).toBeCloseTo(res.matrix[1]![2]!, 7);
    expect(res.groups).toBe(10);
    expect(res.used).toBe(60);
    expect(res.sample.length).toBe(60);
  });

  it('reproduces the 0.671 example in the transition form from steps', async () => {
    // The four transitions of the 2-state example, one rollout each, with both rewards on every step.
    const ts = [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ].map(([s, t], i) => ({ id: `t${i}`, completion: '', steps: [{ state: `s${s}`, action: 'a', next_state: `s${t}`, r: t === 1 ? 1 : 0, r3: s === 0 && t === 1 ? 1 : 0 }] }));
    const file = writeRollouts(ts);
    const res = await evaluateEpic(file, [stepSource('step:r'), stepSource('step:r3')], { gamma: 0.9 });
    expect(res.mode).toBe('transitions');
    expect(res.distance).toBeCloseTo(0.671, 3);
    expect(res.states).toBe(2);
  });

  it('refuses the transition form when the reward table is incomplete, saying what is missing', async () => {
    const file = writeRollouts([{ id: 'a', completion: '', steps: [{ state: 's0', action: 'a', next_state: 's1', r: 1, q: 2 }] }]);
    await expect(evaluateEpic(file, [stepSource('step:r'), stepSource('step:q')], { gamma: 0.9 })).rejects.toThrow(EvalInputError);
    await expect(evaluateEpic(file, [stepSource('step:r'), stepSource('step:q')], { gamma: 0.9 })).rejects.toThrow(/1 of 4 observed/);
  });
});
