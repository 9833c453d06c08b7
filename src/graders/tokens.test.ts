import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  charLength,
  chars,
  countNgrams,
  NgramTrie,
  ngramSet,
  removeWhitespace,
  rougeScoreTokens,
  rstripWhitespace,
  splitWhitespace,
  tokenize13a,
  truncateChars,
  unicodeWordTokens,
  units,
  wordTokens,
} from './tokens.js';

describe('splitWhitespace (Python str.split semantics)', () => {
  it('splits on Python whitespace, not on U+FEFF', () => {
    expect(splitWhitespace('  a\tb\nc\u3000d\u00a0e\x1cf\x85g  ')).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(splitWhitespace('a\ufeffb')).toEqual(['a\ufeffb']);
    expect(splitWhitespace('')).toEqual([]);
    expect(splitWhitespace(' \n\t ')).toEqual([]);
  });
  it('rstrip and remove whitespace', () => {
    expect(rstripWhitespace(' a b \n\u3000')).toBe(' a b');
    expect(rstripWhitespace(' \x1c\x85\u2029')).toBe('');
    expect(rstripWhitespace('a\ufeff')).toBe('a\ufeff');
    // Linear: a long run of spaces before a non-space (quadratic for `/[…]+$/`).
    const long = 'a' + ' '.repeat(300_000) + 'x';
    expect(rstripWhitespace(long)).toBe(long);
    expect(rstripWhitespace(long + ' '.repeat(300_000))).toBe(long);
    expect(removeWhitespace(' a b\tc\n')).toBe('abc');
  });
});

// Expected token lists below were checked against sacrebleu 2.6.0's Tokenizer13a.
describe('tokenize13a (sacrebleu 13a rules)', () => {
  it('splits punctuation and keeps numbers together', () => {
    expect(tokenize13a('Hello, world! 3.14 and 1-2.')).toEqual(['Hello', ',', 'world', '!', '3.14', 'and', '1', '-', '2', '.']);
    expect(tokenize13a('5,000 U.S. e.g. (x)')).toEqual(['5,000', 'U', '.', 'S', '.', 'e', '.', 'g', '.', '(', 'x', ')']);
  });
  it('keeps apostrophes and word-internal hyphens, splits other ASCII symbols', () => {
    expect(tokenize13a("don't well-known $5 @home #tag a/b")).toEqual(["don't", 'well-known', '$', '5', '@', 'home', '#', 'tag', 'a', '/', 'b']);
  });
  it('unescapes entities, joins hyphenated line breaks, drops <skipped>', () => {
    expect(tokenize13a('&quot;a&quot; &amp; b &lt;c&gt;')).toEqual(['"', 'a', '"', '&', 'b', '<', 'c', '>']);
    expect(tokenize13a('infor-\nmation\nnext <skipped>')).toEqual(['information', 'next']);
  });
  it('leaves non-ASCII text unsegmented', () => {
    expect(tokenize13a('我喜欢猫。 naïve 👍🏽')).toEqual(['我喜欢猫。', 'naïve', '👍🏽']);
    expect(tokenize13a('')).toEqual([]);
  });
});

describe('wordTokens', () => {
  it('splits words, punctuation, CJK characters and emoji', () => {
    expect(wordTokens("Don't panic: 北京 👍🏽!")).toEqual(['Don', "'", 't', 'panic', ':', '北', '京', '👍🏽', '!']);
    expect(wordTokens('カタカナとひらがな')).toEqual(['カ', 'タ', 'カ', 'ナ', 'と', 'ひ', 'ら', 'が', 'な']);
    expect(wordTokens('abc中文def')).toEqual(['abc', '中', '文', 'def']);
  });
  it('keeps ZWJ emoji sequences, flags, accented and Hangul words whole', () => {
    expect(wordTokens('👨‍👩‍👧 🇫🇷 café 안녕하세요 x')).toEqual(['👨‍👩‍👧', '🇫🇷', 'café', '안녕하세요', 'x']);
  });
  it('gives no token for empty or blank text', () => {
    expect(wordTokens('')).toEqual([]);
    expect(wordTokens(' \n\t')).toEqual([]);
  });
  it('never yields whitespace inside a token (n-gram keys rely on it)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        for (const t of wordTokens(s)) expect(/\s/.test(t)).toBe(false);
      }),
    );
  });
});

describe('rouge tokenisers', () => {
  it('rougeScoreTokens lower-cases and keeps only [a-z0-9] runs', () => {
    expect(rougeScoreTokens('The Quick-brown fox, naïve!')).toEqual(['the', 'quick', 'brown', 'fox', 'na', 've']);
    expect(rougeScoreTokens('我喜欢猫')).toEqual([]);
  });
  it('unicodeWordTokens keeps letters of every script and drops punctuation and emoji', () => {
    expect(unicodeWordTokens('Naïve 猫, ПРИВЕТ! 👍')).toEqual(['naïve', '猫', 'привет']);
  });
});

describe('characters', () => {
  it('counts and truncates code points without splitting surrogate pairs', () => {
    expect(chars('a👍b')).toEqual(['a', '👍', 'b']);
    expect(charLength('a👍b')).toBe(3);
    expect(truncateChars('a👍b', 2)).toBe('a👍');
    expect(truncateChars('a👍b', 1)).toBe('a');
    expect(truncateChars('abc', 10)).toBe('abc');
    expect(charLength('\ud83dx\ude00')).toBe(3); // lone surrogates count as one character each, as in Array.from
    expect(truncateChars('\ud83dx', 1)).toBe('\ud83d');
  });
  it('charLength and truncateChars agree with Array.from, lone surrogates included', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '👍', '\ud83d', '\ude00', '北', ' '), maxLength: 30 });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 35 }), (s, k) => {
        expect(charLength(s)).toBe(Array.from(s).length);
        expect(truncateChars(s, k)).toBe(Array.from(s).slice(0, k).join(''));
      }),
    );
  });
  it('units picks tokens or code points', () => {
    expect(units('a b', 'chars')).toEqual(['a', ' ', 'b']);
    expect(units('a b', 'tokens')).toEqual(['a', 'b']);
  });
});

describe('n-gram counting', () => {
  it('counts n-grams and distinct sets', () => {
    expect([...countNgrams(['a', 'b', 'a', 'b'], 2)]).toEqual([
      ['a b', 2],
      ['b a', 1],
    ]);
    expect(countNgrams(['a'], 2).size).toBe(0);
    expect(ngramSet(['x', 'x', 'x'], 1)).toEqual(new Set(['x']));
  });
  it('NgramTrie.clippedMatches equals the naive clipped count (max over references)', () => {
    const tokens = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 25 });
    const orders = (t: string[], max: number) => Array.from({ length: max }, (_, k) => countNgrams(t, k + 1));
    fc.assert(
      fc.property(tokens, fc.array(tokens, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 5 }), (hyp, refs, maxOrder) => {
        const refMax = orders(refs[0]!, maxOrder);
        for (const r of refs.slice(1)) {
          orders(r, maxOrder).forEach((m, k) => {
            for (const [g, c] of m) refMax[k]!.set(g, Math.max(c, refMax[k]!.get(g) ?? 0));
          });
        }
        const naive = orders(hyp, maxOrder).map((counts, k) => {
          let m = 0;
          for (const [g, c] of counts) m += Math.min(c, refMax[k]!.get(g) ?? 0);
          return m;
        });
        const trie = NgramTrie.of(refs[0]!, maxOrder);
        for (const r of refs.slice(1)) trie.mergeMax(NgramTrie.of(r, maxOrder));
        expect(trie.clippedMatches(hyp, maxOrder)).toEqual(naive);
      }),
    );
  });
});
