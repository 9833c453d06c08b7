import { existsSync, readSync, openSync, closeSync, fstatSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { openJsonlWriter, readJsonlLines, TruncatedInputError, type JsonlWriter } from '../rollout/jsonl.js';

/**
 * Why writing `out` would destroy an input, or null when it would not. `out` (followed through
 * symlinks), its `.partial` and the extra paths (e.g. the diagnostics file) are compared with every
 * input by real path and, when they exist, by device and inode — so a symlink or a hard link to the
 * input is caught too. `-` (stdin/stdout) never clashes.
 */
export function outputClash(inputs: string[], outputs: string[]): string | null {
  for (const input of inputs) {
    if (input === '-' || !existsSync(input)) continue;
    const inReal = realpathSync(input);
    const inStat = statSync(input);
    for (const out of outputs) {
      if (out === '-' || !existsSync(out)) continue; // a path that does not exist is no existing file
      const st = statSync(out);
      const how = realpathSync(out) === inReal ? (out === input ? 'the same path' : 'the same file through a symlink') : st.dev === inStat.dev && st.ino === inStat.ino ? 'a hard link to it' : null;
      if (how) return `the output ${out} is the input ${input} (${how}): writing it would destroy the input. Choose another output path.`;
    }
  }
  return null;
}

/** The file an output path writes to: a symlink's target (so the link keeps pointing at the new file), else the path. */
export function outputTarget(out: string): string {
  return out !== '-' && existsSync(out) ? realpathSync(out) : out;
}

/** The partial file of an output: where a run writes until it renames it onto the output at the end. */
export function partialPath(target: string): string {
  return `${target}.partial`;
}

/** Whether a plain file ends with a newline (or is empty). */
function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** What `--resume` found in an earlier output: the ids written, and whether the file ends cleanly. */
export interface ResumeState {
  /** The file read (`OUT.partial`, else `OUT`), or null when neither exists. */
  from: string | null;
  ids: Set<string>;
  /** Whole scored rollouts in the file. */
  rollouts: number;
  /** False when the file ends in a torn line or a broken gzip stream (a run killed hard): it is rewritten without the torn tail. */
  clean: boolean;
}

/**
 * Reads the ids of the scored rollouts in an earlier run's output: `OUT.partial` when it exists, else
 * `OUT`. Lines that do not parse as a JSON object with a string `id` (a torn last line) make the state
 * unclean, as does a gzip stream that breaks.
 */
export async function readResumeState(target: string, gzip: boolean): Promise<ResumeState> {
  const partial = partialPath(target);
  const from = existsSync(partial) ? partial : existsSync(target) ? target : null;
  const state: ResumeState = { from, ids: new Set(), rollouts: 0, clean: true };
  if (!from) return state;
  try {
    for await (const chunk of readJsonlLines(from, { gzip })) {
      for (const l of chunk) {
        const id = idOf(l.text);
        if (id === null) state.clean = false;
        else {
          state.ids.add(id);
          state.rollouts++;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof TruncatedInputError)) throw e;
    state.clean = false;
  }
  if (!gzip && !endsWithNewline(from)) state.clean = false;
  return state;
}

function idOf(text: string): string | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : null;
  } catch {
    return null;
  }
}

/**
 * The output of a `score` run, written atomically: lines go to `OUT.partial` beside the output, and
 * {@link commit} renames it onto `OUT` once the run is complete. An interrupted run keeps
 * `OUT.partial` (whole lines, gzip stream closed), which `--resume` continues. `-` streams to stdout.
 */
export class ScoreOutput {
  private constructor(
    readonly writer: JsonlWriter,
    /** The file lines go to until commit (null for stdout). */
    readonly partial: string | null,
    /** The file the output ends up in (null for stdout). */
    readonly target: string | null,
  ) {}

  /** Stdout: streams, nothing to rename. */
  static stdout(): ScoreOutput {
    return new ScoreOutput(openJsonlWriter('-'), null, null);
  }

  /** Whether `target` exists and is not a regular file (`/dev/null`, a FIFO, a terminal): written in place, never replaced. */
  static isSpecial(target: string): boolean {
    return existsSync(target) && !statSync(target).isFile();
  }

  /** A fresh run: `OUT.partial` is created (truncated). */
  static fresh(target: string): ScoreOutput {
    if (ScoreOutput.isSpecial(target)) return new ScoreOutput(openJsonlWriter(target), null, null);
    const partial = partialPath(target);
    return new ScoreOutput(openJsonlWriter(partial, { gzip: target.endsWith('.gz') }), partial, target);
  }

  /**
   * A resumed run: appends to the earlier output (moved to `OUT.partial` if it was `OUT`); a `.gz` gets a
   * new gzip member. An unclean earlier file is first rewritten with only its whole lines.
   */
  static async resume(target: string, state: ResumeState): Promise<ScoreOutput> {
    const gzip = target.endsWith('.gz');
    const partial = partialPath(target);
    if (state.from === null) return ScoreOutput.fresh(target);
    if (state.from === target) renameSync(target, partial);
    if (!state.clean) {
      const tmp = `${partial}.tmp`;
      const w = openJsonlWriter(tmp, { gzip });
      try {
        for await (const chunk of readJsonlLines(partial, { gzip })) {
          let text = '';
          for (const l of chunk) if (idOf(l.text) !== null) text += l.text + '\n';
          await w.write(text);
        }
      } catch (e) {
        if (!(e instanceof TruncatedInputError)) throw e;
      }
      await w.close();
      renameSync(tmp, partial);
    }
    return new ScoreOutput(openJsonlWriter(partial, { gzip, append: true }), partial, target);
  }

  /** Ends the stream (gzip trailer written, file closed) and renames `OUT.partial` onto `OUT`. */
  async commit(): Promise<void> {
    await this.writer.close();
    if (this.partial && this.target) renameSync(this.partial, this.target);
  }

  /** Ends the stream and keeps `OUT.partial` (an interrupted run). */
  async keepPartial(): Promise<void> {
    await this.writer.close();
  }

  /** Ends the stream and deletes the partial file (a run that wrote nothing and cannot continue). */
  async discard(): Promise<void> {
    await this.writer.close().catch(() => undefined);
    if (this.partial && existsSync(this.partial)) unlinkSync(this.partial);
  }
}
