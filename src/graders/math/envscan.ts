/**
 * Finds LaTeX math spans in linear time, with the span rules of Math-Verify's extraction regexes:
 * `$$…$$` and `\[…\]` (may span lines), `$…$`, `\(…\)` and ` […] ` (one line), and a bare
 * `\frac{a}{b}` of numbers; each optionally followed by a percent sign or word; up to six spans
 * chained by `,`, `and`, `or`. Spans are taken left to right without overlap, each closed at the first
 * delimiter that can close it. A `boxed` scan keeps only spans that contain `\boxed{…}`/`\fbox{…}`.
 * Backtracking regexes do the same but go quadratic on unclosed delimiters (`\(` repeated on one
 * line); this scanner looks each delimiter up once.
 */
import { type Deadline, NO_DEADLINE } from './deadline.js';

/** `$$…$$`, `\[…\]`, `$…$`, `\(…\)`, ` […] `, bare `\frac{a}{b}`. */
export type EnvKind = 'dd' | 'db' | 'id' | 'ip' | 'ib' | 'fr';

/** One math span. */
export interface Span {
  kind: EnvKind;
  /** Text between the delimiters (the whole `\frac{…}{…}` for `fr`). */
  content: string;
  pct: boolean;
  start: number;
  /** End of the span including its delimiter, the whitespace after it and a percent suffix. */
  end: number;
}

/** Spans joined by `,`/`and`/`or`, read together as one answer (a set when several parse). */
export interface Chain {
  start: number;
  end: number;
  spans: Span[];
}

const WS = /\s/;
/** `\s` as JavaScript reads it, without a regex call for ASCII. */
function isWs(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  if (k === 32 || (k >= 9 && k <= 13)) return true;
  return k >= 128 && WS.test(c);
}
// Where a span can start: `$`, `\[`, `\(`, a space before `[`, a (negative) bare fraction.
const START_PLAIN = /\$|\\[[(]|\s\[|-?\\frac\{/g;
const START_BOXED = /\$|\\[[(]|\s\[/g;
const FRAC = /-?\\frac\{-?\d+(?:[.,]\d+)?\}\{-?\d+(?:[.,]\d+)?\}/y;
const PCT = /\s*(?:\\?%|[Pp]ercent(?:age)?|[Pp]ct)?/y;
const SEP = /\s*(?:,?and|,?or|,)\s*/y;
const TRAIL_WS = /\s*/y;

/** Next index ≥ i of a needle, memoised for the monotone scans the scanner makes. */
class NextIndex {
  private from = -1;
  private at = -1;
  constructor(
    private readonly text: string,
    private readonly needle: string,
  ) {}
  get(i: number): number {
    if (i >= this.from && this.from >= 0 && (this.at < 0 || i <= this.at)) return this.at;
    this.from = i;
    this.at = this.text.indexOf(this.needle, i);
    return this.at;
  }
}

/** Span finder over one text; lookups are memoised, so a left-to-right scan is linear. */
export class LatexScanner {
  private readonly dd: NextIndex;
  private readonly rb: NextIndex;
  private readonly rp: NextIndex;
  private readonly nl: NextIndex;
  private readonly dollar: NextIndex;
  private readonly rbracket: NextIndex;
  private readonly lbracket: NextIndex;
  private readonly boxed: NextIndex;
  private readonly fbox: NextIndex;
  private readonly brace: NextIndex;

  constructor(
    readonly text: string,
    private readonly deadline: Deadline = NO_DEADLINE,
  ) {
    this.dd = new NextIndex(text, '$$');
    this.rb = new NextIndex(text, '\\]');
    this.rp = new NextIndex(text, '\\)');
    this.nl = new NextIndex(text, '\n');
    this.dollar = new NextIndex(text, '$');
    this.rbracket = new NextIndex(text, ']');
    this.lbracket = new NextIndex(text, '[');
    this.boxed = new NextIndex(text, '\\boxed{');
    this.fbox = new NextIndex(text, '\\fbox{');
    this.brace = new NextIndex(text, '}');
  }

  private nextUnescapedDollar(i: number): number {
    let k = this.dollar.get(i);
    while (k > 0 && this.text[k - 1] === '\\') k = this.text.indexOf('$', k + 1);
    return k;
  }

  /** True when text[a, b) holds `\boxed{` (or `\fbox{`) with at least one character and a `}` after it. */
  private hasBox(a: number, b: number): boolean {
    for (const [idx, len] of [
      [this.boxed, 7],
      [this.fbox, 6],
    ] as const) {
      const k = idx.get(a);
      if (k >= 0 && k < b) {
        const close = this.brace.get(k + len + 1);
        if (close >= 0 && close < b) return true;
      }
    }
    return false;
  }

  /** The span starting exactly at `p` (first alternative that fits, in Math-Verify's order). */
  spanAt(p: number, boxed: boolean): Span | null {
    const t = this.text;
    const c = t[p];
    const prev = p > 0 ? t[p - 1] : '';
    let kind: EnvKind | null = null;
    let cs = 0;
    let ce = -1;
    let close = 0;
    if (c === '$' && t[p + 1] === '$' && prev !== '\\') {
      const k = this.dd.get(p + 2);
      if (k > p + 2 && t[k - 1] !== '\\') [kind, cs, ce, close] = ['dd', p + 2, k, k + 2];
    }
    if (kind === null && c === '\\' && t[p + 1] === '[' && prev !== '\\') {
      const k = this.rb.get(p + 2);
      if (k > p + 2 && t[k - 1] !== '\\') [kind, cs, ce, close] = ['db', p + 2, k, k + 2];
    }
    if (kind === null && c === '$' && prev !== '\\' && !(prev >= '0' && prev <= '9')) {
      const k = this.nextUnescapedDollar(p + 1);
      const nl = this.nl.get(p + 1);
      if (k > p + 1 && (nl < 0 || nl > k)) [kind, cs, ce, close] = ['id', p + 1, k, k + 1];
    }
    if (kind === null && c === '\\' && t[p + 1] === '(' && prev !== '\\') {
      const k = this.rp.get(p + 2);
      const nl = this.nl.get(p + 2);
      if (k > p + 2 && t[k - 1] !== '\\' && (nl < 0 || nl > k)) [kind, cs, ce, close] = ['ip', p + 2, k, k + 2];
    }
    if (kind === null && isWs(c) && t[p + 1] === '[') {
      const k = this.rbracket.get(p + 2);
      const nl = this.nl.get(p + 2);
      const lb = this.lbracket.get(p + 2);
      if (k > p + 2 && (nl < 0 || nl > k) && (lb < 0 || lb > k) && isWs(t[k + 1])) {
        [kind, cs, ce, close] = ['ib', p + 2, k, k + 2];
      }
    }
    if (kind === null && !boxed && (c === '\\' || c === '-')) {
      FRAC.lastIndex = p;
      const m = FRAC.exec(t);
      if (m) [kind, cs, ce, close] = ['fr', p, p + m[0].length, p + m[0].length];
    }
    if (kind === null) return null;
    if (boxed && !this.hasBox(cs, ce)) return null;
    PCT.lastIndex = close;
    const m = PCT.exec(t)!;
    const pct = /\S/.test(m[0]);
    return { kind, content: t.slice(cs, ce), pct, start: p, end: close + m[0].length };
  }

  /** A chain of spans starting exactly at `p`, or null. */
  chainAt(p: number, boxed: boolean): Chain | null {
    const first = this.spanAt(p, boxed);
    if (!first) return null;
    const spans = [first];
    let end = first.end;
    while (spans.length < 6) {
      const t = this.text;
      let at = end;
      if (boxed) {
        TRAIL_WS.lastIndex = end;
        at = end + TRAIL_WS.exec(t)![0].length;
      }
      SEP.lastIndex = at;
      const m = SEP.exec(t);
      if (!m) break;
      const q = at + m[0].length;
      // The separator's trailing whitespace may give one character back to a ` [..] ` span.
      const next = this.spanAt(q, boxed) ?? (q > at && isWs(t[q - 1]) ? this.spanAt(q - 1, boxed) : null);
      if (!next || (next.start < q && next.kind !== 'ib')) break;
      spans.push(next);
      end = next.end;
    }
    if (boxed) {
      TRAIL_WS.lastIndex = end;
      end += TRAIL_WS.exec(this.text)![0].length;
    }
    return { start: p, end, spans };
  }

  /** Every chain, left to right without overlap, scanning from `from` (as `re.finditer` would). */
  all(boxed: boolean, from = 0): Chain[] {
    const out: Chain[] = [];
    const t = this.text;
    const starts = boxed ? START_BOXED : START_PLAIN;
    let p = from;
    while (p < t.length) {
      this.deadline.check();
      starts.lastIndex = p;
      const m = starts.exec(t);
      if (m === null) break;
      p = m.index;
      const ch = this.chainAt(p, boxed);
      if (ch) {
        out.push(ch);
        p = ch.end > p ? ch.end : p + 1;
      } else p++;
    }
    return out;
  }
}
