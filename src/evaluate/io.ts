import { readJsonlLines } from '../rollout/jsonl.js';
import { readRolloutBatches } from '../rollout/batches.js';
import type { Rollout } from '../rollout/types.js';

/** Raised in strict mode at the first unusable line, and for records an evaluation cannot use. */
export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

/** One parsed JSONL record with its 1-based line number. */
export interface JsonRecord {
  line: number;
  value: unknown;
}

/**
 * Streams the records of a JSONL file (`.jsonl`, `.jsonl.gz`, `-`) in chunks. Lines that are not JSON
 * are skipped with a warning (the first `maxReported`) and counted — or, with `strict`, stop the run
 * with an {@link EvalInputError}. Records the caller rejects go through {@link RecordReader.bad}.
 */
export class RecordReader {
  badLines = 0;
  constructor(
    readonly path: string,
    private readonly opts: { strict?: boolean; maxReported?: number; log?: (s: string) => void } = {},
  ) {}

  /** Reports an unusable line: a warning and a count, or an error in strict mode. */
  bad(line: number, message: string): void {
    this.badLines++;
    if (this.opts.strict) throw new EvalInputError(`${this.path}:${line}: ${message}`);
    if (this.badLines <= (this.opts.maxReported ?? 20)) this.opts.log?.(`warning: ${this.path}:${line}: ${message} (line skipped)`);
  }

  /**
   * Validated rollouts in batches of whole groups (the reader `score` uses); malformed lines and
   * records that break the rollout contract go through {@link RecordReader.bad}.
   */
  async *rolloutBatches(batchSize: number): AsyncGenerator<Rollout[]> {
    for await (const { rollouts } of readRolloutBatches(this.path, { batchSize, onBadLine: (line, reason) => this.bad(line, reason) })) yield rollouts;
  }

  /**
   * Each record parsed by `parse`, one at a time, in file order. A record whose `parse` throws an
   * instance of `rowError` (the evaluation's "this row is unusable" error) goes through
   * {@link RecordReader.bad} and is skipped; any other error propagates.
   *
   * @example
   * for await (const row of reader.rows(parseBonRow, PairRowError)) acc.push(row);
   */
  async *rows<T>(parse: (value: unknown, line: number) => T, rowError: abstract new (...args: never[]) => Error): AsyncGenerator<T> {
    for await (const chunk of this.chunks())
      for (const rec of chunk) {
        let row: T;
        try {
          row = parse(rec.value, rec.line);
        } catch (e) {
          if (e instanceof rowError) {
            this.bad(rec.line, e.message);
            continue;
          }
          throw e;
        }
        yield row;
      }
  }

  async *chunks(): AsyncGenerator<JsonRecord[]> {
    for await (const lines of readJsonlLines(this.path)) {
      let out: JsonRecord[] = [];
      for (const l of lines) {
        let problem: string | null = null;
        if (l.tooLong) problem = 'line too long';
        else
          try {
            out.push({ line: l.line, value: JSON.parse(l.text) });
          } catch (e) {
            problem = `invalid JSON: ${(e as Error).message}`;
          }
        if (problem === null) continue;
        // In strict mode the caller must see the records before this line first (it may stop earlier).
        if (this.opts.strict && out.length > 0) {
          yield out;
          out = [];
        }
        this.bad(l.line, problem);
      }
      if (out.length > 0) yield out;
    }
  }
}

/** `kind of` a JSON value for messages. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
