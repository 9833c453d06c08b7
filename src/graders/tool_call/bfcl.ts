/**
 * The Berkeley Function Calling Leaderboard's AST acceptance rule (ShishirPatil/gorilla,
 * `bfcl_eval/eval_checker/ast_eval/ast_checker.py`, Python categories), re-implemented:
 * - the call count must equal the expected count; calls pair with expected calls in any order;
 * - per call: the name matches (BFCL also accepts `.` written as `_`, as it does for APIs that forbid
 *   dots), every required parameter is present, no parameter outside the description and the ground
 *   truth, each value has the described type (an int passes where a float is described; a value of the
 *   ground truth's own type passes as a "variable"), and each value is acceptable: strings after BFCL's
 *   standardisation (case, spaces and `,./-_*^` ignored), lists element-wise with strings standardised,
 *   dicts and lists of dicts key by key, anything else by Python equality;
 * - a parameter missing from the call must have `""` among its acceptable values.
 * Without a function description the type and required-parameter checks use the ground truth alone.
 */
import { maxAssignment } from './assign.js';
import { PyFloat, pyEqual, pyType, type PyType } from './json.js';
import type { Call, FunctionDoc, RefCall, RefParam } from './parse.js';

type Expected = Exclude<PyType, 'NoneType'>;

const TYPE_MAP: Record<string, Expected> = {
  string: 'str',
  integer: 'int',
  float: 'float',
  number: 'float',
  boolean: 'bool',
  array: 'list',
  tuple: 'list',
  dict: 'dict',
  object: 'dict',
  any: 'str',
};

/** Outcome of checking one call against one expected call. */
export interface CheckResult {
  valid: boolean;
  error?: string;
}

const OK: CheckResult = { valid: true };
const bad = (error: string): CheckResult => ({ valid: false, error });

/** BFCL's string standardisation: drop spaces and `,./-_*^`, lower-case, `'` → `"`. */
export function standardize(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, '').toLowerCase().replace(/'/g, '"');
}

const std = (v: unknown) => (typeof v === 'string' ? standardize(v) : v);
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
const show = (v: unknown) => JSON.stringify(v);

function answerType(possible: readonly unknown[]): PyType | null {
  for (const a of possible) if (a !== '') return pyType(a) as PyType;
  return null;
}

interface TypeResult {
  valid: boolean;
  isVariable: boolean;
  error?: string;
}

function typeCheck(param: string, value: unknown, possible: readonly unknown[], expected: Expected, nested: Expected | undefined): TypeResult {
  const aType = answerType(possible);
  const isVariable = aType !== null && aType !== expected;
  const vType = pyType(value);
  if (vType === expected) {
    if (nested === undefined) return { valid: true, isVariable };
    for (const item of possible) {
      let ok = true;
      if (Array.isArray(item)) {
        for (const el of value as unknown[]) {
          if (!typeCheck(param, el, item, nested, undefined).valid) {
            ok = false;
            break;
          }
        }
      }
      if (ok) return { valid: true, isVariable };
    }
  }
  // Not the described type: still fine when it has the ground truth's type (a variable name).
  if (aType !== null && vType === aType) return { valid: true, isVariable: true };
  return { valid: false, isVariable: false, error: `parameter ${show(param)}: expected type ${expected}, got ${vType}` };
}

function stringCheck(param: string, value: string, possible: readonly unknown[]): CheckResult {
  const s = standardize(value);
  if (possible.some((p) => typeof p === 'string' && standardize(p) === s)) return OK;
  return bad(`parameter ${show(param)}: ${show(value)} is not one of ${show(possible)} (case-insensitive)`);
}

function listCheck(param: string, value: unknown[], possible: readonly unknown[]): CheckResult {
  const v = value.map(std);
  for (const p of possible) {
    const cand = Array.isArray(p) ? p.map(std) : p === '' ? [] : null;
    if (cand !== null && pyEqual(v, cand)) return OK;
  }
  return bad(`parameter ${show(param)}: ${show(value)} is not one of ${show(possible)}`);
}

function dictCheck(param: string, value: Record<string, unknown>, possible: readonly unknown[]): CheckResult {
  let result = bad(`parameter ${show(param)}: no acceptable dict`);
  for (const p of possible) {
    if (p === '' || !isObj(p)) continue;
    result = OK;
    for (const [k, v] of Object.entries(value)) {
      if (!Object.hasOwn(p, k)) {
        result = bad(`parameter ${show(param)}: unexpected dict key ${show(k)}`);
        break;
      }
      const acceptable = Array.isArray(p[k]) ? (p[k] as unknown[]) : [];
      const sv = std(v);
      if (!acceptable.some((a) => pyEqual(sv, std(a)))) {
        result = bad(`parameter ${show(param)}: dict value ${show(k)}=${show(v)} is not one of ${show(acceptable)}`);
        break;
      }
    }
    if (result.valid) {
      for (const [k, acc] of Object.entries(p)) {
        if (!Object.hasOwn(value, k) && !(Array.isArray(acc) && acc.includes(''))) {
          result = bad(`parameter ${show(param)}: missing dict key ${show(k)}`);
          break;
        }
      }
    }
    if (result.valid) return OK;
  }
  return result;
}

function listDictCheck(param: string, value: unknown[], possible: readonly unknown[]): CheckResult {
  let result = bad(`parameter ${show(param)}: no acceptable list of dicts`);
  for (const p of possible) {
    const cand = Array.isArray(p) ? p : p === '' ? [] : null;
    if (cand === null) continue;
    if (cand.length !== value.length) {
      result = bad(`parameter ${show(param)}: wrong number of dicts`);
      continue;
    }
    let ok = true;
    for (let i = 0; i < value.length; i++) {
      const el = value[i];
      result = isObj(el) ? dictCheck(param, el, [cand[i]]) : bad(`parameter ${show(param)}: item ${i} is not a dict`);
      if (!result.valid) {
        ok = false;
        break;
      }
    }
    if (ok) return OK;
  }
  return result;
}

function valueCheck(param: string, value: unknown, possible: readonly unknown[], expected: Expected | undefined, nested: Expected | undefined, isVariable: boolean): CheckResult {
  if (!isVariable && expected !== undefined) {
    if (expected === 'dict') return isObj(value) ? dictCheck(param, value, possible) : bad(`parameter ${show(param)}: not a dict`);
    if (expected === 'list' && nested === 'dict') return listDictCheck(param, value as unknown[], possible);
    if (expected === 'str') return stringCheck(param, value as string, possible);
    if (expected === 'list') return listCheck(param, value as unknown[], possible);
  }
  if (possible.some((p) => pyEqual(value, p))) return OK;
  return bad(`parameter ${show(param)}: ${show(value)} is not one of ${show(possible)}`);
}

/** What to check a value against when no description gives its type: the ground truth's own type. */
function inferredCheck(param: string, value: unknown, possible: readonly unknown[]): CheckResult {
  const aType = answerType(possible);
  const vType = pyType(value);
  const numeric = (t: unknown) => t === 'int' || t === 'float';
  if (aType !== null && aType !== vType && !(numeric(aType) && numeric(vType)))
    return bad(`parameter ${show(param)}: expected type ${aType} (from the ground truth), got ${vType}`);
  if (aType === 'list') {
    const first = possible.find((p) => Array.isArray(p) && p.length > 0) as unknown[] | undefined;
    return valueCheck(param, value, possible, 'list', first && isObj(first[0]) ? 'dict' : undefined, false);
  }
  if (aType === 'str' || aType === 'dict') return valueCheck(param, value, possible, aType, undefined, false);
  return valueCheck(param, value, possible, undefined, undefined, true);
}

/** True when a predicted name stands for the expected one (BFCL writes `a.b` as `a_b` for some APIs). */
export function sameFunctionName(predicted: string, expected: string): boolean {
  return predicted === expected || (expected.includes('.') && predicted === expected.replace(/\./g, '_'));
}

/** BFCL's check of one call against one expected call (`simple_function_checker`). */
export function checkCall(doc: FunctionDoc | null, call: Call, expected: RefCall): CheckResult {
  if (!sameFunctionName(call.name, expected.name)) return bad(`function name ${show(expected.name)} not found (got ${show(call.name)})`);
  const args = call.args;
  for (const r of doc?.required ?? []) if (!Object.hasOwn(args, r)) return bad(`missing required parameter ${show(r)}`);
  for (const [param, raw] of Object.entries(args)) {
    const ref: RefParam | undefined = expected.params.get(param);
    if ((doc && !Object.hasOwn(doc.properties, param)) || ref === undefined) return bad(`unexpected parameter ${show(param)}`);
    const possible = ref.values;
    const described = doc?.properties[param]?.type;
    const expectedType = described === undefined ? undefined : TYPE_MAP[described];
    if (expectedType === undefined) {
      const r = inferredCheck(param, raw, possible);
      if (!r.valid) return r;
      continue;
    }
    const itemType = doc?.properties[param]?.items?.type;
    const nested = described === 'array' || described === 'tuple' ? (itemType === undefined ? undefined : TYPE_MAP[itemType]) : undefined;
    let value: unknown = raw;
    if (expectedType === 'float' && pyType(value) === 'int') value = new PyFloat(Number(value));
    const t = typeCheck(param, value, possible, expectedType, nested);
    if (!t.valid) return bad(t.error!);
    const r = valueCheck(param, value, possible, expectedType, nested, t.isVariable);
    if (!r.valid) return r;
  }
  for (const [param, ref] of expected.params) {
    if (!Object.hasOwn(args, param) && !ref.optional) return bad(`parameter ${show(param)} not provided and not optional`);
  }
  return OK;
}

/**
 * BFCL's verdict on a whole answer: the number of calls must match, and the calls must pair one-to-one
 * with the expected calls so that every pair passes {@link checkCall}. BFCL pairs greedily in the
 * order of the ground truth; this finds a pairing whenever one exists, so it never rejects an answer
 * only because an earlier expected call took a prediction a later one needed. No expected calls: valid
 * iff no calls were made.
 */
export function checkCalls(docs: FunctionDoc[] | null, calls: readonly Call[], expected: readonly RefCall[]): CheckResult {
  if (expected.length === 0) return calls.length === 0 ? OK : bad(`no call was expected, got ${calls.length}`);
  if (calls.length !== expected.length) return bad(`wrong number of calls: expected ${expected.length}, got ${calls.length}`);
  const errors: string[] = [];
  const matrix = expected.map((e) => {
    const doc = docs?.find((d) => d.name === e.name) ?? null;
    return calls.map((c) => {
      const r = checkCall(doc, c, e);
      if (!r.valid && sameFunctionName(c.name, e.name)) errors.push(`${e.name}: ${r.error}`);
      return r.valid ? 1 : 0;
    });
  });
  const { total } = maxAssignment(matrix);
  if (total === expected.length) return OK;
  return bad(errors[0] ?? 'no call matches the expected function names');
}
