import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { regexGrader } from './regex.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { ParamError } from './types.js';

function paramError(params: Record<string, unknown>): ParamError {
  try {
    buildGrader(regexGrader, params);
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('expected a ParamError');
}

const R1_FORMAT = '^<think>[\\s\\S]*</think>\\s*<answer>[\\s\\S]*</answer>$';

describe('regex', () => {
  it('scores 1 on a match anywhere, 0 otherwise', async () => {
    const g = buildGrader(regexGrader, { pattern: '\\d+ apples' });
    expect(await scoreOne(g, 'I have 12 apples.')).toBe(1);
    expect(await scoreOne(g, 'I have twelve apples.')).toBe(0);
    expect(await scoreOne(g, '')).toBe(0);
  });

  it('scores the R1 format pattern from the architecture example', async () => {
    const g = buildGrader(regexGrader, { pattern: R1_FORMAT });
    expect(await scoreOne(g, '<think>2+2=4</think>\n<answer>4</answer>')).toBe(1);
    expect(await scoreOne(g, '<think>2+2=4</think>\n<answer>4</answer> trailing')).toBe(0);
    expect(await scoreOne(g, '<answer>4</answer>')).toBe(0);
  });

  it('matches the whole completion with full: true', async () => {
    const g = buildGrader(regexGrader, { pattern: '[a-z]+', full: true });
    expect(await scoreOne(g, 'abc')).toBe(1);
    expect(await scoreOne(g, 'abc1')).toBe(0);
    expect(await scoreOne(g, '')).toBe(0);
    // `full` anchors the whole text even with the m flag, where ^ and $ match at line breaks.
    const m = buildGrader(regexGrader, { pattern: '^a$', flags: 'm', full: true });
    expect(await scoreOne(m, 'a')).toBe(1);
    expect(await scoreOne(m, 'a\nb')).toBe(0);
    const quoted = buildGrader(regexGrader, { pattern: 'x\\Q+y', full: true }); // \Q quotes to the end
    expect(await scoreOne(quoted, 'x+y')).toBe(1);
    expect(await scoreOne(quoted, 'x+y!')).toBe(0);
    const alt = buildGrader(regexGrader, { pattern: 'a|ab', full: true });
    expect(await scoreOne(alt, 'ab')).toBe(1); // every alternative is anchored, not only the last
  });

  it('applies the i, m and s flags', async () => {
    expect(await scoreOne(buildGrader(regexGrader, { pattern: 'paris' }), 'PARIS')).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: 'paris', flags: 'i' }), 'PARIS')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^b$' }), 'a\nb\nc')).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^b$', flags: 'm' }), 'a\nb\nc')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: 'a.c' }), 'a\nc')).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: 'a.c', flags: 'is' }), 'A\nc')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '(?i)paris' }), 'Paris')).toBe(1);
  });

  it('is Unicode-aware', async () => {
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^\\p{L}+$' }), 'Ωmega')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^.$' }), '😀')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: 'ÉCOLE', flags: 'i' }), 'école')).toBe(1);
  });

  it('compares a capture group with the reference', async () => {
    const g = buildGrader(regexGrader, { pattern: '<answer>(?P<ans>[\\s\\S]*?)</answer>', group: 'ans', normalize: { case: 'lower' } });
    const [r] = await gradeAll(g, [{ completion: '<think>…</think><answer> Paris </answer>', reference: 'paris' }]);
    expect(r).toEqual({ score: 1, details: { group: ' Paris ' } });
    expect(await scoreOne(g, '<answer>Lyon</answer>', 'paris')).toBe(0);
    expect(await scoreOne(g, '<answer>Lyon</answer>', ['paris', 'lyon'])).toBe(1);
    expect(await scoreOne(g, 'no tags', 'paris')).toBe(0);
    expect(await scoreOne(g, '<answer>Lyon</answer>', undefined)).toBeNull();
    expect(await scoreOne(g, '<answer>42</answer>', 42)).toBe(1);
    const idx = buildGrader(regexGrader, { pattern: '(\\w+)=(\\d+)', group: 2 });
    expect(await scoreOne(idx, 'x=42', '42')).toBe(1);
    const whole = buildGrader(regexGrader, { pattern: '\\d+', group: 0 });
    expect(await scoreOne(whole, 'abc 17 def', '17')).toBe(1);
  });

  it('gives 0 when the group did not take part in the match', async () => {
    const g = buildGrader(regexGrader, { pattern: 'a(b)?', group: 1 });
    const [r] = await gradeAll(g, [{ completion: 'a', reference: 'b' }]);
    expect(r).toEqual({ score: 0, details: { group: null } });
  });

  it('cuts long groups in details', async () => {
    const g = buildGrader(regexGrader, { pattern: '(x+)', group: 1 });
    const [r] = await gradeAll(g, [{ completion: 'x'.repeat(1000), reference: 'x' }]);
    expect(r!.score).toBe(0);
    expect(r!.details!.group).toBe(`${'x'.repeat(200)}… (1000 chars)`);
  });

  it('runs catastrophic-backtracking patterns in linear time', async () => {
    // A backtracking engine needs ~2^n steps here; RE2 answers at once.
    const evil = 'a'.repeat(100_000) + '!';
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '(a+)+$' }), evil)).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^(a|aa)+$' }), evil)).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '(a*)*b', full: true }), evil)).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '(?P<g>(a+)+)!', group: 'g' }), evil, 'a'.repeat(100_000))).toBe(1);
  });

  it('handles a 1 MB completion', async () => {
    const big = 'lorem ipsum '.repeat(90_000) + '<answer>7</answer>';
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '<answer>(\\d+)</answer>', group: 1 }), big, '7')).toBe(1);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^(lorem ipsum )+<answer>\\d</answer>$' }), big)).toBe(1);
  });

  it('rejects lookaround and backreferences with the reason', () => {
    for (const pattern of ['foo(?=bar)', 'foo(?!bar)', '(?<=a)b', '(?<!a)b']) {
      const e = paramError({ pattern });
      expect(e.param).toBe('pattern');
      expect(e.message).toMatch(/lookahead and lookbehind .* not supported: .*RE2.*linear-time/);
    }
    for (const pattern of ['(a)\\1', '(?P<x>a)\\k<x>']) {
      const e = paramError({ pattern });
      expect(e.param).toBe('pattern');
      expect(e.message).toMatch(/backreferences .* not supported: .*linear-time/);
    }
  });

  it('rejects invalid patterns, flags and groups', () => {
    expect(paramError({ pattern: '[' }).message).toBe('invalid regular expression: missing closing ]: `[`.');
    expect(paramError({ pattern: 'a++' }).param).toBe('pattern');
    const f = paramError({ pattern: 'a', flags: 'g' });
    expect(f.param).toBe('flags');
    expect(f.message).toMatch(/flag `g` is not supported: use `i`, `m` or `s`/);
    expect(paramError({ pattern: '(a)', group: 2 }).message).toBe('the pattern has 1 capture group(s), so there is no group 2.');
    expect(paramError({ pattern: '(?P<x>a)', group: 'y' }).message).toBe('the pattern has no group named `y` (named groups: x).');
    expect(paramError({ pattern: '(a)', group: 'toString' }).message).toBe('the pattern has no group named `toString` (named groups: none).');
    expect(() => buildGrader(regexGrader, {})).toThrow(); // pattern is required
    expect(() => buildGrader(regexGrader, { pattern: 'a', group: -1 })).toThrow();
  });

  it('agrees with JavaScript RegExp on literal patterns (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-c]{1,4}$/), fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n', 'é'), maxLength: 30 }), async (lit, text) => {
        const g = buildGrader(regexGrader, { pattern: `${lit}+` });
        return (await scoreOne(g, text)) === (new RegExp(`${lit}+`).test(text) ? 1 : 0);
      }),
    );
  });
});
