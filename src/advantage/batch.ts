import { toColumn } from '../shape/columns.js';
import type { AdvantageBatch } from './types.js';

export interface PlainBatch {
  /** Reward per rollout; null = no reward. NaN and ±Infinity are rejected (the error names the index). */
  rewards: ArrayLike<number | null | undefined>;
  /** Group key per rollout (e.g. `Rollout.group`); groups are numbered in order of first appearance. */
  groups: ArrayLike<string | number>;
  /** Component columns (one array per component, one value per rollout), null = not applicable. */
  components?: ReadonlyArray<ArrayLike<number | null | undefined>>;
  /** Component names, for error messages (`component "format"`). */
  names?: readonly string[];
  /** Component weights (default 1 each). */
  weights?: ArrayLike<number>;
  /** Token count per rollout (REINFORCE++ token weighting). */
  tokenLengths?: ArrayLike<number>;
  /** Completion length in tokens per rollout (`dcpo` selection). */
  completionLengths?: ArrayLike<number>;
}

/**
 * Builds a columnar {@link AdvantageBatch} from plain values, the boundary where rewards enter the
 * typed-array world: `null` becomes NaN, while NaN and ±Infinity are rejected with an
 * `InvalidValueError` naming the rollout index. Also returns the group keys by index
 * (`groupKeys[g]`), for diagnostics.
 *
 * @example
 * const { batch } = buildAdvantageBatch({ rewards: [1, 0, null], groups: ['q1', 'q1', 'q2'] });
 * // batch.groupOf = [0, 0, 1], batch.rewards = [1, 0, NaN]
 */
export function buildAdvantageBatch(p: PlainBatch): { batch: AdvantageBatch; groupKeys: string[] } {
  const n = p.rewards.length;
  if (p.groups.length !== n) throw new RangeError(`groups has ${p.groups.length} entries for ${n} rollouts`);
  const rewards = toColumn(p.rewards, 'reward');
  const index = new Map<string | number, number>();
  const groupKeys: string[] = [];
  const groupOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const key = p.groups[i];
    let g = index.get(key);
    if (g === undefined) {
      g = groupKeys.length;
      index.set(key, g);
      groupKeys.push(String(key));
    }
    groupOf[i] = g;
  }
  const comps = (p.components ?? []).map((c, k) => {
    if (c.length !== n) throw new RangeError(`component ${k} has ${c.length} entries for ${n} rollouts`);
    return toColumn(c, p.names?.[k] !== undefined ? `component "${p.names[k]}"` : `component ${k}`);
  });
  const weights = p.weights !== undefined ? Float64Array.from(p.weights) : new Float64Array(comps.length).fill(1);
  const batch: AdvantageBatch = { rewards, components: comps, weights, groupOf, groupCount: groupKeys.length };
  if (p.tokenLengths !== undefined) batch.tokenLengths = toColumn(p.tokenLengths, 'token length');
  if (p.completionLengths !== undefined) batch.completionLengths = toColumn(p.completionLengths, 'completion length');
  return { batch, groupKeys };
}
