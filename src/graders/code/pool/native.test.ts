/** The compiled forker's build (native.ts). The slots' use of it is tested in warm.test.ts. */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxConfig } from '../sandbox.js';
import { FORKER_C, nativeForker } from './native.js';

const root = mkdtempSync(join(tmpdir(), 'rk-native-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cc = sandboxConfig().gcc;
const hasCc = existsSync(cc);
if (!hasCc) console.log('compiled forker tests skipped: no C compiler (the pool runs its Python forker)');

describe('nativeForker', () => {
  it('REWARDKIT_POOL_NATIVE=0: no compiled forker (the Python one runs)', () => {
    const was = process.env.REWARDKIT_POOL_NATIVE;
    process.env.REWARDKIT_POOL_NATIVE = '0';
    try {
      expect(nativeForker(join(root, 'off'), cc)).toBeNull();
      expect(existsSync(join(root, 'off'))).toBe(false);
    } finally {
      if (was === undefined) delete process.env.REWARDKIT_POOL_NATIVE;
      else process.env.REWARDKIT_POOL_NATIVE = was;
    }
  });

  it.skipIf(!hasCc)('builds once into root, named by the hash of its source, and leaves nothing else there', () => {
    if (process.env.REWARDKIT_POOL_NATIVE === '0') return;
    const so = nativeForker(root, cc);
    expect(so).not.toBeNull();
    expect(so!).toMatch(/\/rkfork-[0-9a-f]{20}\.so$/);
    expect(readdirSync(root)).toEqual([so!.slice(root.length + 1)]);
    expect(statSync(so!).size).toBeGreaterThan(4096);
    expect(nativeForker(root, cc)).toBe(so);
  });

  it('exports the entry points zygote.py loads', () => {
    for (const fn of ['long rk_forker(', 'long rk_learn(', 'void rk_report(']) expect(FORKER_C).toContain(fn);
  });
});
