/**
 * Names are data, never keys into prototypes.
 *
 * Every name a user chooses — component, backend, spec and signal names, a request's `language` —
 * may be any string the spec schema allows, including `__proto__`, `constructor`, `toString`,
 * `hasOwnProperty` or `valueOf`. Where such a name becomes a key, the object holding it is a
 * null-prototype record ({@link nameRecord}) or a `Map`, and reads go through own keys only
 * ({@link ownValue}): `record.__proto__ = 1` on an ordinary object would change its prototype and the
 * entry would vanish, `record.constructor` on an ordinary object reads `Object` when the key is
 * missing. `JSON.stringify` of a null-prototype record writes an own `__proto__` key like any
 * other, so such names reach the output as they are.
 *
 * Spec files are the exception: a `__proto__` *key* in a spec (a backend named `__proto__`,
 * `__proto__:` inside a component) is an error naming its path ({@link findSpecProtoKey}), because
 * the schema layer drops such keys silently and a later merge could turn one into a prototype
 * change. Names that are values (`name: __proto__`) are plain names.
 */

/**
 * A fresh null-prototype record, for objects keyed by user-chosen names (output `components`,
 * `details`, diagnostics by spec name). Any string is an own key once written, and a missing key
 * reads `undefined`.
 *
 * @example
 * const c = nameRecord<number>();
 * c['__proto__'] = 1;
 * JSON.stringify(c) // → '{"__proto__":1}'
 */
export function nameRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * The value of `record`'s own key `key`, or undefined — never an inherited member such as
 * `Object.prototype.toString` when the key is missing.
 *
 * @example
 * ownValue({ a: 1 }, 'toString') // → undefined
 * ownValue({ a: 1 }, 'a')        // → 1
 */
export function ownValue<T>(record: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return record != null && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** `['backends', 'x']` → `backends.x`, `['components', 2, 'y']` → `components[2].y`. */
function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/**
 * Path of the first own `__proto__` key anywhere in a parsed spec value (`backends.__proto__`,
 * `components[1].__proto__`), or null. Values are not keys: `name: __proto__` is not reported.
 *
 * @example
 * findSpecProtoKey(JSON.parse('{"backends": {"__proto__": {}}}')) // → 'backends.__proto__'
 */
export function findSpecProtoKey(v: unknown): string | null {
  // Iterative, depth-first in key order: a deeply nested spec cannot overflow the stack.
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: v, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return pathText([...path, '__proto__']);
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (value as Record<string, unknown>)[keys[i]!], path: [...path, keys[i]!] });
  }
  return null;
}
