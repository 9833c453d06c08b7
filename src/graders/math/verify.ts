/**
 * One verification end to end: extract and parse the reference (cached per reference text) and the
 * completion, compare, and say why when there is no verdict. Pure and synchronous; every call has
 * a hard time limit enforced cooperatively, so it works on any thread.
 */
import { type Node, binderKinds } from './ast.js';
import { type CompareOptions, verifyNodes } from './compare.js';
import { calculusFailure } from './evaluate.js';
import { Deadline, MathTimeout } from './deadline.js';
import { type BoxedRank, type Extraction, type Target, extractAnswer, extractLetter, plainNumber, readLetter } from './extract.js';
import { Lru } from './lru.js';
import { normalizeLatex } from './normalize.js';
import { foldForNumbers } from '../normalize.js';
import { ParseError, parseLatex } from './parser.js';

/** Options of a {@link MathVerifier} (the grader's params, in camelCase). */
export interface MathOptions {
  /** `auto` = LaTeX and plain numbers/expressions; `letter` = multiple-choice letters. */
  extract: 'auto' | 'latex' | 'expr' | 'letter';
  /** Letters a multiple-choice answer may be; default A–D, extended to the reference's letter. */
  letters?: string | undefined;
  precision: number;
  strict: boolean;
  allowSetRelation: boolean;
  /** `\boxed{}` ranked first, with `final answer … is`, or after it (with `answer:`). */
  boxed: BoxedRank;
  timeoutMs: number;
  /** Score for an answer that is missing or does not parse: 0 (default) or null (opt-in skip). */
  onParseFailure: 'null' | 'zero';
  /** Parsed references kept (LRU). */
  cacheSize: number;
  /** Parsed answer texts kept (LRU): GRPO groups repeat answers. Default: twice `cacheSize`. */
  answerCacheSize?: number;
  /**
   * Accept an answer left as an unevaluated sum, product, integral or limit when the reference is not
   * one (default false: such an answer restates the problem and scores 0).
   */
  allowUnevaluated?: boolean;
}

/** The grader's defaults: Math-Verify semantics, boxed first, 6 decimal places, 1 s limit. */
export const DEFAULT_OPTIONS: MathOptions = {
  extract: 'auto',
  precision: 6,
  strict: true,
  allowSetRelation: false,
  boxed: 'first',
  timeoutMs: 1000,
  onParseFailure: 'zero',
  cacheSize: 4096,
};

/** A score (1, 0 or null) with details: extracted texts, and `reason` when null. */
export interface MathVerdict {
  score: number | null;
  details: Record<string, unknown>;
}

interface Prepared {
  ex: Extraction;
  letter: string | null;
  /** The other reading of an ambiguous plain number (`1,22`: 1.22 first, the pair 1, 22 here). */
  alt?: Node | null;
  /** Why the reference, though parsed, cannot be judged (an integral or limit that cannot be evaluated). */
  invalid?: string;
}

const BINDER_TEXT = /\\(?:sum|prod|i*nt|o?int|lim)/;

const UNEVALUATED: Record<'sum' | 'prod' | 'int' | 'lim', string> = { sum: 'sum', prod: 'product', int: 'integral', lim: 'limit' };

const DELIMITED = /(?<!\\)\$|\\\(|\\\[|\\boxed|\\fbox/;

const WORD = /[a-zA-Z]{3,}/;

/** True for prose: a word of three or more letters once LaTeX commands and their names are removed. */
function wordy(text: string): boolean {
  // Every removed form starts with a backslash: without one the text is tested as it is (no copy).
  if (!text.includes('\\')) return WORD.test(text);
  return WORD.test(text.replace(/\\(?:begin|end|text[a-z]*|math[a-z]*|operatorname|mbox)\s*\{[^{}]*\}|\\[a-zA-Z]+/g, ' '));
}

/** Characters outside ASCII that answers use; any other (CJK, accented prose …) means text, not LaTeX. */
const FOREIGN = /[^\x00-\x7F·×÷−–±∓≈≤≥≠πθαβγδελμσφωΔ∞√°∪∩∈∉∅′∗⁄∖≡ℝℤℕℚℂ²³¹…⋯]/;

/** A short answer written directly (no `$…$`, no `\boxed`, no prose): read it whole (exported for tests). */
export function isBareAnswer(text: string): boolean {
  if (text.length > 400) return false;
  // Without a backslash, DELIMITED can only be a `$` and wordy() needs no copy: the cheap tests first
  // (a word usually ends the scan early in prose, where DELIMITED would read the whole text).
  if (!text.includes('\\')) return !WORD.test(text) && !text.includes('$') && !FOREIGN.test(text);
  return !DELIMITED.test(text) && !wordy(text) && !FOREIGN.test(text);
}

/** Verifies completions against references with fixed options, caching parsed references. */
export class MathVerifier {
  private readonly golds: Lru<string, Prepared>;
  private readonly parses: Lru<string, Node | null>;
  private readonly targets: Target[];

  constructor(readonly opts: MathOptions) {
    this.golds = new Lru(opts.cacheSize);
    this.parses = new Lru(opts.answerCacheSize ?? opts.cacheSize * 2);
    this.targets = opts.extract === 'latex' ? ['latex'] : opts.extract === 'expr' ? ['expr'] : ['latex', 'expr'];
  }

  /** Parses one candidate text (cached); tries the last `=` part on failure. */
  private parse(text: string, plain: boolean): Node | null {
    const k = (plain ? 'p\u0000' : 'l\u0000') + text;
    const hit = this.parses.get(k);
    if (hit !== undefined) return hit;
    let node: Node | null = null;
    try {
      node = parseLatex(text);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      if (!text.includes(',') && !text.includes(';')) {
        const parts = text.split(/(?<![\\<!>])=/);
        if (parts.length > 2) {
          try {
            node = parseLatex(parts[parts.length - 1]!);
          } catch (e2) {
            if (!(e2 instanceof ParseError)) throw e2;
          }
        }
      }
    }
    this.parses.set(k, node);
    return node;
  }

  private prepareGold(text: string, deadline: Deadline): Prepared {
    const hit = this.golds.get(text);
    if (hit) return hit;
    let prepared: Prepared;
    if (this.opts.extract === 'letter') {
      const t = text.trim();
      const letter = /^[A-Za-z]$/.test(t) ? t.toUpperCase() : extractLetter(t, this.letters(null));
      prepared = { ex: { node: null, str: letter, source: letter }, letter };
    } else {
      let ex: Extraction | null = null;
      let alt: Node | null = null;
      const plain = this.targets.includes('expr') ? plainNumber(text) : null;
      if (plain) {
        ex = { node: plain.node, str: plain.str, source: text.trim() };
        if (plain.ambiguous) alt = this.parse(normalizeLatex(text, 'all'), false);
      } else if (this.targets.includes('latex') && !DELIMITED.test(text)) {
        // A bare reference (`\frac{14}{3}`, MATH-style) is one LaTeX answer, not prose to search.
        const s = normalizeLatex(text, 'all');
        const node = s ? this.parse(s, false) : null;
        if (node) ex = { node, str: s, source: s };
      }
      prepared = { ex: ex ?? extractAnswer(text, { targets: this.targets, boxed: this.opts.boxed }, (t, pl) => this.parse(t, pl), deadline), letter: null, alt };
      // An integral or limit the grader cannot evaluate makes the reference unjudgeable, not every answer wrong.
      const invalid = prepared.ex.node ? calculusFailure(prepared.ex.node, deadline) : null;
      if (invalid !== null) prepared.invalid = invalid;
    }
    this.golds.set(text, prepared);
    return prepared;
  }

  private letters(gold: string | null): string {
    if (this.opts.letters) return this.opts.letters;
    const last = gold && gold > 'D' ? gold.charCodeAt(0) : 'D'.charCodeAt(0);
    let s = '';
    for (let c = 'A'.charCodeAt(0); c <= last; c++) s += String.fromCharCode(c);
    return s;
  }

  private failure(details: Record<string, unknown>): MathVerdict {
    return { score: this.opts.onParseFailure === 'zero' ? 0 : null, details };
  }

  /**
   * Scores `completion` against one reference: 1, or 0 (also when the time limit is hit, and when the
   * answer cannot be read unless `onParseFailure` is `null`), or null (with `details.reason`) when the
   * reference cannot be read.
   */
  verify(reference: string, completion: string): MathVerdict {
    // `3\u200b` (a zero-width space), `\u200e3` (a bidi mark), `３` (full width) are the 3 a reader sees.
    reference = foldForNumbers(reference);
    completion = foldForNumbers(completion);
    const deadline = new Deadline(this.opts.timeoutMs);
    let gold: Prepared;
    try {
      gold = this.prepareGold(reference, deadline);
    } catch (e) {
      // The reference alone exceeded the limits: that is the grader's problem, not the answer's.
      if (e instanceof MathTimeout) return { score: null, details: { reason: 'reference timeout', limit_ms: this.opts.timeoutMs } };
      if (e instanceof RangeError) return { score: null, details: { reason: 'reference evaluation failed', error: e.message } };
      throw e;
    }
    try {
      return this.verifyInner(gold, reference, completion, deadline);
    } catch (e) {
      // The answer made the check exceed its limits: a wrong answer (Math-Verify's timeouts are False), so
      // a policy cannot buy a skipped grade with an expression too slow or too large to check.
      if (e instanceof MathTimeout) return { score: 0, details: { reason: 'timeout', limit_ms: this.opts.timeoutMs } };
      if (e instanceof RangeError) return { score: 0, details: { reason: 'evaluation failed', error: e.message } };
      throw e;
    }
  }

  private verifyInner(gold: Prepared, reference: string, completion: string, deadline: Deadline): MathVerdict {
    if (this.opts.extract === 'letter') {
      if (!gold.letter) return { score: null, details: { reason: 'reference has no letter', reference } };
      const { letter: got, hedge } = readLetter(completion, this.letters(gold.letter));
      // A hedge was read (several letters offered): a wrong answer, never a skipped one, whatever onParseFailure says.
      if (hedge !== undefined) return { score: 0, details: { reason: `hedged answer: ${hedge}`, reference: gold.letter } };
      if (!got) return this.failure({ reason: 'no letter found', reference: gold.letter });
      return { score: got === gold.letter ? 1 : 0, details: { extracted: got, reference: gold.letter } };
    }
    const g = gold.ex;
    if (!g.node && !g.str) return { score: null, details: { reason: 'reference has no answer', reference } };
    if (gold.invalid !== undefined) return { score: null, details: { reason: `reference ${gold.invalid}`, reference: g.source ?? g.str } };
    let p: Extraction | null = null;
    let pAlt: Node | null = null;
    // A completion that is one plain number reads as Math-Verify's number extraction reads it
    // (`1 000`, `1000,99`, `1,22`), before any LaTeX reading; a decimal comma keeps the list reading too.
    const plain = this.targets.includes('expr') ? plainNumber(completion) : null;
    if (plain) {
      p = { node: plain.node, str: plain.str, source: completion.trim() };
      if (plain.ambiguous) pAlt = this.parse(normalizeLatex(completion, 'all'), false);
    } else if (this.targets.includes('latex') && isBareAnswer(completion)) {
      // A completion that is just an answer in LaTeX (`\sqrt{2}`, `x^2 + 2*x + 1`, `\$10`).
      const s = normalizeLatex(completion, 'all');
      const node = s ? this.parse(s, false) : null;
      if (node) p = { node, str: s, source: s };
    }
    p ??= extractAnswer(completion, { targets: this.targets, boxed: this.opts.boxed }, (t, plain) => this.parse(t, plain), deadline);
    const details: Record<string, unknown> = { extracted: p.source ?? p.str, reference: g.source ?? g.str };
    // Only an answer text with \sum, \prod, \int or \lim can parse to one (the walk is skipped for the rest).
    if (g.node && p.node && !this.opts.allowUnevaluated && (p.source === null || BINDER_TEXT.test(p.source))) {
      // An answer left as a sum, product, integral or limit the reference does not have restates the
      // problem (`\boxed{\int_0^1 x^2\,dx}` for "compute ∫₀¹x²dx"): evaluating it is the task, so it is 0.
      const gk = binderKinds(g.node);
      const left = [...binderKinds(p.node)].filter((k) => !gk.has(k));
      if (left.length > 0) return { score: 0, details: Object.assign({}, details, { reason: `answer is an unevaluated ${UNEVALUATED[left[0]!]} (restates the problem; allow_unevaluated: true accepts it)` }) };
    }
    if (g.node && p.node) {
      const o: CompareOptions = {
        precision: this.opts.precision,
        strict: this.opts.strict,
        allowSetRelation: this.opts.allowSetRelation,
        deadline,
      };
      if (verifyNodes(g.node, p.node, o)) return { score: 1, details };
      // Ambiguous commas (`1,22`): either reading of either side may be the intended one.
      const gs = [g.node, gold.alt ?? null];
      const ps = [p.node, pAlt];
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          if ((i === 0 && j === 0) || !gs[i] || !ps[j]) continue;
          if (verifyNodes(gs[i]!, ps[j]!, o)) return { score: 1, details: Object.assign({}, details, { via: 'comma reading' }) };
        }
    }
    if (g.str && p.str && g.str.trim() !== '' && g.str.trim() === p.str.trim()) return { score: 1, details: Object.assign({}, details, { via: 'text' }) };
    if (!g.node) return { score: null, details: Object.assign({}, details, { reason: 'reference did not parse' }) };
    if (!p.node) return this.failure(Object.assign({}, details, { reason: p.reason ?? 'answer did not parse' }));
    const unevaluable = calculusFailure(p.node, deadline);
    if (unevaluable !== null) return { score: 0, details: Object.assign({}, details, { reason: `answer ${unevaluable}` }) };
    return { score: 0, details };
  }
}
