import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSpec } from '../spec/load.js';
import { compileSpecAsync } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { scoreBatch } from '../pipeline.js';
import type { Rollout } from '../rollout/types.js';

/**
 * `grader: http` against a real HTTP server on 127.0.0.1: batching, headers from env vars, the
 * managed wrapper's retries and counters, and every kind of fault a service can have.
 */
interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { rollouts: { id: string; prompt: string; completion: string; reference: unknown; meta: unknown }[]; params: Record<string, unknown> };
}
const seen: Seen[] = [];
let flaky = 0;
let server: http.Server;
let base: string;

/** The service: scores by path (each path one behaviour). */
function answer(path: string, body: Seen['body']): { status: number; text: string } {
  const rs = body.rollouts;
  const word = String(body.params.word ?? 'Paris');
  const good = () => rs.map((r) => (r.completion.includes(word) ? 1 : 0));
  switch (path) {
    case '/grade':
      return { status: 200, text: JSON.stringify(rs.map((r) => (r.reference === null ? null : { score: r.completion.includes(word) ? 1 : 0, details: { len: r.completion.length } }))) };
    case '/wrapped':
      return { status: 200, text: JSON.stringify({ scores: good() }) };
    case '/flaky':
      // fails twice with 503, then answers
      return flaky++ < 2 ? { status: 503, text: 'busy' } : { status: 200, text: JSON.stringify(good()) };
    case '/always503':
      return { status: 503, text: 'down for maintenance' };
    case '/forbidden':
      return { status: 403, text: 'no' };
    case '/notjson':
      return { status: 200, text: '<html>oops</html>' };
    case '/short':
      return { status: 200, text: JSON.stringify(good().slice(1)) };
    case '/object':
      return { status: 200, text: JSON.stringify({ result: 1 }) };
    case '/mixed':
      // one good entry, then each kind of bad entry
      return { status: 200, text: JSON.stringify(rs.map((r) => ({ ok: 1, str: 'high', big: { score: '1' }, arr: [1], inf: 1e400 })[r.completion] ?? 0)) };
    case '/slow':
      return { status: 200, text: JSON.stringify(good()) };
    default:
      return { status: 404, text: 'not found' };
  }
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ path: req.url!, headers: req.headers, body });
      const { status, text } = req.url === '/echoauth' ? { status: 401, text: `bad token ${req.headers.authorization}` } : answer(req.url!, body);
      const send = () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(text);
      };
      if (req.url === '/slow') setTimeout(send, 2_000);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const rollouts: Rollout[] = [
  { id: 'a', prompt: 'Capital of France?', completion: 'It is Paris.', reference: 'Paris', meta: { src: 'geo' } },
  { id: 'b', prompt: 'Capital of France?', completion: 'Lyon.', reference: 'Paris' },
  { id: 'c', prompt: 'Capital of France?', completion: 'Paris', reference: 'Paris' },
];

async function run(component: Record<string, unknown>, batch: Rollout[] = rollouts) {
  const c = await compileSpecAsync(parseSpec({ components: [{ name: 'svc', grader: 'http', backoff_ms: 1, max_backoff_ms: 5, ...component }] }, 'test'));
  try {
    const r = await scoreBatch(c, batch, { details: true });
    return { ...r, stats: c.backends?.stats()['http:svc'] };
  } finally {
    await c.close();
  }
}

describe('grader: http', () => {
  it('posts the batch with params and env headers; scores, nulls and details come back per rollout', async () => {
    process.env.RK_TEST_TOKEN = 's3cret';
    seen.length = 0;
    const batch = [...rollouts, { id: 'd', prompt: 'p', completion: 'Paris?' }];
    const { results, stats } = await run(
      { url: `${base}/grade`, params: { word: 'Paris' }, headers: { Authorization: { env: 'RK_TEST_TOKEN', prefix: 'Bearer ' }, 'X-Team': 'rl' } },
      batch,
    );
    expect(results.map((r) => r.components.svc)).toEqual([1, 0, 1, null]);
    expect(results[0]!.details!.svc).toEqual({ len: 12 });
    expect(results[3]!.errors).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(seen[0]!.headers['x-team']).toBe('rl');
    expect(seen[0]!.body.params).toEqual({ word: 'Paris' });
    expect(seen[0]!.body.rollouts[0]).toEqual({ id: 'a', prompt: 'Capital of France?', completion: 'It is Paris.', reference: 'Paris', meta: { src: 'geo' } });
    expect(seen[0]!.body.rollouts[3]).toMatchObject({ id: 'd', reference: null, meta: {} });
    expect(stats).toMatchObject({ requests: 1, calls: 1, retries: 0, errors: 0 });
  });

  it('batch_size splits the rollouts into several requests; {scores: [...]} is accepted', async () => {
    seen.length = 0;
    const many = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}`, completion: i % 2 ? 'Paris' : 'Rome', reference: 'Paris' }));
    const { results } = await run({ url: `${base}/wrapped`, batch_size: 3 }, many);
    expect(results.map((r) => r.components.svc)).toEqual([0, 1, 0, 1, 0, 1, 0]);
    expect(seen.map((s) => s.body.rollouts.length).sort()).toEqual([1, 3, 3]);
  });

  it('retries 503s through the managed wrapper and counts them', async () => {
    flaky = 0;
    const { results, stats } = await run({ url: `${base}/flaky`, retries: 3 });
    expect(results.map((r) => r.components.svc)).toEqual([1, 0, 1]);
    expect(stats).toMatchObject({ requests: 1, calls: 3, retries: 2, errors: 0 });
  });

  it('a service that stays down: every rollout errs after the retries, naming URL, status and attempts; the batch is scored', async () => {
    const { results, stats } = await run({ url: `${base}/always503`, retries: 2 });
    for (const r of results) {
      expect(r.components.svc).toBeNull();
      expect(r.errors![0]!.message).toBe(`http grader "svc": POST ${base}/always503: HTTP 503: down for maintenance (3 attempts)`);
    }
    expect(stats).toMatchObject({ calls: 3, retries: 2, errors: 1 });
  });

  it('nothing listening: a connection error per rollout', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const { results } = await run({ url: `http://127.0.0.1:${port}/grade`, retries: 1 });
    expect(results[0]!.errors![0]!.message).toMatch(/connection failed: ECONNREFUSED \(2 attempts\)/);
    expect(results.every((r) => r.components.svc === null)).toBe(true);
  });

  it('a 4xx is not retried', async () => {
    const { results, stats } = await run({ url: `${base}/forbidden`, retries: 3 });
    expect(results[0]!.errors![0]!.message).toContain('HTTP 403: no');
    expect(stats).toMatchObject({ calls: 1, retries: 0 });
  });

  it('a slow service: each attempt is cut at timeout_ms and the request errs', async () => {
    const { results } = await run({ url: `${base}/slow`, timeout_ms: 100, retries: 1 });
    expect(results[0]!.errors![0]!.message).toContain('timed out after 100 ms');
  });

  it('malformed answers: not JSON, not a list, wrong length → every rollout of the request errs', async () => {
    const notJson = await run({ url: `${base}/notjson` });
    expect(notJson.results[0]!.errors![0]!.message).toBe(`http grader "svc": POST ${base}/notjson answered with something that is not JSON: "<html>oops</html>"`);
    const obj = await run({ url: `${base}/object` });
    expect(obj.results[1]!.errors![0]!.message).toContain('answered {"result":1}, expected a list of 3 scores or {"scores": [...]}');
    const short = await run({ url: `${base}/short` });
    expect(short.results.map((r) => r.errors![0]!.message)).toEqual(Array(3).fill(`http grader "svc": POST ${base}/short answered 2 scores for 3 rollouts`));
  });

  it('a bad entry errs its own rollout only', async () => {
    const batch = ['ok', 'str', 'big', 'arr', 'other'].map((completion) => ({ id: completion, completion, reference: 'x' }));
    const { results } = await run({ url: `${base}/mixed` }, batch);
    const by = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(by.ok!.components.svc).toBe(1);
    expect(by.other!.components.svc).toBe(0);
    expect(by.str!.errors![0]!.message).toContain('answered scores[1] = "high": expected a number, null or {"score", "details"}');
    expect(by.big!.errors![0]!.message).toContain('scores[2] = {"score":"1"}: score is not a finite number or null');
    expect(by.arr!.errors![0]!.message).toContain('scores[3] = [1]');
    for (const id of ['str', 'big', 'arr']) expect(by[id]!.components.svc).toBeNull();
  });

  it('a header env var that is not set is a spec error naming the param; the secret never shows in errors', async () => {
    delete process.env.RK_MISSING;
    const e = await compileSpecAsync(parseSpec({ components: [{ name: 'svc', grader: 'http', url: `${base}/grade`, headers: { Authorization: { env: 'RK_MISSING' } } }] }, 't')).catch((x) => x);
    expect(e).toBeInstanceOf(SpecError);
    expect((e as SpecError).issues[0]).toMatchObject({ path: 'components[0].headers.Authorization.env' });
    process.env.RK_TEST_TOKEN = 'tok-XYZ';
    // a service that echoes the token in its error body: the message keeps the body, not the token
    const { results } = await run({ url: `${base}/echoauth`, retries: 0, headers: { Authorization: { env: 'RK_TEST_TOKEN' } } });
    expect(results[0]!.errors![0]!.message).toBe(`http grader "svc": POST ${base}/echoauth: HTTP 401: bad token ***`);
  });
});
