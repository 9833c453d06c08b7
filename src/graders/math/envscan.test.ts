import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deadline, MathTimeout } from './deadline.js';
import { LatexScanner } from './envscan.js';
import { ANCHORS, anchoredChains } from './extract.js';

// Oracle: the span rules written as one backtracking regex per chain (the form Math-Verify uses).
// Exact but quadratic on unclosed delimiters; the scanner must find exactly the same spans.
const KINDS = ['dd', 'db', 'id', 'ip', 'ib', 'fr'] as const;
const CONTENT: Record<string, string> = {
  dd: String.raw`(?:[^$]|\$(?!\$))`,
  db: String.raw`(?:[^\\]|\\(?!\]))`,
  id: String.raw`(?:\\[$]|[^\n$])`,
  ip: String.raw`(?:[^\\\n]|\\(?!\)))`,
  ib: String.raw`[^\n\]\[]`,
};
function envRe(p: string, boxed: boolean): string {
  const body = (k: string): string => (boxed ? String.raw`${CONTENT[k]}*?\\(?:boxed|fbox)\{${CONTENT[k]}+?\}${CONTENT[k]}*?` : `${CONTENT[k]}+?`);
  const alts = [
    String.raw`(?<!\\)\$\$(?<${p}dd>${body('dd')})(?<!\\)\$\$`,
    String.raw`(?<!\\)\\\[(?<${p}db>${body('db')})(?<!\\)\\\]`,
    String.raw`(?<![\\\d])\$(?<${p}id>${body('id')})(?<!\\)\$`,
    String.raw`(?<!\\)\\\((?<${p}ip>${body('ip')})(?<!\\)\\\)`,
    String.raw`\s\[(?<${p}ib>${body('ib')})\]\s`,
  ];
  if (!boxed) alts.push(String.raw`(?<${p}fr>-?\\frac\{-?\d+(?:[.,]\d+)?\}\{-?\d+(?:[.,]\d+)?\})`);
  return String.raw`(?:(?:${alts.join('|')})\s*(?<${p}pct>\\?%|[Pp]ercent(?:age)?|[Pp]ct)?)`;
}
function chainRe(boxed: boolean): RegExp {
  let s = envRe('e0', boxed);
  const sep = String.raw`\s*(?:,?and|,?or|,)\s*`;
  for (let i = 1; i <= 5; i++) s += `${boxed ? String.raw`\s*` : ''}(?:${sep}${envRe(`e${i}`, boxed)})?`;
  return new RegExp(s, 'gs');
}
const ORACLE = { plain: chainRe(false), boxed: chainRe(true) };

function viaRegex(text: string, boxed: boolean): string[] {
  const re = boxed ? ORACLE.boxed : ORACLE.plain;
  re.lastIndex = 0;
  const out: string[] = [];
  for (const m of text.matchAll(re)) {
    const spans: string[] = [];
    for (let i = 0; i <= 5; i++) {
      const k = KINDS.find((kind) => m.groups![`e${i}${kind}`] !== undefined);
      if (k) spans.push(`${k}:${JSON.stringify(m.groups![`e${i}${k}`])}${m.groups![`e${i}pct`] ? '%' : ''}`);
    }
    out.push(`${m.index}-${m.index + m[0].length} ${spans.join(' ')}`);
  }
  return out;
}

const ci = (w: string): string => [...w].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');
const CHAIN_SRC = chainRe(false).source;
const ANCHORED: Record<string, RegExp> = {
  hope: new RegExp(String.raw`${ci('final answer is')}:?\s*${CHAIN_SRC}\.?\s?I hope`, 'gs'),
  final: new RegExp(String.raw`${ci('final answer')}.{0,100}?\s+is:?\s*${CHAIN_SRC}`, 'gs'),
  answerColon: new RegExp(String.raw`${ci('answer')}:.{0,50}?${CHAIN_SRC}`, 'gs'),
  answer: new RegExp(String.raw`${ci('answer')}.{0,50}?${CHAIN_SRC}`, 'gs'),
};
const MODES = { hope: 'hope', final: 'is', answerColon: 'gap', answer: 'gap' } as const;

function anchoredViaRegex(text: string, which: keyof typeof MODES): string[] {
  return [...text.matchAll(ANCHORED[which]!)].map((m) => `${m.index}-${m.index + m[0].length}`);
}
function anchoredViaScanner(text: string, which: keyof typeof MODES): string[] {
  return anchoredChains(new LatexScanner(text), ANCHORS[which], MODES[which]).map((c) => `${c.start}-${c.end}`);
}

function viaScanner(text: string, boxed: boolean): string[] {
  return new LatexScanner(text).all(boxed).map((c) => `${c.start}-${c.end} ${c.spans.map((s) => `${s.kind}:${JSON.stringify(s.content)}${s.pct ? '%' : ''}`).join(' ')}`);
}

const PIECES = ['$', '$$', '\\$', '\\[', '\\]', '\\(', '\\)', ' [', '] ', '[', ']', '\\boxed{', '\\fbox{', '{', '}', ', ', ' and ', 'or', ' ', '\n', 'x', '1', '2.5', '\\frac{1}{2}', '-\\frac{3}{4}', '%', ' percent', '\\\\', '9$'];
const texts = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((xs) => xs.join(''));

describe('LatexScanner', () => {
  it('finds the spans Math-Verify\'s patterns find', () => {
    expect(viaScanner('so $x$ and $y$, then \\[ z \\] and $\\frac{1}{2}$ 5 [a] b', false)).toEqual([
      '3-14 id:"x" id:"y"',
      '21-47 db:" z " id:"\\\\frac{1}{2}"',
      '48-53 ib:"a"',
    ]);
    // Inline math stays on one line: the stray `$` pairs with the next one.
    expect(viaScanner('Answer $ \n 9 \n $ or $$\n9\n$$', false)).toEqual(['15-21 id:" or "']);
    expect(viaScanner('Answer $$ \n 9 \n $$', false)).toEqual(['7-18 dd:" \\n 9 \\n "']);
    expect(viaScanner('cost $5 and $6', false)).toEqual(['5-13 id:"5 and "']);
    expect(viaScanner('$28$ %', false)).toEqual(['0-6 id:"28"%']);
    expect(viaScanner('$a$ \\boxed{d}$', true)).toEqual(['2-14 id:" \\\\boxed{d}"']);
    for (const t of ['so $x$ and $y$, then \\[ z \\] and $\\frac{1}{2}$ 5 [a] b', 'Answer $ \n 9 \n $ or $$\n9\n$$', '$a$ \\boxed{d}$']) {
      expect(viaScanner(t, false)).toEqual(viaRegex(t, false));
      expect(viaScanner(t, true)).toEqual(viaRegex(t, true));
    }
  });

  it('agrees with the regex oracle on random texts (plain and boxed scans)', () => {
    fc.assert(
      fc.property(texts, (t) => {
        expect(viaScanner(t, false)).toEqual(viaRegex(t, false));
        expect(viaScanner(t, true)).toEqual(viaRegex(t, true));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the anchored candidates the anchored patterns find (answer:, answer, final answer … is, … I hope)', () => {
    const anchored = fc
      .array(fc.constantFrom(...PIECES, 'answer', 'Answer:', 'final answer', 'The final answer is', ' is ', 'is:', '. I hope', ' I hope', 'words '), { maxLength: 30 })
      .map((xs) => xs.join(''));
    fc.assert(
      fc.property(anchored, (t) => {
        for (const which of Object.keys(MODES) as Array<keyof typeof MODES>) expect(anchoredViaScanner(t, which), which).toEqual(anchoredViaRegex(t, which));
      }),
      { numRuns: 1500 },
    );
  });

  it('stays linear on unclosed delimiters and stops at the deadline', () => {
    const t = '\\( x '.repeat(20_000);
    expect(new LatexScanner(t).all(false)).toEqual([]);
    expect(() => new LatexScanner('$ x '.repeat(50_000), new Deadline(0)).all(false)).toThrow(MathTimeout);
  });
});
