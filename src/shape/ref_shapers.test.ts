import { describe, expect, it } from 'vitest';
import { toSample } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { buildShapeBatch } from './batch.js';
import { fittedPoly, logSigmoid, normalCdf, normalQuantile } from './math.js';
import { buildShapers } from './registry.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

function shape(spec: Record<string, unknown>, rewards: (number | null)[], refs?: number[]): number[] {
  const rollouts: Rollout[] = rewards.map((_, i) => ({ id: `r${i}`, group: 'g', completion: 'x', ...(refs ? { meta: { ref_rewards: refs } } : {}) }));
  const batch = buildShapeBatch(rollouts.map(toSample), rewards);
  buildShapers([spec as never]).apply(batch);
  return Array.from(batch.rewards);
}

const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol);

describe('reference-relative shapers (refs [0.5, 1.5], r = 1)', () => {
  const refs = [0.5, 1.5];

  it('centered = mean(r − ref) = 0', () => {
    close(shape({ type: 'centered' }, [1], refs)[0], 0);
    close(shape({ type: 'centered' }, [2.5], refs)[0], 1.5);
  });

  it('sgfc = mean σ((r − 3) − ref) = 0.0526', () => {
    const v = shape({ type: 'sgfc' }, [1], refs)[0];
    close(v, (sig(-2.5) + sig(-3.5)) / 2);
    expect(v).toBeCloseTo(0.0526, 4);
  });

  it('lsc = log σ(r − ref85) = −1.1253 with ref85 = 1.7329 (sample std of refs + 1e-5)', () => {
    const v = shape({ type: 'lsc' }, [1], refs)[0];
    const ref85 = 1 + 1.0364333894937898 * (Math.SQRT1_2 + 1e-5);
    close(ref85, 1.732879442293112, 1e-12); // scipy norm.ppf(0.85, 1, std+1e-5)
    close(v, Math.log(sig(1 - ref85)));
    close(v, -1.1252750870507482, 1e-12); // the same in numpy
    expect(v).toBeCloseTo(-1.1253, 4);
  });

  it('lsc uses every reference by default and a single ref has std 0', () => {
    close(shape({ type: 'lsc' }, [1], Array.from({ length: 12 }, (_, j) => j))[0], logSigmoid(1 - (5.5 + normalQuantile(0.85) * (Math.sqrt(13) + 1e-5))));
    close(shape({ type: 'lsc' }, [1], [2])[0], logSigmoid(1 - (2 + normalQuantile(0.85) * 1e-5)));
    expect(() => shape({ type: 'lsc', quantile: 1 }, [1], refs)).toThrow(expect.objectContaining({ param: '0.quantile' }));
  });

  it('sigmoid: pure σ(k r), relative = par', () => {
    close(shape({ type: 'sigmoid' }, [2])[0], sig(2));
    close(shape({ type: 'sigmoid', k: 2 }, [-1])[0], sig(-2));
    close(shape({ type: 'sigmoid', relative: true }, [1], refs)[0], shape({ type: 'par' }, [1], refs)[0], 0);
  });

  it('tanh: pure and relative', () => {
    close(shape({ type: 'tanh' }, [0.7])[0], Math.tanh(0.7));
    close(shape({ type: 'tanh', relative: true }, [1], refs)[0], 0);
    close(shape({ type: 'tanh', relative: true }, [2], refs)[0], (Math.tanh(1.5) + Math.tanh(0.5)) / 2);
  });

  it('fittedpoly: the least-squares fit of σ on [−5,5], clamped (values from numpy lstsq)', () => {
    close(fittedPoly(1), 0.7188602688916013, 1e-12);
    close(fittedPoly(-2), 0.11698485946078446, 1e-12);
    close(fittedPoly(4.99), 1.0099066917151192, 1e-12);
    expect(fittedPoly(-5)).toBe(0);
    expect(fittedPoly(7)).toBe(1);
    close(shape({ type: 'fittedpoly' }, [1])[0], 0.7188602688916013, 1e-12);
    close(shape({ type: 'fittedpoly', relative: true }, [1], refs)[0], (fittedPoly(0.5) + fittedPoly(-0.5)) / 2);
    close(fittedPoly(0), 0.5, 1e-12);
  });
});

describe('normal quantile', () => {
  it('matches scipy norm.ppf and inverts the cdf', () => {
    close(normalQuantile(0.85), 1.0364333894937898, 1e-14);
    close(normalQuantile(0.975), 1.959963984540054, 1e-14);
    close(normalQuantile(1e-10), -6.361340902404056, 1e-12);
    close(normalQuantile(0.3), -0.5244005127080409, 1e-14);
    expect(normalQuantile(0.5)).toBe(0);
    for (const p of [1e-300, 1e-6, 0.01, 0.2, 0.6, 0.99, 1 - 1e-12]) close(normalCdf(normalQuantile(p)), p, 1e-14 * Math.max(1, 1 / p) * p + 1e-16);
    expect(() => normalQuantile(0)).toThrow();
  });
});
