import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { buildCombiner, combineSchema, combiners } from './registry.js';
import { contextOf } from './harness.js';

/** Every key of a zod object shape, nested objects and arrays of objects included, with its description. */
function describedKeys(shape: z.ZodRawShape, prefix = ''): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const path = prefix + key;
    out.push([path, (schema as z.ZodType).description]);
    let inner = schema as z.ZodType;
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodArray) {
      inner = (inner instanceof z.ZodArray ? inner.element : inner.unwrap()) as z.ZodType;
    }
    if (inner instanceof z.ZodObject) out.push(...describedKeys(inner.shape, `${path}.`));
  }
  return out;
}

describe('combiner registry', () => {
  it('lists the seven types under their stable names', () => {
    expect(combiners.map((c) => c.type)).toEqual(['weighted_sum', 'weighted_mean', 'min', 'product', 'gated', 'hierarchical', 'formula']);
  });

  it('describes every param', () => {
    for (const kind of combiners) {
      for (const [path, description] of describedKeys(kind.params)) {
        expect(description, `${kind.type}.${path}`).toBeTruthy();
      }
      expect(kind.summary).toBeTruthy();
    }
  });

  it('defaults to weighted_sum and validates strictly by type', () => {
    expect(combineSchema.parse(undefined)).toEqual({ type: 'weighted_sum' });
    expect(combineSchema.parse({ type: 'formula', expression: 'a' })).toEqual({ type: 'formula', expression: 'a' });
    expect(() => combineSchema.parse({ type: 'sum' })).toThrow();
    expect(() => combineSchema.parse({ type: 'formula' })).toThrow(/expression/);
    expect(() => combineSchema.parse({ type: 'min', on_null: 'drop' })).toThrow();
    expect(() => combineSchema.parse({ type: 'gated', gate: 'a', threshold: '1' })).toThrow();
  });

  it('exports a JSON Schema with one alternative per type', () => {
    const schema = z.toJSONSchema(combineSchema) as { oneOf?: unknown[]; anyOf?: unknown[] };
    expect((schema.oneOf ?? schema.anyOf)?.length).toBe(combiners.length);
  });

  it('builds from an already validated spec and resolves the on_null default per type', () => {
    const ctx = contextOf({ a: 1, b: 1 });
    const spec = combineSchema.parse({ type: 'weighted_sum' });
    expect(buildCombiner(spec, ctx).combine(Float64Array.of(1, NaN))).toBe(1); // exclude
    for (const type of ['weighted_sum', 'weighted_mean', 'min', 'product'] as const) {
      // every weight-based type defaults to exclude: a null pays no more than a 0
      const c = buildCombiner({ type }, ctx);
      expect(c.combine(Float64Array.of(1, NaN)), type).toBe(c.combine(Float64Array.of(1, 0)));
      expect(c.combine(Float64Array.of(NaN, NaN)), type).toBeNaN();
    }
    expect(buildCombiner({ type: 'formula', expression: 'a + b' }, ctx).combine(Float64Array.of(1, NaN))).toBeNaN(); // null
  });

  it('rejects an on_null the type cannot honour, and a malformed context', () => {
    expect(() => buildCombiner({ type: 'formula', expression: 'a', on_null: 'exclude' }, contextOf(['a']))).toThrow(ParamError);
    expect(() => buildCombiner(undefined, { names: ['a', 'b'], weights: Float64Array.of(1) })).toThrow(/2 names but 1 weights/);
  });
});
