/**
 * Column checks shared by shapers, estimators and diagnostics. In every column `NaN` means `null`
 * (a rollout without a reward, a component that did not apply); `±Infinity` is never a valid value.
 */

/**
 * A value that is neither a finite number nor null. `index` is the rollout's position in the batch,
 * `field` names the column (`reward`, `component "format"`, `token length` …).
 */
export class InvalidValueError extends Error {
  constructor(
    readonly index: number,
    readonly field: string,
    readonly value: unknown,
    detail = 'must be a finite number or null',
  ) {
    super(`rollout ${index}: ${field} is ${String(value)}; ${detail}`);
    this.name = 'InvalidValueError';
  }
}

/** Throws {@link InvalidValueError} on the first `±Infinity`; `NaN` (null) passes. */
export function assertFiniteOrNull(col: Float64Array, field: string): void {
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === Infinity || v === -Infinity) throw new InvalidValueError(i, field, v);
  }
}

/**
 * Builds a column from plain values: `null`/`undefined` become `NaN`; a `NaN`, `±Infinity` or
 * non-number is rejected with {@link InvalidValueError} naming the rollout index. Use it at the
 * boundary where rewards enter the columnar world, so that `NaN` can only ever mean null.
 */
export function toColumn(values: ArrayLike<unknown>, field: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) out[i] = NaN;
    else if (typeof v === 'number' && Number.isFinite(v)) out[i] = v;
    else throw new InvalidValueError(i, field, v);
  }
  return out;
}

/** Checks that `groupOf` has `n` entries, each an integer in `[0, groupCount)`. */
export function assertGroups(groupOf: Int32Array, groupCount: number, n: number): void {
  if (groupOf.length !== n) throw new RangeError(`groupOf has ${groupOf.length} entries for ${n} rollouts`);
  if (!Number.isInteger(groupCount) || groupCount < 0) throw new RangeError(`groupCount must be a non-negative integer, got ${groupCount}`);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    if (g < 0 || g >= groupCount) throw new InvalidValueError(i, 'group index', g, `must lie in [0, ${groupCount})`);
  }
}

/** Checks a column's length against the batch size. */
export function assertLength(col: ArrayLike<unknown>, n: number, field: string): void {
  if (col.length !== n) throw new RangeError(`${field} has ${col.length} entries for ${n} rollouts`);
}
