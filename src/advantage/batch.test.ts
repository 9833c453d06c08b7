import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';

describe('buildAdvantageBatch', () => {
  it('numbers groups in order of first appearance and maps null to NaN', () => {
    const { batch, groupKeys } = buildAdvantageBatch({ rewards: [1, null, 0], groups: ['q2', 'q1', 'q2'], components: [[1, 0, undefined]] });
    expect(Array.from(batch.groupOf)).toEqual([0, 1, 0]);
    expect(groupKeys).toEqual(['q2', 'q1']);
    expect(batch.groupCount).toBe(2);
    expect(batch.rewards[1]).toBeNaN();
    expect(batch.components[0][2]).toBeNaN();
    expect(Array.from(batch.weights)).toEqual([1]);
  });

  it('rejects NaN and ±Infinity naming the rollout index and the column', () => {
    expect(() => buildAdvantageBatch({ rewards: [1, NaN], groups: [0, 0] })).toThrow(/rollout 1: reward is NaN/);
    expect(() => buildAdvantageBatch({ rewards: [Infinity], groups: [0] })).toThrow(/rollout 0: reward is Infinity/);
    expect(() => buildAdvantageBatch({ rewards: [1, 1], groups: [0, 0], components: [[0, -Infinity]], names: ['format'] })).toThrow(
      /rollout 1: component "format" is -Infinity/,
    );
    expect(() => buildAdvantageBatch({ rewards: ['1' as never], groups: [0] })).toThrow(/rollout 0: reward is 1/);
  });

  it('rejects mismatched lengths', () => {
    expect(() => buildAdvantageBatch({ rewards: [1, 2], groups: [0] })).toThrow(/groups has 1 entries for 2 rollouts/);
  });
});
