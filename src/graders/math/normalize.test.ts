import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { boxedContent, normalizeLatex, REPLACEMENTS, replaceAll, stripUnit, UNIT_WORDS } from './normalize.js';

describe('boxedContent', () => {
  it('takes the last box, with braces balanced', () => {
    expect(boxedContent('first \\boxed{1} then we see \\boxed{\\frac{1}{2}}', 'last')).toBe('\\frac{1}{2}');
    expect(boxedContent('first \\boxed{1} then \\boxed{2}', 'last')).toBe('1,2');
    expect(boxedContent('\\fbox{7}', 'last')).toBe('7');
  });
  it('joins close boxes or boxes separated by a list word in `last` mode', () => {
    expect(boxedContent('\\boxed{1} papers and \\boxed{2} bins', 'last')).toBe('1,2');
    expect(boxedContent('\\boxed{1}, \\boxed{2}', 'last')).toBe('1,2');
    expect(boxedContent('\\boxed{1} no no no no no \\boxed{2}', 'last')).toBe('2');
  });
  it('joins every box in `all` mode and drops repeats in a row', () => {
    expect(boxedContent('\\boxed{1} long text between the two boxes here \\boxed{2}', 'all')).toBe('1,2');
    expect(boxedContent('\\boxed{3} and again \\boxed{3}', 'all')).toBe('3');
  });
  it('returns the rest of the text for an unclosed box, and the text when there is none', () => {
    expect(boxedContent('so \\boxed{12', 'last')).toBe('{12');
    expect(boxedContent('no box here', 'last')).toBe('no box here');
  });
});

describe('normalizeLatex', () => {
  it('unifies fraction commands and strips styling', () => {
    expect(normalizeLatex('\\dfrac{1}{3}')).toBe('\\frac{1}{3}');
    expect(normalizeLatex('\\displaystyle \\tfrac12')).toBe('\\frac12');
    expect(normalizeLatex('11,\\! 111')).toBe('11,111');
    expect(normalizeLatex('1{,}000')).toBe('1,000');
  });
  it('turns and/or lists into commas', () => {
    expect(normalizeLatex('6 \\text{ and } 8')).toBe('6, 8');
    expect(normalizeLatex('19, 46, and 82')).toBe('19, 46, 82');
    expect(normalizeLatex('(11,7)or(7,11)')).toBe('(11,7),(7,11)');
    expect(normalizeLatex('random')).toBe('random');
  });
  it('strips trailing units and top-level trailing text only', () => {
    expect(normalizeLatex('\\frac{1}{3} \\textbf{meters}')).toBe('\\frac{1}{3}');
    expect(normalizeLatex('15\\mbox{ cm}^2')).toBe('15');
    expect(normalizeLatex('125 miles')).toBe('125');
    expect(normalizeLatex('5 m')).toBe('5');
    expect(normalizeLatex('2c')).toBe('2c');
    // \text inside braces is part of the expression: not cut to `1 - \frac{1}{`.
    expect(normalizeLatex('1 - \\frac{1}{\\text{cm}}')).toBe('1 - \\frac{1}{\\text{cm}}');
    // A word answer is kept whole.
    expect(normalizeLatex('\\text{Evelyn}')).toBe('\\text{Evelyn}');
  });
  it('reads \\mathrm{e} as Euler\'s number and percent words as \\%', () => {
    expect(normalizeLatex('1 - \\frac{1}{\\mathrm{e}}')).toBe('1 - \\frac{1}{e}');
    expect(normalizeLatex('28 percent')).toBe('28\\%');
    expect(normalizeLatex('\\text{28 pct}')).toBe('\\text{28\\%}');
  });
  it('applies the boxed mode', () => {
    expect(normalizeLatex('x = \\boxed{5}', 'last')).toBe('5');
    expect(normalizeLatex('x = \\boxed{5}', 'none')).toBe('x = \\boxed{5}');
  });
});

describe('linear-time rewrites agree with the regexes they replace', () => {
  // The original one-pass alternation and trailing-unit regex: quadratic on long whitespace runs,
  // kept here only as the reference the linear versions must agree with.
  const refReplace = new RegExp(REPLACEMENTS.map(([p]) => `(${p})`).join('|'), 'g');
  const refReplaceAll = (t: string): string =>
    t.replace(refReplace, (...m: unknown[]) => {
      for (let i = 0; i < REPLACEMENTS.length; i++) if (m[i + 1] !== undefined) return REPLACEMENTS[i]![1];
      return m[0] as string;
    });
  const refUnit = new RegExp(`(\\d|\\}|\\s)\\s*(?:${UNIT_WORDS.map((w) => w.replace(/ /g, '\\s')).join('|')})(?:s|es)?\\s*$`);
  const pieces = [' ', '  ', '   ', ' .5', ', ', '\n', '\t', '\u00a0', '.', '1', '2', '{', '}', ',', '\\', 'and', 'or', 'x', 'a', 'text', '\\text', '{and}', '\\dots', '\\ldots',
    'percent', 'percentage', 'pct', 'inf', 'infinity', '~=', '\\mathrm', '\\dfrac', 'cm', 'sq', 'm', 'inch', 'es', 's', 'feet', 'children', 'ticket', 'cu', 'min'];
  const texts = fc.array(fc.constantFrom(...pieces), { maxLength: 14 }).map((a) => a.join(''));

  it('replaceAll equals the global alternation', () => {
    fc.assert(fc.property(texts, (t) => {
        expect(replaceAll(t)).toBe(refReplaceAll(t));
      }), { numRuns: 20000 });
  });
  it('stripUnit equals the trailing-unit regex', () => {
    fc.assert(fc.property(texts, (t) => {
        expect(stripUnit(t)).toBe(t.replace(refUnit, "$1"));
      }), { numRuns: 20000 });
  });
});
