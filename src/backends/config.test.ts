import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SpecError } from '../spec/errors.js';
import { backendConfigSchema, backendsSectionSchema, buildBackends, ggufBackendSchema, openaiConfigSchema } from './config.js';
import { startFakeOpenAIServer, type FakeServer } from './testing/openai_server.js';

let server: FakeServer;
let dir: string;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'rk-config-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a SpecError');
}

describe('backend config schema', () => {
  it('fills the documented defaults', () => {
    const c = openaiConfigSchema.parse({ type: 'openai', base_url: 'http://127.0.0.1:8000/v1', model: 'm' });
    expect(c).toEqual({
      type: 'openai',
      base_url: 'http://127.0.0.1:8000/v1',
      model: 'm',
      logprobs_mode: 'echo',
      echo_max_tokens: 0,
      reward_format: 'pooling',
      concurrency: 16,
      timeout_ms: 60_000,
      retries: 4,
      backoff_ms: 500,
      max_backoff_ms: 30_000,
      batch_size: 32,
      cache: true,
    });
    expect(ggufBackendSchema.parse({ type: 'gguf', path: 'm.gguf' })).toMatchObject({ concurrency: 1, timeout_ms: 60_000, retries: 4, cache: true });
  });

  it('describes every field', () => {
    for (const schema of [openaiConfigSchema, ggufBackendSchema]) {
      for (const [field, s] of Object.entries(schema.shape)) expect((s as z.ZodType).description, field).toBeTruthy();
    }
    expect(backendConfigSchema.description).toBeTruthy();
    expect(backendsSectionSchema.description).toBeTruthy();
  });

  it('errors name the path', () => {
    const build = (section: unknown) => () => buildBackends(section as never, { specDir: dir });
    expect(issues(build({ judge: { type: 'openai', base_url: 'http://x/v1', model: 'm', bogus: 1 } }))).toEqual(['backends.judge.bogus: unknown key']);
    expect(issues(build({ judge: { type: 'openai', base_url: 'x', model: 'm' } }))).toEqual(['backends.judge.base_url: Invalid URL']);
    expect(issues(build({ judge: { type: 'openai', base_url: 'http://x/v1', model: 'm', concurrency: 0 } }))).toEqual(['backends.judge.concurrency: Too small: expected number to be >=1']);
    expect(issues(build({ judge: { type: 'openai', base_url: 'http://x/v1', model: 'm', api_key_env: 'sk-123' } }))).toEqual(['backends.judge.api_key_env: must be an environment variable name']);
    expect(issues(build({ judge: { type: 'openai', base_url: 'http://x/v1', model: 'm', reward_template: '{{prompt}} {{answer}}' } }))).toEqual([
      'backends.judge.reward_template: may use only {{prompt}}, {{completion}}, {{reference}}',
    ]);
    expect(issues(build({ judge: { type: 'tgi', base_url: 'http://x/v1' } }))[0]).toMatch(/^backends\.judge\.type: /);
    expect(issues(build({ 'bad name': { type: 'gguf', path: 'x' } }))).toEqual(['backends.bad name: a backend name is letters, digits, _ and -, starting with a letter or _']);
  });
});

describe('buildBackends', () => {
  it('builds managed openai backends reachable through the resolver', async () => {
    const built = buildBackends(
      {
        judge: { type: 'openai', base_url: server.baseURL, model: 'fake-model', cache: false, concurrency: 3 },
        rm: { type: 'openai', base_url: server.baseURL, model: 'fake-rm', reward_format: 'score', cache: 'cache/rm.sqlite' },
      },
      { specDir: dir },
    );
    try {
      expect(built.list.map((b) => [b.name, b.type, b.model])).toEqual([
        ['judge', 'openai', 'fake-model'],
        ['rm', 'openai', 'fake-rm'],
      ]);
      const judge = built.resolver.get('judge', ['chat', 'logprobs']);
      expect((await judge.chat({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('echo: hi');
      await judge.chat({ messages: [{ role: 'user', content: 'hi' }] });
      expect(server.counts.chat).toBe(2);
      const rm = built.resolver.get('rm', ['reward']);
      await rm.reward([{ prompt: 'p', completion: 'c' }]);
      await rm.reward([{ prompt: 'p', completion: 'c' }]);
      expect(server.counts.score).toBe(1);
      expect(existsSync(join(dir, 'cache', 'rm.sqlite'))).toBe(true);
      expect(built.stats()).toEqual({
        judge: { requests: 2, cache_hits: 0, calls: 2, retries: 0, errors: 0, prompt_tokens: 2, completion_tokens: 4 },
        rm: { requests: 2, cache_hits: 1, calls: 1, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 },
      });
      expect(() => built.resolver.get('critic', ['chat'])).toThrow('unknown backend "critic" (spec backends: judge, rm)');
    } finally {
      await built.close();
    }
  });

  it('the default cache file comes from the environment', async () => {
    const built = buildBackends({ judge: { type: 'openai', base_url: server.baseURL, model: 'fake-model' } }, { specDir: dir, env: { XDG_CACHE_HOME: join(dir, 'xdg') } });
    await built.list[0]!.chat({ messages: [{ role: 'user', content: 'cached' }] });
    await built.close();
    expect(existsSync(join(dir, 'xdg', 'rewardkit', 'responses.sqlite'))).toBe(true);
  });

  it('backends with different reward templates do not share cache entries', async () => {
    const section = (template: string) => ({ rm: { type: 'openai' as const, base_url: server.baseURL, model: 'fake-rm', reward_template: template, cache: 'shared.sqlite' } });
    const a = buildBackends(section('{{prompt}}{{completion}}'), { specDir: dir });
    const b = buildBackends(section('{{completion}}'), { specDir: dir });
    try {
      const input = [{ prompt: 'P:', completion: 'C' }];
      const before = server.counts.pooling;
      const [sa, sb] = [await a.list[0]!.reward(input), await b.list[0]!.reward(input)];
      expect(server.counts.pooling - before).toBe(2);
      expect(sa).not.toEqual(sb);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a gguf backend gets the shared options (the model loads on first use)', async () => {
    const built = buildBackends({ local: { type: 'gguf', path: 'models/none.gguf', cache: false, retries: 0 } }, { specDir: dir });
    expect(built.list.map((b) => [b.name, b.type])).toEqual([['local', 'gguf']]);
    await built.close();
  });

  it('names the backend that cannot be built', () => {
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    expect(() => buildBackends({ judge: { type: 'openai', base_url: server.baseURL, model: 'm', cache: 'not-a-folder/r.sqlite' } }, { specDir: dir })).toThrow(
      /^backends\.judge: response cache .*not-a-folder\/r\.sqlite: cannot create its folder/,
    );
  });
});
