/**
 * Values of call-based tests, compared outside the program: the program process replies with tagged
 * JSON (see `python.ts`/`javascript.ts`), which is rebuilt here into a canonical value and compared
 * with the reference's expected output the way verl's `prime_code` / APPS checkers compare.
 */
import type { SandboxLanguage } from '../sandbox.js';

/** A canonical value from the program: JSON-like, with exact integers and tagged sets/dicts. */
export type Val =
  | null
  | boolean
  | string
  | Val[]
  | { int: bigint }
  | { num: number }
  | { set: Val[] }
  | { dict: [Val, Val][] }
  | { undef: true }
  | { other: string };

const INT = /^-?\d+$/;

function num(s: unknown): number {
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  const n = Number(s);
  if (typeof s !== 'string' || (Number.isNaN(n) && s !== 'NaN')) throw new Error('malformed number');
  return n;
}

/** Rebuilds a tagged reply value; throws on anything malformed (a protocol error). */
export function decodeValue(v: unknown, depth = 0): Val {
  if (depth > 1000) throw new Error('value nested too deeply');
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`malformed value (${typeof v})`);
  const o = v as Record<string, unknown>;
  const list = (x: unknown) => {
    if (!Array.isArray(x)) throw new Error('malformed list');
    return x.map((e) => decodeValue(e, depth + 1));
  };
  const pairs = (x: unknown): [Val, Val][] => {
    if (!Array.isArray(x)) throw new Error('malformed mapping');
    return x.map((kv) => {
      if (!Array.isArray(kv) || kv.length !== 2) throw new Error('malformed mapping entry');
      return [decodeValue(kv[0], depth + 1), decodeValue(kv[1], depth + 1)];
    });
  };
  if ('i' in o || 'bi' in o) {
    const s = o.i ?? o.bi;
    if (typeof s !== 'string' || !INT.test(s)) throw new Error('malformed integer');
    return { int: BigInt(s) };
  }
  if ('f' in o) return { num: num(o.f) };
  if ('n' in o) return { num: num(o.n) };
  if ('l' in o) return list(o.l);
  if ('t' in o) return list(o.t);
  if ('s' in o) return { set: list(o.s) };
  if ('fs' in o) return { set: list(o.fs) };
  if ('set' in o) return { set: list(o.set) };
  if ('d' in o) return { dict: pairs(o.d) };
  if ('map' in o) return { dict: pairs(o.map) };
  if ('o' in o) {
    const ps = pairs(o.o);
    if (!ps.every(([k]) => typeof k === 'string')) throw new Error('malformed object key');
    return { dict: ps };
  }
  if ('u' in o) return { undef: true };
  if ('b' in o) return { other: 'bytes' };
  if ('h' in o) return { other: `object ${String(o.r ?? '')}` };
  if ('m' in o) return { other: 'module' };
  throw new Error('malformed value (unknown tag)');
}

/** A short display of a value for failure details. */
export function showValue(v: Val, max = 200): string {
  const s = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      if ('int' in o) { const b = o.int as bigint; return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString(); }
      if ('num' in o) return o.num;
      if ('set' in o) return { set: o.set };
      if ('dict' in o) return Object.fromEntries((o.dict as [Val, Val][]).map(([k, y]) => [typeof k === 'string' ? k : showValue(k, 50), y]));
    }
    return x;
  });
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

interface EqOptions {
  language: SandboxLanguage;
  floatTolerance: number;
}

function numeric(a: Val, lang: SandboxLanguage): number | bigint | null {
  if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
    if ('int' in a) return a.int;
    if ('num' in a) return a.num;
  }
  if (typeof a === 'boolean' && lang === 'python') return a ? 1n : 0n; // Python: True == 1
  return null;
}

function numbersEqual(a: number | bigint, e: number | bigint, tol: number): boolean {
  if (typeof a === 'bigint' && typeof e === 'bigint') return a === e;
  if (typeof a === 'bigint' && typeof e === 'number') return Number.isInteger(e) && Number.isSafeInteger(e) ? a === BigInt(e) : Number(a) === e || closeEnough(Number(a), e, tol);
  if (typeof a === 'number' && typeof e === 'bigint') return a === Number(e) && Number.isInteger(a) && BigInt(a) === e;
  const x = a as number;
  const y = e as number;
  return x === y || closeEnough(x, y, tol);
}

function closeEnough(a: number, e: number, tol: number): boolean {
  return tol > 0 && Number.isFinite(a) && Number.isFinite(e) && Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
}

function keyMatches(k: Val, want: string): boolean {
  if (typeof k === 'string') return k === want;
  // JSON keys are text; verl turns integer-like keys back into ints before comparing.
  if (k !== null && typeof k === 'object' && 'int' in k) return INT.test(want) && BigInt(want) === k.int;
  return false;
}

function eq(a: Val, e: unknown, o: EqOptions): boolean {
  if (e === null) return a === null || (a !== null && typeof a === 'object' && 'undef' in a);
  if (typeof e === 'string') return a === e;
  if (typeof e === 'boolean') {
    if (typeof a === 'boolean') return a === e;
    const n = numeric(a, o.language);
    return o.language === 'python' && n !== null && numbersEqual(n, e ? 1n : 0n, 0);
  }
  if (typeof e === 'number' || typeof e === 'bigint') {
    const n = numeric(a, o.language);
    return n !== null && numbersEqual(n, e, o.floatTolerance);
  }
  if (Array.isArray(e)) return Array.isArray(a) && a.length === e.length && a.every((x, i) => eq(x, e[i], o));
  if (typeof e === 'object') {
    if (a === null || typeof a !== 'object' || Array.isArray(a) || !('dict' in a)) return false;
    const want = Object.entries(e as Record<string, unknown>);
    if (a.dict.length !== want.length) return false;
    return want.every(([k, v]) => {
      const hit = a.dict.find(([ak]) => keyMatches(ak, k));
      return hit !== undefined && eq(hit[1], v, o);
    });
  }
  return false;
}

/**
 * Whether a call's result matches the expected output, as verl's `prime_code` decides: equal as
 * Python compares (`1 == 1.0 == True`; tuples are lists; JSON dict keys match the program's string or
 * integer keys), or equal to the first element when the expected output is a non-empty list (APPS
 * wraps single results: `outputs[i] = [value]`). Sets, bytes and other objects never equal JSON.
 */
export function resultMatches(actual: Val, expected: unknown, opts: EqOptions): boolean {
  if (eq(actual, expected, opts)) return true;
  return Array.isArray(expected) && expected.length > 0 && eq(actual, expected[0], opts);
}

/**
 * `JSON.parse` that keeps integers beyond 2^53 exact (as `bigint`), for expected outputs written as
 * JSON text (verl `prime_code` stores each output as a JSON string). Throws on invalid JSON.
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      ws();
      if (text[i] === '}') {
        i++;
        return { ...out };
      }
      for (;;) {
        ws();
        const k = value();
        if (typeof k !== 'string') throw new SyntaxError('object key must be a string');
        ws();
        if (text[i++] !== ':') throw new SyntaxError('expected :');
        Object.defineProperty(out, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        const d = text[i++];
        if (d === '}') break;
        if (d !== ',') throw new SyntaxError('expected , or }');
      }
      return Object.assign({}, out);
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        const d = text[i++];
        if (d === ']') break;
        if (d !== ',') throw new SyntaxError('expected , or ]');
      }
      return out;
    }
    if (c === '"') {
      const m = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(text.slice(i));
      if (!m) throw new SyntaxError('bad string');
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 100000));
    if (m && m[0].length > 0) {
      i += m[0].length;
      if (m[2] === undefined && m[3] === undefined) {
        const n = Number(m[0]);
        return Number.isSafeInteger(n) ? n : BigInt(m[0]);
      }
      return Number(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    throw new SyntaxError(`unexpected character at ${i}`);
  };
  const v = value();
  ws();
  if (i !== text.length) throw new SyntaxError('trailing text');
  return v;
}
