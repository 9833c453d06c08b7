import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { buildShapeBatch } from './batch.js';
import { wordCount } from './length_penalty.js';
import { buildShapers } from './registry.js';

function run(spec: Record<string, unknown>[], rewards: (number | null)[], rollouts?: Partial<Rollout>[], tokenLengths?: (number | null)[]) {
  const samples = rewards.map((_, i) => toSample({ id: `r${i}`, group: 'g', completion: 'x', ...(rollouts?.[i] ?? {}) } as Rollout));
  const b = buildShapeBatch(samples, rewards, tokenLengths);
  buildShapers(spec as never).apply(b);
  return Array.from(b.rewards);
}

describe('ceiling', () => {
  it('caps rewards at max and keeps nulls', () => {
    expect(run([{ type: 'ceiling', max: 4 }], [5.2, 3.1, null, -9])).toEqual([4, 3.1, NaN, -9]);
  });
});

describe('length_penalty', () => {
  it('PAR defaults: 0.01 per token beyond 300', () => {
    const v = run([{ type: 'length_penalty' }], [1.2, 1.2, 1], undefined, [350, 300, 10]);
    expect(v[0]).toBeCloseTo(0.7, 12);
    expect(v.slice(1)).toEqual([1.2, 1]);
  });

  it('counts chars or words when asked', () => {
    const long = 'a'.repeat(12);
    expect(run([{ type: 'length_penalty', unit: 'chars', threshold: 10, coef: 0.5 }], [1], [{ completion: long }])).toEqual([0]);
    expect(run([{ type: 'length_penalty', unit: 'words', threshold: 2, coef: 0.25 }], [1], [{ completion: ' one two\tthree\nfour ' }])).toEqual([0.5]);
    expect(wordCount('')).toBe(0);
    expect(wordCount('a\u00a0b  c')).toBe(3);
  });

  it('names the rollout whose token length is unknown', () => {
    expect(() => run([{ type: 'length_penalty' }], [1, 1], undefined, [3, null])).toThrow(/rollout 1: token length is unknown/);
    expect(() => run([{ type: 'length_penalty' }], [1])).toThrow(/rollout 0: token length is unknown/);
    expect(run([{ type: 'length_penalty' }], [null], undefined, [null])).toEqual([NaN]);
  });
});

describe('shape chain', () => {
  it('applies shapers in spec order', () => {
    expect(run([{ type: 'ceiling', max: 1 }, { type: 'sigmoid' }], [3])[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(run([{ type: 'sigmoid' }, { type: 'ceiling', max: 0.6 }], [3])).toEqual([0.6]);
  });

  it('rejects ±Infinity rewards up front, naming the rollout', () => {
    const samples = [toSample({ id: 'a', completion: 'x' }), toSample({ id: 'b', completion: 'y' })];
    const b = buildShapeBatch(samples, [1, 0]);
    b.rewards[1] = Infinity;
    expect(() => buildShapers([{ type: 'ceiling', max: 1 }]).apply(b)).toThrow(/rollout 1: reward is Infinity/);
    expect(() => buildShapeBatch(samples, [1, NaN])).toThrow(/rollout 1: reward is NaN/);
  });

  it('reports a shaper that overflows a reward to Infinity', () => {
    const samples = [toSample({ id: 'a', completion: 'x'.repeat(10) })];
    const b = buildShapeBatch(samples, [0]);
    expect(() => buildShapers([{ type: 'length_penalty', unit: 'chars', threshold: 0, coef: 1e308 }]).apply(b)).toThrow(
      /rollout 0: reward after shaper 0 \(length_penalty\) is -Infinity/,
    );
  });

  it('an empty chain and an empty batch are no-ops', () => {
    expect(run([], [1, null])).toEqual([1, NaN]);
    const b = buildShapeBatch([], []);
    buildShapers([{ type: 'meanstd' }, { type: 'par', refs: [1] }]).apply(b);
    expect(b.rewards.length).toBe(0);
  });
});
