import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { buildGrader, gradeAll } from '../harness.js';
import { checkCall, checkCalls, standardize } from './bfcl.js';
import { toolCallGrader } from './index.js';
import { parsePyJson, pyEqual, type PyValue } from './json.js';
import { parseReference, type Call, type FunctionDoc, type RefCall } from './parse.js';

const doc: FunctionDoc = {
  name: 'calc.area',
  properties: {
    base: { type: 'integer' },
    height: { type: 'float' },
    unit: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    opts: { type: 'dict' },
  },
  required: ['base', 'height'],
};
const ref = (gt: unknown): RefCall => parseReference([gt], {}, { id: 'r', completion: '' })!.calls[0]!;
const gt = ref({ 'calc.area': { base: [10], height: [5.0, 6], unit: ['units', ''], tags: [['a b', 'c'], ''], opts: [{ mode: ['fast', ''], n: [1] }, ''] } });
const call = (json: string): Call => {
  const v = parsePyJson(json) as { name: string; arguments: Record<string, PyValue> };
  return { name: v.name, args: v.arguments };
};
const ok = (json: string) => checkCall(doc, call(json), gt);

describe('BFCL checkCall', () => {
  it('accepts the ground truth and its allowed variants', () => {
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5}}')).toEqual({ valid: true });
    expect(ok('{"name": "calc_area", "arguments": {"base": 10, "height": 6.0, "unit": "Units"}}').valid).toBe(true);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "tags": ["A-B", "c"]}}').valid).toBe(true);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "opts": {"n": 1}}}').valid).toBe(true);
  });

  it('rejects a wrong name, a missing or unexpected parameter, a wrong value', () => {
    expect(ok('{"name": "calc.volume", "arguments": {"base": 10, "height": 5}}').error).toMatch(/function name/);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10}}').error).toMatch(/missing required/);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "color": "red"}}').error).toMatch(/unexpected parameter/);
    expect(ok('{"name": "calc.area", "arguments": {"base": 11, "height": 5}}').error).toMatch(/not one of/);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "unit": "cm"}}').error).toMatch(/case-insensitive/);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "tags": ["c", "a b"]}}').valid).toBe(false);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "opts": {"n": 2}}}').valid).toBe(false);
    expect(ok('{"name": "calc.area", "arguments": {"base": 10, "height": 5, "opts": {"n": 1, "x": 1}}}').error).toMatch(/unexpected dict key/);
  });

  it("applies Python's types: int passes for float, a float literal fails for integer, bool is not int", () => {
    expect(ok('{"name": "calc.area", "arguments": {"base": 10.0, "height": 5}}').error).toMatch(/expected type int, got float/);
    expect(ok('{"name": "calc.area", "arguments": {"base": true, "height": 5}}').valid).toBe(false);
    expect(ok('{"name": "calc.area", "arguments": {"base": "10", "height": 5}}').valid).toBe(false);
  });

  it('accepts a value of the ground truth’s own type as a variable', () => {
    const g = ref({ f: { n: ['count_var'] } });
    const d: FunctionDoc = { name: 'f', properties: { n: { type: 'integer' } }, required: ['n'] };
    expect(checkCall(d, { name: 'f', args: { n: 'count_var' } }, g).valid).toBe(true);
    expect(checkCall(d, { name: 'f', args: { n: 'Count_Var' } }, g).valid).toBe(false); // variables are not standardised
  });

  it('checks from the ground truth alone when no description is given', () => {
    expect(checkCall(null, call('{"name": "calc.area", "arguments": {"base": 10.0, "height": 5, "unit": "UNITS"}}'), gt).valid).toBe(true);
    expect(checkCall(null, call('{"name": "calc.area", "arguments": {"base": "10", "height": 5}}'), gt).valid).toBe(false);
    expect(checkCall(null, call('{"name": "calc.area", "arguments": {"height": 5}}'), gt).error).toMatch(/not optional/);
  });

  it('standardises strings as BFCL does', () => {
    expect(standardize("April 1, 2024 - O'Neil")).toBe('april12024o"neil');
  });
});

describe('BFCL checkCalls', () => {
  const a = ref({ f: { x: [1, 2] } });
  const b = ref({ f: { x: [1] } });
  it('pairs parallel calls in any order, and finds a pairing greedy order would miss', () => {
    const c1: Call = { name: 'f', args: { x: 1 } };
    const c2: Call = { name: 'f', args: { x: 2 } };
    expect(checkCalls(null, [c2, c1], [b, a]).valid).toBe(true);
    // BFCL would give c1 to `a` first and then find nothing for `b`.
    expect(checkCalls(null, [c1, c2], [a, b]).valid).toBe(true);
    expect(checkCalls(null, [c1, c1], [a, b]).valid).toBe(true);
    expect(checkCalls(null, [c2, c2], [a, b]).valid).toBe(false);
  });
  it('requires the exact number of calls; no call expected means none made', () => {
    expect(checkCalls(null, [{ name: 'f', args: { x: 1 } }], [a, b]).error).toMatch(/wrong number/);
    expect(checkCalls(null, [], []).valid).toBe(true);
    expect(checkCalls(null, [{ name: 'f', args: {} }], []).valid).toBe(false);
  });
});

// Data: Berkeley Function Calling Leaderboard v4 AST categories (ShishirPatil/gorilla @ 6ea5797,
// Apache-2.0), joined by id in ../shared/data/tool_calls/bfcl_ast_joined.jsonl.
const file = sharedData('tool_calls/bfcl_ast_joined.jsonl');

interface Row {
  id: string;
  category: string;
  function: { name: string; parameters: { properties: Record<string, unknown>; required: string[] } }[];
  ground_truth: Record<string, Record<string, unknown[]>>[];
}

const isObj = (v: unknown): v is Record<string, unknown[]> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A concrete value from acceptable values: nested dicts hold acceptable values per key too. */
const concrete = (v: unknown): unknown =>
  isObj(v)
    ? Object.fromEntries(Object.entries(v).flatMap(([k, vs]) => (vs.find((x) => x !== '') === undefined ? [] : [[k, concrete(vs.find((x) => x !== ''))]])))
    : Array.isArray(v) && v.some(isObj)
      ? v.map(concrete)
      : v;

/** The call BFCL's ground truth describes: first acceptable value of each parameter; optional ones left out, or given when described. */
function goldCalls(row: Row, withOptional: boolean) {
  return row.ground_truth.map((c) => {
    const [name, params] = Object.entries(c)[0]!;
    const { properties, required } = row.function.find((f) => f.name === name)!.parameters;
    const args: Record<string, unknown> = {};
    for (const [k, values] of Object.entries(params)) {
      const first = values.find((v) => v !== '');
      if (first === undefined) continue;
      // A few ground truths mark a described-as-required parameter as omittable; BFCL checks `required` first.
      if (values.includes('') && !required.includes(k) && !(withOptional && k in properties)) continue;
      args[k] = concrete(first);
    }
    return { name, arguments: args };
  });
}
const asText = (calls: { name: string; arguments: unknown }[]) => calls.map((c) => `<tool_call>\n${JSON.stringify(c)}\n</tool_call>`).join('\n');
/** Ground truths no call can satisfy: a required parameter with an empty list of acceptable values. */
const unsatisfiable = (row: Row) => row.ground_truth.some((c) => Object.values(Object.values(c)[0]!).some((vs) => vs.length === 0));

describe.skipIf(file === null)('bfcl_ast on BFCL v4 (bfcl_ast_joined.jsonl)', () => {
  const rows: Row[] = file === null ? [] : readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const g = buildGrader(toolCallGrader, { mode: 'bfcl_ast' });
  const score = async (items: { completion: string; row: Row }[]) =>
    (await gradeAll(g, items.map(({ completion, row }) => ({ completion, reference: { ground_truth: row.ground_truth, function: row.function } })))).map((o) => o.score);

  it('scores 1 on the call built from every satisfiable ground truth, and no call on irrelevance rows', async () => {
    expect(rows).toHaveLength(1538);
    const blocked = rows.filter(unsatisfiable).map((r) => r.id);
    // Two live_simple rows require parameters whose acceptable-value lists are empty: BFCL rejects every answer.
    expect(blocked).toEqual(['live_simple_106-63-0', 'live_simple_112-68-0']);
    for (const withOptional of [false, true]) {
      const items = rows.map((row) => ({ row, completion: row.ground_truth.length === 0 ? 'None of the functions apply.' : asText(goldCalls(row, withOptional)) }));
      const scores = await score(items);
      const failed = rows.filter((r, i) => scores[i] !== 1).map((r) => r.id);
      expect(failed).toEqual(blocked);
    }
  });

  it('accepts OpenAI tool_calls messages and shuffled parallel calls', async () => {
    const parallel = rows.filter((r) => r.ground_truth.length > 1 && !unsatisfiable(r));
    expect(parallel.length).toBeGreaterThan(300);
    const out = await gradeAll(
      g,
      parallel.map((row) => ({
        completion: [{ role: 'assistant', content: null, tool_calls: goldCalls(row, false).reverse().map((c, i) => ({ id: `c${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })) }],
        reference: row.ground_truth,
        meta: { functions: row.function },
      })),
    );
    expect(out.filter((o) => o.score !== 1)).toEqual([]);
  });

  it('scores 0 on perturbed calls: wrong name, missing required argument, wrong value', async () => {
    const callRows = rows.filter((r) => r.ground_truth.length > 0 && !unsatisfiable(r));
    const wrongName: { completion: string; row: Row }[] = [];
    const missing: typeof wrongName = [];
    const wrongValue: typeof wrongName = [];
    for (const row of callRows) {
      const calls = goldCalls(row, false);
      const i = row.id.length % calls.length;
      const target = calls[i]!;
      const withCall = (c: { name: string; arguments: Record<string, unknown> }) => asText(calls.map((x, j) => (j === i ? c : x)));
      wrongName.push({ row, completion: withCall({ ...target, name: `${target.name}_v2` }) });
      const required = row.function.find((f) => f.name === target.name)!.parameters.required.filter((p) => p in target.arguments);
      if (required.length > 0) {
        const { [required[0]!]: _, ...rest } = target.arguments;
        missing.push({ row, completion: withCall({ ...target, arguments: rest }) });
      }
      const key = Object.keys(target.arguments)[0];
      if (key !== undefined) {
        const v = target.arguments[key];
        const changed =
          typeof v === 'string' ? `${v} zzwrong` : typeof v === 'number' ? v + 1000 : typeof v === 'boolean' ? !v : Array.isArray(v) ? [...v, v[0] ?? 'zzwrong'] : { ...(v as object), zzwrong: 1 };
        const acceptable = Object.values(row.ground_truth[i]!)[0]![key]!;
        if (!acceptable.some((a) => pyEqual(a, changed))) wrongValue.push({ row, completion: withCall({ ...target, arguments: { ...target.arguments, [key]: changed } }) });
      }
    }
    for (const set of [wrongName, missing, wrongValue]) {
      expect(set.length).toBeGreaterThan(900);
      const scores = await score(set);
      expect(scores.filter((s) => s !== 0)).toEqual([]);
    }
  });

  it('scores 0 when a call is made on an irrelevance row', async () => {
    const irrelevant = rows.filter((r) => r.ground_truth.length === 0);
    expect(irrelevant).toHaveLength(240);
    const scores = await score(irrelevant.map((row) => ({ row, completion: asText([{ name: row.function[0]!.name, arguments: {} }]) })));
    expect(scores.every((s) => s === 0)).toBe(true);
  });
});
