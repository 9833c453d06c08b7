import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod';
import { jsonGrader } from './json.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { ParamError, type Grader } from './types.js';

const ANSWER_SCHEMA = { type: 'object', required: ['answer'], properties: { answer: { type: 'integer' } }, additionalProperties: false };

function paramError(params: Record<string, unknown>): ParamError {
  try {
    buildGrader(jsonGrader, params);
  } catch (e) {
    if (e instanceof ParamError) return e;
    throw e;
  }
  throw new Error('expected a ParamError');
}

describe('json: parsing', () => {
  it('accepts JSON and rejects the rest (whole text)', async () => {
    const g = buildGrader(jsonGrader, { extract: 'whole' });
    expect(await scoreOne(g, '{"a": 1}')).toBe(1);
    expect(await scoreOne(g, '  [1, 2, 3]\n')).toBe(1);
    expect(await scoreOne(g, '"just a string"')).toBe(1);
    expect(await scoreOne(g, '42')).toBe(1);
    expect(await scoreOne(g, '{"a": 1,}')).toBe(0);
    expect(await scoreOne(g, "{'a': 1}")).toBe(0);
    expect(await scoreOne(g, 'Here: {"a": 1}')).toBe(0);
    expect(await scoreOne(g, '')).toBe(0);
    const [r] = await gradeAll(g, [{ completion: '{"a": }' }]);
    expect(r!.score).toBe(0);
    expect(r!.details).toMatchObject({ extracted: 'whole' });
    expect(typeof r!.details!.error).toBe('string');
  });

  it('takes the last ```json fenced block', async () => {
    const g = buildGrader(jsonGrader, { extract: 'fenced' });
    const text = 'First try:\n```json\n{"answer": 1}\n```\nFixed:\n```json\n{"answer": 2}\n```\nDone.';
    const [r] = await gradeAll(buildGrader(jsonGrader, { extract: 'fenced', match_reference: true }), [{ completion: text, reference: { answer: 2 } }]);
    expect(r).toEqual({ score: 1, details: { region: 'whole', extracted: 'fenced' } });
    expect(await scoreOne(g, 'plain:\n```\n[1]\n```')).toBe(1);
    expect(await scoreOne(g, '```JSON\n[1]\n```')).toBe(1);
    expect(await scoreOne(g, '```python\nprint(1)\n```')).toBe(0);
    expect(await scoreOne(g, '```json\n{"a": 1}\n```\n```python\nx = {}\n```')).toBe(1); // the python block is skipped
    expect(await scoreOne(g, '```json\n{"a": 1}')).toBe(0); // unclosed fence
    const [none] = await gradeAll(g, [{ completion: '{"a": 1}' }]);
    expect(none).toEqual({ score: 0, details: { region: 'whole', extracted: null, error: 'no ``` or ```json fenced block' } });
  });

  it('auto: fenced block, else first balanced object that parses, else whole text', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    const graded = async (completion: string, reference: unknown) => (await gradeAll(g, [{ completion, reference }]))[0]!;
    expect(await graded('The result is {"a": {"b": [1, 2]}} as requested.', { a: { b: [1, 2] } })).toEqual({ score: 1, details: { region: 'whole', extracted: 'object' } });
    expect((await graded('Use { carefully; the data: {"a": 1} ok', { a: 1 })).score).toBe(1); // an unclosed prose brace
    expect((await graded('Set {x} first, then {"a": 1}', { a: 1 })).score).toBe(1); // {x} does not parse: next one
    expect((await graded('then {"a": "}{[", "b": "\\"}"} ok', { a: '}{[', b: '"}' })).score).toBe(1); // brackets in strings
    expect((await graded('list [1, 2] then {"a": 1}', [1, 2])).score).toBe(1);
    expect((await graded('{"a": [1, 2}', null)).score).toBe(0);
    expect(await graded('  "text"  ', 'text')).toEqual({ score: 1, details: { region: 'whole', extracted: 'whole' } });
    expect((await graded('```json\n{bad}\n```\n{"a": 1}', { a: 1 })).score).toBe(0); // a fence that does not parse is not skipped
  });
});

describe('json: schema', () => {
  it('validates against the schema and reports trimmed ajv errors', async () => {
    const g = buildGrader(jsonGrader, { schema: ANSWER_SCHEMA });
    expect(await scoreOne(g, '{"answer": 4}')).toBe(1);
    const [r] = await gradeAll(g, [{ completion: 'Here:\n```json\n{"answer": "4"}\n```' }]);
    expect(r).toEqual({ score: 0, details: { region: 'whole', extracted: 'fenced', errors: ['/answer must be integer'] } });
    const [many] = await gradeAll(buildGrader(jsonGrader, { schema: { type: 'array', items: { type: 'string' } } }), [{ completion: '[1,2,3,4,5,6,7]' }]);
    expect(many!.details!.errors).toEqual(['/0 must be string', '/1 must be string', '/2 must be string', '/3 must be string', '/4 must be string', '… 2 more']);
    const [root] = await gradeAll(g, [{ completion: '{}' }]);
    expect(root!.details!.errors).toEqual(["/ must have required property 'answer'"]);
  });

  it('supports boolean schemas and the 2020-12 dialect', async () => {
    expect(await scoreOne(buildGrader(jsonGrader, { schema: false }), '{}')).toBe(0);
    expect(await scoreOne(buildGrader(jsonGrader, { schema: true }), '{}')).toBe(1);
    const g = buildGrader(jsonGrader, { schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] } });
    expect(await scoreOne(g, '[1, "a"]')).toBe(1);
    expect(await scoreOne(g, '["a", 1]')).toBe(0);
  });

  it('reads a schema file relative to the spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewardkit-json-'));
    writeFileSync(join(dir, 'answer.schema.json'), JSON.stringify(ANSWER_SCHEMA));
    const params = z.strictObject(jsonGrader.params).parse({ schema: 'answer.schema.json' });
    const g: Grader = jsonGrader.create(params, { specDir: dir, name: 'json' });
    expect(await scoreOne(g, '{"answer": 1}')).toBe(1);
    expect(await scoreOne(g, '{"answer": 1.5}')).toBe(0);
    const missing = z.strictObject(jsonGrader.params).parse({ schema: 'nope.json' });
    expect(() => jsonGrader.create(missing, { specDir: dir, name: 'json' })).toThrow(/cannot read the JSON Schema file/);
  });

  it('rejects invalid schemas at load', () => {
    const typo = paramError({ schema: { type: 'object', requried: ['a'] } });
    expect(typo.param).toBe('schema');
    expect(typo.message).toMatch(/unknown keyword: "requried"/);
    expect(paramError({ schema: { type: 'objekt' } }).message).toMatch(/^invalid JSON Schema: schema is invalid/);
    expect(paramError({ schema: { $schema: 'http://json-schema.org/draft-04/schema#' } }).param).toBe('schema');
    expect(() => buildGrader(jsonGrader, { schema: 3 })).toThrow();
  });

  it('does not check `format` (no format plugin)', async () => {
    const g = buildGrader(jsonGrader, { schema: { type: 'string', format: 'email' } });
    expect(await scoreOne(g, '"not an email"')).toBe(1);
  });
});

describe('json: reference', () => {
  it('deep-equals the reference, keys in any order', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    expect(await scoreOne(g, '{"b": [1, {"c": null}], "a": 1}', { a: 1, b: [1, { c: null }] })).toBe(1);
    expect(await scoreOne(g, '{"a": 1, "b": [{"c": null}, 1]}', { a: 1, b: [1, { c: null }] })).toBe(0);
    expect(await scoreOne(g, '{"a": 1}', { a: 1, b: undefined })).toBe(0);
    expect(await scoreOne(g, '{"a": 1.0}', { a: 1 })).toBe(1);
    expect(await scoreOne(g, '{"a": "1"}', { a: 1 })).toBe(0);
    expect(await scoreOne(g, '[]', {})).toBe(0);
    expect(await scoreOne(g, '{"a": 1}', Object.assign(Object.create({ a: 1 }), { b: 1 }))).toBe(0); // inherited keys do not count
    expect(await scoreOne(g, '{"a": 1}', '{"a":1}')).toBe(1); // a JSON-text reference
    expect(await scoreOne(g, '"{\\"a\\":1}"', '{"a":1}')).toBe(1); // or the string itself
    expect(await scoreOne(g, 'null', null)).toBe(1);
    expect(await scoreOne(g, '{"a": 1}', undefined)).toBeNull();
    const [r] = await gradeAll(g, [{ completion: '{"a": 2}', reference: { a: 1 } }]);
    expect(r).toEqual({ score: 0, details: { region: 'whole', extracted: 'object', equal: false } });
  });

  it('requires schema and reference together', async () => {
    const g = buildGrader(jsonGrader, { schema: ANSWER_SCHEMA, match_reference: true });
    expect(await scoreOne(g, '{"answer": 4}', { answer: 4 })).toBe(1);
    expect(await scoreOne(g, '{"answer": 5}', { answer: 4 })).toBe(0);
    expect(await scoreOne(g, '{"answer": 4, "x": 1}', { answer: 4, x: 1 })).toBe(0);
  });

  it('round-trips any JSON value in any layout (property)', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.constantFrom('plain', 'fenced', 'prose'), async (v, layout) => {
        const j = JSON.stringify(v);
        const isContainer = typeof v === 'object' && v !== null;
        const text = layout === 'fenced' ? `Answer:\n\`\`\`json\n${j}\n\`\`\`` : layout === 'prose' && isContainer ? `Here it is: ${j} — done.` : j;
        return (await scoreOne(g, text, v)) === 1;
      }),
    );
  });
});

describe('json: robustness', () => {
  it('handles unicode and a 1 MB completion', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    expect(await scoreOne(g, '答案: {"城市": "東京", "emoji": "😀"}', { 城市: '東京', emoji: '😀' })).toBe(1);
    const big = { items: Array.from({ length: 40_000 }, (_, i) => ({ id: i, name: `item ${i}` })) };
    const text = `Result:\n${JSON.stringify(big)}\nThat is all.`;
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(await scoreOne(g, text, big)).toBe(1);
    expect(await scoreOne(buildGrader(jsonGrader), '{'.repeat(1 << 20))).toBe(0);
    expect(await scoreOne(buildGrader(jsonGrader), '{}'.repeat(300_000))).toBe(1); // the first {} parses
    expect(await scoreOne(buildGrader(jsonGrader), '"'.repeat(1 << 20))).toBe(0);
  });

  it('never throws on arbitrary text (property)', async () => {
    const g = buildGrader(jsonGrader, { schema: ANSWER_SCHEMA });
    const pieces = fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '1', 'a', ' ', '\n', '```', '```json', '"answer"');
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: pieces, maxLength: 30 }), async (t) => {
        const s = await scoreOne(g, t);
        return s === 0 || s === 1;
      }),
    );
  });

  it('rejects unknown params', () => {
    expect(() => buildGrader(jsonGrader, { extract: 'first' })).toThrow();
    expect(() => buildGrader(jsonGrader, { matchReference: true })).toThrow();
  });
});

describe('json: schema patterns run on RE2 (linear time)', () => {
  const evil = 'a'.repeat(5000) + '!';

  it('`^(a+)+$` against a long non-matching string answers at once (a backtracking engine would not return)', async () => {
    // Each of these runs ajv's `pattern`, `patternProperties`, `propertyNames` and `additionalProperties` checks on the evil text.
    // Scores: the pattern does not match the evil text, so only the string, propertyNames and additionalProperties schemas fail it.
    const schemas: [Record<string, unknown>, number][] = [
      [{ type: 'string', pattern: '^(a+)+$' }, 0],
      [{ type: 'object', patternProperties: { '^(a+)+$': { type: 'integer' } } }, 1],
      [{ type: 'object', propertyNames: { pattern: '^(a+)+$' } }, 0],
      [{ type: 'object', patternProperties: { '^(a+)+$': true }, additionalProperties: false }, 0],
    ];
    for (const [schema, want] of schemas) {
      const g = buildGrader(jsonGrader, { extract: 'whole', schema });
      const completion = schema.type === 'string' ? JSON.stringify(evil) : JSON.stringify({ [evil]: 'x' });
      expect(await scoreOne(g, completion), JSON.stringify(schema)).toBe(want);
    }
    const g = buildGrader(jsonGrader, { extract: 'whole', schema: { type: 'string', pattern: '^(a+)+$' } });
    expect(await scoreOne(g, JSON.stringify('a'.repeat(5000)))).toBe(1);
  });

  it('keeps JSON Schema pattern semantics: search (not anchored), \\u escapes, surrogate pairs, patterns differing only in text', async () => {
    const g = buildGrader(jsonGrader, {
      extract: 'whole',
      schema: {
        type: 'object',
        properties: {
          code: { type: 'string', pattern: '\\d{3}' },
          upper: { type: 'string', pattern: '^[\\u0041-\\u005A]+$' },
          emoji: { type: 'string', pattern: '^\\uD83D\\uDE00$' },
          braced: { type: 'string', pattern: '^\\u{1F600}$' },
          slash: { type: 'string', pattern: '^a\\/b$' },
          literal: { type: 'string', pattern: '^\\\\u0041$' },
        },
      },
    });
    expect(await scoreOne(g, JSON.stringify({ code: 'ab123cd', upper: 'ABC', emoji: '😀', braced: '😀', slash: 'a/b', literal: '\\u0041' }))).toBe(1);
    for (const bad of [{ code: '12' }, { upper: 'AbC' }, { emoji: 'x' }, { braced: 'x' }, { slash: 'ab' }, { literal: 'A' }])
      expect(await scoreOne(g, JSON.stringify(bad)), JSON.stringify(bad)).toBe(0);
    // Two patterns in one schema are two patterns (ajv caches compiled patterns by their text).
    const two = buildGrader(jsonGrader, { extract: 'whole', schema: { type: 'array', items: [{ pattern: '^a$' }, { pattern: '^b$' }] } });
    expect(await scoreOne(two, '["a", "b"]')).toBe(1);
    expect(await scoreOne(two, '["a", "a"]')).toBe(0);
  });

  it('a pattern RE2 cannot compile is a spec error naming its path', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'object', properties: { word: { type: 'string', pattern: '^(\\w)\\1$' } } }, 'schema.properties.word.pattern', /backreferences/],
      [{ type: 'string', pattern: '^(?=.*\\d).+$' }, 'schema.pattern', /lookahead and lookbehind/],
      [{ type: 'object', patternProperties: { '^(?!x)': { type: 'string' } } }, 'schema.patternProperties["^(?!x)"]', /lookahead/],
      [{ type: 'object', propertyNames: { pattern: '(?<=a)b' } }, 'schema.propertyNames.pattern', /lookahead and lookbehind/],
      [{ type: 'array', items: [{ const: { pattern: '(?=' } }, { pattern: '\\k<x>' }] }, 'schema.items.1.pattern', /backreferences/],
    ];
    for (const [schema, param, message] of cases) {
      const e = paramError({ schema });
      expect(e.param, JSON.stringify(schema)).toBe(param);
      expect(e.message).toMatch(message);
    }
  });
});

describe('json: uniqueItems in linear time', () => {
  const g = buildGrader(jsonGrader, { extract: 'whole', schema: { type: 'array', uniqueItems: true } });

  it('finds duplicates under JSON Schema equality (object keys in any order, 1 = 1.0), with ajv\'s message', async () => {
    const [dup] = await gradeAll(g, [{ completion: '[{"a": 1, "b": [1, {"c": 2}]}, 3, {"b": [1, {"c": 2.0}], "a": 1.0}]' }]);
    expect(dup).toEqual({ score: 0, details: { extracted: 'whole', region: 'whole', errors: ['/ must NOT have duplicate items (items ## 0 and 2 are identical)'] } });
    for (const distinct of ['[[1, 2], [2, 1]]', '["1", 1]', '[{"a": 1}, {"a": 1, "b": null}]', '[null, false, 0, ""]', '[{"10": 1, "9": 2}, {"9": 1, "10": 2}]'])
      expect(await scoreOne(g, distinct), distinct).toBe(1);
    for (const same of ['[{"10": 1, "9": 2}, {"9": 2, "10": 1}]', '[{"__proto__": 1, "a": 2}, {"a": 2, "__proto__": 1}]', '[-0, 0]', '[[], []]'])
      expect(await scoreOne(g, same), same).toBe(0);
    // Nested under another keyword, and `uniqueItems: false`.
    const nested = buildGrader(jsonGrader, { extract: 'whole', schema: { type: 'object', properties: { tags: { uniqueItems: true }, any: { uniqueItems: false } } } });
    const [n] = await gradeAll(nested, [{ completion: '{"tags": ["x", "y", "x"], "any": [1, 1]}' }]);
    expect(n).toEqual({ score: 0, details: { extracted: 'whole', region: 'whole', errors: ['/tags must NOT have duplicate items (items ## 0 and 2 are identical)'] } });
  });

  it('checks 20,000 distinct objects (pairwise comparison: 200 million deep comparisons)', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ a: [i, { b: 'x' }] }));
    expect(await scoreOne(g, JSON.stringify(items))).toBe(1);
    expect(await scoreOne(g, JSON.stringify([...items, { a: [19_999, { b: 'x' }] }]))).toBe(0);
  });

  it('compares items nested too deeply for JSON.stringify', async () => {
    const deep = (leaf: number) => '['.repeat(20_000) + String(leaf) + ']'.repeat(20_000);
    expect(await scoreOne(g, `[${deep(1)}, ${deep(2)}]`)).toBe(1);
    expect(await scoreOne(g, `[${deep(1)}, ${deep(1)}]`)).toBe(0);
  });
});
