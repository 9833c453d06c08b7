import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabasePathError, resolveDatabase } from './paths.js';

describe('resolveDatabase', () => {
  const base = mkdtempSync(join(tmpdir(), 'rk-sql-paths-'));
  const root = join(base, 'databases');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'good'), { recursive: true });
  mkdirSync(join(root, 'evil'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'good', 'good.sqlite'), '');
  writeFileSync(join(outside, 'secret.sqlite'), '');
  symlinkSync(join(outside, 'secret.sqlite'), join(root, 'evil', 'evil.sqlite'));
  symlinkSync(outside, join(root, 'linkdir'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('finds <root>/<db>/<db>.sqlite', () => {
    expect(resolveDatabase(root, 'good')).toMatch(/databases\/good\/good\.sqlite$/);
  });

  it('rejects names that are not plain folder names', () => {
    for (const db of ['..', '.', '', '../outside', 'a/b', 'a\\b', '/etc/passwd', 'x\u0000y']) {
      expect(() => resolveDatabase(root, db)).toThrow(DatabasePathError);
    }
  });

  it('rejects symlinks that lead outside the folder, and missing databases', () => {
    expect(() => resolveDatabase(root, 'evil')).toThrow(/outside the databases folder/);
    expect(() => resolveDatabase(root, 'linkdir')).toThrow(DatabasePathError);
    expect(() => resolveDatabase(root, 'missing')).toThrow(/not found/);
    expect(() => resolveDatabase(join(base, 'nope'), 'good')).toThrow(/folder not found/);
  });
});
