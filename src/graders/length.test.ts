import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { lengthGrader } from './length.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { ParamError } from './types.js';
import { parseSpec } from '../spec/load.js';
import { compileSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { scoreBatch } from '../pipeline.js';
import { estimateTokens } from '../tokenize/estimate.js';
import { resetTokenWarning } from '../tokenize/count.js';
import { tinyBpeTokenizer, tinyWordPieceTokenizer, writeTokenizerDir } from '../tokenize/testing.js';

/** n short words: n tokens for the estimate (" word" is one piece). */
const words = (n: number) => Array.from({ length: n }, () => 'word').join(' ');
const quiet = () => {
  resetTokenWarning();
  return vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
};
const chars = (n: number) => 'x'.repeat(n);

describe('length: raw', () => {
  it('counts code points by default', async () => {
    const g = buildGrader(lengthGrader);
    expect(await scoreOne(g, '')).toBe(0);
    expect(await scoreOne(g, 'hello')).toBe(5);
    expect(await scoreOne(g, 'héllo 😀')).toBe(7); // the emoji is one code point, two UTF-16 units
    expect(await scoreOne(g, '\ud800x')).toBe(2); // a lone surrogate still counts
    expect(await scoreOne(g, chars(1 << 20))).toBe(1 << 20);
  });

  it('counts tokens with the estimate when nothing better is given: spaces cannot hide length', async () => {
    const g = buildGrader(lengthGrader, { unit: 'tokens' });
    expect(await scoreOne(g, '')).toBe(0);
    expect(await scoreOne(g, '   \n\t ')).toBe(2);
    expect(await scoreOne(g, ' one  two\nthree\u00a0four\u3000five ')).toBe(10); // 5 words, 5 whitespace pieces (the leading space joins "one")
    expect(await scoreOne(g, '日本語 テキスト')).toBe(7);
    expect(await scoreOne(g, 'x'.repeat(300_000))).toBe(74_999); // whitespace words: 1
  });

  it('agrees with estimateTokens for any text, and chars with code points (property)', async () => {
    const g = buildGrader(lengthGrader, { unit: 'tokens' });
    const c = buildGrader(lengthGrader);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', 'é', '😀', ' ', '\n', '\t', '\u00a0', '\u2003', '\ufeff', '7', '.'), maxLength: 40 }), async (t) => {
        return (await scoreOne(g, t)) === estimateTokens(t) && (await scoreOne(c, t)) === [...t].length;
      }),
    );
  });

  it('reads the length from meta when asked', async () => {
    const g = buildGrader(lengthGrader, { meta_key: 'completion_tokens', mode: 'dapo', max_length: 100, cache: 20 });
    expect(await scoreOne(g, 'short', undefined, { meta: { completion_tokens: 90 } })).toBe(-0.5);
    await expect(scoreOne(g, 'short', undefined, { meta: {} })).rejects.toThrow(/meta\.completion_tokens must be a non-negative number/);
    await expect(scoreOne(g, 'short', undefined, { meta: { completion_tokens: '90' } })).rejects.toThrow(/got "90"/);
  });
});

describe('length: band', () => {
  it('is 1 inside, linear over the slack outside, 0 beyond', async () => {
    const g = buildGrader(lengthGrader, { mode: 'band', min: 10, max: 20, slack: 5 });
    const at = async (n: number) => scoreOne(g, chars(n));
    expect(await at(10)).toBe(1);
    expect(await at(15)).toBe(1);
    expect(await at(20)).toBe(1);
    expect(await at(21)).toBeCloseTo(0.8, 12);
    expect(await at(25)).toBe(0);
    expect(await at(40)).toBe(0);
    expect(await at(8)).toBeCloseTo(0.6, 12);
    expect(await at(5)).toBe(0);
    expect(await at(0)).toBe(0);
  });
  it('has a hard edge without slack and an open side without max', async () => {
    const hard = buildGrader(lengthGrader, { mode: 'band', unit: 'tokens', min: 2, max: 3 });
    expect(await scoreOne(hard, words(1))).toBe(0);
    expect(await scoreOne(hard, words(2))).toBe(1);
    expect(await scoreOne(hard, words(4))).toBe(0);
    const atLeast = buildGrader(lengthGrader, { mode: 'band', min: 3, slack: 3 });
    expect(await scoreOne(atLeast, chars(1_000_000))).toBe(1);
    expect(await scoreOne(atLeast, chars(1))).toBeCloseTo(1 / 3, 12);
  });
  it('reports the length in details', async () => {
    const [r] = await gradeAll(buildGrader(lengthGrader, { mode: 'band', max: 3 }), [{ completion: 'abcd' }]);
    expect(r).toEqual({ score: 0, details: { length: 4, unit: 'chars' } });
  });
});

describe('length: dapo', () => {
  // L_max 20, L_cache 4: no penalty up to 16, linear to -1 at 20, -1 beyond.
  const g = buildGrader(lengthGrader, { mode: 'dapo', unit: 'tokens', max_length: 20, cache: 4 });
  it.each([
    [0, 0],
    [15, 0],
    [16, 0],
    [17, -0.25],
    [18, -0.5],
    [19, -0.75],
    [20, -1],
    [21, -1],
    [100, -1],
  ])('L=%d → %d', async (n, expected) => {
    expect(await scoreOne(g, words(n))).toBe(expected);
  });
  it('scales by penalty_factor like verl', async () => {
    const f = buildGrader(lengthGrader, { mode: 'dapo', max_length: 10, cache: 2, penalty_factor: 0.5 });
    expect(await scoreOne(f, chars(9))).toBe(-0.25); // (8 − 9)/2 · 0.5
    expect(await scoreOne(f, chars(10))).toBe(-0.5);
    expect(await scoreOne(f, chars(50))).toBe(-0.5);
  });
  it('is non-increasing in L and bounded by [-1, 0] (property)', () => {
    const grader = buildGrader(lengthGrader, { mode: 'dapo', max_length: 50, cache: 13, meta_key: 'n' });
    fc.assert(
      fc.asyncProperty(fc.nat(80), fc.nat(80), async (a, b) => {
        const [x, y] = (await gradeAll(grader, [a, b].map((n) => ({ completion: '', meta: { n } })))).map((r) => r.score!);
        return x >= -1 && x <= 0 && (a <= b ? x >= y : x <= y);
      }),
    );
  });
});

describe('length: generalized', () => {
  const g = buildGrader(lengthGrader, { mode: 'generalized', unit: 'tokens', target: 10, max_length: 20 });
  it.each([
    [0, 1],
    [10, 1],
    [11, 0.9],
    [15, 0.5],
    [19, 0.1],
    [20, 0],
    [30, 0],
  ])('L=%d → %d', async (n, expected) => {
    expect(await scoreOne(g, words(n))).toBeCloseTo(expected, 12);
  });
  it('uses the floor at and beyond max_length', async () => {
    const neg = buildGrader(lengthGrader, { mode: 'generalized', target: 2, max_length: 4, floor: -1 });
    expect(await scoreOne(neg, chars(3))).toBe(0.5);
    expect(await scoreOne(neg, chars(4))).toBe(-1);
    expect(await scoreOne(neg, chars(9))).toBe(-1);
  });
});

describe('length: params', () => {
  const paramError = (params: Record<string, unknown>, param: string, message: RegExp) => {
    let err: unknown;
    try {
      buildGrader(lengthGrader, params);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).param).toBe(param);
    expect((err as ParamError).message).toMatch(message);
  };
  it('rejects params of another mode', () => {
    paramError({ max_length: 10, cache: 2 }, 'max_length', /applies to mode `dapo` or `generalized`, not `raw`/);
    paramError({ mode: 'dapo', max_length: 10, cache: 2, slack: 1 }, 'slack', /applies to mode `band`/);
    paramError({ mode: 'band', max: 3, target: 1 }, 'target', /applies to mode `generalized`/);
  });
  it('rejects missing and contradictory values', () => {
    paramError({ mode: 'dapo', max_length: 10 }, 'cache', /mode `dapo` needs `cache`/);
    paramError({ mode: 'dapo', max_length: 10, cache: 11 }, 'cache', /cannot exceed/);
    paramError({ mode: 'generalized', max_length: 10 }, 'target', /needs `target`/);
    paramError({ mode: 'generalized', target: 10, max_length: 10 }, 'max_length', /must be above/);
    paramError({ mode: 'band' }, 'max', /needs `min`, `max` or both/);
    paramError({ mode: 'band', min: 5, max: 4 }, 'min', /above/);
  });
  it('rejects values out of range and unknown keys', () => {
    expect(() => buildGrader(lengthGrader, { unit: 'bytes' })).toThrow();
    expect(() => buildGrader(lengthGrader, { mode: 'generalized', target: 1, max_length: 2, floor: -2 })).toThrow();
    expect(() => buildGrader(lengthGrader, { mode: 'dapo', max_length: 0, cache: 1 })).toThrow();
    expect(() => buildGrader(lengthGrader, { maxlen: 3 })).toThrow();
  });
});

describe('length: the policy\'s tokens', () => {
  let err: ReturnType<typeof quiet>;
  beforeAll(() => {
    err = quiet();
  });
  afterAll(() => err.mockRestore());
  const dapo = { mode: 'dapo', unit: 'tokens', max_length: 20, cache: 4 };

  it('reads completion_ids first, then response_length, before any tokenizer or estimate', async () => {
    const bpe = writeTokenizerDir(tinyBpeTokenizer());
    const g = buildGrader(lengthGrader, { ...dapo, tokenizer: `${bpe}/tokenizer.json` });
    const text = words(100); // far over by any count of the text
    const [a, b, c] = await gradeAll(g, [
      { completion: text, completion_ids: Array.from({ length: 18 }, (_, i) => i), response_length: 1 },
      { completion: text, response_length: 17 },
      { completion: text, completion_ids: null, response_length: 10 },
    ]);
    expect(a).toEqual({ score: -0.5, details: { length: 18, unit: 'tokens', source: 'completion_ids' } });
    expect(b).toEqual({ score: -0.25, details: { length: 17, unit: 'tokens', source: 'response_length' } });
    expect(c!.score).toBe(0);
  });

  it('counts with the tokenizer named in the spec, as the library encodes', async () => {
    const bpe = writeTokenizerDir(tinyBpeTokenizer());
    const g = buildGrader(lengthGrader, { unit: 'tokens', tokenizer: `${bpe}/tokenizer.json` });
    const [r] = await gradeAll(g, [{ completion: 'the the aaaa' }]);
    expect(r).toEqual({ score: 4, details: { length: 4, unit: 'tokens', source: 'tokenizer' } });
    expect(await scoreOne(g, 'a'.repeat(4_000))).toBe(1_000);
  });

  it('gives a 300,000-character completion without spaces the full DAPO penalty, whatever the source', async () => {
    const long = 'x'.repeat(300_000);
    const spec = { mode: 'dapo', unit: 'tokens', max_length: 20_480, cache: 4_096 }; // DAPO's own settings
    const estimate = buildGrader(lengthGrader, spec);
    const bpe = buildGrader(lengthGrader, { ...spec, tokenizer: `${writeTokenizerDir(tinyBpeTokenizer())}/tokenizer.json` });
    const unk = buildGrader(lengthGrader, { ...spec, tokenizer: `${writeTokenizerDir(tinyWordPieceTokenizer())}/tokenizer.json` });
    expect(await scoreOne(estimate, long)).toBe(-1);
    expect(await scoreOne(bpe, long)).toBe(-1);
    expect(await scoreOne(unk, long)).toBe(-1); // WordPiece alone reads it as one [UNK]
    expect(await scoreOne(estimate, 'ab 1. '.repeat(50_000))).toBe(-1);
  });

  it('names components[i].tokenizer when the file cannot be loaded', () => {
    const dir = writeTokenizerDir(tinyBpeTokenizer());
    const spec = parseSpec({ components: [{ name: 'ok', grader: 'exact' }, { name: 'len', grader: 'length', unit: 'tokens', tokenizer: 'nope/tokenizer.json' }] });
    let e: unknown;
    try {
      compileSpec(spec, { specDir: dir });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(SpecError);
    expect((e as SpecError).issues).toEqual([{ path: 'components[1].tokenizer', message: expect.stringMatching(/cannot read tokenizer file .*nope\/tokenizer\.json: ENOENT/) }]);
    const ok = compileSpec(parseSpec({ components: [{ name: 'len', grader: 'length', unit: 'tokens', tokenizer: 'tokenizer.json' }] }), { specDir: dir });
    expect(ok.names).toEqual(['len']);
  });

  it('rejects a tokenizer without unit tokens or beside meta_key', () => {
    expect(() => buildGrader(lengthGrader, { tokenizer: 'x.json' })).toThrow(/applies to `unit: tokens`/);
    expect(() => buildGrader(lengthGrader, { unit: 'tokens', meta_key: 'n', tokenizer: 'x.json' })).toThrow(/set one/);
  });

  it('reports a wrong-typed token field of one rollout as that rollout\'s error, and scores the batch', async () => {
    const compiled = compileSpec(parseSpec({ components: [{ name: 'len', grader: 'length', unit: 'tokens', mode: 'dapo', max_length: 20, cache: 4 }] }));
    const { results } = await scoreBatch(compiled, [
      { id: 'a', completion: 'x', response_length: 'many' as unknown as number },
      { id: 'b', completion: 'x', response_length: 20 },
    ]);
    expect(results[0]!.errors?.[0]?.message).toMatch(/response_length must be a non-negative integer, got "many"/);
    expect(results[1]!.components.len).toBe(-1);
  });
});
