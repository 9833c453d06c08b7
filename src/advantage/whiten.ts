/**
 * verl's `masked_whiten` reduced to one value per rollout: `(x − μ)/√(var + eps)` with μ and the
 * Bessel-corrected variance taken over the non-null entries, each weighted by its token count when
 * `tokenLengths` is given (verl whitens over tokens, so a rollout of L tokens counts L times), else
 * once. Writes into `out` (which may be `x`). With a total weight ≤ 1 the variance is undefined
 * (verl raises); every advantage is then 0.
 */
export function whiten(x: Float64Array, out: Float64Array, eps: number, tokenLengths?: Float64Array): Float64Array {
  const n = x.length;
  let w = 0;
  let sum = 0;
  let pivot = NaN;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) continue;
    if (pivot !== pivot) pivot = v;
    const wi = tokenLengths === undefined ? 1 : tokenLengths[i];
    w += wi;
    sum += wi * (v - pivot);
  }
  if (!(w > 1)) {
    for (let i = 0; i < n; i++) out[i] = x[i] === x[i] ? 0 : NaN;
    return out;
  }
  const shift = sum / w;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) continue;
    const d = v - pivot - shift;
    m2 += (tokenLengths === undefined ? 1 : tokenLengths[i]) * d * d;
  }
  const scale = 1 / (Math.sqrt(m2 / (w - 1) + eps) || 1);
  for (let i = 0; i < n; i++) out[i] = (x[i] - pivot - shift) * scale;
  return out;
}
