import { writeFileSync } from 'node:fs';
import { textOf } from '../rollout/sample.js';
import { EvalInputError, RecordReader } from '../evaluate/io.js';
import { parsePairRow, PairRowError } from '../evaluate/pairs.js';
import { readPath } from '../evaluate/source.js';
import { mulberry32 } from '../evaluate/stats.js';
import { DEFAULT_FEATURES, checkFeatureConfig, hashedFeatures, type FeatureConfig } from './features.js';
import { pairMetrics, toModel, trainLinear, type LinearRewardModel, type TrainOptions, type TrainPair } from './train.js';

/** Options of `rewardkit rm train`. */
export interface RmTrainOptions extends TrainOptions {
  features?: Partial<FeatureConfig>;
  /** A constant margin m for every pair (default 0). */
  margin?: number;
  /** Read each pair's margin from this field (dotted path, e.g. `strength.mean` written by `eval strength`). */
  marginField?: string;
  /** Share of the pairs held out for validation, chosen by the seed (default 0.1; 0 = none). */
  validFrac?: number;
  /** A separate validation pairs file (instead of validFrac). */
  valid?: string;
  strict?: boolean;
  log?: (s: string) => void;
}

/** The stable JSON of `rm train`. */
export interface RmTrainResult {
  command: 'rm train';
  input: string;
  /** The held-out pairs' file (`--valid`), or null when they were split from `input`. */
  valid_input: string | null;
  out: string | null;
  pairs: { train: number; valid: number };
  features: FeatureConfig;
  options: { epochs: number; lr: number; l2: number; label_smoothing: number; margin: number | string; batch_size: number; seed: number };
  /** Mean training loss (the loss being minimised) after each epoch. */
  epoch_loss: number[];
  train: { accuracy: number; loss: number; bt_loss: number };
  valid: { accuracy: number; bt_loss: number } | null;
  nonzero_weights: number;
  bad_lines: number;
}

async function readPairs(path: string, f: FeatureConfig, o: RmTrainOptions, withMargin = true): Promise<{ pairs: TrainPair[]; badLines: number }> {
  const reader = new RecordReader(path, { strict: o.strict, log: o.log });
  const pairs: TrainPair[] = [];
  for await (const chunk of reader.chunks()) {
    for (const rec of chunk) {
      try {
        const p = parsePairRow(rec.value, rec.line);
        let margin = o.margin ?? 0;
        if (o.marginField && withMargin) {
          const m = readPath(rec.value, o.marginField);
          if (typeof m !== 'number' || !Number.isFinite(m)) throw new PairRowError(o.marginField, `expected the pair's margin (a finite number), got ${JSON.stringify(m) ?? 'nothing'}`);
          margin = m;
        }
        pairs.push({ chosen: hashedFeatures(textOf(p.chosen, 'completion'), f), rejected: hashedFeatures(textOf(p.rejected, 'completion'), f), margin });
      } catch (e) {
        if (e instanceof PairRowError) {
          reader.bad(rec.line, e.message);
          continue;
        }
        throw e;
      }
    }
  }
  return { pairs, badLines: reader.badLines };
}

/**
 * Trains a linear Bradley–Terry reward model on a pairs file (the `eval pairs` format) and, with
 * `out`, writes the model file that grader `linear_rm` loads. Validation: a seeded share of the pairs
 * or a separate file; accuracy is strict (a tie is wrong).
 */
export async function rmTrain(path: string, out: string | null, o: RmTrainOptions = {}): Promise<{ result: RmTrainResult; model: LinearRewardModel }> {
  const features: FeatureConfig = { ...DEFAULT_FEATURES, ...o.features };
  const bad = checkFeatureConfig(features);
  if (bad) throw new EvalInputError(bad);
  if (o.marginField && o.margin !== undefined) throw new EvalInputError('give --margin or --margin-field, not both');
  const validFrac = o.validFrac ?? (o.valid ? 0 : 0.1);
  if (!(validFrac >= 0 && validFrac < 1)) throw new EvalInputError(`validFrac: expected a number in [0, 1), got ${validFrac}`);
  const seed = o.seed ?? 1;
  const { pairs: all, badLines } = await readPairs(path, features, o);
  let train = all;
  let valid: TrainPair[] = [];
  if (o.valid) valid = (await readPairs(o.valid, features, o, false)).pairs; // held-out pairs are scored without margins
  else if (validFrac > 0) {
    const rand = mulberry32(seed ^ 0x5bd1e995);
    const hold = all.map(() => rand() < validFrac);
    train = all.filter((_, i) => !hold[i]);
    valid = all.filter((_, i) => hold[i]);
  }
  if (train.length === 0) throw new EvalInputError(`${path}: no usable training pairs (${badLines} bad lines)`);
  const opts = { epochs: o.epochs ?? 10, lr: o.lr ?? 0.05, l2: o.l2 ?? 1e-6, labelSmoothing: o.labelSmoothing ?? 0, batchSize: o.batchSize ?? 32, seed };
  const { w, epochLoss } = trainLinear(train, features.dim, opts);
  const tr = pairMetrics(w, train, opts.labelSmoothing);
  const trBt = pairMetrics(w, train, 0, false);
  const va = valid.length ? pairMetrics(w, valid, 0, false) : null;
  const result: RmTrainResult = {
    command: 'rm train',
    input: path,
    valid_input: o.valid ?? null,
    out,
    pairs: { train: train.length, valid: valid.length },
    features,
    options: { epochs: opts.epochs, lr: opts.lr, l2: opts.l2, label_smoothing: opts.labelSmoothing, margin: o.marginField ?? o.margin ?? 0, batch_size: opts.batchSize, seed },
    epoch_loss: epochLoss,
    train: { accuracy: tr.accuracy, loss: tr.loss, bt_loss: trBt.loss },
    valid: va ? { accuracy: va.accuracy, bt_loss: va.loss } : null,
    nonzero_weights: 0,
    bad_lines: badLines,
  };
  const model = toModel(w, features, { input: path, pairs: result.pairs, options: result.options, train: result.train, valid: result.valid });
  result.nonzero_weights = model.weights.index.length;
  if (out) writeFileSync(out, JSON.stringify(model) + '\n');
  return { result, model };
}
