/**
 * Helpers all the lab's experiments share: checking the run options (seeds, seed0, variant), running
 * replicates over seeds, sub-seeds for the arms of one replicate, and turning per-seed learning curves
 * into banded {@link Curve}s.
 */
import { band } from './stats.js';
import type { Curve, Experiment, RunOptions } from './types.js';

/** Checks `opts` against the experiment: seeds an integer ≥ 2, the variant one the experiment knows. */
export function checkRunOptions(e: Pick<Experiment, 'name' | 'variants'>, opts: RunOptions): { seeds: number; seed0: number; variant?: string } {
  const seeds = opts.seeds;
  if (!(Number.isInteger(seeds) && seeds >= 2)) throw new RangeError(`${e.name}: seeds must be an integer ≥ 2 (a confidence interval needs two replicates), got ${seeds}`);
  const seed0 = opts.seed0 ?? 1;
  if (!Number.isInteger(seed0)) throw new RangeError(`${e.name}: seed0 must be an integer, got ${seed0}`);
  if (opts.variant !== undefined && !Object.hasOwn(e.variants, opts.variant)) {
    throw new RangeError(`${e.name}: unknown variant "${opts.variant}"; known: ${Object.keys(e.variants).join(', ') || '(none)'}`);
  }
  return { seeds, seed0, variant: opts.variant };
}

/**
 * Runs `replicate(seed, i)` for seeds `seed0 … seed0 + seeds − 1`, in order, reporting progress and
 * yielding to the event loop between replicates (so a CLI spinner or a server stays responsive).
 */
export async function forSeeds<T>(opts: RunOptions, seeds: number, seed0: number, replicate: (seed: number, i: number) => T | Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < seeds; i++) {
    out.push(await replicate(seed0 + i, i));
    opts.onProgress?.(i + 1, seeds);
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

/**
 * A seed for a sub-stream of replicate `seed`: arms of one replicate share `seed` and differ in `stream`
 * (e.g. the grid from stream 0, the exploration from stream 1).
 *
 * @example
 * new Rng(subSeed(seed, 0)); // the environment of replicate `seed`
 */
export function subSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
}

/** A banded curve from per-seed series (`runs[seed][t]`) sampled at `x`. */
export function curveOf(label: string, chart: string, xLabel: string, yLabel: string, x: number[], runs: ArrayLike<number>[]): Curve {
  const b = band(runs);
  return { label, chart, xLabel, yLabel, x, mean: b.mean, lo: b.lo, hi: b.hi };
}

/** Per-seed values of one key of each replicate's result, as a typed array. */
export function column<T>(rows: readonly T[], f: (r: T) => number): Float64Array {
  return Float64Array.from(rows, f);
}

/** Training steps at which curves are recorded: 0, every `every` steps, and the last. */
export function checkpoints(steps: number, every: number): number[] {
  const xs: number[] = [];
  for (let t = 0; t < steps; t += every) xs.push(t);
  if (xs[xs.length - 1] !== steps) xs.push(steps);
  return xs;
}
