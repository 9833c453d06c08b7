import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlLines, openJsonlWriter, InputFileError } from './jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-jsonl-'));

async function readAll(path: string, opts = {}) {
  const out = [];
  for await (const chunk of readJsonlLines(path, opts)) out.push(...chunk);
  return out;
}

describe('readJsonlLines', () => {
  it('keeps line numbers, skips blank lines, handles CRLF and a missing final newline', async () => {
    const p = join(dir, 'a.jsonl');
    writeFileSync(p, '{"a":1}\r\n\n  \n{"b":"ü 🎉"}\n{"c":3}');
    expect(await readAll(p)).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":"ü 🎉"}' },
      { line: 5, text: '{"c":3}' },
    ]);
  });
  it('reads gzip by extension', async () => {
    const p = join(dir, 'a.jsonl.gz');
    writeFileSync(p, gzipSync('{"x":1}\n{"x":2}\n'));
    expect((await readAll(p)).map((l) => l.line)).toEqual([1, 2]);
  });
  it('splits lines across small chunks and flags over-long lines', async () => {
    const p = join(dir, 'long.jsonl');
    writeFileSync(p, `{"a":1}\n"${'x'.repeat(5000)}"\n{"b":2}\n`);
    const lines = await readAll(p, { maxLineChars: 100 });
    expect(lines.map((l) => [l.line, l.tooLong ?? false])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
  });
  it('names a missing file, a directory and corrupt gzip', async () => {
    await expect(readAll(join(dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: no such file/);
    await expect(readAll(dir)).rejects.toThrow(/is a directory/);
    const p = join(dir, 'bad.jsonl.gz');
    writeFileSync(p, 'not gzip at all');
    await expect(readAll(p)).rejects.toBeInstanceOf(InputFileError);
  });
});

describe('openJsonlWriter', () => {
  it('writes plain and gzip', async () => {
    const p = join(dir, 'o.jsonl');
    const w = openJsonlWriter(p);
    await w.write('{"a":1}\n');
    await w.close();
    expect(readFileSync(p, 'utf8')).toBe('{"a":1}\n');
    const g = join(dir, 'o.jsonl.gz');
    const wg = openJsonlWriter(g);
    await wg.write('{"a":2}\n');
    await wg.close();
    expect(gunzipSync(readFileSync(g)).toString()).toBe('{"a":2}\n');
  });
});
