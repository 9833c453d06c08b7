import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { toSample } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { shapers } from './registry.js';
import type { ShapeBatch, ShaperKind } from './types.js';

/**
 * A null reward means "cannot judge": every shaper passes it through as null (never turns it into a
 * number the estimator would act on), and its output for the other rollouts does not depend on the
 * null-reward rollouts present in the batch.
 */
const extra: Record<string, Record<string, unknown>> = { ceiling: { max: 1 } };

interface Row {
  r: number | null;
  g: number;
  len: number;
  refs: number[];
  steps: { reward: number; potential: number }[];
}
const value = fc.double({ min: -3, max: 3, noNaN: true });
const row: fc.Arbitrary<Row> = fc.record({
  r: fc.option(value, { freq: 4 }),
  g: fc.integer({ min: 0, max: 3 }),
  len: fc.integer({ min: 1, max: 800 }),
  refs: fc.array(value, { minLength: 1, maxLength: 4 }),
  steps: fc.array(fc.record({ reward: fc.double({ min: 0, max: 1, noNaN: true }), potential: value }), { minLength: 1, maxLength: 3 }),
});

function batchOf(rows: readonly Row[]): ShapeBatch {
  const rollouts: Rollout[] = rows.map((x, i) => ({ id: String(i), group: `g${x.g}`, completion: 'w '.repeat(x.len), meta: { ref_rewards: x.refs }, steps: x.steps }));
  const groupOf = Int32Array.from(rows, (x) => x.g);
  return {
    rewards: Float64Array.from(rows, (x) => x.r ?? NaN),
    groupOf,
    groupCount: 4,
    lengths: Float64Array.from(rows, (x) => 2 * x.len),
    tokenLengths: Float64Array.from(rows, (x) => x.len),
    samples: rollouts.map(toSample),
  };
}

function shaped(type: string, rows: readonly Row[]): Float64Array {
  const kind = shapers[type as keyof typeof shapers] as unknown as ShaperKind<string, z.ZodRawShape>;
  const s = kind.create(defaults(kind, extra[type] ?? {}) as never);
  const b = batchOf(rows);
  s.apply(b);
  return b.rewards;
}

function defaults(kind: ShaperKind<string, z.ZodRawShape>, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(kind.params)) {
    const r = (schema as z.ZodType).safeParse(given[key]);
    if (r.success && r.data !== undefined) out[key] = r.data;
  }
  return out;
}

describe('shapers pass a null reward through', () => {
  for (const type of Object.keys(shapers)) {
    it(`${type}: a null reward stays null, and null rollouts do not change the others (fresh shaper each time)`, () => {
      fc.assert(
        fc.property(fc.array(row, { minLength: 1, maxLength: 16 }), fc.array(row, { maxLength: 4 }), (rows, nulls) => {
          const added = nulls.map((x) => ({ ...x, r: null }));
          const a = shaped(type, rows);
          rows.forEach((x, i) => {
            if (x.r === null) expect(a[i], `rollout ${i}`).toBeNaN();
          });
          const b = shaped(type, [...rows, ...added]);
          for (let j = rows.length; j < b.length; j++) expect(b[j], `added null ${j}`).toBeNaN();
          rows.forEach((_, i) => {
            if (Number.isNaN(a[i])) expect(b[i]).toBeNaN();
            else expect(Math.abs(b[i]! - a[i]!), `rollout ${i}: ${b[i]} vs ${a[i]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a[i]!)));
          });
        }),
        { numRuns: 60 },
      );
    });
  }
});
