import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import { buildShapeBatch } from './batch.js';
import { buildShapers } from './registry.js';

const batchOf = (rewards: (number | null)[]) =>
  buildShapeBatch(
    rewards.map((_, i) => toSample({ id: `r${i}`, group: 'g', completion: 'x' })),
    rewards,
  );

function run(chain: ReturnType<typeof buildShapers>, rewards: (number | null)[]): number[] {
  const b = batchOf(rewards);
  chain.apply(b);
  return Array.from(b.rewards);
}

const close = (got: number[], want: number[], tol = 1e-9) =>
  want.forEach((w, i) => (Number.isNaN(w) ? expect(got[i]).toBeNaN() : expect(Math.abs(got[i] - w), `${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(tol)));

/** PAR's RunningStats over the concatenation of all batches so far (population variance, 0 for n ≤ 1). */
function popStats(all: number[]) {
  const n = all.length;
  const mean = all.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? all.reduce((a, x) => a + (x - mean) ** 2, 0) / n : 0;
  return { mean, std: Math.sqrt(v), min: Math.min(...all), max: Math.max(...all) };
}

describe('meanstd', () => {
  it('normalises by the running mean and population std, this batch included', () => {
    const chain = buildShapers([{ type: 'meanstd' }]);
    const s = Math.sqrt(2 / 3);
    close(run(chain, [1, 2, 3]), [-1 / s, 0, 1 / s]);
    const st = popStats([1, 2, 3, 5, null as never].filter((x) => x !== null));
    close(run(chain, [5, null]), [(5 - st.mean) / st.std, NaN]);
  });

  it('a single first reward (σ = 0) is centred, not divided by 0', () => {
    close(run(buildShapers([{ type: 'meanstd' }]), [4]), [0]);
  });

  it('equals PAR\'s statistics over all rewards seen, for any split into batches', () => {
    const value = fc.integer({ min: -10_000, max: 10_000 }).map((x) => x / 100);
    const arb = fc.array(fc.array(value, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(arb, (batches) => {
        const chain = buildShapers([{ type: 'meanstd' }]);
        const seen: number[] = [];
        for (const b of batches) {
          seen.push(...b);
          const st = popStats(seen);
          close(run(chain, b), b.map((x) => (x - st.mean) / (st.std > 0 ? st.std : 1)), 1e-7);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('clip', () => {
  it('clips to one running std around the running mean', () => {
    const chain = buildShapers([{ type: 'clip' }]);
    const sd = Math.sqrt(18.75);
    close(run(chain, [0, 0, 0, 10]), [0, 0, 0, 2.5 + sd]);
    expect(run(buildShapers([{ type: 'clip' }]), [7])).toEqual([7]);
  });
});

describe('minmax', () => {
  it('rescales by the running min and max', () => {
    const chain = buildShapers([{ type: 'minmax' }]);
    close(run(chain, [2, 4, 3]), [0, 1, 0.5]);
    close(run(chain, [6, null]), [1, NaN]);
    close(run(chain, [4]), [0.5]);
    expect(run(buildShapers([{ type: 'minmax' }]), [3, 3])).toEqual([0, 0]);
  });
});

describe('running state', () => {
  it('save → load into a fresh chain continues exactly as one process would (JSON round trip)', () => {
    const spec = [{ type: 'meanstd' as const }, { type: 'minmax' as const }, { type: 'ceiling' as const, max: 0.9 }, { type: 'clip' as const }];
    const one = buildShapers(spec);
    run(one, [1, 5, 2]);
    run(one, [0, 3]);
    const saved = JSON.parse(JSON.stringify(one.save()));
    expect(saved[2]).toBeNull();
    const server = buildShapers(spec);
    server.load(saved);
    expect(run(server, [4, -1, 2.5])).toEqual(run(one, [4, -1, 2.5]));
  });

  it('reset forgets the statistics; load rejects malformed state', () => {
    const chain = buildShapers([{ type: 'meanstd' }, { type: 'minmax' }]);
    const fresh = run(buildShapers([{ type: 'meanstd' }, { type: 'minmax' }]), [1, 2]);
    run(chain, [10, 20, 30]);
    chain.reset();
    expect(run(chain, [1, 2])).toEqual(fresh);
    expect(chain.save()).toEqual([{ n: 2, mean: 1.5, m2: 0.5 }, { min: expect.any(Number), max: expect.any(Number) }]);
    expect(() => chain.load([null])).toThrow(/list of 2/);
    expect(() => chain.load([{ n: -1, mean: 0, m2: 0 }, { min: null, max: null }])).toThrow(/shaper state \[0\] \(meanstd\)/);
    expect(() => chain.load([{ n: 1, mean: 0, m2: 0 }, { min: 3, max: 1 }])).toThrow(/shaper state \[1\] \(minmax\)/);
    const unseen = buildShapers([{ type: 'minmax' }]);
    expect(unseen.save()).toEqual([{ min: null, max: null }]);
  });
});
