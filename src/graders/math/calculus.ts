/**
 * Numeric calculus for the `math` grader: definite integrals by adaptive Gauss–Kronrod quadrature
 * (7/15 points, infinite bounds by a change of variable) and limits by Richardson extrapolation of
 * f(a ± h) (or f(±1/h) at ±∞) to h → 0. Each returns a value whose estimated error is far below the
 * grader's comparison tolerance (relative 1e-9), or NaN ("cannot evaluate": divergent, oscillating,
 * not converged within the step cap) — never a guess. Work is bounded by a cap on subintervals and
 * steps, and the caller's deadline is checked by every evaluation of the integrand.
 */
import type { Cx } from './evaluate.js';

/** Kronrod nodes on [−1, 1] (positive half, descending; the last is the centre). */
const XK = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
/** Kronrod weights for {@link XK}. */
const WK = [
  0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
/** Gauss weights for the 7-point rule, whose nodes are XK[1], XK[3], XK[5] and the centre. */
const WG = [0.129484966168869693270611432679082, 0.279705391489276667901467771423780, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327];

/** Subintervals an integral may be split into (15 integrand evaluations each). */
export const MAX_INTERVALS = 400;
/** Target error of an integral, relative to ∫|f| (the scale of its rounding noise). */
const QUAD_TOL = 1e-12;
/** Error accepted when the target is not reached within {@link MAX_INTERVALS}. */
const QUAD_ACCEPT = 1e-10;

/** A numeric result: the value (NaN parts when it cannot be evaluated) and the magnitude of its noise. */
export interface Numeric {
  value: Cx;
  /** ∫|f| for an integral, |f| at the first step for a limit: differences far below it are rounding noise. */
  scale: number;
}

const NAN: Cx = { re: NaN, im: NaN };
const fin = (a: Cx): boolean => Number.isFinite(a.re) && Number.isFinite(a.im);
const abs = (a: Cx): number => (a.im === 0 ? Math.abs(a.re) : Math.hypot(a.re, a.im));

interface Piece {
  a: number;
  b: number;
  re: number;
  im: number;
  err: number;
  l1: number;
}

/** One Gauss–Kronrod 7/15 estimate on [a, b]; null when the integrand is not finite there. */
function gk15(f: (x: number) => Cx, a: number, b: number): Piece | null {
  const c = (a + b) / 2;
  const h = (b - a) / 2;
  const fc = f(c);
  if (!fin(fc)) return null;
  let kr = fc.re * WK[7]!;
  let ki = fc.im * WK[7]!;
  let gr = fc.re * WG[3]!;
  let gi = fc.im * WG[3]!;
  let l1 = abs(fc) * WK[7]!;
  for (let j = 0; j < 7; j++) {
    const d = h * XK[j]!;
    const f1 = f(c - d);
    const f2 = f(c + d);
    if (!fin(f1) || !fin(f2)) return null;
    const sr = f1.re + f2.re;
    const si = f1.im + f2.im;
    kr += WK[j]! * sr;
    ki += WK[j]! * si;
    if (j % 2 === 1) {
      gr += WG[(j - 1) / 2]! * sr;
      gi += WG[(j - 1) / 2]! * si;
    }
    l1 += WK[j]! * (abs(f1) + abs(f2));
  }
  const w = Math.abs(h);
  return { a, b, re: kr * h, im: ki * h, err: Math.hypot(kr - gr, ki - gi) * w, l1: l1 * w };
}

/**
 * ∫_a^b f(x) dx for real bounds (±Infinity allowed), by globally adaptive Gauss–Kronrod 7/15
 * quadrature: the piece with the largest error estimate (|K15 − G7|, pessimistic) is halved until
 * the total is below 1e-12·∫|f|. NaN when f is not finite at a node, or the error stays above
 * 1e-10·∫|f| after {@link MAX_INTERVALS} pieces (a divergent or wildly oscillating integral).
 *
 * @example
 * integrate((x) => ({ re: x * x, im: 0 }), 0, 1).value // → { re: 0.333…, im: 0 }
 */
export function integrate(f: (x: number) => Cx, a: number, b: number): Numeric {
  if (Number.isNaN(a) || Number.isNaN(b)) return { value: NAN, scale: 0 };
  if (a === b) return { value: { re: 0, im: 0 }, scale: 0 };
  if (a > b) {
    const r = integrate(f, b, a);
    return { value: { re: -r.value.re, im: -r.value.im }, scale: r.scale };
  }
  // Infinite bounds: a change of variable onto a finite interval (its endpoints are never evaluated).
  let g = f;
  let lo = a;
  let hi = b;
  if (a === -Infinity && b === Infinity) {
    g = (t) => scaleCx(f(t / (1 - t * t)), (1 + t * t) / ((1 - t * t) * (1 - t * t)));
    lo = -1;
    hi = 1;
  } else if (b === Infinity) {
    g = (t) => scaleCx(f(a + t / (1 - t)), 1 / ((1 - t) * (1 - t)));
    lo = 0;
    hi = 1;
  } else if (a === -Infinity) {
    g = (t) => scaleCx(f(b - t / (1 - t)), 1 / ((1 - t) * (1 - t)));
    lo = 0;
    hi = 1;
  }
  const first = gk15(g, lo, hi);
  if (!first) return { value: NAN, scale: 0 };
  const pieces: Piece[] = [first];
  let re = first.re;
  let im = first.im;
  let err = first.err;
  let l1 = first.l1;
  while (err > QUAD_TOL * l1 && pieces.length < MAX_INTERVALS) {
    let worst = 0;
    for (let k = 1; k < pieces.length; k++) if (pieces[k]!.err > pieces[worst]!.err) worst = k;
    const p = pieces[worst]!;
    const m = (p.a + p.b) / 2;
    // Pieces too narrow to halve in double precision: no further progress is possible.
    if (m <= p.a || m >= p.b) break;
    const left = gk15(g, p.a, m);
    const right = gk15(g, m, p.b);
    if (!left || !right) return { value: NAN, scale: l1 };
    pieces[worst] = left;
    pieces.push(right);
    re += left.re + right.re - p.re;
    im += left.im + right.im - p.im;
    l1 += left.l1 + right.l1 - p.l1;
    // Recomputed, not updated: a running sum of differences would drift.
    err = 0;
    for (const q of pieces) err += q.err;
  }
  if (!(err <= QUAD_ACCEPT * l1) || !Number.isFinite(re) || !Number.isFinite(im)) return { value: NAN, scale: l1 };
  return { value: { re, im }, scale: l1 };
}

function scaleCx(a: Cx, k: number): Cx {
  // 0 · ∞ at the far end of a transformed infinite range is 0 (the integrand has decayed).
  if (a.re === 0 && a.im === 0) return a;
  return { re: a.re * k, im: a.im * k };
}

/** Steps of a limit's extrapolation: h halves each step, from h0 down to h0 / 2^(LIMIT_STEPS − 1). */
export const LIMIT_STEPS = 26;

/** An extrapolated value with its error estimate (Infinity when there is none). */
export interface Extrapolated extends Numeric {
  err: number;
}

/**
 * lim_{h → 0+} g(h) by Richardson extrapolation: a Neville tableau over h0, h0/2, h0/4 …, assuming
 * g(h) = L + c₁hᵖ + c₂h²ᵖ + … (p = `order`: 2 for an even g), keeping the entry with the smallest
 * error estimate and stopping once rounding noise makes the estimates grow. The caller decides
 * whether `err` is small enough; a limit that does not exist, is infinite, or approaches too
 * irregularly (x·sin(1/x), √x) to extrapolate shows as a large `err` or a NaN value.
 *
 * @example
 * extrapolateToZero((h) => ({ re: Math.sin(h) / h, im: 0 }), 0.125, 2).value // → { re: 1, im: 0 }
 */
export function extrapolateToZero(g: (h: number) => Cx, h0: number, order: 1 | 2): Extrapolated {
  let prev: Cx[] = [];
  let best: Cx = NAN;
  let bestErr = Infinity;
  let scale = 0;
  const step = 2 ** order;
  for (let k = 0; k < LIMIT_STEPS; k++) {
    const v = g(h0 / 2 ** k);
    if (!fin(v)) break;
    if (k === 0) scale = abs(v);
    const row: Cx[] = [v];
    let fac = step;
    for (let j = 1; j <= k; j++) {
      const a = row[j - 1]!;
      const b = prev[j - 1]!;
      const t = { re: a.re + (a.re - b.re) / (fac - 1), im: a.im + (a.im - b.im) / (fac - 1) };
      row.push(t);
      fac *= step;
      const e = Math.max(abs({ re: t.re - a.re, im: t.im - a.im }), abs({ re: t.re - b.re, im: t.im - b.im }));
      if (e <= bestErr) {
        bestErr = e;
        best = t;
      }
    }
    // Past the point where rounding noise dominates, the highest-order entry only gets worse.
    if (k >= 3 && abs({ re: row[k]!.re - prev[k - 1]!.re, im: row[k]!.im - prev[k - 1]!.im }) >= 2 * bestErr) break;
    prev = row;
  }
  return { value: best, scale, err: bestErr };
}

/**
 * +1 or −1 when g(h) grows without bound as h → 0+ (real, one sign, increasing in magnitude over the
 * last ten steps by at least 16× — like h^(−0.4) or faster — or overflowing to ±∞ after such a run),
 * else 0. Slower growth (ln h) is not told from convergence and gives 0.
 */
export function divergence(g: (h: number) => Cx, h0: number): 1 | -1 | 0 {
  const vals: number[] = [];
  for (let k = 0; k < LIMIT_STEPS; k++) {
    const v = g(h0 / 2 ** k);
    if (Number.isNaN(v.re) || Number.isNaN(v.im) || Math.abs(v.im) > 1e-12 * Math.abs(v.re)) return 0;
    vals.push(v.re);
    if (!Number.isFinite(v.re)) break;
  }
  const sign = Math.sign(vals[vals.length - 1]!);
  const overflowed = !Number.isFinite(vals[vals.length - 1]!);
  const tail = vals.slice(overflowed ? -4 : -10);
  if (sign === 0 || tail.length < (overflowed ? 4 : 10)) return 0;
  for (let k = 0; k < tail.length; k++) {
    if (Math.sign(tail[k]!) !== sign) return 0;
    if (k > 0 && !(Math.abs(tail[k]!) > Math.abs(tail[k - 1]!))) return 0;
  }
  if (!overflowed && !(Math.abs(tail[tail.length - 1]!) >= 16 * Math.abs(tail[0]!))) return 0;
  return sign as 1 | -1;
}

/** Error accepted for a limit, relative to max(|value|, 1e-3): far below the grader's 1e-9. */
const LIMIT_ACCEPT = 1e-11;
/** Largest left–right difference of a two-sided limit (relative), well above extrapolation noise, far below a jump. */
const SIDES_AGREE = 1e-6;

/**
 * lim f(x) as x → a (`side` +1 from the right, −1 from the left, 0 both), a real or ±Infinity.
 * Two-sided: the even part (f(a+h) + f(a−h))/2 is extrapolated in h² (the precise value) and the
 * odd part must vanish (else the sides differ: a jump, a pole). ±Infinity when f grows without
 * bound (see {@link divergence}; on both sides alike for a two-sided limit). NaN when it cannot be
 * evaluated.
 *
 * @example
 * limit((x) => ({ re: (x * x - 1) / (x - 1), im: 0 }), 1, 0).value // → { re: 2, im: 0 }
 */
export function limit(f: (x: number) => Cx, a: number, side: 1 | -1 | 0): Numeric {
  if (Number.isNaN(a)) return { value: NAN, scale: 0 };
  const oneSided = (g: (h: number) => Cx, h0: number): Numeric => {
    const r = extrapolateToZero(g, h0, 1);
    if (r.err <= LIMIT_ACCEPT * Math.max(abs(r.value), 1e-3)) return r;
    const d = divergence(g, h0);
    return { value: d === 0 ? NAN : { re: d * Infinity, im: 0 }, scale: r.scale };
  };
  if (!Number.isFinite(a)) return oneSided((h) => f(a > 0 ? 1 / h : -1 / h), 1 / 8);
  const h0 = Math.max(1, Math.abs(a)) / 8;
  if (side !== 0) return oneSided((h) => f(a + side * h), h0);
  const half = (h: number, sign: 1 | -1): Cx => {
    const p = f(a + h);
    const m = f(a - h);
    return { re: (p.re + sign * m.re) / 2, im: (p.im + sign * m.im) / 2 };
  };
  const even = extrapolateToZero((h) => half(h, 1), h0, 2);
  if (even.err <= LIMIT_ACCEPT * Math.max(abs(even.value), 1e-3)) {
    const odd = extrapolateToZero((h) => half(h, -1), h0, 1);
    return abs(odd.value) <= SIDES_AGREE * Math.max(abs(even.value), 1) ? even : { value: NAN, scale: even.scale };
  }
  // No finite limit: ±∞ when both sides diverge the same way (1/x² at 0), else none (1/x at 0).
  const r = divergence((h) => f(a + h), h0);
  const l = divergence((h) => f(a - h), h0);
  return { value: r !== 0 && r === l ? { re: r * Infinity, im: 0 } : NAN, scale: even.scale };
}
