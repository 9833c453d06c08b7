import { describe, expect, it } from 'vitest';
import { shapeSchema, shapers } from './registry.js';

describe('shape registry', () => {
  it('parses a list with defaults and rejects unknown types and keys', () => {
    expect(shapeSchema.parse([{ type: 'par' }, { type: 'length_penalty' }])).toEqual([
      { type: 'par', k: 1, max_refs: 10, refs_key: 'ref_rewards' },
      { type: 'length_penalty', threshold: 300, coef: 0.01, unit: 'tokens' },
    ]);
    expect(() => shapeSchema.parse([{ type: 'sqrt' }])).toThrow(/discriminator/);
    expect(() => shapeSchema.parse([{ type: 'par', kk: 1 }])).toThrow(/kk/);
    expect(() => shapeSchema.parse([{ type: 'ceiling' }])).toThrow();
  });

  it('has every shaper of the issue, each param documented', () => {
    expect(Object.keys(shapers).sort()).toEqual(
      ['par', 'centered', 'sgfc', 'meanstd', 'clip', 'minmax', 'sigmoid', 'tanh', 'fittedpoly', 'lsc', 'ceiling', 'length_penalty', 'renorm', 'potential'].sort(),
    );
    for (const kind of Object.values(shapers)) {
      for (const [key, schema] of Object.entries(kind.params)) expect((schema as { description?: string }).description, `${kind.type}.${key}`).toBeTruthy();
    }
  });
});
