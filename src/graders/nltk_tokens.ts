/**
 * NLTK's `word_tokenize`, as the NLTK-based text metrics (`nltk_bleu`, `gleu`, `meteor`) see text.
 *
 * The numbers these graders reproduce are those of Microsoft's Azure AI evaluation evaluators
 * (`BleuScoreEvaluator`, `GleuScoreEvaluator`, `MeteorScoreEvaluator`), which tokenise each text on its
 * own with this rule: an all-ASCII text goes through NLTK's `word_tokenize` (Punkt sentence splitting,
 * then NLTK's improved Treebank word tokeniser on each sentence); a text holding any non-ASCII
 * character goes through NLTK's `NISTTokenizer.international_tokenize`. {@link nltkWordTokens}
 * follows the same switch.
 *
 * ASCII text ({@link treebankTokens} on each of {@link punktSentences}'s sentences), the rules:
 * - quotes: a `"` that opens the sentence or follows a space or `( [ { <` becomes ` `` `, every other `"`
 *   becomes `''`; backticks are split off; `'` before a word is split off unless it starts a clitic
 *   (`'re 've 'll 'm 't 's 'd 'n`);
 * - `,` and `:` are split off unless a digit follows (`3,36` and `10:30` stay whole); `; @ # $ % & * ? !`,
 *   brackets `( ) [ ] { } < >`, `--` and runs of two or more periods are split off;
 * - a period is split off only at the end of a sentence (before closing quotes/brackets): `3.88` and
 *   `U.S.` inside a sentence stay whole;
 * - clitics are split: `don't` → `do n't`, `I'm` → `I 'm`, `they'll` → `they 'll`, `cannot` → `can not`,
 *   `gonna` → `gon na`, `gimme`, `gotta`, `lemme`, `wanna`, `'tis`, `'twas` likewise.
 * - sentences (Punkt, approximated): `?` and `!` end a sentence; a word ending in one `.` followed by
 *   whitespace and more text (or by a closing quote/bracket) ends a sentence, except a known
 *   abbreviation ({@link ABBREVIATIONS}: `Mr.`, `Dr.`, `e.g.`, `U.S.` …), a single letter (an initial,
 *   `J.`), and a number followed by a lower-case word (`page 3. then`); closing quotes and brackets
 *   after the period stay in the sentence. NLTK's Punkt model decides some of these cases from
 *   statistics learned on a corpus (its own abbreviation list, collocations, frequent sentence
 *   starters), which are not shipped here: on those rare cases the token split of a period can differ.
 *
 * Non-ASCII text ({@link nistInternationalTokens}): every maximal run of ASCII characters is split
 * from the non-ASCII ones around it, then punctuation next to a digit and every symbol (Unicode
 * categories P, N, S) are split off, then the text is split on whitespace (`&lt; &gt; &amp; &apos;
 * &quot;` are unescaped first, as NIST does).
 *
 * Every function here is linear in its input (no backtracking pattern on attacker-controlled runs).
 */

/** Python's `str.isspace()` for one UTF-16 code unit (every whitespace character is one unit). */
function isPySpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x1c && c <= 0x20) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python's `str.split()` with no argument. */
function pySplit(text: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    if (isPySpace(text.charCodeAt(i))) {
      if (start >= 0) out.push(text.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(text.slice(start));
  return out;
}

/** Python's `str.rstrip()` length. */
function rstripLength(text: string): number {
  let end = text.length;
  while (end > 0 && isPySpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/**
 * Abbreviations that do not end a sentence (lower case, without the final period). NLTK's English
 * Punkt model holds a list learned from newspaper text; this one is rewardkit's own, of common English
 * abbreviations.
 */
export const ABBREVIATIONS: ReadonlySet<string> = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'rev', 'gen', 'gov', 'sen', 'rep', 'capt', 'col', 'lt', 'sgt', 'maj',
  'inc', 'corp', 'co', 'ltd', 'bros', 'dept', 'univ', 'assn',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun',
  'e.g', 'i.e', 'etc', 'vs', 'cf', 'al', 'approx', 'fig', 'figs', 'vol', 'pp', 'ed', 'eds', 'est',
  'a.m', 'p.m', 'u.s', 'u.k', 'u.n', 'u.s.a', 'calif', 'mass', 'conn', 'ariz', 'colo', 'fla', 'ill', 'mich', 'minn', 'penn', 'tenn', 'wash', 'wis',
]);

/** Characters that end a Punkt word and are tokens of their own (its `NonWord`, plus `?` `!`). */
const PUNKT_NON_WORD = new Set([')', '"', ';', '}', ']', '*', ':', '@', "'", '(', '{', '[', '!', '?']);
/** Characters a Punkt word cannot start with (each is then a token of its own). */
const PUNKT_NOT_WORD_START = new Set(['(', '"', '`', '{', '[', ':', ';', '&', '#', '*', '@', ')', '}', ']', '-', ',']);
/** Punkt's `re_boundary_realignment`: closing quotes/brackets opening the next sentence move back to the one before. */
const REALIGN = /^["')\]}]+?(?:[\t-\r\x1c-\x20]+|(?=--)|$)/m;
const PUNKT_NUMBER = /^-?[.,]?\d[\d,.-]*\.?$/;
const INITIAL = /^[A-Za-z_]$/;

/** The Punkt token that ends at the period at `i` (`word` is the whitespace-delimited text before it). */
function punktTokenBefore(word: string): string {
  let start = 0;
  for (let k = word.length - 1; k >= 0; k--) {
    if (PUNKT_NON_WORD.has(word[k]!)) {
      start = k + 1;
      break;
    }
  }
  const dash = word.lastIndexOf('--');
  if (dash >= 0 && dash + 2 > start) start = dash + 2;
  while (start < word.length && PUNKT_NOT_WORD_START.has(word[start]!)) start++;
  return word.slice(start);
}

/** Does the period at `i` end a sentence? `next` is the first character of the text that follows it. */
function periodEndsSentence(text: string, i: number, wordStart: number, next: string): boolean {
  // A run of two or more periods is an ellipsis: Punkt does not break there by type alone.
  if (i > 0 && text[i - 1] === '.') return false;
  const tok = punktTokenBefore(text.slice(wordStart, i));
  if (tok === '') return true; // a lone '.', e.g. after ')'
  const typ = tok.toLowerCase();
  if (ABBREVIATIONS.has(typ) || ABBREVIATIONS.has(typ.slice(typ.lastIndexOf('-') + 1))) return false;
  if (INITIAL.test(tok)) return false;
  if (PUNKT_NUMBER.test(`${tok}.`)) {
    // Punkt's orthographic heuristic: a number followed by a lower-case word or punctuation continues the sentence.
    return !(/^[a-z]/.test(next) || ';:,.!?'.includes(next));
  }
  return true;
}

/**
 * The sentences of an ASCII `text` as NLTK's English Punkt tokenizer would split them (approximated:
 * see the module doc). Slices of `text`; the last one without trailing whitespace.
 */
export function punktSentences(text: string): string[] {
  const n = text.length;
  // Potential ends: . ? ! followed by Punkt's non-word punctuation, or by whitespace and a token.
  const marks: Array<{ at: number; next: number; wordStart: number }> = [];
  let wordStart = 0; // start of the whitespace-delimited word holding position i
  for (let i = 0; i < n; i++) {
    const ch = text[i]!;
    if (isPySpace(text.charCodeAt(i))) {
      wordStart = i + 1;
      continue;
    }
    if (ch !== '.' && ch !== '?' && ch !== '!') continue;
    if (i + 1 >= n) continue;
    const after = text[i + 1]!;
    if (PUNKT_NON_WORD.has(after)) {
      marks.push({ at: i, next: -1, wordStart });
    } else if (isPySpace(text.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < n && isPySpace(text.charCodeAt(j))) j++;
      if (j < n) marks.push({ at: i, next: j, wordStart });
    }
  }
  const slices: Array<[number, number]> = [];
  let lastBreak = 0;
  for (let k = 0; k < marks.length; k++) {
    const m = marks[k]!;
    // Punkt keeps only the last of several potential ends with no whitespace between them.
    const following = marks[k + 1];
    if (following !== undefined && m.next < 0 && following.wordStart <= m.at) continue;
    const nextChar = m.next >= 0 ? text[m.next]! : text[m.at + 1]!;
    const brk = text[m.at] === '.' ? periodEndsSentence(text, m.at, m.wordStart, nextChar) : true;
    if (brk) {
      slices.push([lastBreak, m.at + 1]);
      lastBreak = m.next >= 0 ? m.next : m.at + 1;
    }
  }
  slices.push([lastBreak, rstripLength(text)]);
  // Realign closing punctuation that opens a sentence onto the sentence before.
  const out: string[] = [];
  let realign = 0;
  for (let k = 0; k < slices.length; k++) {
    const [s1, e1] = slices[k]!;
    const start = s1 + realign;
    const nxt = slices[k + 1];
    if (nxt === undefined) {
      if (e1 > start) out.push(text.slice(start, e1));
      break;
    }
    const m = REALIGN.exec(text.slice(nxt[0], nxt[1]));
    if (m) {
      out.push(text.slice(start, nxt[0] + m[0].replace(/[\t-\r\x1c-\x20]+$/, '').length));
      realign = m[0].length;
    } else {
      realign = 0;
      if (e1 > start) out.push(text.slice(start, e1));
    }
  }
  return out;
}

/** Characters that may follow the sentence-final period (NLTK's closing quotes and brackets, and the space). */
const FINAL_PERIOD_CLOSERS = new Set([']', ')', '}', '>', '"', "'", '\u00bb', '\u201d', '\u2019', ' ']);

/**
 * Splits off the sentence-final period: the one followed only by closing quotes/brackets and then
 * whitespace, not preceded by another period. Done by a scan from the end (the equivalent pattern
 * backtracks quadratically on a long run of spaces).
 */
function splitFinalPeriod(text: string): string {
  let j = text.length;
  while (j > 0 && isPySpace(text.charCodeAt(j - 1))) j--;
  while (j > 0 && FINAL_PERIOD_CLOSERS.has(text[j - 1]!)) j--;
  const p = j - 1;
  if (p < 1 || text[p] !== '.' || text[p - 1] === '.') return text;
  return `${text.slice(0, p)} . ${text.slice(p + 1)} `;
}

/** [pattern, replacement] pairs applied in order, as NLTK's `NLTKWordTokenizer` does. */
type Rule = [RegExp, string];
const STARTING_QUOTES: Rule[] = [
  [/([«“‘„]|`+)/g, ' $1 '],
  [/^"/, '``'],
  [/(``)/g, ' $1 '],
  [/([ ([{<])("|'')/g, '$1 `` '],
  [/(')(?!re|ve|ll|m|t|s|d|n)(\w)\b/gi, '$1 $2'],
];
const PUNCTUATION_BEFORE: Rule[] = [
  [/([:,])([^\d])/g, ' $1 $2'],
  [/([:,])(?=\n?$)/, ' $1 '],
  [/\.{2,}/g, ' $& '],
  [/[;@#$%&]/g, ' $& '],
];
const PUNCTUATION_AFTER: Rule[] = [
  [/[?!]/g, ' $& '],
  [/([^'])' /g, "$1 ' "],
  [/\*/g, ' $& '],
  [/[\][(){}<>]/g, ' $& '],
  [/--/g, ' -- '],
];
const ENDING_QUOTES: Rule[] = [
  [/([»”’])/g, ' $1 '],
  [/''/g, " '' "],
  [/"/g, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /g, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /g, '$1 $2 '],
];
const CONTRACTIONS: Rule[] = [
  [/\b(can)(not)\b/gi, ' $1 $2 '],
  [/\b(d)('ye)\b/gi, ' $1 $2 '],
  [/\b(gim)(me)\b/gi, ' $1 $2 '],
  [/\b(gon)(na)\b/gi, ' $1 $2 '],
  [/\b(got)(ta)\b/gi, ' $1 $2 '],
  [/\b(lem)(me)\b/gi, ' $1 $2 '],
  [/\b(more)('n)\b/gi, ' $1 $2 '],
  [/\b(wan)(na)(?=\s)/gi, ' $1 $2 '],
  [/ ('t)(is)\b/gi, ' $1 $2 '],
  [/ ('t)(was)\b/gi, ' $1 $2 '],
];

function applyRules(text: string, rules: readonly Rule[]): string {
  let t = text;
  for (const [re, sub] of rules) t = t.replace(re, sub);
  return t;
}

/**
 * NLTK's `NLTKWordTokenizer.tokenize` (the improved Treebank tokenizer `word_tokenize` uses) on one
 * sentence of ASCII text. The rules are listed in the module doc.
 *
 * @example
 * treebankTokens("They'll pay $3.88 (roughly), don't you think?") // → ['They', "'ll", 'pay', '$', '3.88', '(', 'roughly', ')', ',', 'do', "n't", 'you', 'think', '?']
 */
export function treebankTokens(sentence: string): string[] {
  let t = applyRules(sentence, STARTING_QUOTES);
  // NLTK's PUNCTUATION list opens with the final period; its second final-period rule changes no token after the first.
  t = applyRules(splitFinalPeriod(t), PUNCTUATION_BEFORE);
  t = applyRules(t, PUNCTUATION_AFTER);
  t = applyRules(` ${t} `, ENDING_QUOTES);
  t = applyRules(t, CONTRACTIONS);
  return pySplit(t);
}

/** `xml.sax.saxutils.unescape` with NLTK's extra entities, as the NIST tokenizer applies it. */
function xmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&apos;', "'")
    .replaceAll('&quot;', '"')
    .replaceAll('&#124;', '|')
    .replaceAll('&#91;', '[')
    .replaceAll('&#93;', ']')
    .replaceAll('&amp;', '&');
}

/**
 * NLTK's `NISTTokenizer().international_tokenize(text)` (no lower-casing): ASCII runs are split from
 * non-ASCII characters, punctuation next to a digit and every symbol are split off.
 *
 * @example
 * nistInternationalTokens('café, 3.5€') // → ['caf', 'é', ',', '3', '.', '5', '€']
 */
export function nistInternationalTokens(text: string): string[] {
  let t = xmlUnescape(text.replaceAll('<skipped>', '').replaceAll('\u2028', ' '));
  t = t.replace(/([\x00-\x7f]+)/g, ' $1 ');
  t = t.replace(/(\p{N})(\p{P})/gu, '$1 $2 ');
  t = t.replace(/(\p{P})(\p{N})/gu, ' $1 $2');
  t = t.replace(/(\p{S})/gu, ' $1 ');
  return pySplit(t);
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The tokens of `text` as the Azure AI evaluation `nltk_tokenize` gives them: NLTK `word_tokenize`
 * (Punkt sentences, then {@link treebankTokens}) for an all-ASCII text, NIST's international
 * tokenizer otherwise. Case is kept.
 *
 * @example
 * nltkWordTokens('Good muffins cost $3.88 in New York. Please buy me two of them.')
 * // → ['Good', 'muffins', 'cost', '$', '3.88', 'in', 'New', 'York', '.', 'Please', 'buy', 'me', 'two', 'of', 'them', '.']
 */
export function nltkWordTokens(text: string): string[] {
  if (NON_ASCII.test(text)) return nistInternationalTokens(text);
  const out: string[] = [];
  for (const s of punktSentences(text)) for (const tok of treebankTokens(s)) out.push(tok);
  return out;
}

/** Tokenisers the NLTK-based metrics offer: `nltk` ({@link nltkWordTokens}) or `whitespace` (Python's `str.split()`). */
export type NltkTokenizer = 'nltk' | 'whitespace';

export function nltkTokens(text: string, tokenizer: NltkTokenizer): string[] {
  return tokenizer === 'nltk' ? nltkWordTokens(text) : pySplit(text);
}
