/**
 * Per-group and per-batch moments over typed arrays, shared by the estimators and the shapers.
 *
 * Sums are taken relative to a pivot — the first value of the group (or column) — in one pass:
 * `shift = Σd/n`, `m2 = Σd² − shift·Σd` with `d = x − pivot`. Since the pivot is one of the values,
 * |d| never exceeds the group's range, so the one-pass formula loses at most a factor ~2n in
 * relative precision (no catastrophic cancellation), large offsets such as 1e9 + 0.3 cost nothing,
 * and a group whose values all tie gets deviations of exactly 0: the "advantage collapse" of a tied
 * GRPO group is an exact 0, not 1e-11 noise from `0.1 + 0.1 + 0.1 ≠ 0.3`.
 */
export interface GroupMoments {
  /** Non-null values per group. */
  count: Float64Array;
  /** First non-null value of each group (0 for empty groups). */
  pivot: Float64Array;
  /** mean − pivot. A value's deviation from the mean is `(x − pivot) − shift`. */
  shift: Float64Array;
  /** Σ (x − mean)² per group. */
  m2: Float64Array;
}

export function allocMoments(groupCount: number): GroupMoments {
  return {
    count: new Float64Array(groupCount),
    pivot: new Float64Array(groupCount),
    shift: new Float64Array(groupCount),
    m2: new Float64Array(groupCount),
  };
}

/**
 * Fills `out` with the moments of the non-null (non-NaN) values of `x` per group. Rows where
 * `skip` is NaN are left out too (pass the reward column to leave out null-reward rollouts).
 * `nullAs` replaces a NaN in `x` by a number instead of leaving the row out.
 */
export function groupMoments(
  x: Float64Array,
  groupOf: Int32Array,
  out: GroupMoments,
  skip?: Float64Array,
  nullAs?: number,
): GroupMoments {
  out.count.fill(0);
  out.pivot.fill(0);
  out.shift.fill(0);
  out.m2.fill(0);
  // One small function per variant: V8 optimises a lone typed-array loop far better than a loop
  // sharing its function with others or nested in an outer loop (measured: 2–3× at 1M rows).
  if (skip === undefined) sumsPlain(x, groupOf, out);
  else if (nullAs === undefined) sumsSkip(x, groupOf, out, skip);
  else sumsFill(x, groupOf, out, skip, nullAs);
  const { count, shift, m2 } = out;
  for (let g = 0; g < count.length; g++) {
    const c = count[g];
    if (c === 0) continue;
    const s = shift[g];
    const h = s / c;
    shift[g] = h;
    const q = m2[g] - s * h;
    m2[g] = q > 0 ? q : 0;
  }
  return out;
}

function sumsPlain(x: Float64Array, groupOf: Int32Array, out: GroupMoments): void {
  const { count, pivot, shift, m2 } = out;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    const g = groupOf[i];
    if (count[g] === 0) pivot[g] = v;
    const d = v - pivot[g];
    count[g]++;
    shift[g] += d;
    m2[g] += d * d;
  }
}

function sumsSkip(x: Float64Array, groupOf: Int32Array, out: GroupMoments, skip: Float64Array): void {
  const { count, pivot, shift, m2 } = out;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v || skip[i] !== skip[i]) continue;
    const g = groupOf[i];
    if (count[g] === 0) pivot[g] = v;
    const d = v - pivot[g];
    count[g]++;
    shift[g] += d;
    m2[g] += d * d;
  }
}

function sumsFill(x: Float64Array, groupOf: Int32Array, out: GroupMoments, skip: Float64Array, nullAs: number): void {
  const { count, pivot, shift, m2 } = out;
  const fill = toDouble(nullAs);
  for (let i = 0; i < x.length; i++) {
    if (skip[i] !== skip[i]) continue;
    const x0 = x[i];
    // A select, not `if (v !== v) v = fill`: V8 compiles the reassignment into a slow loop.
    const v = x0 === x0 ? x0 : fill;
    const g = groupOf[i];
    if (count[g] === 0) pivot[g] = v;
    const d = v - pivot[g];
    count[g]++;
    shift[g] += d;
    m2[g] += d * d;
  }
}

const DOUBLE = new Float64Array(1);

/**
 * `v` read back from a Float64Array: a number V8 treats as a double. A small-integer constant
 * (such as 0) mixed into a double loop variable can make V8 box every value of the loop.
 */
export function toDouble(v: number): number {
  DOUBLE[0] = v;
  return DOUBLE[0];
}

/** Count, Σ weights, mean and Σ w·(x − mean)² of the non-null values of a column. */
export interface Moments {
  count: number;
  /** Σ weights (= count when unweighted). */
  weight: number;
  mean: number;
  m2: number;
}

/**
 * Moments of the non-null values of `x` (rows where `skip` is NaN left out), optionally weighted.
 * `mean` is `pivot + shift`, so a column whose values all tie has a mean equal to each of them.
 */
export function moments(x: Float64Array, weights?: Float64Array, skip?: Float64Array): Moments {
  let count = 0;
  let weight = 0;
  let s = 0;
  let q = 0;
  let pivot = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v || (skip !== undefined && skip[i] !== skip[i])) continue;
    if (count === 0) pivot = v;
    const w = weights === undefined ? 1 : weights[i];
    const d = v - pivot;
    count++;
    weight += w;
    s += w * d;
    q += w * d * d;
  }
  if (count === 0) return { count: 0, weight: 0, mean: NaN, m2: 0 };
  const h = weight > 0 ? s / weight : 0;
  const m2 = q - s * h;
  return { count, weight, mean: pivot + h, m2: m2 > 0 ? m2 : 0 };
}
