/**
 * The `math` grader's fast paths for plain answers (bench/math.ts, GSM8K rows) against the slow paths
 * they skip, on property-based samples: each shortcut must give what the general code gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Node, binderKinds } from './ast.js';
import { HASH_LINE, firstBox, plainNumber } from './extract.js';
import { parseDecimal } from './rational.js';
import { isBareAnswer } from './verify.js';

/** Texts made of pieces that matter to these paths (digits, separators, LaTeX, `$`, `####`, words …). */
const piece = fc.constantFrom(
  '0', '1', '7', '12', '007', '1,000', '7,425,000', '1 000', '0.5', '.5', ',', '.', ' ', '\n', '\t', '$', '\\$',
  '\\boxed{', '\\fbox{', '\\boxed', '}', '{', '####', '#### ', '-', '+', '%', '\\%', 'e5', 'E-3', 'answer', 'The answer is ',
  'x', 'ab', '=', '\\frac{', '}{', '\\sqrt{', '\\text{cm}', '\\mathrm{kg}', '\\begin{pmatrix}', '\\end{pmatrix}', '\\(', '\\)',
  '\\[', '\\]', '{,}', '\u00a0', '\u2009', '−', 'π', '答案', 'é', '\\left(', '\\right)', ';', '**', '\\\\',
);
const text = fc.array(piece, { maxLength: 14 }).map((xs) => xs.join(''));
const digits = fc.stringMatching(/^[0-9]{1,30}$/);

/** isBareAnswer as it was written before its fast path (one regex per test, the replace always). */
function isBareAnswerSlow(t: string): boolean {
  const wordy = /[a-zA-Z]{3,}/.test(t.replace(/\\(?:begin|end|text[a-z]*|math[a-z]*|operatorname|mbox)\s*\{[^{}]*\}|\\[a-zA-Z]+/g, ' '));
  const foreign = /[^\x00-\x7F·×÷−–±∓≈≤≥≠πθαβγδελμσφωΔ∞√°∪∩∈∉∅′∗⁄∖≡ℝℤℕℚℂ²³¹…⋯]/.test(t);
  return t.length <= 400 && !/(?<!\\)\$|\\\(|\\\[|\\boxed|\\fbox/.test(t) && !wordy && !foreign;
}

/** Every match of a global regex from `from` on, as [index, text] pairs. */
function matchesFrom(re: RegExp, t: string, from: number): [number, string][] {
  const out: [number, string][] = [];
  re.lastIndex = from;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push([m.index, m[0]]);
  }
  return out;
}

describe('math fast paths agree with the slow paths', () => {
  it('plainNumber: digits alone (no regex) read as the regex reads them', () => {
    fc.assert(
      fc.property(digits, (d) => {
        // A leading space takes the regex path (PLAIN_NUMBER allows it) to the same number.
        expect(plainNumber(d)).toEqual(plainNumber(` ${d}`));
      }),
    );
  });

  it('plainNumber: the integer shortcut gives parseDecimal’s value', () => {
    const numeral = fc
      .tuple(fc.constantFrom('', '-', '+', '$', '-$', '\\$'), fc.oneof(digits, fc.constantFrom('1,000', '12 345', '7,425,000', '1\u00a0000', '0,5', '3.25', '.5', '1,22', '1{,}5')), fc.constantFrom('', '%', '\\%', '.', ' '))
      .map(([a, b, c]) => a + b + c);
    fc.assert(
      fc.property(fc.oneof(numeral, text), (t) => {
        const r = plainNumber(t);
        if (r === null) return;
        const n: Node = r.node.k === 'pct' ? r.node.arg : r.node;
        expect(n.k).toBe('num');
        if (n.k === 'num') expect(n.v).toEqual(parseDecimal(r.str));
      }),
    );
  });

  it('isBareAnswer equals its one-expression form', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(isBareAnswer(t)).toBe(isBareAnswerSlow(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('firstBox finds the first \\boxed / \\fbox as the regex does', () => {
    fc.assert(
      fc.property(text, (t) => {
        const m = /\\(?:boxed|fbox)/.exec(t);
        expect(firstBox(t)).toBe(m ? m.index : -1);
      }),
      { numRuns: 2000 },
    );
  });

  it('the #### line pattern finds the same matches from its start as from 0', () => {
    const line = fc.oneof(text, fc.constantFrom('#### 72', '  #### 1,000 ', '####$5', '#### 3 apples', '####', 'a #### 4', '\t####\t-2.5'));
    const lines = fc.array(line, { maxLength: 6 }).map((xs) => xs.join('\n'));
    fc.assert(
      fc.property(fc.oneof(text, lines), (t) => {
        if (!t.includes('####')) return;
        expect(matchesFrom(HASH_LINE.re, t, HASH_LINE.from!(t))).toEqual(matchesFrom(HASH_LINE.re, t, 0));
      }),
      { numRuns: 2000 },
    );
  });

  it('binderKinds: a leaf has none, and a tree keeps its own', () => {
    const one: Node = { k: 'num', v: { n: 1n, d: 1n }, float: false };
    for (const leaf of [one, { k: 'sym', name: 'x' }, { k: 'const', name: 'pi' }, { k: 'text', s: 'cm' }, { k: 'domain', name: 'R' }] as Node[]) expect(binderKinds(leaf).size).toBe(0);
    const sum: Node = { k: 'sum', body: { k: 'sym', name: 'k' }, v: 'k', lo: one, hi: one };
    expect([...binderKinds({ k: 'add', args: [one, sum] })]).toEqual(['sum']);
  });
});
