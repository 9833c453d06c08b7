import { describe, expect, it } from 'vitest';
import { nistInternationalTokens, nltkWordTokens, punktSentences, treebankTokens } from './nltk_tokens.js';

// Expected tokens are NLTK's own documented outputs (nltk/tokenize/__init__.py, nltk/test/tokenize.doctest,
// nltk/tokenize/punkt.py), unless marked as derived from the rules.
describe('nltkWordTokens (NLTK word_tokenize, as Azure AI evaluation calls it)', () => {
  it("word_tokenize's documented example: periods split at sentence ends only", () => {
    const s = 'Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks.';
    expect(nltkWordTokens(s)).toEqual(['Good', 'muffins', 'cost', '$', '3.88', 'in', 'New', 'York', '.', 'Please', 'buy', 'me', 'two', 'of', 'them', '.', 'Thanks', '.']);
  });

  it('the NLTKWordTokenizer regression strings s1 … s11', () => {
    const cases: Array<[string, string[]]> = [
      ['On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88.', ['On', 'a', '$', '50,000', 'mortgage', 'of', '30', 'years', 'at', '8', 'percent', ',', 'the', 'monthly', 'payment', 'would', 'be', '$', '366.88', '.']],
      ['"We beat some pretty good teams to get here," Slocum said.', ['``', 'We', 'beat', 'some', 'pretty', 'good', 'teams', 'to', 'get', 'here', ',', "''", 'Slocum', 'said', '.']],
      [
        'Well, we couldn\'t have this predictable, cliche-ridden, "Touched by an Angel" (a show creator John Masius worked on) wanna-be if she didn\'t.',
        ['Well', ',', 'we', 'could', "n't", 'have', 'this', 'predictable', ',', 'cliche-ridden', ',', '``', 'Touched', 'by', 'an', 'Angel', "''", '(', 'a', 'show', 'creator', 'John', 'Masius', 'worked', 'on', ')', 'wanna-be', 'if', 'she', 'did', "n't", '.'],
      ],
      ['I cannot cannot work under these conditions!', ['I', 'can', 'not', 'can', 'not', 'work', 'under', 'these', 'conditions', '!']],
      ['The company spent $30,000,000 last year.', ['The', 'company', 'spent', '$', '30,000,000', 'last', 'year', '.']],
      ['The company spent 40.75% of its income last year.', ['The', 'company', 'spent', '40.75', '%', 'of', 'its', 'income', 'last', 'year', '.']],
      ['He arrived at 3:00 pm.', ['He', 'arrived', 'at', '3:00', 'pm', '.']],
      ['I bought these items: books, pencils, and pens.', ['I', 'bought', 'these', 'items', ':', 'books', ',', 'pencils', ',', 'and', 'pens', '.']],
      ['Though there were 150, 100 of them were old.', ['Though', 'there', 'were', '150', ',', '100', 'of', 'them', 'were', 'old', '.']],
      ["There were 300,000, but that wasn't enough.", ['There', 'were', '300,000', ',', 'but', 'that', 'was', "n't", 'enough', '.']],
      ["It's more'n enough.", ['It', "'s", 'more', "'n", 'enough', '.']],
    ];
    for (const [s, expected] of cases) expect(nltkWordTokens(s), s).toEqual(expected);
  });

  it('Unicode quotes (the Treebank improvements NLTK documents), on the Treebank tokenizer', () => {
    expect(treebankTokens('\u00abNow that I can do.\u00bb')).toEqual(['\u00ab', 'Now', 'that', 'I', 'can', 'do', '.', '\u00bb']);
    expect(treebankTokens('The unicode 201C and 201D \u201cLEFT(RIGHT) DOUBLE QUOTATION MARK\u201d is also OPEN_PUNCT and CLOSE_PUNCT.')).toEqual(
      ['The', 'unicode', '201C', 'and', '201D', '\u201c', 'LEFT', '(', 'RIGHT', ')', 'DOUBLE', 'QUOTATION', 'MARK', '\u201d', 'is', 'also', 'OPEN_PUNCT', 'and', 'CLOSE_PUNCT', '.'],
    );
  });

  it("Punkt: NLTK's documented sentence splits", () => {
    // punkt.py module docstring (the English model): abbreviations and initials do not break; a lower-case start does.
    const text = 'Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.  And sometimes sentences\ncan start with non-capitalized words.  i is a good variable\nname.';
    expect(punktSentences(text)).toEqual([
      'Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.',
      'And sometimes sentences\ncan start with non-capitalized words.',
      'i is a good variable\nname.',
    ]);
    expect(punktSentences('Hello.  This is a test.  It works!')).toEqual(['Hello.', 'This is a test.', 'It works!']);
    // tokenize.doctest: closing brackets move back to the sentence they close; trailing whitespace is dropped.
    expect(punktSentences('See Section 3).  Or Section 2).  ')).toEqual(['See Section 3).', 'Or Section 2).']);
    expect(punktSentences('See Section 3.)  Or Section 2.)  ')).toEqual(['See Section 3.)', 'Or Section 2.)']);
    expect(punktSentences('Very bad acting!!! I promise.')).toEqual(['Very bad acting!!!', 'I promise.']);
  });

  it('contractions, quotes, brackets and dashes (derived from the Treebank rules)', () => {
    expect(treebankTokens("They'll pay $3.88 (roughly), don't you think?")).toEqual(['They', "'ll", 'pay', '$', '3.88', '(', 'roughly', ')', ',', 'do', "n't", 'you', 'think', '?']);
    expect(treebankTokens("I'm gonna -- wanna go; gimme 'tis")).toEqual(['I', "'m", 'gon', 'na', '--', 'wan', 'na', 'go', ';', 'gim', 'me', "'t", 'is']);
    expect(nltkWordTokens('"Hello." She left.')).toEqual(['``', 'Hello', '.', "''", 'She', 'left', '.']);
    expect(nltkWordTokens('Wait... what?! Fine')).toEqual(['Wait', '...', 'what', '?', '!', 'Fine']);
    // Abbreviations keep their period; words that only look like one (sat, no) end the sentence.
    expect(nltkWordTokens('Mr. Smith met Dr. Jones at 3 p.m. yesterday. The cat sat. No.')).toEqual(['Mr.', 'Smith', 'met', 'Dr.', 'Jones', 'at', '3', 'p.m.', 'yesterday', '.', 'The', 'cat', 'sat', '.', 'No', '.']);
  });

  it("non-ASCII text takes NIST's international tokenizer, as Azure AI evaluation does", () => {
    // ASCII runs are split from non-ASCII characters; punctuation next to a digit and symbols are split off.
    expect(nltkWordTokens('café, 3.5€')).toEqual(['caf', 'é', ',', '3', '.', '5', '€']);
    expect(nistInternationalTokens('北京 is big, 2024年!')).toEqual(['北京', 'is', 'big,', '2024', '年', '!']);
    expect(nistInternationalTokens('a &lt;b&gt; ü')).toEqual(['a', '<', 'b', '>', 'ü']);
  });

  it('empty and whitespace-only text has no tokens', () => {
    expect(nltkWordTokens('')).toEqual([]);
    expect(nltkWordTokens(' \n\t ')).toEqual([]);
  });
});
