/**
 * Shared plumbing of the gridworld experiments (potential-shaping, qd-maze, intrinsic-oni, barfi,
 * epic-regret): variant checking, seeds, and curves with bands over seeds.
 */
import { band } from '../stats.js';
import type { Curve, RunOptions } from '../types.js';

/**
 * Checks `opts` (seeds an integer ≥ 2 — a confidence interval needs two replicates —, seed0 an integer,
 * a known variant) and returns the seed list `seed0 … seed0 + seeds − 1`.
 */
export function seedsOf(name: string, variants: Record<string, string>, opts: RunOptions): number[] {
  if (!(Number.isInteger(opts.seeds) && opts.seeds >= 2)) throw new RangeError(`${name}: seeds must be an integer ≥ 2 (a confidence interval needs two replicates), got ${opts.seeds}`);
  if (opts.seed0 !== undefined && !Number.isInteger(opts.seed0)) throw new RangeError(`${name}: seed0 must be an integer, got ${opts.seed0}`);
  if (opts.variant !== undefined && !Object.hasOwn(variants, opts.variant)) {
    const known = Object.keys(variants);
    throw new RangeError(`${name}: unknown variant "${opts.variant}"; known: ${known.join(', ') || '(none)'}`);
  }
  const s0 = opts.seed0 ?? 1;
  return Array.from({ length: opts.seeds }, (_, i) => s0 + i);
}

/** A curve with a band from per-seed series (`runs[seed][i]`, equal lengths). */
export function curveOf(label: string, chart: string, xLabel: string, yLabel: string, x: number[], runs: ArrayLike<number>[]): Curve {
  const b = band(runs);
  return { label, chart, xLabel, yLabel, x, mean: b.mean, lo: b.lo, hi: b.hi };
}

/** A seed for a sub-stream of replicate `seed` (arms share `seed`, differ in `stream`). */
export function subSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
}

/** Reports progress and yields to the event loop between replicates (a CLI spinner or a server stays responsive). */
export async function replicateDone(opts: RunOptions, done: number, total: number): Promise<void> {
  opts.onProgress?.(done, total);
  await new Promise((r) => setImmediate(r));
}
