/**
 * The expression tree the `math` grader parses answers into. Small on purpose: what an answer can
 * be (numbers, expressions, sets, tuples, intervals, relations, matrices, text), not a CAS.
 */
import { type Rat, ratToString } from './rational.js';

/** Relation operators, after `\leq`, `≥`, `\neq` … are read. */
export type RelOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** One node of a parsed answer. */
export type Node =
  /** A number literal or folded constant. `float` = written with a decimal point or exponent (inexact). */
  | { k: 'num'; v: Rat; float: boolean }
  /** A variable; names are lower-cased (as Math-Verify does) and carry their subscript (`a_{37}`). */
  | { k: 'sym'; name: string }
  /** π, e, i, ∞ (sign via `mul`), Euler–Mascheroni γ. */
  | { k: 'const'; name: 'pi' | 'e' | 'i' | 'inf' | 'gamma' }
  /** `\text{…}` that is a word answer, lower-cased with spaces and parentheses removed. */
  | { k: 'text'; s: string }
  | { k: 'add'; args: Node[] }
  | { k: 'mul'; args: Node[] }
  | { k: 'pow'; base: Node; exp: Node }
  /** x % (= x/100, but remembered so `28\%` can also match `28`). */
  | { k: 'pct'; arg: Node }
  /** x° (= x; remembered so `90^\circ` can also match `\frac{\pi}{2}`). */
  | { k: 'deg'; arg: Node }
  /** A function application: known names (sin, log, abs, …) or `f:<name>` for an undefined function. */
  | { k: 'fn'; name: string; args: Node[] }
  | { k: 'rel'; op: RelOp; lhs: Node; rhs: Node }
  /** A chain `a < b < c` or a conjunction of relations. */
  | { k: 'and'; args: Node[] }
  /** A finite set, items in written order, duplicates removed. */
  | { k: 'set'; items: Node[] }
  | { k: 'tuple'; items: Node[] }
  | { k: 'interval'; lo: Node; hi: Node; loOpen: boolean; hiOpen: boolean }
  | { k: 'union'; args: Node[] }
  | { k: 'inter'; args: Node[] }
  | { k: 'minus'; args: [Node, Node] }
  /** ℝ, ℤ, ℕ, ℚ, ℂ, ∅. */
  | { k: 'domain'; name: 'R' | 'Z' | 'N' | 'Q' | 'C' | 'empty' }
  | { k: 'matrix'; rows: Node[][] }
  /** Σ, Π over an integer index `v` from lo to hi. */
  | { k: 'sum' | 'prod'; body: Node; v: string; lo: Node; hi: Node }
  /** The definite integral ∫_lo^hi body d`v` (bounds may be ±∞). */
  | { k: 'int'; body: Node; v: string; lo: Node; hi: Node }
  /** lim_{`v` → to} body, from the right (`+`), the left (`-`) or both sides (`''`). */
  | { k: 'lim'; body: Node; v: string; to: Node; side: '+' | '-' | '' };

/** A node that binds a variable (Σ, Π, ∫, lim). */
export type Binder = Extract<Node, { k: 'sum' | 'prod' | 'int' | 'lim' }>;

/** True for Σ, Π, ∫ and lim nodes. */
export function isBinder(n: Node): n is Binder {
  return n.k === 'sum' || n.k === 'prod' || n.k === 'int' || n.k === 'lim';
}

/** A number node (`float`: written as a decimal). */
export const num = (v: Rat, float = false): Node => ({ k: 'num', v, float });
/** A variable node. */
export const sym = (name: string): Node => ({ k: 'sym', name });
/** The shared −1 factor of negations (identity-compared when reading `-x`). */
export const MINUS_ONE: Node = { k: 'num', v: { n: -1n, d: 1n }, float: false };

/** a + b, flattening nested sums. */
export function mkAdd(a: Node, b: Node): Node {
  const args: Node[] = [];
  for (const x of [a, b]) {
    if (x.k === 'add') args.push(...x.args);
    else args.push(x);
  }
  return { k: 'add', args };
}

/** a · b, flattening nested products. */
export function mkMul(a: Node, b: Node): Node {
  const args: Node[] = [];
  for (const x of [a, b]) {
    if (x.k === 'mul') args.push(...x.args);
    else args.push(x);
  }
  return { k: 'mul', args };
}

/** −a; folds into number literals. */
export function mkNeg(a: Node): Node {
  if (a.k === 'num') return { k: 'num', v: { n: -a.v.n, d: a.v.d }, float: a.float };
  if (a.k === 'pct' && a.arg.k === 'num') return { k: 'pct', arg: mkNeg(a.arg) };
  return mkMul(MINUS_ONE, a);
}

/** a / b as a · b^(−1). */
export function mkDiv(a: Node, b: Node): Node {
  return mkMul(a, { k: 'pow', base: b, exp: MINUS_ONE });
}

/** A finite set of `items` in written order, structural duplicates removed. */
export function mkSet(items: Node[]): Node {
  const seen = new Set<string>();
  const out: Node[] = [];
  for (const it of items) {
    const k = key(it);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(it);
    }
  }
  return { k: 'set', items: out };
}

/** True for nodes that denote sets (finite sets, intervals, unions, domains …). */
export function isSetLike(n: Node): boolean {
  return n.k === 'set' || n.k === 'interval' || n.k === 'union' || n.k === 'inter' || n.k === 'minus' || n.k === 'domain';
}

/** True for a relation or a chain of relations. */
export function isRelation(n: Node): boolean {
  return n.k === 'rel' || (n.k === 'and' && n.args.length > 0 && n.args.every((a) => a.k === 'rel'));
}

/** True for `a = b` or a chain made only of `=`. */
export function isEquation(n: Node): boolean {
  if (n.k === 'rel') return n.op === '=';
  return n.k === 'and' && n.args.length > 0 && n.args.every((a) => a.k === 'rel' && a.op === '=');
}

/** True when every leaf of `n` is a variable (x, AB, f(x), x/y, |AB|): the left side of an assignment. */
export function onlySymbols(n: Node): boolean {
  switch (n.k) {
    case 'sym':
    case 'text':
      return true;
    case 'pow':
      return n.exp.k === 'num' && n.exp.v.n === -1n && n.exp.v.d === 1n && onlySymbols(n.base);
    case 'mul':
    case 'add':
      return n.args.every(onlySymbols);
    case 'fn':
      return n.args.length > 0 && n.args.every(onlySymbols);
    case 'tuple':
      return n.items.length > 0 && n.items.every(onlySymbols);
    default:
      return false;
  }
}

/** `a = b` (or a chain) whose left side is only variables, like `x = 3` or `(p, q) = (3, 2)`. */
export function isAssignment(n: Node): boolean {
  if (n.k === 'rel') return n.op === '=' && onlySymbols(n.lhs);
  if (n.k === 'and') return isEquation(n) && onlySymbols((n.args[0] as Extract<Node, { k: 'rel' }>).lhs);
  return false;
}

/** First relation of a chain (or the relation itself). */
export function firstRel(n: Node): Extract<Node, { k: 'rel' }> {
  return (n.k === 'and' ? n.args[0] : n) as Extract<Node, { k: 'rel' }>;
}

/** Last relation of a chain (or the relation itself). */
export function lastRel(n: Node): Extract<Node, { k: 'rel' }> {
  return (n.k === 'and' ? lastRel(n.args[n.args.length - 1]!) : n) as Extract<Node, { k: 'rel' }>;
}

/** A canonical text key: equal keys mean structurally identical trees. */
export function key(n: Node): string {
  switch (n.k) {
    case 'num':
      return (n.float ? 'f' : '') + ratToString(n.v);
    case 'sym':
      return n.name;
    case 'const':
      return '#' + n.name;
    case 'text':
      return `"${n.s}"`;
    case 'add':
    case 'mul':
    case 'union':
    case 'inter':
    case 'minus':
    case 'and':
      return `${n.k}(${n.args.map(key).join(',')})`;
    case 'pow':
      return `pow(${key(n.base)},${key(n.exp)})`;
    case 'pct':
    case 'deg':
      return `${n.k}(${key(n.arg)})`;
    case 'fn':
      return `${n.name}(${n.args.map(key).join(',')})`;
    case 'rel':
      return `${key(n.lhs)}${n.op}${key(n.rhs)}`;
    case 'set':
      return `{${n.items.map(key).join(',')}}`;
    case 'tuple':
      return `(${n.items.map(key).join(',')})`;
    case 'interval':
      return `${n.loOpen ? '(' : '['}${key(n.lo)},${key(n.hi)}${n.hiOpen ? ')' : ']'}`;
    case 'domain':
      return '@' + n.name;
    case 'matrix':
      return `[${n.rows.map((r) => r.map(key).join('&')).join(';')}]`;
    case 'sum':
    case 'prod':
    case 'int':
      return `${n.k}(${key(n.body)},${n.v},${key(n.lo)},${key(n.hi)})`;
    case 'lim':
      return `lim(${key(n.body)},${n.v},${key(n.to)}${n.side})`;
  }
}

const binderKindsOf = new WeakMap<Node, ReadonlySet<Binder['k']>>();
const NO_BINDERS: ReadonlySet<Binder['k']> = new Set();

/** The kinds of Σ, Π, ∫ and lim anywhere in `n` (remembered per tree: parsed trees are cached). */
export function binderKinds(n: Node): ReadonlySet<Binder['k']> {
  // A leaf (a plain number answer, …) has none: no walk and no WeakMap entry for a fresh node.
  if (n.k === 'num' || n.k === 'sym' || n.k === 'const' || n.k === 'text' || n.k === 'domain') return NO_BINDERS;
  let kinds = binderKindsOf.get(n);
  if (kinds === undefined) {
    const out = new Set<Binder['k']>();
    const walk = (x: Node): void => {
      if (isBinder(x)) out.add(x.k);
      for (const c of children(x)) walk(c);
    };
    walk(n);
    binderKindsOf.set(n, (kinds = out));
  }
  return kinds;
}

/** The children of a node, in order. */
export function children(n: Node): Node[] {
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'union':
    case 'inter':
    case 'minus':
    case 'and':
    case 'fn':
      return n.args;
    case 'pow':
      return [n.base, n.exp];
    case 'pct':
    case 'deg':
      return [n.arg];
    case 'rel':
      return [n.lhs, n.rhs];
    case 'set':
    case 'tuple':
      return n.items;
    case 'interval':
      return [n.lo, n.hi];
    case 'matrix':
      return n.rows.flat();
    case 'sum':
    case 'prod':
    case 'int':
      return [n.body, n.lo, n.hi];
    case 'lim':
      return [n.body, n.to];
    default:
      return [];
  }
}

/** Free variables of `n` (bound summation indices excluded), sorted. */
export function freeSymbols(n: Node): string[] {
  const out = new Set<string>();
  const walk = (x: Node, bound: ReadonlySet<string>): void => {
    if (x.k === 'sym') {
      if (!bound.has(x.name)) out.add(x.name);
      return;
    }
    if (isBinder(x)) {
      for (const c of children(x)) if (c !== x.body) walk(c, bound);
      walk(x.body, new Set([...bound, x.v]));
      return;
    }
    for (const c of children(x)) walk(c, bound);
  };
  walk(n, new Set());
  return [...out].sort();
}

/** Rebuilds `n` with `f` applied to every child (bottom-up helpers use this). */
export function mapChildren(n: Node, f: (c: Node) => Node): Node {
  switch (n.k) {
    case 'add':
    case 'mul':
    case 'union':
    case 'inter':
    case 'and':
      return { k: n.k, args: n.args.map(f) } as Node;
    case 'minus':
      return { k: 'minus', args: [f(n.args[0]), f(n.args[1])] };
    case 'fn':
      return { k: 'fn', name: n.name, args: n.args.map(f) };
    case 'pow':
      return { k: 'pow', base: f(n.base), exp: f(n.exp) };
    case 'pct':
    case 'deg':
      return { k: n.k, arg: f(n.arg) };
    case 'rel':
      return { k: 'rel', op: n.op, lhs: f(n.lhs), rhs: f(n.rhs) };
    case 'set':
    case 'tuple':
      return { k: n.k, items: n.items.map(f) };
    case 'interval':
      return { ...n, lo: f(n.lo), hi: f(n.hi) };
    case 'matrix':
      return { k: 'matrix', rows: n.rows.map((r) => r.map(f)) };
    case 'sum':
    case 'prod':
    case 'int':
      return { ...n, body: f(n.body), lo: f(n.lo), hi: f(n.hi) };
    case 'lim':
      return { ...n, body: f(n.body), to: f(n.to) };
    default:
      return n;
  }
}

/** Replaces variables by name (used for non-strict comparison, where variable names do not matter). */
export function renameSymbols(n: Node, map: ReadonlyMap<string, string>): Node {
  if (n.k === 'sym') {
    const to = map.get(n.name);
    return to === undefined ? n : { k: 'sym', name: to };
  }
  const out = mapChildren(n, (c) => renameSymbols(c, map));
  // A bound variable renamed in its body is renamed in its binder too.
  if (isBinder(out) && map.has(out.v)) return { ...out, v: map.get(out.v)! };
  return out;
}

/** Replaces undefined-function applications `f(x)` by a variable named after them (`f_x`). */
export function functionsAsSymbols(n: Node): Node {
  if (n.k === 'fn' && n.name.startsWith('f:')) return { k: 'sym', name: `${n.name.slice(2)}_${n.args.map(key).join('_')}` };
  return mapChildren(n, functionsAsSymbols);
}

/** A compact human-readable rendering for details and error messages. */
export function show(n: Node): string {
  switch (n.k) {
    case 'num':
      return ratToString(n.v);
    case 'sym':
      return n.name;
    case 'const':
      return n.name === 'inf' ? '∞' : n.name === 'pi' ? 'π' : n.name;
    case 'text':
      return `text(${n.s})`;
    case 'add':
      return `(${n.args.map(show).join(' + ')})`;
    case 'mul':
      return n.args.map(show).join('·');
    case 'pow': {
      const atomic = (x: Node): boolean => x.k === 'sym' || x.k === 'const' || (x.k === 'num' && x.v.d === 1n && x.v.n >= 0n);
      const b = show(n.base);
      const e = show(n.exp);
      return `${atomic(n.base) ? b : `(${b})`}^${atomic(n.exp) || n.exp.k === 'num' ? e : `(${e})`}`;
    }
    case 'pct':
      return `${show(n.arg)}%`;
    case 'deg':
      return `${show(n.arg)}°`;
    case 'fn':
      return `${n.name.startsWith('f:') ? n.name.slice(2) : n.name}(${n.args.map(show).join(', ')})`;
    case 'rel':
      return `${show(n.lhs)} ${n.op} ${show(n.rhs)}`;
    case 'and':
      return n.args.map(show).join(' ∧ ');
    case 'set':
      return `{${n.items.map(show).join(', ')}}`;
    case 'tuple':
      return `(${n.items.map(show).join(', ')})`;
    case 'interval':
      return `${n.loOpen ? '(' : '['}${show(n.lo)}, ${show(n.hi)}${n.hiOpen ? ')' : ']'}`;
    case 'union':
      return n.args.map(show).join(' ∪ ');
    case 'inter':
      return n.args.map(show).join(' ∩ ');
    case 'minus':
      return `${show(n.args[0])} \\ ${show(n.args[1])}`;
    case 'domain':
      return n.name === 'empty' ? '∅' : n.name;
    case 'matrix':
      return `[${n.rows.map((r) => r.map(show).join(', ')).join('; ')}]`;
    case 'sum':
    case 'prod':
    case 'int':
      return `${n.k}(${show(n.body)}, ${n.v}=${show(n.lo)}..${show(n.hi)})`;
    case 'lim':
      return `lim(${show(n.body)}, ${n.v}→${show(n.to)}${n.side})`;
  }
}
