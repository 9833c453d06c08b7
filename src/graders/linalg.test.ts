import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cosine, cosineKernel, nuclearNorm, symmetricEigenvalues, traceSqrtProduct } from './linalg.js';

/**
 * An independent reference solver for the tests: cyclic Jacobi rotations with eigenvectors, slow
 * but simple and very accurate, so the production solver (Householder + QL) can be checked against it.
 */
function jacobi(matrix: ArrayLike<number>, n: number): { values: number[]; vectors: number[][] } {
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => matrix[i * n + j]!));
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-40) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p]![q] === 0) continue;
        // Rotation angle φ with tan 2φ = 2a_pq / (a_qq − a_pp), applied as A ← JᵀAJ.
        const phi = 0.5 * Math.atan2(2 * a[p]![q]!, a[q]![q]! - a[p]![p]!);
        const c = Math.cos(phi);
        const s = Math.sin(phi);
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j]![j]! - a[i]![i]!);
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) };
}

function randomSymmetric(n: number, rnd: () => number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rnd();
  return a;
}

function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

describe('symmetricEigenvalues (Householder + implicit QL)', () => {
  it('known spectra', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2))).toEqual([expect.closeTo(3, 15), expect.closeTo(1, 15)]);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(1, 0, 0, 0, 5, 0, 0, 0, 3), 3))).toEqual([5, 3, 1]);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(-7), 1))).toEqual([-7]);
    expect(Array.from(symmetricEigenvalues(new Float64Array(0), 0))).toEqual([]);
    expect(Array.from(symmetricEigenvalues(new Float64Array(9), 3))).toEqual([0, 0, 0]);
    // The all-ones n×n matrix: n once, 0 (n−1) times.
    const values = symmetricEigenvalues(new Float64Array(64 * 64).fill(1), 64);
    expect(values[0]).toBeCloseTo(64, 12);
    for (const v of values.slice(1)) expect(Math.abs(v)).toBeLessThan(1e-12);
    // Tridiagonal [2 -1; -1 2 -1; -1 2]: 2 + √2, 2, 2 − √2.
    const t = symmetricEigenvalues(Float64Array.of(2, -1, 0, -1, 2, -1, 0, -1, 2), 3);
    expect(Array.from(t)).toEqual([expect.closeTo(2 + Math.SQRT2, 14), expect.closeTo(2, 14), expect.closeTo(2 - Math.SQRT2, 14)]);
    // Repeated eigenvalues: I₄ + 3·e₁e₁ᵀ rotated by a Householder reflector has spectrum [4, 1, 1, 1].
    const u = [0.5, 0.5, 0.5, 0.5];
    const w = [1, 0, 0, 0];
    const refl = (i: number, j: number) => (i === j ? 1 : 0) - 2 * u[i]! * u[j]!;
    const m = new Float64Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) m[i * 4 + j] = (i === j ? 1 : 0) + 3 * refl(i, 0) * refl(j, 0) * w[0]!;
    expect(Array.from(symmetricEigenvalues(m, 4))).toEqual([4, 1, 1, 1].map((x) => expect.closeTo(x, 13)));
  });

  it('agrees with an independent Jacobi solver on random 64×64 matrices, whose eigenvectors check out', () => {
    for (const seed of [1, 7, 42]) {
      const n = 64;
      const a = randomSymmetric(n, lcg(seed));
      const ref = jacobi(a, n);
      ref.vectors.slice(0, 3).forEach((vec, k) => {
        for (let i = 0; i < n; i++) {
          const av = vec.reduce((s, x, j) => s + a[i * n + j]! * x, 0);
          expect(Math.abs(av - ref.values[k]! * vec[i]!)).toBeLessThan(1e-10);
        }
      });
      const got = symmetricEigenvalues(a, n);
      got.forEach((v, i) => expect(Math.abs(v - ref.values[i]!)).toBeLessThan(1e-11));
    }
  });

  it('extreme magnitudes: subnormal and huge entries (the reflector is built on a scaled column)', () => {
    // Found by the property test: a column of subnormal entries used to give a non-orthogonal reflector.
    const tiny = new Float64Array(25);
    const set = (i: number, j: number, x: number) => (tiny[i * 5 + j] = tiny[j * 5 + i] = x);
    set(0, 1, -5e-324);
    set(0, 4, 1.5717277847026288e-162);
    set(1, 2, 0.0004690415660130188);
    const t = symmetricEigenvalues(tiny, 5);
    expect(t[0]).toBeCloseTo(0.0004690415660130188, 18);
    expect(t[4]).toBeCloseTo(-0.0004690415660130188, 18);
    const huge = Float64Array.of(1e200, 3e200, 0, 3e200, 1e200, 4e200, 0, 4e200, 1e200);
    const ref = jacobi(Float64Array.from(huge, (x) => x / 1e200), 3).values;
    symmetricEigenvalues(huge, 3).forEach((v, i) => expect(v / 1e200).toBeCloseTo(ref[i]!, 12));
  });

  it('does not modify its input and rejects a wrong size', () => {
    const a = Float64Array.of(2, 1, 1, 2);
    symmetricEigenvalues(a, 2);
    expect(Array.from(a)).toEqual([2, 1, 1, 2]);
    expect(() => symmetricEigenvalues(a, 3)).toThrow(/3×3/);
  });

  it('property: matches Jacobi, sums to the trace, squares sum to the squared Frobenius norm, descending', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 81, maxLength: 81 }), (n, vals) => {
        let k = 0;
        const a = randomSymmetric(n, () => vals[k++]!);
        const values = symmetricEigenvalues(a, n);
        const ref = jacobi(a, n).values;
        let trace = 0;
        let frob = 0;
        for (let i = 0; i < n; i++) trace += a[i * n + i]!;
        for (const x of a) frob += x * x;
        values.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-9 * (1 + Math.sqrt(frob))));
        expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 8);
        expect(values.reduce((s, v) => s + v * v, 0)).toBeCloseTo(frob, 6);
        for (let i = 1; i < n; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
      }),
    );
  });
});

describe('cosine, cosineKernel, nuclearNorm', () => {
  it('cosine: known values and errors', () => {
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 15);
    expect(cosine([1, 2], [-2, -4])).toBeCloseTo(-1, 15);
    expect(cosine([1, 0], [0, 3])).toBe(0);
    expect(() => cosine([1, 0], [1, 0, 0])).toThrow(/different dimensions \(2 and 3\)/);
    expect(() => cosine([0, 0], [1, 0])).toThrow(/zero norm/);
  });

  it('cosineKernel: unit diagonal, symmetric, scale-free', () => {
    expect(Array.from(cosineKernel([[1, 0], [0, 2]]))).toEqual([1, 0, 0, 1]);
    const k = cosineKernel([[3, 4], [6, 8], [4, -3]]);
    expect(Array.from(k).map((x) => Math.round(x * 1e12) / 1e12)).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 1]);
    expect(() => cosineKernel([[1, 0], [1]])).toThrow(/different dimensions/);
  });

  it('nuclearNorm: sum of singular values, either orientation', () => {
    expect(nuclearNorm(Float64Array.of(3, 0, 0, -4), 2, 2)).toBeCloseTo(7, 13);
    // Full rank, numpy: sum(svd([[1,2,0],[0.5,-1,3]])) = 5.4083269131959835.
    expect(nuclearNorm(Float64Array.of(1, 2, 0, 0.5, -1, 3), 2, 3)).toBeCloseTo(5.4083269131959835, 12);
    // Rank one: u·vᵀ has one singular value ‖u‖·‖v‖ = √2 · 5; the zero one costs √ε accuracy (documented).
    const u = [1, 1];
    const v = [3, 4, 0];
    const uv = Float64Array.from(u.flatMap((a) => v.map((b) => a * b)));
    expect(nuclearNorm(uv, 2, 3)).toBeCloseTo(Math.SQRT2 * 5, 6);
    const vu = Float64Array.from(v.flatMap((a) => u.map((b) => a * b)));
    expect(nuclearNorm(vu, 3, 2)).toBeCloseTo(Math.SQRT2 * 5, 6);
    expect(nuclearNorm(new Float64Array(0), 0, 3)).toBe(0);
  });

  it('traceSqrtProduct: Tr((S₁S₂)^½) via Cholesky; null when S₁ is singular', () => {
    expect(traceSqrtProduct(Float64Array.of(4, 0, 0, 1), Float64Array.of(1, 0, 0, 9), 2)).toBeCloseTo(5, 14);
    // Commuting case S₂ = S₁²: Tr((S₁³)^½) = Σ λ^{3/2} over S₁'s eigenvalues 3 and 1.
    const s1 = Float64Array.of(2, 1, 1, 2);
    const s2 = Float64Array.of(5, 4, 4, 5);
    expect(traceSqrtProduct(s1, s2, 2)).toBeCloseTo(3 ** 1.5 + 1, 13);
    expect(traceSqrtProduct(Float64Array.of(1, 1, 1, 1), s2, 2)).toBeNull();
  });
});
