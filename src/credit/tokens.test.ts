import { describe, expect, it } from 'vitest';
import { stepsToTokens } from './tokens.js';

describe('stepsToTokens', () => {
  it('puts each step value on the step’s last token', () => {
    const rows = stepsToTokens(new Int32Array([0, 2, 2, 3]), new Float64Array([0.5, 1, NaN]), [1, 4, 0], [5, 3, 2]);
    expect(rows.map((r) => Array.from(r))).toEqual([[0, 0.5, 0, 0, 1], [0, 0, 0], [NaN, 0]]);
  });

  it('rejects mismatched token offsets with clear errors', () => {
    const off = new Int32Array([0, 2]);
    const v = new Float64Array([1, 2]);
    expect(() => stepsToTokens(off, v, [1], [5])).toThrow(/token offsets have 1 entries for 2 steps/);
    expect(() => stepsToTokens(off, v, [1, 5], [5])).toThrow(/rollout 0: step 1 ends at token 5; must be an integer in \[0, 5\)/);
    expect(() => stepsToTokens(off, v, [3, 3], [5])).toThrow(/rollout 0: step 1 ends at token 3, not after step 0's token 3/);
    expect(() => stepsToTokens(off, v, [0, 1.5], [5])).toThrow(/step 1 ends at token 1.5/);
    expect(() => stepsToTokens(off, v, [0, 1], [5, 2])).toThrow(/tokenCounts has 2 entries for 1 rollouts/);
    expect(() => stepsToTokens(off, new Float64Array(1), [0, 1], [5])).toThrow(/values has 1 entries for 2 steps/);
  });
});
