/**
 * Parses a normalised LaTeX (or plain `2*x^2 + 1/3`) answer into a {@link Node}. The reading follows
 * latex2sympy2_extended, the parser behind Math-Verify: `a, b` is a set, `(a, b)` an open interval
 * (or a pair when b ≤ a), `[a, b)` a half-open interval, `(a, b, c)` a tuple, `x = 1, 2` an assignment
 * of a set, `a \pm b` two elements, `2\frac{1}{2}` a mixed number, `\log` base 10, implicit
 * multiplication binding tighter than `/`. Unlike it, `\sqrt(2)`, `\frac12`, `\sqrt3` and `^(…)` are
 * read as written, not rewritten by regexes.
 */
import {
  type Node,
  type RelOp,
  MINUS_ONE,
  mkAdd,
  mkDiv,
  mkMul,
  mkNeg,
  mkSet,
  num,
  onlySymbols,
  sym,
} from './ast.js';
import { type Rat, parseDecimal, rat, div as ratDiv } from './rational.js';

/** Raised for input the parser cannot read; the grader reports it as a parse failure. */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

type TokT = 'num' | 'id' | 'cmd' | 'op' | 'text' | 'accent' | 'opname' | 'domain' | 'begin' | 'end';
interface Tok {
  t: TokT;
  s: string;
  pos: number;
  end: number;
  arg?: string;
}

const SKIP_CMDS = new Set([
  'left', 'right', 'mleft', 'mright', 'middle', 'big', 'Big', 'bigg', 'Bigg', 'bigl', 'bigr', 'Bigl', 'Bigr',
  'biggl', 'biggr', 'Biggl', 'Biggr', 'quad', 'qquad', 'thinspace', 'medspace', 'thickspace', 'negthinspace',
  'negmedspace', 'negthickspace', 'displaystyle', 'textstyle', 'scriptstyle', 'limits', 'nolimits', 'nonumber',
  'notag', 'hfill', 'hfil', 'vrule', 'vcenter', 'vbox', 'strut', 'mathstrut', 'dots', 'ldots', 'cdots', 'vdots',
  'ddots', 'dotsc', 'dotsb', 'prime', 'not', 'enspace', 'space', 'nobreak', 'allowbreak', 'centering',
]);
const DELIM_SIZERS = new Set([
  'left', 'right', 'mleft', 'mright', 'big', 'Big', 'bigg', 'Bigg', 'bigl', 'bigr', 'Bigl', 'Bigr', 'biggl', 'biggr',
  'Biggl', 'Biggr', 'bigm', 'Bigm', 'middle',
]);
const SKIP_WITH_ARG = new Set(['hspace', 'vspace', 'label', 'tag', 'color', 'vskip', 'hskip', 'phantom', 'hphantom', 'vphantom']);
const TEXT_CMDS = new Set([
  'text', 'textbf', 'textit', 'textrm', 'textnormal', 'textsf', 'texttt', 'textup', 'textmd', 'mbox', 'hbox',
  'mathrm', 'mathit', 'mathbf', 'mathsf', 'mathtt', 'mathnormal', 'emph',
]);
const ACCENT_NAMES: ReadonlyMap<string, string> = new Map(Object.entries({
  vec: 'vec', overrightarrow: 'vec', overline: 'bar', bar: 'bar', hat: 'hat', widehat: 'hat', tilde: 'tilde',
  widetilde: 'tilde', dot: 'dot', ddot: 'ddot', acute: 'acute', grave: 'grave', check: 'check', breve: 'breve',
  mathring: 'mathring', underline: 'underline', mathcal: 'math', mathscr: 'math', mathfrak: 'math',
  boldsymbol: 'boldsymbol', bm: 'bm', mathbb: 'math', overleftrightarrow: 'vec', overleftarrow: 'vec',
}));
const DOMAINS: ReadonlyMap<string, 'R' | 'Z' | 'N' | 'Q' | 'C'> = new Map(Object.entries({ R: 'R', Z: 'Z', N: 'N', Q: 'Q', C: 'C' }));
const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota',
  'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'varpi', 'rho', 'varrho', 'sigma', 'varsigma', 'tau',
  'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma',
  'Upsilon', 'Phi', 'Psi', 'Omega', 'ell', 'hbar', 'aleph', 'nabla', 'partial',
]);
const UNICODE: Record<string, [TokT, string]> = {
  '−': ['op', '-'], '–': ['op', '-'], '×': ['cmd', 'times'], '·': ['cmd', 'cdot'], '⋅': ['cmd', 'cdot'],
  '∙': ['cmd', 'cdot'], '÷': ['cmd', 'div'], '≤': ['cmd', 'le'], '≥': ['cmd', 'ge'], '≠': ['cmd', 'ne'],
  '±': ['cmd', 'pm'], '∓': ['cmd', 'mp'], '≈': ['cmd', 'approx'], 'π': ['cmd', 'pi'], '∞': ['cmd', 'infty'],
  '√': ['cmd', 'sqrt'], '°': ['op', '°'], '∪': ['cmd', 'cup'], '∩': ['cmd', 'cap'], '∈': ['cmd', 'in'],
  '∉': ['cmd', 'notin'], '∅': ['cmd', 'emptyset'], '′': ['op', "'"], '∗': ['op', '*'], '⁄': ['op', '/'],
  '∖': ['cmd', 'setminus'], '≡': ['cmd', 'equiv'], 'ℝ': ['domain', 'R'], 'ℤ': ['domain', 'Z'],
  'ℕ': ['domain', 'N'], 'ℚ': ['domain', 'Q'], 'ℂ': ['domain', 'C'], 'α': ['cmd', 'alpha'], 'β': ['cmd', 'beta'],
  'γ': ['cmd', 'gamma'], 'δ': ['cmd', 'delta'], 'θ': ['cmd', 'theta'], 'λ': ['cmd', 'lambda'], 'μ': ['cmd', 'mu'],
  'σ': ['cmd', 'sigma'], 'φ': ['cmd', 'phi'], 'ω': ['cmd', 'omega'], 'Δ': ['cmd', 'Delta'], 'ε': ['cmd', 'epsilon'],
};
const SUPERSCRIPTS: Record<string, string> = { '²': '2', '³': '3', '¹': '1' };

// Between digit groups: LaTeX thin/medium/normal spaces, `~`, `{,}`, a plain, no-break or thin space
// (TeX ignores spaces in math mode: `1 000` is typeset, and read, as 1000). Sticky: no slicing.
const SPACER_RE = /\\[,;: ]|~|\{,\}|[ \u00a0\u2009\u202f]/y;

/** Splits normalised LaTeX into tokens. Exported for tests. */
export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = src.length;
  const readBraced = (from: number): [string, number] => {
    let j = from;
    while (j < n && src[j] === ' ') j++;
    if (src[j] !== '{') {
      // A single-token argument (\text x, \vec a).
      if (j < n && src[j] !== '\\') return [src[j]!, j + 1];
      throw new ParseError('expected {');
    }
    let depth = 1;
    let k = j + 1;
    for (; k < n; k++) {
      if (src[k] === '\\') {
        k++;
        continue;
      }
      if (src[k] === '{') depth++;
      else if (src[k] === '}' && --depth === 0) break;
    }
    if (k >= n) throw new ParseError('unbalanced braces');
    return [src.slice(j + 1, k), k + 1];
  };
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if ((c >= '0' && c <= '9') || (c === '.' && src[i + 1] !== undefined && /\d/.test(src[i + 1]!))) {
      let j = i;
      while (j < n && /\d/.test(src[j]!)) j++;
      let text = src.slice(i, j);
      if (text.length <= 3 && text.length > 0 && src[j] !== '.') {
        // Digit groups joined by thin spaces: 1\,000\,000.
        for (;;) {
          SPACER_RE.lastIndex = j;
          const m = SPACER_RE.exec(src);
          if (!m) break;
          const after = j + m[0].length;
          let d = after;
          while (d < n && d - after < 4 && src.charCodeAt(d) >= 48 && src.charCodeAt(d) <= 57) d++;
          if (d - after !== 3) break;
          text += src.slice(after, d);
          j = d;
        }
      }
      if (src[j] === '.' && j + 1 < n && /\d/.test(src[j + 1]!)) {
        let k = j + 1;
        while (k < n && /\d/.test(src[k]!)) k++;
        text += src.slice(j, k);
        j = k;
      }
      const e = /^[eE][+-]?\d+(?![a-zA-Z\d])/.exec(src.slice(j, j + 12));
      if (e) {
        text += e[0];
        j += e[0].length;
      }
      out.push({ t: 'num', s: text, pos: start, end: j });
      i = j;
      continue;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      // A bare `sqrt` (no backslash) is a square root, as Math-Verify reads it.
      if (src.startsWith('sqrt', i) && !/[a-zA-Z]/.test(src[i + 4] ?? '') && (i === 0 || !/[a-zA-Z\\]/.test(src[i - 1]!))) {
        out.push({ t: 'cmd', s: 'sqrt', pos: i, end: i + 4 });
        i += 4;
        continue;
      }
      out.push({ t: 'id', s: c, pos: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '\\') {
      const next = src[i + 1];
      if (next === undefined) throw new ParseError('trailing backslash');
      if (!/[a-zA-Z]/.test(next)) {
        i += 2;
        switch (next) {
          case '{':
          case '}':
            out.push({ t: 'op', s: '\\' + next, pos: start, end: i });
            break;
          case '|':
            out.push({ t: 'op', s: '‖', pos: start, end: i });
            break;
          case '%':
            out.push({ t: 'op', s: '%', pos: start, end: i });
            break;
          case '\\':
            out.push({ t: 'op', s: '\\\\', pos: start, end: i });
            break;
          case '(':
          case ')':
          case '[':
          case ']':
            out.push({ t: 'op', s: next, pos: start, end: i });
            break;
          case ',':
          case ';':
          case ':':
          case '!':
          case ' ':
          case '>':
          case '$':
          case '/':
            break;
          default:
            throw new ParseError(`unknown command \\${next}`);
        }
        continue;
      }
      let j = i + 1;
      while (j < n && /[a-zA-Z]/.test(src[j]!)) j++;
      const name = src.slice(i + 1, j);
      i = j;
      if (DELIM_SIZERS.has(name)) {
        while (i < n && src[i] === ' ') i++;
        if (src[i] === '.') i++;
        continue;
      }
      if (SKIP_CMDS.has(name)) continue;
      if (SKIP_WITH_ARG.has(name)) {
        [, i] = readBraced(i);
        continue;
      }
      if (TEXT_CMDS.has(name)) {
        const [content, k] = readBraced(i);
        i = k;
        if (content.trim() !== '') out.push({ t: 'text', s: content, pos: start, end: i });
        continue;
      }
      if (name === 'operatorname') {
        const [content, k] = readBraced(i);
        i = k;
        out.push({ t: 'opname', s: content.replace(/\s|\*/g, ''), pos: start, end: i });
        continue;
      }
      if (ACCENT_NAMES.has(name)) {
        const [content, k] = readBraced(i);
        i = k;
        const c2 = content.trim();
        if (name === 'mathbb' && (DOMAINS.has(c2) || c2 === 'P')) {
          out.push({ t: 'domain', s: c2, pos: start, end: i });
          continue;
        }
        out.push({ t: 'accent', s: ACCENT_NAMES.get(name)!, arg: c2, pos: start, end: i });
        continue;
      }
      if (name === 'begin' || name === 'end') {
        const [env, k] = readBraced(i);
        i = k;
        if (name === 'begin' && env === 'array') {
          let p = i;
          while (p < n && src[p] === ' ') p++;
          if (src[p] === '{') [, i] = readBraced(p);
        }
        out.push({ t: name, s: env.replace(/\*$/, ''), pos: start, end: i });
        continue;
      }
      if (!KNOWN_CMDS.has(name)) {
        // `\quadx` is `\quad x`, as a TeX lexer reads it: split off the longest known command.
        let k = name.length - 1;
        while (k > 1 && !KNOWN_CMDS.has(name.slice(0, k)) && !SKIP_CMDS.has(name.slice(0, k))) k--;
        if (k > 1) {
          const head = name.slice(0, k);
          i = start + 1 + k;
          if (!SKIP_CMDS.has(head)) out.push({ t: 'cmd', s: head, pos: start, end: i });
          continue;
        }
      }
      out.push({ t: 'cmd', s: name, pos: start, end: i });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '**' || two === '<=' || two === '>=' || two === '!=' || two === '==' || two === ':=' || two === '~=') {
      const s = two === ':=' ? '=' : two === '==' ? '=' : two === '~=' ? '≈' : two;
      out.push({ t: 'op', s, pos: i, end: i + 2 });
      i += 2;
      continue;
    }
    if ('+-*/^_=<>!,;:|()[]{}&\'%.'.includes(c)) {
      out.push({ t: 'op', s: c, pos: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '~') {
      i++;
      continue;
    }
    const u = UNICODE[c];
    if (u) {
      out.push({ t: u[0], s: u[1], pos: i, end: i + 1 });
      i++;
      continue;
    }
    const sup = SUPERSCRIPTS[c];
    if (sup) {
      out.push({ t: 'op', s: '^', pos: i, end: i }, { t: 'num', s: sup, pos: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '…' || c === '⋯') {
      i++;
      continue;
    }
    throw new ParseError(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

const TRIG = new Set(['sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'sinh', 'cosh', 'tanh', 'coth', 'sech', 'csch']);
const FUNCS: ReadonlyMap<string, string> = new Map(Object.entries({
  sin: 'sin', cos: 'cos', tan: 'tan', sec: 'sec', csc: 'csc', cot: 'cot', sinh: 'sinh', cosh: 'cosh',
  tanh: 'tanh', coth: 'coth', sech: 'sech', csch: 'csch', arcsin: 'asin', arccos: 'acos', arctan: 'atan',
  arcsec: 'asec', arccsc: 'acsc', arccot: 'acot', arsinh: 'asinh', arcosh: 'acosh', artanh: 'atanh',
  arcsinh: 'asinh', arccosh: 'acosh', arctanh: 'atanh', exp: 'exp', ln: 'log', log: 'log', lg: 'log',
  max: 'max', min: 'min', gcd: 'gcd', lcm: 'lcm', det: 'det', sgn: 'sgn', sign: 'sgn', floor: 'floor',
  ceil: 'ceil', abs: 'abs', Re: 're', Im: 'im', arg: 'arg',
}));
const REL_CMDS: ReadonlyMap<string, RelOp | '≈' | 'in'> = new Map(Object.entries({
  le: '<=', leq: '<=', leqslant: '<=', leqq: '<=', ge: '>=', geq: '>=', geqslant: '>=', geqq: '>=', lt: '<',
  gt: '>', ne: '!=', neq: '!=', approx: '≈', simeq: '≈', equiv: '=', in: 'in',
}));
const REL_OPS: ReadonlyMap<string, RelOp | '≈'> = new Map(Object.entries({ '=': '=', '<': '<', '>': '>', '<=': '<=', '>=': '>=', '!=': '!=', '≈': '≈' }));

const KNOWN_CMDS = new Set([
  ...GREEK, ...FUNCS.keys(), ...REL_CMDS.keys(), 'pi', 'Pi', 'infty', 'exponentialE', 'imath', 'emptyset',
  'varnothing', 'frac', 'dfrac', 'tfrac', 'cfrac', 'binom', 'dbinom', 'tbinom', 'sqrt', 'boxed', 'fbox', 'lfloor',
  'rfloor', 'lceil', 'rceil', 'lvert', 'rvert', 'vert', 'langle', 'rangle', 'lbrace', 'rbrace', 'lbrack', 'rbrack',
  'sum', 'prod', 'times', 'cdot', 'ast', 'div', 'over', 'mod', 'bmod', 'pm', 'mp', 'cup', 'cap', 'setminus',
  'backslash', 'circ', 'degree', 'notin', 'subseteq', 'subset', 'to', 'rightarrow', 'choose', 'int', 'lim',
]);

const E_CONST: Node = { k: 'const', name: 'e' };
const PI: Node = { k: 'const', name: 'pi' };
const INF: Node = { k: 'const', name: 'inf' };

/** Elements grouped by `;`, each group split by `,`, as Math-Verify turns them into a value. */
function setOrTuple(groups: Node[][]): Node {
  if (groups.length === 1) return groups[0]!.length === 1 ? groups[0]![0]! : mkSet(groups[0]!);
  if (groups.every((g) => g.length === 1)) return mkSet(groups.map((g) => g[0]!));
  return mkSet(groups.map((g) => ({ k: 'tuple', items: g })));
}

/** Every reading of the `±` signs in `n` (at most 16), + before −. */
function expandPm(n: Node): Node[] {
  if (n.k === 'fn' && n.name === '±') {
    if (n.args.length === 1) return expandPm(n.args[0]!).flatMap((b) => [mkNeg(b), b]);
    const as = expandPm(n.args[0]!);
    const bs = expandPm(n.args[1]!);
    return as.flatMap((a) => bs.flatMap((b) => [mkAdd(a, b), mkAdd(a, mkNeg(b))])).slice(0, 16);
  }
  if (!hasPm(n)) return [n];
  const parts = childrenOf(n);
  let combos: Node[][] = [[]];
  for (const c of parts) {
    const opts = expandPm(c);
    combos = combos.flatMap((prev) => opts.map((o) => [...prev, o])).slice(0, 16);
  }
  return combos.map((cs) => rebuild(n, cs));
}

function hasPm(n: Node): boolean {
  if (n.k === 'fn' && n.name === '±') return true;
  return childrenOf(n).some(hasPm);
}

function childrenOf(n: Node): Node[] {
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'fn':
    case 'and':
    case 'union':
    case 'inter':
    case 'minus':
      return n.args;
    case 'pow':
      return [n.base, n.exp];
    case 'pct':
    case 'deg':
      return [n.arg];
    case 'rel':
      return [n.lhs, n.rhs];
    default:
      return [];
  }
}

function rebuild(n: Node, cs: Node[]): Node {
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'and':
    case 'union':
    case 'inter':
      return { k: n.k, args: cs } as Node;
    case 'minus':
      return { k: 'minus', args: [cs[0]!, cs[1]!] };
    case 'fn':
      return { k: 'fn', name: n.name, args: cs };
    case 'pow':
      return { k: 'pow', base: cs[0]!, exp: cs[1]! };
    case 'pct':
    case 'deg':
      return { k: n.k, arg: cs[0]! };
    case 'rel':
      return { k: 'rel', op: n.op, lhs: cs[0]!, rhs: cs[1]! };
    default:
      return n;
  }
}

function isIntLit(n: Node): n is Extract<Node, { k: 'num' }> {
  return n.k === 'num' && !n.float && n.v.d === 1n;
}

const MAX_DEPTH = 120;

class Parser {
  private i = 0;
  private depth = 0;
  // Tokens split in place (`\frac12`, `x^23`), with their originals, so backtracking can undo them.
  private readonly patches: Array<[number, Tok]> = [];
  private absDepth = 0;
  // Integer literals as written and rationals built by \frac of two integers (for mixed numbers).
  private readonly written = new WeakSet<Node>();
  private readonly fracs = new WeakSet<Node>();

  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
    depth = 0,
  ) {
    this.depth = depth;
  }

  private split(t: Tok): void {
    this.patches.push([this.i, t]);
    this.toks[this.i] = { t: 'num', s: t.s.slice(1), pos: t.pos + 1, end: t.end };
  }

  private restore(pos: number, patchCount: number): void {
    while (this.patches.length > patchCount) {
      const [idx, tok] = this.patches.pop()!;
      this.toks[idx] = tok;
    }
    this.i = pos;
  }

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }

  private isOp(s: string, o = 0): boolean {
    const t = this.toks[this.i + o];
    return t !== undefined && t.t === 'op' && t.s === s;
  }

  private isCmd(s: string, o = 0): boolean {
    const t = this.toks[this.i + o];
    return t !== undefined && t.t === 'cmd' && t.s === s;
  }

  private expectOp(s: string): void {
    if (!this.isOp(s)) throw new ParseError(`expected ${s} at ${this.peek()?.pos ?? 'end'}`);
    this.i++;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseError('nesting too deep');
  }

  atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  /** The whole input: an assignment of a list (`x = 1, 2`), or a list of elements. */
  parseMath(): Node {
    const save = this.i;
    const patches = this.patches.length;
    const lhs = this.tryAtomList();
    if (lhs && (this.isOp('=') || this.isCmd('in'))) {
      this.i++;
      try {
        const groups = this.parseGroups(true, null);
        if (this.atEnd()) return { k: 'rel', op: '=', lhs, rhs: setOrTuple(groups) };
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
    this.restore(save, patches);
    this.depth = 0;
    this.absDepth = 0;
    const groups = this.parseGroups(false, null);
    if (!this.atEnd()) throw new ParseError(`unexpected ${this.peek()!.s} at ${this.peek()!.pos}`);
    return setOrTuple(groups);
  }

  /** `x`, `a_1`, `\alpha`, `(p, q)`: what may stand left of `=` in `x = 1, 2`. No throw on mismatch. */
  private tryAtomList(): Node | null {
    const t = this.peek();
    if (!t) return null;
    const save = this.i;
    const patches = this.patches.length;
    const one = (): Node | null => {
      const u = this.peek();
      if (!u) return null;
      if (u.t === 'id' || u.t === 'accent' || u.t === 'text' || (u.t === 'cmd' && GREEK.has(u.s))) {
        if (u.t === 'id' && u.s === 'e') return null;
        try {
          const n = this.parsePostfix();
          return onlySymbols(n) ? n : null;
        } catch (e) {
          if (e instanceof ParseError) return null;
          throw e;
        }
      }
      return null;
    };
    if (t.t === 'op' && t.s === '(') {
      this.i++;
      const items: Node[] = [];
      for (;;) {
        const a = one();
        if (!a) break;
        items.push(a);
        if (this.isOp(',')) {
          this.i++;
          continue;
        }
        if (this.isOp(')') && items.length > 1) {
          this.i++;
          return { k: 'tuple', items };
        }
        break;
      }
      this.restore(save, patches);
      return null;
    }
    const a = one();
    if (a && (this.isOp('=') || this.isCmd('in'))) return a;
    this.restore(save, patches);
    return null;
  }

  /** Elements separated by `,` (and groups by `;`) until `close` (not consumed) or the end. */
  private parseGroups(noRel: boolean, close: string[] | null): Node[][] {
    const groups: Node[][] = [[]];
    for (;;) {
      const t = this.peek();
      if (!t || (close && t.t === 'op' && close.includes(t.s))) break;
      groups[groups.length - 1]!.push(...this.parseElement(noRel));
      if (this.isOp(',')) {
        this.i++;
        continue;
      }
      if (this.isOp(';')) {
        this.i++;
        groups.push([]);
        continue;
      }
      break;
    }
    if (groups.length > 1 && groups[groups.length - 1]!.length === 0) groups.pop();
    if (groups.some((g) => g.length === 0)) throw new ParseError('empty element');
    return groups;
  }

  private parseElement(noRel: boolean): Node[] {
    const e = noRel ? this.parseSetExpr() : this.parseRelation();
    return expandPm(e);
  }

  private parseRelation(): Node {
    let cur = this.parseSetExpr();
    for (;;) {
      const t = this.peek();
      if (!t) break;
      let op: RelOp | '≈' | 'in' | undefined;
      if (t.t === 'op') op = REL_OPS.get(t.s);
      else if (t.t === 'cmd') op = REL_CMDS.get(t.s);
      if (op === undefined) break;
      this.i++;
      const rhs = this.parseSetExpr();
      if (op === '≈') {
        if (cur.k !== 'rel' && cur.k !== 'and' && onlySymbols(cur)) cur = rhs;
        continue;
      }
      if (op === 'in') {
        if (!onlySymbols(cur)) throw new ParseError('\\in needs a variable on its left');
        cur = { k: 'rel', op: '=', lhs: cur, rhs };
        continue;
      }
      if (cur.k === 'and') cur = { k: 'and', args: [...cur.args, { k: 'rel', op, lhs: lastRhs(cur), rhs }] };
      else if (cur.k === 'rel') cur = { k: 'and', args: [cur, { k: 'rel', op, lhs: cur.rhs, rhs }] };
      else cur = { k: 'rel', op, lhs: cur, rhs };
    }
    return cur;
  }

  private parseSetExpr(): Node {
    let left = this.parseInter();
    for (;;) {
      if (this.isCmd('cup')) {
        this.i++;
        const r = this.parseInter();
        left = { k: 'union', args: [...(left.k === 'union' ? left.args : [asSet(left)]), asSet(r)] };
      } else if (this.isCmd('setminus') || this.isCmd('backslash')) {
        this.i++;
        const r = this.parseInter();
        left = { k: 'minus', args: [asSet(left), asSet(r)] };
      } else break;
    }
    return left;
  }

  private parseInter(): Node {
    let left = this.parseAdditive();
    while (this.isCmd('cap')) {
      this.i++;
      const r = this.parseAdditive();
      left = { k: 'inter', args: [...(left.k === 'inter' ? left.args : [asSet(left)]), asSet(r)] };
    }
    return left;
  }

  private parseAdditive(): Node {
    this.enter();
    let left: Node;
    if (this.isCmd('pm') || this.isCmd('mp')) {
      this.i++;
      left = { k: 'fn', name: '±', args: [this.parseTerm()] };
    } else left = this.parseTerm();
    for (;;) {
      if (this.isOp('+')) {
        this.i++;
        left = mkAdd(left, this.parseTerm());
      } else if (this.isOp('-')) {
        this.i++;
        left = mkAdd(left, mkNeg(this.parseTerm()));
      } else if (this.isCmd('pm') || this.isCmd('mp')) {
        this.i++;
        left = { k: 'fn', name: '±', args: [left, this.parseTerm()] };
      } else break;
    }
    this.depth--;
    return left;
  }

  private parseTerm(): Node {
    let left = this.parseImplicit();
    for (;;) {
      const t = this.peek();
      if (!t) break;
      let op: 'mul' | 'div' | 'mod' | null = null;
      // `:` is a ratio, as in Math-Verify: 7:32 is 7/32, `A:B = 1` an equation of ratios.
      if (t.t === 'op' && (t.s === '*' || t.s === '/' || t.s === ':')) op = t.s === '*' ? 'mul' : 'div';
      else if (t.t === 'cmd' && (t.s === 'times' || t.s === 'cdot' || t.s === 'ast')) op = 'mul';
      else if (t.t === 'cmd' && (t.s === 'div' || t.s === 'over')) op = 'div';
      else if (t.t === 'cmd' && (t.s === 'mod' || t.s === 'bmod')) op = 'mod';
      if (op === null) break;
      this.i++;
      const right = this.parseImplicit();
      if (op === 'mul') left = mkMul(left, right);
      else if (op === 'mod') left = { k: 'fn', name: 'mod', args: [left, right] };
      else left = divide(left, right);
    }
    return left;
  }

  /** A run of factors multiplied by juxtaposition (`2x`, `3\sqrt{13}`, `(x-2)(x+2)`), with a sign. */
  private parseImplicit(): Node {
    if (this.isOp('-')) {
      this.i++;
      return mkNeg(this.parseImplicit());
    }
    if (this.isOp('+')) {
      this.i++;
      return this.parseImplicit();
    }
    let f = this.parsePostfix();
    while (this.startsFactor(true)) {
      const g = this.parsePostfix();
      f = this.juxtapose(f, g);
    }
    return f;
  }

  private juxtapose(f: Node, g: Node): Node {
    if (isIntLit(f) && this.written.has(f) && this.fracs.has(g) && g.k === 'num' && g.v.n > 0n) {
      // Mixed number: 2\frac{1}{2} = 5/2.
      return num(rat(f.v.n * g.v.d + (f.v.n < 0n ? -g.v.n : g.v.n), g.v.d));
    }
    return mkMul(f, g);
  }

  private startsFactor(inTerm: boolean, noFuncs = false): boolean {
    const t = this.peek();
    if (!t) return false;
    switch (t.t) {
      case 'num':
      case 'id':
      case 'text':
      case 'accent':
      case 'domain':
      case 'begin':
        return true;
      case 'opname':
        return !noFuncs;
      case 'op':
        if (t.s === '(' || t.s === '[' || t.s === '{' || t.s === '\\{') return true;
        if (t.s === '|' || t.s === '‖') return inTerm && this.absDepth === 0;
        return false;
      case 'cmd':
        if (FUNCS.has(t.s)) return !noFuncs;
        return (
          GREEK.has(t.s) ||
          ['pi', 'Pi', 'infty', 'frac', 'dfrac', 'tfrac', 'cfrac', 'sqrt', 'binom', 'dbinom', 'tbinom', 'boxed', 'fbox',
            'lfloor', 'lceil', 'lvert', 'vert', 'langle', 'sum', 'prod', 'int', 'lim', 'emptyset', 'varnothing', 'exponentialE', 'imath',
            'lbrace', 'lbrack'].includes(t.s)
        );
      default:
        return false;
    }
  }

  private parsePostfix(): Node {
    this.enter();
    let n = this.parsePrimary();
    for (;;) {
      const t = this.peek();
      if (!t || t.t !== 'op') {
        if (t && t.t === 'cmd' && t.s === 'degree') {
          this.i++;
          n = { k: 'deg', arg: n };
          continue;
        }
        break;
      }
      if (t.s === '^' || t.s === '**') {
        this.i++;
        if (this.isCmd('circ') || (this.isOp('{') && this.isCmd('circ', 1) && this.isOp('}', 2))) {
          this.i += this.isCmd('circ') ? 1 : 3;
          n = { k: 'deg', arg: n };
          continue;
        }
        if (this.isOp('°') || (this.isOp('{') && this.isOp('°', 1))) {
          this.i += this.isOp('°') ? 1 : 3;
          n = { k: 'deg', arg: n };
          continue;
        }
        const e = t.s === '**' ? this.parseImplicitNoMixed() : this.parseScriptArg();
        n = { k: 'pow', base: n, exp: e };
        continue;
      }
      if (t.s === '_') {
        this.i++;
        this.parseScriptArg();
        continue;
      }
      if (t.s === '!') {
        this.i++;
        n = { k: 'fn', name: 'fact', args: [n] };
        continue;
      }
      if (t.s === '%') {
        this.i++;
        n = { k: 'pct', arg: n };
        continue;
      }
      if (t.s === '°') {
        this.i++;
        n = { k: 'deg', arg: n };
        continue;
      }
      if (t.s === "'") {
        this.i++;
        continue;
      }
      break;
    }
    this.depth--;
    return n;
  }

  private parseImplicitNoMixed(): Node {
    if (this.isOp('-')) {
      this.i++;
      return mkNeg(this.parseImplicitNoMixed());
    }
    return this.parsePostfix();
  }

  /**
   * The `_{…}` and `^{…}` scripts after `\int` or a function name, in either order (two scripts at most;
   * a second of the same kind replaces the first). Null for a script that is not there.
   */
  private parseScripts(): { sub: Node | null; sup: Node | null } {
    let sub: Node | null = null;
    let sup: Node | null = null;
    for (let k = 0; k < 2; k++) {
      if (this.isOp('_')) {
        this.i++;
        sub = this.parseScriptArg();
      } else if (this.isOp('^')) {
        this.i++;
        sup = this.parseScriptArg();
      }
    }
    return { sub, sup };
  }

  /** Argument of `^` / `_` / `\frac` / `\sqrt`: a braced group, a parenthesised group, or one token (one digit). */
  private parseScriptArg(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('missing argument');
    if (t.t === 'op' && t.s === '{') {
      this.i++;
      const groups = this.parseGroups(false, ['}']);
      this.expectOp('}');
      return setOrTuple(groups);
    }
    if (t.t === 'op' && t.s === '(') {
      return this.parsePrimary();
    }
    if (t.t === 'op' && (t.s === '-' || t.s === '+')) {
      this.i++;
      const a = this.parseScriptArg();
      return t.s === '-' ? mkNeg(a) : a;
    }
    if (t.t === 'num') {
      const digitEnd = /^\d/.test(t.s) ? 1 : t.s.length;
      if (digitEnd < t.s.length && !t.s.includes('.')) {
        // \frac12 or x^23: one digit is the argument, the rest stays a number.
        this.split(t);
        const d = num(rat(BigInt(t.s[0]!)));
        this.written.add(d);
        return d;
      }
      this.i++;
      return this.numberNode(t.s);
    }
    if (t.t === 'id') {
      this.i++;
      return t.s === 'e' ? E_CONST : sym(t.s.toLowerCase());
    }
    return this.parsePrimary();
  }

  /**
   * `0.\\overline{3}` = 1/3, `1.2\\overline{45}`, `0.\\bar{6}`: a decimal with a repeating block (after
   * the number token `s`, already consumed), read exactly; null (nothing consumed) when not one.
   */
  private repeatingDecimal(s: string): Node | null {
    const next = this.peek();
    if (!next || !(next.t === 'accent' || (next.t === 'op' && next.s === '.'))) return null;
    if (!/^\d+(?:\.\d*)?$/.test(s)) return null;
    const dot = !s.includes('.') && this.isOp('.') ? 1 : 0;
    if (!s.includes('.') && dot === 0) return null;
    const bar = this.peek(dot);
    if (!bar || bar.t !== 'accent' || bar.s !== 'bar' || !/^\d{1,30}$/.test(bar.arg ?? '')) return null;
    this.i += dot + 1;
    const [int, frac = ''] = (dot ? s + '.' : s).split('.') as [string, string?];
    const block = bar.arg!;
    // int.frac(block)(block)… = (int frac block − int frac) / (10^|frac| · (10^|block| − 1))
    const whole = BigInt(int + frac + block) - BigInt(int + frac);
    const den = 10n ** BigInt(frac.length) * (10n ** BigInt(block.length) - 1n);
    return num(ratDiv(rat(whole), rat(den)) as Rat);
  }

  private numberNode(s: string): Node {
    const v = parseDecimal(s);
    if (!v) throw new ParseError(`bad number ${s}`);
    const n = num(v, /[.eE]/.test(s));
    this.written.add(n);
    return n;
  }

  private subscriptText(): string {
    // After `_`: the raw text of the subscript, whitespace removed.
    const t = this.peek();
    if (!t) throw new ParseError('missing subscript');
    if (t.t === 'op' && t.s === '{') {
      let d = 0;
      let j = this.i;
      for (; j < this.toks.length; j++) {
        const u = this.toks[j]!;
        if (u.t === 'op' && u.s === '{') d++;
        else if (u.t === 'op' && u.s === '}' && --d === 0) break;
      }
      if (j >= this.toks.length) throw new ParseError('unbalanced subscript');
      const text = this.src.slice(t.end, this.toks[j]!.pos).replace(/\s+/g, '');
      this.i = j + 1;
      return text;
    }
    if (t.t === 'num') {
      if (t.s.length > 1) {
        this.split(t);
        return t.s[0]!;
      }
      this.i++;
      return t.s;
    }
    this.i++;
    return this.src.slice(t.pos, t.end).replace(/\s+/g, '');
  }

  /** A variable with its subscript (and an undefined-function call `f(x)`, `g(1, 2)`). */
  private symbolNode(base: string): Node {
    let name = base;
    if (this.isOp('_')) {
      this.i++;
      const s = this.subscriptText().toLowerCase();
      name += s.length > 1 ? `_{${s}}` : `_${s}`;
    }
    if (this.isOp('(') && this.looksLikeCall()) {
      this.i++;
      const groups = this.parseGroups(false, [')']);
      this.expectOp(')');
      return { k: 'fn', name: 'f:' + name, args: groups.flat() };
    }
    return sym(name);
  }

  private looksLikeCall(): boolean {
    // f(x), f(2), f(x_1), g(a, b): a single atom or a comma list inside the parentheses.
    let d = 0;
    let commas = 0;
    let j = this.i;
    for (; j < this.toks.length; j++) {
      const u = this.toks[j]!;
      if (u.t === 'op' && (u.s === '(' || u.s === '{' || u.s === '[')) d++;
      else if (u.t === 'op' && (u.s === ')' || u.s === '}' || u.s === ']')) {
        if (--d === 0) break;
      } else if (d === 1 && u.t === 'op' && u.s === ',') commas++;
    }
    if (j >= this.toks.length) return false;
    if (commas > 0) return true;
    const inner = this.toks.slice(this.i + 1, j);
    if (inner.length === 0) return false;
    const first = inner[0]!;
    const atom = first.t === 'num' || first.t === 'id' || (first.t === 'cmd' && GREEK.has(first.s));
    if (!atom) return false;
    if (inner.length === 1) return true;
    // x_1, x^2, x_{10}
    const op = inner[1]!;
    if (op.t !== 'op' || (op.s !== '_' && op.s !== '^')) return false;
    if (inner.length === 3) return true;
    return inner[2]!.t === 'op' && inner[2]!.s === '{' && inner[inner.length - 1]!.t === 'op' && inner[inner.length - 1]!.s === '}';
  }

  private parsePrimary(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('unexpected end');
    switch (t.t) {
      case 'num': {
        this.i++;
        const repeating = this.repeatingDecimal(t.s);
        return repeating ?? this.numberNode(t.s);
      }
      case 'id':
        this.i++;
        if (t.s === 'e' && !this.isOp('_')) return E_CONST;
        return this.symbolNode(t.s.toLowerCase());
      case 'text': {
        this.i++;
        const c = t.s.trim();
        if (/^-?\d+(?:\.\d+)?$/.test(c)) return this.numberNode(c);
        const s = c.toLowerCase().replace(/[\s()]/g, '');
        if (s === '') throw new ParseError('empty text');
        return { k: 'text', s };
      }
      case 'accent': {
        this.i++;
        const content = (t.arg ?? '').replace(/\s/g, '').toLowerCase();
        return this.symbolNode(t.s === 'math' ? content : `${t.s}{${content}}`);
      }
      case 'domain':
        this.i++;
        return { k: 'domain', name: t.s === 'P' ? 'N' : (DOMAINS.get(t.s) ?? 'R') };
      case 'opname':
        this.i++;
        return this.parseFunction(t.s, true);
      case 'begin':
        return this.parseMatrix();
      case 'end':
        throw new ParseError(`unexpected \\end{${t.s}}`);
      case 'op':
        return this.parseOpPrimary(t);
      case 'cmd':
        return this.parseCmdPrimary(t);
    }
  }

  private parseOpPrimary(t: Tok): Node {
    switch (t.s) {
      case '(':
      case '[': {
        this.i++;
        const groups = this.parseGroups(false, [')', ']']);
        const close = this.peek();
        if (!close || close.t !== 'op' || (close.s !== ')' && close.s !== ']')) throw new ParseError(`unclosed ${t.s}`);
        this.i++;
        return bracketed(t.s, close.s, groups);
      }
      case '{': {
        this.i++;
        if (this.isOp('}')) {
          this.i++;
          return { k: 'domain', name: 'empty' };
        }
        const groups = this.parseGroups(false, ['}']);
        this.expectOp('}');
        const flat = groups.flat();
        return flat.length === 1 ? flat[0]! : mkSet(flat);
      }
      case '\\{': {
        this.i++;
        if (this.isOp('\\}')) {
          this.i++;
          return { k: 'domain', name: 'empty' };
        }
        const groups = this.parseGroups(false, ['\\}']);
        this.expectOp('\\}');
        return mkSet(groups.flat());
      }
      case '|':
      case '‖': {
        this.i++;
        this.absDepth++;
        const inner = this.parseAdditive();
        this.absDepth--;
        this.expectOp(t.s);
        return { k: 'fn', name: 'abs', args: [inner] };
      }
      default:
        throw new ParseError(`unexpected ${t.s} at ${t.pos}`);
    }
  }

  private parseCmdPrimary(t: Tok): Node {
    const name = t.s;
    if (GREEK.has(name)) {
      this.i++;
      return this.symbolNode(name.toLowerCase());
    }
    if (FUNCS.has(name)) {
      this.i++;
      return this.parseFunction(name, false);
    }
    switch (name) {
      case 'pi':
      case 'Pi':
        this.i++;
        return PI;
      case 'infty':
        this.i++;
        return INF;
      case 'exponentialE':
        this.i++;
        return E_CONST;
      case 'imath':
        this.i++;
        return sym('i');
      case 'emptyset':
      case 'varnothing':
        this.i++;
        return { k: 'domain', name: 'empty' };
      case 'frac':
      case 'dfrac':
      case 'tfrac':
      case 'cfrac': {
        this.i++;
        const a = this.parseScriptArg();
        const b = this.parseScriptArg();
        if (isIntLit(a) && isIntLit(b) && b.v.n !== 0n) {
          const r = num(ratDiv(a.v, b.v) as Rat);
          this.fracs.add(r);
          return r;
        }
        return mkDiv(a, b);
      }
      case 'binom':
      case 'dbinom':
      case 'tbinom': {
        this.i++;
        const a = this.parseScriptArg();
        const b = this.parseScriptArg();
        return { k: 'fn', name: 'binom', args: [a, b] };
      }
      case 'sqrt': {
        this.i++;
        let index: Node | null = null;
        if (this.isOp('[')) {
          this.i++;
          index = this.parseAdditive();
          this.expectOp(']');
        }
        const arg = this.parseScriptArg();
        let exp: Node;
        if (index === null) exp = num(rat(1n, 2n));
        else if (index.k === 'num' && index.v.n !== 0n) exp = num(ratDiv({ n: 1n, d: 1n }, index.v) as Rat);
        else exp = mkDiv(num(rat(1n)), index);
        return { k: 'pow', base: arg, exp };
      }
      case 'boxed':
      case 'fbox': {
        this.i++;
        this.expectOp('{');
        const groups = this.parseGroups(false, ['}']);
        this.expectOp('}');
        return setOrTuple(groups);
      }
      case 'lfloor':
      case 'lceil': {
        this.i++;
        const inner = this.parseAdditive();
        const close = name === 'lfloor' ? 'rfloor' : 'rceil';
        if (!this.isCmd(close)) throw new ParseError(`expected \\${close}`);
        this.i++;
        return { k: 'fn', name: name === 'lfloor' ? 'floor' : 'ceil', args: [inner] };
      }
      case 'lvert':
      case 'vert': {
        this.i++;
        this.absDepth++;
        const inner = this.parseAdditive();
        this.absDepth--;
        if (!this.isCmd('rvert') && !this.isCmd('vert')) throw new ParseError('expected \\rvert');
        this.i++;
        return { k: 'fn', name: 'abs', args: [inner] };
      }
      case 'langle': {
        this.i++;
        const groups = this.parseGroups(false, []);
        if (!this.isCmd('rangle')) throw new ParseError('expected \\rangle');
        this.i++;
        const items = groups.flat();
        return items.length === 1 ? items[0]! : { k: 'tuple', items };
      }
      case 'lbrace': {
        this.i++;
        const groups = this.parseGroupsUntilCmd('rbrace');
        return mkSet(groups.flat());
      }
      case 'lbrack': {
        this.i++;
        const groups = this.parseGroupsUntilCmd('rbrack');
        return bracketed('[', ']', groups);
      }
      case 'sum':
      case 'prod':
        this.i++;
        return this.parseBigOp(name);
      case 'int':
        this.i++;
        return this.parseIntegral();
      case 'lim':
        this.i++;
        return this.parseLimit();
      default:
        throw new ParseError(`unsupported command \\${name}`);
    }
  }

  private parseGroupsUntilCmd(close: string): Node[][] {
    const groups: Node[][] = [[]];
    while (!this.isCmd(close)) {
      if (this.atEnd()) throw new ParseError(`expected \\${close}`);
      groups[groups.length - 1]!.push(...this.parseElement(false));
      if (this.isOp(',')) this.i++;
      else if (this.isOp(';')) {
        this.i++;
        groups.push([]);
      } else if (!this.isCmd(close)) throw new ParseError(`expected \\${close}`);
    }
    this.i++;
    return groups;
  }

  private parseBigOp(name: 'sum' | 'prod'): Node {
    let v: string | null = null;
    let lo: Node | null = null;
    let hi: Node | null = null;
    for (let k = 0; k < 2; k++) {
      if (this.isOp('_')) {
        this.i++;
        this.expectOp('{');
        const vt = this.peek();
        if (!vt || (vt.t !== 'id' && !(vt.t === 'cmd' && GREEK.has(vt.s)))) throw new ParseError('expected index variable');
        this.i++;
        v = vt.s.toLowerCase();
        this.expectOp('=');
        lo = this.parseAdditive();
        this.expectOp('}');
      } else if (this.isOp('^')) {
        this.i++;
        hi = this.parseScriptArg();
      }
    }
    if (v === null || lo === null || hi === null) throw new ParseError(`\\${name} needs _{k=a}^{b}`);
    const body = this.parseTerm();
    return { k: name, body, v, lo, hi };
  }

  /** Parses `toks` (a part of this parser's input, e.g. an integrand) as one additive expression. */
  private parseSub(toks: Tok[], what: string): Node {
    if (toks.length === 0) throw new ParseError(`empty ${what}`);
    const sub = new Parser(toks, this.src, this.depth + 1);
    const n = sub.parseAdditive();
    if (!sub.atEnd()) throw new ParseError(`unexpected ${sub.peek()!.s} in ${what}`);
    return n;
  }

  /** The variable of a differential `dx` / `d\theta` at token `j` (the token after `d`), or null. */
  private differentialVar(j: number): string | null {
    const v = this.toks[j];
    if (!v) return null;
    if (v.t === 'id') return v.s.toLowerCase();
    if (v.t === 'cmd' && GREEK.has(v.s)) return v.s.toLowerCase();
    return null;
  }

  /** True when token `j` is the `d` of a differential: `d`, `\mathrm{d}`, `\text{d}`, `\operatorname{d}`. */
  private isDifferentialD(j: number): boolean {
    const t = this.toks[j];
    return t !== undefined && ((t.t === 'id' && t.s === 'd') || ((t.t === 'text' || t.t === 'opname') && t.s.trim() === 'd'));
  }

  /**
   * `\int_a^b f(x)\,dx` (also `\mathrm{d}x`, `\int_a^b \frac{dx}{g(x)}`, nested integrals): a definite
   * integral, evaluated numerically. The integrand runs to its differential; an integral without
   * both bounds (indefinite) is not read.
   */
  private parseIntegral(): Node {
    const { sub: lo, sup: hi } = this.parseScripts();
    if (lo === null || hi === null) throw new ParseError('\\int needs both bounds _{a}^{b} (indefinite integrals are not read)');
    const start = this.i;
    // `\frac{dx}{g}`: the integrand is 1/g.
    const f = this.peek();
    if (f && f.t === 'cmd' && ['frac', 'dfrac', 'tfrac'].includes(f.s) && this.isOp('{', 1) && this.isDifferentialD(start + 2)) {
      const v = this.differentialVar(start + 3);
      if (v !== null && this.isOp('}', 4)) {
        this.i += 5;
        const den = this.parseScriptArg();
        return { k: 'int', body: mkDiv(num(rat(1n)), den), v, lo, hi };
      }
    }
    // The differential closing this integral: the first `d<var>` outside brackets not taken by a nested ∫.
    let depth = 0;
    let pending = 0;
    for (let j = start; j < this.toks.length; j++) {
      const t = this.toks[j]!;
      if (t.t === 'op' && ['(', '[', '{', '\\{'].includes(t.s)) depth++;
      else if (t.t === 'op' && [')', ']', '}', '\\}'].includes(t.s)) {
        if (--depth < 0) break;
      } else if (depth === 0 && t.t === 'cmd' && t.s === 'int') pending++;
      else if (depth === 0 && this.isDifferentialD(j)) {
        const v = this.differentialVar(j + 1);
        if (v === null) continue;
        if (pending > 0) {
          pending--;
          continue;
        }
        const body = j === start ? num(rat(1n)) : this.parseSub(this.toks.slice(start, j), 'integrand');
        this.i = j + 2;
        return { k: 'int', body, v, lo, hi };
      }
    }
    throw new ParseError('\\int without a differential (dx)');
  }

  /** `\lim_{x \to a} f(x)` (`a^+`, `a^-` one-sided; `a` may be ±∞): a limit, evaluated numerically. */
  private parseLimit(): Node {
    this.expectOp('_');
    this.expectOp('{');
    const v = this.differentialVar(this.i);
    if (v === null) throw new ParseError('\\lim needs _{x \\to a}');
    this.i++;
    if (!this.isCmd('to') && !this.isCmd('rightarrow')) throw new ParseError('\\lim needs _{x \\to a}');
    this.i++;
    let depth = 0;
    let j = this.i;
    for (; j < this.toks.length; j++) {
      const t = this.toks[j]!;
      if (t.t === 'op' && t.s === '{') depth++;
      else if (t.t === 'op' && t.s === '}' && depth-- === 0) break;
    }
    if (j >= this.toks.length) throw new ParseError('unclosed \\lim subscript');
    let target = this.toks.slice(this.i, j);
    let side: '+' | '-' | '' = '';
    const sign = (t: Tok | undefined): '+' | '-' | null => (t && t.t === 'op' && (t.s === '+' || t.s === '-') ? t.s : null);
    const last = target.length;
    // a^+, a^{-}, a+ (a trailing sign), 0^{+}
    if (last >= 2 && target[last - 2]!.t === 'op' && target[last - 2]!.s === '^' && sign(target[last - 1])) {
      side = sign(target[last - 1])!;
      target = target.slice(0, -2);
    } else if (last >= 4 && target[last - 4]!.t === 'op' && target[last - 4]!.s === '^' && this.isTok(target[last - 3], '{') && sign(target[last - 2]) && this.isTok(target[last - 1], '}')) {
      side = sign(target[last - 2])!;
      target = target.slice(0, -4);
    } else if (last >= 2 && sign(target[last - 1])) {
      side = sign(target[last - 1])!;
      target = target.slice(0, -1);
    }
    const to = this.parseSub(target, 'limit point');
    this.i = j + 1;
    const body = this.parseTerm();
    return { k: 'lim', body, v, to, side };
  }

  private isTok(t: Tok | undefined, s: string): boolean {
    return t !== undefined && t.t === 'op' && t.s === s;
  }

  private parseFunction(rawName: string, operatorName: boolean): Node {
    let name = FUNCS.get(rawName) ?? (operatorName ? `f:${rawName.toLowerCase()}` : rawName);
    const scripts = this.parseScripts();
    let power = scripts.sup;
    const base: Node | null = scripts.sub ?? (rawName === 'ln' ? E_CONST : rawName === 'log' || rawName === 'lg' ? num(rat(10n)) : null);
    let args: Node[];
    if (this.isOp('(')) {
      this.i++;
      const groups = this.parseGroups(false, [')']);
      this.expectOp(')');
      args = groups.flat();
    } else if (this.isOp('{') && !operatorName) {
      this.i++;
      const groups = this.parseGroups(false, ['}']);
      this.expectOp('}');
      args = groups.flat();
    } else {
      // \sin 2x, \log_2 8, \ln x^2: a run of factors, stopping at the next function.
      let f = this.parsePostfix();
      while (this.startsFactor(true, true)) f = mkMul(f, this.parsePostfix());
      args = [f];
    }
    if (args.length === 0) throw new ParseError(`${rawName} without argument`);
    let out: Node;
    if (name === 'log') out = { k: 'fn', name: 'log', args: [args[0]!, base ?? num(rat(10n))] };
    else {
      if (power && TRIG.has(name) && power.k === 'num' && power.v.n === -1n && power.v.d === 1n) {
        name = 'a' + name;
        power = null;
      }
      out = { k: 'fn', name, args };
    }
    return power ? { k: 'pow', base: out, exp: power } : out;
  }

  private parseMatrix(): Node {
    const env = this.peek()!.s;
    this.i++;
    const known = ['pmatrix', 'bmatrix', 'Bmatrix', 'vmatrix', 'Vmatrix', 'matrix', 'smallmatrix', 'array'];
    if (!known.includes(env)) throw new ParseError(`unsupported environment ${env}`);
    const rows: Node[][] = [[]];
    for (;;) {
      const t = this.peek();
      if (!t) throw new ParseError(`unclosed ${env}`);
      if (t.t === 'end') {
        this.i++;
        break;
      }
      if (t.t === 'op' && t.s === '\\\\') {
        this.i++;
        rows.push([]);
        continue;
      }
      if (t.t === 'op' && t.s === '&') {
        this.i++;
        continue;
      }
      rows[rows.length - 1]!.push(this.parseAdditive());
      const u = this.peek();
      if (u && !(u.t === 'end' || (u.t === 'op' && (u.s === '&' || u.s === '\\\\')))) throw new ParseError('bad matrix cell');
    }
    while (rows.length > 0 && rows[rows.length - 1]!.length === 0) rows.pop();
    if (rows.length === 0 || rows.some((r) => r.length !== rows[0]!.length)) throw new ParseError('ragged matrix');
    const m: Node = { k: 'matrix', rows };
    return env === 'vmatrix' ? { k: 'fn', name: 'det', args: [m] } : m;
  }
}

function lastRhs(n: Extract<Node, { k: 'and' }>): Node {
  const last = n.args[n.args.length - 1]!;
  return last.k === 'rel' ? last.rhs : last;
}

function asSet(n: Node): Node {
  if (n.k === 'tuple') return mkSet(n.items);
  return n;
}

function divide(a: Node, b: Node): Node {
  if (isIntLit(a) && isIntLit(b) && b.v.n !== 0n) return num(ratDiv(a.v, b.v) as Rat);
  return mkDiv(a, b);
}

function bracketed(open: string, close: string, groups: Node[][]): Node {
  const flat = groups.flat();
  if (groups.length === 1 && flat.length === 2 && !flat.some((x) => x.k === 'rel' || x.k === 'and')) {
    const [lo, hi] = flat as [Node, Node];
    const loOpen = open === '(';
    const hiOpen = close === ')';
    const a = constValue(lo);
    const b = constValue(hi);
    // An "interval" that would be empty is a pair, as in Math-Verify: (3, 2) is a point.
    if (a !== null && b !== null && ((loOpen && hiOpen && b <= a) || (!loOpen && !hiOpen && b < a))) return { k: 'tuple', items: [lo, hi] };
    return { k: 'interval', lo, hi, loOpen, hiOpen };
  }
  if (open !== close.replace(')', '(').replace(']', '[')) throw new ParseError('mismatched brackets');
  if (groups.length === 1 && flat.length === 1) return flat[0]!;
  return { k: 'tuple', items: flat };
}

function constValue(n: Node): number | null {
  if (n.k === 'num') return Number(n.v.n) / Number(n.v.d);
  if (n.k === 'const' && n.name === 'inf') return Infinity;
  if (n.k === 'const' && n.name === 'pi') return Math.PI;
  if (n.k === 'mul' && n.args.length === 2 && n.args[0] === MINUS_ONE) {
    const v = constValue(n.args[1]!);
    return v === null ? null : -v;
  }
  return null;
}

/** `s` without trailing `.`, `,`, `;` and whitespace — `s.replace(/[.,;\s]+$/, '')` in linear time (that regex is quadratic on a long run of those characters that does not end the text). */
function trimTrailing(s: string): string {
  let e = s.length;
  while (e > 0 && /[.,;\s]/.test(s[e - 1]!)) e--;
  return s.slice(0, e);
}

const COMMA_NUMBER = /^\s*-?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*$/;

/**
 * Parses one normalised LaTeX answer. Throws {@link ParseError} on input it cannot read.
 *
 * @example
 * show(parseLatex('x = 1 \\pm \\sqrt{19}')) // → '{x = (1 + 19^1/2), x = (1 + -1·19^1/2)}'
 */
export function parseLatex(src: string): Node {
  let s = trimTrailing(src.trim());
  if (s.length === 0) throw new ParseError('empty');
  if (s.length > 4000) throw new ParseError('answer too long');
  if (COMMA_NUMBER.test(s)) {
    s = s.trim();
    const v = /^-?0,/.test(s) ? parseDecimal(s.replace(',', '.')) : parseDecimal(s.replace(/,/g, ''));
    if (v) return num(v, s.includes('.') || /^-?0,/.test(s));
  }
  const p = new Parser(tokenize(s), s);
  return p.parseMath();
}
