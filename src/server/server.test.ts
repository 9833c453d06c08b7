import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startServer, type RewardServer } from './app.js';
import { createScorer } from '../index.js';
import { sandboxSupport } from '../graders/code/sandbox.js';
import { SPECS_DIR, call, halfSent, logSink, metric, until } from './testing.js';

const TOKEN = 'test-token-7f3a';
const auth = { authorization: `Bearer ${TOKEN}` };

function gsmRollouts(n: number, groupSize = 4) {
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    group: `g${Math.floor(i / groupSize)}`,
    prompt: `question ${Math.floor(i / groupSize)}`,
    completion: i % 3 === 0 ? '42' : i % 3 === 1 ? '41' : 'forty two',
    reference: '42',
    meta: { data_source: 'openai/gsm8k' },
  }));
}

describe('reward server (inline scoring, token auth)', () => {
  let server: RewardServer;
  let url: string;
  const logs = logSink();

  beforeAll(async () => {
    ({ server, url } = await startServer({
      specs: [SPECS_DIR],
      port: 0,
      token: TOKEN,
      defaultSpec: 'exact',
      routes: { 'openai/gsm8k': 'exact', 'novelty/v1': 'diverse' },
      logStream: logs,
    }));
  });
  afterAll(async () => {
    await server.close();
  });
  // Every test leaves the server serving.
  afterEach(async () => {
    const r = await call(url, 'GET', '/healthz');
    expect(r.status).toBe(200);
    const s = await call(url, 'POST', '/v1/score', { rollouts: [{ id: 'x', completion: '42', reference: '42' }] }, auth);
    expect(s.status).toBe(200);
  });

  it('binds loopback', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('POST /v1/score returns the same rewards, components and advantages as the library', async () => {
    const rollouts = gsmRollouts(24);
    const r = await call(url, 'POST', '/v1/score', { rollouts }, auth);
    expect(r.status).toBe(200);
    const lib = await createScorer(join(SPECS_DIR, 'exact.yaml')).score(rollouts);
    expect(r.body.results).toHaveLength(24);
    r.body.results.forEach((res: any, i: number) => {
      const want = lib.results[i]!;
      expect(res).toEqual({ id: want.id, reward: want.reward, components: want.components, advantage: want.advantage });
    });
    expect(r.body.results[0].components).toEqual({ correct: 1, close: 1 });
    expect(r.body.results[0].reward).toBe(1.5);
    expect(r.body.diagnostics).toBeUndefined();
  });

  it('is deterministic: the same request twice gives the same body', async () => {
    const body = { rollouts: gsmRollouts(40), details: true, diagnostics: true };
    const a = await call(url, 'POST', '/v1/score', body, auth);
    const b = await call(url, 'POST', '/v1/score', body, auth);
    expect(a.status).toBe(200);
    expect(a.text).toBe(b.text);
  });

  it('returns details and diagnostics keyed by spec when asked', async () => {
    const r = await call(url, 'POST', '/v1/score', { rollouts: gsmRollouts(8), details: true, diagnostics: true }, auth);
    expect(r.status).toBe(200);
    expect(r.body.results[0].details).toEqual({ correct: { region: 'whole' } }); // exact says which answer region it read
    const d = r.body.diagnostics.exact;
    expect(d.rollouts).toBe(8);
    expect(d.groups).toBe(2);
    expect(d.components.map((c: any) => c.name)).toEqual(['correct', 'close']);
    expect(Object.keys(r.body.diagnostics)).toEqual(['exact']);
  });

  it('warns in diagnostics about a component null on more than warn_null_rate, with reasons; a null reward gets advantage 0', async () => {
    const rollouts = [
      { id: 'n-0', group: 'n', completion: '42', reference: '42' },
      { id: 'n-1', group: 'n', completion: '41' },
      { id: 'n-2', group: 'n', completion: '40' },
      { id: 'n-3', group: 'n', completion: '42', reference: '42' },
    ];
    const r = await call(url, 'POST', '/v1/score', { rollouts, diagnostics: true }, auth);
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => x.reward)).toEqual([1.5, null, null, 1.5]);
    expect(r.body.results.map((x: any) => x.advantage)).toEqual([0, 0, 0, 0]);
    const d = r.body.diagnostics.exact;
    expect(d.warnings.map((w: any) => w.component)).toEqual(['correct', 'close']);
    expect(d.warnings[0]).toMatchObject({ null_rate: 0.5, nulls: 2, rollouts: 4, warn_null_rate: 0.2 });
    expect(d.warnings[0].reasons.reduce((s: number, x: any) => s + x.count, 0)).toBe(2);
    expect(d.warnings[0].message).toMatch(/^component "correct" is null on 50\.0% of 4 rollouts \(0 errors; warn above 20%\): .+ ×2$/);
  });

  it('names prompt-keyed groups by a rollout id in diagnostics, never by prompt text', async () => {
    const rollouts = [
      { id: 'p-0', prompt: 'SECRET PROMPT TEXT', completion: 'no', reference: '42' },
      { id: 'p-1', prompt: 'SECRET PROMPT TEXT', completion: 'nope', reference: '42' },
    ];
    const r = await call(url, 'POST', '/v1/score', { rollouts, diagnostics: true }, auth);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('SECRET PROMPT TEXT');
    expect(r.body.diagnostics.exact.group_flags.all_fail_groups).toEqual(['prompt of p-0']);
  });

  it('routes by spec field, by meta.data_source (table or spec name) and to the default spec', async () => {
    const rollouts = [
      { id: 'a', group: 'g', completion: 'x y z', reference: 'x', meta: { data_source: 'novelty/v1' } },
      { id: 'b', group: 'g', completion: '42', reference: '42', meta: { data_source: 'openai/gsm8k' } },
      { id: 'c', group: 'g', completion: 'x y w', reference: 'x', meta: { data_source: 'diverse' } },
      { id: 'd', group: 'g', completion: '42', reference: '42' },
    ];
    const r = await call(url, 'POST', '/v1/score', { rollouts, diagnostics: true }, auth);
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => x.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(Object.keys(r.body.results[0].components)).toEqual(['correct', 'novel']);
    expect(Object.keys(r.body.results[1].components)).toEqual(['correct', 'close']);
    expect(Object.keys(r.body.results[2].components)).toEqual(['correct', 'novel']);
    expect(Object.keys(r.body.results[3].components)).toEqual(['correct', 'close']);
    expect(Object.keys(r.body.diagnostics).sort()).toEqual(['diverse', 'exact']);
    // The group grader saw a and c as one group (the diverse part of the batch).
    expect(r.body.diagnostics.diverse.groups).toBe(1);
    const named = await call(url, 'POST', '/v1/score', { spec: 'diverse', rollouts: rollouts.slice(1, 2) }, auth);
    expect(Object.keys(named.body.results[0].components)).toEqual(['correct', 'novel']);
  });

  it('a rollout cannot change the spec, its result fields or another rollout', async () => {
    const base = { id: 'v', group: 'g', completion: '42', reference: '42' };
    const alone = await call(url, 'POST', '/v1/score', { rollouts: [base, { id: 'w', group: 'h', completion: '41', reference: '42' }] }, auth);
    const sneaky = { id: 'w', group: 'h', completion: '41', reference: '42', reward: 99, components: { correct: 1 }, advantage: 5, spec: 'diverse', errors: [], meta: { weight: 100 } };
    const withSneaky = await call(url, 'POST', '/v1/score', { rollouts: [base, sneaky] }, auth);
    expect(withSneaky.status).toBe(200);
    expect(withSneaky.body.results).toEqual(alone.body.results);
    expect(withSneaky.body.results[1].errors).toBeUndefined();
    const specs = await call(url, 'GET', '/v1/specs', undefined, auth);
    expect(specs.body.specs.map((s: any) => s.name)).toEqual(['diverse', 'exact']);
  });

  describe('POST /get_reward (OpenRLHF)', () => {
    // Exactly the bytes OpenRLHF's single-turn executor posts: aiohttp `json=payload` is
    // json.dumps(payload) — ", " and ": " separators, non-ASCII as \uXXXX — with one query per request.
    const prompt = String.raw`<|im_start|>user\nWhat is 6\u00d77? Put the answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n`;
    const openrlhfBody = (response: string, label: string) =>
      String.raw`{"query": ["` + prompt + response + String.raw`"], "prompts": ["` + prompt + String.raw`"], "labels": ["` + label + String.raw`"]}`;

    it('answers the body OpenRLHF builds with rewards, scores and extra_logs', async () => {
      const r = await call(url, 'POST', '/get_reward', openrlhfBody('42<|im_end|>', '42'), { 'content-type': 'application/json', ...auth });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['rewards', 'scores', 'extra_logs']);
      expect(r.body.rewards).toEqual([1.5]);
      expect(r.body.scores).toEqual([1]);
      expect(r.body.extra_logs).toEqual({ 'rk/correct': [1], 'rk/close': [1], 'rk_meta/error': [0], 'rk_meta/null_reward': [0], 'rk_meta/judged': [1], 'rk_meta/prefix_mismatch': [0] });
      const wrong = await call(url, 'POST', '/get_reward', openrlhfBody('41<|im_end|>', '42'), { 'content-type': 'application/json', ...auth });
      expect(wrong.body.rewards).toEqual([0.25]);
      expect(wrong.body.scores).toEqual([0.25]);
    });

    it('accepts the token in the URL (OpenRLHF cannot send headers) and batches of queries', async () => {
      const body = {
        query: ['Q1 A: 42', 'Q2 A: 7', 'prefix-lost 42'],
        prompts: ['Q1 A: ', 'Q2 A: ', 'Q3 A: '],
        labels: ['42', '42', '42'],
      };
      const r = await call(url, 'POST', `/get_reward?token=${TOKEN}&spec=exact`, body);
      expect(r.status).toBe(200);
      expect(r.body.rewards).toHaveLength(3);
      for (const v of Object.values(r.body.extra_logs) as number[][]) expect(v).toHaveLength(3);
      expect(r.body.extra_logs['rk_meta/prefix_mismatch']).toEqual([0, 0, 1]);
      expect(r.body.rewards[0]).toBe(1.5);
      const m = await call(url, 'GET', '/metrics', undefined, auth);
      expect(metric(m.text, 'rewardkit_openrlhf_prefix_mismatch_total{kind="absent"}')).toBeGreaterThanOrEqual(1);
    });

    it('sends a null reward as its group\'s mean judged reward (advantage 0), 0 in a group with none judged, flagged and counted', async () => {
      const body = {
        query: ['Q: 42', 'Q: 41', 'Q: 42', 'R: 1', 'R: 2'],
        prompts: ['Q: ', 'Q: ', 'Q: ', 'R: ', 'R: '],
        labels: ['42', '42', null, null, null],
      };
      const before = await call(url, 'GET', '/metrics', undefined, auth);
      const r = await call(url, 'POST', `/get_reward?token=${TOKEN}&spec=exact`, body);
      expect(r.status).toBe(200);
      expect(r.body.rewards).toEqual([1.5, 0.25, 0.875, 0, 0]);
      expect(r.body.scores).toEqual([1, 0.25, 0.875, 0, 0]);
      expect(r.body.extra_logs['rk_meta/null_reward']).toEqual([0, 0, 1, 1, 1]);
      expect(r.body.extra_logs['rk_meta/judged']).toEqual([1, 1, 0, 0, 0]);
      const after = await call(url, 'GET', '/metrics', undefined, auth);
      const delta = (name: string) => (metric(after.text, name) ?? 0) - (metric(before.text, name) ?? 0);
      expect(delta('rewardkit_neutral_rewards_total{route="/get_reward",kind="group_mean"}')).toBe(1);
      expect(delta('rewardkit_neutral_rewards_total{route="/get_reward",kind="no_judged_rollout"}')).toBe(2);
      expect(delta('rewardkit_null_rewards_total{spec="exact"}')).toBe(3);
      expect(delta('rewardkit_component_nulls_total{spec="exact",component="correct"}')).toBe(3);
      expect(delta('rewardkit_null_rate_warnings_total{spec="exact",component="correct"}')).toBe(1);
      expect(metric(after.text, 'rewardkit_component_null_rate{spec="exact",component="correct"}')).toBeCloseTo(0.6, 12);
      expect(after.text).toMatch(/rewardkit_component_null_reasons_total\{spec="exact",component="correct",reason="[^"]+"\} \d+/);
    });

    it('rejects bad OpenRLHF bodies with the path at fault', async () => {
      const cases: [unknown, number, string][] = [
        [{}, 422, 'query'],
        [{ query: 'a' }, 422, 'query'],
        [{ query: [] }, 422, 'query'],
        [{ query: ['a', 3] }, 422, 'query[1]'],
        [{ query: ['a'], prompts: ['a', 'b'] }, 422, 'prompts'],
        [{ query: ['a'], labels: 'x' }, 422, 'labels'],
      ];
      for (const [body, status, path] of cases) {
        const r = await call(url, 'POST', '/get_reward', body, auth);
        expect([r.status, r.body.path], JSON.stringify(body)).toEqual([status, path]);
        expect(typeof r.body.error).toBe('string');
      }
      const unknown = await call(url, 'POST', '/get_reward?spec=nope', { query: ['a'] }, auth);
      expect([unknown.status, unknown.body.path]).toEqual([422, 'query.spec']);
      expect(unknown.body.error).toMatch(/unknown spec "nope"/);
    });
  });

  describe('POST /run_code (Sandbox Fusion, for verl)', () => {
    it('runs a program and answers in Sandbox Fusion\'s shape', async () => {
      const body = { compile_timeout: 10, run_timeout: 10, code: 'import sys\nprint(sum(map(int, sys.stdin.read().split())))', stdin: '40 2\n', memory_limit_MB: 1024, language: 'python', files: {}, fetch_files: [] };
      const r = await call(url, 'POST', `/run_code?token=${TOKEN}`, body, { accept: 'application/json' });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['compile_result', 'executor_pod_name', 'files', 'message', 'run_result', 'status']);
      if (!sandboxSupport().ok) {
        expect(r.body.status).toBe('SandboxError');
        return;
      }
      expect(r.body).toMatchObject({ status: 'Success', message: '', compile_result: null, run_result: { status: 'Finished', return_code: 0, stdout: '42\n', stderr: '' } });
      expect(typeof r.body.run_result.execution_time).toBe('number');
    });

    it('rejects bad requests with the key at fault; Sandbox Fusion languages it does not run are a SandboxError', async () => {
      for (const [body, path] of [
        [{ language: 'python' }, 'code'],
        [{ code: 'x' }, 'language'],
        [{ code: 'x', language: 'brainfuck' }, 'language'],
        [{ code: 'x', language: '__proto__' }, 'language'],
        [{ code: 'x', language: 'constructor' }, 'language'],
        [{ code: 'x', language: 'toString' }, 'language'],
        [{ code: 'x', language: 'python', stdin: 5 }, 'stdin'],
        [{ code: 'x', language: 'python', fetch_files: ['../out.txt'] }, 'fetch_files[0]'],
        [{ code: 'x', language: 'python', files: { '/etc/x': 'eA==' } }, 'files["/etc/x"]'],
      ] as const) {
        const r = await call(url, 'POST', '/run_code', body, auth);
        expect([r.status, r.body.path]).toEqual([422, path]);
      }
      const lua = await call(url, 'POST', '/run_code', { code: 'print(1)', language: 'lua' }, auth);
      expect(lua.body).toMatchObject({ status: 'SandboxError', run_result: null });
    });
  });

  describe('bad input', () => {
    const cases: [string, unknown, number, string, RegExp][] = [
      ['malformed JSON', '{"rollouts": [', 400, '', /malformed JSON/],
      ['JSON with garbage', '{"rollouts": [}', 400, '', /^malformed JSON(: unexpected "\}"| at position 14 \(line 1, column 15\))$/],
      ['not an object', '[1,2]', 422, '', /expected a JSON object/],
      ['missing rollouts', {}, 422, 'rollouts', /is required/],
      ['rollouts not a list', { rollouts: { id: 'a' } }, 422, 'rollouts', /expected a list of rollouts, got object/],
      ['empty batch', { rollouts: [] }, 422, 'rollouts', /empty batch/],
      ['rollout missing id', { rollouts: [{ completion: 'a' }] }, 422, 'rollouts[0].id', /is required/],
      ['rollout missing completion', { rollouts: [{ id: 'a' }, { id: 'b' }].map((r) => ({ ...r, completion: 'x' })).concat([{ id: 'c' } as any]) }, 422, 'rollouts[2].completion', /is required/],
      ['wrong completion type', { rollouts: [{ id: 'a', completion: 5 }] }, 422, 'rollouts[0].completion', /got number/],
      ['wrong chat message', { rollouts: [{ id: 'a', completion: [{ content: 'x' }] }] }, 422, 'rollouts[0].completion[0].role', /expected a string/],
      ['rollout not an object', { rollouts: ['a'] }, 422, 'rollouts[0]', /expected a JSON object/],
      ['details not boolean', { rollouts: [{ id: 'a', completion: 'x' }], details: 'yes' }, 422, 'details', /true or false/],
      ['spec not string', { rollouts: [{ id: 'a', completion: 'x' }], spec: 3 }, 422, 'spec', /spec name/],
      ['unknown key', { rollouts: [{ id: 'a', completion: 'x' }], spex: 'exact' }, 422, 'spex', /unknown key/],
      ['unknown spec', { rollouts: [{ id: 'a', completion: 'x' }], spec: 'gsm9k' }, 422, 'spec', /unknown spec "gsm9k" \(served: diverse, exact\)/],
      ['spec named like a prototype member', { rollouts: [{ id: 'a', completion: 'x' }], spec: '__proto__' }, 422, 'spec', /unknown spec "__proto__" \(served: diverse, exact\)/],
      ['spec "constructor"', { rollouts: [{ id: 'a', completion: 'x' }], spec: 'constructor' }, 422, 'spec', /unknown spec "constructor"/],
      ['__proto__ key', '{"rollouts": [{"id": "a", "completion": "x", "meta": {"__proto__": {"polluted": 1}}}]}', 400, 'rollouts[0].meta.__proto__', /forbidden key "__proto__"/],
      ['escaped __proto__ key', String.raw`{"rollouts": [{"id": "a", "completion": "x", "meta": {"\u005f_proto__": {"polluted": 1}}}]}`, 400, 'rollouts[0].meta.__proto__', /forbidden key/],
      ['top-level __proto__', '{"__proto__": {"x": 1}, "rollouts": []}', 400, '__proto__', /forbidden key/],
      ['deeply nested JSON', `{"rollouts": [{"id": "a", "completion": "x", "meta": {"d": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`, 400, '', /nested deeper than 64 levels/],
    ];
    for (const [name, body, status, path, message] of cases) {
      it(`${name} → ${status}`, async () => {
        const r = await call(url, 'POST', '/v1/score', body, auth);
        expect(r.status).toBe(status);
        expect(r.body).toEqual({ error: expect.stringMatching(message), path });
        expect(({} as any).polluted).toBeUndefined();
      });
    }

    it('a 10k-rollout batch (over one scoring chunk) is scored in chunks → 200, equal to the library', async () => {
      const rollouts = gsmRollouts(10_000);
      const r = await call(url, 'POST', '/v1/score', { rollouts }, auth);
      expect(r.status).toBe(200);
      const lib = await createScorer(join(SPECS_DIR, 'exact.yaml')).score(rollouts);
      expect(r.body.results).toHaveLength(10_000);
      r.body.results.forEach((res: any, i: number) => {
        const want = lib.results[i]!;
        expect(res).toEqual({ id: want.id, reward: want.reward, components: want.components, advantage: want.advantage });
      });
      expect(metric((await call(url, 'GET', '/metrics', undefined, auth)).text, 'rewardkit_scoring_chunks_total')).toBeGreaterThanOrEqual(2);
    });

    it('wrong content type → 415, unknown route → 404', async () => {
      const r = await call(url, 'POST', '/v1/score', 'rollouts=1', { 'content-type': 'application/x-www-form-urlencoded', ...auth });
      expect(r.status).toBe(415);
      expect(r.body.path).toBe('headers.content-type');
      const nf = await call(url, 'GET', '/v2/nothing?token=zzz', undefined, auth);
      expect(nf.status).toBe(404);
      expect(nf.body).toEqual({ error: 'no route GET /v2/nothing', path: 'url' });
    });

    it('missing, malformed and wrong tokens → 401 on every route but /healthz', async () => {
      for (const [method, path] of [
        ['POST', '/v1/score'],
        ['POST', '/get_reward'],
        ['POST', '/run_code'],
        ['GET', '/v1/specs'],
        ['GET', '/metrics'],
        ['GET', '/openapi.json'],
        ['GET', '/docs'],
      ]) {
        const body = method === 'POST' ? { rollouts: [] } : undefined;
        const none = await call(url, method, path, body);
        expect([path, none.status, none.body.path]).toEqual([path, 401, 'headers.authorization']);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const wrong = await call(url, method, path, body, { authorization: 'Bearer nope' });
        expect(wrong.status).toBe(401);
        expect(wrong.body.error).toBe('invalid token');
        const malformed = await call(url, method, path, body, { authorization: TOKEN });
        expect(malformed.status).toBe(401);
        expect(malformed.body.error).toMatch(/malformed Authorization header/);
      }
      // ?token= is only for the trainer routes whose clients cannot send headers.
      const q = await call(url, 'POST', `/v1/score?token=${TOKEN}`, { rollouts: [{ id: 'a', completion: 'x' }] });
      expect(q.status).toBe(401);
      const wrongQ = await call(url, 'POST', '/get_reward?token=nope', { query: ['a'] });
      expect([wrongQ.status, wrongQ.body.path]).toEqual([401, 'query.token']);
      expect((await call(url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    });
  });

  it('GET /v1/specs, /openapi.json and /docs describe the server', async () => {
    const s = await call(url, 'GET', '/v1/specs', undefined, auth);
    expect(s.status).toBe(200);
    expect(s.body.default_spec).toBe('exact');
    expect(s.body.routes).toEqual({ 'openai/gsm8k': 'exact', 'novelty/v1': 'diverse' });
    expect(s.body.scoring).toBe('auto');
    const exact = s.body.specs.find((x: any) => x.name === 'exact');
    expect(exact).toMatchObject({ file: 'exact.yaml', advantage: 'grpo', data_sources: ['openai/gsm8k'], components: [{ name: 'correct', grader: 'exact', weight: 1 }, { name: 'close', grader: 'edit_distance', weight: 0.5 }] });
    expect(JSON.stringify(s.body)).not.toContain(SPECS_DIR);
    const o = await call(url, 'GET', '/openapi.json', undefined, auth);
    expect(o.body.openapi).toBe('3.1.0');
    expect(Object.keys(o.body.paths).sort()).toEqual(['/docs', '/get_reward', '/healthz', '/metrics', '/openapi.json', '/run_code', '/v1/score', '/v1/specs']);
    expect(o.body.paths['/v1/score'].post.requestBody.content['application/json'].schema.properties.spec.enum).toEqual(['diverse', 'exact']);
    const d = await call(url, 'GET', '/docs', undefined, auth);
    expect(d.headers.get('content-type')).toMatch(/text\/html/);
    expect(d.text).toContain('POST /get_reward');
  });

  it('GET /metrics exposes requests, latency, rollouts scored, errors, in-flight and queue depth', async () => {
    await call(url, 'POST', '/v1/score', { rollouts: gsmRollouts(12) }, auth);
    const m = await call(url, 'GET', '/metrics', undefined, auth);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metric(m.text, 'rewardkit_http_requests_total{route="/v1/score",method="POST",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(metric(m.text, 'rewardkit_http_requests_total{route="/v1/score",method="POST",status="422"}')).toBeGreaterThanOrEqual(1);
    expect(metric(m.text, 'rewardkit_http_request_duration_seconds_count{route="/v1/score"}')).toBeGreaterThanOrEqual(1);
    expect(metric(m.text, 'rewardkit_rollouts_scored_total{spec="exact"}')).toBeGreaterThanOrEqual(12);
    expect(metric(m.text, 'rewardkit_queue_depth')).toBe(0);
    expect(metric(m.text, 'rewardkit_inflight_requests')).toBe(0);
    expect(m.text).toContain('# TYPE rewardkit_grader_errors_total counter');
    expect(m.text).toContain('rewardkit_process_resident_memory_bytes');
  });

  it('logs one line per request with its id and never the completion text', async () => {
    const marker = 'COMPLETION-MARKER-93c1';
    await call(url, 'POST', '/v1/score', { rollouts: [{ id: 'log-1', completion: marker, reference: marker }] }, { ...auth, 'x-request-id': 'trace-abc' });
    await call(url, 'POST', '/v1/score', { rollouts: [{ id: 'log-2', completion: 5, reference: marker }] }, auth);
    await call(url, 'POST', '/v1/score', `{"rollouts": [{"id": "x", "completion": "${marker}"`, auth);
    await call(url, 'POST', `/get_reward?token=${TOKEN}`, { query: [`p ${marker}`], prompts: ['p '] });
    server.logger.flush?.();
    const text = logs.text();
    expect(text).not.toContain(marker);
    expect(text).not.toContain(TOKEN);
    const lines = logs.lines.map((l) => JSON.parse(l));
    const line = lines.find((l) => l.reqId === 'trace-abc');
    expect(line).toMatchObject({ msg: 'request', method: 'POST', route: '/v1/score', status: 200, rollouts: 1 });
    expect(lines.some((l) => l.route === '/get_reward' && l.status === 200)).toBe(true);
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const a = await call(url, 'GET', '/healthz', undefined, { 'x-request-id': 'abc-123' });
    expect(a.headers.get('x-request-id')).toBe('abc-123');
    const b = await call(url, 'GET', '/healthz', undefined, { 'x-request-id': 'bad id with spaces' });
    expect(b.headers.get('x-request-id')).toMatch(/^[0-9a-f]{6}-[0-9a-z]+$/);
  });
});

describe('limits and backpressure', () => {
  it('answers 413 for a body over the byte limit and keeps serving', async () => {
    const { server, url } = await startServer({ specs: [join(SPECS_DIR, 'exact.yaml')], port: 0, bodyLimit: 2048, logStream: logSink() });
    try {
      const r = await call(url, 'POST', '/v1/score', { rollouts: gsmRollouts(100) });
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: 'request body larger than the 2048 byte limit', path: '' });
      expect((await call(url, 'POST', '/v1/score', { rollouts: gsmRollouts(2) })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('finishes a request in flight when closed', async () => {
    const { server, url } = await startServer({ specs: [join(SPECS_DIR, 'exact.yaml')], port: 0, logStream: logSink() });
    const held = halfSent(url, '/v1/score', JSON.stringify({ rollouts: gsmRollouts(8) }));
    await until(async () => metric((await call(url, 'GET', '/metrics')).text, 'rewardkit_inflight_requests') === 1, 'the held request to be admitted');
    const closing = server.close();
    held.finish();
    const r = await held.done;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).results).toHaveLength(8);
    await closing;
  });
});

describe('--log-completions', () => {
  it('puts completion text in the logs only when asked', async () => {
    const logs = logSink();
    const { server, url } = await startServer({ specs: [join(SPECS_DIR, 'exact.yaml')], port: 0, logCompletions: true, logStream: logs });
    try {
      await call(url, 'POST', '/v1/score', { rollouts: [{ id: 'a', completion: 'ASKED-FOR-MARKER' }] });
      server.logger.flush?.();
      expect(logs.text()).toContain('ASKED-FOR-MARKER');
    } finally {
      await server.close();
    }
  });
});
