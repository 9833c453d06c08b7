import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from './batch.js';
import { buildEstimator } from './registry.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';

const run = (rewards: (number | null)[], lengths: number[] | undefined, groups: (number | string)[] = rewards.map(() => 0), keep?: number) =>
  Array.from(
    buildEstimator({ estimator: 'dcpo', ...(keep !== undefined ? { keep } : {}) }).compute(
      buildAdvantageBatch({ rewards, groups, ...(lengths ? { completionLengths: lengths } : {}) }).batch,
    ),
  );

describe('dcpo (ChatShopBuddy dynamic contrastive selection, [INF] reading)', () => {
  it('keeps the best-and-shortest and the worst-and-longest: [1,1,0,0] with lengths [100,50,80,120] → [0, 0.7071, 0, −0.7071]', () => {
    const a = run([1, 1, 0, 0], [100, 50, 80, 120]);
    expect(a[0]).toBe(0);
    expect(a[2]).toBe(0);
    // GRPO over the kept pair {1, 0}: mean 0.5, sample std 0.70711 → ±0.5/(0.70711 + 1e-6)
    expect(a[1]).toBeCloseTo(0.5 / (Math.SQRT1_2 + 1e-6), 12);
    expect(a[3]).toBeCloseTo(-0.5 / (Math.SQRT1_2 + 1e-6), 12);
  });

  it('K = 16 keeps K/2 = 8 (ChatShopBuddy: sample 16 trajectories, train on 8 contrastive ones)', () => {
    const rewards = Array.from({ length: 16 }, (_, i) => i / 15);
    const lengths = Array.from({ length: 16 }, (_, i) => 100 + i);
    const a = run(rewards, lengths);
    const kept = a.map((x, i) => (x !== 0 ? i : -1)).filter((i) => i >= 0);
    expect(kept).toEqual([0, 1, 2, 3, 12, 13, 14, 15]);
    // Advantages are GRPO over the kept eight.
    const r = kept.map((i) => rewards[i]!);
    const mean = r.reduce((s, x) => s + x, 0) / 8;
    const std = Math.sqrt(r.reduce((s, x) => s + (x - mean) ** 2, 0) / 7);
    kept.forEach((i) => expect(a[i]).toBeCloseTo((rewards[i]! - mean) / (std + 1e-6), 12));
  });

  it('hostile: length alone never earns an advantage — an all-equal group gets 0 whatever the lengths', () => {
    expect(run([1, 1, 1, 1], [10, 500, 20, 900])).toEqual([0, 0, 0, 0]);
    expect(run([0, 0, 0], [1, 2, 3])).toEqual([0, 0, 0]);
  });

  it('among equal rewards the shorter is chosen at the top and the longer at the bottom', () => {
    // Rewards [1, 1, 1, 0, 0, 0], keep 1/3 → k = 1.
    const a = run([1, 1, 1, 0, 0, 0], [300, 100, 200, 50, 400, 100], undefined, 1 / 3);
    expect(a.map((x) => Math.sign(x))).toEqual([0, 1, 0, 0, -1, 0]);
  });

  it('ties with the boundary are all kept, so the result does not depend on rollout order', () => {
    const a = run([1, 1, 0, 0], [50, 50, 80, 80]);
    expect(a.every((x) => x !== 0)).toBe(true);
    const b = run([0, 1, 0, 1], [80, 50, 80, 50]);
    expect(b).toEqual([a[2], a[0], a[3], a[1]]);
  });

  it('null rewards are neither selected nor counted, and get 0; groups are separate', () => {
    const a = run([1, null, 0, 5, 3], [10, 1, 20, 1, 1], ['q', 'q', 'q', 'p', 'p']);
    expect(a[1]).toBe(0);
    expect(a[0]).toBeCloseTo(0.5 / (Math.SQRT1_2 + 1e-6), 12);
    expect(a[3]).toBeCloseTo(1 / (Math.SQRT2 + 1e-6), 12);
  });

  it('rejects a bad length naming the rollout', () => {
    expect(() => run([1, 0], [1, -3])).toThrow(/rollout 1: completion length/);
  });

  it('the pipeline hands it the completion token lengths (completion_ids)', async () => {
    const compiled = compileSpec(parseSpec({ name: 'd', components: [{ name: 'ok', grader: 'exact' }], advantage: { estimator: 'dcpo' } }));
    const rollouts = [
      { id: 'a', group: 'g', completion: 'yes', reference: 'yes', completion_ids: [1, 2, 3, 4, 5, 6] },
      { id: 'b', group: 'g', completion: 'yes', reference: 'yes', completion_ids: [1, 2] },
      { id: 'c', group: 'g', completion: 'no', reference: 'yes', completion_ids: [1] },
      { id: 'd', group: 'g', completion: 'no', reference: 'yes', completion_ids: [1, 2, 3, 4, 5, 6, 7, 8] },
    ];
    const { results } = await scoreBatch(compiled, rollouts);
    expect(results.map((r) => Math.sign(r.advantage!))).toEqual([0, 1, 0, -1]);
  });
});
