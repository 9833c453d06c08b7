import { describe, expect, it } from 'vitest';
import type { Rollout } from '../rollout/types.js';
import { StepFieldError, buildStepBatch, checkStepBatch, signalOf } from './types.js';

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

  it('reads executable (true → 1, false → 0, missing → NaN) and agents (−1 when missing)', () => {
    const { batch } = buildStepBatch(
      [
        r('a', { steps: [{ executable: true, agent: 'planner' }, { executable: false, agent: 'coder' }] }),
        r('b', { steps: [{ agent: 'coder' }, { executable: null as never }] }),
      ],
      [1, 0],
    );
    expect(Array.from(batch.executable)).toEqual([1, 0, NaN, NaN]);
    expect(Array.from(batch.agent)).toEqual([0, 1, 1, -1]);
    expect(batch.agents).toEqual(['planner', 'coder']);
    expect(batch.signals.size).toBe(0);
    expect(() => buildStepBatch([r('a', { steps: [{ executable: 'yes' as never }] })], [1])).toThrow(
      /rollouts\[0\]\.steps\[0\]\.executable is "yes"; must be true, false or null/,
    );
    expect(() => buildStepBatch([r('a', { steps: [{}, { agent: 3 as never }] })], [1])).toThrow(/rollouts\[0\]\.steps\[1\]\.agent is 3; must be a string/);
  });

  it('takes signals flat (one value per step) or per rollout; null, undefined and NaN are missing', () => {
    const rollouts = [r('a', { steps: [{}, {}] }), r('b'), r('c', { steps: [{}] })];
    const flat = buildStepBatch(rollouts, [1, 0, 1], { p: [0.1, null, 0.3] }).batch;
    expect(Array.from(flat.signals.get('p')!)).toEqual([0.1, NaN, 0.3]);
    const nested = buildStepBatch(rollouts, [1, 0, 1], new Map([['p', [[0.1, NaN], null, [0.3]]]])).batch;
    expect(Array.from(nested.signals.get('p')!)).toEqual([0.1, NaN, 0.3]);
    const typed = buildStepBatch(rollouts, [1, 0, 1], { p: Float64Array.of(1, 2, 3), q: [[1, 2], [], [undefined]] }).batch;
    expect(Array.from(typed.signals.get('q')!)).toEqual([1, 2, NaN]);
    expect(() => buildStepBatch(rollouts, [1, 0, 1], { p: [1, 2] })).toThrow(/signals\.p has 2 entries for 3 steps/);
    expect(() => buildStepBatch(rollouts, [1, 0, 1], { p: [[1], [], [1]] })).toThrow(/signals\.p\[0\] has 1 entries for rollout 0's 2 steps/);
    expect(() => buildStepBatch(rollouts, [1, 0, 1], { p: [1, Infinity, 2] })).toThrow(/signals\.p\[1\] is Infinity; must be a finite number, NaN or null/);
    expect(() => buildStepBatch(rollouts, [1, 0, 1], { p: [[1, 'x' as never], [], [1]] })).toThrow(/signals\.p\[0\]\[1\] is "x"/);
    expect(() => buildStepBatch(rollouts, [1, 0, 1], { p: 5 as never })).toThrow(/signals\.p is 5; must be a list/);
  });

  it('checkStepBatch rejects malformed batches', () => {
    const { batch } = buildStepBatch([r('a', { steps: [{}, {}] })], [1]);
    expect(() => checkStepBatch(batch)).not.toThrow();
    expect(() => checkStepBatch({ ...batch, offsets: new Int32Array([0, 3]) })).toThrow(/reward has 2 entries for 3 steps/);
    expect(() => checkStepBatch({ ...batch, offsets: new Int32Array([0]) })).toThrow(/offsets has 1 entries/);
    expect(() => checkStepBatch({ ...batch, groupOf: new Int32Array([1]) })).toThrow(/group index 1/);
    expect(() => checkStepBatch({ ...batch, executable: Float64Array.of(1, 0.5) })).toThrow(/step 1: executable is 0.5/);
    expect(() => checkStepBatch({ ...batch, agent: Int32Array.of(0, -1) })).toThrow(/step 0: agent index 0 outside/);
    expect(() => checkStepBatch({ ...batch, signals: new Map([['p', new Float64Array(1)]]) })).toThrow(/signal "p" has 1 entries for 2 steps/);
    const inf = { ...batch, signals: new Map([['p', Float64Array.of(0, -Infinity)]]) };
    expect(() => checkStepBatch(inf)).not.toThrow();
    expect(() => signalOf(inf, 'p', 'signal')).toThrow(/step 1: signal "p" \(credit\.signal\) is -Infinity/);
  });
});
