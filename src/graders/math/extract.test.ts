import { describe, expect, it } from 'vitest';
import { type Node, show } from './ast.js';
import { type ExtractOptions, extractAnswer, extractLetter, readLetter } from './extract.js';
import { ParseError, parseLatex } from './parser.js';

const parse = (t: string): Node | null => {
  try {
    return parseLatex(t);
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
};
const auto: ExtractOptions = { targets: ['latex', 'expr'], boxed: 'first' };
const ex = (text: string, o: ExtractOptions = auto) => extractAnswer(text, o, parse);
const val = (text: string, o: ExtractOptions = auto): string | null => {
  const n = ex(text, o).node;
  return n && show(n);
};

describe('extractAnswer', () => {
  it('takes the last \\boxed{} first, even before "final answer is"', () => {
    expect(val('We get $\\boxed{3}$, then correct it to $\\boxed{5}$. The final answer is 4')).toBe('5');
    expect(val('so $x-p=\\boxed{2-2p}$.')).toBe('(2 + -1·2·p)');
    expect(val('\\boxed{\\frac{1}{2}} and more text with braces {x}')).toBe('1/2');
    expect(val('Final Answer: \\fbox{7}')).toBe('7');
  });
  it('joins boxes inside one math span, and boxes listed with "and"', () => {
    expect(val('$\\boxed{1}, \\boxed{2}$')).toBe('{1, 2}');
    expect(val('\\boxed{1} papers and \\boxed{2} bins')).toBe('{1, 2}');
    expect(val('\\boxed{1} no no no no no \\boxed{2}')).toBe('2');
  });
  it('ranks \\boxed{} with "final answer … is" when asked (Math-Verify\'s library default)', () => {
    const later: ExtractOptions = { ...auto, boxed: 'with_final_answer' };
    const text = 'The final answer is $4$. I hope it is correct. Also \\boxed{5}';
    expect(val(text, later)).toBe('4');
    expect(val(text)).toBe('5');
  });
  it('ranks \\boxed{} after "final answer … is", with "answer:", when asked', () => {
    const late: ExtractOptions = { ...auto, boxed: 'after_final_answer' };
    const text = 'So the final answer is $12$; a check gives \\boxed{13}';
    expect(val(text, late)).toBe('12');
    expect(val(text, { ...auto, boxed: 'with_final_answer' })).toBe('13');
    // Same group as `answer:` (the later one wins), before a bare `answer` and loose LaTeX.
    expect(val('Answer: $6$, then \\boxed{7}', late)).toBe('7');
    expect(val('We get \\boxed{7}. The answer $6$ was a typo', late)).toBe('7');
  });
  it('follows answer anchors before loose numbers', () => {
    expect(val('Answer: $7$. Later we mention $8$.')).toBe('7');
    expect(val('The answer is 12 apples, not 13 oranges.')).toBe('12');
    expect(val('Natalia sold 48/2 = 24 clips in May.\n#### 72')).toBe('72');
    expect(val('Add it to the answer from the previous step: $4.00 + $2.00 = $6.00\n#### 6')).toBe('6');
    expect(val('Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.')).toBe('3/4');
  });
  it('reads an anchored number followed by alternatives as the list, not its first value', () => {
    expect(val('So the answer is 9 or 11.')).toBe('{9, 11}');
    expect(val('Answer: 9; 11')).toBe('{9, 11}');
    expect(val('**Answer:** **9** and **11**')).toBe('{9, 11}');
    expect(val('Final answer: 4+5, or 11', { targets: ['expr'], boxed: 'first' })).toBe('{(4 + 5), 11}');
    expect(val('The answer is $9$ or $11$.', { targets: ['expr'], boxed: 'first' })).toBe('{9, 11}');
    // A sentence that goes on is not a list.
    expect(val('The answer is 9, which is odd.')).toBe('9');
    expect(val('The answer is 9. 11 people agree.')).toBe('9');
    expect(val('Answer: 9 apples and 11 pears')).toBe('9');
    expect(val('The answer is 9 and a half')).toBe('9');
    expect(val('The answer is 9, \\text{since} it is odd')).toBe('9');
  });
  it('keeps an alternative it cannot read as text, after a unit or a base too', () => {
    const alts = (text: string): string[] | null => {
      const n = ex(text).node;
      return n && n.k === 'set' ? n.items.map(show) : null;
    };
    expect(alts('The answer is 12 or \\sqrt{145}.')).toEqual(['12', 'text(\\sqrt{145})']);
    expect(alts('Answer: 12 or \\cot y')).toEqual(['12', 'text(\\cot y)']);
    expect(alts('Answer: 12 or 3k')).toEqual(['12', 'text(3k)']);
    expect(alts('The answer is -12 or -\\frac{\\pi}{3}.')).toEqual(['-12', 'text(-\\frac{\\pi}{3})']);
    expect(alts('The answer is 45^\\circ or 135^\\circ.')).toEqual(['45', 'text(135^\\circ)']);
    expect(alts('Answer: 31_7 or 22')).toEqual(['31', '22']);
    expect(alts('The answer is \\$4.50 or \\$5.')).toEqual(['9/2', '5']);
    // An anchored LaTeX answer followed by a plain alternative.
    expect(alts('The answer is $12$ or 13.')).toEqual(['12', '13']);
    expect(alts('Answer: $12$, or maybe $13$')).toEqual(['12', '13']);
    // A later \\boxed{} is ranked on its own, not read as an alternative.
    expect(val('The answer is $12$, \\boxed{13}')).toBe('13');
  });
  it('finds numbers in Chinese, Japanese and Korean text, which has no spaces', () => {
    expect(val('所以小明一共有42本书。')).toBe('42');
    expect(val('比例为5/8')).toBe('5/8');
    expect(val('答えは42個です。')).toBe('42');
    expect(val('정답은 42입니다')).toBe('42');
    expect(val('答案是42或43。')).toBe('{42, 43}');
  });
  it('reads a bold answer as the number, not "73**"', () => {
    const text = 'So answer is consistent.\n\nThus, the number who own all four is **73**.\n\n---\n\n✅ Final Answer: **73**';
    expect(val(text)).toBe('73');
    expect(ex(text).str).toBe('73');
    expect(val('Left: 437 + 2*234 = 905\n\n**Final Answer: 73**')).toBe('73');
  });
  it('reads numbers with separators, currency and percent', () => {
    const expr: ExtractOptions = { targets: ['expr'], boxed: 'first' };
    expect(val('the number is not 10 which is 1,000.99€', expr)).toBe('100099/100');
    expect(val('Soucis : 2,74 $ a..', expr)).toBe('137/50');
    expect(val('it costs $1,000', expr)).toBe('1000');
    expect(val('about 28 percent', expr)).toBe('28%');
    expect(val('AZYUK2A', expr)).toBeNull();
    expect(val('roughly 1.5e-3 of it', expr)).toBe('3/2000');
  });
  it('keeps the first candidate text as a fallback and says why nothing parsed', () => {
    const r = ex('The answer is $\\zzz{1}$');
    expect(r.node).toBeNull();
    expect(r.str).toBe('\\zzz{1}');
    expect(r.reason).toBe('answer did not parse');
    expect(ex('no maths here').reason).toBe('no answer found');
  });
  it('extracts inline math only within a line and display math across lines', () => {
    expect(val('Answer $ \n 9 \n $', { targets: ['latex'], boxed: 'first' })).toBeNull();
    expect(val('Answer $$ \n 9 \n $$', { targets: ['latex'], boxed: 'first' })).toBe('9');
    expect(val('Answer \\[ \n 9 \n \\]', { targets: ['latex'], boxed: 'first' })).toBe('9');
  });
});

describe('extractLetter', () => {
  it('finds the chosen letter', () => {
    expect(extractLetter('thinking about it I think the correct answer is C', 'ABCD')).toBe('C');
    expect(extractLetter("The answer is for sure D, it can't be A or B", 'ABCD')).toBe('D');
    expect(extractLetter("D. it can't be A or B", 'ABCD')).toBe('D');
    expect(extractLetter('so the answer is $\\boxed{\\text{(B)}}$', 'ABCD')).toBe('B');
    expect(extractLetter('(D) Alina', 'ABCD')).toBe('D');
    expect(extractLetter('Alina and the answer is\n(C) Cecile', 'ABCD')).toBe('C');
    expect(extractLetter('réponse est C non A', 'ABCD')).toBe('C');
    expect(extractLetter('B不是 A', 'ABCD')).toBe('B');
    expect(extractLetter('none of these', 'ABCD')).toBeNull();
    expect(extractLetter('Answer: (E)', 'ABCDE')).toBe('E');
    expect(extractLetter('Answer: (E)', 'ABCD')).toBeNull();
  });

  it('reads a hedge between letters as no answer', () => {
    for (const t of ['A B C D', 'Answer: A or B', 'A, B, C, D', '(A)(B)(C)(D)', 'The final answer is A/B', '\\boxed{A} \\boxed{C}', 'Answer: C and D', '**A** **B**'])
      expect(extractLetter(t, 'ABCD'), t).toBeNull();
    expect(readLetter('Answer: A or B', 'ABCD')).toEqual({ letter: null, hedge: 'A is offered with another letter as an alternative' });
    expect(readLetter('\\boxed{A} then \\boxed{C}', 'ABCD')).toEqual({ letter: null, hedge: 'several boxed letters (A, C)' });
    // The same letter twice is no hedge; neither is a word after the letter.
    expect(extractLetter('\\boxed{B}, so \\boxed{B}', 'ABCD')).toBe('B');
    expect(extractLetter('Answer: B. A is wrong and so is C.', 'ABCD')).toBe('B');
    expect(extractLetter('Answer: B I think', 'ABCDEFGHIJ')).toBe('B');
  });
});
