/**
 * Evaluation of answer trees: exactly over the rationals where possible (integers, fractions,
 * terminating decimals, perfect-power roots), otherwise in complex double precision at a point.
 * Symbolic equivalence is then decided by evaluating both sides at the same sample points.
 */
import { type Node, binderKinds, children, freeSymbols, mkAdd, mkMul } from './ast.js';
import { type Deadline, NO_DEADLINE } from './deadline.js';
import { type Numeric, integrate, limit } from './calculus.js';
import * as R from './rational.js';
import type { Rat } from './rational.js';

/** A complex number. NaN parts mean "undefined here" (division by zero, outside a domain …). */
export interface Cx {
  re: number;
  im: number;
}

const NAN: Cx = { re: NaN, im: NaN };
const cx = (re: number, im = 0): Cx => ({ re, im });

/** State of one evaluation: variable values, the largest intermediate magnitude seen, a deadline. */
export interface EvalCtx {
  env: Map<string, Cx>;
  /** Largest |term| met in a sum: differences below ~1e-12 of it are rounding noise, not a real difference. */
  scale: number;
  deadline: Deadline;
}

/** A fresh context with the given variable values. */
export function evalCtx(env: Map<string, Cx> = new Map(), deadline: Deadline = NO_DEADLINE): EvalCtx {
  return { env, scale: 0, deadline };
}

function cmul(a: Cx, b: Cx): Cx {
  if (a.im === 0 && b.im === 0) return cx(a.re * b.re);
  return cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
function cdiv(a: Cx, b: Cx): Cx {
  if (b.im === 0) {
    if (b.re === 0) return NAN;
    return cx(a.re / b.re, a.im / b.re);
  }
  const d = b.re * b.re + b.im * b.im;
  return cx((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
const cabs = (a: Cx): number => (a.im === 0 ? Math.abs(a.re) : Math.hypot(a.re, a.im));
function cexp(a: Cx): Cx {
  const m = Math.exp(a.re);
  return a.im === 0 ? cx(m) : cx(m * Math.cos(a.im), m * Math.sin(a.im));
}
function clog(a: Cx): Cx {
  if (a.im === 0 && a.re > 0) return cx(Math.log(a.re));
  if (a.re === 0 && a.im === 0) return NAN;
  return cx(Math.log(cabs(a)), Math.atan2(a.im, a.re));
}
function csqrt(a: Cx): Cx {
  if (a.im === 0) return a.re >= 0 ? cx(Math.sqrt(a.re)) : cx(0, Math.sqrt(-a.re));
  const m = cabs(a);
  const re = Math.sqrt((m + a.re) / 2);
  const im = Math.sign(a.im) * Math.sqrt((m - a.re) / 2);
  return cx(re, im);
}
function cpowInt(a: Cx, k: number): Cx {
  if (k < 0) return cdiv(cx(1), cpowInt(a, -k));
  let r = cx(1);
  let b = a;
  while (k > 0) {
    if (k & 1) r = cmul(r, b);
    b = cmul(b, b);
    k >>= 1;
  }
  return r;
}
function cpow(a: Cx, b: Cx, exact: Rat | null): Cx {
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) return cpowInt(a, b.re);
  if (a.im === 0 && b.im === 0) {
    if (a.re > 0) return cx(Math.pow(a.re, b.re));
    if (a.re === 0) return b.re > 0 ? cx(0) : NAN;
    // A negative base with an odd-denominator rational exponent has a real root: ∛(−8) = −2.
    if (exact && exact.d % 2n === 1n) {
      const m = Math.pow(-a.re, b.re);
      return cx(exact.n % 2n === 0n ? m : -m);
    }
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? cx(0) : NAN;
  if (b.im === 0 && b.re === 0.5) return csqrt(a);
  return cexp(cmul(b, clog(a)));
}
function csin(a: Cx): Cx {
  if (a.im === 0) return cx(Math.sin(a.re));
  return cx(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
}
function ccos(a: Cx): Cx {
  if (a.im === 0) return cx(Math.cos(a.re));
  return cx(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
}
const I = cx(0, 1);
function casin(a: Cx): Cx {
  if (a.im === 0 && Math.abs(a.re) <= 1) return cx(Math.asin(a.re));
  // −i·log(iz + √(1 − z²))
  const w = clog(cadd(cmul(I, a), csqrt(csub(cx(1), cmul(a, a)))));
  return cx(w.im, -w.re);
}
function catan(a: Cx): Cx {
  if (a.im === 0) return cx(Math.atan(a.re));
  // (i/2)·log((i + z)/(i − z))
  const w = clog(cdiv(cadd(I, a), csub(I, a)));
  return cx(-w.im / 2, w.re / 2);
}
function cadd(a: Cx, b: Cx): Cx {
  return cx(a.re + b.re, a.im + b.im);
}
function csub(a: Cx, b: Cx): Cx {
  return cx(a.re - b.re, a.im - b.im);
}
function realOf(a: Cx): number {
  return Math.abs(a.im) <= 1e-12 * Math.max(1, Math.abs(a.re)) ? a.re : NaN;
}

function lanczosGamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * lanczosGamma(1 - x));
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

function factorialNum(x: number): number {
  if (x < 0 && Number.isInteger(x)) return NaN;
  if (Number.isInteger(x) && x <= 170) {
    let r = 1;
    for (let i = 2; i <= x; i++) r *= i;
    return r;
  }
  return lanczosGamma(x + 1);
}

/** Deterministic pseudo-random value of an undefined function at its arguments (`f(x)` is some fixed number). */
function hashFn(name: string, args: Cx[]): Cx {
  let h = 2166136261;
  const s = name + '|' + args.map((a) => `${a.re.toPrecision(10)},${a.im.toPrecision(10)}`).join('|');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return cx(0.5 + (h >>> 0) / 4294967296);
}

const CONSTS: Record<string, Cx> = { pi: cx(Math.PI), e: cx(Math.E), i: I, inf: cx(Infinity), gamma: cx(0.5772156649015329) };

/**
 * Value of `n` at the point in `ctx.env` (free variable `i` is the imaginary unit). Sets, relations,
 * text and matrices have no scalar value: NaN.
 */
export function evalNode(n: Node, ctx: EvalCtx): Cx {
  ctx.deadline.check();
  switch (n.k) {
    case 'num':
      return cx(R.toNumber(n.v));
    case 'const':
      return CONSTS[n.name]!;
    case 'sym': {
      const v = ctx.env.get(n.name);
      if (v !== undefined) return v;
      return n.name === 'i' ? I : NAN;
    }
    case 'add': {
      let re = 0;
      let im = 0;
      for (const a of n.args) {
        const v = evalNode(a, ctx);
        const m = cabs(v);
        if (m > ctx.scale) ctx.scale = m;
        re += v.re;
        im += v.im;
      }
      return cx(re, im);
    }
    case 'mul': {
      let r = cx(1);
      for (const a of n.args) r = cmul(r, evalNode(a, ctx));
      return r;
    }
    case 'pow': {
      const exact = n.exp.k === 'num' ? n.exp.v : null;
      return cpow(evalNode(n.base, ctx), evalNode(n.exp, ctx), exact);
    }
    case 'pct': {
      const v = evalNode(n.arg, ctx);
      return cx(v.re / 100, v.im / 100);
    }
    case 'deg':
      return evalNode(n.arg, ctx);
    case 'fn':
      return evalFn(n, ctx);
    case 'sum':
    case 'prod':
      return evalBigOp(n, ctx);
    case 'int':
    case 'lim':
      return evalCalculus(n, ctx);
    default:
      return NAN;
  }
}

type BigOp = Extract<Node, { k: 'sum' | 'prod' }>;
type Calculus = Extract<Node, { k: 'int' | 'lim' }>;

/** Values of closed integrals and limits (no free variable), computed once per node: references are cached trees. */
const calculusMemo = new WeakMap<Node, Numeric>();
const closedNodes = new WeakMap<Node, boolean>();

function isClosed(n: Node): boolean {
  let c = closedNodes.get(n);
  if (c === undefined) {
    c = freeSymbols(n).every((v) => v === 'i');
    closedNodes.set(n, c);
  }
  return c;
}

/** ∫ and lim, numerically (see calculus.ts); NaN when they cannot be evaluated, ±Infinity for an infinite limit. */
function evalCalculus(n: Calculus, ctx: EvalCtx): Cx {
  const closed = isClosed(n);
  let r = closed ? calculusMemo.get(n) : undefined;
  if (r === undefined) {
    r = n.k === 'int' ? evalIntegral(n, ctx) : evalLimit(n, ctx);
    if (closed) calculusMemo.set(n, r);
  }
  if (r.scale > ctx.scale) ctx.scale = r.scale;
  return r.value;
}

/** Evaluates `body` with the variable `v` bound to `x` (restoring any outer binding of the same name). */
function withVar(n: Calculus, ctx: EvalCtx): (x: Cx) => Cx {
  return (x) => {
    const saved = ctx.env.get(n.v);
    ctx.env.set(n.v, x);
    try {
      return evalNode(n.body, ctx);
    } finally {
      if (saved === undefined) ctx.env.delete(n.v);
      else ctx.env.set(n.v, saved);
    }
  };
}

function evalIntegral(n: Extract<Calculus, { k: 'int' }>, ctx: EvalCtx): Numeric {
  const lo = realOf(evalNode(n.lo, ctx));
  const hi = realOf(evalNode(n.hi, ctx));
  const f = withVar(n, ctx);
  return integrate((x) => f(cx(x)), lo, hi);
}

function evalLimit(n: Extract<Calculus, { k: 'lim' }>, ctx: EvalCtx): Numeric {
  const a = realOf(evalNode(n.to, ctx));
  const f = withVar(n, ctx);
  return limit((x) => f(cx(x)), a, n.side === '+' ? 1 : n.side === '-' ? -1 : 0);
}

/**
 * Why an integral or limit in `n` with no free variable cannot be evaluated (the first one found), or
 * null when they all can (or there are none). Throws MathTimeout past the deadline.
 */
export function calculusFailure(n: Node, deadline: Deadline = NO_DEADLINE): string | null {
  const kinds = binderKinds(n);
  return kinds.has('int') || kinds.has('lim') ? firstFailure(n, deadline) : null;
}

function firstFailure(n: Node, deadline: Deadline): string | null {
  if ((n.k === 'int' || n.k === 'lim') && isClosed(n)) {
    const v = evalNode(n, evalCtx(new Map(), deadline));
    // A limit may be ±∞ (lim_{x→0⁺} 1/x), compared with a written ∞.
    if (finite(v) || (n.k === 'lim' && v.im === 0 && Math.abs(v.re) === Infinity)) return null;
    return n.k === 'int'
      ? 'integral cannot be evaluated (divergent, or no convergence within the step limit)'
      : 'limit cannot be evaluated (does not exist, or approaches too slowly or irregularly to extrapolate)';
  }
  for (const c of children(n)) {
    const r = firstFailure(c, deadline);
    if (r !== null) return r;
  }
  return null;
}


function evalBigOp(n: BigOp, ctx: EvalCtx): Cx {
  if (!freeSymbols(n.body).includes(n.v)) {
    // A body free of the index: (hi − lo + 1) copies, for any bound (Σ_{k=0}^{n-1} c = n·c).
    const count = csub(cadd(evalNode(n.hi, ctx), cx(1)), evalNode(n.lo, ctx));
    const body = evalNode(n.body, ctx);
    return n.k === 'sum' ? cmul(count, body) : cpow(body, count, null);
  }
  const lo = realOf(evalNode(n.lo, ctx));
  const hi = realOf(evalNode(n.hi, ctx));
  const a = Math.round(lo);
  const b = Math.round(hi);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || Math.abs(lo - a) > 1e-9 || Math.abs(hi - b) > 1e-9) return NAN;
  if (b - a > 100_000) return NAN;
  const saved = ctx.env.get(n.v);
  let acc = n.k === 'sum' ? cx(0) : cx(1);
  for (let k = a; k <= b; k++) {
    ctx.env.set(n.v, cx(k));
    const v = evalNode(n.body, ctx);
    if (n.k === 'sum') {
      const m = cabs(v);
      if (m > ctx.scale) ctx.scale = m;
      acc = cadd(acc, v);
    } else acc = cmul(acc, v);
  }
  if (saved === undefined) ctx.env.delete(n.v);
  else ctx.env.set(n.v, saved);
  return acc;
}

function evalFn(n: Extract<Node, { k: 'fn' }>, ctx: EvalCtx): Cx {
  if (n.name === 'det') {
    const m = evalMatrix(n.args[0]!, ctx);
    return m ? detOf(m) : NAN;
  }
  const args = n.args.map((a) => evalNode(a, ctx));
  const a = args[0] ?? NAN;
  const re = (): number => realOf(a);
  switch (n.name) {
    case 'sin':
      return csin(a);
    case 'cos':
      return ccos(a);
    case 'tan':
      return cdiv(csin(a), ccos(a));
    case 'sec':
      return cdiv(cx(1), ccos(a));
    case 'csc':
      return cdiv(cx(1), csin(a));
    case 'cot':
      return cdiv(ccos(a), csin(a));
    case 'asin':
      return casin(a);
    case 'acos':
      return csub(cx(Math.PI / 2), casin(a));
    case 'atan':
      return catan(a);
    case 'asec':
      return csub(cx(Math.PI / 2), casin(cdiv(cx(1), a)));
    case 'acsc':
      return casin(cdiv(cx(1), a));
    case 'acot':
      return a.re === 0 && a.im === 0 ? cx(Math.PI / 2) : catan(cdiv(cx(1), a));
    case 'sinh':
      return cmul(cx(0.5), csub(cexp(a), cexp(cx(-a.re, -a.im))));
    case 'cosh':
      return cmul(cx(0.5), cadd(cexp(a), cexp(cx(-a.re, -a.im))));
    case 'tanh':
    case 'coth':
    case 'sech':
    case 'csch': {
      const s = csub(cexp(a), cexp(cx(-a.re, -a.im)));
      const c = cadd(cexp(a), cexp(cx(-a.re, -a.im)));
      return n.name === 'tanh' ? cdiv(s, c) : n.name === 'coth' ? cdiv(c, s) : n.name === 'sech' ? cdiv(cx(2), c) : cdiv(cx(2), s);
    }
    case 'asinh':
      return clog(cadd(a, csqrt(cadd(cmul(a, a), cx(1)))));
    case 'acosh':
      return clog(cadd(a, cmul(csqrt(cadd(a, cx(1))), csqrt(csub(a, cx(1))))));
    case 'atanh':
      return cmul(cx(0.5), clog(cdiv(cadd(cx(1), a), csub(cx(1), a))));
    case 'exp':
      return cexp(a);
    case 'log': {
      const b = args[1] ?? cx(Math.E);
      return cdiv(clog(a), clog(b));
    }
    case 'abs':
      return cx(cabs(a));
    case 'floor':
      return cx(Math.floor(re() + 1e-12));
    case 'ceil':
      return cx(Math.ceil(re() - 1e-12));
    case 'sgn':
      return cx(Math.sign(re()));
    case 're':
      return cx(a.re);
    case 'im':
      return cx(a.im);
    case 'arg':
      return cx(Math.atan2(a.im, a.re));
    case 'fact':
      return cx(factorialNum(re()));
    case 'gamma':
      return cx(factorialNum(re() - 1));
    case 'binom': {
      const k = realOf(args[1] ?? NAN);
      if (Number.isInteger(k) && k >= 0 && k <= 1000) {
        let r = cx(1);
        for (let j = 0; j < k; j++) r = cdiv(cmul(r, csub(a, cx(j))), cx(j + 1));
        return r;
      }
      const x = re();
      return cx(factorialNum(x) / (factorialNum(k) * factorialNum(x - k)));
    }
    case 'max':
    case 'min': {
      const vals = args.map(realOf);
      return cx(n.name === 'max' ? Math.max(...vals) : Math.min(...vals));
    }
    case 'gcd':
    case 'lcm': {
      const vals = args.map(realOf);
      if (!vals.every((v) => Number.isInteger(v))) return NAN;
      const g2 = (x: number, y: number): number => (y === 0 ? Math.abs(x) : g2(y, x % y));
      let acc = vals[0]!;
      for (const v of vals.slice(1)) acc = n.name === 'gcd' ? g2(acc, v) : Math.abs(acc * v) / (g2(acc, v) || 1);
      return cx(acc);
    }
    case 'mod': {
      const x = re();
      const m = realOf(args[1] ?? NAN);
      return cx(((x % m) + m) % m);
    }
    default:
      if (n.name.startsWith('f:')) return hashFn(n.name, args);
      return NAN;
  }
}

function detOf(m: Cx[][]): Cx {
  const n = m.length;
  if (n === 0 || m.some((r) => r.length !== n)) return NAN;
  const a = m.map((r) => r.slice());
  let det = cx(1);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (cabs(a[r]![c]!) > cabs(a[p]![c]!)) p = r;
    if (cabs(a[p]![c]!) === 0) return cx(0);
    if (p !== c) {
      [a[p], a[c]] = [a[c]!, a[p]!];
      det = cx(-det.re, -det.im);
    }
    det = cmul(det, a[c]![c]!);
    for (let r = c + 1; r < n; r++) {
      const f = cdiv(a[r]![c]!, a[c]![c]!);
      for (let k = c; k < n; k++) a[r]![k] = csub(a[r]![k]!, cmul(f, a[c]![k]!));
    }
  }
  return det;
}

/**
 * Value of a matrix-valued expression (literals, sums, scalar multiples, products, small integer
 * powers) at the point in `ctx`, or null when `n` is not matrix-valued or the shapes do not fit.
 */
export function evalMatrix(n: Node, ctx: EvalCtx): Cx[][] | null {
  ctx.deadline.check();
  switch (n.k) {
    case 'matrix':
      return n.rows.map((r) => r.map((c) => evalNode(c, ctx)));
    case 'add': {
      let acc: Cx[][] | null = null;
      for (const a of n.args) {
        const m = evalMatrix(a, ctx);
        if (!m) return null;
        if (acc === null) acc = m;
        else {
          const left: Cx[][] = acc;
          if (m.length !== left.length || m[0]!.length !== left[0]!.length) return null;
          acc = left.map((row, i) => row.map((c, j) => cadd(c, m[i]![j]!)));
        }
      }
      return acc;
    }
    case 'mul': {
      let scalar = cx(1);
      let acc: Cx[][] | null = null;
      for (const a of n.args) {
        if (!containsMatrix(a)) {
          scalar = cmul(scalar, evalNode(a, ctx));
          continue;
        }
        const m = evalMatrix(a, ctx);
        if (!m) return null;
        acc = acc === null ? m : matMul(acc, m);
        if (!acc) return null;
      }
      const s = scalar;
      return acc && acc.map((row) => row.map((c) => cmul(s, c)));
    }
    case 'pow': {
      const m = evalMatrix(n.base, ctx);
      if (!m || n.exp.k !== 'num' || n.exp.v.d !== 1n || n.exp.v.n < 1n || n.exp.v.n > 64n) return null;
      let k = Number(n.exp.v.n);
      let result: Cx[][] | null = null;
      let b: Cx[][] | null = m;
      while (k > 0 && b) {
        if (k & 1) result = result === null ? b : matMul(result, b);
        k >>= 1;
        if (k > 0) b = matMul(b, b);
      }
      return result;
    }
    default:
      return null;
  }
}

function matMul(a: Cx[][], b: Cx[][]): Cx[][] | null {
  if (a[0]!.length !== b.length) return null;
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, c, k) => cadd(s, cmul(c, b[k]![j]!)), cx(0))));
}

/** True when a matrix literal occurs in `n`. */
export function containsMatrix(n: Node): boolean {
  switch (n.k) {
    case 'matrix':
      return true;
    case 'add':
    case 'mul':
      return n.args.some(containsMatrix);
    case 'pow':
      return containsMatrix(n.base);
    default:
      return false;
  }
}

const MAX_MATRIX_TREE = 20_000;

/** Number of nodes in `n`, counting stops past `cap`. */
function treeSize(n: Node, cap: number): number {
  let count = 0;
  const stack = [n];
  while (stack.length > 0 && count <= cap) {
    const x = stack.pop()!;
    count++;
    if (x.k === 'add' || x.k === 'mul') stack.push(...x.args);
    else if (x.k === 'pow') stack.push(x.base, x.exp);
    else if (x.k === 'fn') stack.push(...x.args);
  }
  return count;
}

/**
 * The matrix a matrix-valued expression denotes (sums, scalar multiples, products and small
 * powers of matrix literals), entries left as expressions; null when `n` is not matrix-valued.
 */
export function foldMatrix(n: Node): Node[][] | null {
  switch (n.k) {
    case 'matrix':
      return n.rows;
    case 'add': {
      const ms = n.args.map(foldMatrix);
      if (ms.some((m) => m === null)) return null;
      const [first, ...rest] = ms as Node[][][];
      let acc = first!;
      for (const m of rest) {
        if (m.length !== acc.length || m[0]!.length !== acc[0]!.length) return null;
        acc = acc.map((row, i) => row.map((c, j) => mkAdd(c, m[i]![j]!)));
      }
      return acc;
    }
    case 'mul': {
      let scalar: Node | null = null;
      let acc: Node[][] | null = null;
      for (const a of n.args) {
        const m = foldMatrix(a);
        if (m === null) {
          scalar = scalar === null ? a : mkMul(scalar, a);
          continue;
        }
        if (acc === null) acc = m;
        else {
          if (acc[0]!.length !== m.length) return null;
          const left: Node[][] = acc;
          acc = left.map((row) => m[0]!.map((_, j) => row.map((c, k) => mkMul(c, m[k]![j]!)).reduce((x, y) => mkAdd(x, y))));
          // Entries are unsimplified trees: refuse products that would grow them without bound.
          if (acc.reduce((s, row) => s + row.reduce((t, c) => t + treeSize(c, MAX_MATRIX_TREE), 0), 0) > MAX_MATRIX_TREE) return null;
        }
      }
      if (acc === null) return null;
      const s = scalar;
      return s === null ? acc : acc.map((row) => row.map((c) => mkMul(s, c)));
    }
    case 'pow': {
      const m = foldMatrix(n.base);
      if (!m || n.exp.k !== 'num' || n.exp.v.d !== 1n || n.exp.v.n < 1n || n.exp.v.n > 16n) return null;
      let acc: Node = n.base;
      for (let i = 1n; i < n.exp.v.n; i++) acc = mkMul(acc, n.base);
      return foldMatrix(acc);
    }
    default:
      return null;
  }
}

const MAX_FACT = 3000;

/**
 * Exact rational value of `n` when it has one (integers, fractions, decimals, percentages,
 * integer powers, perfect-power roots, factorials, binomials, sums with numeric bounds), else null.
 * `env` gives exact values of bound summation indices.
 */
export function evalExact(n: Node, deadline: Deadline = NO_DEADLINE, env: Map<string, Rat> = new Map()): Rat | null {
  deadline.check();
  switch (n.k) {
    case 'num':
      return n.v;
    case 'sym':
      return env.get(n.name) ?? null;
    case 'pct': {
      const v = evalExact(n.arg, deadline, env);
      return v && R.mul(v, { n: 1n, d: 100n });
    }
    case 'deg':
      return evalExact(n.arg, deadline, env);
    case 'add': {
      let acc = R.ZERO;
      for (const a of n.args) {
        const v = evalExact(a, deadline, env);
        if (!v) return null;
        acc = R.add(acc, v);
      }
      return acc;
    }
    case 'mul': {
      let acc = R.ONE;
      for (const a of n.args) {
        const v = evalExact(a, deadline, env);
        if (!v) return null;
        acc = R.mul(acc, v);
      }
      return acc;
    }
    case 'pow': {
      const b = evalExact(n.base, deadline, env);
      if (!b) return null;
      const e = evalExact(n.exp, deadline, env);
      if (!e) return null;
      if (e.d === 1n) return R.powInt(b, e.n);
      if (e.d > 64n) return null;
      const root = R.rootExact(b, Number(e.d));
      return root && R.powInt(root, e.n);
    }
    case 'fn':
      return exactFn(n, deadline, env);
    case 'sum':
    case 'prod': {
      const lo = evalExact(n.lo, deadline, env);
      const hi = evalExact(n.hi, deadline, env);
      if (!lo || !hi || lo.d !== 1n || hi.d !== 1n || hi.n - lo.n > 10_000n) return null;
      let acc = n.k === 'sum' ? R.ZERO : R.ONE;
      const inner = new Map(env);
      for (let k = lo.n; k <= hi.n; k++) {
        inner.set(n.v, { n: k, d: 1n });
        const v = evalExact(n.body, deadline, inner);
        if (!v) return null;
        acc = n.k === 'sum' ? R.add(acc, v) : R.mul(acc, v);
      }
      return acc;
    }
    default:
      return null;
  }
}

function exactFn(n: Extract<Node, { k: 'fn' }>, deadline: Deadline, env: Map<string, Rat>): Rat | null {
  const args: Rat[] = [];
  for (const a of n.args) {
    const v = evalExact(a, deadline, env);
    if (!v) return null;
    args.push(v);
  }
  const a = args[0];
  if (!a) return null;
  const int = (x: Rat): bigint | null => (x.d === 1n ? x.n : null);
  switch (n.name) {
    case 'abs':
      return a.n < 0n ? R.neg(a) : a;
    case 'floor': {
      const q = a.n / a.d;
      return R.rat(a.n < 0n && q * a.d !== a.n ? q - 1n : q);
    }
    case 'ceil': {
      const q = a.n / a.d;
      return R.rat(a.n > 0n && q * a.d !== a.n ? q + 1n : q);
    }
    case 'sgn':
      return R.rat(a.n > 0n ? 1n : a.n < 0n ? -1n : 0n);
    case 'fact': {
      const k = int(a);
      if (k === null || k < 0n || k > BigInt(MAX_FACT)) return null;
      let r = 1n;
      for (let i = 2n; i <= k; i++) r *= i;
      return R.rat(r);
    }
    case 'binom': {
      const x = int(a);
      const k = args[1] ? int(args[1]) : null;
      if (x === null || k === null || k < 0n || k > 10_000n) return null;
      if (x >= 0n && k > x) return R.ZERO;
      let r = 1n;
      for (let i = 0n; i < k; i++) r = (r * (x - i)) / (i + 1n);
      return R.rat(r);
    }
    case 'max':
    case 'min':
      return args.reduce((p, c) => ((R.cmp(c, p) > 0) === (n.name === 'max') ? c : p));
    case 'gcd':
    case 'lcm': {
      const ints = args.map(int);
      if (ints.some((x) => x === null)) return null;
      let acc = ints[0]!;
      for (const v of ints.slice(1) as bigint[]) {
        const g = R.bigGcd(acc, v);
        acc = n.name === 'gcd' ? g : g === 0n ? 0n : (acc * v) / g;
      }
      return R.rat(acc < 0n ? -acc : acc);
    }
    case 'mod': {
      const m = args[1];
      if (!m || m.n === 0n) return null;
      const q = R.div(a, m)!;
      const fl = q.n / q.d - (q.n < 0n && (q.n / q.d) * q.d !== q.n ? 1n : 0n);
      return R.sub(a, R.mul(m, R.rat(fl)));
    }
    default:
      return null;
  }
}

/** A stable 32-bit hash of a string (seeds the sample points per variable name). */
function hash32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * `count` assignments of the variables to values: generic irrational-looking reals of both signs,
 * the last one integers (so sums with a symbolic bound can be evaluated). Deterministic.
 */
export function samplePoints(vars: readonly string[], count = 5): Array<Map<string, Cx>> {
  const pts: Array<Map<string, Cx>> = [];
  for (let p = 0; p < count; p++) {
    const m = new Map<string, Cx>();
    vars.forEach((v, idx) => {
      if (p === count - 1) {
        m.set(v, cx(2 + ((idx * 3 + (hash32(v) % 5)) % 7)));
        return;
      }
      let h = hash32(`${v}#${p}`);
      h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
      const u = h / 4294967296;
      const mag = 0.35 + 2.3 * u;
      m.set(v, cx(p % 2 === 1 && p !== count - 1 ? -mag : mag + 0.01 * idx));
    });
    pts.push(m);
  }
  return pts;
}

/** Magnitude of a complex value. */
export function magnitude(a: Cx): number {
  return cabs(a);
}

/** True when the value is finite (no NaN or infinite part). */
export function finite(a: Cx): boolean {
  return Number.isFinite(a.re) && Number.isFinite(a.im);
}
