import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CompiledSpec } from '../spec/compile_core.js';
import { compileSpecFileAsync } from '../spec/load_async.js';
import { SpecError } from '../spec/errors.js';
import { InputFileError, TruncatedInputError } from '../rollout/jsonl.js';
import { outputClash, outputTarget, partialPath, readResumeState, ScoreOutput, type ResumeState } from './output.js';
import { BadLineError, readRolloutBatches } from '../rollout/batches.js';
import type { Rollout, ScoredRollout } from '../rollout/types.js';
import { scoreBatch } from '../pipeline.js';
import { Progress } from './progress.js';
import { ScoreSummary } from './summary.js';
import { positiveInt } from './args.js';

export interface ScoreCommandOptions {
  spec: string;
  in: string;
  out: string;
  details?: boolean;
  strict?: boolean;
  batchSize: number;
  diagnostics?: string;
  quiet?: boolean;
  progress?: boolean;
  /** Print progress as plain lines at most every this many seconds when stderr is not a terminal (0: after every batch). */
  progressInterval?: number;
  /** Continue an interrupted run: skip the rollouts whose ids are already in `OUT.partial` (or `OUT`) and append the rest. */
  resume?: boolean;
  /** Max bad-line messages printed before only counting them. */
  maxReported?: number;
  /** Score on workers through Redis (BullMQ): `redis://HOST:PORT/DB` (src/cli/queue.ts). */
  queue?: string;
  /** With `queue`: chunks enqueued ahead of the next one to write (in flight plus reorder buffer). */
  window?: number;
  /** With `queue`: seconds Redis may be unreachable before the run fails. */
  redisTimeout?: number;
}

/** Exit code of a run stopped by a signal: 128 + the signal's number, as shells report it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Quotes a word for a POSIX shell when it needs it. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line that continues an interrupted run: the same options, plus `--resume`. */
export function resumeCommand(o: ScoreCommandOptions): string {
  const args = ['rewardkit', 'score', '--spec', o.spec, '--in', o.in, '--out', o.out];
  if (o.details) args.push('--details');
  if (o.strict) args.push('--strict');
  if (o.batchSize !== 1024) args.push('--batch-size', String(o.batchSize));
  if (o.diagnostics) args.push('--diagnostics', o.diagnostics);
  if (o.quiet) args.push('--quiet');
  if (o.progress === false) args.push('--no-progress');
  if (o.progressInterval !== undefined) args.push('--progress-interval', String(o.progressInterval));
  if (o.queue) args.push('--queue', o.queue);
  if (o.queue && o.window !== undefined) args.push('--window', String(o.window));
  if (o.queue && o.redisTimeout !== undefined) args.push('--redis-timeout', String(o.redisTimeout));
  args.push('--resume');
  return args.map(shellWord).join(' ');
}

const OUTPUT_KEYS = ['reward', 'components', 'advantage', 'details', 'errors'] as const;

/**
 * The scored rollout `scoreBatch` returns without `slim`, rebuilt from the input and a result (full or
 * `slim`): the input's keys in their order, then the result's new keys in its order; `advantage`,
 * `details` and `errors` the result does not carry are dropped from the input, as `scoreBatch` does.
 */
function mergeScored(input: Rollout, scored: ScoredRollout): ScoredRollout {
  const out: Record<string, unknown> = { ...input };
  for (const k of Object.keys(scored)) if (k !== 'id' && k !== 'group') out[k] = (scored as unknown as Record<string, unknown>)[k];
  for (const k of ['advantage', 'details', 'errors'] as const) if (!(k in scored)) delete out[k];
  return out as unknown as ScoredRollout;
}

/**
 * The output line of one rollout: its input line with the output fields appended, so the input's text
 * (prompt, completion — most of the bytes) is not serialised again. An input that already carries an
 * output field (a scored file scored again), or whose steps got step-level credit, is serialised
 * whole, so no key appears twice. `scored` is `scoreBatch`'s result for it, full or `slim` (the CLI
 * asks for slim results: copying every input rollout into its result was the pipeline's costliest line).
 */
export function scoredLine(input: Rollout, line: string, scored: ScoredRollout): string {
  for (const k of OUTPUT_KEYS) if (k in input) return JSON.stringify(mergeScored(input, scored));
  // credited steps (and their token values) replace the input's; token values of a rollout without steps too
  if ((scored.steps !== undefined && scored.steps !== input.steps) || scored.token_rewards !== undefined) return JSON.stringify(mergeScored(input, scored));
  // What JSON.stringify({reward, components, advantage?, details?, errors?}) gives, written directly.
  let fields = `,"reward":${jsonNumber(scored.reward)},"components":{`;
  let first = true;
  for (const name in scored.components) {
    fields += `${first ? '' : ','}${jsonKey(name)}:${jsonNumber(scored.components[name]!)}`;
    first = false;
  }
  fields += '}';
  if ('advantage' in scored && scored.advantage !== undefined) fields += `,"advantage":${jsonNumber(scored.advantage)}`;
  if (scored.details) fields += `,"details":${JSON.stringify(scored.details)}`;
  if (scored.errors) fields += `,"errors":${JSON.stringify(scored.errors)}`;
  const body = line.trimEnd();
  return body.slice(0, -1) + fields + '}';
}

/** A number as JSON writes it (non-finite and null → null). */
function jsonNumber(v: number | null): string {
  return v === null || !Number.isFinite(v) ? 'null' : String(v);
}

const quotedKeys = new Map<string, string>();
/** A key as JSON writes it, remembered: component names repeat on every line. */
function jsonKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 1024) quotedKeys.set(k, q);
  }
  return q;
}

/**
 * `rewardkit score`: streams rollouts from a JSONL file through the spec and writes scored rollouts.
 * Batches hold whole groups (rollouts of a group must be contiguous in the file, as trainers write them);
 * a batch closes at the first group boundary after `batchSize` rollouts. Returns the exit code.
 *
 * No data lost: an output that is an input (same path, symlink or hard link) is refused (exit 2); the
 * output is written to `OUT.partial` and renamed onto `OUT` at the end; SIGINT/SIGTERM stop the run
 * after the last whole batch written, close the (gzip) stream, keep `OUT.partial`, print how many
 * rollouts it holds and the `--resume` command, and return 130/143. A truncated `.gz` input is scored
 * up to the line where it breaks, written, and reported (exit 1).
 *
 * With `queue` (`--queue redis://…`), the batches are scored by `rewardkit worker` processes through
 * BullMQ ({@link submitChunks}, src/cli/queue.ts) and written in input order, each once; specs with
 * state across batches are refused (exit 2); Redis away longer than `redisTimeout` or a failed chunk
 * stops the run (exit 1) with `OUT.partial` kept for `--resume`.
 */
export async function runScore(o: ScoreCommandOptions, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const usage = checkPaths(o);
  if (usage) {
    log(`error: ${usage}`);
    return 2;
  }
  let compiled: CompiledSpec;
  try {
    compiled = await compileSpecFileAsync(o.spec);
  } catch (e) {
    if (e instanceof SpecError) {
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  // The queue path (BullMQ, ioredis) is loaded only with --queue: plain runs do not pay its start-up.
  const queue = o.queue ? await import('./queue.js') : null;
  if (queue) {
    const refusal = queue.queueRefusal(compiled);
    if (refusal) {
      await compiled.close();
      log(`error: --queue: ${refusal}`);
      return 2;
    }
  }
  let code = 70;
  try {
    code = await scoreWith(compiled, o, log, queue);
    return code;
  } finally {
    // After a signal, graders may still be busy with the batch in flight: give them a moment, no more.
    const close = compiled.close();
    if (code in SIGNAL_CODES) await Promise.race([close.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    else await close;
  }
}

/** The `--queue` path's module, loaded only when asked for. */
type QueueModule = typeof import('./queue.js');

const SIGNAL_CODES: Record<number, true> = { 130: true, 143: true };

/** Usage problems with the paths, as a sentence (exit 2), or null. */
function checkPaths(o: ScoreCommandOptions): string | null {
  if (o.resume && o.out === '-') return '--resume needs --out FILE: a run written to stdout cannot be continued';
  const target = outputTarget(o.out);
  if (o.resume && ScoreOutput.isSpecial(target)) return `--resume needs --out FILE: ${o.out} is not a regular file`;
  const clash = outputClash([o.in], [o.out, ...(o.out === '-' ? [] : [partialPath(target)]), ...(o.diagnostics ? [o.diagnostics] : [])]);
  if (clash) return clash;
  if (o.out !== '-' && !o.resume && !ScoreOutput.isSpecial(target) && existsSync(partialPath(target)))
    return `${partialPath(target)} exists: an earlier run of this output was interrupted. Add --resume to continue it, or delete the file to start over.`;
  return null;
}

async function scoreWith(compiled: CompiledSpec, o: ScoreCommandOptions, log: (s: string) => void, queue: QueueModule | null): Promise<number> {
  const summaryOut = o.out === '-' ? log : (s: string) => process.stdout.write(s + '\n');
  const maxReported = o.maxReported ?? 20;
  const progress = new Progress(!o.quiet && o.progress !== false, o.progressInterval);
  const summary = new ScoreSummary(compiled.names, compiled.spec.diagnostics);
  let badLines = 0;
  let splitGroups = 0;
  let graderErrors = 0;
  let duplicates = 0;
  const firstDuplicates: string[] = [];
  let skipped = 0;

  if (o.in !== '-' && !existsSync(o.in)) {
    log(`error: ${o.in}: no such file`);
    return 1;
  }
  const target = outputTarget(o.out);
  let output: ScoreOutput;
  let resumed: ResumeState | null = null;
  try {
    if (o.out === '-') output = ScoreOutput.stdout();
    else if (o.resume) {
      resumed = await readResumeState(target, target.endsWith('.gz'));
      output = await ScoreOutput.resume(target, resumed);
      if (!o.quiet) {
        if (resumed.from === null) log(`note: --resume: no ${partialPath(target)} or ${target} yet, starting from the beginning`);
        else log(`resuming: ${resumed.rollouts.toLocaleString('en-US')} rollouts already in ${resumed.from}${resumed.clean ? '' : ' (its torn last line was dropped)'} are skipped`);
      }
    } else output = ScoreOutput.fresh(target);
  } catch (e) {
    log(`error: cannot write ${o.out}: ${(e as Error).message}`);
    return 1;
  }
  const before = resumed?.rollouts ?? 0;
  const where = output.partial ?? (o.out === '-' ? 'stdout' : o.out);

  // Signals: the first stops the run after the last whole batch written; a second one exits at once.
  // Each wait gets its own wake-up (one promise raced for the whole run would keep every batch's result alive).
  let signal: NodeJS.Signals | null = null;
  let wake: (() => void) | null = null;
  const untilSignal = <T>(p: Promise<T>): Promise<T | null> =>
    signal
      ? Promise.resolve(null)
      : new Promise<T | null>((res, rej) => {
          wake = () => res(null);
          p.then(res, rej);
        });
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) {
      process.stderr.write(`\n${s} again: exiting now; ${where} may end in a torn line (--resume drops it)\n`);
      process.exit(SIGNAL_EXIT[s] ?? 130);
    }
    signal = s;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const batches = readRolloutBatches(o.in, {
      batchSize: o.batchSize,
      strict: o.strict,
      skipIds: resumed?.ids,
      onSkip: () => skipped++,
      onBadLine: (line, reason) => {
        badLines++;
        if (badLines <= maxReported) log(`warning: ${o.in}:${line}: ${reason} (line skipped)`);
      },
      onSplitGroup: (line, id) => {
        splitGroups++;
        if (splitGroups <= maxReported)
          log(`warning: ${o.in}:${line}: the group of rollout "${id}" appeared earlier and was already scored; its group statistics are computed per contiguous run (keep a group's rollouts together)`);
      },
      onDuplicateId: (line, id, first) => {
        duplicates++;
        if (firstDuplicates.length < 5) firstDuplicates.push(`"${id}" at line ${line} (first at line ${first})`);
      },
    });
    if (queue && o.queue) {
      await queue.submitChunks(batches, {
        url: o.queue,
        spec: { path: resolve(o.spec), dir: dirname(resolve(o.spec)) },
        details: o.details === true,
        window: o.window ?? 8,
        redisTimeout: o.redisTimeout ?? 60,
        input: o.in,
        stopped: () => signal !== null,
        untilSignal,
        write: async (text, columns, withErrors, errors) => {
          await output.writer.write(text);
          graderErrors += errors;
          summary.add(columns, withErrors);
        },
        progress: (_, suffix) => progress.update(summary.rollouts, graderErrors, badLines, false, suffix),
        log,
      });
    }
    const it = o.queue ? null : batches[Symbol.asyncIterator]();
    while (it) {
      const got = await untilSignal(it.next());
      if (got === null || signal) break;
      if (got.done) break;
      const { rollouts: batch, lines } = got.value;
      const res = await untilSignal(scoreBatch(compiled, batch, { details: o.details, slim: true }));
      if (res === null || signal) break;
      let withErrors = 0;
      let text = '';
      for (let i = 0; i < res.results.length; i++) {
        const r = res.results[i]!;
        if (r.errors) {
          withErrors++;
          graderErrors += r.errors.length;
        }
        text += scoredLine(batch[i]!, lines[i]!, r) + '\n';
      }
      await output.writer.write(text);
      summary.add(res.columns, withErrors);
      progress.update(summary.rollouts, graderErrors, badLines);
    }
    progress.done();
    if (signal) {
      await output.keepPartial();
      const n = before + summary.rollouts;
      if (output.partial)
        log(
          `interrupted by ${signal}: ${output.partial} holds ${n.toLocaleString('en-US')} scored rollouts (${summary.rollouts.toLocaleString('en-US')} from this run), whole lines${target.endsWith('.gz') ? ', gzip stream closed' : ''}; ${target} was not written. To continue:\n  ${resumeCommand(o)}`,
        );
      else log(`interrupted by ${signal}: ${summary.rollouts.toLocaleString('en-US')} scored rollouts written to ${o.out === '-' ? 'stdout' : o.out} (whole lines)`);
      return SIGNAL_EXIT[signal] ?? 130;
    }
    await output.commit();
  } catch (e) {
    progress.done();
    const n = before + summary.rollouts;
    const holds = `${o.out === '-' ? 'stdout' : o.out} holds the ${n.toLocaleString('en-US')} rollouts scored before it`;
    if (e instanceof BadLineError) {
      // What was scored before the bad line is kept, so a --strict run can be inspected.
      await output.commit().catch(() => undefined);
      log(`error: ${o.in}:${e.line}: ${e.reason} (${holds})`);
      return 1;
    }
    if (e instanceof TruncatedInputError) {
      await output.commit().catch(() => undefined);
      log(`error: ${o.in}:${e.line}: the compressed input breaks here (${e.reason}); the lines before it were scored and ${holds}`);
      return 1;
    }
    if (queue && e instanceof queue.QueueRunError) {
      if (n === 0 && !resumed) {
        await output.discard().catch(() => undefined);
        log(`error: ${e.message}; nothing was written`);
        return 1;
      }
      await output.keepPartial().catch(() => undefined);
      log(`error: ${e.message}. ${output.partial ?? o.out} holds ${n.toLocaleString('en-US')} scored rollouts, whole lines, in input order${output.partial ? `; once Redis and the workers are back, continue with:\n  ${resumeCommand(o)}` : ''}`);
      return 1;
    }
    if (e instanceof InputFileError) {
      if (n === 0) await output.discard();
      else await output.keepPartial().catch(() => undefined);
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (duplicates > 0) {
    log(
      `warning: ${duplicates.toLocaleString('en-US')} rollout${duplicates === 1 ? ' has an id' : 's have ids'} seen earlier in ${o.in}: ${firstDuplicates.join(', ')}${duplicates > firstDuplicates.length ? ', …' : ''} (each was scored; --strict makes a duplicate id an error)`,
    );
  }

  const backendStats = compiled.backends?.stats();
  const diagnostics = summary.diagnostics.result();
  const json = {
    spec: compiled.spec.name,
    input: o.in,
    bad_lines: badLines,
    split_groups: splitGroups,
    duplicate_ids: duplicates,
    ...(resumed ? { resumed_skipped: skipped } : {}),
    rollouts_with_errors: summary.rolloutsWithErrors,
    reward_quantiles: summary.quantiles(),
    ...diagnostics,
    ...(backendStats ? { backends: backendStats } : {}),
  };
  if (o.diagnostics) {
    mkdirSync(dirname(o.diagnostics), { recursive: true });
    writeFileSync(o.diagnostics, JSON.stringify(json, null, 2) + '\n');
  }
  if (!o.quiet) {
    summaryOut(`scored ${summary.rollouts.toLocaleString('en-US')} rollouts in ${diagnostics.groups.toLocaleString('en-US')} groups with spec "${compiled.spec.name}" → ${o.out}`);
    summaryOut(summary.render(diagnostics));
    const notes: string[] = [];
    if (resumed) notes.push(`--resume: ${skipped} rollouts already in the output skipped; the summary covers this run only`);
    if (badLines > 0) notes.push(`${badLines} bad input lines skipped`);
    if (duplicates > 0) notes.push(`${duplicates} duplicate ids`);
    if (summary.rolloutsWithErrors > 0) notes.push(`${summary.rolloutsWithErrors} rollouts with grader errors (see their "errors")`);
    if (splitGroups > 0) notes.push(`${splitGroups} groups split across batches`);
    if (backendStats)
      for (const [name, st] of Object.entries(backendStats))
        summaryOut(
          `backend ${name}: ${st.requests} requests, ${st.cache_hits} from cache, ${st.calls} calls, ${st.retries} retries, ${st.errors} failed; tokens ${st.prompt_tokens} in, ${st.completion_tokens} out`,
        );
    if (notes.length > 0) summaryOut(`note: ${notes.join('; ')}`);
  }
  return 0;
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number of seconds ≥ 0, got "${v}"`);
  return n;
}

/** Registers `rewardkit score`. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description('Score a JSONL file of rollouts with a reward spec; writes scored rollouts and prints a summary.')
    .requiredOption('-s, --spec <file>', 'reward spec (.yaml, .yml or .json)')
    .requiredOption('-i, --in <file>', 'input rollouts: .jsonl, .jsonl.gz, or - for stdin')
    .option('-o, --out <file>', 'output: .jsonl, .jsonl.gz, or - for stdout; a file is written as OUT.partial and renamed at the end (never an input)', '-')
    .option('--details', "add each grader's details to the output rollouts")
    .option('--strict', 'stop at the first malformed line (exit 1) instead of skipping and counting it')
    .option('--batch-size <n>', 'rollouts per batch (closed at the next group boundary); groups and batch-level estimators see one batch', positiveInt, 1024)
    .option('--diagnostics <file>', 'write the run\'s diagnostics (merged over batches) and summary as JSON')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-progress', 'no progress line on a terminal')
    .option('--progress-interval <seconds>', 'when stderr is not a terminal (logs, CI), print progress as plain lines at most this often (0: after every batch)', nonNegative)
    .option('--queue <url>', 'score on `rewardkit worker` processes through Redis (BullMQ): redis://HOST:PORT/DB; output in input order')
    .option('--window <n>', 'with --queue: chunks (batches) enqueued ahead of the next one written, bounding memory (default 8)', positiveInt)
    .option('--redis-timeout <seconds>', 'with --queue: how long Redis may be unreachable before the run fails (default 60)', nonNegative)
    .option('--resume', 'continue an interrupted run: skip rollouts whose ids are already in OUT.partial (or OUT), append the rest, then rename onto OUT')
    .action(async (opts: ScoreCommandOptions) => {
      const code = await runScore(opts);
      // An interrupted run stops now: the input stream and any grader still busy are abandoned.
      if (code in SIGNAL_CODES) process.exit(code);
      process.exitCode = code;
    });
}
