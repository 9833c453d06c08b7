/**
 * A short string matching a regular expression, for the probe's `minimal-pattern` strategy: what a
 * policy writes to satisfy a regex reward with as little as possible. Covers the Perl/RE2 subset
 * reward specs use (literals, escapes, classes, groups, alternation, quantifiers, anchors); it takes
 * the fewest repetitions and the shortest alternative. The result is checked against the pattern
 * and dropped (null) when it does not match, so an unsupported construct costs an attempt, never a
 * wrong claim.
 */

interface Cursor {
  s: string;
  i: number;
}

const CLASS_ESCAPES: Record<string, string> = { d: '0', D: 'a', w: 'a', W: ' ', s: ' ', S: 'a', h: ' ', v: '\n' };
const CONTROL_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', '0': '\0' };
const ZERO_WIDTH = new Set(['b', 'B', 'A', 'z', 'Z', 'G']);

/** Reads one escape after `\`; returns the character it stands for ('' for an assertion). */
function escape(c: Cursor): string {
  const ch = c.s[c.i++] ?? '';
  if (ZERO_WIDTH.has(ch)) return '';
  if (ch in CLASS_ESCAPES) return CLASS_ESCAPES[ch]!;
  if (ch in CONTROL_ESCAPES) return CONTROL_ESCAPES[ch]!;
  if (ch === 'p' || ch === 'P') {
    if (c.s[c.i] === '{') c.i = c.s.indexOf('}', c.i) + 1;
    else c.i++;
    return ch === 'p' ? 'a' : ' ';
  }
  if (ch === 'x') {
    if (c.s[c.i] === '{') {
      const end = c.s.indexOf('}', c.i);
      const cp = parseInt(c.s.slice(c.i + 1, end), 16);
      c.i = end + 1;
      return String.fromCodePoint(cp);
    }
    const cp = parseInt(c.s.slice(c.i, c.i + 2), 16);
    c.i += 2;
    return String.fromCharCode(cp);
  }
  if (ch === 'u') {
    const cp = parseInt(c.s.slice(c.i, c.i + 4), 16);
    c.i += 4;
    return String.fromCharCode(cp);
  }
  if (ch === 'Q') {
    const end = c.s.indexOf('\\E', c.i);
    const lit = c.s.slice(c.i, end < 0 ? c.s.length : end);
    c.i = end < 0 ? c.s.length : end + 2;
    return lit;
  }
  return ch;
}

/** Reads a `[...]` class (after `[`) and returns one character it accepts. */
function charClass(c: Cursor): string {
  const negated = c.s[c.i] === '^';
  if (negated) c.i++;
  const members: string[] = [];
  let first = true;
  while (c.i < c.s.length && (c.s[c.i] !== ']' || first)) {
    first = false;
    let ch = c.s[c.i++]!;
    if (ch === '[' && c.s[c.i] === ':') {
      const end = c.s.indexOf(':]', c.i);
      const name = c.s.slice(c.i + 1, end);
      c.i = end + 2;
      members.push(name === 'digit' ? '0' : name === 'space' ? ' ' : 'a');
      continue;
    }
    if (ch === '\\') ch = escape(c);
    if (c.s[c.i] === '-' && c.s[c.i + 1] !== ']' && c.i + 1 < c.s.length) {
      c.i++;
      let hi = c.s[c.i++]!;
      if (hi === '\\') hi = escape(c);
      for (let k = ch.charCodeAt(0); k <= hi.charCodeAt(0) && k < ch.charCodeAt(0) + 128; k++) members.push(String.fromCharCode(k));
      continue;
    }
    members.push(ch);
  }
  c.i++; // ]
  if (!negated) return members[0] ?? 'a';
  for (const cand of ['a', 'x', '0', ' ', 'Z', '_', '.', '#']) if (!members.includes(cand)) return cand;
  return '\u00e9';
}

/** Applies a quantifier after an atom, if any: the fewest repetitions it allows. */
function quantified(c: Cursor, atom: string): string {
  const q = c.s[c.i];
  let times = 1;
  if (q === '*' || q === '?') {
    times = 0;
    c.i++;
  } else if (q === '+') c.i++;
  else if (q === '{') {
    const m = /^\{(\d*)(,\d*)?\}/.exec(c.s.slice(c.i));
    if (m) {
      times = m[1] === '' ? 0 : Number(m[1]);
      c.i += m[0].length;
    } else return atom;
  } else return atom;
  if (c.s[c.i] === '?' || c.s[c.i] === '+') c.i++; // lazy / possessive
  return atom.repeat(times);
}

/** Parses alternatives until `)` or the end; returns the shortest. */
function alternation(c: Cursor): string {
  const alts: string[] = [];
  let cur = '';
  while (c.i < c.s.length) {
    const ch = c.s[c.i]!;
    if (ch === ')') break;
    if (ch === '|') {
      alts.push(cur);
      cur = '';
      c.i++;
      continue;
    }
    c.i++;
    let atom: string;
    if (ch === '^' || ch === '$') atom = '';
    else if (ch === '\\') atom = escape(c);
    else if (ch === '[') atom = charClass(c);
    else if (ch === '.') atom = 'a';
    else if (ch === '(') {
      let lookaround = false;
      if (c.s[c.i] === '?') {
        const m = /^\?(?:P?<[A-Za-z_]\w*>|[imsU-]*:|[=!]|<[=!]|[imsU-]+\))/.exec(c.s.slice(c.i));
        if (m) {
          lookaround = /^\?(?:[=!]|<[=!])/.test(m[0]);
          c.i += m[0].length;
          if (m[0].endsWith(')')) {
            cur += '';
            continue;
          }
        }
      }
      const inner = alternation(c);
      c.i++; // )
      atom = lookaround ? '' : inner;
    } else atom = ch;
    cur += quantified(c, atom);
  }
  alts.push(cur);
  return alts.reduce((a, b) => (b.length < a.length ? b : a));
}

/**
 * A short string the pattern matches (searching, as the `regex` grader does), or null when none was
 * found.
 *
 * @example
 * minimalMatch('\\\\boxed\\{.*\\}') // → '\\boxed{}'
 * minimalMatch('^<think>[\\s\\S]*</think>\\s*<answer>[\\s\\S]+</answer>$') // → '<think></think><answer> </answer>'
 */
export function minimalMatch(pattern: string): string | null {
  let out: string;
  try {
    const c: Cursor = { s: pattern, i: 0 };
    out = '';
    while (c.i < c.s.length) {
      out += alternation(c);
      if (c.s[c.i] === ')') c.i++; // an unbalanced `)`: skip it
    }
  } catch {
    return null;
  }
  try {
    return new RegExp(pattern, 'u').test(out) || new RegExp(pattern).test(out) ? out : null;
  } catch {
    return out; // RE2-only syntax: let the grader decide
  }
}
