import { describe, expect, it } from 'vitest';
import type { Rollout } from '../rollout/types.js';
import { StepFieldError, buildStepBatch, checkStepBatch } from './types.js';

const r = (id: string, extra: Partial<Rollout> = {}): Rollout => ({ id, completion: '', ...extra });

describe('buildStepBatch', () => {
  it('builds offsets, step columns (missing = NaN), outcomes and groups', () => {
    const { batch, groupKeys } = buildStepBatch(
      [
        r('a', { group: 'q1', steps: [{ reward: 1, value: 0.5 }, { potential: 0.2, reward: null as never }] }),
        r('b', { prompt: 'p' }),
        r('c', { group: 'q1', steps: [{ reward: -1 }] }),
      ],
      [1, null, 0],
    );
    expect(Array.from(batch.offsets)).toEqual([0, 2, 2, 3]);
    expect(Array.from(batch.reward)).toEqual([1, NaN, -1]);
    expect(Array.from(batch.value)).toEqual([0.5, NaN, NaN]);
    expect(Array.from(batch.potential)).toEqual([NaN, 0.2, NaN]);
    expect(Array.from(batch.outcome)).toEqual([1, NaN, 0]);
    expect(Array.from(batch.groupOf)).toEqual([0, 1, 0]);
    expect(batch.groupCount).toBe(2);
    expect(groupKeys).toEqual(['q1', 'p']);
  });

  it('names the bad field by its path', () => {
    expect(() => buildStepBatch([r('a'), r('b', { steps: [{}, { value: 'x' as never }] })], [0, 0])).toThrow(
      /rollouts\[1\]\.steps\[1\]\.value is "x"/,
    );
    expect(() => buildStepBatch([r('a', { steps: [{ potential: Infinity }] })], [0])).toThrow(StepFieldError);
    expect(() => buildStepBatch([r('a', { steps: [{ reward: NaN }] })], [0])).toThrow(/rollouts\[0\]\.steps\[0\]\.reward is NaN/);
    expect(() => buildStepBatch([r('a', { steps: {} as never })], [0])).toThrow(/rollouts\[0\]\.steps .*must be a list/);
    expect(() => buildStepBatch([r('a', { steps: [3 as never] })], [0])).toThrow(/rollouts\[0\]\.steps\[0\] is 3; must be an object/);
    expect(() => buildStepBatch([r('a')], [Infinity])).toThrow(/outcomes\[0\] is Infinity/);
    expect(() => buildStepBatch([r('a')], [1, 2])).toThrow(/outcomes has 2 entries for 1 rollouts/);
  });

  it('checkStepBatch rejects malformed batches', () => {
    const { batch } = buildStepBatch([r('a', { steps: [{}, {}] })], [1]);
    expect(() => checkStepBatch(batch)).not.toThrow();
    expect(() => checkStepBatch({ ...batch, offsets: new Int32Array([0, 3]) })).toThrow(/reward has 2 entries for 3 steps/);
    expect(() => checkStepBatch({ ...batch, offsets: new Int32Array([0]) })).toThrow(/offsets has 1 entries/);
    expect(() => checkStepBatch({ ...batch, groupOf: new Int32Array([1]) })).toThrow(/group index 1/);
  });
});
