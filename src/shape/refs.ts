import * as z from 'zod';
import { InvalidValueError } from './columns.js';
import type { ShapeBatch } from './types.js';

/**
 * Params shared by the shapers that compare a reward with per-prompt reference rewards (PAR's
 * `sftref_rewards`: reward-model scores of reference-policy responses to the same prompt).
 */
export const refsParams = {
  refs: z
    .array(z.number())
    .min(1)
    .optional()
    .describe('Reference rewards used when a rollout carries none in meta[refs_key].'),
  refs_key: z
    .string()
    .default('ref_rewards')
    .describe('Rollout meta key holding this prompt\'s reference rewards (a list of numbers).'),
};

/** PAR's `reward_maxref`: only the first M references are used (10 in PAR's runs). */
export const maxRefsParam = z
  .number()
  .int()
  .positive()
  .default(10)
  .describe('Use at most this many reference rewards per rollout (PAR reward_maxref).');

export interface RefsOptions {
  refs?: readonly number[];
  refs_key: string;
}

/**
 * The reference rewards of rollout `i`: `meta[refs_key]` when present, else the spec's `refs`.
 * Returns the stored array itself (callers read its first `min(length, max)` entries).
 */
export function refsOf(batch: ShapeBatch, i: number, o: RefsOptions): readonly number[] {
  const s = batch.samples[i];
  if (s === undefined) throw new InvalidValueError(i, 'sample', undefined, 'reference rewards need the rollout');
  const fromMeta = s.meta[o.refs_key];
  if (fromMeta !== undefined && fromMeta !== null) {
    if (!Array.isArray(fromMeta) || fromMeta.length === 0) {
      throw new InvalidValueError(i, `meta.${o.refs_key}`, JSON.stringify(fromMeta), 'must be a non-empty list of finite numbers');
    }
    for (const v of fromMeta) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InvalidValueError(i, `meta.${o.refs_key}`, JSON.stringify(fromMeta), 'must be a non-empty list of finite numbers');
      }
    }
    return fromMeta as number[];
  }
  if (o.refs !== undefined) return o.refs;
  throw new InvalidValueError(i, `meta.${o.refs_key}`, 'missing', 'needed by this shaper (or give `refs` in the spec)');
}

/** mean_j f(r − ref_j) over the first `maxRefs` references of rollout `i`. */
export function meanOverRefs(
  batch: ShapeBatch,
  i: number,
  o: RefsOptions,
  maxRefs: number,
  r: number,
  f: (d: number) => number,
): number {
  const refs = refsOf(batch, i, o);
  const m = Math.min(refs.length, maxRefs);
  let s = 0;
  for (let j = 0; j < m; j++) s += f(r - refs[j]);
  return s / m;
}
