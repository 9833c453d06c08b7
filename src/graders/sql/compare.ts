/**
 * Equality of query results, as Spider's test-suite evaluation decides it (taoyds/test-suite-sql-eval
 * `exec_eval.result_eq`): bag semantics (rows compared as a multiset), row order compared only when
 * the gold query orders its result, and columns allowed in any order.
 */

/** A query result: rows of SQLite values (numbers, bigints, strings, null, byte arrays). */
export interface ResultTable {
  columns: number;
  rows: unknown[][];
}

/** How results are compared. */
export interface CompareOptions {
  /** Compare the row sequence (the gold has ORDER BY) instead of the row multiset. */
  ordered: boolean;
  /** `permuted`: any column order (Spider test suite); `ordered`: columns in the gold's order. */
  columns: 'permuted' | 'ordered';
  /** `multiset`: duplicates count (Spider); `set`: rows as a set, order ignored (BIRD, Reasoning-SQL). */
  rows: 'multiset' | 'set';
}

/** Cap on the column permutations tried; beyond it the results count as different. */
const MAX_PERMUTATIONS = 5000;

/**
 * A canonical key of one SQLite value: numbers compare by value whether SQLite stored them as
 * INTEGER or REAL (`1 == 1.0`, as in Python), text and blobs by content.
 */
export function cellKey(v: unknown): string {
  if (v === null || v === undefined) return 'N';
  if (typeof v === 'bigint') return `I${v}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `I${BigInt(v)}` : `R${v}`;
  if (typeof v === 'string') return `S${v}`;
  if (v instanceof Uint8Array) return `B${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return `O${String(v)}`;
}

function rowKeys(t: ResultTable, perm: readonly number[] | null): string[] {
  return t.rows.map((r) => JSON.stringify(perm ? perm.map((i) => cellKey(r[i])) : r.map(cellKey)));
}

function sameRows(a: string[], b: string[], opts: CompareOptions): boolean {
  if (opts.rows === 'set') {
    const sa = new Set(a);
    const sb = new Set(b);
    return sa.size === sb.size && [...sa].every((k) => sb.has(k));
  }
  if (opts.ordered) return a.every((k, i) => k === b[i]);
  const counts = new Map<string, number>();
  for (const k of a) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const k of b) {
    const c = counts.get(k);
    if (!c) return false;
    counts.set(k, c - 1);
  }
  return true;
}

/** Per-column signature: the column's values as a sorted multiset (or, ordered, as a sequence). */
function columnSignatures(t: ResultTable, opts: CompareOptions): string[] {
  const sigs: string[] = [];
  for (let c = 0; c < t.columns; c++) {
    let vals = t.rows.map((r) => cellKey(r[c]));
    if (opts.rows === 'set') vals = [...new Set(vals)].sort();
    else if (!opts.ordered) vals.sort();
    sigs.push(JSON.stringify(vals));
  }
  return sigs;
}

/**
 * True when `pred` gives the same result as `gold` under `opts`. Two empty results are equal
 * (whatever their columns, as in Spider); otherwise the column counts must match.
 *
 * @example
 * resultsMatch({columns: 2, rows: [[1, 'a'], [2, 'b']]}, {columns: 2, rows: [['b', 2], ['a', 1.0]]},
 *   {ordered: false, columns: 'permuted', rows: 'multiset'}) // → true
 */
export function resultsMatch(gold: ResultTable, pred: ResultTable, opts: CompareOptions): boolean {
  if (gold.rows.length === 0 && pred.rows.length === 0) return true;
  if (opts.rows === 'multiset' && gold.rows.length !== pred.rows.length) return false;
  if (gold.columns !== pred.columns) return false;
  const goldKeys = rowKeys(gold, null);
  if (sameRows(goldKeys, rowKeys(pred, null), opts)) return true;
  if (opts.columns === 'ordered' || gold.columns < 2) return false;
  // A column permutation can only map a gold column to a predicted column with the same values.
  const gs = columnSignatures(gold, opts);
  const ps = columnSignatures(pred, opts);
  const candidates = gs.map((g) => ps.flatMap((p, j) => (p === g ? [j] : [])));
  if (candidates.some((c) => c.length === 0)) return false;
  const perm: number[] = [];
  const used = new Set<number>();
  let tried = 0;
  const search = (c: number): boolean => {
    if (c === gold.columns) {
      tried++;
      return sameRows(goldKeys, rowKeys(pred, perm), opts);
    }
    for (const j of candidates[c]!) {
      if (used.has(j) || tried >= MAX_PERMUTATIONS) continue;
      used.add(j);
      perm.push(j);
      if (search(c + 1)) return true;
      perm.pop();
      used.delete(j);
    }
    return false;
  };
  return search(0);
}
