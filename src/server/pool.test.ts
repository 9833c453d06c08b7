import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RewardServer } from './app.js';
import { SPECS_DIR, call, logSink, metric } from './testing.js';

/** A batch mixing both fixture specs; `diverse` has a group-scope grader, so slices must hold whole groups. */
function mixed(n: number) {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'eps'];
  return Array.from({ length: n }, (_, i) => {
    const g = Math.floor(i / 8);
    return {
      id: `m${i}`,
      // Groups interleave in the request: group g's rollouts are not contiguous.
      group: `g${(g * 7) % Math.ceil(n / 8)}`,
      prompt: `prompt ${g}`,
      completion: i % 4 === 0 ? '42' : `${words[i % 5]} ${words[(i * 3) % 5]} ${i % 7}`,
      reference: i % 11 === 0 ? undefined : '42',
      meta: { data_source: i % 3 === 0 ? 'diverse' : 'exact' },
    };
  });
}

describe('pool scoring equals inline scoring', () => {
  let inline: { server: RewardServer; url: string };
  let pool: { server: RewardServer; url: string };

  beforeAll(async () => {
    inline = await startServer({ specs: [SPECS_DIR], port: 0, defaultSpec: 'exact', scoring: 'inline', logStream: logSink() });
    pool = await startServer({ specs: [SPECS_DIR], port: 0, defaultSpec: 'exact', scoring: 'pool', workers: 2, logStream: logSink() });
  });
  afterAll(async () => {
    await Promise.all([inline.server.close(), pool.server.close()]);
  });

  for (const n of [1, 64, 300, 1000]) {
    it(`${n} rollouts, two specs, details and diagnostics: identical bodies`, async () => {
      const body = { rollouts: mixed(n), details: true, diagnostics: true };
      const a = await call(inline.url, 'POST', '/v1/score', body);
      const b = await call(pool.url, 'POST', '/v1/score', body);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.text).toBe(a.text);
    });
  }

  it('serves concurrent requests from the pool and reports its mode and queue depth', async () => {
    const bodies = [50, 260, 7, 520].map((n) => ({ rollouts: mixed(n) }));
    const [pa, ia] = await Promise.all([
      Promise.all(bodies.map((b) => call(pool.url, 'POST', '/v1/score', b))),
      Promise.all(bodies.map((b) => call(inline.url, 'POST', '/v1/score', b))),
    ]);
    pa.forEach((r, i) => expect(r.text).toBe(ia[i]!.text));
    const specs = await call(pool.url, 'GET', '/v1/specs');
    expect(specs.body.scoring).toBe('pool');
    const m = await call(pool.url, 'GET', '/metrics');
    expect(metric(m.text, 'rewardkit_queue_depth')).toBe(0);
  });

  it('OpenRLHF requests give the same answer in both modes', async () => {
    const body = { query: ['Q: 42<|im_end|>', 'Q: 41', 'Z: 42'], prompts: ['Q: ', 'Q: ', 'Q: '], labels: ['42', '42', '42'] };
    const a = await call(inline.url, 'POST', '/get_reward', body);
    const b = await call(pool.url, 'POST', '/get_reward', body);
    expect(b.text).toBe(a.text);
    expect(a.body.rewards).toEqual([1.5, 0.25, 0.2]); // 'Z: 42' lacks its prompt: scored whole
    expect(a.body.extra_logs['rk_meta/prefix_mismatch']).toEqual([0, 0, 1]);
  });
});
