/**
 * Finding the final numeric answer in model output, for the `numeric` grader.
 *
 * A *number token* is, in this module's grammar:
 * - an optional sign (`-`, `+`, U+2212 `−`; only where it cannot be a hyphen, i.e. not right after a
 *   letter, digit or closing bracket) and an optional currency sign (`$`, `\$`, `€`, `£`, `¥`, `₹`);
 * - digits with optional thousands groups (`1,000`, `1 000` with a space, NBSP or thin space,
 *   LaTeX `1{,}000`, `1\,000`, `1,\!000`; one separator kind per number, groups of exactly three
 *   digits after a lead of one to three) and an optional decimal part (`.5`, `3.25`);
 * - or a fraction: `3/4`, `\frac{3}{4}`, `\dfrac`, `\tfrac`, `\cfrac`, `\frac34`, a LaTeX mixed
 *   number `2\frac{1}{2}` (= 2.5);
 * - optional scientific notation: `1.5e-3`, `1.5 \times 10^{-3}`, `1.5×10^3`, `1.5 \cdot 10^{3}`;
 * - an optional percent sign after it (`%`, `\%`, the word `percent`), reported separately so the
 *   caller decides whether 50% means 50 or 0.5.
 * - a decimal comma, as Math-Verify reads numbers (its tests/test_all.py `test_number_extraction`):
 *   a comma (or LaTeX `{,}`) that is not a thousands separator — not followed by exactly three
 *   digits, or after a lead of four or more digits or a lead `0` — is a decimal point: `1,22` = 1.22,
 *   `1000,99` = 1000.99, `0,111` = 0.111, while `1,000` = 1000 and `7,425,000` = 7425000. Unlike
 *   Math-Verify, `1,2,3` is a list (1, 2 and 3), and space-grouped thousands may take a decimal
 *   comma (`1 000,5` = 1000.5, French style); `\ ` also separates thousands.
 * Anything after a token (units, a full stop) ends it. A token never spans a line break.
 * Not understood: `1.000,5` (dot thousands), digits other than ASCII 0–9, number words.
 */
import { boxContent, lastBoxSpan } from './boxes.js';

/** A number found in text: its source text, value, and whether a percent sign followed it. */
export interface FoundNumber {
  text: string;
  value: number;
  percent: boolean;
  /**
   * The exact value of an integer of more than 15 digits (a double rounds it: 10^29 + 1 and 10^29 are
   * the same double), so that two such integers compare exactly. Absent otherwise.
   */
  big?: bigint;
}

/** Where the final answer was taken from. */
export type ExtractMethod = 'gsm8k' | 'boxed' | 'answer_is' | 'last_number';

export interface ExtractedAnswer extends FoundNumber {
  method: ExtractMethod;
}

// The scanner reports the last token it read through these, to avoid an object per token.
let tokValue = 0;
let tokPercent = false;
let tokBig: bigint | undefined;
let decText = '';

const BACKSLASH = 92;
const SPACE_SEPARATORS = [' ', '\u00a0', '\u2009', '\u202f', '\\ '];
const COMMA_SEPARATORS = [',\\!', '{,}', '\\,', ','];
const THOUSANDS_SEPARATORS = [...COMMA_SEPARATORS, ...SPACE_SEPARATORS];
const CURRENCIES = ['\\$', '$', '€', '£', '¥', '₹'];
const FRACTION_COMMANDS = ['\\frac', '\\dfrac', '\\tfrac', '\\cfrac'];
const TIMES = ['\\times', '\\cdot', '×', '·', '*'];
/** LaTeX commands that may surround a number without changing it (checked when a whole string must be one number). */
const NEUTRAL_COMMANDS = new Set([
  'text', 'textrm', 'textbf', 'textit', 'mathrm', 'mathbf', 'mbox', 'boxed', 'fbox', 'displaystyle',
  'left', 'right', 'quad', 'qquad', 'mathdollar', 'dollar', 'percent',
]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function skipBlanks(s: string, i: number, to: number): number {
  while (i < to) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

function digitsEnd(s: string, i: number, to: number): number {
  while (i < to && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/** The one of `options` that occurs at `i` (and ends by `to`), or -1. */
function matchAt(s: string, i: number, to: number, options: readonly string[]): number {
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (i + o.length <= to && s.startsWith(o, i)) return k;
  }
  return -1;
}

/** A minus sign here is a sign, not a hyphen or a subtraction, unless the previous character is a word character or closes something. */
function signAllowed(s: string, i: number): boolean {
  if (i === 0) return true;
  const p = s.charCodeAt(i - 1);
  if (isDigit(p) || isAsciiLetter(p)) return false;
  return p !== 41 /* ) */ && p !== 93 /* ] */ && p !== 125 /* } */ && p !== 95 /* _ */ && p !== 46 /* . */;
}

/**
 * Reads an unsigned decimal with optional thousands groups at `i`. Sets `decText` (digits without
 * separators) and returns its end, or -1. `groups` false reads plain digits only.
 */
function readDecimal(s: string, i: number, to: number, groups: boolean): number {
  let j = digitsEnd(s, i, to);
  const intLen = j - i;
  let text: string | null = null;
  let sep = -1;
  // A lead 0 starts no thousands group: `0,111` is 0.111 (Math-Verify's rule).
  if (groups && intLen >= 1 && intLen <= 3 && s.charCodeAt(i) !== 48) {
    for (;;) {
      const kind = sep < 0 ? matchAt(s, j, to, THOUSANDS_SEPARATORS) : s.startsWith(THOUSANDS_SEPARATORS[sep]!, j) ? sep : -1;
      if (kind < 0) break;
      const g0 = j + THOUSANDS_SEPARATORS[kind]!.length;
      const g1 = digitsEnd(s, g0, to);
      if (g1 - g0 !== 3) break;
      text = (text ?? s.slice(i, j)) + s.slice(g0, g1);
      sep = kind;
      j = g1;
    }
  }
  if (j + 1 < to && s.charCodeAt(j) === 46 && isDigit(s.charCodeAt(j + 1))) {
    const f = digitsEnd(s, j + 1, to);
    if (text !== null) text += s.slice(j, f);
    j = f;
  } else if (intLen === 0) {
    return -1;
  } else if (groups && (sep < 0 || sep >= COMMA_SEPARATORS.length)) {
    // A decimal comma (`1,22`, `1000,99`, `3{,}5`, French `1 000,5`): a comma not read as a thousands
    // separator above, followed by digits, and not the first item of a list (`1,2,3`).
    const c = s.charCodeAt(j) === 44 ? 1 : s.startsWith('{,}', j) ? 3 : 0;
    if (c > 0 && j + c < to && isDigit(s.charCodeAt(j + c))) {
      const f = digitsEnd(s, j + c, to);
      const list = (f + 1 < to && s.charCodeAt(f) === 44 && isDigit(s.charCodeAt(f + 1))) || (i >= 2 && s.charCodeAt(i - 1) === 44 && isDigit(s.charCodeAt(i - 2)));
      if (!list) {
        decText = (text ?? s.slice(i, j)) + '.' + s.slice(j + c, f);
        return f;
      }
    }
  }
  decText = text ?? s.slice(i, j);
  return j;
}

/** Reads a signed decimal at `i` (fraction arguments). Sets `tokValue`; returns its end or -1. */
function readSignedDecimal(s: string, i: number, to: number): number {
  let neg = false;
  const c = s.charCodeAt(i);
  if (c === 45 || c === 0x2212 || c === 43) {
    neg = c !== 43;
    i++;
  }
  const e = readDecimal(s, i, to, true);
  if (e < 0) return -1;
  tokValue = neg ? -Number(decText) : Number(decText);
  return e;
}

function readFractionArg(s: string, i: number, to: number): number {
  if (i < to && s.charCodeAt(i) === 123 /* { */) {
    const e = readSignedDecimal(s, skipBlanks(s, i + 1, to), to);
    if (e < 0) return -1;
    const k = skipBlanks(s, e, to);
    return k < to && s.charCodeAt(k) === 125 /* } */ ? k + 1 : -1;
  }
  if (i < to && isDigit(s.charCodeAt(i))) {
    tokValue = s.charCodeAt(i) - 48;
    return i + 1;
  }
  return -1;
}

/** Reads `\frac{a}{b}` (and its variants) at `i`; sets `tokValue` to a/b and returns its end, or -1. */
function readLatexFraction(s: string, i: number, to: number): number {
  const cmd = matchAt(s, i, to, FRACTION_COMMANDS);
  if (cmd < 0) return -1;
  const j = i + FRACTION_COMMANDS[cmd]!.length;
  if (j < to && isAsciiLetter(s.charCodeAt(j))) return -1;
  const a = readFractionArg(s, skipBlanks(s, j, to), to);
  if (a < 0) return -1;
  const num = tokValue;
  const b = readFractionArg(s, skipBlanks(s, a, to), to);
  if (b < 0) return -1;
  tokValue = num / tokValue;
  return b;
}

/** Reads `e-3` or ` \times 10^{-3}` at `i`; returns [end, exponent text] or null. */
function readExponent(s: string, i: number, to: number): [number, string] | null {
  const c = s.charCodeAt(i);
  if (c === 101 || c === 69) {
    let k = i + 1;
    const sc = s.charCodeAt(k);
    if (sc === 45 || sc === 43 || sc === 0x2212) k++;
    const d = digitsEnd(s, k, to);
    if (d === k || (d < to && isAsciiLetter(s.charCodeAt(d)))) return null;
    return [d, (sc === 0x2212 ? '-' : '') + s.slice(sc === 0x2212 ? k : i + 1, d)];
  }
  let k = skipBlanks(s, i, to);
  const t = matchAt(s, k, to, TIMES);
  if (t < 0) return null;
  k = skipBlanks(s, k + TIMES[t]!.length, to);
  if (!s.startsWith('10', k)) return null;
  k = skipBlanks(s, k + 2, to);
  if (s.charCodeAt(k) !== 94 /* ^ */) return null;
  k++;
  const braced = s.charCodeAt(k) === 123;
  if (braced) k = skipBlanks(s, k + 1, to);
  let sign = '';
  const sc = s.charCodeAt(k);
  if (sc === 45 || sc === 0x2212 || sc === 43) {
    sign = sc === 43 ? '' : '-';
    k++;
  }
  const d = digitsEnd(s, k, to);
  if (d === k) return null;
  let end = d;
  if (braced) {
    end = skipBlanks(s, d, to);
    if (s.charCodeAt(end) !== 125) return null;
    end++;
  }
  return [end, sign + s.slice(k, d)];
}

/** Reads `%`, `\%` or the word `percent` after a number; returns the end or -1. */
function readPercent(s: string, i: number, to: number): number {
  const k = skipBlanks(s, i, to);
  const c = s.charCodeAt(k);
  if (c === 37 || c === 0xff05) return k + 1;
  if (c === BACKSLASH && s.charCodeAt(k + 1) === 37) return k + 2;
  if ((c === 112 || c === 80) && k + 7 <= to && s.slice(k, k + 7).toLowerCase() === 'percent' && !(k + 7 < to && isAsciiLetter(s.charCodeAt(k + 7))))
    return k + 7;
  return -1;
}

/**
 * Reads one number token starting exactly at `i`. Sets `tokValue`/`tokPercent` and returns the
 * token's end, or -1 when no token starts here.
 */
function readNumber(s: string, i: number, to: number): number {
  let k = i;
  let neg = false;
  let signed = false;
  const c = s.charCodeAt(k);
  // "1.2.3": the second dot is not the start of ".3".
  if (c === 46 && i > 0 && isDigit(s.charCodeAt(i - 1))) return -1;
  if (c === 45 || c === 0x2212 || c === 43) {
    if (!signAllowed(s, i)) return -1;
    neg = c !== 43;
    signed = true;
    k++;
  }
  const cur = matchAt(s, k, to, CURRENCIES);
  if (cur >= 0) {
    k += CURRENCIES[cur]!.length;
    const c2 = s.charCodeAt(k);
    if (!signed && (c2 === 45 || c2 === 0x2212)) {
      neg = true;
      k++;
    }
  }
  let value: number;
  let end: number;
  let big: bigint | undefined;
  if (s.charCodeAt(k) === BACKSLASH) {
    end = readLatexFraction(s, k, to);
    if (end < 0) return -1;
    value = tokValue;
  } else {
    end = readDecimal(s, k, to, true);
    if (end < 0) return -1;
    const mantissa = decText;
    value = Number(mantissa);
    const isInteger = !mantissa.includes('.');
    const afterBlank = skipBlanks(s, end, to);
    let fracEnd = -1;
    if (isInteger && s.charCodeAt(afterBlank) === BACKSLASH) {
      fracEnd = readLatexFraction(s, afterBlank, to);
      if (fracEnd >= 0 && tokValue >= 0) value += tokValue;
      else fracEnd = -1;
    } else if (s.charCodeAt(afterBlank) === 47 /* / */) {
      const d = readDecimal(s, skipBlanks(s, afterBlank + 1, to), to, true);
      if (d >= 0) {
        value = value / Number(decText);
        fracEnd = d;
      }
    }
    if (fracEnd >= 0) {
      end = fracEnd;
    } else {
      const exp = readExponent(s, end, to);
      if (exp !== null) {
        value = Number(`${mantissa}e${exp[1]}`);
        end = exp[0];
      } else if (isInteger && mantissa.length > 15) big = neg ? -BigInt(mantissa) : BigInt(mantissa);
    }
  }
  tokBig = big;
  const p = readPercent(s, end, to);
  tokPercent = p >= 0;
  if (p >= 0) end = p;
  tokValue = neg ? -value : value;
  return end;
}

function isTokenStart(c: number): boolean {
  return isDigit(c) || c === 46 || c === 45 || c === 43 || c === 0x2212 || c === BACKSLASH || c === 36 || c === 0x20ac || c === 0xa3 || c === 0xa5 || c === 0x20b9;
}

const FIRST = 0;
const LAST = 1;
const ONLY = 2;

/**
 * Scans `s[from, to)` for number tokens and returns the first, the last, or — for ONLY — the single
 * token when the range holds exactly one and nothing that would make it an expression (a `^`, a
 * LaTeX command such as `\sqrt` or `\pi`); otherwise null. Tokens with a non-finite value (1/0) are skipped.
 */
function scan(s: string, from: number, to: number, want: number): FoundNumber | null {
  let count = 0;
  let start = -1;
  let end = -1;
  let value = 0;
  let percent = false;
  let big: bigint | undefined;
  let i = from;
  while (i < to) {
    const c = s.charCodeAt(i);
    if (isTokenStart(c)) {
      const e = readNumber(s, i, to);
      if (e > i) {
        // The exponent of a unit (`25 m^2`, `9.8 m/s^{2}`) is not the last number: its quantity is.
        if (want === LAST && unitExponent(s, i)) {
          i = e;
          continue;
        }
        if (Number.isFinite(tokValue)) {
          count++;
          if (want === ONLY && count > 1) return null;
          start = i;
          end = e;
          value = tokValue;
          percent = tokPercent;
          big = tokBig;
          if (want === FIRST) break;
        }
        i = e;
        continue;
      }
    }
    if (want === ONLY) {
      if (c === 94 /* ^ */) return null;
      if (c === BACKSLASH) {
        let j = i + 1;
        while (j < to && isAsciiLetter(s.charCodeAt(j))) j++;
        if (j > i + 1 && !NEUTRAL_COMMANDS.has(s.slice(i + 1, j))) return null;
        i = Math.max(j, i + 2);
        continue;
      }
    }
    i++;
  }
  if (count === 0) return null;
  scanStart = start;
  scanEnd = end;
  return big === undefined ? { text: s.slice(start, end), value: value === 0 ? 0 : value, percent } : { text: s.slice(start, end), value, percent, big };
}

/** Whether the token at `i` is the exponent of a unit: `^` or `^{` right after a letter (`m^2`, `s^{2}`). */
function unitExponent(s: string, i: number): boolean {
  let k = i - 1;
  if (k >= 0 && s.charCodeAt(k) === 123 /* { */) k--;
  return k >= 1 && s.charCodeAt(k) === 94 /* ^ */ && isAsciiLetter(s.charCodeAt(k - 1));
}

/** Where the token {@link scan} returned last starts and ends (module state, as the token scanner's). */
let scanStart = 0;
let scanEnd = 0;

/**
 * A number offered with another as alternatives is a hedge, not an answer: `5 or 7`, `5, or 7`,
 * `x = 5 or x = 7`, `5 \text{ or } 7`, `5 \lor 7`, `between 1 and 100`. After a number: the joiner
 * (the caller then checks that a number follows); before one: a number and the joiner. No two
 * blank runs are adjacent in either pattern (`1` + 200,000 spaces + `x` must not backtrack quadratically).
 */
const ALTERNATIVE_AFTER = /[ \t]*(?:,[ \t]*)?(?:(?:or|OR)(?![A-Za-z])|\\text\s*\{[ \t]*or[ \t]*\}|\\lor(?![A-Za-z])|\\vee(?![A-Za-z]))[ \t]*(?:[A-Za-z][ \t]*=[ \t]*)?/y;
const ALTERNATIVE_BEFORE =
  /(?:\d(?:\\?%)?[ \t]*(?:,[ \t]*)?(?:(?:or|OR)|\\text\s*\{[ \t]*or[ \t]*\}|\\lor|\\vee)|\b[Bb]etween[ \t]+\\?\$?[-+]?[\d.,]*\d(?:\\?%)?[ \t]+and)[ \t]+(?:[A-Za-z][ \t]*=[ \t]*)?(?:\\?\$)?$/;

/**
 * Whether a number token of another value than `found` starts in `s[at, to)` right after an
 * alternative joiner after `end` (`5 or 7`; `5 or 5.0` offers one value, not a hedge).
 */
function alternativeAfter(s: string, end: number, to: number, found: FoundNumber): boolean {
  ALTERNATIVE_AFTER.lastIndex = end;
  if (!ALTERNATIVE_AFTER.test(s)) return false;
  const k = ALTERNATIVE_AFTER.lastIndex;
  if (k >= to || !isTokenStart(s.charCodeAt(k))) return false;
  return readNumber(s, k, to) > k && Number.isFinite(tokValue) && !(tokValue === found.value && tokPercent === found.percent);
}

/**
 * Whether the answer phrase `s[from, to)`, whose first number {@link scan} just found, offers
 * alternatives: `5 or 7` after it, `x = 5 or x = 7` (read after the last `=`), `between 1 and 100`.
 */
function hedgedPhrase(s: string, from: number, to: number, found: FoundNumber): boolean {
  if (alternativeAfter(s, scanEnd, to, found) || alternativeBefore(s, scanStart, found)) return true;
  const rest = s.slice(from, to);
  if (!rest.includes('between') && !rest.includes('Between')) return false;
  const last = scan(s, from, to, LAST);
  return last !== null && alternativeBefore(s, scanStart, last);
}

/**
 * Whether the token `found`, starting at `start`, is the second of two alternatives of different
 * values (`5 or 7`, `between 1 and 100`; `x = 5 or x = 5.0` offers one value, not a hedge).
 */
function alternativeBefore(s: string, start: number, found: FoundNumber): boolean {
  const from = Math.max(0, start - 48);
  const before = s.slice(from, start);
  // Every joiner has `or` (`\\lor`), `and` or `vee`: most texts skip the regex.
  if (!(before.includes('or') || before.includes('OR') || before.includes('and') || before.includes('vee')) || !ALTERNATIVE_BEFORE.test(before)) return false;
  // The other alternative: the last number before the joiner (scan moves scanStart/scanEnd; callers read them first).
  const other = scan(s, from, start, LAST);
  return other === null || other.value !== found.value || other.percent !== found.percent;
}

/**
 * Characters no number token contains (see the grammar above): a token never spans one, so a scan
 * may start right after one. Letters of `\frac`, `\times`, `\cdot`, `e`, `percent` are not barriers.
 */
function isBarrier(c: number): boolean {
  if (c >= 97 && c <= 122) return !LOWER_IN_TOKENS[c - 97];
  if (c >= 65 && c <= 90) return !UPPER_IN_TOKENS[c - 65];
  return c === 10 || c === 61 || c === 40 || c === 41 || c === 60 || c === 62 || c === 59 || c === 58 || c === 63 || c === 34 || c === 35 || c === 91 || c === 93 || c === 95;
}
const letterMask = (letters: string, base: number) => Array.from({ length: 26 }, (_, k) => letters.includes(String.fromCharCode(base + k)));
const LOWER_IN_TOKENS = letterMask('acdefimnoprst', 97);
const UPPER_IN_TOKENS = letterMask('CENPRT', 65);

/**
 * The last number token in `s`. It contains the last digit, so only the stretch between the barriers
 * around that digit is scanned (earlier stretches only when that one holds no valid token, e.g. `1/0`).
 */
function lastNumber(s: string): FoundNumber | null {
  let d = s.length - 1;
  for (;;) {
    while (d >= 0 && !isDigit(s.charCodeAt(d))) d--;
    if (d < 0) return null;
    let from = d;
    while (from > 0 && !isBarrier(s.charCodeAt(from - 1))) from--;
    let to = d + 1;
    while (to < s.length && !isBarrier(s.charCodeAt(to))) to++;
    const found = scan(s, from, to, LAST);
    if (found !== null) return alternativeBefore(s, scanStart, found) ? HEDGE : found;
    d = from - 1;
  }
}

/**
 * The number right after the last `####` that is followed by one (spaces, a currency sign or a sign
 * may come first), as in GSM8K's gold answers and verl's strict GSM8K extraction. A markdown heading
 * such as `#### Step 1` is not an answer marker.
 */
function gsm8kAnswer(s: string): FoundNumber | null {
  if (!s.includes('####')) return null;
  for (let at = s.lastIndexOf('####'); at >= 0; at = at >= 4 ? s.lastIndexOf('####', at - 4) : -1) {
    const i = skipBlanks(s, at + 4, s.length);
    if (!isTokenStart(s.charCodeAt(i))) continue;
    const e = readNumber(s, i, s.length);
    if (e > i && Number.isFinite(tokValue))
      return tokBig === undefined ? { text: s.slice(i, e), value: tokValue === 0 ? 0 : tokValue, percent: tokPercent } : { text: s.slice(i, e), value: tokValue, percent: tokPercent, big: tokBig };
  }
  return null;
}

/**
 * The content of the last outermost `\boxed{…}` / `\fbox{…}` (see `boxes.ts`: escaped braces, the boxes
 * inside it replaced by their content, `\boxed 5`, an unclosed box holding the rest of the text), or null.
 */
function lastBoxed(s: string): string | null {
  const b = lastBoxSpan(s);
  return b === null ? null : boxContent(s, b);
}

/** Where `s[from, to)` starts after its last `=` (or `from`): "x = 5" reads "5". */
function afterLastEquals(s: string, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (s.charCodeAt(i) === 61) return i + 1;
  return from;
}

/** A whole range read as one number (`x = 5` reads the part after the last `=`), or null. */
function onlyNumber(s: string, from: number, to: number): FoundNumber | null {
  return scan(s, afterLastEquals(s, from, to), to, ONLY);
}

/** What follows "answer" in an answer phrase: " is", ":", "=", "**:" … (one backtracking point per whitespace run: linear). */
const AFTER_ANSWER = /\s+is\b|\s*(?:(?:\*\*|__)\s*)?[:=：]/y;

function phraseEnd(s: string, word: string): number {
  let after = -1;
  for (let i = s.indexOf(word); i >= 0; i = s.indexOf(word, i + 6)) {
    AFTER_ANSWER.lastIndex = i + 6;
    const m = AFTER_ANSWER.exec(s);
    if (m !== null) after = i + 6 + m[0].length;
  }
  return after;
}

/** Range of the last "answer is" / "answer:" phrase's sentence: [after the phrase, end of sentence), or null. */
function lastAnswerPhrase(s: string): [number, number] | null {
  const after = Math.max(phraseEnd(s, 'answer'), phraseEnd(s, 'Answer'), phraseEnd(s, 'ANSWER'));
  if (after < 0) return null;
  let end = after;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 10) break;
    if ((c === 46 || c === 33 || c === 63) && (end + 1 === s.length || /\s/.test(s[end + 1]!))) break;
  }
  return [after, end];
}

/**
 * `n` with its method: the object `{ ...n, method }` builds (every FoundNumber is `{text, value,
 * percent}`), written out — on Node 20 (V8 11.3) a spread followed by another key cost ~2 µs a call,
 * about a tenth of `rewardkit score`'s time per rollout on bench/score.ts.
 */
function tagged(n: FoundNumber | null, method: ExtractMethod): ExtractedAnswer | null {
  if (n === null) return null;
  return n.big === undefined ? { text: n.text, value: n.value, percent: n.percent, method } : { text: n.text, value: n.value, percent: n.percent, method, big: n.big };
}

/** A hedge found while reading (see {@link ALTERNATIVE_AFTER}): no answer. Compared by identity. */
const HEDGE: FoundNumber = { text: '', value: Number.NaN, percent: false };

/** No number read because the answer offers alternatives (`the answer is 5 or 7`): the method that saw it and why. */
export interface HedgedAnswer {
  hedge: string;
  method: ExtractMethod;
}

/**
 * The final numeric answer of a completion.
 * - `gsm8k`: the number right after the last `####` followed by one (GSM8K's gold format; a markdown
 *   heading `#### Step 1` does not count).
 * - `boxed`: the last outermost `\boxed{…}` (`boxes.ts`), whose content must be a single number (`x = 5`
 *   gives 5); a box whose brace never closes holds the rest of the text.
 * - `answer_is`: the first number in the sentence after the last "answer is" / "answer:" (after its
 *   last `=`: "the answer is 3 + 4 = 7" gives 7).
 * - `last_number`: the last number in the text (the exponent of a unit, `25 m^2`, is not: 25 is).
 * - `auto`: a `####` answer, else the last `\boxed{…}` if there is one (authoritative: a box without a
 *   single number extracts nothing), else an answer phrase that holds a number, else the last number.
 *
 * A hedge is no answer (null), never its first or last value: an answer phrase whose number is
 * followed by `or` and another number (`the answer is 5 or 7`, `x = 5 or x = 7`, `5 \text{ or } 7`,
 * `\lor`), or a last number that is the second of such a pair or ends `between 1 and 100`. (`auto`
 * does not fall back to the last number then.) `####` and `\boxed{}` keep verl's reading: the number
 * after the last `####`, the last box.
 *
 * @example
 * extractAnswer('So she makes 9 * 2 = $18 a day.\n#### 18', 'auto') // → {text: '18', value: 18, percent: false, method: 'gsm8k'}
 * extractAnswer('The answer is 18 or 20.', 'auto') // → null (a hedge)
 */
export function extractAnswer(text: string, mode: 'auto' | ExtractMethod): ExtractedAnswer | null {
  const r = readAnswer(text, mode);
  return r === null || 'hedge' in r ? null : r;
}

/** {@link extractAnswer}, saying when there is no number because the answer is a hedge. */
export function readAnswer(text: string, mode: 'auto' | ExtractMethod): ExtractedAnswer | HedgedAnswer | null {
  if (mode === 'gsm8k' || mode === 'auto') {
    const found = gsm8kAnswer(text);
    if (found !== null || mode === 'gsm8k') return tagged(found, 'gsm8k');
  }
  if (mode === 'boxed' || mode === 'auto') {
    const box = lastBoxed(text);
    if (box !== null) return tagged(onlyNumber(box, 0, box.length), 'boxed');
    if (mode === 'boxed') return null;
  }
  if (mode === 'answer_is' || mode === 'auto') {
    const range = lastAnswerPhrase(text);
    if (range !== null) {
      const from = afterLastEquals(text, range[0], range[1]);
      const found = scan(text, from, range[1], FIRST);
      // `5 or 7` after the phrase, `x = 5 or x = 7` (read after the last `=`), `between 1 and 100`.
      if (found !== null && hedgedPhrase(text, from, range[1], found))
        return { hedge: `the answer phrase offers alternatives (${text.slice(range[0], Math.min(range[1], range[0] + 60)).trim()})`, method: 'answer_is' };
      if (found !== null || mode === 'answer_is') return tagged(found, 'answer_is');
    } else if (mode === 'answer_is') return null;
  }
  const last = lastNumber(text);
  if (last === HEDGE) return { hedge: 'the last number is offered as an alternative to another (`5 or 7`, `between 1 and 100`)', method: 'last_number' };
  return tagged(last, 'last_number');
}

/**
 * A reference answer as a number: a GSM8K gold solution (`… #### 18`) gives the number after `####`;
 * a solution with `\boxed{…}` gives the boxed number; otherwise the whole string must be one number
 * (`18`, `1,000`, `-3.5`, `\frac{3}{4}`, `$18.00`, `50%`, `x = 5`). Null when it is not.
 *
 * @example
 * parseReferenceNumber('\\dfrac{3}{4}') // → {text: '\\dfrac{3}{4}', value: 0.75, percent: false}
 */
export function parseReferenceNumber(reference: string): FoundNumber | null {
  if (reference.includes('####')) return extractAnswer(reference, 'gsm8k');
  const box = lastBoxed(reference);
  if (box !== null) return onlyNumber(box, 0, box.length);
  return onlyNumber(reference, 0, reference.length);
}
