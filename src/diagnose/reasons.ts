/**
 * Why components were null: reason → count, collected by the pipeline for every batch at the cost of
 * one map update per null value (no per-rollout details kept), merged by the diagnostics.
 */

/** Distinct reasons kept per component; further ones are counted under {@link OTHER_REASONS}. */
export const MAX_REASONS = 64;
/** Longest reason kept (longer ones are cut, with an ellipsis). */
export const MAX_REASON_LENGTH = 160;
/** The bucket of reasons beyond {@link MAX_REASONS}. */
export const OTHER_REASONS = '(other reasons)';
/** The reason recorded for a grader that returned null without `details.reason`. */
export const NO_REASON = 'null, no reason given';

/** Reason → count for one component. */
export type ReasonCounts = Map<string, number>;

/** One reason and how often it occurred. */
export interface ReasonCount {
  reason: string;
  count: number;
}

function clean(reason: string): string {
  const one = reason.replace(/\s+/g, ' ').trim();
  return one.length > MAX_REASON_LENGTH ? `${one.slice(0, MAX_REASON_LENGTH - 1)}…` : one || NO_REASON;
}

/**
 * Adds `count` occurrences of `reason` to `into` (whitespace collapsed, cut at
 * {@link MAX_REASON_LENGTH}); past {@link MAX_REASONS} distinct reasons, new ones go to
 * {@link OTHER_REASONS}.
 *
 * @example
 * const m = new Map(); countReason(m, 'no answer found'); countReason(m, 'no answer found'); // m: {no answer found → 2}
 */
export function countReason(into: ReasonCounts, reason: string, count = 1): void {
  // Fast path: a grader's fixed reason is already clean and already counted (one lookup per null).
  const seen = into.get(reason);
  if (seen !== undefined) {
    into.set(reason, seen + count);
    return;
  }
  const key = clean(reason);
  const had = into.get(key);
  if (had !== undefined) into.set(key, had + count);
  else if (into.size < MAX_REASONS || key === OTHER_REASONS) into.set(key, count);
  else into.set(OTHER_REASONS, (into.get(OTHER_REASONS) ?? 0) + count);
}

/** The reason of a null grade output: `details.reason` when it is a string, else {@link NO_REASON}. */
export function reasonOfNull(out: unknown): string {
  if (typeof out === 'object' && out !== null) {
    const d = (out as { details?: unknown }).details;
    if (typeof d === 'object' && d !== null) {
      const r = (d as { reason?: unknown }).reason;
      if (typeof r === 'string' && r.length > 0) return r;
    }
  }
  return NO_REASON;
}

/**
 * The reason recorded for a grader error: `error: <message>` with every run of digits written `N`, so
 * that messages differing only in a number (a token count, an attempt number) count as one reason;
 * each rollout's `errors` keep the full message.
 *
 * @example
 * reasonOfError('prompt is 3268 tokens, more than 512') // 'error: prompt is N tokens, more than N'
 */
export function reasonOfError(message: string): string {
  return `error: ${message.replace(/\d+/g, 'N')}`;
}

/** The `k` commonest reasons, most frequent first (ties: alphabetical). */
export function topReasons(counts: ReasonCounts | undefined, k = 3): ReasonCount[] {
  if (!counts) return [];
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, k)
    .map(([reason, count]) => ({ reason, count }));
}

/** `no answer found ×48 · error: timeout ×2` */
export function formatReasons(reasons: readonly ReasonCount[]): string {
  return reasons.map((r) => `${r.reason} ×${r.count}`).join(' · ');
}
