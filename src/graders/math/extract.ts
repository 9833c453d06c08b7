/**
 * Finds the answer in a completion, with Math-Verify's extraction rules: candidates are grouped by
 * priority — `final answer is … I hope`, `\boxed{}` (first by default, as open-r1 and Math-Verify's
 * own tests configure it), `final answer … is`, `answer:`, `answer`, then any LaTeX/number — and
 * within a group the candidate that ends last is tried first; the first that parses wins. The text
 * of the first candidate tried is kept as a fallback compared verbatim. Markdown bold around numbers
 * (`**73**`) is read as the number, not `73**`; a GSM8K answer line `#### 72` ranks with the first group.
 * An anchored number followed by alternatives (`the answer is 5 or 7`, `Answer: 5; 7`) is the list
 * of them, as `$5$ or $7$` already is: Math-Verify takes the first, paying a hedge as a commitment.
 * When no `\boxed{}` parses, the loose numbers and LaTeX spans that overlap a box are skipped: the box
 * was the answer (`\boxed{3 \lor 5}` gave 5 by falling back to its last number).
 */
import { boxSpans as outerBoxes, lastBoxSpan } from '../boxes.js';
import { type Node, mkSet } from './ast.js';
import { type Deadline, NO_DEADLINE } from './deadline.js';
import { type Chain, LatexScanner, type Span } from './envscan.js';
import { normalizeLatex } from './normalize.js';
import { parseDecimal, type Rat } from './rational.js';

/** What to extract: LaTeX math spans, or plain numbers and `1/2 * 3`-style expressions. */
export type Target = 'latex' | 'expr';

/** Rank of `\boxed{}` among the answer anchors (see {@link ExtractOptions.boxed}). */
export type BoxedRank = 'first' | 'with_final_answer' | 'after_final_answer';

const BOXED_PRIO: Record<BoxedRank, number> = { first: 0, with_final_answer: 50, after_final_answer: 100 };

/** Extraction options. */
export interface ExtractOptions {
  targets: readonly Target[];
  /**
   * Where `\boxed{}` candidates rank: with the first group (`first`, priority 0), with `final answer … is`
   * (`with_final_answer`, 50: the rightmost of the two wins) or after it, with `answer:`
   * (`after_final_answer`, 100).
   */
  boxed: BoxedRank;
}

/** The extracted answer: its parsed tree (null when nothing parsed) and the fallback text. */
export interface Extraction {
  node: Node | null;
  /** Text of the first candidate tried (normalised LaTeX or the number/expression text). */
  str: string | null;
  /** Text the parsed answer came from. */
  source: string | null;
  /** Why nothing parsed, when node is null. */
  reason?: string;
}

/** Parses one candidate text (normalised LaTeX, or a plain expression); null when it cannot. */
export type ParseFn = (text: string, plain: boolean) => Node | null;

const ci = (w: string): string =>
  [...w].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c === ' ' ? ' ' : c)).join('');
const FINAL_IS = ci('final answer is');
const FINAL = ci('final answer');
const ANSWER = `(?:${ci('answer')}|[Rr][ée]ponse|[Rr]espuesta|[Aa]ntwort|[Rr]isposta|[Rr]esposta|[Оо]твет|答案|回答|الإجابة|उत्तर)`;
const ANSWER_WORD = /answer|réponse|reponse|respuesta|antwort|risposta|resposta|ответ|答案|回答|الإجابة|उत्तर/;

// Math-Verify's number grammar (its parser.py `lazy_expr_regex`), with thin and no-break spaces also
// accepted as thousands separators (Math-Verify: ASCII space and comma only).
const NUMBER = String.raw`(?<!\d)(?:(?<i1>-?[1-9]\d{0,2}(?:[ ,\u00a0\u2009\u202f]\d{3})+)(?<d1>\.\d+)?|(?<i2>-?\d+)(?<d2>[.,]\d+)|(?<d3>\.\d+)|(?<i3>-?\d+))(?<ex>[eE][+-]?\d+(?![a-zA-Z]))?(?<npct>\s*(?:%|[Pp]ercent|[Pp]ct))?`;
// Math-Verify's percent group is `\s*(?:%|[Pp]ercent|\s*[Pp]ercentage|\s*[Pp]ct)`: its inner `\s*` adds
// nothing (the outer one already took every space) but makes a long space run after a number
// quadratic, and `percentage` is never reached after `percent`; the group above matches the same text.
const OPS = String.raw`+\-*×/^()÷`;
// Bounded runs: an expression answer is short, and unbounded runs backtrack quadratically.
const EXPR = String.raw`(?<expr>-?\(?-?\d[\d.\s${OPS}]{0,200}[${OPS}][\d.\s${OPS}]{1,200}\)?)`;
// Before a number: a space or `=`, or a CJK character (Chinese, Japanese and Korean text has no spaces:
// `总共有99颗`); Math-Verify: a space or `=` only.
const PRE = String.raw`(?:^|\s|=|(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff01-\uff60\u3000-\u303f]))(?:\*\*)?`;
const SUF = String.raw`(?:\*\*)?(?:\.|,|:|\s|\)|\$|$|[。，、：；）！？])`;
const CURRENCY = '[$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿]';
const EXPR_A = `(?:${PRE}${EXPR}${SUF})`;
// `\$4.50`: the escaped dollar of LaTeX-minded text is a currency sign too.
const NUMBER_A = `(?:${PRE}(?:\\\\?${CURRENCY})?${NUMBER})`;
const EON = `(?:${EXPR_A}|${NUMBER_A})`;

type Need = 'final' | 'answer' | 'hope' | 'boxed' | 'hashes';

/** An expression pattern of the extraction, at one priority. */
export interface Pat {
  re: RegExp;
  prio: number;
  /** Only run when the text has this anchor. */
  needs?: Need;
  /** Where the first match can begin at the earliest (the scan starts there; default 0). */
  from?: (text: string) => number;
}

/**
 * GSM8K's answer line: `#### 72` alone on its line. A match begins at the start of the text or at the
 * newline before a `####`, so the scan starts at the line of the first `####` (exported for tests).
 */
export const HASH_LINE: Pat = {
  re: new RegExp(String.raw`(?:^|\n)[ \t]*####[ \t]*${CURRENCY}?${NUMBER}[ \t]*(?=\n|$)`, 'g'),
  prio: 0,
  needs: 'hashes',
  from: (t) => Math.max(0, t.lastIndexOf('\n', t.indexOf('####'))),
};

const EXPR_PATS: Pat[] = [
  HASH_LINE,
  { re: new RegExp(String.raw`${FINAL_IS}:?\s*${EON}\.?\s?I hope`, 'g'), prio: 0, needs: 'hope' },
  { re: new RegExp(String.raw`${FINAL}.{0,100}?\s+is:?${EON}`, 'g'), prio: 50, needs: 'final' },
  { re: new RegExp(String.raw`${ANSWER}:(?:.{0,100}=\s*|.{0,50}?)${EON}(?!\s*=)`, 'g'), prio: 100, needs: 'answer' },
  { re: new RegExp(String.raw`${ANSWER}(?:.{0,100}=\s*|.{0,50}?)${EON}(?!\s*=)`, 'g'), prio: 200, needs: 'answer' },
  { re: new RegExp(EXPR_A, 'g'), prio: 300 },
  { re: new RegExp(NUMBER_A, 'g'), prio: 300 },
];

/** One extraction candidate (exported for tests). */
export interface Cand {
  start: number;
  end: number;
  order: number;
  /** A LaTeX chain, the plain `\\boxed{…}` span (boxed = last), or an expression/number match. */
  spans?: Span[];
  boxedText?: string;
  groups?: Record<string, string | undefined>;
  /** A LaTeX chain found after an answer anchor (`answer:`, `final answer … is`). */
  anchored?: boolean;
}

function flattenSets(nodes: Node[]): Node[] {
  return nodes.flatMap((n) => (n.k === 'set' ? n.items : [n]));
}

function fromLatex(c: Cand, parse: ParseFn): { node: Node | null; str: string } {
  if (c.boxedText !== undefined) {
    const s = normalizeLatex(c.boxedText, 'last');
    return { node: parse(s, false), str: s };
  }
  const nodes: Array<Node | null> = [];
  const strs: string[] = [];
  for (const sp of c.spans!) {
    const s = normalizeLatex(sp.content, 'all');
    strs.push(s);
    let n = parse(s, false);
    if (n && sp.pct) n = { k: 'pct', arg: n };
    nodes.push(n);
  }
  if (nodes.length === 0) return { node: null, str: '' };
  if (nodes.length > 1 && nodes.every((n) => n !== null)) return { node: mkSet(flattenSets(nodes as Node[])), str: strs.join(' and ') };
  return { node: nodes[0]!, str: strs[0]! };
}

function fromExpr(c: Cand, parse: ParseFn): { node: Node | null; str: string } {
  const g = c.groups!;
  const int = g['i1'] ?? g['i2'] ?? g['i3'];
  const dec = g['d1'] ?? g['d2'] ?? g['d3'];
  if (int !== undefined || dec !== undefined) return numberCand(int ?? '', dec ?? '', g['ex'] ?? '', !!g['npct']);
  const raw = g['expr'] ?? '';
  // Markdown bold and trailing operators are not part of the expression: `**73**` is 73.
  const cleaned = trimEnd(raw.replace(/^\*\*/, ''), /[\s*+\-/^×÷]/);
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(cleaned);
  if (m) return numberCand(m[1]!, m[2] ? '.' + m[2] : '', '', false);
  return { node: cleaned ? parse(cleaned.replace(/\n/g, ' '), true) : null, str: raw };
}

// After an anchored number (`the answer is 5`), a connector and another number make a list:
// `5 or 7`, `5, 7`, `5; 7`, `**5** or **7**`, `$5$ and $7$` (Math-Verify reads the first number only,
// so a hedged answer is paid as if it were committed to its first value).
const ALT_JOIN = /(?:\*\*|\$)?[ \t]*(?:[,;，；、][ \t]*(?:(?:or|and)\b[ \t]*)?|(?:or|and)\b[ \t]*|[或和][ \t]*)(?:(?:maybe|perhaps|possibly|probably)\b[ \t]*)?(?:\*\*|\\?\$)?[ \t]*/y;
const ALT_ITEM = new RegExp(String.raw`(?:${EXPR}(?=${SUF})|${CURRENCY}?${NUMBER})`, 'y');
const ALT_NUMBER = new RegExp(String.raw`${CURRENCY}?${NUMBER}`, 'y');
// A unit or base after the number, before the connector: `90^\circ or 12`, `15\mbox{ cm}^2 or 3`, `52_8 or 72`.
const ALT_UNIT = /(?:_\d+|_\{\d+\}|\^\s*\\circ|\^\s*\{\\circ\}|°|\\?%|[ \t]*\\(?:text|mbox)\s*\{[^{}]{0,40}\}(?:\^\d|\^\{\d\})?)/y;
// Another answer this reader cannot take (`25 or \sqrt{66}`, `-4 or x=5`, `10 or \cot x`): still an
// alternative. Not a word of prose (`25, which …`, `5 and a half`, `\text{since} …`), nor a `\boxed{}`
// (ranked on its own: `boxed:`).
const ALT_OTHER =
  /(?:[-+−]\s*)?(?:\\(?!(?:quad|qquad|boxed|fbox)(?![a-zA-Z])|text\s*\{\s*(?:since|because|which|where|so|as|but|then|hence|thus|therefore|when|if|for)\b)[a-zA-Z{]|\$|\(\s*[-+\d\\a-zA-Z]|\[\s*[-+\d\\]|(?![aAI](?![a-zA-Z]))[a-zA-Z](?![a-zA-Z])|[a-zA-Z]{1,3}[=(^_{])/y;

/**
 * An anchored candidate `r` (a number, an expression or a LaTeX chain after `answer:`, `final answer …
 * is`), or the list it starts when alternatives follow it (`the answer is 5 or 7` is {5, 7}, not 5;
 * an alternative it cannot read is kept as text): a hedged answer is not the answer.
 */
function withAlternatives(text: string, c: Cand, r: { node: Node | null; str: string }, parse: ParseFn): { node: Node | null; str: string } {
  // Back over what the candidate's suffix took (a space, a comma, `$`, `**`), not over a full stop.
  let at = c.end;
  while (at > c.start && c.end - at < 4 && /[ \t,;$*]/.test(text[at - 1]!)) at--;
  const nodes: Node[] = [r.node!];
  const strs: string[] = [r.str];
  for (let n = 0; n < 32; n++) {
    ALT_UNIT.lastIndex = at;
    if (ALT_UNIT.test(text)) at = ALT_UNIT.lastIndex;
    ALT_JOIN.lastIndex = at;
    if (!ALT_JOIN.test(text)) break;
    const from = ALT_JOIN.lastIndex;
    let item: { node: Node | null; str: string } | null = null;
    let m: RegExpExecArray | null = null;
    // An expression (`3+2`), else the number alone (`7**.` is 7 in bold, not an expression).
    for (const re of [ALT_ITEM, ALT_NUMBER]) {
      re.lastIndex = from;
      m = re.exec(text);
      item = m ? fromExpr({ start: m.index, end: m.index + m[0].length, order: 0, groups: m.groups ?? {} }, parse) : null;
      if (item?.node) break;
    }
    // `2k`, `3\sqrt{2}`, `4x^2`: more than the number read; an alternative all the same.
    const more = !!m && !!item?.node && /[a-zA-Z\\^(_{]/.test(text[m.index + m[0].length] ?? '');
    if (!m || !item?.node || more) {
      ALT_OTHER.lastIndex = from;
      if (more || ALT_OTHER.test(text)) {
        const rest = text.slice(from, from + 100).split(/\.(?:\s|$)|\n/)[0]!;
        nodes.push({ k: 'text', s: rest });
        strs.push(rest);
      }
      break;
    }
    nodes.push(item.node);
    strs.push(item.str);
    at = m.index + m[0].length;
  }
  return nodes.length === 1 ? r : { node: mkSet(flattenSets(nodes)), str: strs.join(', ') };
}

/** `s` without its trailing characters matching `one` (one character) — a linear `s.replace(/[…]+$/, '')`. */
function trimEnd(s: string, one: RegExp): string {
  let e = s.length;
  while (e > 0 && one.test(s[e - 1]!)) e--;
  return s.slice(0, e);
}

/** True when `s` is one or more ASCII digits (a hand loop: cheaper than a regex on the hot path). */
function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The number node of a matched numeral: `int` (sign, digits, group separators), `dec` (`.5` or `,5`),
 * `ex` (`e-3`), `pct` (wrap in a percent node); `str` is the numeral normalised (`1,000` → `1000`,
 * `2E3` → `2E3`: the exponent is kept).
 * An exponent parseDecimal refuses (|e| > 10,000: `1E20000`) reads as the text of the numeral (a text
 * node: the answer was read, but it equals only the same text), so it neither throws nor lets a later
 * number stand in for it (`the answer is 1e20000 or 7` stays a hedge).
 */
function numberCand(int: string, dec: string, ex: string, pct: boolean): { node: Node; str: string } {
  const neg = int.startsWith('-');
  let digits = (neg ? int.slice(1) : int).replace(/[ ,\u00a0\u2009\u202f]/g, '').replace(/^0+/, '');
  if (digits === '') digits = '0';
  const decimal = dec.replace(',', '.');
  const str = `${neg ? '-' : ''}${digits}${decimal}`;
  let v: Rat;
  if (decimal === '' && ex === '' && allDigits(digits)) {
    // An integer: what parseDecimal gives (n/1), without its regex (GSM8K answers are integers).
    const n = BigInt(digits);
    v = { n: neg ? -n : n, d: 1n };
  } else {
    const parsed = parseDecimal(str + ex);
    // Before, a null here became a number node without a value, and comparing it threw a TypeError.
    if (parsed === null) return { node: { k: 'text', s: (str + ex).toLowerCase() }, str: str + ex };
    v = parsed;
  }
  const n: Node = { k: 'num', v, float: decimal !== '' || ex !== '' };
  // The exponent stays in the text: `2e3` is not `2` (the text comparison once paid it against 2).
  return { node: pct ? { k: 'pct', arg: n } : n, str: str + ex };
}

// A text that is one plain number, as Math-Verify's expression extraction reads it (tests/test_all.py
// `test_number_extraction`: `1 000` = 1000, `1000,99` = 1000.99, `1,22` = 1.22, `0,111` = 0.111,
// `7,425,000` = 7425000), plus thin/no-break spaces and LaTeX `\,`, `\ `, `{,}` between groups of
// three. Groups use one separator kind; a comma not followed by exactly three digits (or after a
// lead of four or more digits, or a lead 0) is a decimal comma.
const SEP = String.raw`(?:,|[ \u00a0\u2009\u202f]|\\[, ]|\{,\})`;
const PLAIN_NUMBER = new RegExp(
  String.raw`^\s*(?<sign>[-+−]?)\s*(?:\\?\$|[€£¥₹])?\s*(?:(?<g>[1-9]\d{0,2})(?<sep>${SEP})(?<rest>\d{3}(?:\k<sep>\d{3})*)(?<gd>[.]\d+)?|(?<int>\d+)(?<dec>(?:[.,]|\{,\})\d+)?|(?<frac>\.\d+))\s*(?<pct>\\?%)?\s*\.?\s*$`,
);

/**
 * The value of a text that is exactly one plain number (see PLAIN_NUMBER above), or null. `ambiguous`
 * when a comma could also separate two answers (`1,22` = 1.22 or the pair 1, 22): the caller may
 * then accept either reading.
 *
 * @example
 * plainNumber('1 000') // → {node: 1000, str: '1000', ambiguous: false}
 * plainNumber('1,22')  // → {node: 1.22, str: '1.22', ambiguous: true}
 */
export function plainNumber(text: string): { node: Node; str: string; ambiguous: boolean } | null {
  if (text.length > 200) return null;
  // Digits alone (`72`, the usual GSM8K answer): PLAIN_NUMBER's `int` branch, without the regex.
  if (allDigits(text)) {
    const r = numberCand(text, '', '', false);
    return { node: r.node, str: r.str, ambiguous: false };
  }
  const m = PLAIN_NUMBER.exec(text);
  if (!m) return null;
  const g = m.groups!;
  const sign = g['sign'] === '' || g['sign'] === '+' ? '' : '-';
  let r: { node: Node; str: string };
  let ambiguous = false;
  if (g['g'] !== undefined) {
    r = numberCand(sign + g['g'] + g['rest']!.replace(/\D/g, ''), g['gd'] ?? '', '', false);
  } else if (g['int'] !== undefined) {
    const dec = g['dec'];
    ambiguous = dec !== undefined && dec[0] !== '.';
    r = numberCand(sign + g['int'], dec === undefined ? '' : '.' + dec.replace(/^(?:[.,]|\{,\})/, ''), '', false);
  } else {
    r = numberCand(sign + '0', g['frac']!, '', false);
  }
  // An object literal, not `{ ...r, ambiguous }`: V8's spread of `r` here cost ~1.5 µs a call, most
  // of a plain answer's verification (bench/math.ts, GSM8K answers alone).
  return { node: g['pct'] !== undefined ? { k: 'pct', arg: r.node } : r.node, str: r.str, ambiguous };
}

/**
 * Extracts the answer from `text` (see the module doc). `parse` reads a candidate; the first
 * candidate (by priority, then rightmost end) that parses is the answer.
 *
 * @example
 * extractAnswer('so the answer is $\\boxed{\\frac{1}{2}}$.', { targets: ['latex', 'expr'], boxed: 'first' }, parse).str
 * // → '\\frac{1}{2}'
 */
export function extractAnswer(text: string, o: ExtractOptions, parse: ParseFn, deadline: Deadline = NO_DEADLINE): Extraction {
  const st: TextState = { text, box: firstBox(text), known: {}, scanner: null, deadline };
  const latex = o.targets.includes('latex');
  const expr = o.targets.includes('expr');
  const boxPrio = BOXED_PRIO[o.boxed];
  let fallback: string | null = null;
  // The `\boxed{}` spans once no box parsed: a loose number inside one is not the answer.
  let boxes: number[] | null = null;
  for (const prio of PRIOS) {
    const cands: Cand[] = [];
    if (latex) latexCandidates(st, prio, boxPrio, cands);
    if (expr) exprCandidates(st, prio, cands);
    if (cands.length > 1) cands.sort(byEndThenStart);
    if (prio === 300 && st.box >= 0) boxes = boxSpans(text, st.box);
    for (const c of cands) {
      deadline.check();
      // An unreadable box (`\boxed{3 \lor 5}`, `\boxed{1 \to 2}`) is still the answer the completion gave:
      // no loose number or LaTeX taken from it (or from a span around it) is read instead (that paid a
      // hedge its last value).
      if (boxes !== null && overlapsSpans(boxes, c.start, c.end)) continue;
      let r = c.groups ? fromExpr(c, parse) : fromLatex(c, parse);
      // Priority 0 ends its own candidates (`#### 72` alone on its line, `… I hope`): nothing can follow.
      if (r.node && prio > 0 && prio < 300 && (c.groups || c.anchored)) r = withAlternatives(text, c, r, parse);
      if (r.str && fallback === null) fallback = r.str;
      if (r.node) return { node: r.node, str: fallback, source: r.str };
    }
  }
  return { node: null, str: fallback, source: null, reason: fallback === null ? 'no answer found' : 'answer did not parse' };
}

/**
 * [start, end) pairs of the outermost `\boxed{…}`/`\fbox{…}` of `text` from `first`, in order (see
 * `boxes.ts`: escaped braces, a box inside a box, an unclosed box running to the end, `\boxed 5`).
 * One pass: linear.
 */
function boxSpans(text: string, first: number): number[] {
  const out: number[] = [];
  for (const b of outerBoxes(text, first)) out.push(b.start, b.end);
  return out;
}

/** Whether [start, end) overlaps one of the sorted, disjoint `spans` (binary search). */
function overlapsSpans(spans: number[], start: number, end: number): boolean {
  let lo = 0;
  let hi = spans.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[2 * mid]! >= end) hi = mid - 1;
    else lo = mid + 1;
  }
  // hi: the last span starting before `end`.
  return hi >= 0 && spans[2 * hi + 1]! > start;
}

/** Per-text state of one extraction: anchors found so far (decided lazily) and the span scanner. */
interface TextState {
  text: string;
  box: number;
  known: Partial<Record<Need, boolean>>;
  scanner: LatexScanner | null;
  deadline: Deadline;
}

function has(st: TextState, k: Need): boolean {
  let v = st.known[k];
  if (v !== undefined) return v;
  const t = st.text;
  switch (k) {
    case 'final':
      v = FINAL_RE.test(t);
      break;
    case 'answer':
      v = /answer/i.test(t) || /r[ée]ponse|respuesta|antwort|risposta|resposta/i.test(t) || (NON_ASCII.test(t) && ANSWER_RE.test(t));
      break;
    case 'hope':
      v = t.includes('I hope') && FINAL_IS_RE.test(t);
      break;
    case 'boxed':
      v = st.box >= 0;
      break;
    case 'hashes':
      v = t.includes('####');
      break;
  }
  st.known[k] = v;
  return v;
}

function scannerOf(st: TextState): LatexScanner {
  return (st.scanner ??= new LatexScanner(st.text, st.deadline));
}

function byEndThenStart(a: Cand, b: Cand): number {
  return b.end - a.end || a.start - b.start || a.order - b.order;
}

function pushChains(chains: ReadonlyArray<Omit<Cand, 'order'>>, cands: Cand[]): void {
  for (const c of chains) {
    (c as Cand).order = cands.length;
    (c as Cand).anchored = true;
    cands.push(c as Cand);
  }
}

function latexCandidates(st: TextState, prio: number, boxPrio: number, cands: Cand[]): void {
  const t = st.text;
  if (prio === 0 && has(st, 'hope')) pushChains(anchoredChains(scannerOf(st), FINAL_IS_G, 'hope', st.deadline), cands);
  if (prio === boxPrio && has(st, 'boxed')) {
    for (const ch of scannerOf(st).all(true, boxScanStart(t, st.box))) cands.push({ start: ch.start, end: ch.end, spans: ch.spans, order: cands.length });
    // Up to the last closing brace, or to the end of the last box (`\boxed 5`, an unclosed box).
    const end = Math.max(t.lastIndexOf('}') + 1, lastBoxSpan(t, st.box)?.end ?? 0);
    if (end > st.box) cands.push({ start: st.box, end, boxedText: t.slice(st.box, end), order: cands.length });
  }
  if (prio === 50 && has(st, 'final')) pushChains(anchoredChains(scannerOf(st), FINAL_G, 'is', st.deadline), cands);
  if (prio === 100 && has(st, 'answer')) pushChains(anchoredChains(scannerOf(st), ANSWER_COLON_G, 'gap', st.deadline), cands);
  if (prio === 200 && has(st, 'answer')) pushChains(anchoredChains(scannerOf(st), ANSWER_G, 'gap', st.deadline), cands);
  if (prio === 300) for (const ch of scannerOf(st).all(false)) cands.push({ start: ch.start, end: ch.end, spans: ch.spans, order: cands.length });
}

function exprCandidates(st: TextState, prio: number, cands: Cand[]): void {
  const t = st.text;
  for (const pat of EXPR_PATS) {
    if (pat.prio !== prio || (pat.needs && !has(st, pat.needs))) continue;
    const re = pat.re;
    re.lastIndex = pat.from ? pat.from(t) : 0;
    for (let m = re.exec(t); m !== null; m = re.exec(t)) {
      st.deadline.check();
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      cands.push({ groups: m.groups ?? {}, start: m.index, end: m.index + m[0].length, order: cands.length });
    }
  }
}

/** Anchors of the LaTeX candidates (exported for tests). */
export const ANCHORS = {
  hope: new RegExp(`${FINAL_IS}:?`, 'g'),
  final: new RegExp(FINAL, 'g'),
  answerColon: new RegExp(`${ANSWER}:`, 'g'),
  answer: new RegExp(ANSWER, 'g'),
};
const FINAL_IS_G = ANCHORS.hope;
const FINAL_G = ANCHORS.final;
const ANSWER_COLON_G = ANCHORS.answerColon;
const ANSWER_G = ANCHORS.answer;
const I_HOPE = /\.?\s?I hope/y;
const WS_RE = /\s/;

/**
 * Chains found after an anchor, as Math-Verify's anchored regexes find them (left to right, no
 * overlap): `hope` — `final answer is:` + spaces + chain + `. I hope`; `is` — `final answer`, up
 * to 100 characters, spaces, `is`, an optional colon and spaces, then a chain; `gap` — the anchor,
 * then the chain at the nearest of the next 50 characters.
 */
export function anchoredChains(sc: LatexScanner, anchor: RegExp, mode: 'hope' | 'is' | 'gap', deadline: Deadline = NO_DEADLINE): Array<Omit<Cand, 'order'>> {
  const t = sc.text;
  const out: Array<Omit<Cand, 'order'>> = [];
  const chainNear = (q: number, back: number): Chain | null => sc.chainAt(q, false) ?? (q > back && WS_RE.test(t[q - 1]!) ? ibOnly(sc.chainAt(q - 1, false)) : null);
  anchor.lastIndex = 0;
  for (let m = anchor.exec(t); m !== null; m = anchor.exec(t)) {
    deadline.check();
    const a = m.index + m[0].length;
    let found: { chain: Chain; end: number } | null = null;
    if (mode === 'hope') {
      let q = a;
      while (q < t.length && WS_RE.test(t[q]!)) q++;
      const ch = chainNear(q, a);
      if (ch) {
        const end = hopeEnd(t, ch);
        if (end !== null) found = { chain: { ...ch, spans: ch.spans.slice(0, end.spans) }, end: end.end };
      }
    } else if (mode === 'gap') {
      for (let g = 0; g <= 50 && a + g <= t.length && !found; g++) {
        const ch = sc.chainAt(a + g, false);
        if (ch) found = { chain: ch, end: ch.end };
      }
    } else {
      // End of the whitespace run holding p: computed once per run, not once per position (linear).
      let runEnd = -1;
      for (let g = 0; g <= 100 && a + g < t.length && !found; g++) {
        const p = a + g;
        if (!WS_RE.test(t[p]!)) continue;
        if (p >= runEnd) {
          runEnd = p;
          while (runEnd < t.length && WS_RE.test(t[runEnd]!)) runEnd++;
        }
        const w = runEnd;
        if (!t.startsWith('is', w)) continue;
        let q = w + 2;
        if (t[q] === ':') q++;
        const q0 = q;
        while (q < t.length && WS_RE.test(t[q]!)) q++;
        const ch = chainNear(q, q0);
        if (ch) found = { chain: ch, end: ch.end };
      }
    }
    if (found) {
      out.push({ start: m.index, end: found.end, spans: found.chain.spans });
      anchor.lastIndex = Math.max(found.end, anchor.lastIndex);
    } else anchor.lastIndex = m.index + 1;
  }
  return out;
}

function ibOnly(ch: Chain | null): Chain | null {
  return ch && ch.spans[0]!.kind === 'ib' ? ch : null;
}

/** End of `<chain>. I hope` using as many of the chain's spans as allow it, or null. */
function hopeEnd(t: string, ch: Chain): { end: number; spans: number } | null {
  for (let k = ch.spans.length; k >= 1; k--) {
    const last = ch.spans[k - 1]!;
    const ends = [last.end];
    let e = last.end;
    while (e > last.start && WS_RE.test(t[e - 1]!)) ends.push(--e);
    for (const end of ends) {
      I_HOPE.lastIndex = end;
      const m = I_HOPE.exec(t);
      if (m) return { end: end + m[0].length, spans: k };
    }
  }
  return null;
}

const PRIOS = [0, 50, 100, 200, 300];
const FINAL_RE = /final answer/i;
const FINAL_IS_RE = /final answer is/i;
const ANSWER_RE = new RegExp(ANSWER_WORD.source, 'i');

const NON_ASCII = /[^\x00-\x7F]/;


/** Index of the first `\\boxed` or `\\fbox`, or -1 (two indexOf scans: cheaper than a regex; exported for tests). */
export function firstBox(text: string): number {
  const b = text.indexOf('\\boxed');
  const f = text.indexOf('\\fbox');
  return b < 0 ? f : f < 0 ? b : Math.min(b, f);
}

function boxScanStart(text: string, first: number): number {
  if (first < 0) return text.length;
  let s = text.lastIndexOf('\n', first) + 1;
  for (const d of ['$$', '\\[']) {
    const k = text.lastIndexOf(d, first);
    if (k >= 0 && k < s) s = k;
  }
  // Step back over the character a lookbehind may need and any `\s` an inline-bracket span starts with.
  return Math.max(0, s - 1);
}

// ---------- multiple-choice letters ----------

interface LetterPats {
  /** `re` finds matches; `at` (sticky, with indices) re-reads the chosen one for its letter's position. */
  pats: Array<{ re: RegExp; at: RegExp; prio: number; boxed?: boolean }>;
  /** Another allowed letter right after the answer letter, joined as an alternative (sticky). */
  after: RegExp;
  /** Another allowed letter right before the answer letter, joined as an alternative (anchored at the end). */
  before: RegExp;
}

// What joins two alternatives: `,` `;` `/` `|` `&` (each optionally followed by `or`/`and`), `or`,
// `and`, `\text{or}`, or — between upper-case letters only, see letterPats — blanks alone (`A B C D`, `(A)(B)`).
// LETTER_JOIN_MARK is the punctuation alone; LETTER_JOIN_WORD the joins that say `or`/`and`.
const LETTER_JOIN_MARK = String.raw`[ \t]*(?:[,;/|&]|\\&)[ \t]*`;
const LETTER_JOIN_WORD = String.raw`(?:[ \t]*(?:[,;/|&]|\\&)[ \t]*(?:or|and)[ \t]+|[ \t]+(?:or|and)[ \t]+|[ \t]*\\text\s*\{[ \t]*(?:or|and)[ \t]*\}[ \t]*)`;
const LETTER_JOIN = `(?:${LETTER_JOIN_WORD}|${LETTER_JOIN_MARK})`;

// A letter that is a word of the prose, not a choice (checked where a letter is read): the article
// `a` before a word or a capital choice (`the answer is a multiple of 3, so (D)`, `is a (B)`), the
// pronoun `i` likewise (`so i pick (C)`, `i think`), and the pronoun `I` before a lower-case word or
// an apostrophe (`I pick (C)`, `I’m sure`, `I'd say`) — `or`/`and` after it is a join, not a word
// (`I or J` is still a hedge). A choice I is still read where it stands alone (`(I)`, `Answer: I`,
// `I. Paris`, `i`).
const NOT_A_WORD = String.raw`(?!a[ \t]+(?:[A-Za-z]{2}|\(?[A-Z](?![A-Za-z])))(?!i(?:[ \t]+(?!(?:or|and)(?![A-Za-z]))(?:[A-Za-z]{2}|\(?[A-Z](?![A-Za-z]))|['\u2019][a-z]))(?!I(?:[ \t]+(?!(?:or|and)(?![A-Za-z]))[a-z]{2}|['\u2019][a-z]))`;

function letterPats(letters: string): LetterPats {
  const allowed = letters.replace(/[^A-Za-z]/g, '');
  // The article `a` and the pronoun `i`/`I` of the prose are not choices (NOT_A_WORD).
  const key = `(?<L>${NOT_A_WORD}[${allowed}])`;
  const pre = String.raw`(?:^|\s)(?:\*\*)?\(?`;
  const suf = String.raw`\)?(?:\*\*)?(?:[.,:;)]|\s|$|(?=[^\x00-\x7F]))`;
  // Joined by blanks only, the other letter must be a capital other than `I` (`Answer: B I think`, `is a (B)` are prose).
  const upper = allowed.replace(/[^A-HJ-Z]/g, '');
  // No two blank runs are adjacent (LETTER_JOIN ends in one): `A,` + spaces + `x` stays linear.
  // After punctuation alone, the article or the pronoun is prose (`(B), I think`, `B, a safe choice`);
  // after `or`/`and` any allowed letter is an alternative (`B or I think C` is a hedge).
  const other = `(?:${LETTER_JOIN_WORD}(?:\\*\\*)?\\(?([${allowed}])|${LETTER_JOIN_MARK}(?:\\*\\*)?\\(?${NOT_A_WORD}([${allowed}])|[ \\t]*(?:\\*\\*)?\\(?([${upper || '_'}]))`;
  return {
    pats: [
      { re: new RegExp(String.raw`${FINAL_IS}:?\s*\(?${key}\)?\.?\s?I hope`, 'g'), prio: 0 },
      { re: new RegExp(String.raw`\\(?:boxed|fbox)\{\s*(?:\\text(?:bf)?\{\s*)?\(?${key}\)?\s*(?:\}\s*)?\}`, 'g'), prio: 0, boxed: true },
      { re: new RegExp(String.raw`${FINAL}.{0,100}?\s+is:?\s*\(?${key}\)?(?![A-Za-z])`, 'g'), prio: 50 },
      { re: new RegExp(String.raw`${ANSWER}:.{0,50}?${pre}${key}${suf}`, 'g'), prio: 100 },
      { re: new RegExp(String.raw`${ANSWER}.{0,50}?${pre}${key}${suf}`, 'g'), prio: 200 },
      { re: new RegExp(String.raw`^(?:\*\*)?\(?${key}${suf}`, 'g'), prio: 250 },
      { re: new RegExp(`${pre}${key}${suf}`, 'g'), prio: 300 },
    ].map((p) => ({ ...p, at: new RegExp(p.re.source, 'dy') })),
    after: new RegExp(String.raw`\)?(?:\*\*)?${other}\)?(?:\*\*)?(?![A-Za-z0-9])`, 'y'),
    before: new RegExp(
      String.raw`(?:^|[^A-Za-z0-9\\])(?:\(?(?:\*\*)?([${allowed}])(?:\*\*)?\)?${LETTER_JOIN}|\(?(?:\*\*)?([${upper || '_'}])(?:\*\*)?\)?[ \t]*)(?:\*\*)?\(?$`,
    ),
  };
}
const LETTER_CACHE = new Map<string, LetterPats>();

/** The letter a text gives, or why it gives none (`hedge`: several letters offered as alternatives). */
export interface LetterAnswer {
  letter: string | null;
  hedge?: string;
}

/**
 * The multiple-choice letter a text gives (upper-cased), or null: `\boxed{B}`, `final answer is B`,
 * `Answer: (C)`, a leading `D.` or `A Peter`, else the last standalone letter; the article `a` and the
 * pronoun `i`/`I` of the prose (`so i pick (C)`, `I’m sure`) are not letters. A hedge is no answer
 * (null): the letter offered together with another allowed letter as alternatives (`A or B`,
 * `Answer: A, B, C, D`, `(A)(B)`, `A/B`) or several `\boxed{}` letters that differ — as the `auto`
 * extraction reads `the answer is 5 or 7` as the list {5, 7}, never as 5.
 *
 * @example
 * extractLetter('It is not A, so the answer is (C).', 'ABCD') // → 'C'
 * extractLetter('Answer: A or B', 'ABCD') // → null (a hedge)
 */
export function extractLetter(text: string, letters: string): string | null {
  return readLetter(text, letters).letter;
}

/** {@link extractLetter} with the reason when there is no letter (a hedge is named as such). */
export function readLetter(text: string, letters: string): LetterAnswer {
  const ls = letters.toUpperCase() + letters.toLowerCase();
  let lp = LETTER_CACHE.get(ls);
  if (!lp) {
    lp = letterPats(ls);
    LETTER_CACHE.set(ls, lp);
  }
  const t = text.trim();
  for (const prio of [0, 50, 100, 200, 250, 300]) {
    let best: { end: number; start: number; re: RegExp; l: string } | null = null;
    const boxedLetters = new Set<string>();
    for (const p of lp.pats) {
      if (p.prio !== prio) continue;
      p.re.lastIndex = 0;
      for (const m of t.matchAll(p.re)) {
        const end = m.index + m[0].length;
        const l = m.groups!['L']!;
        if (p.boxed) boxedLetters.add(l.toUpperCase());
        if (!best || end > best.end || (end === best.end && m.index < best.start)) best = { end, start: m.index, re: p.at, l };
      }
    }
    if (!best) continue;
    const letter = best.l.toUpperCase();
    best.re.lastIndex = best.start;
    const at = best.re.exec(t)!.indices!.groups!['L']![0];
    if (boxedLetters.size > 1) return { letter: null, hedge: `several boxed letters (${[...boxedLetters].sort().join(', ')})` };
    lp.after.lastIndex = at + 1;
    const next = lp.after.exec(t);
    const prev = lp.before.exec(t.slice(Math.max(0, at - 40), at));
    const others = [next?.[1] ?? next?.[2] ?? next?.[3], prev?.[1] ?? prev?.[2]].filter((o) => o !== undefined && o.toUpperCase() !== letter);
    if (others.length > 0) return { letter: null, hedge: `${letter} is offered with another letter as an alternative` };
    return { letter };
  }
  return { letter: null };
}
