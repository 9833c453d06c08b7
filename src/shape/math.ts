/** Scalar functions behind PAR's shapers (PorUna-byte/PAR, `trainers/reward_shaper.py`). */

/** σ(x) = 1 / (1 + e^(−x)), written as in PAR. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log σ(x), without overflow for large |x|. */
export function logSigmoid(x: number): number {
  return x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x));
}

const SQRT2 = Math.SQRT2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erfc(x) for x ≥ 0, to about 1e-16 relative: a positive-term series below 2.5, a continued fraction above. */
function erfcPos(x: number): number {
  const x2 = x * x;
  if (x < 2.5) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))
    let term = x;
    let sum = x;
    for (let k = 1; k < 200; k++) {
      term *= (2 * x2) / (2 * k + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by the modified Lentz method.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x2) / Math.sqrt(Math.PI) / f;
}

/** Standard normal lower tail Φ(x). */
export function normalCdf(x: number): number {
  return x < 0 ? 0.5 * erfcPos(-x / SQRT2) : 1 - 0.5 * erfcPos(x / SQRT2);
}

/**
 * Standard normal quantile Φ⁻¹(p) for 0 < p < 1 (scipy's `norm.ppf`): a rational start
 * (Abramowitz & Stegun 26.2.23), then Halley steps on the smaller tail until the step is below
 * one ulp. Φ⁻¹(0.85) = 1.0364333894937898.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  if (p > 0.5) return -lowerQuantile(1 - p);
  return lowerQuantile(p);
}

/** Φ⁻¹(q) for 0 < q ≤ 0.5, as a non-positive number. */
function lowerQuantile(q: number): number {
  if (q === 0.5) return 0;
  const t = Math.sqrt(-2 * Math.log(q));
  let x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (let k = 0; k < 50; k++) {
    const e = 0.5 * erfcPos(-x / SQRT2) - q;
    const u = e / (INV_SQRT_2PI * Math.exp(-0.5 * x * x));
    const step = u / (1 + 0.5 * x * u);
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/**
 * PAR's `fittedpoly`: the degree-5 least-squares polynomial fit of σ(x) on 100 equally spaced
 * points of [−5, 5], clamped to 0 for x ≤ −5 and 1 for x ≥ 5 (so it jumps at ±5, as in PAR).
 * The fit is solved exactly here (normal equations in t = x/5); PAR's scipy `curve_fit` stops at
 * its tolerance, so its coefficients differ from these by up to ~1e-6 (values by < 1e-6).
 */
export function fittedPolyCoeffs(): Float64Array {
  return (fittedCoeffs ??= fitSigmoidPoly());
}
/** Solved on first use, not when the module loads (every `score` start-up loads this module). */
let fittedCoeffs: Float64Array | undefined;

/** PAR's `fittedpoly`(x): {@link fittedPolyCoeffs} evaluated at x/5, 0 for x ≤ −5, 1 for x ≥ 5. */
export function fittedPoly(x: number): number {
  if (x <= -5) return 0;
  if (x >= 5) return 1;
  const t = x / 5;
  const c = fittedPolyCoeffs();
  return ((((c[5] * t + c[4]) * t + c[3]) * t + c[2]) * t + c[1]) * t + c[0];
}

/** Coefficients c[0..5] of Σ c_k (x/5)^k fitted to σ on linspace(−5, 5, 100). */
function fitSigmoidPoly(): Float64Array {
  const m = 100;
  const deg = 5;
  const size = deg + 1;
  const a = new Float64Array(size * size);
  const b = new Float64Array(size);
  for (let j = 0; j < m; j++) {
    const x = -5 + (10 * j) / (m - 1);
    const t = x / 5;
    const y = sigmoid(x);
    const pw = new Float64Array(size);
    pw[0] = 1;
    for (let k = 1; k < size; k++) pw[k] = pw[k - 1] * t;
    for (let r = 0; r < size; r++) {
      b[r] += pw[r] * y;
      for (let c = 0; c < size; c++) a[r * size + c] += pw[r] * pw[c];
    }
  }
  // Gaussian elimination with partial pivoting on the 6×6 normal equations.
  for (let col = 0; col < size; col++) {
    let piv = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]) > Math.abs(a[piv * size + col])) piv = r;
    if (piv !== col) {
      for (let c = 0; c < size; c++) {
        const tmp = a[col * size + c];
        a[col * size + c] = a[piv * size + c];
        a[piv * size + c] = tmp;
      }
      const tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
    }
    for (let r = col + 1; r < size; r++) {
      const f = a[r * size + col] / a[col * size + col];
      for (let c = col; c < size; c++) a[r * size + c] -= f * a[col * size + c];
      b[r] -= f * b[col];
    }
  }
  const coef = new Float64Array(size);
  for (let r = size - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < size; c++) s -= a[r * size + c] * coef[c];
    coef[r] = s / a[r * size + r];
  }
  return coef;
}
