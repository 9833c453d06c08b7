import * as z from 'zod';
import { dcpoEstimator } from './dcpo.js';
import { drGrpoEstimator } from './dr_grpo.js';
import { gdpoEstimator } from './gdpo.js';
import { grpoEstimator } from './grpo.js';
import { noneEstimator } from './none.js';
import { reinforcePpEstimator } from './reinforce_pp.js';
import { reinforcePpBaselineEstimator } from './reinforce_pp_baseline.js';
import { rlooEstimator } from './rloo.js';
import type { Estimator, EstimatorKind } from './types.js';

/** Every estimator, by its `estimator:` name in the spec. */
export const estimators = {
  grpo: grpoEstimator,
  dr_grpo: drGrpoEstimator,
  rloo: rlooEstimator,
  reinforce_pp: reinforcePpEstimator,
  reinforce_pp_baseline: reinforcePpBaselineEstimator,
  gdpo: gdpoEstimator,
  dcpo: dcpoEstimator,
  none: noneEstimator,
} as const;

export type EstimatorName = keyof typeof estimators;

function option<const N extends string, S extends z.ZodRawShape>(k: EstimatorKind<N, S>) {
  return z.strictObject({ estimator: z.literal(k.estimator).describe(k.summary), ...k.params });
}

/** The spec's `advantage:` section, discriminated on `estimator`. */
export const advantageSchema = z
  .discriminatedUnion('estimator', [
    option(grpoEstimator),
    option(drGrpoEstimator),
    option(rlooEstimator),
    option(reinforcePpEstimator),
    option(reinforcePpBaselineEstimator),
    option(gdpoEstimator),
    option(dcpoEstimator),
    option(noneEstimator),
  ])
  .describe('How rewards become advantages.');

export type AdvantageSpec = z.infer<typeof advantageSchema>;
export type AdvantageSpecInput = z.input<typeof advantageSchema>;

/** Builds the estimator of a (parsed or raw) `advantage:` section; throws ZodError / ParamError. */
export function buildEstimator(spec: AdvantageSpecInput | AdvantageSpec): Estimator {
  const { estimator, ...params } = advantageSchema.parse(spec);
  const kind = estimators[estimator] as EstimatorKind<string, z.ZodRawShape>;
  return kind.create(params as never);
}
