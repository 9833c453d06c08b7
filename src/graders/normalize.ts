import * as z from 'zod';

/**
 * Text normalisation shared by the graders that compare text with a reference
 * (`exact`, `contains`, `regex` with `reference`, the similarity graders).
 * Steps run in a fixed order: unwrap markdown → unwrap LaTeX → case → punctuation → whitespace → trim.
 */
export const normalizeSchema = z
  .strictObject({
    trim: z.boolean().default(true).describe('Remove leading and trailing whitespace (default true).'),
    case: z
      .enum(['keep', 'lower'])
      .default('keep')
      .describe('`lower` compares case-insensitively (Unicode-aware lower-casing).'),
    whitespace: z
      .boolean()
      .default(false)
      .describe('Collapse every run of whitespace (spaces, tabs, newlines, NBSP) into one space.'),
    punctuation: z
      .boolean()
      .default(false)
      .describe('Delete Unicode punctuation and symbols except those inside numbers: between two digits (3.14, 1,000, 1/2, 5-10) and a leading minus (-2; `−2` becomes -2).'),
    latex: z
      .boolean()
      .default(false)
      .describe('Unwrap `$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`, `\\boxed{…}`, `\\fbox{…}`, `\\text{…}`, `\\mathrm{…}`, `\\textbf{…}`.'),
    markdown: z
      .boolean()
      .default(false)
      .describe('Unwrap markdown emphasis (`**x**`, `*x*`, `__x__`, `_x_`), inline code (`` `x` ``) and fenced code blocks.'),
  })
  .describe('Text normalisation applied to both the completion and the reference before comparing.');

export type NormalizeOptions = z.infer<typeof normalizeSchema>;

/** The defaults (trim only), as a parsed object. */
export const DEFAULT_NORMALIZE: NormalizeOptions = normalizeSchema.parse({});

const LATEX_COMMANDS = ['boxed', 'fbox', 'text', 'textrm', 'mathrm', 'textbf', 'mathbf', 'textit', 'mbox'];

/** Removes `\cmd{…}` wrappers (balanced braces), keeping their content. Linear in the input. */
function unwrapLatexCommands(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  let i = 0;
  // Stack of "this closing brace belongs to an unwrapped command" flags, one per open brace.
  const stack: boolean[] = [];
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') {
      let j = i + 1;
      while (j < s.length && /[A-Za-z]/.test(s[j]!)) j++;
      const cmd = s.slice(i + 1, j);
      let k = j;
      while (k < s.length && s[k] === ' ') k++;
      if (LATEX_COMMANDS.includes(cmd) && s[k] === '{') {
        stack.push(true);
        i = k + 1;
        continue;
      }
      out += s.slice(i, j === i + 1 ? i + 2 : j);
      i = j === i + 1 ? i + 2 : j;
      continue;
    }
    if (c === '{') {
      stack.push(false);
      out += c;
    } else if (c === '}') {
      const unwrapped = stack.pop();
      if (!unwrapped) out += c;
    } else {
      out += c;
    }
    i++;
  }
  return out;
}

function unwrapLatex(s: string): string {
  let t = s.trim();
  for (;;) {
    const before = t;
    if (t.startsWith('$$') && t.endsWith('$$') && t.length >= 4) t = t.slice(2, -2).trim();
    else if (t.startsWith('$') && t.endsWith('$') && t.length >= 2) t = t.slice(1, -1).trim();
    else if ((t.startsWith('\\(') && t.endsWith('\\)')) || (t.startsWith('\\[') && t.endsWith('\\]')))
      t = t.slice(2, -2).trim();
    if (t === before) break;
  }
  return unwrapLatexCommands(t);
}

/**
 * Unwraps fenced code blocks: the result of `s.replace(/```[^\n]*\n([\s\S]*?)```/g, '$1')` in linear
 * time (that regex rescans the rest of the line from every backtick of a long backtick run). A fence
 * that has no newline after it, or no closing fence after that newline, cannot be followed by a
 * block that has one, so the scan stops at the first such fence.
 */
function unwrapFences(s: string): string {
  let out = '';
  let p = 0;
  for (;;) {
    const open = s.indexOf('```', p);
    if (open < 0) break;
    const nl = s.indexOf('\n', open + 3);
    if (nl < 0) break;
    const close = s.indexOf('```', nl + 1);
    if (close < 0) break;
    out += s.slice(p, open) + s.slice(nl + 1, close);
    p = close + 3;
  }
  return p === 0 ? s : out + s.slice(p);
}

const WS = /\s/;

/** For each x: the smallest k ≥ x where `s` has `delim` at k and a non-space before it (`s.length` + 1 when none). */
function closers(s: string, delim: string): Int32Array {
  const none = s.length + 1;
  const at = new Int32Array(s.length + 2).fill(none);
  for (let k = s.length - 1; k >= 1; k--) at[k] = s.startsWith(delim, k) && !WS.test(s[k - 1]!) ? k : at[k + 1]!;
  return at;
}

/**
 * Unwraps `**x**` and `__x__`: the result of `s.replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, '$2')` in
 * linear time (that regex rescans the rest of the line from every unclosed `**`, e.g. `**a **a **a …`).
 * From each opening delimiter followed by a non-space, the match ends at the nearest same delimiter
 * preceded by a non-space, provided no newline comes first — looked up in tables built once.
 */
function unwrapStrong(s: string): string {
  if (!s.includes('**') && !s.includes('__')) return s;
  const close = { '**': closers(s, '**'), __: closers(s, '__') };
  const nextNl = new Int32Array(s.length + 1).fill(s.length);
  for (let i = s.length - 1; i >= 0; i--) nextNl[i] = s[i] === '\n' ? i : nextNl[i + 1]!;
  let out = '';
  let last = 0;
  let p = 0;
  while (p + 2 < s.length) {
    const d = s.startsWith('**', p) ? '**' : s.startsWith('__', p) ? '__' : null;
    if (d !== null && !WS.test(s[p + 2]!)) {
      const k = close[d][p + 3]!;
      if (k <= s.length - 2 && nextNl[p + 2]! >= k) {
        out += s.slice(last, p) + s.slice(p + 2, k);
        p = last = k + 2;
        continue;
      }
    }
    p++;
  }
  return last === 0 ? s : out + s.slice(last);
}

function unwrapMarkdown(s: string): string {
  return unwrapStrong(unwrapFences(s).replace(/`([^`\n]*)`/g, '$1'))
    .replace(/(\*|_)(?=\S)([^\n*_]*?\S)\1/g, '$2');
}

const PUNCT = /[\p{P}\p{S}]/gu;
/**
 * Punctuation kept by `punctuation: true`: a mark or symbol between two digits (`3.14`, `1,000`,
 * `1/2`, `5-10`, `10^3`, `2:30` — deleting it would merge two numbers into another one: `1/2` is not
 * `12`) and a minus sign before a digit that follows no letter or digit (`-2`; U+2212 `−2` is
 * written `-2`).
 */
const NUMBER_PUNCT = /(?<=\d)[\p{P}\p{S}](?=\d)|(?<![\p{L}\p{N}])[-\u2212](?=\d)/gu;

function stripPunctuation(s: string): string {
  // The kept punctuation is copied; the text between it loses its punctuation and symbols.
  let out = '';
  let last = 0;
  for (const m of s.matchAll(NUMBER_PUNCT)) {
    out += s.slice(last, m.index).replace(PUNCT, '') + (m[0] === '\u2212' ? '-' : m[0]);
    last = m.index + m[0].length;
  }
  return last === 0 ? s.replace(PUNCT, '') : out + s.slice(last).replace(PUNCT, '');
}

/**
 * Normalises `text` with `opts`.
 * @example
 * normalizeText('  **The  Answer:** $42$ ', { ...DEFAULT_NORMALIZE, case: 'lower', whitespace: true, markdown: true, latex: true, punctuation: true })
 * // → 'the answer 42'
 */
export function normalizeText(text: string, opts: NormalizeOptions): string {
  let s = text;
  if (opts.markdown) s = unwrapMarkdown(s);
  if (opts.latex) s = unwrapLatex(s);
  if (opts.case === 'lower') s = s.toLowerCase();
  if (opts.punctuation) s = stripPunctuation(s);
  if (opts.whitespace) s = s.replace(/\s+/g, ' ');
  if (opts.trim) s = s.trim();
  return s;
}

/**
 * The reference as text: a string as is, a number or boolean via String(); an array gives each
 * item (graders accept any of several references). Anything else is not a text reference.
 */
export function referenceTexts(reference: unknown): string[] | null {
  if (typeof reference === 'string') return [reference];
  if (typeof reference === 'number' || typeof reference === 'boolean') return [String(reference)];
  if (Array.isArray(reference) && reference.every((r) => typeof r === 'string' || typeof r === 'number'))
    return reference.map(String);
  return null;
}

/** Invisible format characters: zero-width spaces and joiners, bidi marks and overrides, word joiner, BOM, soft hyphen. */
const INVISIBLE = '\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff';
/** Full-width digits ０–９. */
const WIDE_DIGITS = '\\uff10-\\uff19';
const INVISIBLE_OR_WIDE = new RegExp(`[${INVISIBLE}${WIDE_DIGITS}]`);
const INVISIBLE_G = new RegExp(`[${INVISIBLE}]`, 'g');
const WIDE_DIGIT_G = new RegExp(`[${WIDE_DIGITS}]`, 'g');

/**
 * A text as the number and math readers see it: invisible format characters removed (a zero-width
 * space, a bidi mark or override, a word joiner, a BOM, a soft hyphen — `1\u200b8` is the 18 a reader
 * sees, not 1 and 8; `\u202e81` reads 81, its characters' order) and full-width digits (`１８`) made
 * ASCII. Other characters are kept. The text itself when it has none (one regex test).
 *
 * @example
 * foldForNumbers('\\boxed{１\u200b８}') // → '\\boxed{18}'
 */
export function foldForNumbers(text: string): string {
  if (!INVISIBLE_OR_WIDE.test(text)) return text;
  return text.replace(INVISIBLE_G, '').replace(WIDE_DIGIT_G, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
}
