import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rrdLoss } from './lare.js';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose } from './testing.js';

/** Episodes whose true step rewards are r_t = 0.5·a − 0.3·c + 0.1, with the return as outcome. */
function linearEpisodes(count: number, T: number, seed: number) {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  const a: number[][] = [];
  const c: number[][] = [];
  const eps = [];
  for (let i = 0; i < count; i++) {
    a.push(Array.from({ length: T }, rnd));
    c.push(Array.from({ length: T }, () => rnd() * 2 - 1));
    const R = a[i].reduce((s, v, t) => s + 0.5 * v - 0.3 * c[i][t] + 0.1, 0);
    eps.push({ group: `g${i % 4}`, outcome: R, steps: blankSteps(T) });
  }
  const truth = a.flatMap((row, i) => row.map((v, t) => 0.5 * v - 0.3 * c[i][t] + 0.1));
  return { batch: batchOf(eps, { a, c }), truth };
}

describe('lare credit (return decomposition with a learned decoder)', () => {
  it('mechanics-B §17: r̂ = [1, 2, 3, 2], T = 4, R = 8 → loss 0; the unbiased term', () => {
    expect(rrdLoss([1, 2, 3, 2], 8, 4, false)).toBe(0);
    expect(rrdLoss([1, 2, 3, 2], 8, 4, true)).toBe(0);
    // mean 2 vs R/T = 1 → 1; Var_S = 2, (1 − 2/4)·2/2 = 0.5 → 0.5.
    expect(rrdLoss([1, 3], 4, 4, false)).toBe(1);
    expect(rrdLoss([1, 3], 4, 4, true)).toBe(0.5);
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 2, max: 10 }), (R, T, K) => {
        expect(Math.abs(rrdLoss(Array(K).fill(R / T), R, T, true))).toBeLessThan(1e-20);
      }),
    );
  });

  it('gradient descent on the linear decoder recovers the true step rewards (K = T: the full mean)', () => {
    const { batch, truth } = linearEpisodes(40, 5, 7);
    const out = buildCredit({ method: 'lare', factors: ['a', 'c'], k: 5, loss: 'rrd', lr: 0.05, updates: 3000, carry: false, whiten: false }).compute(batch);
    expectClose(out.reward, truth, 2e-3);
  });

  it('with sampled steps (K < T), carried across batches: the unbiased loss recovers the weights, plain RRD shrinks them', () => {
    const fit = (loss: 'rrd' | 'rrd_unbiased') => {
      const credit = buildCredit({ method: 'lare', factors: ['a', 'c'], k: 3, loss, lr: 0.005, updates: 2000, minibatch: 40 });
      for (let s = 1; s <= 5; s++) credit.compute(linearEpisodes(40, 6, s).batch);
      return credit;
    };
    const credit = fit('rrd_unbiased');
    const state = credit.state!.save() as { weights: number[]; bias: number };
    expect(Math.abs(state.weights[0] - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(state.weights[1] + 0.3)).toBeLessThan(0.05);
    expect(Math.abs(state.bias - 0.1)).toBeLessThan(0.05);
    // Plain RRD also penalises the sampled mean's variance, which pulls the weights towards 0.
    const biased = fit('rrd').state!.save() as { weights: number[] };
    expect(Math.abs(biased.weights[0])).toBeLessThan(0.3);
    expect(Math.abs(biased.weights[1])).toBeLessThan(0.2);
    // A decoder loaded into another instance decodes without training (updates: 0).
    const { batch, truth } = linearEpisodes(40, 6, 99);
    const decoded = buildCredit({ method: 'lare', factors: ['a', 'c'], updates: 0 });
    expect(decoded.compute(batch).reward.every((v) => v === 0)).toBe(true);
    decoded.state!.load(state);
    expectClose(decoded.compute(batch).reward, truth, 0.1);
  });

  it('state: save → JSON → load continues exactly as one process would; reset forgets; bad state is rejected', () => {
    const spec = { method: 'lare' as const, factors: ['a', 'c'], k: 2, updates: 5, minibatch: 3, seed: 11 };
    const b1 = linearEpisodes(10, 4, 3).batch;
    const b2 = linearEpisodes(10, 4, 4).batch;
    const one = buildCredit(spec);
    one.compute(b1);
    const saved = JSON.parse(JSON.stringify(one.state!.save()));
    const want = one.compute(b2);
    const restarted = buildCredit(spec);
    restarted.state!.load(saved);
    const got = restarted.compute(b2);
    expect(Array.from(got.reward)).toEqual(Array.from(want.reward));
    restarted.state!.reset();
    expect(Array.from(restarted.compute(b1).reward)).toEqual(Array.from(buildCredit(spec).compute(b1).reward));
    expect(() => restarted.state!.load({ ...saved, weights: [1] })).toThrow(/weights must be a list of 2 finite numbers/);
    expect(() => restarted.state!.load({ ...saved, rng: -1 })).toThrow(/rng is -1/);
    expect(() => restarted.state!.load(null)).toThrow(/must be an object/);
    // Without carry there is no state and every batch is fitted from zero.
    const fresh = buildCredit({ ...spec, carry: false });
    expect(fresh.state).toBeUndefined();
    expect(Array.from(fresh.compute(b1).reward)).toEqual(Array.from(fresh.compute(b1).reward));
  });

  it('null outcomes give NaN; a missing factor value is an error', () => {
    const b = batchOf([{ outcome: null, steps: blankSteps(2) }, { outcome: 1, steps: blankSteps(1) }], { a: [null, null, 1] });
    const out = buildCredit({ method: 'lare', factors: ['a'] }).compute(b);
    expectClose(out.reward.subarray(0, 2), [NaN, NaN]);
    expect(Number.isFinite(out.reward[2])).toBe(true);
    const bad = batchOf([{ outcome: 1, steps: blankSteps(2) }], { a: [1, null] });
    expect(() => buildCredit({ method: 'lare', factors: ['a'] }).compute(bad)).toThrow(/steps\[1\] has no value for factor "a" \(credit\.factors\[0\]\)/);
  });
});
