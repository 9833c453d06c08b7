import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, defaultCachePath, openCache } from './cache.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('canonicalJson and cacheKey', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [true, { d: null, c: undefined }], e: 'x' })).toBe('{"a":[true,{"d":null}],"b":1,"e":"x"}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(() => canonicalJson({ x: NaN })).toThrow(/NaN has no JSON form/);
  });

  it('equal requests in any key order share a key; type, model, op, request and scope all count', () => {
    const k = cacheKey('openai', 'm', 'chat', { messages: [{ role: 'user', content: 'hi' }], temperature: 0 });
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey('openai', 'm', 'chat', { temperature: 0, messages: [{ content: 'hi', role: 'user' }], seed: undefined })).toBe(k);
    const others = [
      cacheKey('gguf', 'm', 'chat', { messages: [{ role: 'user', content: 'hi' }], temperature: 0 }),
      cacheKey('openai', 'm2', 'chat', { messages: [{ role: 'user', content: 'hi' }], temperature: 0 }),
      cacheKey('openai', 'm', 'logprobs', { messages: [{ role: 'user', content: 'hi' }], temperature: 0 }),
      cacheKey('openai', 'm', 'chat', { messages: [{ role: 'user', content: 'hi' }], temperature: 1 }),
      cacheKey('openai', 'm', 'chat', { messages: [{ role: 'user', content: 'hi' }], temperature: 0 }, { reward_template: 'x' }),
    ];
    expect(new Set([k, ...others]).size).toBe(6);
  });
});

describe('defaultCachePath', () => {
  it('REWARDKIT_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCachePath({ REWARDKIT_CACHE: '/x/y.sqlite', XDG_CACHE_HOME: '/c' })).toBe('/x/y.sqlite');
    expect(defaultCachePath({ XDG_CACHE_HOME: '/c' })).toBe('/c/rewardkit/responses.sqlite');
    expect(defaultCachePath({})).toBe(join(homedir(), '.cache', 'rewardkit', 'responses.sqlite'));
  });
});

describe('openCache', () => {
  it('get, set, size, clear; creates folders; survives reopening', () => {
    const path = join(dir, 'deep', 'er', 'r.sqlite');
    let c = openCache(path);
    expect(existsSync(path)).toBe(true);
    expect(c.path).toBe(path);
    expect(c.get('k1')).toBeUndefined();
    c.set('k1', { text: 'hello', usage: { prompt_tokens: 1, completion_tokens: 2 } });
    c.set('k2', [[0.5, -1]]);
    c.set('k2', [[0.25]]);
    expect(c.size()).toBe(2);
    c.close();
    c = openCache(path);
    expect(c.get('k1')).toEqual({ text: 'hello', usage: { prompt_tokens: 1, completion_tokens: 2 } });
    expect(c.get('k2')).toEqual([[0.25]]);
    c.clear();
    expect(c.size()).toBe(0);
    c.close();
  });

  it('uses WAL mode', () => {
    const path = join(dir, 'wal.sqlite');
    const c = openCache(path);
    c.set('a', 1);
    expect(existsSync(`${path}-wal`)).toBe(true);
    c.close();
  });

  it('a file that is not a database is an error naming the path', () => {
    const path = join(dir, 'garbage.sqlite');
    writeFileSync(path, 'this is not a sqlite database, just some text that is long enough to have a header '.repeat(20));
    expect(() => openCache(path)).toThrow(new RegExp(`^response cache ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot open it as a SQLite database \\(file is not a database\\)`));
  });

  it('a path whose folder cannot be made is an error naming the path', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => openCache(join(file, 'sub', 'r.sqlite'))).toThrow(/^response cache .*plain-file\/sub\/r\.sqlite: cannot create its folder/);
  });

  it('several processes can write to one file at once', async () => {
    const path = join(dir, 'shared.sqlite');
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const cacheModule = pathToFileURL(join(fileURLToPath(new URL('.', import.meta.url)), 'cache.ts')).href;
    const script = `
      import { openCache } from ${JSON.stringify(cacheModule)};
      const c = openCache(process.argv[1]);
      const id = process.argv[2];
      for (let i = 0; i < 200; i++) { c.set(id + ':' + i, { i }); if (c.get(id + ':' + i).i !== i) process.exit(3); }
      c.close();
    `;
    const run = (id: string) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, path, id], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => {
          if (code !== 0) console.error(err);
          resolve(code ?? -1);
        });
      });
    const codes = await Promise.all(['p1', 'p2', 'p3'].map(run));
    expect(codes).toEqual([0, 0, 0]);
    const c = openCache(path);
    expect(c.size()).toBe(600);
    expect(c.get('p2:199')).toEqual({ i: 199 });
    c.close();
  });
});
