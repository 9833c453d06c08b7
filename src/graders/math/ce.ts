/**
 * The compute-engine fallback (@cortex-js/compute-engine): reads LaTeX the fast parser rejects
 * (integrals, limits, unusual commands) and decides symbolic equalities sampling could not, under
 * compute-engine's own time limit (`ce.withTimeLimit`). Loaded lazily (its first load takes ~2 s),
 * so answers that never need it never pay for it.
 */
import { createRequire } from 'node:module';
import { type Node, mkAdd, mkDiv, mkMul, mkNeg, mkSet, num, sym } from './ast.js';
import { type Fallback, FOREIGN } from './verify.js';
import { parseDecimal, rat } from './rational.js';

type Json = number | string | Json[] | { num?: string; str?: string; sym?: string; fn?: Json[] };

interface BoxedLike {
  json: unknown;
  isEqual(o: BoxedLike): boolean | undefined;
  isSame(o: BoxedLike): boolean;
  simplify(): BoxedLike;
  evaluate(): BoxedLike;
}
interface EngineLike {
  parse(latex: string, opts?: { canonical?: boolean }): BoxedLike;
  box(json: unknown): BoxedLike;
  withTimeLimit<T>(ms: number, fn: () => T): T;
}

let engine: EngineLike | null = null;
let loadFailed = false;

function ce(): EngineLike | null {
  if (engine || loadFailed) return engine;
  try {
    const req = createRequire(import.meta.url);
    const mod = req('@cortex-js/compute-engine') as { ComputeEngine: new () => EngineLike };
    engine = new mod.ComputeEngine();
  } catch {
    loadFailed = true;
  }
  return engine;
}

const FN: Record<string, string> = {
  Sin: 'sin', Cos: 'cos', Tan: 'tan', Sec: 'sec', Csc: 'csc', Cot: 'cot', Arcsin: 'asin', Arccos: 'acos',
  Arctan: 'atan', Sinh: 'sinh', Cosh: 'cosh', Tanh: 'tanh', Exp: 'exp', Abs: 'abs', Floor: 'floor',
  Ceil: 'ceil', Factorial: 'fact', Binomial: 'binom', GCD: 'gcd', LCM: 'lcm', Max: 'max', Min: 'min',
  Mod: 'mod', Sign: 'sgn', Gamma: 'gamma',
};
const REL: Record<string, '=' | '!=' | '<' | '<=' | '>' | '>='> = {
  Equal: '=', NotEqual: '!=', Less: '<', LessEqual: '<=', Greater: '>', GreaterEqual: '>=',
};

/** Converts compute-engine MathJSON to the grader's tree; null for what it cannot represent. */
export function fromMathJson(j: Json): Node | null {
  if (typeof j === 'number') {
    if (!Number.isFinite(j)) return j > 0 ? { k: 'const', name: 'inf' } : j < 0 ? mkNeg({ k: 'const', name: 'inf' }) : null;
    const v = parseDecimal(String(j));
    return v && num(v, !Number.isInteger(j));
  }
  if (typeof j === 'string') {
    if (j.startsWith("'")) return { k: 'text', s: j.slice(1, -1).toLowerCase().replace(/[\s()]/g, '') };
    switch (j) {
      case 'Pi':
        return { k: 'const', name: 'pi' };
      case 'ExponentialE':
        return { k: 'const', name: 'e' };
      case 'ImaginaryUnit':
        return sym('i');
      case 'PositiveInfinity':
        return { k: 'const', name: 'inf' };
      case 'NegativeInfinity':
        return mkNeg({ k: 'const', name: 'inf' });
      case 'EmptySet':
        return { k: 'domain', name: 'empty' };
      case 'RealNumbers':
        return { k: 'domain', name: 'R' };
      default:
        return /^[A-Za-z][A-Za-z0-9_]*$/.test(j) ? sym(j.toLowerCase()) : null;
    }
  }
  if (!Array.isArray(j)) {
    if (j.num !== undefined) {
      const v = parseDecimal(j.num.replace(/[^\d.eE+-]/g, ''));
      return v && num(v, /[.eE]/.test(j.num));
    }
    if (j.sym !== undefined) return fromMathJson(j.sym);
    if (j.str !== undefined) return { k: 'text', s: j.str.toLowerCase() };
    if (j.fn !== undefined) return fromMathJson(j.fn);
    return null;
  }
  const [head, ...rest] = j;
  if (typeof head !== 'string') return null;
  const args = rest.map(fromMathJson);
  if (args.some((a) => a === null)) return null;
  const a = args as Node[];
  switch (head) {
    case 'Add':
      return a.reduce((x, y) => mkAdd(x, y));
    case 'Subtract':
      return a.length === 1 ? mkNeg(a[0]!) : mkAdd(a[0]!, mkNeg(a[1]!));
    case 'Negate':
      return mkNeg(a[0]!);
    case 'Multiply':
    case 'InvisibleOperator':
      return a.reduce((x, y) => mkMul(x, y));
    case 'Divide':
      return mkDiv(a[0]!, a[1]!);
    case 'Rational':
      return a[0]!.k === 'num' && a[1]!.k === 'num' && a[1]!.v.n !== 0n ? num(rat(a[0]!.v.n * a[1]!.v.d, a[0]!.v.d * a[1]!.v.n)) : mkDiv(a[0]!, a[1]!);
    case 'Power':
      return { k: 'pow', base: a[0]!, exp: a[1]! };
    case 'Square':
      return { k: 'pow', base: a[0]!, exp: num(rat(2n)) };
    case 'Sqrt':
      return { k: 'pow', base: a[0]!, exp: num(rat(1n, 2n)) };
    case 'Root':
      return { k: 'pow', base: a[0]!, exp: mkDiv(num(rat(1n)), a[1]!) };
    case 'Ln':
      return { k: 'fn', name: 'log', args: [a[0]!, { k: 'const', name: 'e' }] };
    case 'Log':
      return { k: 'fn', name: 'log', args: [a[0]!, a[1] ?? num(rat(10n))] };
    case 'Delimiter':
      return a.length === 1 ? a[0]! : { k: 'tuple', items: a };
    case 'Tuple':
    case 'Pair':
    case 'Triple':
    case 'List':
    case 'Sequence':
      return a.length === 1 ? a[0]! : { k: 'tuple', items: a };
    case 'Set':
      return mkSet(a);
    case 'Union':
      return { k: 'union', args: a };
    case 'Intersection':
      return { k: 'inter', args: a };
    case 'Subscript':
      return a[0]!.k === 'sym' ? sym(`${a[0]!.name}_${a[1]!.k === 'sym' ? a[1]!.name : a[1]!.k === 'num' ? String(a[1]!.v.n) : 'x'}`) : null;
    case 'Degrees':
      return { k: 'deg', arg: a[0]! };
    case 'Percent':
      return { k: 'pct', arg: a[0]! };
    default:
      if (REL[head]) return a.length === 2 ? { k: 'rel', op: REL[head]!, lhs: a[0]!, rhs: a[1]! } : null;
      if (FN[head]) return { k: 'fn', name: FN[head]!, args: a };
      return null;
  }
}

/** Converts the grader's tree to MathJSON for compute-engine; null for sets, relations, text. */
export function toMathJson(n: Node): Json | null {
  const all = (xs: Node[]): Json[] | null => {
    const out: Json[] = [];
    for (const x of xs) {
      const j = toMathJson(x);
      if (j === null) return null;
      out.push(j);
    }
    return out;
  };
  switch (n.k) {
    case 'num':
      return n.v.d === 1n ? (Number.isSafeInteger(Number(n.v.n)) ? Number(n.v.n) : { num: n.v.n.toString() }) : ['Rational', { num: n.v.n.toString() }, { num: n.v.d.toString() }];
    case 'sym':
      return n.name === 'i' ? 'ImaginaryUnit' : /^[a-z][a-z0-9]*$/.test(n.name) ? n.name : null;
    case 'const':
      return { pi: 'Pi', e: 'ExponentialE', i: 'ImaginaryUnit', inf: 'PositiveInfinity', gamma: 'EulerGamma' }[n.name];
    case 'add': {
      const a = all(n.args);
      return a && ['Add', ...a];
    }
    case 'mul': {
      const a = all(n.args);
      return a && ['Multiply', ...a];
    }
    case 'pow': {
      const a = all([n.base, n.exp]);
      return a && ['Power', ...a];
    }
    case 'pct': {
      const a = toMathJson(n.arg);
      return a && ['Divide', a, 100];
    }
    case 'deg':
      return toMathJson(n.arg);
    case 'fn': {
      const a = all(n.args);
      if (!a) return null;
      if (n.name === 'log') return ['Log', ...a];
      const head = Object.entries(FN).find(([, v]) => v === n.name)?.[0];
      return head ? [head, ...a] : null;
    }
    default:
      return null;
  }
}

/**
 * Loads compute-engine now (synchronously, ~2 s the first time in a process) so that no
 * verification pays for it inside its time limit. Returns false when it cannot be loaded.
 */
export function loadComputeEngine(): boolean {
  return ce() !== null;
}

/** The compute-engine fallback as the verifier's {@link Fallback} hook. */
export const ceFallback: Fallback = {
  load() {
    loadComputeEngine();
  },
  parse(latex, msLeft) {
    if (latex.length > 2000 || msLeft < 5 || FOREIGN.test(latex)) return null;
    const e = ce();
    if (!e) return null;
    try {
      return e.withTimeLimit(Math.max(1, Math.floor(msLeft)), () => {
        const b = e.parse(latex);
        let node = fromMathJson(b.json as Json);
        if (node === null) node = fromMathJson(b.evaluate().json as Json);
        return node;
      });
    } catch {
      return null;
    }
  },
  equal(g, p, msLeft) {
    if (msLeft < 5) return null;
    const gj = toMathJson(g);
    const pj = toMathJson(p);
    if (gj === null || pj === null) return null;
    const e = ce();
    if (!e) return null;
    try {
      return e.withTimeLimit(Math.max(1, Math.floor(msLeft)), () => {
        const a = e.box(gj);
        const b = e.box(pj);
        const r = a.isEqual(b);
        if (r !== undefined) return r;
        return a.simplify().isSame(b.simplify()) ? true : null;
      });
    } catch {
      return null;
    }
  },
};
