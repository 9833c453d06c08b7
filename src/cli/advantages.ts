import { InvalidArgumentError, type Command } from 'commander';
import { advantageSchema, buildEstimator, estimators } from '../advantage/registry.js';
import { zodIssues } from '../spec/errors.js';
import { ownValue } from '../spec/names.js';
import { InputFileError, openJsonlWriter } from '../rollout/jsonl.js';
import { BadLineError, readRolloutBatches } from '../rollout/batches.js';
import { groupKey, textOf } from '../rollout/sample.js';
import type { Rollout } from '../rollout/types.js';
import { rolloutTokenCount } from '../tokenize/count.js';
import { estimateTokens } from '../tokenize/estimate.js';
import { positiveInt } from './args.js';

export interface AdvantagesCommandOptions {
  in: string;
  out: string;
  estimator: string;
  eps?: number;
  option?: string[];
  weights?: string;
  batchSize: number;
  strict?: boolean;
  quiet?: boolean;
}

/** A rollout whose `reward` or `components` cannot feed an estimator. */
class RewardFieldError extends Error {}

function numberOrNull(v: unknown, what: string): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RewardFieldError(`${what}: expected a finite number or null, got ${JSON.stringify(v)}`);
  return v;
}

/** `key=value` → [key, parsed value] (JSON when it parses, else the string). */
function keyValue(s: string): [string, unknown] {
  const i = s.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`expected key=value, got "${s}"`);
  const raw = s.slice(i + 1);
  try {
    return [s.slice(0, i), JSON.parse(raw)];
  } catch {
    return [s.slice(0, i), raw];
  }
}

/**
 * `rewardkit advantages`: recomputes advantages for rollouts scored elsewhere, from their `reward`,
 * `components` and `group` (or prompt), with any estimator. Batches hold whole groups as in `score`.
 * Returns the exit code (1 for bad input under --strict or a reward that is NaN/Infinity).
 */
export async function runAdvantages(o: AdvantagesCommandOptions, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const section: Record<string, unknown> = { estimator: o.estimator };
  if (o.eps !== undefined) section.eps = o.eps;
  for (const kv of o.option ?? []) {
    const [k, v] = keyValue(kv);
    section[k] = v;
  }
  const parsed = advantageSchema.safeParse(section);
  if (!parsed.success) {
    for (const i of zodIssues(parsed.error)) log(`error: ${i.path === 'estimator' ? '--estimator' : `--option ${i.path}`}: ${i.message}`);
    return 2;
  }
  const estimator = buildEstimator(parsed.data);
  let names: string[] | null = null;
  let weights: Float64Array | null = null;
  const given = o.weights ? Object.fromEntries(o.weights.split(',').map((kv) => keyValue(kv.trim()))) : {};

  let writer;
  try {
    writer = openJsonlWriter(o.out);
  } catch (e) {
    log(`error: cannot write ${o.out}: ${(e as Error).message}`);
    return 1;
  }
  let rollouts = 0;
  let badLines = 0;
  try {
    for await (const { rollouts: batch } of readRolloutBatches(o.in, {
      batchSize: o.batchSize,
      strict: o.strict,
      onBadLine: (line, reason) => {
        badLines++;
        if (badLines <= 20) log(`warning: ${o.in}:${line}: ${reason} (line skipped)`);
      },
    })) {
      const n = batch.length;
      if (names === null) {
        const first = batch[0]!.components;
        names = first && typeof first === 'object' ? Object.keys(first) : [];
        weights = Float64Array.from(names.map((k) => Number(ownValue(given, k) ?? 1)));
      }
      const rewards = new Float64Array(n);
      const components = names.map(() => new Float64Array(n));
      const groupOf = new Int32Array(n);
      const completionLengths = new Float64Array(n);
      const index = new Map<string, number>();
      batch.forEach((r: Rollout, i) => {
        completionLengths[i] = rolloutTokenCount(r) ?? estimateTokens(textOf(r.completion, 'completion'));
        try {
          rewards[i] = numberOrNull(r.reward, 'reward');
          const comps = (r.components ?? {}) as Record<string, unknown>;
          names!.forEach((k, c) => (components[c]![i] = numberOrNull(ownValue(comps, k), `components.${k}`)));
        } catch (e) {
          if (e instanceof RewardFieldError) throw new RewardFieldError(`rollout "${r.id}": ${e.message}`);
          throw e;
        }
        const key = groupKey(r, textOf(r.prompt, 'prompt'));
        let g = index.get(key);
        if (g === undefined) index.set(key, (g = index.size));
        groupOf[i] = g;
      });
      const adv = estimator.compute({ rewards, components, weights: weights!, groupOf, groupCount: index.size, completionLengths });
      let text = '';
      for (let i = 0; i < n; i++) {
        const a = adv[i]!;
        text += JSON.stringify({ ...batch[i]!, advantage: a === a ? a : null }) + '\n';
      }
      await writer.write(text);
      rollouts += n;
    }
    await writer.close();
  } catch (e) {
    if (e instanceof BadLineError) {
      log(`error: ${o.in}:${e.line}: ${e.reason}`);
      return 1;
    }
    if (e instanceof InputFileError || e instanceof RewardFieldError) {
      log(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (!o.quiet) log(`advantages (${o.estimator}) for ${rollouts.toLocaleString('en-US')} rollouts → ${o.out}${badLines ? ` (${badLines} bad lines skipped)` : ''}`);
  return 0;
}

function finite(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
}

/** Registers `rewardkit advantages`. */
export function registerAdvantages(program: Command): void {
  program
    .command('advantages')
    .description('Recompute advantages for scored rollouts (uses reward, components and group) with any estimator.')
    .requiredOption('-i, --in <file>', 'scored rollouts: .jsonl, .jsonl.gz, or - for stdin')
    .option('-o, --out <file>', 'output: .jsonl, .jsonl.gz, or - for stdout', '-')
    .requiredOption('-e, --estimator <name>', `one of: ${Object.keys(estimators).join(', ')}`)
    .option('--eps <x>', 'the estimator\'s epsilon (grpo default 1e-6, gdpo 1e-4)', finite)
    .option('--option <key=value...>', 'any other estimator param, e.g. --option std=population --option scale=batch')
    .option('--weights <name=w,...>', 'component weights for gdpo (default 1 each)')
    .option('--batch-size <n>', 'rollouts per batch (closed at the next group boundary)', positiveInt, 1024)
    .option('--strict', 'stop at the first malformed line (exit 1)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: AdvantagesCommandOptions) => {
      process.exitCode = await runAdvantages(opts);
    });
}
