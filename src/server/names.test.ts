import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RewardServer } from './app.js';
import { call, logSink } from './testing.js';

/**
 * Spec, component and route names that are members of Object.prototype are plain names end to end:
 * every component counts and comes back as an own JSON key, specs named so are found (and only
 * those served), in inline and pool scoring alike.
 */

const PROTO_SPEC = `
name: __proto__
components:
  - {name: __proto__, grader: exact, weight: 1}
  - {name: constructor, grader: exact, weight: 2}
  - {name: toString, grader: exact, weight: 4}
advantage: {estimator: grpo}
`;
const OTHER_SPEC = `
name: toString
components:
  - {name: valueOf, grader: exact, weight: 8}
`;

const rollouts = [
  { id: 'a', group: 'g', completion: '42', reference: '42' },
  { id: 'b', group: 'g', completion: '41', reference: '42' },
];

for (const scoring of ['inline', 'pool'] as const) {
  describe(`names like __proto__ through the server (${scoring})`, () => {
    let dir: string;
    let server: RewardServer;
    let url: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rk-names-'));
      writeFileSync(join(dir, 'a.yaml'), PROTO_SPEC);
      writeFileSync(join(dir, 'b.yaml'), OTHER_SPEC);
      ({ server, url } = await startServer({
        specs: [dir],
        port: 0,
        scoring,
        workers: 1,
        defaultSpec: 'toString',
        routes: { constructor: '__proto__' },
        logStream: logSink(),
      }));
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('POST /v1/score with spec "__proto__": every component counts and is an own key of the JSON', async () => {
      const r = await call(url, 'POST', '/v1/score', { spec: '__proto__', rollouts, diagnostics: true, details: true });
      expect(r.status).toBe(200);
      expect(r.body.results.map((x: { reward: number }) => x.reward)).toEqual([7, 0]);
      expect(r.text).toContain('"components":{"__proto__":1,"constructor":1,"toString":1}');
      expect(Object.keys(r.body.results[0].components)).toEqual(['__proto__', 'constructor', 'toString']);
      expect(r.body.results[0].advantage).toBeGreaterThan(0);
      // Diagnostics are keyed by spec name: the spec named __proto__ is an own key.
      expect(Object.keys(r.body.diagnostics)).toEqual(['__proto__']);
      expect(r.body.diagnostics['__proto__'].components.map((c: { name: string }) => c.name)).toEqual(['__proto__', 'constructor', 'toString']);
    });

    it('routes by data_source "constructor" and falls back to the default for "valueOf"; an unserved prototype name is an unknown spec', async () => {
      const r = await call(url, 'POST', '/v1/score', {
        rollouts: [
          { id: 'x', completion: '42', reference: '42', meta: { data_source: 'constructor' } },
          { id: 'y', completion: '42', reference: '42', meta: { data_source: 'valueOf' } },
          { id: 'z', completion: '42', reference: '42', meta: { data_source: 'hasOwnProperty' } },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.results.map((x: { reward: number }) => x.reward)).toEqual([7, 8, 8]);
      expect(Object.keys(r.body.results[1].components)).toEqual(['valueOf']);
      for (const spec of ['constructor', 'hasOwnProperty', 'valueOf']) {
        const u = await call(url, 'POST', '/v1/score', { spec, rollouts });
        expect([u.status, u.body.path, u.body.error]).toEqual([422, 'spec', `unknown spec "${spec}" (served: __proto__, toString)`]);
      }
    });

    it('POST /get_reward?spec=__proto__ logs one column per component', async () => {
      const r = await call(url, 'POST', '/get_reward?spec=__proto__', { query: ['42', '41'], labels: ['42', '42'] });
      expect(r.status).toBe(200);
      expect(r.body.rewards).toEqual([7, 0]);
      expect(r.body.extra_logs['rk/__proto__']).toEqual([1, 0]);
      expect(r.body.extra_logs['rk/constructor']).toEqual([1, 0]);
      const u = await call(url, 'POST', '/get_reward?spec=constructor', { query: ['42'] });
      expect([u.status, u.body.path]).toEqual([422, 'query.spec']);
    });

    it('GET /v1/specs lists both specs and the route', async () => {
      const r = await call(url, 'GET', '/v1/specs');
      expect(r.body.specs.map((s: { name: string }) => s.name)).toEqual(['__proto__', 'toString']);
      expect(r.text).toContain('"routes":{"constructor":"__proto__"}');
      expect(r.body.specs[0].data_sources).toEqual(['constructor']);
    });
  });
}
