import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlLines, openJsonlWriter, InputFileError, TruncatedInputError } from './jsonl.js';
import { readRolloutBatches, BadLineError, IdLines } from './batches.js';

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

describe('readJsonlLines: BOM, truncated gzip', () => {
  it('drops a UTF-8 BOM at the start only', async () => {
    const p = join(dir, 'bom.jsonl');
    writeFileSync(p, '\uFEFF{"a":1}\n{"b":"\uFEFF"}\n');
    const lines = await readAll(p);
    expect(lines.map((l) => JSON.parse(l.text))).toEqual([{ a: 1 }, { b: '\uFEFF' }]);
  });
  it('yields the whole lines of a truncated .gz, then throws naming the line where it broke', async () => {
    let text = '';
    for (let i = 0; i < 5000; i++) text += JSON.stringify({ i, pad: 'x'.repeat(i % 50) }) + '\n';
    const whole = gzipSync(text);
    const p = join(dir, 'trunc.jsonl.gz');
    writeFileSync(p, whole.subarray(0, whole.length - 200));
    const got: number[] = [];
    let err: unknown;
    try {
      for await (const chunk of readJsonlLines(p, { chunkLines: 100 })) for (const l of chunk) got.push(JSON.parse(l.text).i);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TruncatedInputError);
    expect(got.length).toBeGreaterThan(1000);
    expect(got).toEqual([...Array(got.length).keys()]);
    expect((err as TruncatedInputError).line).toBe(got.length + 1);
  });
});

describe('readRolloutBatches: duplicates, skips, a truncated input', () => {
  const rows = (ids: string[]) => ids.map((id) => JSON.stringify({ id, completion: 'c' })).join('\n') + '\n';
  const all = async (p: string, o: Parameters<typeof readRolloutBatches>[1]) => {
    const out: string[] = [];
    for await (const b of readRolloutBatches(p, o)) out.push(...b.rollouts.map((r) => r.id));
    return out;
  };
  it('reports a duplicate id with both lines, scores it; strict stops after yielding what came before', async () => {
    const p = join(dir, 'dup.jsonl');
    writeFileSync(p, rows(['a', 'b', 'a', 'c', 'b']));
    const dups: [number, string, number][] = [];
    expect(await all(p, { batchSize: 10, onDuplicateId: (l, id, f) => dups.push([l, id, f]) })).toEqual(['a', 'b', 'a', 'c', 'b']);
    expect(dups).toEqual([
      [3, 'a', 1],
      [5, 'b', 2],
    ]);
    const seen: string[] = [];
    const strict = (async () => {
      for await (const b of readRolloutBatches(p, { batchSize: 10, strict: true })) seen.push(...b.rollouts.map((r) => r.id));
    })();
    await expect(strict).rejects.toBeInstanceOf(BadLineError);
    expect(seen).toEqual(['a', 'b']);
  });
  it('IdLines: 300k distinct ids never clash; each one again gives its first line', () => {
    const t = new IdLines();
    for (let i = 1; i <= 300_000; i++) expect(t.add(`p${i >> 3}-${i & 7}`, i) === 0 || false).toBe(true);
    for (let i = 1; i <= 300_000; i += 997) expect(t.add(`p${i >> 3}-${i & 7}`, 1_000_000)).toBe(i);
    expect(t.add('', 5)).toBe(0);
    expect(t.add('', 6)).toBe(5);
  });
  it('skips the ids it is told to (resume)', async () => {
    const p = join(dir, 'skip.jsonl');
    writeFileSync(p, rows(['a', 'b', 'c', 'd']));
    let skipped = 0;
    expect(await all(p, { batchSize: 10, skipIds: new Set(['b', 'd']), onSkip: () => skipped++ })).toEqual(['a', 'c']);
    expect(skipped).toBe(2);
  });
  it('yields the rollouts before the break of a truncated .gz, then throws', async () => {
    let text = '';
    for (let i = 0; i < 3000; i++) text += JSON.stringify({ id: `r${i}`, group: `g${i >> 3}`, completion: 'x'.repeat(i % 70) }) + '\n';
    const whole = gzipSync(text);
    const p = join(dir, 'trunc-b.jsonl.gz');
    writeFileSync(p, whole.subarray(0, whole.length >> 1));
    const seen: string[] = [];
    let err: unknown;
    try {
      for await (const b of readRolloutBatches(p, { batchSize: 1_000_000 })) seen.push(...b.rollouts.map((r) => r.id));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TruncatedInputError);
    expect(seen.length).toBe((err as TruncatedInputError).line - 1);
    expect(seen.length).toBeGreaterThan(100);
  });
});

describe('openJsonlWriter', () => {
  it('appends a gzip member that Node\'s zlib and this reader read as the continuation', async () => {
    const g = join(dir, 'multi.jsonl.gz');
    const w1 = openJsonlWriter(g);
    await w1.write('{"a":1}\n');
    await w1.close();
    const w2 = openJsonlWriter(g, { append: true });
    await w2.write('{"a":2}\n');
    await w2.close();
    expect(gunzipSync(readFileSync(g)).toString()).toBe('{"a":1}\n{"a":2}\n');
    expect((await readAll(g)).map((l) => l.text)).toEqual(['{"a":1}', '{"a":2}']);
  });
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
