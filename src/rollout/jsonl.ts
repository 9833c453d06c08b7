import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createGunzip, createGzip, type ZlibOptions } from 'node:zlib';
import { once } from 'node:events';

/** One raw line of a JSONL input, with its 1-based line number. */
export interface RawLine {
  line: number;
  text: string;
}

/** A file the CLI cannot open: names the path and why. */
export class InputFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'InputFileError';
  }
}

/**
 * A compressed input whose data ends early or breaks (a truncated or corrupt `.gz`). The reader yields
 * every whole line before the break first, then throws this: `line` is the number of the line where the
 * data broke (lines before it were read whole; the torn rest of that line is dropped).
 */
export class TruncatedInputError extends InputFileError {
  constructor(
    path: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(path, `compressed data broke at line ${line} (${reason})`);
    this.name = 'TruncatedInputError';
  }
}

export interface ReadOptions {
  /** Lines longer than this many characters are reported as malformed instead of parsed (default 64 Mi). */
  maxLineChars?: number;
  /** Lines per yielded chunk (default 4096). */
  chunkLines?: number;
  /** Decompress with gzip (default: when the path ends in `.gz`). */
  gzip?: boolean;
}

function openInput(path: string, gzip?: boolean): Readable {
  if (path === '-') return process.stdin;
  if (!existsSync(path)) throw new InputFileError(path, 'no such file');
  if (statSync(path).isDirectory()) throw new InputFileError(path, 'is a directory, expected a .jsonl or .jsonl.gz file');
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  return (gzip ?? path.endsWith('.gz')) ? raw.pipe(createGunzip()) : raw;
}

/**
 * Streams the non-blank lines of a JSONL file (`.jsonl`, `.jsonl.gz`, or `-` for stdin) in chunks,
 * keeping line numbers. Blank lines are skipped (they carry no record). A line over `maxLineChars`
 * is yielded with `tooLong: true` and empty text, so the caller reports it instead of parsing it.
 * A UTF-8 byte order mark at the start of the data is dropped (editors on Windows write one), so the
 * first line parses. A `.gz` made of several gzip members (an appended file) reads as their
 * concatenation. A truncated or corrupt `.gz` yields its whole lines, then throws {@link TruncatedInputError}.
 *
 * @example
 * for await (const lines of readJsonlLines('rollouts.jsonl')) for (const l of lines) JSON.parse(l.text);
 */
export async function* readJsonlLines(path: string, opts: ReadOptions = {}): AsyncGenerator<(RawLine & { tooLong?: boolean })[]> {
  const maxLine = opts.maxLineChars ?? 64 * 1024 * 1024;
  const chunkLines = opts.chunkLines ?? 4096;
  const input = openInput(path, opts.gzip);
  input.setEncoding('utf8');
  let carry = '';
  let carryTooLong = false;
  let lineNo = 0;
  let out: (RawLine & { tooLong?: boolean })[] = [];
  let first = true;
  const push = (text: string, tooLong: boolean) => {
    lineNo++;
    if (tooLong) out.push({ line: lineNo, text: '', tooLong: true });
    else if (text.length > 0 && !/^\s*$/.test(text)) out.push({ line: lineNo, text: text.endsWith('\r') ? text.slice(0, -1) : text });
  };
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let start = 0;
      if (first) {
        first = false;
        if (chunk.charCodeAt(0) === 0xfeff) start = 1;
      }
      let nl = chunk.indexOf('\n');
      while (nl !== -1) {
        const piece = chunk.slice(start, nl);
        if (carryTooLong) push('', true);
        else if (carry.length > 0) {
          const t = carry + piece;
          push(t.length > maxLine ? '' : t, t.length > maxLine);
        } else push(piece.length > maxLine ? '' : piece, piece.length > maxLine);
        carry = '';
        carryTooLong = false;
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      if (start < chunk.length) {
        if (!carryTooLong) {
          carry += chunk.slice(start);
          if (carry.length > maxLine) {
            carry = '';
            carryTooLong = true;
          }
        }
      }
      if (out.length >= chunkLines) {
        yield out;
        out = [];
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const zlibError = err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR';
    if (!zlibError) throw new InputFileError(path, err.message);
    if (lineNo === 0 && out.length === 0 && carry.length === 0 && !carryTooLong) throw new InputFileError(path, `not valid gzip data (${err.message})`);
    if (out.length > 0) yield out; // the whole lines read before the break; the torn rest (carry) is dropped
    throw new TruncatedInputError(path, lineNo + 1, err.message);
  }
  if (carryTooLong) push('', true);
  else if (carry.length > 0) push(carry, false);
  if (out.length > 0) yield out;
}

/** A JSONL sink (`-` for stdout, `.gz` compresses). `write` respects backpressure; call `close` at the end. */
export interface JsonlWriter {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

const WRITE_BUFFER = 4 << 20;

/** Options of {@link openJsonlWriter}. */
export interface WriterOptions {
  /** Append to the file instead of truncating it; a `.gz` gets a new gzip member, which gzip readers (Node's zlib, gzip, Python's gzip) read as the continuation. */
  append?: boolean;
  /** Compress with gzip (default: when the path ends in `.gz`) — for a temporary path that does not. */
  gzip?: boolean;
}

/**
 * Opens a JSONL writer (creating the file's folder if needed). Text passed to `write` must already be
 * newline-terminated lines. `close` ends the gzip stream (its trailer written) and waits for the file to close.
 * @example
 * const w = openJsonlWriter('out.jsonl.gz'); await w.write(JSON.stringify(r) + '\n'); await w.close();
 */
export function openJsonlWriter(path: string, opts: WriterOptions = {}): JsonlWriter {
  let sink: Writable;
  let file: Writable | null = null;
  if (path === '-') sink = process.stdout;
  else {
    mkdirSync(dirname(path), { recursive: true });
    // Buffers of a few MiB: `write` then returns at once for a batch (hundreds of KB) while the previous
    // one goes to disk, instead of waiting for each to drain (a 16 KiB default made every batch wait).
    file = createWriteStream(path, { flags: opts.append ? 'a' : 'w', highWaterMark: WRITE_BUFFER });
    if (opts.gzip ?? path.endsWith('.gz')) {
      const gz = createGzip({ highWaterMark: WRITE_BUFFER } as ZlibOptions); // zlib streams take stream options too
      gz.pipe(file);
      sink = gz;
    } else sink = file;
  }
  let failure: Error | null = null;
  sink.on('error', (e) => (failure = e));
  file?.on('error', (e) => (failure = e));
  return {
    async write(text) {
      if (failure) throw failure;
      if (!sink.write(text)) await once(sink, 'drain');
    },
    async close() {
      if (failure) throw failure;
      if (sink === process.stdout) return;
      sink.end();
      if (file) await once(file, 'close');
      if (failure) throw failure;
    },
  };
}
