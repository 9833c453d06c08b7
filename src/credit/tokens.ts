/**
 * Maps per-step values (rewards or advantages from a credit method) onto tokens, for trainers that
 * put rewards on tokens (verl `token_level_rewards`; the Practitioner's Guide places each turn reward
 * on the turn's last token): the value of step t goes to the last token of step t, every other token
 * gets 0. A rollout with a null (NaN) step value gets NaN on that token.
 *
 * `lastToken[k]` is the index, within its rollout's response tokens, of the last token of step k
 * (same step order as the batch); `tokenCounts[i]` is the response length of rollout i. Within a
 * rollout the last-token indices must be integers, strictly increasing and below the token count;
 * errors name the rollout and step (`rollout 2: step 1 ends at token 7, not after step 0's token 7`).
 *
 * @example
 * stepsToTokens(new Int32Array([0, 2]), new Float64Array([0.5, 1]), [1, 4], [5])
 * // → [Float64Array [0, 0.5, 0, 0, 1]]
 */
export function stepsToTokens(
  offsets: Int32Array,
  values: Float64Array,
  lastToken: ArrayLike<number>,
  tokenCounts: ArrayLike<number>,
): Float64Array[] {
  const n = offsets.length - 1;
  const total = offsets[n];
  if (values.length !== total) throw new RangeError(`values has ${values.length} entries for ${total} steps`);
  if (lastToken.length !== total) throw new RangeError(`token offsets have ${lastToken.length} entries for ${total} steps`);
  if (tokenCounts.length !== n) throw new RangeError(`tokenCounts has ${tokenCounts.length} entries for ${n} rollouts`);
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = tokenCounts[i];
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`rollout ${i}: token count ${len} must be an integer ≥ 0`);
    const row = new Float64Array(len);
    let prev = -1;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      const t = lastToken[k];
      const j = k - offsets[i];
      if (!Number.isInteger(t) || t < 0 || t >= len) {
        throw new RangeError(`rollout ${i}: step ${j} ends at token ${t}; must be an integer in [0, ${len})`);
      }
      if (t <= prev) throw new RangeError(`rollout ${i}: step ${j} ends at token ${t}, not after step ${j - 1}'s token ${prev}`);
      row[t] = values[k];
      prev = t;
    }
    out.push(row);
  }
  return out;
}
