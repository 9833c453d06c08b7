/**
 * JSON with Python's types. Tool-call checkers written in Python (BFCL, ToolRL) see `5.0` as a float
 * and `5` as an int, and BFCL rejects a float where the schema says integer; `JSON.parse` loses that
 * difference. This parser keeps it: an integral number written with a fraction or exponent comes back
 * as a {@link PyFloat}. It also accepts Python's `NaN`, `Infinity` and `-Infinity`, as `json.loads` does.
 */

/** A float literal a JS number cannot mark as float: integral (`5.0`, `1e2`), NaN or ±Infinity. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** A JSON value as parsed here: plain JSON plus {@link PyFloat}. */
export type PyValue = null | boolean | number | string | PyFloat | PyValue[] | { [k: string]: PyValue };

/** Python's type name for a parsed value. */
export type PyType = 'NoneType' | 'bool' | 'int' | 'float' | 'str' | 'list' | 'dict';

/** Python's type of a value (JS numbers: integral → int, else float; a {@link PyFloat} → float). */
export function pyType(v: unknown): PyType | 'other' {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  return 'other';
}

/** Plain JSON of a parsed value (a {@link PyFloat} becomes its number). */
export function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setKey(out, k, plain(x));
    return out;
  }
  return v;
}

function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  // A "__proto__" key must become an own property, as JSON.parse makes it.
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  return null;
}

/**
 * Python's `==` on parsed JSON values: numbers and booleans compare by value (`1 == 1.0 == True`),
 * lists element-wise in order, dicts by key set and values.
 */
export function pyEqual(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null || nb !== null) return na !== null && nb !== null && na === nb;
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEqual(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    const ob = b as Record<string, unknown>;
    return ka.every((k) => Object.hasOwn(ob, k) && pyEqual((a as Record<string, unknown>)[k], ob[k]));
  }
  return false;
}

/** Thrown on malformed JSON, with the offset of the problem. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 512;

/**
 * Parses one JSON document (surrounding whitespace allowed) keeping Python's int/float distinction.
 * Throws {@link JsonSyntaxError}.
 *
 * @example
 * parsePyJson('{"a": 5.0, "b": 5}') // → { a: PyFloat(5), b: 5 }
 */
export function parsePyJson(text: string): PyValue {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, i);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const literal = (word: string, value: PyValue): PyValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail('unexpected token');
  };
  const string = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 92) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          i -= 1;
          fail('bad escape');
      }
      start = i;
    }
  };
  const number = (): PyValue => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) {
      if (text.startsWith('-Infinity', i)) {
        i += 9;
        return new PyFloat(-Infinity);
      }
      return fail('bad number');
    }
    i += m[0].length;
    const v = Number(m[0]);
    const isFloat = m[1] !== undefined || m[2] !== undefined;
    return isFloat && Number.isInteger(v) ? new PyFloat(v) : v;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, PyValue> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = string();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        setKey(obj, k, value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    if (c === 'N') return literal('NaN', new PyFloat(NaN));
    if (c === 'I') return literal('Infinity', new PyFloat(Infinity));
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    return fail(i >= n ? 'unexpected end' : 'unexpected token');
  };
  const v = value(0);
  ws();
  if (i < n) fail('trailing characters');
  return v;
}

/** {@link parsePyJson} that returns `undefined` instead of throwing. */
export function tryParsePyJson(text: string): PyValue | undefined {
  try {
    return parsePyJson(text);
  } catch {
    return undefined;
  }
}
