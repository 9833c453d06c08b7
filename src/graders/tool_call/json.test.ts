import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonSyntaxError, parsePyJson, plain, pyEqual, PyFloat, pyType } from './json.js';

describe('parsePyJson', () => {
  it("keeps Python's int/float distinction", () => {
    const v = parsePyJson('{"a": 5, "b": 5.0, "c": 5.5, "d": 1e2, "e": -0.0, "f": 10E-1}') as Record<string, unknown>;
    expect(pyType(v.a)).toBe('int');
    expect(v.b).toBeInstanceOf(PyFloat);
    expect(pyType(v.b)).toBe('float');
    expect(pyType(v.c)).toBe('float');
    expect(pyType(v.d)).toBe('float');
    expect(pyType(v.e)).toBe('float');
    expect(pyType(v.f)).toBe('float');
    expect(plain(v)).toEqual({ a: 5, b: 5, c: 5.5, d: 100, e: -0, f: 1 });
  });

  it("accepts Python's NaN and Infinity, as json.loads does", () => {
    const v = parsePyJson('[NaN, Infinity, -Infinity]') as PyFloat[];
    expect(Number.isNaN(v[0]!.value)).toBe(true);
    expect(v[1]!.value).toBe(Infinity);
    expect(v[2]!.value).toBe(-Infinity);
  });

  it('agrees with JSON.parse on any JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(plain(parsePyJson(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects what JSON.parse rejects (apart from NaN/Infinity)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 2 }), (value, pos, junk) => {
        const text = JSON.stringify(value);
        const at = pos % (text.length + 1);
        const broken = text.slice(0, at) + junk + text.slice(at + 1);
        if (/NaN|Infinity/.test(broken)) return;
        let ok = true;
        try {
          JSON.parse(broken);
        } catch {
          ok = false;
        }
        if (ok) expect(plain(parsePyJson(broken))).toEqual(JSON.parse(broken));
        else expect(() => parsePyJson(broken)).toThrow(JsonSyntaxError);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes escapes and keeps a __proto__ key as an own property', () => {
    expect(parsePyJson('"a\\u00e9\\n\\"\\ud83d\\ude00"')).toBe('aé\n"😀');
    const o = parsePyJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });

  it('reports the offset of a syntax error', () => {
    expect(() => parsePyJson('{"a": 1,}')).toThrow(/offset 8/);
    expect(() => parsePyJson("{'a': 1}")).toThrow(JsonSyntaxError);
    expect(() => parsePyJson('[1] [2]')).toThrow(/trailing/);
  });
});

describe('pyEqual', () => {
  it("follows Python's ==", () => {
    expect(pyEqual(1, new PyFloat(1))).toBe(true);
    expect(pyEqual(true, 1)).toBe(true);
    expect(pyEqual(false, 0)).toBe(true);
    expect(pyEqual('1', 1)).toBe(false);
    expect(pyEqual([1, 2], [2, 1])).toBe(false);
    expect(pyEqual({ a: 1, b: [1] }, { b: [new PyFloat(1)], a: true })).toBe(true);
    expect(pyEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(pyEqual(null, null)).toBe(true);
    expect(pyEqual(null, 0)).toBe(false);
    expect(pyEqual(new PyFloat(NaN), new PyFloat(NaN))).toBe(false);
  });
  it('is reflexive and symmetric on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(pyEqual(a, structuredClone(a))).toBe(true);
        expect(pyEqual(a, b)).toBe(pyEqual(b, a));
      }),
    );
  });
});
