import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RewardServer } from './app.js';
import { call, logSink, metric, until } from './testing.js';

/**
 * A CPU-heavy request does not stall the server, and ends by its deadline: `/healthz` and other
 * requests are answered while it runs (inline: the graders yield between calls), the heavy request
 * gets 503 naming the deadline, and its work stops (inline: calls not yet started fail; pool: the
 * worker running it is terminated) so nothing is left running.
 *
 * The heavy grader is `rouge_l`: its LCS costs O(n·m) in the texts' tokens (cut to `max_tokens`,
 * here raised to 100,000), so a few thousand words take tens of ms and tens of thousands seconds.
 */
const SPEC = `
name: lcs
components:
  - {name: lcs, grader: rouge_l, max_tokens: 100000}
`;

/** `n` words from a small vocabulary (stride `k`: two strides give texts with a short LCS). */
function words(n: number, k: number): string {
  return Array.from({ length: n }, (_, i) => `w${(i * k) % 97}`).join(' ');
}

const cheap = [{ id: 'c', completion: 'a b', reference: 'a b' }];

for (const scoring of ['inline', 'pool'] as const) {
  describe(`deadline and event loop (${scoring})`, () => {
    let dir: string;
    let server: RewardServer;
    let url: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rk-deadline-'));
      writeFileSync(join(dir, 'lcs.yaml'), SPEC);
      ({ server, url } = await startServer({ specs: [dir], port: 0, scoring, workers: 2, deadlineMs: 2000, logStream: logSink() }));
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const inflight = async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_inflight_rollouts');

    it('answers /healthz while a heavy batch runs, then 503s the batch at its deadline and stops its work', async () => {
      // Inline: many calls of some tens of ms each (tens of seconds in all, far past the 2 s deadline
      // even on a fast, idle machine: the deadline stops the calls not yet started); pool: one call
      // of many seconds.
      const rollouts =
        scoring === 'inline'
          ? Array.from({ length: 1000 }, (_, i) => ({ id: `h${i}`, completion: words(2000, 7), reference: words(2000, 11) }))
          : [{ id: 'h0', completion: words(40000, 7), reference: words(40000, 11) }];
      let heavyDone = false;
      const heavy = call(url, 'POST', '/v1/score', { rollouts }).finally(() => (heavyDone = true));
      await until(async () => (await inflight()) === rollouts.length, 'the heavy batch to start');
      const health = await call(url, 'GET', '/healthz');
      expect(health.status).toBe(200);
      const other = await call(url, 'POST', '/v1/score', { rollouts: cheap });
      expect([other.status, other.body.results?.[0]?.reward]).toEqual([200, 1]);
      expect(heavyDone).toBe(false);
      const r = await heavy;
      expect([r.status, r.body]).toEqual([503, { error: 'scoring did not finish within the 2000 ms deadline', path: '' }]);
      // Its work stopped: the reserved capacity is released (it would stay held for the whole batch otherwise).
      await until(async () => (await inflight()) === 0, 'the heavy batch to stop');
      const after = await call(url, 'POST', '/v1/score', { rollouts: cheap });
      expect([after.status, after.body.results[0].reward]).toEqual([200, 1]);
    }, 60_000);
  });
}
