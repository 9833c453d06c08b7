import { HttpError, jsonPath } from './errors.js';

/**
 * Request body parsing: JSON only, nesting depth bounded before anything walks the value, and
 * `__proto__` keys refused (a JSON object may carry one as plain data; any later merge would turn
 * it into a prototype change, so the server never lets one in).
 */

/** Deepest `[`/`{` nesting in JSON text (brackets inside strings do not count). Stops counting past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** A printable-ASCII `\u00XX` escape: the only way to spell `__proto__` without the literal text. */
const ASCII_ESCAPE = /\\u00[2-7][0-9a-fA-F]/;

/** Path of the first own `__proto__` key in a parsed JSON value, or null. */
export function findProtoKey(v: unknown, path: (string | number)[] = []): string | null {
  if (typeof v !== 'object' || v === null) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object' && x !== null) {
        path.push(i);
        const p = findProtoKey(x, path);
        path.pop();
        if (p !== null) return p;
      }
    }
    return null;
  }
  if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return jsonPath([...path, '__proto__']);
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' && x !== null) {
      path.push(k);
      const p = findProtoKey(x, path);
      path.pop();
      if (p !== null) return p;
    }
  }
  return null;
}

/**
 * Parses a request body. Throws {@link HttpError} 400 for invalid JSON (position only: the message
 * never quotes the body), nesting deeper than `maxDepth`, or a `__proto__` key (path named).
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0) throw new HttpError(400, 'empty request body: expected a JSON object');
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) throw new HttpError(400, `JSON nested deeper than ${maxDepth} levels`, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      let line = 1;
      let col = 1;
      for (let i = 0; i < pos && i < text.length; i++) {
        if (text.charCodeAt(i) === 10) {
          line++;
          col = 1;
        } else col++;
      }
      where = ` at position ${pos} (line ${line}, column ${col})`;
    } else if (/end of (JSON )?input/i.test(msg)) where = ': unexpected end of input';
    else {
      // Node 20 quotes the source instead of a position: keep only the offending character.
      const t = /^Unexpected token '(.)'/u.exec(msg) ?? /^Unexpected token (.)/u.exec(msg);
      if (t) where = `: unexpected ${JSON.stringify(t[1])}`;
    }
    throw new HttpError(400, `malformed JSON${where}`, '');
  }
  if (text.includes('__proto__') || ASCII_ESCAPE.test(text)) {
    const p = findProtoKey(value);
    if (p !== null) throw new HttpError(400, 'forbidden key "__proto__"', p);
  }
  return value;
}
