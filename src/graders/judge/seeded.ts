import { createHash } from 'node:crypto';

/**
 * A deterministic pseudo-random generator in [0, 1) seeded by a string (SHA-256 of the seed feeds
 * sfc32). Same seed, same sequence on every machine: the judge's shuffles and pair samples are
 * reproducible per group.
 *
 * @example
 * const r = seededRandom('42\0q17'); r() === seededRandom('42\0q17')() // → true
 */
export function seededRandom(seed: string): () => number {
  const h = createHash('sha256').update(seed).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/**
 * A shuffled copy of `items` (Fisher–Yates driven by `random`); the input is left as it is.
 *
 * @example
 * shuffled([0, 1, 2, 3], seededRandom('s')) // → the same permutation of 0..3 for every call with seed 's'
 */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
