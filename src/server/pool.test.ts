import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RewardServer } from './app.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { FIXTURES, ROOT, SPECS_DIR, call, logSink, metric } from './testing.js';

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

/** The fixture specs, one whose grader fails on some rollouts, and the GSM8K example spec. */
const SPECS = [SPECS_DIR, join(FIXTURES, 'lengthy.yaml'), join(FIXTURES, 'steps.yaml'), join(ROOT, 'examples', 'gsm8k.yaml')];

describe('pool scoring equals inline scoring', () => {
  let inline: { server: RewardServer; url: string };
  let pool: { server: RewardServer; url: string };

  beforeAll(async () => {
    inline = await startServer({ specs: SPECS, port: 0, defaultSpec: 'exact', scoring: 'inline', logStream: logSink() });
    // Workers compile the specs (from TypeScript, under tsx) before the server listens.
    pool = await startServer({ specs: SPECS, port: 0, defaultSpec: 'exact', scoring: 'pool', workers: 2, logStream: logSink() });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([inline?.server.close(), pool?.server.close()]);
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

  it('diagnostics without details: the null reasons graded in the workers are reported as inline', async () => {
    // a reference that is not a number: the GSM8K spec's numeric grader says why it cannot judge
    const rollouts = mixed(300).map((r, i) => ({ id: r.id, group: r.group, prompt: r.prompt, completion: r.completion, reference: i % 5 === 3 ? 'forty-two' : '42' }));
    const body = { spec: 'gsm8k-r1', rollouts, diagnostics: true };
    const a = await call(inline.url, 'POST', '/v1/score', body);
    const b = await call(pool.url, 'POST', '/v1/score', body);
    expect(b.text).toBe(a.text);
    const reasons = Object.values(b.body.diagnostics as Record<string, { components: { null_reasons: { reason: string }[] }[] }>).flatMap((d) =>
      d.components.flatMap((c) => c.null_reasons.map((r) => r.reason)),
    );
    // a grader's own reason, which the main thread only learns from the workers when details are off
    expect(reasons.filter((r) => r !== 'null, no reason given').length).toBeGreaterThan(0);
  });

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

  it('grader errors and details replay identically (length grader failing without meta.tokens)', async () => {
    const rollouts = Array.from({ length: 300 }, (_, i) => ({
      id: `e${i}`,
      group: `g${i % 40}`,
      completion: i % 2 ? '42' : 'nope',
      reference: '42',
      meta: i % 3 === 0 ? {} : { tokens: i % 20 },
    }));
    const body = { spec: 'lengthy', rollouts, details: true, diagnostics: true };
    const a = await call(inline.url, 'POST', '/v1/score', body);
    const b = await call(pool.url, 'POST', '/v1/score', body);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(a.body.results[0].errors).toEqual([{ component: 'short', message: expect.stringMatching(/meta\.tokens must be a non-negative number/) }]);
    expect(a.body.results[0].components.short).toBeNull();
    expect(a.body.results[1].errors).toBeUndefined();
    for (const url of [inline.url, pool.url]) {
      const m = await call(url, 'GET', '/metrics');
      expect(metric(m.text, 'rewardkit_grader_errors_total{spec="lengthy",component="short",grader="length"}')).toBe(100);
    }
  });

  it('the GSM8K example spec gives identical results in both modes', async () => {
    const rollouts = Array.from({ length: 512 }, (_, i) => {
      const g = Math.floor(i / 8);
      const answer = 17 * g + 3;
      const kinds = [
        `<think>\n${g} × 17 + 3 = ${answer}\n</think>\n<answer>${answer}</answer>`,
        `<think>\nwork\n</think>\n<answer>The answer is #### ${answer}</answer>`,
        `<think>\nwork\n</think>\n<answer>${answer + 1}</answer>`,
        `${answer} is the answer`,
        `<think>\n${'blah '.repeat(300)}\n</think>\n<answer>${answer}</answer>`,
      ];
      return { id: `q${i}`, group: `q${g}`, prompt: `problem ${g}`, completion: kinds[i % 5]!, reference: String(answer) };
    });
    const body = { spec: 'gsm8k-r1', rollouts, details: true, diagnostics: true };
    const a = await call(inline.url, 'POST', '/v1/score', body);
    const b = await call(pool.url, 'POST', '/v1/score', body);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
  });

  it('returns per-step rewards, advantages and step components, identically in both modes', async () => {
    const rollouts = readFileSync(join(ROOT, 'examples', 'agent_rollouts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const body = { spec: 'steps', rollouts, details: true };
    const a = await call(inline.url, 'POST', '/v1/score', body);
    const b = await call(pool.url, 'POST', '/v1/score', body);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    const solved = a.body.results.find((r: { id: string }) => r.id === 'stock-0');
    expect(solved.steps.map((s: { reward: number }) => s.reward)).toEqual([0.1, 0.1, 1]);
    expect(solved.steps[0]).toEqual({ reward: 0.1, advantage: expect.any(Number), components: { valid_call: 1 }, details: {} });
    const loops = a.body.results.find((r: { id: string }) => r.id === 'stock-2');
    expect(loops.steps.map((s: { components: object }) => s.components)).toEqual([{ valid_call: 1 }, { valid_call: 1 }, { valid_call: 1 }]);
    expect(loops.steps.map((s: { reward: number }) => s.reward)).toEqual([0, 0, 0]);
    const plain = await call(inline.url, 'POST', '/v1/score', { spec: 'exact', rollouts: rollouts.slice(0, 2) });
    expect(plain.body.results[0].steps).toBeUndefined();
  });

  it('OpenRLHF requests give the same answer in both modes', async () => {
    const body = { query: ['Q: 42<|im_end|>', 'Q: 41', 'Z: 42'], prompts: ['Q: ', 'Q: ', 'Q: '], labels: ['42', '42', '42'] };
    const a = await call(inline.url, 'POST', '/get_reward?spec=exact', body);
    const b = await call(pool.url, 'POST', '/get_reward?spec=exact', body);
    expect(b.text).toBe(a.text);
    expect(a.body.rewards).toEqual([1.5, 0.25, 0.2]); // 'Z: 42' lacks its prompt: scored whole
    expect(a.body.extra_logs['rk_meta/prefix_mismatch']).toEqual([0, 0, 1]);
  });
});
