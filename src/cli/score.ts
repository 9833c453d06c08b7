import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadSpecFile } from '../spec/load.js';
import { compileSpec, type CompiledSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { InputFileError, openJsonlWriter } from '../rollout/jsonl.js';
import { BadLineError, readRolloutBatches } from '../rollout/batches.js';
import type { Rollout, ScoredRollout } from '../rollout/types.js';
import { scoreBatch } from '../pipeline.js';
import { Progress } from './progress.js';
import { ScoreSummary } from './summary.js';

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
  /** Max bad-line messages printed before only counting them. */
  maxReported?: number;
}

const OUTPUT_KEYS = ['reward', 'components', 'advantage', 'details', 'errors'] as const;

/**
 * The output line of one rollout: its input line with the output fields appended, so the input's text
 * (prompt, completion — most of the bytes) is not serialised again. An input that already carries an
 * output field (a scored file scored again), or whose steps got step-level credit, is serialised
 * whole, so no key appears twice.
 */
export function scoredLine(input: Rollout, line: string, scored: ScoredRollout): string {
  for (const k of OUTPUT_KEYS) if (k in input) return JSON.stringify(scored);
  if (scored.steps !== input.steps) return JSON.stringify(scored); // credited steps replace the input's
  const fields: Partial<ScoredRollout> = { reward: scored.reward, components: scored.components };
  if ('advantage' in scored) fields.advantage = scored.advantage;
  if (scored.details) fields.details = scored.details;
  if (scored.errors) fields.errors = scored.errors;
  const body = line.trimEnd();
  return `${body.slice(0, -1)},${JSON.stringify(fields).slice(1)}`;
}

/**
 * `rewardkit score`: streams rollouts from a JSONL file through the spec and writes scored rollouts.
 * Batches hold whole groups (rollouts of a group must be contiguous in the file, as trainers write them);
 * a batch closes at the first group boundary after `batchSize` rollouts. Returns the exit code.
 */
export async function runScore(o: ScoreCommandOptions, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let compiled: CompiledSpec;
  try {
    const loaded = loadSpecFile(o.spec);
    compiled = compileSpec(loaded.spec, { source: o.spec, specDir: loaded.dir });
  } catch (e) {
    if (e instanceof SpecError) {
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  try {
    return await scoreWith(compiled, o, log);
  } finally {
    await compiled.close();
  }
}

async function scoreWith(compiled: CompiledSpec, o: ScoreCommandOptions, log: (s: string) => void): Promise<number> {
  const summaryOut = o.out === '-' ? log : (s: string) => process.stdout.write(s + '\n');
  const maxReported = o.maxReported ?? 20;
  const progress = new Progress(!o.quiet && o.progress !== false);
  const summary = new ScoreSummary(compiled.names, compiled.spec.diagnostics);
  let badLines = 0;
  let splitGroups = 0;
  let graderErrors = 0;

  let writer;
  try {
    writer = openJsonlWriter(o.out);
  } catch (e) {
    log(`error: cannot write ${o.out}: ${(e as Error).message}`);
    return 1;
  }

  const score = async (batch: Rollout[], lines: string[]) => {
    const { results, columns } = await scoreBatch(compiled, batch, { details: o.details });
    let withErrors = 0;
    let text = '';
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.errors) {
        withErrors++;
        graderErrors += r.errors.length;
      }
      text += scoredLine(batch[i]!, lines[i]!, r) + '\n';
    }
    await writer.write(text);
    summary.add(columns, withErrors);
    progress.update(summary.rollouts, graderErrors, badLines);
  };

  try {
    const batches = readRolloutBatches(o.in, {
      batchSize: o.batchSize,
      strict: o.strict,
      onBadLine: (line, reason) => {
        badLines++;
        if (badLines <= maxReported) log(`warning: ${o.in}:${line}: ${reason} (line skipped)`);
      },
      onSplitGroup: (line, id) => {
        splitGroups++;
        if (splitGroups <= maxReported)
          log(`warning: ${o.in}:${line}: the group of rollout "${id}" appeared earlier and was already scored; its group statistics are computed per contiguous run (keep a group's rollouts together)`);
      },
    });
    for await (const { rollouts, lines } of batches) await score(rollouts, lines);
    await writer.close();
  } catch (e) {
    progress.done();
    if (e instanceof BadLineError) {
      // What was scored before the bad line is kept, so a --strict run can be inspected.
      await writer.close().catch(() => undefined);
      log(`error: ${o.in}:${e.line}: ${e.reason}`);
      return 1;
    }
    if (e instanceof InputFileError) {
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  progress.done();

  const backendStats = compiled.backends?.stats();
  const diagnostics = summary.diagnostics.result();
  const json = {
    spec: compiled.spec.name,
    input: o.in,
    bad_lines: badLines,
    split_groups: splitGroups,
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
    if (badLines > 0) notes.push(`${badLines} bad input lines skipped`);
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

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

/** Registers `rewardkit score`. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description('Score a JSONL file of rollouts with a reward spec; writes scored rollouts and prints a summary.')
    .requiredOption('-s, --spec <file>', 'reward spec (.yaml, .yml or .json)')
    .requiredOption('-i, --in <file>', 'input rollouts: .jsonl, .jsonl.gz, or - for stdin')
    .option('-o, --out <file>', 'output: .jsonl, .jsonl.gz, or - for stdout', '-')
    .option('--details', "add each grader's details to the output rollouts")
    .option('--strict', 'stop at the first malformed line (exit 1) instead of skipping and counting it')
    .option('--batch-size <n>', 'rollouts per batch (closed at the next group boundary); groups and batch-level estimators see one batch', positiveInt, 1024)
    .option('--diagnostics <file>', 'write the run\'s diagnostics (merged over batches) and summary as JSON')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-progress', 'no progress line on a terminal')
    .action(async (opts: ScoreCommandOptions) => {
      process.exitCode = await runScore(opts);
    });
}
