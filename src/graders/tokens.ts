/**
 * Tokenisation and n-gram counting for the text-similarity graders (`bleu`, `chrf`, `rouge_l`,
 * `edit_distance`, `ngram_jaccard`) and the diversity grader (`distinct_n`).
 *
 * Every tokeniser here is linear in its input and deterministic (no locale or ICU data involved), so a
 * reward computed today is the same next year. Characters are Unicode code points, never UTF-16 code
 * units: an emoji is one character, as it is for Python's `str`, which sacrebleu and rouge-score use.
 */

/** Whitespace as Python's `str.isspace()` sees it (sacrebleu splits with `str.split()`); unlike JS `\s` it includes U+001C–U+001F and U+0085 and excludes U+FEFF. */
const PY_WHITESPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
/** One whitespace code unit (every character of the set is one UTF-16 code unit). */
const PY_WHITESPACE_CHAR = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Splits on runs of whitespace and drops empty pieces, exactly as Python's `str.split()` with no argument. */
export function splitWhitespace(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

/** Python's `str.rstrip()` with no argument. */
export function rstripWhitespace(text: string): string {
  // A loop from the end, not `/[…]+$/`: the regex retries at every start of a whitespace run, O(n²)
  // on a long run followed by a non-space (100 KB of spaces held BLEU for 15 s).
  let end = text.length;
  while (end > 0 && PY_WHITESPACE_CHAR.test(text[end - 1]!)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Removes all whitespace (Python's `''.join(s.split())`), as chrF does before counting character n-grams. */
export function removeWhitespace(text: string): string {
  return splitWhitespace(text).join('');
}

/** The code points of `text`, in order (an emoji or a CJK character is one element). */
export function chars(text: string): string[] {
  return Array.from(text);
}

function isSurrogatePair(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return false;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

/** Number of code points in `text`, without building an array. */
export function charLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += isSurrogatePair(text, i) ? 2 : 1) n++;
  return n;
}

/** The first `max` code points of `text` (the whole text when shorter); never splits a surrogate pair. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let i = 0;
  for (let n = 0; n < max && i < text.length; n++) i += isSurrogatePair(text, i) ? 2 : 1;
  return text.slice(0, i);
}

// The 13a rules: ASCII punctuation and symbols except apostrophe, hyphen, period and comma become
// tokens; a period or comma is split off unless it sits between digits; a hyphen after a digit is split off.
// (mteval's class also pads the space itself, which changes no token; leaving it out saves most of the work.)
const T13A_SYMBOLS = /([{-~[-`!-&(-+:-@/])/g;
const T13A_PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/gu;
const T13A_PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/gu;
const T13A_DASH_AFTER_DIGIT = /([0-9])(-)/g;

/**
 * The `13a` tokeniser of mteval-v13a.pl as sacrebleu implements it (its default BLEU tokeniser):
 * drops `<skipped>`, joins `-\n` hyphenations, turns newlines into spaces, unescapes `&quot; &amp; &lt; &gt;`,
 * then applies the 13a punctuation rules and splits on whitespace. Non-ASCII text is left as is
 * (CJK is not segmented, as in sacrebleu's `13a`).
 *
 * @example
 * tokenize13a('Hello, world! 3.14 and 1-2.') // → ['Hello', ',', 'world', '!', '3.14', 'and', '1', '-', '2', '.']
 */
export function tokenize13a(text: string): string[] {
  let line = text.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  line = ` ${line} `
    .replace(T13A_SYMBOLS, ' $1 ')
    .replace(T13A_PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(T13A_PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(T13A_DASH_AFTER_DIGIT, '$1 $2 ');
  return splitWhitespace(line);
}

// One emoji with its modifiers, variation selectors and ZWJ-joined parts; or a flag (two regional indicators).
const EMOJI = String.raw`\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]*(?:\u200D\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]*)*|\p{Regional_Indicator}{2}`;
const CJK = String.raw`[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]`;
const WORD_CHAR = String.raw`(?:(?!${CJK})[\p{L}\p{M}\p{N}_])`;
const WORD_TOKEN = new RegExp(`${EMOJI}|${CJK}|${WORD_CHAR}+|\\S`, 'gu');
const HAS_ALNUM = /[\p{L}\p{N}]/u;

/**
 * rewardkit's word tokeniser (the project's own rule, used by `ngram_jaccard`, `distinct_n`,
 * `edit_distance` with `unit: tokens` and `rouge_l` with `tokenizer: unicode`). In the spirit of
 * NLTK's `wordpunct_tokenize`, Unicode-aware:
 * - a run of letters, marks, digits and `_` is one token (any script written with spaces: Latin,
 *   Cyrillic, Greek, Arabic, Hangul …);
 * - each Han, Hiragana or Katakana character is one token (those scripts do not separate words);
 * - an emoji (with its skin-tone modifiers, ZWJ sequence or flag pair) is one token;
 * - every other non-space character (punctuation, symbols) is a token of its own.
 * Scripts without spaces other than CJK (Thai, Lao, Khmer …) give one token per space-separated run.
 *
 * @example
 * wordTokens("Don't panic: 北京 👍🏽!") // → ['Don', "'", 't', 'panic', ':', '北', '京', '👍🏽', '!']
 */
export function wordTokens(text: string): string[] {
  return text.match(WORD_TOKEN) ?? [];
}

/**
 * Tokens as google-research's rouge-score makes them (without its optional Porter stemmer):
 * lower-case, every run of characters outside `[a-z0-9]` becomes a space, split. Non-ASCII letters
 * (accents, CJK, Cyrillic …) are therefore dropped, as in rouge-score.
 *
 * @example
 * rougeScoreTokens('The Quick-brown fox, naïve!') // → ['the', 'quick', 'brown', 'fox', 'na', 've']
 */
export function rougeScoreTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

/**
 * Unicode counterpart of {@link rougeScoreTokens}: lower-case, {@link wordTokens}, then drop tokens
 * without a letter or digit (punctuation, emoji), so CJK and accented text are scored.
 */
export function unicodeWordTokens(text: string): string[] {
  return wordTokens(text.toLowerCase()).filter((t) => HAS_ALNUM.test(t));
}

/** What n-gram graders count: {@link wordTokens} tokens, or code points (whitespace included). */
export function units(text: string, unit: 'tokens' | 'chars'): string[] {
  return unit === 'chars' ? chars(text) : wordTokens(text);
}

/**
 * Key of the n-gram `tokens[i..i+n)`. Tokens are joined by a space: unambiguous because every word
 * tokeniser here yields tokens without whitespace, and character n-grams have a fixed number of
 * code points.
 */
function ngramKey(tokens: readonly string[], i: number, n: number): string {
  let key = tokens[i]!;
  for (let k = 1; k < n; k++) key += ' ' + tokens[i + k]!;
  return key;
}

/** Counts of the n-grams of order `n` in `tokens` (empty when there are fewer than `n` tokens). */
export function countNgrams(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = ngramKey(tokens, i, n);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The set of distinct n-grams of order `n` in `tokens`. */
export function ngramSet(tokens: readonly string[], n: number): Set<string> {
  const set = new Set<string>();
  for (let i = 0; i + n <= tokens.length; i++) set.add(ngramKey(tokens, i, n));
  return set;
}

/**
 * Reference n-gram counts of orders 1..maxOrder as a trie (one node per distinct n-gram, keyed token
 * by token), for clipped matching against a hypothesis of any length without building n-gram strings.
 */
export class NgramTrie {
  readonly children = new Map<string, NgramTrie>();
  /** How often the n-gram ending at this node occurs (the root counts nothing). */
  count = 0;

  /** @param order the n-gram order this node stands for (0 for the root). */
  constructor(readonly order = 0) {}

  private child(token: string): NgramTrie {
    let c = this.children.get(token);
    if (!c) this.children.set(token, (c = new NgramTrie(this.order + 1)));
    return c;
  }

  /** The trie of all n-grams of orders 1..maxOrder in `tokens`. */
  static of(tokens: readonly string[], maxOrder: number): NgramTrie {
    const root = new NgramTrie();
    for (let i = 0; i < tokens.length; i++) {
      let node = root;
      for (let k = 0; k < maxOrder && i + k < tokens.length; k++) {
        node = node.child(tokens[i + k]!);
        node.count++;
      }
    }
    return root;
  }

  /** Raises every count to at least `other`'s (sacrebleu's multi-reference rule: max count over references). */
  mergeMax(other: NgramTrie): this {
    for (const [t, o] of other.children) {
      const c = this.child(t);
      c.count = Math.max(c.count, o.count);
      c.mergeMax(o);
    }
    return this;
  }

  /**
   * Clipped matches of `hyp` for orders 1..maxOrder: `matches[k]` = Σ over hypothesis n-grams of order
   * k+1 of min(hypothesis count, count here). Linear in the hypothesis: the walk from each position
   * stops at the first n-gram this trie does not hold (no longer n-gram from there can be in it).
   */
  clippedMatches(hyp: readonly string[], maxOrder: number): number[] {
    const seen = new Map<NgramTrie, number>();
    for (let i = 0; i < hyp.length; i++) {
      let node: NgramTrie | undefined = this;
      for (let k = 0; k < maxOrder && i + k < hyp.length; k++) {
        node = node.children.get(hyp[i + k]!);
        if (!node) break;
        seen.set(node, (seen.get(node) ?? 0) + 1);
      }
    }
    const matches = new Array<number>(maxOrder).fill(0);
    for (const [node, c] of seen) matches[node.order - 1]! += Math.min(c, node.count);
    return matches;
  }
}
