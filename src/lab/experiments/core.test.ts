import { describe, expect, it } from 'vitest';
import { gdpoVsGrpo } from './gdpo_vs_grpo.js';
import { parGoodhart } from './par_goodhart.js';
import { graVsDirect } from './gra_vs_direct.js';
import { speakrlClarify } from './speakrl_clarify.js';
import { experimentByName, experiments } from '../registry.js';
import type { Experiment } from '../types.js';

/** Per experiment: the claims (by index) each broken variant must make fail. */
const cases: { e: Experiment; broken: Record<string, number[]> }[] = [
  { e: gdpoVsGrpo, broken: { 'gdpo-as-grpo': [0, 1] } },
  { e: parGoodhart, broken: { 'no-par': [1, 2] } },
  { e: graVsDirect, broken: { 'no-gate': [0, 2] } },
  { e: speakrlClarify, broken: { 'always-reward-clarify': [1, 2] } },
];

describe('lab experiments (issue 16, core half)', () => {
  it('are registered under their names', () => {
    for (const { e } of cases) {
      expect(experimentByName(e.name)).toBe(e);
      expect(experiments).toContain(e);
      expect(e.defaultSeeds).toBeGreaterThanOrEqual(10);
    }
  });

  for (const { e, broken } of cases) {
    it(`${e.name}: every claim holds over the default seeds, with finite CIs and banded curves`, async () => {
      const r = await e.run({ seeds: e.defaultSeeds });
      expect(r.experiment).toBe(e.name);
      expect(r.seeds).toBe(e.defaultSeeds);
      expect(r.claims.length).toBeGreaterThanOrEqual(2);
      for (const c of r.claims) {
        expect(c.holds, `${e.name}: ${c.claim} (${c.statistic}, [${c.ci}])`).toBe(true);
        expect(c.ci[0]).toBeLessThanOrEqual(c.statistic);
        expect(c.ci[1]).toBeGreaterThanOrEqual(c.statistic);
        expect(Number.isFinite(c.ci[0]) && Number.isFinite(c.ci[1])).toBe(true);
      }
      expect(r.curves.length).toBeGreaterThanOrEqual(2);
      for (const c of r.curves) {
        expect(c.mean.length).toBe(c.x.length);
        for (let i = 0; i < c.x.length; i++) expect(c.lo[i]).toBeLessThanOrEqual(c.hi[i] + 1e-12);
      }
      expect(r.envSteps).toBeGreaterThan(0);
    }, 60_000);

    it(`${e.name}: deterministic given the seeds`, async () => {
      const a = await e.run({ seeds: 2, seed0: 5 });
      const b = await e.run({ seeds: 2, seed0: 5 });
      expect(a.claims.map((c) => c.statistic)).toEqual(b.claims.map((c) => c.statistic));
    }, 60_000);

    for (const [variant, failing] of Object.entries(broken)) {
      it(`${e.name}: the broken variant ${variant} makes its claims fail`, async () => {
        expect(Object.keys(e.variants)).toContain(variant);
        const r = await e.run({ seeds: e.defaultSeeds, variant });
        expect(r.variant).toBe(variant);
        for (const k of failing) expect(r.claims[k].holds, `${variant}: ${r.claims[k].claim}`).toBe(false);
      }, 60_000);
    }
  }

  it('reject bad options, naming them', async () => {
    await expect(gdpoVsGrpo.run({ seeds: 1 })).rejects.toThrow(/seeds must be an integer ≥ 2/);
    await expect(gdpoVsGrpo.run({ seeds: 3, variant: 'no-such' })).rejects.toThrow(/unknown variant "no-such"; known: gdpo-as-grpo/);
  });
});
