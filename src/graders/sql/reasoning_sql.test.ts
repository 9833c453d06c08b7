import { describe, expect, it } from 'vitest';
import { REASONING_SQL_WEIGHTS, xmlCount } from './reasoning_sql.js';

describe('xmlCount (Reasoning-SQL format term)', () => {
  it('gives 0.5 for the full format ending in a newline', () => {
    expect(xmlCount('<reasoning>\nthink\n</reasoning>\n<answer>\nSELECT 1\n</answer>\n')).toBe(0.5);
  });
  it('keeps the code’s penalties for trailing text', () => {
    const base = '<reasoning>\nthink\n</reasoning>\n<answer>\nSELECT 1\n</answer>\n';
    expect(xmlCount(`${base}xyz`)).toBeCloseTo(0.5 - 3 * 0.001 - 3 * 0.001, 12);
    // No newline after </answer>: the `\n<answer>\n` term subtracts the whole text's length.
    const noNl = base.slice(0, -1);
    expect(xmlCount(noNl)).toBeCloseTo(0.5 - noNl.length * 0.001 + 0.001, 12);
    expect(xmlCount('SELECT 1')).toBe(0);
    expect(xmlCount('<reasoning>\nx\n</reasoning>\n<reasoning>\n')).toBe(0.125);
  });
  it('has the code’s weights: EX 3, others 1, so the maximum is 6.5', () => {
    const w = REASONING_SQL_WEIGHTS;
    expect(w.execution + w.syntax + w.schema_linking + w.ngram + w.format * 0.5).toBe(6.5);
  });
});
