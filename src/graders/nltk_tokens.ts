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
 * - sentences (NLTK's Punkt algorithm, `punktSentences`): `?` and `!` end a sentence; a word ending in
 *   one `.` followed by whitespace and more text (or by a closing quote/bracket) ends a sentence,
 *   except a known abbreviation ({@link ABBREVIATIONS}: `Mr.`, `Dr.`, `e.g.`, `U.S.` …), an initial
 *   (`J.`) followed by a letter or by `; : , . ! ?`, and a number (`3.`) followed by a lower-case word
 *   or by `; : , . ! ?`; a run of periods is an ellipsis (no break); closing quotes and brackets after
 *   the period stay in the sentence. This is Punkt's algorithm exactly (checked against NLTK's
 *   `PunktSentenceTokenizer`), but with rewardkit's abbreviation list and without the statistics
 *   NLTK's English model learned from newspaper text (its abbreviation list, collocations, frequent
 *   sentence starters, capitalisation counts), which are not shipped here: where those decide (an
 *   abbreviation missing from one list, an abbreviation or initial before a capitalised word), the
 *   split of a period can differ.
 *
 * Non-ASCII text ({@link nistInternationalTokens}): every maximal run of ASCII characters is split
 * from the non-ASCII ones around it, then punctuation next to a digit and every symbol (Unicode
 * categories P, N, S) are split off, then the text is split on whitespace (`&lt; &gt; &amp; &apos;
 * &quot;` are unescaped first, as NIST does).
 *
 * Every function here is linear in its input (no backtracking pattern on attacker-controlled runs).
 */
import * as z from 'zod';
import { normalizeText, referenceTexts, type NormalizeOptions } from './normalize.js';

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
 * Punkt model holds a list learned from newspaper text; this one is rewardkit's own list of common
 * English abbreviations (titles, company suffixes, months, days, Latin and bibliographic ones,
 * `a.m.`/`p.m.`, `U.S.`, state abbreviations), leaving out those that are also common words ending a
 * sentence (`sat`, `sun`, `mar`, `wed`, `ill`, `mass`, `wash`, `no` …).
 */
export const ABBREVIATIONS: ReadonlySet<string> = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'rev', 'gen', 'gov', 'sen', 'rep', 'capt', 'col', 'lt', 'sgt', 'maj',
  'inc', 'corp', 'co', 'ltd', 'bros', 'dept', 'univ', 'assn',
  'jan', 'feb', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'tue', 'thu',
  'e.g', 'i.e', 'etc', 'vs', 'cf', 'al', 'approx', 'fig', 'figs', 'vol', 'pp',
  'a.m', 'p.m', 'u.s', 'u.k', 'u.n', 'u.s.a', 'calif', 'conn', 'ariz', 'colo', 'fla', 'mich', 'minn', 'tenn',
]);

/** Punkt's `NonWord` characters: punctuation that ends a word and is a token of its own (`?` `!` included). */
const NON_WORD = `)";}\\]*:@'({[!?`;
const WS = '\\t-\\r\\x1c-\\x20';
const MULTI_CHAR = `-{2,}|\\.{2,}|(?:\\.[${WS}]){2,}\\.`;
/** Punkt's word tokenizer (`PunktLanguageVars.word_tokenize`): periods stay on their word. */
const PUNKT_WORD = new RegExp(
  `(?:${MULTI_CHAR})|(?=[^("\`{[:;&#*@)}\\]\\-,])[^${WS}]+?(?=[${WS}]|$|[${NON_WORD}]|${MULTI_CHAR}|,(?=$|[${WS}]|[${NON_WORD}]|${MULTI_CHAR}))|[^${WS}]`,
  'g',
);
/** A potential sentence end: `.` `?` `!` followed by non-word punctuation, or by whitespace and a token. */
const PERIOD_CONTEXT = new RegExp(`[.?!](?=([${NON_WORD}])|[${WS}]+([^${WS}]+))`, 'gd');
/** Punkt's `re_boundary_realignment`: closing quotes/brackets opening the next sentence move back to the one before. */
const REALIGN = new RegExp(`^["')\\]}]+?(?:[${WS}]+|(?=--)|$)`, 'm');
const PUNKT_NUMBER = /^-?[.,]?\d[\d,.-]*\.?$/;
/** Python's `string.whitespace`, which Punkt uses to find the word before a potential end. */
const ASCII_WS = new Set([' ', '\t', '\n', '\r', '\x0b', '\x0c']);

interface PunktTok {
  tok: string;
  sentbreak: boolean;
  abbr: boolean;
  ellipsis: boolean;
}

/**
 * Punkt's decision for one context (the word before a potential end, the end, what follows): does a
 * token marked as a sentence break have a token after it? First pass: `.` `?` `!` break; a run of
 * periods is an ellipsis; a word ending in `.` breaks unless it is an abbreviation. Second pass,
 * with no orthographic statistics (an untrained Punkt model): an initial (`J.`) or a number (`3.`)
 * followed by a lower-case word or by `; : , . ! ?` does not break, nor an initial followed by a
 * capitalised word.
 */
function contextHasBreak(context: string, abbreviations: ReadonlySet<string>): boolean {
  const toks: PunktTok[] = (context.match(PUNKT_WORD) ?? []).map((tok) => ({ tok, sentbreak: false, abbr: false, ellipsis: false }));
  for (const t of toks) {
    const tok = t.tok;
    if (tok === '.' || tok === '?' || tok === '!') t.sentbreak = true;
    else if (/^\.\.+$/.test(tok)) t.ellipsis = true;
    else if (tok.endsWith('.') && !tok.endsWith('..')) {
      const typ = tok.slice(0, -1).toLowerCase();
      if (abbreviations.has(typ) || abbreviations.has(typ.slice(typ.lastIndexOf('-') + 1))) t.abbr = true;
      else t.sentbreak = true;
    }
  }
  for (let k = 0; k + 1 < toks.length; k++) {
    const t = toks[k]!;
    if (!t.tok.endsWith('.')) continue;
    const next = toks[k + 1]!.tok;
    const initial = /^[A-Za-z_]\.$/.test(t.tok);
    const number = PUNKT_NUMBER.test(t.tok.toLowerCase());
    if (!initial && !number) continue;
    // The orthographic heuristic without statistics: punctuation or a lower-case word never starts a sentence.
    const notStarter = ';:,.!?'.includes(next) && next.length === 1 ? true : /^[a-z]/.test(next);
    const upper = /^[A-Z]/.test(next);
    if (notStarter || (initial && upper)) {
      t.sentbreak = false;
      t.abbr = true;
    }
  }
  let found = false;
  for (const t of toks) {
    if (found) return true;
    if (t.sentbreak) found = true;
  }
  return false;
}

/**
 * The sentences of an ASCII `text` as NLTK's Punkt sentence tokenizer splits them, with
 * `abbreviations` (default {@link ABBREVIATIONS}: lower-cased, without the final period) as its
 * abbreviation list and no orthographic statistics (see the module doc). Slices of `text`; the
 * last one without trailing whitespace; closing quotes/brackets after a break stay with the sentence
 * before.
 */
export function punktSentences(text: string, abbreviations: ReadonlySet<string> = ABBREVIATIONS): string[] {
  // Potential ends with their contexts (Punkt's `_match_potential_end_contexts`): of several with no
  // whitespace between them, only the last counts.
  const ends: Array<{ end: number; nextTok: number; context: string }> = [];
  let prevStart = 0;
  let prevStop = 0;
  let prev: { at: number; after: string; nextTok: number } | null = null;
  const flush = () => {
    if (prev) ends.push({ end: prev.at + 1, nextTok: prev.nextTok, context: text.slice(prevStart, prevStop) + text[prev.at]! + prev.after });
  };
  PERIOD_CONTEXT.lastIndex = 0;
  for (let m = PERIOD_CONTEXT.exec(text); m !== null; m = PERIOD_CONTEXT.exec(text)) {
    const at = m.index;
    let ws = -1;
    for (let k = at - 1; k > prevStop; k--) {
      if (ASCII_WS.has(text[k]!)) {
        ws = k;
        break;
      }
    }
    // Punkt's `_get_last_whitespace_index` answers 0 both for "none" and for "at the first character".
    const start = ws > prevStop ? ws + 1 : prevStart;
    if (prev && prevStop <= start) flush();
    // after_tok: the punctuation mark, or the whitespace and the next token (`d` flag: group offsets).
    const nextTok = m[1] !== undefined ? -1 : m.indices![2]![0];
    const after = m[1] ?? text.slice(at + 1, m.indices![2]![1]);
    prev = { at, after, nextTok };
    prevStart = start;
    prevStop = at;
  }
  flush();
  const slices: Array<[number, number]> = [];
  let lastBreak = 0;
  for (const e of ends) {
    if (!contextHasBreak(e.context, abbreviations)) continue;
    slices.push([lastBreak, e.end]);
    lastBreak = e.nextTok >= 0 ? e.nextTok : e.end;
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

/**
 * [pattern, replacement, guard?] applied in order, as NLTK's `NLTKWordTokenizer` does; a rule with a
 * guard runs only when the guard matches the text (a cheap test that skips rules that cannot match).
 */
type Rule = [RegExp, string, RegExp?];
const APOSTROPHE = /'/;
const STARTING_QUOTES: Rule[] = [
  [/([«“‘„]|`+)/g, ' $1 '],
  [/^"/, '``'],
  [/(``)/g, ' $1 '],
  [/([ ([{<])("|'')/g, '$1 `` '],
  [/(')(?!re|ve|ll|m|t|s|d|n)(\w)\b/gi, '$1 $2', APOSTROPHE],
];
const PUNCTUATION_BEFORE: Rule[] = [
  [/([:,])([^\d])/g, ' $1 $2', /[:,]/],
  [/([:,])(?=\n?$)/, ' $1 ', /[:,]/],
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
  [/([^' ])('[sS]|'[mM]|'[dD]|') /g, '$1 $2 ', APOSTROPHE],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /g, '$1 $2 ', APOSTROPHE],
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
  for (const [re, sub, guard] of rules) if (guard === undefined || guard.test(t)) t = t.replace(re, sub);
  return t;
}

/** Some word a contraction rule splits occurs in the text (else none of those rules can match). */
const CONTRACTION_GUARD = /can|d'ye|gim|gon|got|lem|more'n|wan|'t/i;

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
  if (CONTRACTION_GUARD.test(t)) t = applyRules(t, CONTRACTIONS);
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

/** `text` split by `tokenizer`. */
export function nltkTokens(text: string, tokenizer: NltkTokenizer): string[] {
  return tokenizer === 'nltk' ? nltkWordTokens(text) : pySplit(text);
}

/** The `tokenizer` param the NLTK-based metrics share. */
export const nltkTokenizerParam = z
  .enum(['nltk', 'whitespace'])
  .default('nltk')
  .describe("`nltk` (default): NLTK word_tokenize for ASCII text, NIST's international tokenizer otherwise, as Azure AI evaluation; `whitespace`: split on whitespace (pre-tokenised text).");

/**
 * The token lists of a rollout's reference(s) (a string or a list of strings) after `normalize`, empty
 * ones dropped: `null` when there is no reference, `'empty'` when no reference has a token — both make
 * the NLTK-based metrics null (cannot judge), never 0.
 */
export function referenceTokenLists(reference: unknown, norm: NormalizeOptions, tokenizer: NltkTokenizer): string[][] | null | 'empty' {
  const texts = referenceTexts(reference);
  if (texts === null) return null;
  const refs = texts.map((r) => nltkTokens(normalizeText(r, norm), tokenizer)).filter((r) => r.length > 0);
  return refs.length === 0 ? 'empty' : refs;
}
