import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types/index.js';
import type { Ajv2019 as Ajv2019Class } from 'ajv/dist/2019.js';
import type { Ajv2020 as Ajv2020Class } from 'ajv/dist/2020.js';
import { RE2JS, RE2JSException } from 're2js';
import { defineGrader, ParamError } from './types.js';
import { explainRe2Error } from './regex.js';

/** A schema pattern RE2 cannot compile; {@link compileSchema} turns it into a ParamError naming its path. */
class SchemaPatternError extends Error {
  constructor(
    readonly pattern: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * ECMA-262 escapes that RE2 spells differently: `\uHHHH` (a surrogate pair joined into one code
 * point) and `\u{H…}` become `\x{H…}`. Every other escape pair is copied as it is, so `\\u0041`
 * (an escaped backslash, then `u0041`) stays literal text.
 */
function toRe2Syntax(pattern: string): string {
  if (!pattern.includes('\\u')) return pattern;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c !== '\\' || i + 1 >= pattern.length) {
      out += c;
      continue;
    }
    const next = pattern[i + 1]!;
    if (next === 'u') {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(i + 2, i + 10));
      if (braced) {
        out += `\\x{${braced[1]}}`;
        i += 1 + braced[0].length;
        continue;
      }
      const hex = pattern.slice(i + 2, i + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        let cp = parseInt(hex, 16);
        const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(pattern.slice(i + 6, i + 12));
        if (cp >= 0xd800 && cp <= 0xdbff && low) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00);
          i += 6;
        }
        out += `\\x{${cp.toString(16)}}`;
        i += 5;
        continue;
      }
    }
    out += c + next;
    i++;
  }
  return out;
}

/**
 * ajv's regular-expression engine for `pattern`, `patternProperties` and `propertyNames` patterns:
 * RE2 (re2js), so validating a completion is linear in its length whatever the schema says —
 * `^(a+)+$` cannot backtrack. `test` searches, as `RegExp.prototype.test` does. A pattern RE2 cannot
 * compile (lookaround, backreferences) throws {@link SchemaPatternError} while the schema compiles.
 */
const re2Engine: RegExpEngine = Object.assign(
  (pattern: string, u: string): RegExpLike => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(toRe2Syntax(pattern));
    } catch (e) {
      if (e instanceof RE2JSException) throw new SchemaPatternError(pattern, explainRe2Error(e));
      throw e;
    }
    // ajv keys compiled patterns by toString(): it must differ between patterns.
    return { test: (s: string) => re.test(s), toString: () => `re2/${u}/${pattern}` } as RegExpLike;
  },
  { code: 'rewardkitRe2' },
);
import { answerParam, answerRegion, resolveAnswerRegion } from './answer.js';

/**
 * ajv's three dialects, loaded on first use (ajv is CommonJS, so a synchronous require works): a spec
 * without a `json` schema never pays its ~40 ms of start-up.
 */
let ajvLoaded: { Ajv: typeof AjvClass; Ajv2019: typeof Ajv2019Class; Ajv2020: typeof Ajv2020Class } | null = null;
function ajvClasses(): NonNullable<typeof ajvLoaded> {
  if (ajvLoaded === null) {
    const require = createRequire(import.meta.url);
    ajvLoaded = {
      Ajv: (require('ajv') as { Ajv: typeof AjvClass }).Ajv,
      Ajv2019: (require('ajv/dist/2019.js') as { Ajv2019: typeof Ajv2019Class }).Ajv2019,
      Ajv2020: (require('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020Class }).Ajv2020,
    };
  }
  return ajvLoaded;
}

const AJV_OPTIONS: Options = {
  allErrors: true,
  // Unknown keywords (a misspelt `requried`) are errors at load: a silently ignored constraint would reward anything.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  // Its strict-mode check runs each patternProperties pattern with JavaScript's backtracking RegExp at load.
  allowMatchingProperties: true,
  validateFormats: false,
  code: { regExp: re2Engine },
  logger: false,
};

/** JSON.stringify replacer writing every object's keys in sorted order (objects already sorted are kept as they are). */
function sortKeys(_key: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
  if (sorted) return v;
  // A null-prototype record: a `__proto__` key is a plain key (integer-like keys still come first, in numeric order, either way).
  const out: Record<string, unknown> = Object.create(null);
  for (const k of keys.sort()) out[k] = (v as Record<string, unknown>)[k];
  return out;
}

/**
 * Canonical text of a JSON value — object keys sorted, numbers as JSON writes them — so that values
 * equal under JSON Schema's equality get equal texts. Native JSON.stringify; a value nested too deeply
 * for it goes through {@link canonicalJsonDeep}.
 */
function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, sortKeys) ?? 'null';
  } catch {
    return canonicalJsonDeep(value);
  }
}

/** {@link canonicalJson} without recursion: a deeply nested completion cannot overflow the stack. */
function canonicalJsonDeep(value: unknown): string {
  let out = '';
  const stack: unknown[] = [value];
  // Markers pushed between parts: a string is written as is.
  const RAW = Symbol('raw');
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'object' && v !== null && (v as { [RAW]?: string })[RAW] !== undefined) {
      out += (v as { [RAW]: string })[RAW];
      continue;
    }
    if (Array.isArray(v)) {
      out += '[';
      stack.push({ [RAW]: ']' });
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]);
        if (i > 0) stack.push({ [RAW]: ',' });
      }
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v).sort();
      out += '{';
      stack.push({ [RAW]: '}' });
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((v as Record<string, unknown>)[keys[i]!]);
        stack.push({ [RAW]: `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:` });
      }
    } else out += JSON.stringify(v) ?? 'null';
  }
  return out;
}

/**
 * `uniqueItems` in linear time. ajv compares the items of an array pairwise (O(n²) deep comparisons:
 * a completion holding an array of 12,000 objects takes it tens of seconds); here each item's
 * canonical text goes into a Map, so the cost is the array's size. Same verdict and message as ajv's.
 */
function linearUniqueItems(schema: boolean, data: unknown[]): boolean {
  if (!schema || data.length < 2) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = canonicalJson(data[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      (linearUniqueItems as { errors?: Partial<ErrorObject>[] }).errors = [
        { keyword: 'uniqueItems', message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`, params: { i, j } },
      ];
      return false;
    }
    seen.set(key, i);
  }
  return true;
}

/** Keywords whose values are data, not subschemas: a `pattern` key inside them is not a pattern. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);

/**
 * Path (from the schema's root, `.properties.code.pattern`) of the first `pattern` keyword or
 * `patternProperties` key equal to `pattern`, or '' when not found.
 */
function patternPath(schema: unknown, pattern: string): string {
  const stack: { node: unknown; path: string }[] = [{ node: schema, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], path: `${path}.${i}` });
      continue;
    }
    const o = node as Record<string, unknown>;
    if (o.pattern === pattern && Object.hasOwn(o, 'pattern')) return `${path}.pattern`;
    const pp = Object.hasOwn(o, 'patternProperties') ? o.patternProperties : undefined;
    if (typeof pp === 'object' && pp !== null && Object.hasOwn(pp, pattern)) return `${path}.patternProperties[${JSON.stringify(pattern)}]`;
    const keys = Object.keys(o);
    for (let i = keys.length - 1; i >= 0; i--) if (!DATA_KEYWORDS.has(keys[i]!)) stack.push({ node: o[keys[i]!], path: `${path}.${keys[i]}` });
  }
  return '';
}

const MAX_ERRORS = 5;
const MAX_MESSAGE = 200;

function cut(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}

function compileSchema(schema: unknown, specDir: string): ValidateFunction {
  let s = schema;
  if (typeof s === 'string') {
    const file = resolve(specDir, s);
    try {
      s = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ParamError('schema', `cannot read the JSON Schema file ${file}: ${(e as Error).message}`);
    }
  }
  if (typeof s !== 'boolean' && (typeof s !== 'object' || s === null || Array.isArray(s)))
    throw new ParamError('schema', 'a JSON Schema must be an object or a boolean.');
  const declared = typeof s === 'object' ? (s as { $schema?: unknown }).$schema : undefined;
  const dialect = typeof declared === 'string' ? declared : '';
  const { Ajv, Ajv2019, Ajv2020 } = ajvClasses();
  const ajv = dialect.includes('2020-12') ? new Ajv2020(AJV_OPTIONS) : dialect.includes('2019-09') ? new Ajv2019(AJV_OPTIONS) : new Ajv(AJV_OPTIONS);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', errors: true, validate: linearUniqueItems });
  try {
    return ajv.compile(s);
  } catch (e) {
    if (e instanceof SchemaPatternError) throw new ParamError(`schema${patternPath(s, e.pattern)}`, `pattern ${JSON.stringify(e.pattern)}: ${e.message}`);
    throw new ParamError('schema', `invalid JSON Schema: ${(e as Error).message}.`);
  }
}

/** The content of the last ``` or ```json fenced block, or null. Fences pair up in order. */
function lastFencedJson(text: string): string | null {
  let found: string | null = null;
  for (let open = text.indexOf('```'); open >= 0; ) {
    const nl = text.indexOf('\n', open + 3);
    if (nl < 0) break;
    const close = text.indexOf('```', nl + 1);
    if (close < 0) break;
    const info = text.slice(open + 3, nl).trim().toLowerCase();
    if (info === '' || info === 'json') found = text.slice(nl + 1, close);
    open = text.indexOf('```', close + 3);
  }
  return found;
}

/**
 * The outermost balanced `{…}` / `[…]` spans of `text`, in order, as [start, end) pairs. One pass;
 * double-quoted strings are skipped once inside a bracket; a mismatched closer discards what is open.
 * Prose is not JSON, so this is a heuristic: a bracket inside a quotation in the prose can hide what follows.
 */
function balancedSpans(text: string): number[] {
  const spans: number[] = [];
  const stack: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) stack.push(i);
    else if (c === 34 && stack.length > 0) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 125 || c === 93) {
      const open = stack.pop();
      if (open === undefined) continue;
      if (text.charCodeAt(open) !== (c === 125 ? 123 : 91)) {
        stack.length = 0;
        continue;
      }
      // Spans that ended earlier and start later lie inside this one.
      while (spans.length > 0 && spans[spans.length - 2]! > open) spans.length -= 2;
      spans.push(open, i + 1);
    }
  }
  return spans;
}

type Parsed = { ok: true; value: unknown; from: 'fenced' | 'object' | 'whole' } | { ok: false; from: 'fenced' | 'whole' | null; error: string };

/** Whether `text` (after leading whitespace) starts like a JSON value, `{"`/`{}` for objects, so prose and LaTeX braces skip the costly failing parse. */
function looksLikeJson(text: string): boolean {
  let i = 0;
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  const c = text.charCodeAt(i);
  if (c === 123 /* { */) {
    let j = i + 1;
    while (j < text.length && isJsonSpace(text.charCodeAt(j))) j++;
    const d = text.charCodeAt(j);
    return d === 34 || d === 125;
  }
  return c === 91 || c === 34 || c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110;
}

function isJsonSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!looksLikeJson(text)) {
    const start = text.trimStart();
    return { ok: false, error: start === "" ? "empty text" : `not JSON: starts with ${JSON.stringify(start.slice(0, 20))}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: cut((e as Error).message) };
  }
}

function parseCompletion(text: string, extract: 'whole' | 'fenced' | 'auto'): Parsed {
  if (extract !== 'whole') {
    const fenced = lastFencedJson(text);
    if (fenced !== null) return { ...tryParse(fenced), from: 'fenced' };
    if (extract === 'fenced') return { ok: false, from: null, error: 'no ``` or ```json fenced block' };
    const spans = balancedSpans(text);
    for (let k = 0; k < spans.length; k += 2) {
      const r = tryParse(text.slice(spans[k], spans[k + 1]));
      if (r.ok) return { ...r, from: 'object' };
    }
  }
  return { ...tryParse(text), from: 'whole' };
}

/** Equality of JSON values: objects by their keys (any order), arrays in order, numbers by value. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  for (const k of keys) if (!Object.hasOwn(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  return true;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  const all = errors ?? [];
  const out = all.slice(0, MAX_ERRORS).map((e) => cut(`${e.instancePath || '/'} ${e.message ?? e.keyword}`));
  if (all.length > MAX_ERRORS) out.push(`… ${all.length - MAX_ERRORS} more`);
  return out;
}

/**
 * `json` — 1 when the completion holds valid JSON, optionally valid against a JSON Schema and equal to
 * the reference, else 0 — the structured-output reward (JSON mode / function-call arguments).
 *
 * The JSON is looked for in the completion's answer region (`answer:`, default `auto`: the last
 * `<answer>…</answer>`, else the text after the reasoning), then `extract` applies inside it:
 * `whole` parses the region as is (surrounding whitespace allowed); `fenced` the last
 * ```json (or plain ```) fenced block; `auto` (default) the last such block (if it does not parse,
 * the score is 0: it is not skipped), else the first balanced
 * `{…}`/`[…]` that parses, else the whole text. `schema` (an object, or a path to a `.json` file
 * relative to the spec) is compiled once with ajv — draft-07 by default, 2019-09 or 2020-12 when its
 * `$schema` says so; unknown keywords are rejected at load, `format` is not checked. Schema patterns
 * (`pattern`, `patternProperties`, `propertyNames: {pattern}`) run on RE2 (re2js): validation is
 * linear in the completion's length whatever the pattern, so `^(a+)+$` cannot stall the grader; a
 * pattern RE2 cannot compile (lookaround, backreferences) is a spec error naming its path.
 * `uniqueItems` is checked in linear time (ajv's own check compares items pairwise). With
 * `match_reference`, the parsed value must deep-equal the reference (object keys in any order; a
 * string reference that is itself JSON text is compared parsed). Null rule: no reference (with
 * `match_reference`) → `null`; a missing region or JSON that does not parse → 0.
 * Details say where the JSON came from and why it failed (ajv's errors, at most five).
 *
 * @example
 * # spec
 * - {name: valid_json, grader: json, schema: {type: object, required: [answer], properties: {answer: {type: integer}}}}
 * # rollout {"completion": "Here:\n```json\n{\"answer\": \"4\"}\n```"} → 0
 * # details {extracted: 'fenced', errors: ['/answer must be integer']}
 */
export const jsonGrader = defineGrader({
  kind: 'json',
  summary: 'The completion holds JSON, optionally valid against a JSON Schema and equal to the reference (1/0).',
  params: {
    extract: z
      .enum(['auto', 'whole', 'fenced'])
      .default('auto')
      .describe('Where the JSON is: `whole` text, last `fenced` ```json block, or `auto` (fenced block, else first balanced {…}/[…], else whole text).'),
    schema: z
      .union([z.record(z.string(), z.unknown()), z.boolean(), z.string().min(1)])
      .optional()
      .describe('JSON Schema the value must satisfy (inline, or a path to a .json file relative to the spec); compiled once at load. Its patterns run on RE2 (no lookaround, no backreferences).'),
    match_reference: z
      .boolean()
      .default(false)
      .describe('Also require the value to deep-equal the rollout reference (null score without a reference).'),
    answer: answerParam,
  },
  create(params, ctx) {
    const region = resolveAnswerRegion(params.answer, ctx.answer);
    const { extract, match_reference: matchReference } = params;
    const validate = params.schema === undefined ? null : compileSchema(params.schema, ctx.specDir);
    return {
      scope: 'rollout',
      grade(s) {
        if (matchReference && s.reference === undefined) return null;
        const a = answerRegion(s.completion, region);
        if ('missing' in a) return { score: 0, details: { extracted: null, region: a.region, reason: `no answer: ${a.reason}` } };
        const where = a.region;
        const parsed = parseCompletion(a.text, extract);
        if (!parsed.ok) return { score: 0, details: { extracted: parsed.from, error: parsed.error, region: where } };
        if (validate !== null && !validate(parsed.value))
          return { score: 0, details: { extracted: parsed.from, errors: formatErrors(validate.errors), region: where } };
        if (matchReference) {
          const ref = s.reference;
          let equal = jsonEqual(parsed.value, ref);
          if (!equal && typeof ref === 'string') {
            const r = tryParse(ref);
            equal = r.ok && jsonEqual(parsed.value, r.value);
          }
          if (!equal) return { score: 0, details: { extracted: parsed.from, equal: false, region: where } };
        }
        return { score: 1, details: { extracted: parsed.from, region: where } };
      },
    };
  },
});
