import type { Rollout } from '../rollout/types.js';
import { estimateTokens } from './estimate.js';
import type { TokenCounter } from './tokenizer.js';

export { estimateTokens } from './estimate.js';
export { loadTokenizer, type TokenCounter } from './tokenizer.js';

/**
 * The token count a rollout carries: the length of `completion_ids` (TRL), else `response_length`
 * (verl); `undefined` when it has neither or when they are not well-typed (validated rollouts always
 * are: see `checkTokenData`). O(1).
 *
 * @example
 * rolloutTokenCount({ id: 'a', completion: 'hi', completion_ids: [42, 2] }) // → 2
 * rolloutTokenCount({ id: 'a', completion: 'hi', response_length: 7 })      // → 7
 */
export function rolloutTokenCount(r: Rollout): number | undefined {
  const ids = r.completion_ids;
  if (Array.isArray(ids)) return ids.length;
  const n = r.response_length;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  return undefined;
}

/** Where a token length came from (reported in `length`'s details as `source`). */
export type TokenSource = 'completion_ids' | 'response_length' | 'tokenizer' | 'estimate';

/**
 * The length of a completion in the policy's tokens, from the best source available, in order:
 * the rollout's `completion_ids` (their count), its `response_length`, the `tokenizer` (when the spec
 * names one), else {@link estimateTokens} with a one-time warning on stderr. `enough` lets the
 * tokenizer skip encoding when the text is certainly longer (see `TokenCounter.count`).
 * Throws an `Error` naming the field when the rollout's token data has the wrong type.
 */
export function tokenLength(rollout: Rollout, text: string, tokenizer: TokenCounter | null, enough = Infinity, who = 'length'): { length: number; source: TokenSource } {
  const ids = rollout.completion_ids;
  if (ids !== undefined && ids !== null) {
    if (!Array.isArray(ids)) throw new Error(`completion_ids must be a list of token ids, got ${typeof ids}`);
    return { length: ids.length, source: 'completion_ids' };
  }
  const n = rollout.response_length;
  if (n !== undefined && n !== null) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`response_length must be a non-negative integer, got ${JSON.stringify(n)}`);
    return { length: n, source: 'response_length' };
  }
  if (tokenizer) return { length: tokenizer.count(text, enough), source: 'tokenizer' };
  warnEstimateOnce(who);
  return { length: estimateTokens(text), source: 'estimate' };
}

let warned = false;

/**
 * Says once per process, on stderr, that token lengths are estimated. The project's convention for
 * warnings: one `warning: …` line on stderr.
 */
function warnEstimateOnce(who: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(
    `warning: ${who}: unit tokens on rollouts without completion_ids or response_length and no \`tokenizer:\`; counting an estimate of BPE tokens (about ±20% of GPT-2/cl100k on English; whitespace cannot hide length). Send the trainer's token data or set \`tokenizer: path/to/tokenizer.json\` for exact counts.\n`,
  );
}

/** For tests: lets the next estimate warn again. */
export function resetTokenWarning(): void {
  warned = false;
}
