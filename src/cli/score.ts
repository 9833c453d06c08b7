import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadSpecFile } from '../spec/load.js';
import { compileSpec, type CompiledSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { InputFileError, openJsonlWriter, readJsonlLines } from '../rollout/jsonl.js';
import { RolloutError, validateRollout } from '../rollout/validate.js';
import { groupKey, textOf } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
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
  summaryJson?: string;
  quiet?: boolean;
  progress?: boolean;
  /** Max bad-line messages printed before only counting them. */
  maxReported?: number;
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
  const summaryOut = o.out === '-' ? log : (s: string) => process.stdout.write(s + '\n');
  const maxReported = o.maxReported ?? 20;
  const progress = new Progress(!o.quiet && o.progress !== false);
  const summary = new ScoreSummary(compiled.names, compiled.spec.diagnostics);
  let badLines = 0;
  let splitGroups = 0;
  let graderErrors = 0;
  const closed = new Set<number>();

  let writer;
  try {
    writer = openJsonlWriter(o.out);
  } catch (e) {
    log(`error: cannot write ${o.out}: ${(e as Error).message}`);
    return 1;
  }

  let pending: Rollout[] = [];
  let pendingKeys = new Set<number>();
  let lastKey = NaN;

  const flush = async () => {
    if (pending.length === 0) return;
    const { results, columns } = await scoreBatch(compiled, pending, { details: o.details });
    let withErrors = 0;
    let text = '';
    for (const r of results) {
      if (r.errors) {
        withErrors++;
        graderErrors += r.errors.length;
      }
      text += JSON.stringify(r) + '\n';
    }
    await writer.write(text);
    summary.add(columns, withErrors);
    for (const k of pendingKeys) closed.add(k);
    pending = [];
    pendingKeys = new Set();
    progress.update(summary.rollouts, graderErrors, badLines);
  };

  const bad = (line: number, msg: string): boolean => {
    badLines++;
    if (o.strict) {
      progress.done();
      log(`error: ${o.in}:${line}: ${msg}`);
      return true;
    }
    if (badLines <= maxReported) log(`warning: ${o.in}:${line}: ${msg} (line skipped)`);
    return false;
  };

  try {
    for await (const lines of readJsonlLines(o.in)) {
      for (const l of lines) {
        if (l.tooLong) {
          if (bad(l.line, 'line too long')) return 1;
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(l.text);
        } catch (e) {
          if (bad(l.line, `invalid JSON: ${(e as Error).message}`)) return 1;
          continue;
        }
        let r: Rollout;
        try {
          r = validateRollout(value);
        } catch (e) {
          if (e instanceof RolloutError) {
            if (bad(l.line, e.message)) return 1;
            continue;
          }
          throw e;
        }
        const key = keyHash(groupKey(r, textOf(r.prompt, 'prompt')));
        if (key !== lastKey) {
          if (pending.length >= o.batchSize) await flush();
          if (closed.has(key)) {
            splitGroups++;
            if (splitGroups <= maxReported)
              log(`warning: ${o.in}:${l.line}: group of rollout "${r.id}" appeared earlier and was already scored; its group statistics are computed per contiguous run (keep a group's rollouts together)`);
          }
          lastKey = key;
        }
        pending.push(r);
        pendingKeys.add(key);
      }
    }
    await flush();
    await writer.close();
  } catch (e) {
    progress.done();
    if (e instanceof InputFileError) {
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  progress.done();

  const diagnostics = summary.diagnostics.result();
  const json = {
    spec: compiled.spec.name,
    input: o.in,
    bad_lines: badLines,
    split_groups: splitGroups,
    rollouts_with_errors: summary.rolloutsWithErrors,
    reward_quantiles: summary.quantiles(),
    ...diagnostics,
  };
  if (o.summaryJson) writeFileSync(o.summaryJson, JSON.stringify(json, null, 2) + '\n');
  if (o.diagnostics) writeFileSync(o.diagnostics, JSON.stringify(json, null, 2) + '\n');
  if (!o.quiet) {
    summaryOut(`scored ${summary.rollouts.toLocaleString('en-US')} rollouts in ${diagnostics.groups.toLocaleString('en-US')} groups with spec "${compiled.spec.name}" → ${o.out}`);
    summaryOut(summary.render(diagnostics));
    const notes: string[] = [];
    if (badLines > 0) notes.push(`${badLines} bad input lines skipped`);
    if (summary.rolloutsWithErrors > 0) notes.push(`${summary.rolloutsWithErrors} rollouts with grader errors (see their "errors")`);
    if (splitGroups > 0) notes.push(`${splitGroups} groups split across batches`);
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
    .option('--diagnostics <file>', 'write the batch diagnostics and summary as JSON')
    .option('--summary-json <file>', 'write the end-of-run summary as JSON')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-progress', 'no progress line on a terminal')
    .action(async (opts: ScoreCommandOptions) => {
      process.exitCode = await runScore(opts);
    });
}
