import { readJsonlLines, TruncatedInputError } from './jsonl.js';
import { RolloutError, validateRollout } from './validate.js';
import { groupKey, textOf } from './sample.js';
import type { Rollout } from './types.js';

/** A line that could not become a rollout. `fatal` when the reader was asked to stop at the first one. */
export class BadLineError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'BadLineError';
  }
}

export interface BatchReadOptions {
  /** Rollouts per batch; a batch closes at the first group boundary at or after this size. */
  batchSize: number;
  /** Stop at the first malformed line (throws {@link BadLineError}) instead of reporting and skipping it. */
  strict?: boolean;
  /** Called for each skipped line (not in strict mode). */
  onBadLine?: (line: number, reason: string) => void;
  /** Called when a group shows up again after its batch was closed (its rollouts were not contiguous). */
  onSplitGroup?: (line: number, id: string) => void;
  /**
   * Called for a rollout whose `id` appeared earlier in the file (`firstLine` is where). The rollout is
   * still scored; under `strict` it stops the read with a {@link BadLineError} instead.
   */
  onDuplicateId?: (line: number, id: string, firstLine: number) => void;
  /** Rollouts whose id is in this set are skipped (not validated, not batched): `score --resume`. */
  skipIds?: ReadonlySet<string>;
  /** Called for each rollout skipped through `skipIds`. */
  onSkip?: (line: number, id: string) => void;
}

/** 32-bit FNV-1a pair → a 53-bit number: remembers closed groups without keeping their (possibly long) keys. */
function keyHash(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

/**
 * The ids of a run with the line each was first seen on, in little memory: an open-addressing table of
 * 64-bit hashes (two 32-bit FNV-1a variants, finalised) and line numbers — 24 bytes a slot, under 50 MB
 * for 1M ids, where a `Map` of the id strings takes several times that. Two different ids share a hash
 * with probability ~n²/2⁶⁵ (3·10⁻⁸ for 1M ids).
 */
export class IdLines {
  private a = new Uint32Array(1 << 12);
  private b = new Uint32Array(1 << 12);
  private lines = new Int32Array(1 << 12);
  private size = 0;

  /** Records `id` first seen at `line` (≥ 1); returns the line it was first seen on when it was seen before, else 0. */
  add(id: string, line: number): number {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h1 = fmix(h1 ^ id.length) >>> 0;
    h2 = fmix(h2 + id.length) >>> 0;
    const mask = this.lines.length - 1;
    let i = h1 & mask;
    for (;;) {
      const l = this.lines[i]!;
      if (l === 0) break;
      if (this.a[i] === h1 && this.b[i] === h2) return l;
      i = (i + 1) & mask;
    }
    this.a[i] = h1;
    this.b[i] = h2;
    this.lines[i] = line;
    if (++this.size * 2 > this.lines.length) this.grow();
    return 0;
  }

  private grow(): void {
    const { a, b, lines } = this;
    const cap = lines.length * 2;
    this.a = new Uint32Array(cap);
    this.b = new Uint32Array(cap);
    this.lines = new Int32Array(cap);
    const mask = cap - 1;
    for (let j = 0; j < lines.length; j++) {
      if (lines[j] === 0) continue;
      let i = a[j]! & mask;
      while (this.lines[i] !== 0) i = (i + 1) & mask;
      this.a[i] = a[j]!;
      this.b[i] = b[j]!;
      this.lines[i] = lines[j]!;
    }
  }
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** One batch from {@link readRolloutBatches}: the rollouts and, in the same order, their JSONL lines as read. */
export interface RolloutBatch {
  rollouts: Rollout[];
  lines: string[];
}

/**
 * Streams validated rollouts from a JSONL file in batches of whole groups. Rollouts of a group must be
 * contiguous in the file (as trainers write them); a group seen again after its batch closed is
 * reported through `onSplitGroup` and scored as a separate run. Malformed lines (invalid JSON, a record
 * that breaks the contract, an over-long line) are reported with their line number and skipped, or
 * stop the read under `strict`. Ids seen twice are reported through `onDuplicateId` (one map of the
 * run's ids, as hashes, to their first line: {@link IdLines}). When a compressed input breaks ({@link TruncatedInputError}) or a
 * `strict` read stops ({@link BadLineError}), the rollouts read before that line are yielded as a last
 * batch, then the error is thrown.
 *
 * @example
 * for await (const { rollouts } of readRolloutBatches('rollouts.jsonl', { batchSize: 1024 })) await scoreBatch(compiled, rollouts);
 */
export async function* readRolloutBatches(path: string, o: BatchReadOptions): AsyncGenerator<RolloutBatch> {
  const closed = new Set<number>();
  let pending: Rollout[] = [];
  let pendingLines: string[] = [];
  let pendingKeys: number[] = [];
  let lastKey = NaN;
  const seen = new IdLines();
  const bad = (line: number, reason: string) => {
    if (o.strict) throw new BadLineError(line, reason);
    o.onBadLine?.(line, reason);
  };
  const skipIds = o.skipIds && o.skipIds.size > 0 ? o.skipIds : null;
  try {
    for await (const lines of readJsonlLines(path)) {
      for (const l of lines) {
        if (l.tooLong) {
          bad(l.line, 'line too long');
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(l.text);
        } catch (e) {
          bad(l.line, `invalid JSON: ${(e as Error).message}`);
          continue;
        }
        if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') {
          const id = (value as { id: string }).id;
          const first = seen.add(id, l.line);
          if (first !== 0) {
            if (o.strict) throw new BadLineError(l.line, `duplicate id "${id}" (first at line ${first})`);
            o.onDuplicateId?.(l.line, id, first);
          }
          if (skipIds?.has(id)) {
            o.onSkip?.(l.line, id);
            continue;
          }
        }
        let r: Rollout;
        try {
          r = validateRollout(value);
        } catch (e) {
          if (!(e instanceof RolloutError)) throw e;
          bad(l.line, e.message);
          continue;
        }
        const key = keyHash(r.group ?? groupKey(r, textOf(r.prompt, 'prompt')));
        if (key !== lastKey) {
          if (pending.length >= o.batchSize) {
            yield { rollouts: pending, lines: pendingLines };
            for (const k of pendingKeys) closed.add(k);
            pending = [];
            pendingLines = [];
            pendingKeys = [];
          }
          if (closed.has(key)) o.onSplitGroup?.(l.line, r.id);
          lastKey = key;
          pendingKeys.push(key);
        }
        pending.push(r);
        pendingLines.push(l.text);
      }
    }
  } catch (e) {
    // A broken .gz or a --strict stop: the rollouts read before it are scored and written, then the error goes up.
    if ((e instanceof TruncatedInputError || e instanceof BadLineError) && pending.length > 0) yield { rollouts: pending, lines: pendingLines };
    throw e;
  }
  if (pending.length > 0) yield { rollouts: pending, lines: pendingLines };
}
