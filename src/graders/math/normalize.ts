/**
 * Text-level clean-up of an extracted LaTeX answer before it is parsed, following the normalisation
 * Math-Verify applies (latex2sympy2_extended's `normalize_latex` with basic LaTeX, units, nits and
 * malformed-operator fixes on): boxed content, styling commands, `and`/`or` lists, percent words,
 * trailing units. Malformed operators (`\frac12`, `\sqrt3`, `\sqrt(2)`, `^(…)`) are left to the parser,
 * which reads them correctly instead of rewriting them with regexes.
 */

/**
 * Content of `\boxed{…}` / `\fbox{…}` in `text`, searching from the right.
 * `all`: every box, joined by commas. `last`: the last box, plus boxes just before it when they are
 * close (gap under 10 characters) or separated by a list word (`and`, `or`, `,`, `;`, gap under 70).
 * A box whose braces never close yields the rest of the text. No box: `text` unchanged.
 *
 * @example
 * boxedContent('so \\boxed{1} and \\boxed{2}.', 'last') // → '1,2'
 */
export function boxedContent(text: string, mode: 'all' | 'last'): string {
  const found: string[] = [];
  let limit = text.length;
  let searchEnd = text.length;
  let prevStart = -1;
  // Cached last positions: searching leftwards, a command not found before p is not found before q < p.
  let b = text.lastIndexOf('\\boxed');
  let f = text.lastIndexOf('\\fbox');
  for (;;) {
    if (b >= searchEnd) b = text.lastIndexOf('\\boxed', searchEnd - 1);
    if (f >= searchEnd) f = text.lastIndexOf('\\fbox', searchEnd - 1);
    if (b < 0 && f < 0) break;
    const start = Math.max(b, f);
    let p = start + (b > f ? 6 : 5);
    while (p < limit && /\s/.test(text[p]!)) p++;
    if (p >= limit) break;
    if (text[p] !== '{') {
      if (found.length === 0) found.push(text.slice(p));
      break;
    }
    let depth = 1;
    let q = p + 1;
    for (; q < limit; q++) {
      const c = text[q];
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    if (q >= limit) {
      if (found.length === 0) found.push(text.slice(p));
      break;
    }
    const content = text.slice(p + 1, q).trim();
    if (mode === 'last' && prevStart >= 0) {
      const gap = text.slice(q + 1, prevStart);
      const near = gap.length < 10;
      const listed = content !== found[found.length - 1] && gap.length < 70 && /\b(?:and|or)\b|,|;/.test(gap);
      if (!near && !listed) break;
    }
    if (found.length === 0 || found[found.length - 1] !== content) found.push(content);
    prevStart = start;
    limit = start;
    searchEnd = start;
  }
  return found.length === 0 ? text : found.reverse().join(',');
}

// One pass of replacements, leftmost match first, as one alternation (order matters where
// alternatives overlap, e.g. `\text{ and }` before a bare `and`).
const REPLACEMENTS: Array<[string, string]> = [
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
const REPLACE_RE = new RegExp(REPLACEMENTS.map(([p]) => `(${p})`).join('|'), 'g');

function replaceAll(text: string): string {
  return text.replace(REPLACE_RE, (...m: unknown[]) => {
    for (let i = 0; i < REPLACEMENTS.length; i++) if (m[i + 1] !== undefined) return REPLACEMENTS[i]![1];
    return m[0] as string;
  });
}

// Unit words stripped from the end of an answer (`125 miles`, `12 cm^2` inside \text is handled
// separately). Single letters (m, s, g …) only go when the rest is a plain number: `2c` stays `2c`.
const UNIT_WORDS = [
  'feet', 'foot', 'digit', 'pound', 'meal', 'edge', 'student', 'children ticket', 'multiple', 'east', 'west',
  'degree', 'mph', 'kmph', 'kmh', 'ft', 'sq m', 'deg', 'mile', 'monkey', 'prime', 'ratio', 'gm', 'lb', 'tile',
  'dm', 'lt', 'way', 'men', 'soldier', 'pie', 'inches', 'inch', 'noon', 'cent', 'gal', 'gallon', 'acre',
  'yr', 'year', 'women', 'woman', 'man', 'hr', 'hour', 'cu cm', 'square', 'rupee', 'rounds', 'cubic', 'cc',
  'mtr', 'ohm', 'day', 'minute', 'min', 'second', 'sec', 'cube', 'mt', 'sq inch', 'hectare', 'unit', 'cm',
  'mm', 'km', 'kg', 'month', 'apple', 'liter', 'litre', 'yard', 'metre', 'meter', 'coin', 'toy', 'mark',
  'dollar', 'cm 2', 'rs', 'am', 'pm', 'sq',
];
const UNIT_RE = new RegExp(`(\\d|\\}|\\s)\\s*(?:${UNIT_WORDS.map((w) => w.replace(/ /g, '\\s')).join('|')})(?:s|es)?\\s*$`);
const LETTER_UNIT_RE = /^(-?\d+(?:[.,]\d+)?)\s+(?:[mgslhtdc]|cm|mm|km|kg)\s*$/;

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
        const cut = text.slice(0, i).trim();
        return cut === '' ? text : cut;
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
      const t = s.replace(UNIT_RE, '$1');
      if (t.trim() !== '' && t !== s) s = t;
    }
    const single = LETTER_UNIT_RE.exec(s);
    if (single) s = single[1]!;
  }
  s = s.trim();
  if (s.startsWith('.') && /^\.\d/.test(s)) s = '0' + s;
  return s;
}
