/**
 * Answer equivalence with Math-Verify's semantics (its `verify`/`sympy_expr_eq`): the gold decides
 * the form — an assignment gold (`k = 1`) accepts `1`, an equation prediction is reduced to its last
 * right-hand side only when the gold is not an equation, a relation gold is compared as a set only
 * when the prediction is a set (so a prediction cannot echo an inequality). Numbers are exact unless
 * one side is written as a decimal; then they agree to `precision` decimal places, and to at least
 * `precision` significant digits for values below 0.1 (Math-Verify rounds to decimal places only, so
 * 1e-10 and 2e-10 compare equal there). Expressions are equal when they agree at sample points.
 */
import {
  type Node,
  type RelOp,
  MINUS_ONE,
  firstRel,
  freeSymbols,
  functionsAsSymbols,
  isAssignment,
  isEquation,
  isRelation,
  isSetLike,
  key,
  lastRel,
  mkAdd,
  mkMul,
  mkNeg,
  num,
  renameSymbols,
} from './ast.js';
import type { Deadline } from './deadline.js';
import { type Cx, containsMatrix, evalCtx, evalExact, evalMatrix, evalNode, finite, foldMatrix, magnitude, samplePoints } from './evaluate.js';
import * as R from './rational.js';

/** Options of one comparison (see {@link verifyNodes}). */
export interface CompareOptions {
  /** Decimal places for numbers written as decimals (Math-Verify's `float_rounding`, default 6). */
  precision: number;
  /** Variable names matter (`f(x)` ≠ `f(y)`); false matches variables by position. */
  strict: boolean;
  /** Also compare a set gold with a relation prediction (`[-2, 7]` vs `-2 ≤ x ≤ 7`). */
  allowSetRelation: boolean;
  deadline: Deadline;
}

const REL_TOL = 1e-9;
const NOISE = 1e-11;

/**
 * True when `pred` is an acceptable answer for `gold`.
 *
 * @example
 * verifyNodes(parseLatex('k = 1'), parseLatex('1'), opts) // → true
 */
export function verifyNodes(gold: Node, pred: Node, o: CompareOptions): boolean {
  return exprEq(gold, pred, o);
}

function rel(op: RelOp, lhs: Node, rhs: Node): Node {
  return { k: 'rel', op, lhs, rhs };
}

function exprEq(g: Node, p: Node, o: CompareOptions): boolean {
  o.deadline.check();
  if (!o.strict) {
    const gv = freeSymbols(g);
    const pv = freeSymbols(p);
    if (gv.length === pv.length && gv.length > 0) p = renameSymbols(p, new Map(pv.map((v, i) => [v, gv[i]!])));
  }
  const gA = isAssignment(g);
  const pA = isAssignment(p);
  const gE = isEquation(g);
  const pE = isEquation(p);
  if (gA) g = rel('=', firstRel(g).lhs, lastRel(g).rhs);
  if (pA) p = rel('=', firstRel(p).lhs, lastRel(p).rhs);
  if (pE && !gE) p = lastRel(p).rhs;
  else if (gA && !pE) g = lastRel(g).rhs;

  if ((isRelation(g) || isDisjunction(g)) && isSetLike(p) && !isDisjunction(p)) return relationMatchesSet(g, p, o);
  if (o.allowSetRelation && (isRelation(p) || isDisjunction(p)) && isSetLike(g) && !isDisjunction(g)) return relationMatchesSet(p, g, o);
  if (key(g) === key(p)) return true;
  if (isRelation(g) && isRelation(p)) return relationsEq(g, p, o);
  if (isRelation(g) || isRelation(p)) return false;
  if (isSetLike(g) || isSetLike(p) || g.k === 'tuple' || p.k === 'tuple') return setsEq(g, p, o);
  if (g.k === 'text' || p.k === 'text' || g.k === 'sym' || p.k === 'sym') {
    const s = symbolsEq(g, p);
    if (s !== null) return s;
  }
  return valuesEq(g, p, o);
}

/** A list of relations read as alternatives: `x < 2 or x > 3` (a set of relations). */
function isDisjunction(n: Node): boolean {
  return n.k === 'set' && n.items.length > 1 && n.items.every((x) => isRelation(x) && !isAssignment(x));
}

/** Names of a variable, a word, or a product of single letters (`Even` = E·v·e·n), lower-cased. */
function wordOf(n: Node): string | null {
  if (n.k === 'sym') return n.name;
  if (n.k === 'text') return n.s;
  if (n.k === 'const' && n.name === 'e') return 'e';
  if (n.k === 'mul' && n.args.every((a) => a.k === 'sym' || (a.k === 'const' && a.name === 'e'))) return n.args.map(wordOf).join('');
  return null;
}

function symbolsEq(g: Node, p: Node): boolean | null {
  const a = wordOf(g);
  const b = wordOf(p);
  if (a === null || b === null) {
    // A word answer against anything else is not equal; a variable may still equal an expression.
    if (g.k === 'text' || p.k === 'text') return false;
    return null;
  }
  // \text{E} against the constant e also lands here: both read as the word "e".
  return a === b;
}

/** A number literal (or percentage of one) written with a decimal point or exponent. */
function isFloatLit(n: Node): boolean {
  if (n.k === 'num') return n.float;
  if (n.k === 'pct') return isFloatLit(n.arg);
  if (n.k === 'mul' && n.args.length === 2 && n.args[0] === MINUS_ONE) return isFloatLit(n.args[1]!);
  // 1.5 \times 10^{-3}
  if (n.k === 'mul' && n.args.length === 2 && isFloatLit(n.args[0]!) && n.args[1]!.k === 'pow' && n.args[1]!.base.k === 'num') return true;
  return false;
}

/**
 * Decimal agreement: `precision` decimal places, and never fewer than `precision` significant
 * digits (so tiny values are compared by their leading digits, not rounded to 0).
 */
export function floatsClose(a: number, b: number, precision: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const m = Math.max(Math.abs(a), Math.abs(b));
  const e = Math.floor(Math.log10(m));
  const places = e >= -1 ? precision : precision + (-e - 1);
  const diff = Math.abs(a - b);
  return diff <= 0.5 * Math.pow(10, -places) * (1 + 1e-9) || diff <= 4 * Number.EPSILON * m;
}

function realValue(n: Node, o: CompareOptions): number | null {
  const ex = evalExact(n, o.deadline);
  if (ex) return R.toNumber(ex);
  if (freeSymbols(n).length > 0) return null;
  const v = evalNode(n, evalCtx(new Map(), o.deadline));
  if (!finite(v) || Math.abs(v.im) > 1e-12 * Math.max(1, Math.abs(v.re))) return null;
  return v.re;
}

function close(a: Cx, b: Cx, scale: number): boolean {
  const d = Math.hypot(a.re - b.re, a.im - b.im);
  return d <= REL_TOL * Math.max(magnitude(a), magnitude(b)) || d <= NOISE * scale;
}

function pctInner(n: Node): Node | null {
  return n.k === 'pct' ? n.arg : null;
}

function valuesEq(g: Node, p: Node, o: CompareOptions): boolean {
  const gIs = containsMatrix(g);
  const pIs = containsMatrix(p);
  if (gIs || pIs) {
    if (!gIs || !pIs) return false;
    if (g.k === 'matrix' && p.k === 'matrix') {
      // Literals entry by entry, so decimals round as numbers do (1/3 vs 0.33 at precision 2).
      if (g.rows.length !== p.rows.length || g.rows[0]!.length !== p.rows[0]!.length) return false;
      return g.rows.every((row, i) => row.every((c, j) => exprEq(c, p.rows[i]![j]!, o)));
    }
    return matricesSampledEq(g, p, o);
  }
  const inf = infiniteLimitEq(g, p, o) ?? infiniteLimitEq(p, g, o);
  if (inf !== null) return inf;
  if (numbersEq(g, p, o)) return true;
  // 28\% and 28 name the same answer in most datasets (hendrycks, NeMo-Skills accept it).
  const gi = pctInner(g);
  const pi = pctInner(p);
  if (gi && !pi && numbersEq(gi, p, o)) return true;
  if (pi && !gi && numbersEq(g, pi, o)) return true;
  // 90° against π/2.
  if (g.k === 'deg' && p.k !== 'deg' && containsPi(p)) return numbersEq(mkMul(g.arg, mkMul(PI_180, PI)), p, o);
  if (p.k === 'deg' && g.k !== 'deg' && containsPi(g)) return numbersEq(g, mkMul(p.arg, mkMul(PI_180, PI)), o);
  return false;
}

/** +1 / −1 for a written `\\infty` / `-\\infty`, else 0. */
function infinitySign(n: Node): 1 | -1 | 0 {
  if (n.k === 'const' && n.name === 'inf') return 1;
  if (n.k === 'mul' && n.args.length === 2 && n.args[0] === MINUS_ONE && n.args[1]!.k === 'const' && n.args[1]!.name === 'inf') return -1;
  return 0;
}

/**
 * A closed limit against a written ±∞: equal when the limit evaluates to that infinity. Null when
 * `a` is not such a limit or `b` not such an infinity (the ordinary comparison applies). A number
 * that merely overflows (10^{400}) is never taken for ∞.
 */
function infiniteLimitEq(a: Node, b: Node, o: CompareOptions): boolean | null {
  const s = infinitySign(b);
  if (s === 0 || a.k !== 'lim' || freeSymbols(a).some((v) => v !== 'i')) return null;
  const v = evalNode(a, evalCtx(new Map(), o.deadline));
  return v.im === 0 && v.re === s * Infinity;
}

const PI: Node = { k: 'const', name: 'pi' };
const PI_180: Node = num(R.rat(1n, 180n));

function containsPi(n: Node): boolean {
  if (n.k === 'const' && n.name === 'pi') return true;
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'fn':
      return n.args.some(containsPi);
    case 'pow':
      return containsPi(n.base) || containsPi(n.exp);
    default:
      return false;
  }
}

/**
 * {@link floatsClose} on exact values, for decimals a double cannot hold (`1e400` and `1e401` are both
 * ∞ as doubles, `1e-400` and `1e-401` both 0): at least `precision` significant digits below 1 (the
 * tiny-value rule), a double's relative precision (4ε) above.
 */
function ratsClose(a: R.Rat, b: R.Rat, precision: number): boolean {
  if (R.eq(a, b)) return true;
  const abs = (x: R.Rat): R.Rat => (x.n < 0n ? R.neg(x) : x);
  const diff = abs(R.sub(a, b));
  const m = R.cmp(abs(a), abs(b)) >= 0 ? abs(a) : abs(b);
  const scale = R.cmp(m, R.ONE) < 0 ? 2n * 10n ** BigInt(precision) : 2n ** 50n;
  return R.cmp(R.mul(diff, R.rat(scale)), m) <= 0;
}

function numbersEq(g: Node, p: Node, o: CompareOptions): boolean {
  if (isFloatLit(g) || isFloatLit(p)) {
    const a = realValue(g, o);
    const b = realValue(p, o);
    if (a !== null && b !== null) {
      if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) {
        // Out of a double's range (or zero): compare the exact values when there are.
        const ea = evalExact(g, o.deadline);
        const eb = ea && evalExact(p, o.deadline);
        if (ea && eb) return ratsClose(ea, eb, o.precision);
      }
      return floatsClose(a, b, o.precision);
    }
  }
  const ea = evalExact(g, o.deadline);
  const eb = ea && evalExact(p, o.deadline);
  if (ea && eb) return R.eq(ea, eb);
  return sampledEq(g, p, o);
}

/** Free variables of both sides; `i` is the imaginary unit, not a variable. */
function variables(a: Node, b: Node): string[] {
  return [...new Set([...freeSymbols(a), ...freeSymbols(b)])].filter((v) => v !== 'i').sort();
}

/** Equality by evaluation at sample points (exactly one point when there are no variables). */
function sampledEq(g: Node, p: Node, o: CompareOptions): boolean {
  const vars = variables(g, p);
  const pts = vars.length === 0 ? [new Map<string, Cx>()] : samplePoints(vars);
  let valid = 0;
  for (const env of pts) {
    const ctx = evalCtx(env, o.deadline);
    const a = evalNode(g, ctx);
    const b = evalNode(p, ctx);
    if (!finite(a) || !finite(b)) {
      if (finite(a) !== finite(b) && vars.length === 0) return false;
      continue;
    }
    if (!close(a, b, ctx.scale)) return false;
    valid++;
  }
  if (valid > 0 && (vars.length === 0 || valid >= 2)) return true;
  // Constants that do not evaluate (12:00 is 12/0) are not equal to anything but themselves; expressions
  // undefined at most sample points cannot be told apart.
  return false;
}

/** Matrix expressions (sums, products, powers) equal at sample points, entry by entry. */
function matricesSampledEq(g: Node, p: Node, o: CompareOptions): boolean {
  const vars = variables(g, p);
  const pts = vars.length === 0 ? [new Map<string, Cx>()] : samplePoints(vars);
  let valid = 0;
  for (const env of pts) {
    const ctx = evalCtx(env, o.deadline);
    const a = evalMatrix(g, ctx);
    const b = evalMatrix(p, ctx);
    if (!a || !b || a.length !== b.length || a[0]!.length !== b[0]!.length) return false;
    const fa = a.flat();
    const fb = b.flat();
    if (!fa.every(finite) || !fb.every(finite)) continue;
    if (!fa.every((x, i) => close(x, fb[i]!, ctx.scale))) return false;
    valid++;
  }
  return valid > 0 && (vars.length === 0 || valid >= 2);
}

function relationsEq(g: Node, p: Node, o: CompareOptions): boolean {
  if (g.k === 'and' || p.k === 'and') {
    if (g.k === 'and' && p.k === 'and') {
      if (g.args.length === p.args.length && g.args.every((a, i) => relationsEq(a, p.args[i]!, o))) return true;
    }
    return singleVariableRelationsEq(g, p, o);
  }
  if (g.k !== 'rel' || p.k !== 'rel') return false;
  const setSides = [g.lhs, g.rhs, p.lhs, p.rhs].some((x) => isSetLike(x) || x.k === 'tuple' || x.k === 'matrix');
  if (setSides) {
    if (g.op !== p.op) return false;
    if (exprEq(g.lhs, p.lhs, o) && exprEq(g.rhs, p.rhs, o)) return true;
    return (g.op === '=' || g.op === '!=') && exprEq(g.lhs, p.rhs, o) && exprEq(g.rhs, p.lhs, o);
  }
  if (isAssignment(g) && isAssignment(p) && key(g.lhs) === key(p.lhs) && exprEq(g.rhs, p.rhs, o)) return true;
  const ng = normRel(g);
  const np = normRel(p);
  if (ng.kind !== np.kind) return false;
  const inequality = ng.kind === 'ineq' || ng.kind === 'strict';
  if (proportional(ng.d, np.d, inequality, o)) return true;
  if (ng.kind === 'ineq' || ng.kind === 'strict') return singleVariableRelationsEq(g, p, o);
  return false;
}

type NormRel = { kind: 'eq' | 'ne' | 'ineq' | 'strict'; d: Node };

/** A relation as `d = 0`, `d ≠ 0`, `d ≥ 0` or `d > 0`. */
function normRel(r: Extract<Node, { k: 'rel' }>): NormRel {
  const sub = (a: Node, b: Node): Node => mkAdd(a, mkNeg(b));
  switch (r.op) {
    case '=':
      return { kind: 'eq', d: sub(r.lhs, r.rhs) };
    case '!=':
      return { kind: 'ne', d: sub(r.lhs, r.rhs) };
    case '<':
      return { kind: 'strict', d: sub(r.rhs, r.lhs) };
    case '>':
      return { kind: 'strict', d: sub(r.lhs, r.rhs) };
    case '<=':
      return { kind: 'ineq', d: sub(r.rhs, r.lhs) };
    case '>=':
      return { kind: 'ineq', d: sub(r.lhs, r.rhs) };
  }
}

/**
 * True when dg = c·dp for one constant c ≠ 0 (c > 0 when `positive`): `2x + 4y − 3 = 0` and
 * `y = −x/2 + 3/4` describe the same line; `x < 1` and `−x > −1` the same half-line.
 */
function proportional(dg: Node, dp: Node, positive: boolean, o: CompareOptions): boolean {
  const vars = variables(dg, dp);
  if (vars.length === 0) return exprEq(dg, dp, o);
  let ratio: Cx | null = null;
  let valid = 0;
  for (const env of samplePoints(vars, 6)) {
    const ctx = evalCtx(env, o.deadline);
    const a = evalNode(dg, ctx);
    const b = evalNode(dp, ctx);
    if (!finite(a) || !finite(b)) continue;
    const tol = NOISE * Math.max(1, ctx.scale);
    const az = magnitude(a) <= tol;
    const bz = magnitude(b) <= tol;
    if (az !== bz) return false;
    if (az) continue;
    const d = b.re * b.re + b.im * b.im;
    const r = { re: (a.re * b.re + a.im * b.im) / d, im: (a.im * b.re - a.re * b.im) / d };
    if (ratio === null) ratio = r;
    else if (!close(ratio, r, 1)) return false;
    valid++;
  }
  if (ratio === null || valid < 2) return false;
  if (Math.abs(ratio.im) > 1e-9 * Math.max(1, Math.abs(ratio.re))) return false;
  return positive ? ratio.re > 0 : ratio.re !== 0;
}

// ---------- sets ----------

function asSetNode(n: Node): Node {
  return isSetLike(n) || n.k === 'tuple' ? n : { k: 'set', items: [n] };
}

function vectorOf(n: Node): Node[] | null {
  const m = foldMatrix(n);
  if (!m) return null;
  if (m.length === 1) return m[0]!;
  if (m.every((r) => r.length === 1)) return m.map((r) => r[0]!);
  return null;
}

function setsEq(g0: Node, p0: Node, o: CompareOptions): boolean {
  // A column or row vector against a tuple: the same ordered list (Math-Verify says no; graders
  // seeing \begin{pmatrix}1\\2\end{pmatrix} vs (1, 2) should not).
  const gm = g0.k === 'matrix' || (g0.k !== 'tuple' && foldMatrix(g0) !== null);
  const pm = p0.k === 'matrix' || (p0.k !== 'tuple' && foldMatrix(p0) !== null);
  if (gm !== pm) {
    const gv = gm ? vectorOf(g0) : orderedItems(g0);
    const pv = pm ? vectorOf(p0) : orderedItems(p0);
    return !!gv && !!pv && gv.length === pv.length && gv.every((x, i) => exprEq(x, pv[i]!, o));
  }
  const g = asSetNode(g0);
  const p = asSetNode(p0);
  if (g.k === 'interval' && p.k === 'interval') {
    return g.loOpen === p.loOpen && g.hiOpen === p.hiOpen && exprEq(g.lo, p.lo, o) && exprEq(g.hi, p.hi, o);
  }
  if (key(g) === key(p)) return true;
  const rg = realSet(g, o);
  const rp = rg && realSet(p, o);
  if (rg && rp && realSetsEq(rg, rp, o)) return true;
  const gl = listOf(g);
  const pl = listOf(p);
  if (gl && pl) return deepListEq(g, gl, p, pl, o);
  if (g.k === 'interval' && g.loOpen && g.hiOpen && pl && pl.length === 2) return deepListEq({ k: 'tuple', items: [] }, [g.lo, g.hi], p, pl, o);
  if (p.k === 'interval' && p.loOpen && p.hiOpen && gl && gl.length === 2) return deepListEq(g, gl, { k: 'tuple', items: [] }, [p.lo, p.hi], o);
  return false;
}

/** Items of a tuple or of a pair written `(a, b)` (read as an open interval). */
function orderedItems(n: Node): Node[] | null {
  if (n.k === 'tuple') return n.items;
  if (n.k === 'interval' && n.loOpen && n.hiOpen) return [n.lo, n.hi];
  return null;
}

function listOf(n: Node): Node[] | null {
  return n.k === 'set' || n.k === 'tuple' ? n.items : null;
}

/**
 * Element-wise comparison: a set gold matches in any order; a tuple gold against a set prediction
 * uses the prediction's written order; tuples against tuples are ordered.
 */
function deepListEq(g: Node, gl: Node[], p: Node, pl: Node[], o: CompareOptions): boolean {
  if (gl.length !== pl.length) return false;
  const inner: CompareOptions = { ...o, strict: true, allowSetRelation: false };
  if (g.k === 'set' || (g.k !== 'tuple' && p.k === 'set')) return matchAnyOrder(gl, pl, inner);
  return gl.every((x, i) => exprEq(x, pl[i]!, inner));
}

function matchAnyOrder(gl: Node[], pl: Node[], o: CompareOptions): boolean {
  const used = new Array<boolean>(pl.length).fill(false);
  const pk = pl.map(key);
  const rest: number[] = [];
  gl.forEach((x, i) => {
    const j = pk.findIndex((k, jj) => !used[jj] && k === key(x));
    if (j >= 0) used[j] = true;
    else rest.push(i);
  });
  for (const i of rest) {
    let found = false;
    for (let j = 0; j < pl.length; j++) {
      if (used[j]) continue;
      if (exprEq(gl[i]!, pl[j]!, o)) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** One piece of a subset of ℝ: an interval (lo = hi for a point), endpoints as values and trees. */
interface Piece {
  lo: number;
  hi: number;
  loIn: boolean;
  hiIn: boolean;
  loNode: Node | null;
  hiNode: Node | null;
}

function endpoint(n: Node, o: CompareOptions): number | null {
  if (n.k === 'const' && n.name === 'inf') return Infinity;
  if (n.k === 'mul' && n.args.length === 2 && n.args[0] === MINUS_ONE && n.args[1]!.k === 'const' && n.args[1]!.name === 'inf') return -Infinity;
  return realValue(n, o);
}

/** A set of reals as sorted, merged pieces, or null when it is not one (symbols, tuples …). */
function realSet(n: Node, o: CompareOptions): Piece[] | null {
  const raw = rawPieces(n, o);
  if (!raw) return null;
  raw.sort((a, b) => a.lo - b.lo || Number(b.loIn) - Number(a.loIn));
  const out: Piece[] = [];
  for (const p of raw) {
    if (p.lo > p.hi || (p.lo === p.hi && !(p.loIn && p.hiIn))) continue;
    const last = out[out.length - 1];
    if (last && (p.lo < last.hi || (p.lo === last.hi && (p.loIn || last.hiIn)))) {
      if (p.hi > last.hi) {
        last.hi = p.hi;
        last.hiIn = p.hiIn;
        last.hiNode = p.hiNode;
      } else if (p.hi === last.hi) last.hiIn = last.hiIn || p.hiIn;
      continue;
    }
    out.push({ ...p });
  }
  return out;
}

function rawPieces(n: Node, o: CompareOptions): Piece[] | null {
  switch (n.k) {
    case 'interval': {
      const lo = endpoint(n.lo, o);
      const hi = endpoint(n.hi, o);
      if (lo === null || hi === null) return null;
      // `(3, \frac{\pi}{2})` is a point, not the empty interval: a written interval is never empty.
      if (lo > hi || (lo === hi && (n.loOpen || n.hiOpen))) return null;
      return [{ lo, hi, loIn: !n.loOpen && lo !== -Infinity, hiIn: !n.hiOpen && hi !== Infinity, loNode: n.lo, hiNode: n.hi }];
    }
    case 'set': {
      const out: Piece[] = [];
      for (const it of n.items) {
        const v = realValue(it, o);
        if (v === null) return null;
        out.push({ lo: v, hi: v, loIn: true, hiIn: true, loNode: it, hiNode: it });
      }
      return out;
    }
    case 'union': {
      const out: Piece[] = [];
      for (const a of n.args) {
        const ps = rawPieces(a, o);
        if (!ps) return null;
        out.push(...ps);
      }
      return out;
    }
    case 'domain':
      if (n.name === 'R') return [{ lo: -Infinity, hi: Infinity, loIn: false, hiIn: false, loNode: null, hiNode: null }];
      if (n.name === 'empty') return [];
      return null;
    default:
      return null;
  }
}

function sameEnd(a: number, an: Node | null, b: number, bn: Node | null, o: CompareOptions): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  if (an && bn) return exprEq(an, bn, { ...o, strict: true, allowSetRelation: false });
  return floatsClose(a, b, o.precision);
}

function realSetsEq(a: Piece[], b: Piece[], o: CompareOptions): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return x.loIn === y.loIn && x.hiIn === y.hiIn && sameEnd(x.lo, x.loNode, y.lo, y.loNode, o) && sameEnd(x.hi, x.hiNode, y.hi, y.hiNode, o);
  });
}

// ---------- relations as sets ----------

function relationsOf(n: Node): Array<Extract<Node, { k: 'rel' }>> {
  return n.k === 'and' ? (n.args as Array<Extract<Node, { k: 'rel' }>>) : [n as Extract<Node, { k: 'rel' }>];
}

function holds(r: Extract<Node, { k: 'rel' }>, ctx: ReturnType<typeof evalCtx>): boolean {
  const a = evalNode(r.lhs, ctx);
  const b = evalNode(r.rhs, ctx);
  if (!finite(a) || !finite(b)) return false;
  if (Math.abs(a.im) > 1e-9 * Math.max(1, Math.abs(a.re)) || Math.abs(b.im) > 1e-9 * Math.max(1, Math.abs(b.re))) return false;
  const d = b.re - a.re;
  const tol = 1e-9 * Math.max(1, Math.abs(a.re), Math.abs(b.re));
  switch (r.op) {
    case '<':
      return d > tol;
    case '<=':
      return d >= -tol;
    case '>':
      return d < -tol;
    case '>=':
      return d <= tol;
    case '=':
      return Math.abs(d) <= tol;
    case '!=':
      return Math.abs(d) > tol;
  }
}

function inPieces(x: number, ps: Piece[]): boolean {
  return ps.some((p) => (x > p.lo || (x === p.lo && p.loIn)) && (x < p.hi || (x === p.hi && p.hiIn)));
}

function testPoints(ends: number[]): number[] {
  const finiteEnds = [...new Set(ends.filter((e) => Number.isFinite(e)))].sort((a, b) => a - b);
  const pts = new Set<number>();
  for (const e of finiteEnds) {
    const d = 1e-6 * Math.max(1, Math.abs(e));
    pts.add(e).add(e - d).add(e + d);
  }
  for (let i = 0; i + 1 < finiteEnds.length; i++) pts.add((finiteEnds[i]! + finiteEnds[i + 1]!) / 2);
  if (finiteEnds.length > 0) {
    const lo = finiteEnds[0]!;
    const hi = finiteEnds[finiteEnds.length - 1]!;
    for (const x of [lo - 1, lo - 10, hi + 1, hi + 10]) pts.add(x);
  }
  for (let x = -9.71; x < 10; x += 0.613) pts.add(x);
  for (const x of [-1e6, -1000, 1000, 1e6, 0]) pts.add(x);
  return [...pts];
}

/** Single-variable relation vs a set of reals: the same members at the set's edges and on a grid. */
function relationMatchesSet(r0: Node, s: Node, o: CompareOptions): boolean {
  const r = functionsAsSymbols(r0);
  const vars = freeSymbols(r);
  if (vars.length !== 1) return false;
  const ps = realSet(s, o);
  if (!ps) return false;
  const v = vars[0]!;
  const alternatives = (r.k === 'set' ? r.items : [r]).map(relationsOf);
  // Test at the set's edges and at the relation's own constants: `x ≠ 3` differs from ℝ only at 3.
  const ends = ps.flatMap((p) => [p.lo, p.hi]);
  numbersIn(r, o, ends);
  for (const x of testPoints(ends)) {
    const ctx = evalCtx(new Map([[v, { re: x, im: 0 }]]), o.deadline);
    if (alternatives.some((rels) => rels.every((q) => holds(q, ctx))) !== inPieces(x, ps)) return false;
  }
  return true;
}

function numbersIn(n: Node, o: CompareOptions, out: number[]): void {
  if (n.k === 'num') out.push(R.toNumber(n.v), -R.toNumber(n.v));
  else if (freeSymbols(n).length === 0) {
    const v = realValue(n, o);
    if (v !== null) out.push(v, -v);
    return;
  }
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'fn':
    case 'and':
      n.args.forEach((a) => numbersIn(a, o, out));
      break;
    case 'rel':
      numbersIn(n.lhs, o, out);
      numbersIn(n.rhs, o, out);
      break;
    case 'pow':
      numbersIn(n.base, o, out);
      break;
    default:
  }
}

/** Two inequalities (chains) in the same single variable: the same members on a grid and near their constants. */
function singleVariableRelationsEq(g0: Node, p0: Node, o: CompareOptions): boolean {
  // Only inequalities: equations keep their own rules (an equation has no interval to compare).
  if ([...relationsOf(g0), ...relationsOf(p0)].some((r) => r.op === '=' || r.op === '!=')) return false;
  const g = functionsAsSymbols(g0);
  const p = functionsAsSymbols(p0);
  const gv = freeSymbols(g);
  const pv = freeSymbols(p);
  if (gv.length !== 1 || pv.length !== 1 || gv[0] !== pv[0]) return false;
  const ends: number[] = [];
  numbersIn(g, o, ends);
  numbersIn(p, o, ends);
  const v = gv[0]!;
  const gr = relationsOf(g);
  const pr = relationsOf(p);
  let members = 0;
  for (const x of testPoints(ends)) {
    const ctx = evalCtx(new Map([[v, { re: x, im: 0 }]]), o.deadline);
    const a = gr.every((q) => holds(q, ctx));
    if (a !== pr.every((q) => holds(q, ctx))) return false;
    if (a) members++;
  }
  return members > 0;
}
