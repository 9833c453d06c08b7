import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { buildEstimator, estimators, type AdvantageSpecInput } from './registry.js';

/**
 * A rollout the reward cannot judge (null reward) must not move the policy: its advantage is exactly
 * 0 and it is left out of every statistic, so adding it to a group changes no other advantage.
 * Checked for every estimator and the variants that change which statistics are taken.
 */
const specs: AdvantageSpecInput[] = [
  ...Object.keys(estimators).map((estimator) => ({ estimator }) as AdvantageSpecInput),
  { estimator: 'grpo', scale: 'batch' },
  { estimator: 'grpo', scale: 'none' },
  { estimator: 'grpo', std: 'population' },
  { estimator: 'grpo', value_anchor: { anchor: 'batch_mean', threshold: 0.5 } },
  { estimator: 'gdpo', null_components: 'skip' },
];

interface Row {
  r: number | null;
  g: number;
  c: [number | null, number | null];
  len: number;
}

const value = fc.double({ min: -3, max: 3, noNaN: true });
const row: fc.Arbitrary<Row> = fc.record({
  r: fc.option(value, { freq: 6 }),
  g: fc.integer({ min: 0, max: 4 }),
  c: fc.tuple(fc.option(value, { freq: 5 }), fc.option(value, { freq: 5 })),
  len: fc.integer({ min: 1, max: 50 }),
});

function compute(spec: AdvantageSpecInput, rows: readonly Row[], tokens: boolean): Float64Array {
  const { batch } = buildAdvantageBatch({
    rewards: rows.map((x) => x.r),
    groups: rows.map((x) => `g${x.g}`),
    components: [rows.map((x) => x.c[0]), rows.map((x) => x.c[1])],
    weights: [1, 0.5],
    ...(tokens ? { tokenLengths: rows.map((x) => x.len) } : {}),
  });
  return buildEstimator(spec).compute(batch);
}

describe('null-reward rollouts do not move the policy', () => {
  for (const spec of specs) {
    it(`${JSON.stringify(spec)}: an added null-reward rollout gets exactly 0 and leaves every other advantage unchanged`, () => {
      fc.assert(
        fc.property(
          fc.array(row, { minLength: 1, maxLength: 24 }),
          fc.nat(),
          fc.integer({ min: 0, max: 4 }),
          fc.tuple(fc.option(value, { freq: 2 }), fc.option(value, { freq: 2 })),
          fc.integer({ min: 1, max: 500 }),
          fc.boolean(),
          (rows, at, g, c, len, tokens) => {
            const pos = at % (rows.length + 1);
            const added: Row = { r: null, g, c, len };
            const base = compute(spec, rows, tokens);
            const more = compute(spec, [...rows.slice(0, pos), added, ...rows.slice(pos)], tokens);
            expect(Object.is(more[pos], 0), `own advantage ${more[pos]}`).toBe(true);
            for (let i = 0; i < rows.length; i++) {
              const j = i < pos ? i : i + 1;
              const want = base[i]!;
              if (rows[i]!.r === null) expect(more[j]).toBe(0);
              else expect(Math.abs(more[j]! - want), `rollout ${i}: ${more[j]} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('a batch whose every reward is null gets all-zero advantages from every estimator', () => {
    for (const spec of specs) {
      const a = compute(spec, [
        { r: null, g: 0, c: [1, 0], len: 3 },
        { r: null, g: 0, c: [0, 1], len: 4 },
        { r: null, g: 1, c: [null, null], len: 5 },
      ], true);
      expect(Array.from(a), JSON.stringify(spec)).toEqual([0, 0, 0]);
    }
  });
});
