import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLab } from '../../cli/lab.js';
import { startFakeOpenAIServer, type FakeServer } from '../../backends/testing/openai_server.js';
import { buildBackends, type BuiltBackends } from '../../backends/config.js';
import { experimentByName, experiments } from '../registry.js';
import type { Experiment } from '../types.js';
import { barfi } from './barfi.js';
import { epicRegret } from './epic_regret.js';
import { intrinsicOni } from './intrinsic_oni.js';
import { potentialShaping } from './potential_shaping.js';
import { qdMaze } from './qd_maze.js';

/** Per experiment: the claims (by index) each broken variant must make fail. */
const cases: { e: Experiment; broken: Record<string, number[]> }[] = [
  { e: potentialShaping, broken: { 'no-potential': [0], 'no-shaping': [1], 'coin-as-potential': [2] } },
  { e: qdMaze, broken: { 'ns-objective': [0], 'me-one-niche': [1] } },
  { e: intrinsicOni, broken: { 'no-intrinsic': [0] } },
  { e: barfi, broken: { 'no-outer': [0, 2], 'blended-outer': [0, 2] } },
  { e: epicRegret, broken: { 'no-canonical': [1], shuffled: [0] } },
];

describe('lab experiments (issue 16, gridworld half)', () => {
  it('are registered under their names, with ≥ 10 default seeds and a variant per mechanism', () => {
    for (const { e, broken } of cases) {
      expect(experimentByName(e.name)).toBe(e);
      expect(experiments).toContain(e);
      expect(e.defaultSeeds).toBeGreaterThanOrEqual(10);
      expect(Object.keys(e.variants).sort()).toEqual(Object.keys(broken).sort());
      expect(e.description).toContain('[INF]');
    }
  });

  for (const { e, broken } of cases) {
    it(`${e.name}: every claim holds over the default seeds, with finite CIs and banded curves`, async () => {
      const r = await e.run({ seeds: e.defaultSeeds });
      expect(r.experiment).toBe(e.name);
      expect(r.seeds).toBe(e.defaultSeeds);
      expect(r.variant).toBeUndefined();
      for (const c of r.claims) {
        expect(c.holds, `${e.name}: ${c.claim} (${c.statistic}, [${c.ci}])`).toBe(true);
        expect(c.ci[0]).toBeLessThanOrEqual(c.statistic);
        expect(c.ci[1]).toBeGreaterThanOrEqual(c.statistic);
        expect(Number.isFinite(c.ci[0]) && Number.isFinite(c.ci[1])).toBe(true);
      }
      expect(r.curves.length).toBeGreaterThanOrEqual(1);
      for (const c of r.curves) {
        expect(c.mean.length).toBe(c.x.length);
        for (let i = 0; i < c.x.length; i++) expect(c.lo[i]).toBeLessThanOrEqual(c.hi[i] + 1e-12);
      }
      if (e !== epicRegret) expect(r.envSteps).toBeGreaterThan(0);
    }, 120_000);

    it(`${e.name}: deterministic given the seeds`, async () => {
      const a = await e.run({ seeds: 2, seed0: 5 });
      const b = await e.run({ seeds: 2, seed0: 5 });
      expect(a.claims.map((c) => c.statistic)).toEqual(b.claims.map((c) => c.statistic));
    }, 120_000);

    for (const [variant, failing] of Object.entries(broken)) {
      it(`${e.name}: the broken variant ${variant} makes its claims fail`, async () => {
        const r = await e.run({ seeds: e.defaultSeeds, variant });
        expect(r.variant).toBe(variant);
        for (const k of failing) expect(r.claims[k].holds, `${variant}: ${r.claims[k].claim}`).toBe(false);
      }, 120_000);
    }
  }

  it('reject bad options, naming them', async () => {
    await expect(potentialShaping.run({ seeds: 1 })).rejects.toThrow(/potential-shaping: seeds must be an integer ≥ 2/);
    await expect(qdMaze.run({ seeds: 3, variant: 'no-such' })).rejects.toThrow(/unknown variant "no-such"; known: ns-objective, me-one-niche/);
    await expect(barfi.run({ seeds: 3, seed0: 1.5 })).rejects.toThrow(/seed0 must be an integer/);
  });

  it('potential-shaping: invariance is exact (agreement 1 on every seed), and the coin bonus lowers the true return', async () => {
    const r = await potentialShaping.run({ seeds: 10 });
    expect(r.claims[0].statistic).toBe(1);
    expect(r.claims[0].ci).toEqual([1, 1]);
    expect(r.claims[2].statistic).toBeGreaterThan(0.2);
  }, 120_000);
});

describe('intrinsic-oni with a judge backend (the fake OpenAI-compatible server)', () => {
  let server: FakeServer;
  let built: BuiltBackends;
  const asked: string[] = [];
  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    // the scripted judge: the key and the door it opens are progress, the rest is not
    server.handle('chat', (req) => {
      const content = (req.body.messages as { content: string }[]).at(-1)!.content;
      asked.push(content);
      const event = /printed this event: "([^"]*)"/.exec(content)?.[1] ?? '';
      const label = /key/.test(event) ? '1' : '0';
      return { id: 'x', object: 'chat.completion', created: 0, model: 'judge', choices: [{ index: 0, message: { role: 'assistant', content: label }, finish_reason: 'stop' }] };
    });
    built = buildBackends({ judge: { type: 'openai', base_url: server.baseURL, model: 'judge', cache: false } }, { specDir: process.cwd() });
  });
  afterAll(async () => {
    await built.close();
    await server.close();
  });

  it('the ONI claim holds with labels from the judge, and every distinct event is asked once per seed', async () => {
    asked.length = 0;
    const judge = built.resolver.get('judge', ['chat']);
    const r = await intrinsicOni.run({ seeds: 10, judge });
    expect(r.claims).toHaveLength(2);
    for (const c of r.claims) expect(c.holds, `${c.claim} (${c.statistic}, [${c.ci}])`).toBe(true);
    expect(r.curves.map((c) => c.label)).toContain('ONI event labels');
    expect(asked.length).toBeGreaterThan(10);
    expect(asked.length).toBeLessThanOrEqual(10 * 9);
    expect(asked.some((a) => a.includes('Find the key, then open the locked door with it.'))).toBe(true);
  }, 120_000);

  it('`lab run intrinsic-oni --backend URL --model M`: the ONI claim appears and holds, with labels from the server', async () => {
    asked.length = 0;
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLab('intrinsic-oni', { backend: server.baseURL, model: 'judge', json: true }, (s) => out.push(s), (s) => err.push(s));
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const r = JSON.parse(out[0]) as { claims: { claim: string; holds: boolean }[] };
    expect(r.claims).toHaveLength(2);
    expect(r.claims[1].claim).toMatch(/^ONI-style event rewards from a judge/);
    expect(r.claims[1].holds).toBe(true);
    expect(asked.length).toBeGreaterThan(10);
  }, 120_000);

  it('`lab run intrinsic-oni` without --backend checks the count claim only', async () => {
    asked.length = 0;
    const out: string[] = [];
    expect(await runLab('intrinsic-oni', { seeds: 2, json: true }, (s) => out.push(s), () => {})).not.toBe(2);
    expect((JSON.parse(out[0]) as { claims: unknown[] }).claims).toHaveLength(1);
    expect(asked).toEqual([]);
  }, 60_000);

  it('`lab run` with a failing judge (a --backend FILE): an error naming the backend, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-judge-'));
    const file = join(dir, 'judge.yaml');
    writeFileSync(file, `type: openai\nbase_url: ${server.baseURL}\nmodel: judge\nretries: 0\n`);
    server.fail('chat', { kind: 'status', status: 400, message: 'bad model' }, 50);
    const out: string[] = [];
    const err: string[] = [];
    try {
      expect(await runLab('intrinsic-oni', { seeds: 2, backend: file }, (s) => out.push(s), (s) => err.push(s))).toBe(1);
    } finally {
      server.reset();
      server.handle('chat', () => ({ id: 'x', object: 'chat.completion', created: 0, model: 'judge', choices: [{ index: 0, message: { role: 'assistant', content: '0' }, finish_reason: 'stop' }] }));
    }
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`error: intrinsic-oni (judge backend ${file}): ONI judge backend "judge" failed to label`);
  }, 60_000);

  it('no-intrinsic makes the ONI claim fail too', async () => {
    const judge = built.resolver.get('judge', ['chat']);
    const r = await intrinsicOni.run({ seeds: 10, judge, variant: 'no-intrinsic' });
    expect(r.claims[0].holds).toBe(false);
    expect(r.claims[1].holds).toBe(false);
  }, 120_000);

  it('a judge that labels nothing as progress (unparseable replies) pays nothing: the ONI claim fails', async () => {
    const r = await intrinsicOni.run({ seeds: 10, labeller: async (_t, ms) => ms.map(() => null) });
    expect(r.claims[1].holds).toBe(false);
    expect(r.claims[1].statistic).toBe(0);
  }, 120_000);

  it('a failing judge stops the run with an error naming the backend', async () => {
    server.fail('chat', { kind: 'status', status: 400, message: 'bad model' }, 50);
    const judge = buildBackends({ j2: { type: 'openai', base_url: server.baseURL, model: 'judge', cache: false, retries: 0 } }, { specDir: process.cwd() });
    try {
      await expect(intrinsicOni.run({ seeds: 2, judge: judge.resolver.get('j2', ['chat']) })).rejects.toThrow(/ONI judge backend "j2" failed to label/);
    } finally {
      server.reset();
      await judge.close();
      // restore the scripted judge for any later test
      server.handle('chat', () => ({ id: 'x', object: 'chat.completion', created: 0, model: 'judge', choices: [{ index: 0, message: { role: 'assistant', content: '0' }, finish_reason: 'stop' }] }));
    }
  }, 60_000);
});
