import { maxAssignment } from './assign.js';
import { sameFunctionName } from './bfcl.js';
import { PyFloat } from './json.js';
import type { Call, RefCall } from './parse.js';

const num = (v: unknown): number | null => (typeof v === 'number' ? v : v instanceof PyFloat ? v.value : null);

/** JSON equality with numbers compared by value (`5 == 5.0`); booleans are not numbers here. */
export function valueEqual(a: unknown, b: unknown): boolean {
  const na = num(a);
  const nb = num(b);
  if (na !== null || nb !== null) return na !== null && nb !== null && na === nb;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => valueEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && valueEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Credit of one predicted call for one expected call, with its parts. */
export interface PairCredit {
  score: number;
  name: number;
  keys: number;
  values: number;
}

/**
 * Credit of `call` for `expected`, in [0, 1]: 0 for another function; else the mean of three parts —
 * 1 for the name, the Jaccard index of the argument names, and the share of expected arguments whose
 * value is one of the acceptable values. Arguments that may be omitted (BFCL `""`) are expected only
 * when the call gives them. No expected arguments: the value part is 1.
 */
export function pairCredit(call: Call, expected: RefCall): PairCredit {
  if (!sameFunctionName(call.name, expected.name)) return { score: 0, name: 0, keys: 0, values: 0 };
  const given = new Set(Object.keys(call.args));
  const keys = [...expected.params].filter(([k, p]) => !p.optional || given.has(k));
  let inter = 0;
  for (const [k] of keys) if (given.has(k)) inter++;
  const union = keys.length + given.size - inter;
  const keyScore = union === 0 ? 1 : inter / union;
  const right = keys.filter(([k, p]) => given.has(k) && p.values.some((v) => !(p.optional && v === '') && valueEqual(call.args[k], v))).length;
  const valueScore = keys.length === 0 ? 1 : right / keys.length;
  return { score: (1 + keyScore + valueScore) / 3, name: 1, keys: keyScore, values: valueScore };
}

/** Result of {@link partialCredit}. */
export interface PartialResult {
  score: number;
  pairs: { expected: string; predicted: string | null; credit: PairCredit | null }[];
}

/**
 * Fractional credit for a whole answer: expected and predicted calls are paired one-to-one (in any
 * order) to maximise the summed {@link pairCredit}, and the sum is divided by the larger of the two
 * counts, so missing and extra calls both cost. `unreadable` counts predicted calls that could not be
 * parsed (each is an extra call with no credit). No call expected: 1 when none was made, else 0.
 */
export function partialCredit(calls: readonly Call[], expected: readonly RefCall[], unreadable = 0): PartialResult {
  const made = calls.length + unreadable;
  if (expected.length === 0) return { score: made === 0 ? 1 : 0, pairs: [] };
  const credits = expected.map((e) => calls.map((c) => pairCredit(c, e)));
  const { columnOf, total } = maxAssignment(credits.map((row) => row.map((c) => c.score)));
  const pairs = expected.map((e, i) => {
    const j = columnOf[i]!;
    const credit = j >= 0 ? credits[i]![j]! : null;
    return { expected: e.name, predicted: j >= 0 && credit!.score > 0 ? calls[j]!.name : null, credit: credit && credit.score > 0 ? credit : null };
  });
  return { score: total / Math.max(expected.length, made), pairs };
}
