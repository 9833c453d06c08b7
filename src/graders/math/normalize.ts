/**
 * Text-level clean-up of an extracted LaTeX answer before it is parsed, following the normalisation
 * Math-Verify applies (latex2sympy2_extended's `normalize_latex` with basic LaTeX, units, nits and
 * malformed-operator fixes on): boxed content, styling commands, `and`/`or` lists, percent words,
 * trailing units. Malformed operators (`\frac12`, `\sqrt3`, `\sqrt(2)`, `^(…)`) are left to the parser,
 * which reads them correctly instead of rewriting them with regexes.
 */
import { boxContent, boxSpans } from '../boxes.js';

/**
 * Content of `\boxed{…}` / `\fbox{…}` in `text`, the outermost boxes (see `boxes.ts`: escaped braces,
 * boxes inside a box replaced by their content, `\boxed 5`), searching from the right.
 * `all`: every box, joined by commas. `last`: the last box, plus boxes just before it when they are
 * close (gap under 10 characters) or separated by a list word (`and`, `or`, `,`, `;`, gap under 70).
 * A box whose brace never closes holds the rest of the text. No box: `text` unchanged.
 *
 * @example
 * boxedContent('so \\boxed{1} and \\boxed{2}.', 'last') // → '1,2'
 */
export function boxedContent(text: string, mode: 'all' | 'last'): string {
  const boxes = text.includes('\\boxed') || text.includes('\\fbox') ? boxSpans(text) : [];
  if (boxes.length === 0) return text;
  const found: string[] = [];
  let prevStart = -1;
  for (let k = boxes.length - 1; k >= 0; k--) {
    const b = boxes[k]!;
    // An unclosed box: the rest of the text from its brace (as before: `so \boxed{12` → `{12`).
    const content = boxContent(text, b, b.closed ? b.from : b.from - 1).trim();
    if (mode === 'last' && prevStart >= 0) {
      const gap = text.slice(b.end, prevStart);
      const near = gap.length < 10;
      const listed = content !== found[found.length - 1] && gap.length < 70 && /\b(?:and|or)\b|,|;/.test(gap);
      if (!near && !listed) break;
    }
    if (found.length === 0 || found[found.length - 1] !== content) found.push(content);
    prevStart = b.start;
  }
  return found.reverse().join(',');
}

// One pass of replacements, leftmost match first, as one alternation (order matters where
// alternatives overlap, e.g. `\text{ and }` before a bare `and`).
export const REPLACEMENTS: Array<[string, string]> = [
  ['\\\\math(?:rm|it|bf)(?![a-zA-Z])', '\\text'],
  ['\\\\text(?:normal|bf|it|rm)(?![a-zA-Z])', '\\text'],
  ['\\\\[dtc]frac(?![a-zA-Z])', '\\frac'],
  ['\\s\\.(?=\\d)', ' 0.'],
  ['\\{\\.(?=\\d)', '{0.'],
  ['~=', '\\approx'],
  ['\\s*\\{\\s*,\\s*\\}', ','],
  [',?\\s*\\\\text\\s*\\{\\s*(?:and|or)\\s*\\}', ','],
  ['(?<![a-zA-Z\\\\])(?:,?\\s*(?:and|or))(?![a-zA-Z])', ','],
  ['(?<!\\\\)\\\\\\s', ' '],
  ['infinity', '\\infty'],
  [',?\\s*\\\\[lc]?dots(?![a-zA-Z])', ' '],
  ['\\\\text\\{\\s*(?:percentage|percent|pct)\\s*\\}', '\\%'],
  ['\\s*\\b(?:percentage|percent|pct)\\b', '\\%'],
  ['(?<![\\\\a-zA-Z])inf(?![a-zA-Z])', '\\infty'],
];
const REPLACE_Y = new RegExp(REPLACEMENTS.map(([p]) => `(${p})`).join('|'), 'y');
const WS = /\s/;

/**
 * The same result as `text.replace(<REPLACEMENTS as one global alternation>)`, in linear time. A global
 * replace retries the alternation at every position, and the alternatives that begin with `\s*` scan
 * to the end of a whitespace run each time: quadratic on a long run. Here the alternation is tried at
 * each position with a sticky regex, and inside a run it is tried only where the outcome can differ:
 * at a position preceded by whitespace, every alternative gives the same result as at the next
 * position except `\s\.(?=\d)`, which can only match at the run's last character, so after a failure
 * there the scan jumps to the run's last character (the alternatives' lookbehinds only look at the
 * preceding character, which is whitespace all along the run).
 * Exported for tests.
 */
export function replaceAll(text: string): string {
  let out = '';
  let last = 0;
  let p = 0;
  while (p < text.length) {
    REPLACE_Y.lastIndex = p;
    const m = REPLACE_Y.exec(text);
    if (m) {
      let rep = m[0];
      for (let i = 0; i < REPLACEMENTS.length; i++)
        if (m[i + 1] !== undefined) {
          rep = REPLACEMENTS[i]![1];
          break;
        }
      out += text.slice(last, p) + rep;
      p = last = p + m[0].length;
      continue;
    }
    if (p > 0 && WS.test(text[p]!) && WS.test(text[p - 1]!)) {
      let e = p + 1;
      while (e < text.length && WS.test(text[e]!)) e++;
      p = Math.max(p + 1, e - 1);
    } else p++;
  }
  return last === 0 ? text : out + text.slice(last);
}

// Unit words stripped from the end of an answer (`125 miles`, `12 cm^2` inside \text is handled
// separately). Single letters (m, s, g …) only go when the rest is a plain number: `2c` stays `2c`.
export const UNIT_WORDS = [
  'feet', 'foot', 'digit', 'pound', 'meal', 'edge', 'student', 'children ticket', 'multiple', 'east', 'west',
  'degree', 'mph', 'kmph', 'kmh', 'ft', 'sq m', 'deg', 'mile', 'monkey', 'prime', 'ratio', 'gm', 'lb', 'tile',
  'dm', 'lt', 'way', 'men', 'soldier', 'pie', 'inches', 'inch', 'noon', 'cent', 'gal', 'gallon', 'acre',
  'yr', 'year', 'women', 'woman', 'man', 'hr', 'hour', 'cu cm', 'square', 'rupee', 'rounds', 'cubic', 'cc',
  'mtr', 'ohm', 'day', 'minute', 'min', 'second', 'sec', 'cube', 'mt', 'sq inch', 'hectare', 'unit', 'cm',
  'mm', 'km', 'kg', 'month', 'apple', 'liter', 'litre', 'yard', 'metre', 'meter', 'coin', 'toy', 'mark',
  'dollar', 'cm 2', 'rs', 'am', 'pm', 'sq',
];
const UNIT_ALTS = UNIT_WORDS.flatMap((w) => [w, w + 's', w + 'es']);

/**
 * Strips one trailing unit word, as `text.replace(/(\d|\}|\s)\s*(?:<unit words>)(?:s|es)?\s*$/, '$1')`
 * would (a space inside a unit word stands for any one whitespace character), in linear time: that
 * regex retries `\s*` from every position of a whitespace run (quadratic). The replaced match keeps
 * only its first character, so the result is the text up to the leftmost possible match start:
 * the character (digit, `}` or whitespace) before the whitespace run that precedes a unit word
 * ending the text (before trailing whitespace).
 * Exported for tests.
 */
export function stripUnit(text: string): string {
  let e = text.length;
  while (e > 0 && WS.test(text[e - 1]!)) e--;
  let best = -1;
  for (const w of UNIT_ALTS) {
    const q = e - w.length;
    if (q < 1) continue;
    let ok = true;
    for (let k = 0; k < w.length && ok; k++) ok = w[k] === ' ' ? WS.test(text[q + k]!) : text[q + k] === w[k];
    if (!ok) continue;
    let r = q;
    while (r > 0 && WS.test(text[r - 1]!)) r--;
    // The match starts at the digit or `}` before the run, else at the run's first whitespace.
    const start = r > 0 && /[\d}]/.test(text[r - 1]!) ? r - 1 : r < q ? r : -1;
    if (start >= 0 && (best < 0 || start < best)) best = start;
  }
  return best < 0 ? text : text.slice(0, best + 1);
}
const LETTER_UNIT_RE = /^(-?\d+(?:[.,]\d+)?)\s+(?:[mgslhtdc]|cm|mm|km|kg)\s*$/;

// After a separator, the start of another answer: a LaTeX command, `$` or a one-letter variable
// (behind spaces, `(` and a sign), or a bound (`5 \text{ or more}` is not 5). Sticky, tried once per
// separator: linear in the text.
const ANOTHER = /\s*(?:\(\s*)?(?:[-+]\s*)?(?:\\[a-zA-Z]|\$|[a-zA-Z](?![a-zA-Z])|(?:more|less|fewer|greater|larger|smaller|higher|lower|above|below|over|under)(?![a-zA-Z]))/y;

/**
 * True when a trailing text group names another answer after `,`, `;`, `or` or `and` (`or`/`and` are
 * already `,` here): a number before the group closes, or a LaTeX command, `$` or a one-letter
 * variable — `\text{ (or 7)}`, `\text{ (or \frac{1}{2})}`, `\text{ or p - q}`. One left-to-right pass.
 */
function namesAnotherAnswer(s: string): boolean {
  let sep = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    let at = -1;
    if (c === ',' || c === ';') at = i + 1;
    else if ((c === 'o' || c === 'a' || c === 'O' || c === 'A') && !/[a-zA-Z]/.test(s[i - 1] ?? '')) {
      const w = /^(?:or|and)(?![a-zA-Z])/i.exec(s.slice(i, i + 4));
      if (w) at = i + w[0].length;
    }
    if (at >= 0) {
      sep = true;
      ANOTHER.lastIndex = at;
      if (ANOTHER.test(s)) return true;
      i = at - 1;
    } else if (c === '}') sep = false;
    else if (sep && c >= '0' && c <= '9') return true;
  }
  return false;
}

function stripTrailingText(text: string): string {
  // From the first top-level \text{ / \mbox{ to the end, when the answer ends with that group
  // (optionally ^2): `15\mbox{ cm}^2` → `15`, `\frac{1}{3} \text{meters}` → `\frac{1}{3}`. Groups inside
  // braces stay (Math-Verify cuts `1 - \frac{1}{\text{e}}` to `1 - \frac{1}{`, which then reads as 1).
  if (!/\}(?:\^\d|\{\^\d\})?\s*$/.test(text)) return text;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if (depth === 0 && /^\\(?:text|mbox)\s*\{/.test(text.slice(i, i + 8))) {
        // `5 \text{ (or 7)}` is a hedge, not a unit: keep it (it then reads as no single value).
        if (namesAnotherAnswer(text.slice(i))) return text;
        const cut = text.slice(0, i).trim();
        // `0, \text{Navin}` is a list with a word in it, not 0 with a unit.
        return cut === '' || /[,;]$/.test(cut) ? text : cut;
      }
      i++;
    } else if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return text;
}

/**
 * Normalises an extracted LaTeX answer (see the module doc). `boxed` chooses how `\boxed{}` content
 * is taken: `all` boxes joined, the `last` box (see {@link boxedContent}), or `none`.
 *
 * @example
 * normalizeLatex('\\boxed{\\dfrac{1}{3} \\text{ meters}}', 'all') // → '\\frac{1}{3}'
 */
export function normalizeLatex(text: string, boxed: 'all' | 'last' | 'none' = 'all'): string {
  let s = boxed === 'none' || !text.includes('\\') ? text : boxedContent(text, boxed);
  if (s.includes('\\math') || s.includes('\\rm')) {
    s = s
      .replace(/\\mathrm\{T\}/g, 'T')
      .replace(/\\mathrm\{d\}|\{\\rm d\}/g, 'd')
      .replace(/\\mathrm\{e\}/g, 'e')
      .replace(/\\mathrm\{i\}/g, 'i');
  }
  if (s.includes('matrix')) {
    s = s.replace(/\\left\[\s*\\begin\{matrix\}/g, '\\begin{bmatrix}').replace(/\\end\{matrix\}\s*\\right\]/g, '\\end{bmatrix}');
  }
  s = s.replace(/\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle|\\textstyle/g, '');
  s = replaceAll(s);
  if (/[\n\t\r]/.test(s)) s = s.replace(/[\n\t\r]/g, ' ');
  if (s.includes('\\\\') && !s.includes('matrix') && !s.includes('array')) s = s.replace(/\\\\(?=[a-zA-Z])/g, '\\');
  s = stripTrailingText(s);
  if (/[a-zA-Z]\s*$/.test(s)) {
    for (let i = 0; i < 2; i++) {
      const t = stripUnit(s);
      if (t.trim() !== '' && t !== s) s = t;
    }
    const single = LETTER_UNIT_RE.exec(s);
    if (single) s = single[1]!;
  }
  s = s.trim();
  if (s.startsWith('.') && /^\.\d/.test(s)) s = '0' + s;
  return s;
}
