import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { findProtoKey, jsonDepth, parseJsonBody } from './json.js';
import { isLoopback, resolveOptions, ServerConfigError } from './options.js';
import { splitQuery } from './routes/openrlhf.js';
import { checkRunCodeBody, toFusionResponse } from './routes/run_code.js';
import type { RunResult } from '../graders/code/sandbox.js';
import { withDeadline } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { DEFAULT_STRIP_SUFFIXES } from './options.js';

function httpError(f: () => unknown): HttpError {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('JSON bodies', () => {
  it('measures nesting outside strings only', () => {
    expect(jsonDepth('{"a": [1, {"b": "[[[["}]}', 64)).toBe(3);
    expect(jsonDepth('"\\"[["', 64)).toBe(0);
    expect(jsonDepth('['.repeat(1000), 10)).toBe(11);
  });
  it('finds __proto__ keys at any depth, with their path', () => {
    expect(findProtoKey(JSON.parse('{"a": [{"b": {"__proto__": 1}}]}'))).toBe('a[0].b.__proto__');
    expect(findProtoKey({ a: [1, 'x', { c: null }] })).toBeNull();
  });
  it('rejects empty, malformed, too deep and __proto__ bodies with 400', () => {
    expect(httpError(() => parseJsonBody('', 8)).message).toMatch(/empty request body/);
    expect(httpError(() => parseJsonBody('{"a": tru}', 8)).status).toBe(400);
    expect(httpError(() => parseJsonBody('{"a": "unterminated', 8)).message).toMatch(/^malformed JSON/);
    expect(httpError(() => parseJsonBody('[[[[[[[[[[]]]]]]]]]]', 8)).message).toBe('JSON nested deeper than 8 levels');
    expect(httpError(() => parseJsonBody('{"x": {"__proto__": {}}}', 8)).path).toBe('x.__proto__');
    expect(parseJsonBody('{"proto": "__proto__ in a string is fine"}', 8)).toEqual({ proto: '__proto__ in a string is fine' });
  });
  it('never quotes the body in its message', () => {
    const e = httpError(() => parseJsonBody('{"completion": "SECRET" oops}', 8));
    expect(e.message).not.toContain('SECRET');
  });
});

describe('options', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.4', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
  it('refuses a non-loopback host without a token unless insecure', () => {
    expect(() => resolveOptions({ specs: ['x'], host: '0.0.0.0' }, {})).toThrow(ServerConfigError);
    expect(resolveOptions({ specs: ['x'], host: '0.0.0.0', token: 't' }, {}).token).toBe('t');
    expect(resolveOptions({ specs: ['x'], host: '0.0.0.0' }, { REWARDKIT_TOKEN: 'e' }).token).toBe('e');
    expect(resolveOptions({ specs: ['x'], host: '0.0.0.0', insecure: true }, {}).token).toBeUndefined();
    expect(() => resolveOptions({ specs: ['x'], token: '  ' }, {})).toThrow(/must not be empty/);
    expect(() => resolveOptions({ specs: [] }, {})).toThrow(/--spec/);
    expect(() => resolveOptions({ specs: ['x'], maxRollouts: 0 }, {})).toThrow(/max rollouts/);
  });
  it('defaults: loopback, port 8000, inline scoring', () => {
    const o = resolveOptions({ specs: ['x'] }, {});
    expect([o.host, o.port, o.scoring, o.maxRollouts, o.token]).toEqual(['127.0.0.1', 8000, 'auto', 8192, undefined]);
  });
});

describe('OpenRLHF query splitting', () => {
  const S = DEFAULT_STRIP_SUFFIXES;
  it('removes the prompt prefix and trailing EOS markers', () => {
    expect(splitQuery('<s>Q: A 42</s>', '<s>Q: ', S)).toEqual({ response: 'A 42', match: 'exact' });
    expect(splitQuery('Q 42<|im_end|>\n<|endoftext|>', 'Q', S)).toEqual({ response: ' 42', match: 'exact' });
    expect(splitQuery('Q 42<|im_end|>', 'Q', [])).toEqual({ response: ' 42<|im_end|>', match: 'exact' });
  });
  it('reports prompts found later in the query, or not at all', () => {
    expect(splitQuery('<|begin_of_text|>Q: 42', 'Q: ', S)).toEqual({ response: '42', match: 'offset' });
    expect(splitQuery('totally different', 'Q: ', S)).toEqual({ response: 'totally different', match: 'absent' });
    expect(splitQuery('whole', undefined, S)).toEqual({ response: 'whole', match: 'no_prompt' });
  });
});

describe('Sandbox Fusion mapping', () => {
  it('checks requests like Sandbox Fusion does', () => {
    expect(checkRunCodeBody({ code: 'x', language: 'python' })).toEqual({ code: 'x', language: 'python', stdin: undefined, compileTimeoutS: 10, runTimeoutS: 10, memoryMb: 4096, files: {}, fetchFiles: [] });
    expect(checkRunCodeBody({ code: 'x', language: 'nodejs', run_timeout: 2.5, memory_limit_MB: 100000, stdin: null, files: {}, fetch_files: [] })).toMatchObject({ runTimeoutS: 2.5, memoryMb: 4096 });
    expect(httpError(() => checkRunCodeBody({ language: 'python' })).path).toBe('code');
    expect(httpError(() => checkRunCodeBody({ code: 'x', language: 'klingon' })).path).toBe('language');
    expect(httpError(() => checkRunCodeBody({ code: 'x', language: 'python', run_timeout: '5' })).path).toBe('run_timeout');
    expect(httpError(() => checkRunCodeBody({ code: 'x', language: 'python', files: { '../a.txt': 'eA==' } })).path).toBe('files["../a.txt"]');
    expect(httpError(() => checkRunCodeBody({ code: 'x', language: 'python', memory_limit_MB: 0 })).path).toBe('memory_limit_MB');
  });
  it('treats a language named like an Object.prototype member as an unknown language (422, never a 500)', () => {
    for (const language of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const e = httpError(() => checkRunCodeBody({ code: 'x', language }));
      expect([e.status, e.path]).toEqual([422, 'language']);
      expect(e.message).toMatch(new RegExp(`^unknown language "${language}" \\(this server runs: python, nodejs, `));
    }
  });
  it('maps run results to Sandbox Fusion statuses as verl reads them', () => {
    const base = { exitCode: 0, signal: null, stdout: '42\n', stderr: '', wallMs: 61.4 };
    const run = (r: RunResult) => toFusionResponse({ compile: null, run: r, files: {}, fetchSkipped: [] });
    expect(run({ ...base, status: 'ok' })).toEqual({
      status: 'Success',
      message: '',
      compile_result: null,
      run_result: { status: 'Finished', execution_time: 0.061, return_code: 0, stdout: '42\n', stderr: '' },
      executor_pod_name: null,
      files: {},
    });
    expect(run({ ...base, status: 'runtime_error', exitCode: 1 }).status).toBe('Failed');
    expect(run({ ...base, status: 'compile_error', exitCode: 1 }).run_result).toMatchObject({ status: 'Finished', return_code: 1 });
    expect(run({ ...base, status: 'timeout', exitCode: null, signal: 'SIGKILL' })).toMatchObject({ status: 'Failed', run_result: { status: 'TimeLimitExceeded', return_code: null } });
    expect(run({ ...base, status: 'output_limit', exitCode: null, signal: 'SIGKILL' }).run_result).toMatchObject({ status: 'Finished', return_code: -9 });
    expect(run({ ...base, status: 'sandbox_error', exitCode: null, message: 'needs root' })).toMatchObject({ status: 'SandboxError', message: 'needs root' });
  });
});

describe('deadline', () => {
  it('answers 503 when the work does not finish, and releases capacity only when it does', async () => {
    const metrics = new ServerMetrics(() => 0);
    let settled = 0;
    let finish!: (v: number) => void;
    const work = new Promise<number>((r) => (finish = r));
    const e = await withDeadline(work, 5, metrics, () => settled++).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(503);
    expect(settled).toBe(0);
    finish(1);
    await work;
    await Promise.resolve();
    expect(settled).toBe(1);
    expect(await withDeadline(Promise.resolve(7), 1000, metrics, () => settled++)).toBe(7);
  });
  it('aborts the work\'s controller at the deadline, with the 503 message as its reason', async () => {
    const metrics = new ServerMetrics(() => 0);
    const abort = new AbortController();
    const work = new Promise<number>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason)));
    const e = await withDeadline(work, 5, metrics, () => {}, abort).catch((x: unknown) => x);
    expect([(e as HttpError).status, (e as HttpError).message]).toEqual([503, 'scoring did not finish within the 5 ms deadline']);
    expect(abort.signal.aborted).toBe(true);
    expect((abort.signal.reason as Error).message).toBe('scoring did not finish within the 5 ms deadline');
    const done = new AbortController();
    expect(await withDeadline(Promise.resolve(1), 1000, metrics, () => {}, done)).toBe(1);
    expect(done.signal.aborted).toBe(false);
  });
});

describe('SpecSet', async () => {
  const { SpecSet } = await import('./specs.js');
  const { SPECS_DIR } = await import('./testing.js');
  const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');

  it('routes by data_source, by spec name, else the default; says what is missing otherwise', () => {
    const set = new SpecSet([SPECS_DIR], { routes: { 'openai/gsm8k': 'exact' } });
    expect(set.names()).toEqual(['diverse', 'exact']);
    expect(set.defaultName).toBeUndefined();
    const parts = set.partition(
      [
        { id: 'a', completion: 'x', meta: { data_source: 'openai/gsm8k' } },
        { id: 'b', completion: 'x', meta: { data_source: 'diverse' } },
        { id: 'c', completion: 'x', meta: { data_source: 'openai/gsm8k' } },
      ],
      undefined,
    );
    expect(parts.map((p) => [p.entry.name, p.indices])).toEqual([
      ['exact', [0, 2]],
      ['diverse', [1]],
    ]);
    const noSource = httpError(() => set.partition([{ id: 'a', completion: 'x' }], undefined));
    expect([noSource.status, noSource.path]).toEqual([422, 'spec']);
    const unknown = httpError(() => set.partition([{ id: 'a', completion: 'x', meta: { data_source: 'exact' } }, { id: 'b', completion: 'x', meta: { data_source: 'math' } }], undefined));
    expect([unknown.status, unknown.path, unknown.message]).toEqual([422, 'rollouts[1].meta.data_source', expect.stringMatching(/no spec for data_source "math"/)]);
    expect(httpError(() => set.defaultEntry('query.spec')).path).toBe('query.spec');
  });

  it('refuses duplicate names, an unknown default, a route to an unknown spec and an empty folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-specs-'));
    copyFileSync(join(SPECS_DIR, 'exact.yaml'), join(dir, 'a.yaml'));
    copyFileSync(join(SPECS_DIR, 'exact.yaml'), join(dir, 'b.yml'));
    expect(() => new SpecSet([dir])).toThrow(/spec name "exact" is used by both/);
    expect(() => new SpecSet([SPECS_DIR], { defaultSpec: 'nope' })).toThrow(/default spec "nope" is not loaded/);
    expect(() => new SpecSet([SPECS_DIR], { routes: { src: 'nope' } })).toThrow(/route src=nope/);
    const empty = mkdtempSync(join(tmpdir(), 'rk-empty-'));
    writeFileSync(join(empty, 'notes.txt'), 'x');
    expect(() => new SpecSet([empty])).toThrow(/holds no \.yaml/);
    expect(() => new SpecSet([join(empty, 'missing.yaml')])).toThrow(/no such file/);
  });
});

describe('auto scoring engine', () => {
  async function setup() {
    const { AutoEngine } = await import('./engine.js');
    const { compileSpec } = await import('../spec/compile.js');
    const { parseSpec } = await import('../spec/load.js');
    const compiled = compileSpec(parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }));
    let slowMs = 0;
    // Busy-waits `slowMs` per rollout: a grader whose cost the engine can measure.
    const slow = { scope: 'rollout' as const, grade: () => { const t = performance.now(); while (performance.now() - t < slowMs); return 1; } };
    const entry = { name: 's', file: 's.yaml', index: 0, compiled: { ...compiled, graders: [slow] }, graderKinds: ['exact'] };
    const pooled: number[] = [];
    let started = 0;
    const pool = {
      mode: 'pool' as const,
      score: async (_e: unknown, rs: unknown[]) => (pooled.push(rs.length), { results: [], columns: {} } as never),
      grade: async () => ({}) as never,
      queueDepth: () => 0,
      ready: async () => undefined,
      close: async () => undefined,
    };
    const engine = new AutoEngine(() => (started++, pool), 10, 4);
    const rollouts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, completion: 'a', reference: 'a' }));
    return { engine, entry, pooled, rollouts, started: () => started, setSlow: (ms: number) => (slowMs = ms) };
  }
  it('keeps cheap batches inline and never starts the pool for them', async () => {
    const t = await setup();
    for (let k = 0; k < 5; k++) await t.engine.score(t.entry as never, t.rollouts(100) as never, {});
    expect(t.engine.counts).toEqual({ inline: 5, pool: 0 });
    expect(t.started()).toBe(0);
  });
  it('sends a batch whose measured cost exceeds the budget to the pool once it is ready, and probes inline again', async () => {
    const t = await setup();
    t.setSlow(0.2);
    await t.engine.score(t.entry as never, t.rollouts(100) as never, {}); // the first batch (warm-up) is not measured
    for (let k = 0; k < 3; k++) await t.engine.score(t.entry as never, t.rollouts(100) as never, {}); // three heavy batches in a row (~20 ms each)
    expect(t.started()).toBe(0);
    await t.engine.score(t.entry as never, t.rollouts(100) as never, {}); // would go to the pool: starts it, stays inline
    expect(t.started()).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    for (let k = 0; k < 4; k++) await t.engine.score(t.entry as never, t.rollouts(100) as never, {});
    expect(t.pooled).toEqual([100, 100, 100]); // the 4th is an inline probe
    expect(t.engine.counts.inline).toBe(6);
    await t.engine.score(t.entry as never, t.rollouts(10) as never, {}); // a small batch stays inline
    expect(t.engine.counts.inline).toBe(7);
    expect(t.started()).toBe(1);
  });
});

describe('auto scoring engine and deadlines', () => {
  it('sends a spec to the pool at once after one of its batches missed its deadline inline', async () => {
    const { AutoEngine } = await import('./engine.js');
    const { compileSpec } = await import('../spec/compile.js');
    const { parseSpec } = await import('../spec/load.js');
    const compiled = compileSpec(parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }));
    const entry = { name: 'd', file: 'd.yaml', index: 0, compiled, graderKinds: ['exact'] };
    const pooled: number[] = [];
    let started = 0;
    const pool = { mode: 'pool' as const, score: async (_e: unknown, rs: unknown[]) => (pooled.push(rs.length), {}) as never, grade: async () => ({}) as never, queueDepth: () => 0, ready: async () => undefined, close: async () => undefined };
    const engine = new AutoEngine(() => (started++, pool), 10, 4);
    const rollouts = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, completion: 'a', reference: 'a' }));
    await engine.score(entry as never, rollouts as never, {});
    const missed = new AbortController();
    missed.abort(new Error('scoring did not finish within the 5 ms deadline'));
    await engine.score(entry as never, rollouts as never, {}, missed.signal);
    expect(started).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    await engine.score(entry as never, rollouts.slice(0, 1) as never, {});
    expect(pooled).toEqual([1]);
    expect(engine.counts).toEqual({ inline: 2, pool: 1 });
  });
});

describe('auto scoring engine and waiting graders', () => {
  it('keeps a spec whose graders wait on I/O inline, however long they take', async () => {
    const { AutoEngine } = await import('./engine.js');
    const { compileSpec } = await import('../spec/compile.js');
    const { parseSpec } = await import('../spec/load.js');
    const compiled = compileSpec(parseSpec({ components: [{ name: 'ok', grader: 'exact' }] }));
    // 2 ms of waiting per rollout, as a model call or a sandboxed program would: 200 ms per batch of 100.
    const waiting = { scope: 'rollout' as const, grade: () => new Promise<number>((r) => setTimeout(() => r(1), 2)) };
    const entry = { name: 'w', file: 'w.yaml', index: 0, compiled: { ...compiled, graders: [waiting] }, graderKinds: ['exact'] };
    let started = 0;
    const engine = new AutoEngine(() => (started++, { mode: 'pool' as const, score: async () => ({}) as never, grade: async () => ({}) as never, queueDepth: () => 0, ready: async () => undefined, close: async () => undefined }), 10, 4);
    const rollouts = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, completion: 'a', reference: 'a' }));
    for (let k = 0; k < 4; k++) await engine.score(entry as never, rollouts as never, {});
    expect(engine.counts).toEqual({ inline: 4, pool: 0 });
    expect(started).toBe(0);
  });
});
