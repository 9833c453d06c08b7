import { describe, expect, it } from 'vitest';
import type { BatchColumns } from '../pipeline.js';
import { ScoreSummary } from './summary.js';

function columns(n: number, correctNull: number): BatchColumns {
  const correct = Float64Array.from({ length: n }, (_, i) => (i < correctNull ? NaN : 1));
  const format = new Float64Array(n).fill(1);
  return {
    components: [correct, format],
    rewards: Float64Array.from({ length: n }, (_, i) => (correct[i]! === correct[i]! ? 1.2 : 0.2)),
    advantages: null,
    groupOf: new Int32Array(n),
    groupCount: 1,
    groupKeys: ['g'],
    charLengths: new Float64Array(n).fill(10),
    tokenLengths: new Float64Array(n).fill(3),
    nullCounts: Int32Array.of(correctNull, 0),
    errorCounts: Int32Array.of(0, 0),
    nullReasons: [new Map(correctNull > 0 ? [['no answer found', correctNull]] : []), new Map()],
  };
}

describe('ScoreSummary', () => {
  it('warns, over the whole run, about a component null on more than warn_null_rate, with reasons and counts', () => {
    const s = new ScoreSummary(['correct', 'format']);
    s.add(columns(10, 1), 0);
    s.add(columns(10, 9), 0);
    const text = s.render();
    expect(text).toContain('warning: component "correct" is null on 50.0% of 20 rollouts (0 errors; warn above 20%): no answer found ×10');
    expect(text).not.toContain('component "format"');
  });

  it('prints no warning at or below the rate (here the spec sets 0.5)', () => {
    const s = new ScoreSummary(['correct', 'format'], { warn_null_rate: 0.5 });
    s.add(columns(20, 10), 0);
    expect(s.render()).not.toContain('warning:');
  });
});
