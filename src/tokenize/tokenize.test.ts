import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { estimateTokens } from './estimate.js';
import { loadTokenizer, codePoints } from './tokenizer.js';
import { resetTokenWarning, rolloutTokenCount, tokenLength } from './count.js';
import { tinyBpeTokenizer, tinyWordPieceTokenizer, writeTokenizerDir } from './testing.js';

const cp = (t: string) => [...t].length;
const nonWs = (t: string) => cp(t.replace(/\s/g, ''));
const ws = (t: string) => cp(t) - nonWs(t);

/** Text drawn from every class the estimate tells apart. */
const text = (maxLength = 60) =>
  fc.string({
    unit: fc.constantFrom('a', 'Z', 'é', 'ж', 'क', '7', '0', '.', '(', '"', "'", '日', '語', 'ア', '한', '😀', ' ', '\n', '\t', '\u00a0', '\u3000', '\ufeff', '\ud800'),
    maxLength,
  });

describe('estimateTokens', () => {
  it('counts pieces as GPT-2-style pre-tokenizers cut them', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('The cat sat on the mat.')).toBe(7); // 6 words (" cat" keeps its space) + "."
    expect(estimateTokens('tokenization')).toBe(2); // 12 letters: ⌈(12 − 4)/4⌉
    expect(estimateTokens('12345678')).toBe(3); // digits by 3
    expect(estimateTokens('日本語のテキスト')).toBe(8); // one per CJK character
    expect(estimateTokens('a\n\nb')).toBe(3); // a newline run is its own piece
    expect(estimateTokens('a  b')).toBe(3); // "  b": one space stays alone, one joins "b"
    expect(estimateTokens('   ')).toBe(1);
    expect(estimateTokens('😀😀')).toBe(2);
  });

  it('cannot be evaded by removing spaces: 300,000 characters without whitespace count ≥ 74,999', () => {
    expect(estimateTokens('x'.repeat(300_000))).toBe(74_999);
    expect(estimateTokens('ab1.'.repeat(75_000))).toBeGreaterThanOrEqual(300_000 / 8);
    const prose = 'the quick brown fox jumps over the lazy dog '.repeat(2000);
    const stripped = prose.replace(/\s/g, '');
    expect(estimateTokens(stripped)).toBeGreaterThanOrEqual(0.75 * estimateTokens(prose)); // 35 letters per sentence: about 8 tokens instead of 9
  });

  it('counts at least ⌈N/8⌉ for N non-whitespace code points, and at most one token per code point (property)', () => {
    fc.assert(
      fc.property(text(), (t) => {
        const e = estimateTokens(t);
        return e >= Math.ceil(nonWs(t) / 8) && e <= cp(t);
      }),
    );
  });

  it('counts letter runs without whitespace at ≥ (N − 4)/4 (property)', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'q', 'é', 'ж'), minLength: 1, maxLength: 400 }), (t) => estimateTokens(t) >= (cp(t) - 4) / 4));
  });

  it('removing whitespace keeps at least (estimate − W)/8 (property)', () => {
    fc.assert(
      fc.property(text(), (t) => {
        const stripped = t.replace(/\s/g, '');
        return estimateTokens(stripped) >= (estimateTokens(t) - ws(t)) / 8 && estimateTokens(stripped) >= Math.ceil(nonWs(t) / 8);
      }),
    );
  });

  it('never decreases when text is added before or after (property)', () => {
    fc.assert(fc.property(text(30), text(30), (a, b) => estimateTokens(a + b) >= Math.max(estimateTokens(a), estimateTokens(b))));
  });
});

describe('loadTokenizer', () => {
  const dir = writeTokenizerDir(tinyBpeTokenizer());
  const lib = new Tokenizer(tinyBpeTokenizer(), {});
  const libCount = (t: string) => lib.encode(t, { add_special_tokens: false }).ids.length;

  it('counts what the library encodes (a real byte-level BPE built by the test)', () => {
    const t = loadTokenizer('tokenizer.json', dir);
    expect(t.count('the the aaaa')).toBe(4); // the, Ġthe, Ġ, aaaa
    expect(lib.encode('the the aaaa', { add_special_tokens: false }).tokens).toEqual(['the', 'Ġthe', 'Ġ', 'aaaa']);
    for (const s of ['', 'hello world', 'the theme', 'aaaaaaa the', 'ünïcödé 日本 😀', '<|endoftext|>the']) expect(t.count(s)).toBe(libCount(s));
    fc.assert(fc.property(text(40), (s) => t.count(s) === libCount(s)));
  });

  it('accepts a model folder and caches per path', () => {
    const a = loadTokenizer('.', dir);
    expect(a).toBe(loadTokenizer(join(dir, 'tokenizer.json'), '/'));
    expect(a.maxTokenChars).toBe(13); // <|endoftext|>
  });

  it('never counts fewer than ⌈code points / longest token⌉ (a long word is not one [UNK])', () => {
    const wp = loadTokenizer('tokenizer.json', writeTokenizerDir(tinyWordPieceTokenizer()));
    expect(wp.count('hello worlds')).toBe(3); // hello, world, ##s
    expect(new Tokenizer(tinyWordPieceTokenizer(), {}).encode('x'.repeat(300_000), { add_special_tokens: false }).ids.length).toBe(1);
    expect(wp.count('x'.repeat(300_000))).toBe(60_000); // longest entry: 5 characters
  });

  it('skips encoding when the floor is already past `enough`', () => {
    const t = loadTokenizer('tokenizer.json', dir);
    expect(t.count('ab'.repeat(150_000), 1000)).toBe(Math.ceil(300_000 / 13)); // not encoded: 300,000 tokens (no merge of a, b)
    expect(t.count('a'.repeat(40_000))).toBe(10_000);
  });

  it('counts a long text piece by piece only until it is past `enough`; below it the count is exact', () => {
    const t = loadTokenizer('tokenizer.json', dir);
    const long = 'the '.repeat(20_000); // 80,000 characters: "the", 19,999 × "Ġthe", a trailing "Ġ"
    expect(t.count(long)).toBe(20_001);
    expect(t.count(long, 50_000)).toBe(20_001);
    const early = t.count(long, 1_000);
    expect(early).toBeGreaterThan(1_000);
    expect(early).toBeLessThan(20_001); // stopped after a few pieces of 16 Ki characters
  });

  it('explains what is wrong with a file', () => {
    expect(() => loadTokenizer('missing.json', dir)).toThrow(/cannot read tokenizer file .*missing\.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{nope');
    expect(() => loadTokenizer('bad.json', dir)).toThrow(/is not JSON/);
    writeFileSync(join(dir, 'other.json'), '{"a": 1}');
    expect(() => loadTokenizer('other.json', dir)).toThrow(/not a Hugging Face tokenizer.json/);
    writeFileSync(join(dir, 'weird.json'), JSON.stringify({ model: { type: 'Nope' } }));
    expect(() => loadTokenizer('weird.json', dir)).toThrow(/cannot load tokenizer/);
  });
});

describe('token data of a rollout', () => {
  it('reads completion_ids, then response_length', () => {
    expect(rolloutTokenCount({ id: 'a', completion: 'x', completion_ids: [1, 2, 3], response_length: 9 })).toBe(3);
    expect(rolloutTokenCount({ id: 'a', completion: 'x', response_length: 9 })).toBe(9);
    expect(rolloutTokenCount({ id: 'a', completion: 'x', completion_ids: null, response_length: 9 })).toBe(9);
    expect(rolloutTokenCount({ id: 'a', completion: 'x' })).toBeUndefined();
  });

  it('falls back to the tokenizer, then to the estimate with one warning', () => {
    const t = loadTokenizer('tokenizer.json', writeTokenizerDir(tinyBpeTokenizer()));
    const r = { id: 'a', completion: 'the the aaaa' };
    expect(tokenLength({ ...r, completion_ids: [5] }, r.completion, t)).toEqual({ length: 1, source: 'completion_ids' });
    expect(tokenLength({ ...r, response_length: 2 }, r.completion, t)).toEqual({ length: 2, source: 'response_length' });
    expect(tokenLength(r, r.completion, t)).toEqual({ length: 4, source: 'tokenizer' });
    resetTokenWarning();
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(tokenLength(r, r.completion, null)).toEqual({ length: 3, source: 'estimate' });
      tokenLength(r, r.completion, null);
      expect(err).toHaveBeenCalledTimes(1);
      expect(String(err.mock.calls[0]![0])).toMatch(/^warning: length: unit tokens on rollouts without completion_ids or response_length/);
    } finally {
      err.mockRestore();
    }
    expect(() => tokenLength({ ...r, response_length: -1 }, r.completion, t)).toThrow(/response_length must be a non-negative integer, got -1/);
  });
});

describe('codePoints', () => {
  it('counts a surrogate pair once and a lone surrogate once', () => {
    expect(codePoints('a😀b')).toBe(3);
    expect(codePoints('\ud800x')).toBe(2);
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '😀', '\ud800', '\udc00'), maxLength: 20 }), (s) => codePoints(s) === [...s].length));
  });
});
