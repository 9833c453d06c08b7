/**
 * Exact rational arithmetic on bigints: the `math` grader compares integers, fractions and
 * terminating decimals exactly, so `\frac{1}{2^{99}}` and `\frac{1}{2^{98}}` never round to the
 * same double.
 */

/** A normalised rational: `d > 0`, `gcd(|n|, d) = 1`. */
export interface Rat {
  readonly n: bigint;
  readonly d: bigint;
}

/** Largest bit length a computed numerator or denominator may reach before exact arithmetic gives up. */
export const MAX_BITS = 100_000;

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Greatest common divisor of two bigints (non-negative result). */
export function bigGcd(a: bigint, b: bigint): bigint {
  return gcd(a, b);
}

/** Builds a normalised rational; throws on a zero denominator. */
export function rat(n: bigint, d: bigint = 1n): Rat {
  if (d === 0n) throw new RangeError('zero denominator');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (d === 1n) return { n, d };
  const g = gcd(n, d);
  return g === 1n ? { n, d } : { n: n / g, d: d / g };
}

/** 0 */
export const ZERO: Rat = { n: 0n, d: 1n };
/** 1 */
export const ONE: Rat = { n: 1n, d: 1n };

function bits(x: bigint): number {
  if (x < 0n) x = -x;
  return x === 0n ? 0 : x.toString(16).length * 4;
}

function guard(r: Rat): Rat | null {
  return bits(r.n) > MAX_BITS || bits(r.d) > MAX_BITS ? null : r;
}

/** a + b */
export function add(a: Rat, b: Rat): Rat {
  if (a.d === 1n && b.d === 1n) return { n: a.n + b.n, d: 1n };
  return rat(a.n * b.d + b.n * a.d, a.d * b.d);
}

/** a − b */
export function sub(a: Rat, b: Rat): Rat {
  return add(a, { n: -b.n, d: b.d });
}

/** a · b */
export function mul(a: Rat, b: Rat): Rat {
  if (a.d === 1n && b.d === 1n) return { n: a.n * b.n, d: 1n };
  return rat(a.n * b.n, a.d * b.d);
}

/** a / b, or null when b = 0. */
export function div(a: Rat, b: Rat): Rat | null {
  if (b.n === 0n) return null;
  return rat(a.n * b.d, a.d * b.n);
}

/** −a */
export function neg(a: Rat): Rat {
  return { n: -a.n, d: a.d };
}

/** True when a = b. */
export function eq(a: Rat, b: Rat): boolean {
  return a.n === b.n && a.d === b.d;
}

/** Sign of a − b: −1, 0 or 1. */
export function cmp(a: Rat, b: Rat): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** True when a is an integer. */
export function isInt(a: Rat): boolean {
  return a.d === 1n;
}

/**
 * a^k for an integer exponent k, or null when the result would exceed {@link MAX_BITS} bits
 * or a zero base meets a negative exponent.
 */
export function powInt(a: Rat, k: bigint): Rat | null {
  if (k === 0n) return ONE;
  if (a.n === 0n) return k < 0n ? null : ZERO;
  if (a.n === a.d) return ONE;
  if (a.n === -a.d) return k % 2n === 0n ? ONE : { n: -1n, d: 1n };
  const neg = k < 0n;
  const e = neg ? -k : k;
  const estimate = Math.max(bits(a.n), bits(a.d)) * Number(e);
  if (estimate > MAX_BITS) return null;
  const r = rat(a.n ** e, a.d ** e);
  if (!neg) return guard(r);
  return div(ONE, r);
}

/** Exact integer k-th root of a non-negative bigint, or null when it is not a perfect power. */
export function exactRoot(x: bigint, k: number): bigint | null {
  if (x < 0n) return null;
  if (x < 2n) return x;
  const approx = Math.round(Math.pow(Number(x), 1 / k));
  if (Number.isFinite(approx) && approx < 2 ** 50) {
    for (const c of [approx - 1, approx, approx + 1]) {
      if (c >= 0 && BigInt(c) ** BigInt(k) === x) return BigInt(c);
    }
    if (Number(x) < 2 ** 50) return null;
  }
  // Newton iteration for big values.
  const kb = BigInt(k);
  let y = 1n << BigInt(Math.ceil(bits(x) / k) + 1);
  for (;;) {
    const next = ((kb - 1n) * y + x / y ** (kb - 1n)) / kb;
    if (next >= y) break;
    y = next;
  }
  return y ** kb === x ? y : null;
}

/** The rational k-th root of a when it is exact (e.g. √(9/4) = 3/2), else null. */
export function rootExact(a: Rat, k: number): Rat | null {
  if (a.n < 0n) {
    if (k % 2 === 0) return null;
    const r = rootExact(neg(a), k);
    return r && neg(r);
  }
  const n = exactRoot(a.n, k);
  if (n === null) return null;
  const d = exactRoot(a.d, k);
  return d === null ? null : rat(n, d);
}

/** Nearest double to a (correct for huge numerators and denominators too). */
export function toNumber(a: Rat): number {
  const n = Number(a.n);
  const d = Number(a.d);
  if (Number.isFinite(n) && Number.isFinite(d) && Math.abs(n) < 2 ** 53 && d < 2 ** 53) return n / d;
  // Scale to ~64 significant bits before converting.
  const shift = bits(a.n) - bits(a.d) - 64;
  const q = shift >= 0 ? a.n / (a.d << BigInt(shift)) : (a.n << BigInt(-shift)) / a.d;
  return Number(q) * Math.pow(2, shift);
}

/**
 * Parses a plain decimal numeral (`-12`, `3.25`, `.5`, `1e-10`, `2.5E+3`) into an exact rational,
 * or null when the text is not one.
 */
export function parseDecimal(text: string): Rat | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const [, sign, int = '', frac = '', exp] = m;
  if (int === '' && frac === '') return null;
  let n = BigInt((int || '0') + frac);
  let d = 10n ** BigInt(frac.length);
  if (exp !== undefined) {
    const e = Number(exp);
    if (Math.abs(e) > 10_000) return null;
    if (e >= 0) n *= 10n ** BigInt(e);
    else d *= 10n ** BigInt(-e);
  }
  return rat(sign === '-' ? -n : n, d);
}

/** Text form `n` or `n/d`. */
export function ratToString(a: Rat): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
