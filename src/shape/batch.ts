import type { Sample } from '../rollout/types.js';
import { toColumn } from './columns.js';
import type { ShapeBatch } from './types.js';

/**
 * Builds a {@link ShapeBatch} from samples and their rewards: groups numbered by `Sample.group` in
 * order of first appearance, `lengths` = completion length in characters, rewards through
 * `toColumn` (null → NaN; NaN/±Infinity rejected naming the rollout index).
 *
 * @example
 * const batch = buildShapeBatch(rollouts.map(toSample), [1, 0, null]);
 */
export function buildShapeBatch(
  samples: readonly Sample[],
  rewards: ArrayLike<number | null | undefined>,
  tokenLengths?: ArrayLike<number | null | undefined>,
): ShapeBatch {
  const n = samples.length;
  if (rewards.length !== n) throw new RangeError(`rewards has ${rewards.length} entries for ${n} rollouts`);
  const index = new Map<string, number>();
  const groupOf = new Int32Array(n);
  const lengths = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const key = samples[i].group;
    let g = index.get(key);
    if (g === undefined) {
      g = index.size;
      index.set(key, g);
    }
    groupOf[i] = g;
    lengths[i] = samples[i].completion.length;
  }
  const batch: ShapeBatch = { rewards: toColumn(rewards, 'reward'), groupOf, groupCount: index.size, lengths, samples };
  if (tokenLengths !== undefined) {
    if (tokenLengths.length !== n) throw new RangeError(`tokenLengths has ${tokenLengths.length} entries for ${n} rollouts`);
    batch.tokenLengths = toColumn(tokenLengths, 'token length');
  }
  return batch;
}
