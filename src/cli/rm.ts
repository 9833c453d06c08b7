import { InvalidArgumentError, type Command } from 'commander';
import { EvalInputError } from '../evaluate/io.js';
import { InputFileError } from '../rollout/jsonl.js';
import type { RmTrainResult } from '../rm/run.js';
import { num } from './table.js';
import { positiveInt, nonNegInt, number } from './args.js';

/** Options of `rewardkit rm train` as commander parses them. */
export interface RmTrainCommandOptions {
  in: string;
  out: string;
  epochs?: number;
  lr?: number;
  l2?: number;
  labelSmoothing?: number;
  margin?: number;
  marginField?: string;
  batchSize?: number;
  seed?: number;
  validFrac?: number;
  valid?: string;
  dim?: number;
  ngrams?: number[];
  lengthFeature?: boolean;
  json?: boolean;
  strict?: boolean;
  quiet?: boolean;
}

/** Terminal summary of `rm train`. */
export function renderRmTrainText(r: RmTrainResult): string {
  const o = r.options;
  const lines = [
    `rm train · ${r.pairs.train.toLocaleString('en-US')} training pairs from ${r.input}${r.pairs.valid ? ` · ${r.pairs.valid.toLocaleString('en-US')} held out ${r.valid_input ? `from ${r.valid_input}` : '(split from the input by the seed)'}` : ''}`,
    `features: hashed ${r.features.ngrams.join('+')}-grams in ${r.features.dim.toLocaleString('en-US')} buckets${r.features.lengthFeature ? ' + log length' : ''} · ${r.nonzero_weights.toLocaleString('en-US')} non-zero weights`,
    `loss: Bradley–Terry${o.margin !== 0 ? ` with margin ${typeof o.margin === 'string' ? `from ${o.margin}` : num(o.margin)}` : ''}${o.label_smoothing ? ` and label smoothing ${num(o.label_smoothing)}` : ''} · ${o.epochs} epochs · Adam lr ${num(o.lr)} · L2 ${num(o.l2)} · batch ${o.batch_size} · seed ${o.seed}`,
    `epoch loss: ${r.epoch_loss.map((x) => num(x)).join(' → ')}`,
    `train: accuracy ${num(r.train.accuracy)} · BT loss ${num(r.train.bt_loss)}${r.valid ? ` · held out: accuracy ${num(r.valid.accuracy)} · BT loss ${num(r.valid.bt_loss)}` : ''}`,
  ];
  if (r.out) lines.push(`model → ${r.out} (score rollouts with grader linear_rm, evaluate with rewardkit eval pairs)`);
  if (r.bad_lines) lines.push(`note: ${r.bad_lines} bad input lines skipped`);
  return lines.join('\n');
}

/** `rewardkit rm train`. Returns the exit code. */
export async function runRmTrain(o: RmTrainCommandOptions, io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }): Promise<number> {
  const log = (s: string) => {
    if (!o.quiet) io.err(s);
  };
  try {
    const features = { ...(o.dim !== undefined ? { dim: o.dim } : {}), ...(o.ngrams !== undefined ? { ngrams: o.ngrams } : {}), ...(o.lengthFeature === false ? { lengthFeature: false } : {}) };
    // Imported when the command runs (it loads the evaluation readers), not when `--help` lists commands.
    const { rmTrain } = await import('../rm/run.js');
    const { result } = await rmTrain(o.in, o.out, {
      features,
      epochs: o.epochs,
      lr: o.lr,
      l2: o.l2,
      labelSmoothing: o.labelSmoothing,
      margin: o.margin,
      marginField: o.marginField,
      batchSize: o.batchSize,
      seed: o.seed,
      validFrac: o.validFrac,
      valid: o.valid,
      strict: o.strict,
      log,
    });
    io.out(o.json ? JSON.stringify(result, null, 2) : renderRmTrainText(result));
    return 0;
  } catch (e) {
    if (e instanceof EvalInputError || e instanceof InputFileError) {
      io.err(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function nonNeg(v: string): number {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a non-negative number, got "${v}"`);
  return n;
}
function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
}
function smoothing(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n < 0.5)) throw new InvalidArgumentError(`expected a label-smoothing α in [0, 0.5), got "${v}"`);
  return n;
}
function fraction(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`expected a fraction in [0, 1), got "${v}"`);
  return n;
}
function powerOfTwo(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 256 || n > 1 << 24 || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`expected a power of two in [256, 16777216], got "${v}"`);
  return n;
}
function orders(v: string): number[] {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || !xs.every((n) => Number.isInteger(n) && n >= 1 && n <= 5)) throw new InvalidArgumentError(`expected n-gram orders in 1..5 separated by commas (e.g. 1,2), got "${v}"`);
  return xs;
}

/** Registers `rewardkit rm` and `rm train`. */
export function registerRm(program: Command): void {
  const rm = program.command('rm').description('Train small local reward models (evaluate them with `rewardkit eval pairs`, score with grader linear_rm).');
  rm.command('train')
    .description(
      'Bradley–Terry reward model on hashed n-gram features from {prompt, chosen, rejected} pairs (or transcripts), with the margin and label-smoothing losses of Secrets of RLHF II; seeded and deterministic. Writes a model file for grader linear_rm.',
    )
    .requiredOption('-i, --in <file>', 'training pairs: .jsonl, .jsonl.gz, or - for stdin')
    .requiredOption('-o, --out <model.json>', 'where to write the model file')
    .option('--epochs <n>', 'passes over the training pairs', positiveInt, 10)
    .option('--lr <x>', 'Adam learning rate', positive, 0.05)
    .option('--l2 <x>', 'L2 penalty λ on the weights', nonNeg, 1e-6)
    .option('--label-smoothing <α>', 'loss −[(1−α)·log σ(Δ) + α·log σ(−Δ)]', smoothing, 0)
    .option('--margin <m>', 'constant margin: loss −log σ(Δ − m)', number)
    .option('--margin-field <path>', "each pair's margin from this field (e.g. strength.mean from eval strength: the paper's adaptive margin)")
    .option('--batch-size <n>', 'pairs per Adam step', positiveInt, 32)
    .option('--seed <n>', 'seed of the held-out split and the batch order', nonNegInt, 1)
    .option('--valid-frac <p>', 'share of the pairs held out (0.1 by default; ignored with --valid)', fraction)
    .option('--valid <file>', 'a separate held-out pairs file')
    .option('--dim <n>', 'hash buckets (a power of two)', powerOfTwo, 1 << 18)
    .option('--ngrams <list>', 'n-gram orders, e.g. 1,2', orders, [1, 2])
    .option('--no-length-feature', 'leave out the log-length coordinate')
    .option('--json', 'print the result as one JSON object on stdout')
    .option('--strict', 'stop at the first unusable line (exit 1) instead of skipping and counting it')
    .option('-q, --quiet', 'print nothing but errors and the result')
    .action(async (opts: RmTrainCommandOptions) => {
      process.exitCode = await runRmTrain(opts);
    });
}
