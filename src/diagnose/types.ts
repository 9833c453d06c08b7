import type { StepCreditTally, StepDiagnostics } from '../credit/diagnostics.js';
import * as z from 'zod';
import type { ReasonCount, ReasonCounts } from './reasons.js';

/** One batch as the diagnostics see it (columnar; NaN = null everywhere). */
export interface DiagnoseInput {
  /** Final reward per rollout (after combine and shaping); NaN = null. */
  rewards: Float64Array;
  /** One column per spec component (raw grader scores), NaN = null. */
  components: readonly Float64Array[];
  /** Component names, same order as `components`. */
  names: readonly string[];
  /** Advantages, when the spec has an estimator (NaN = null). */
  advantages?: Float64Array;
  /** Group index per rollout in [0, groupCount). */
  groupOf: Int32Array;
  groupCount: number;
  /** Completion length per rollout, in any unit (characters or tokens); NaN = unknown. */
  lengths: Float64Array;
  /** Per component: how many rollouts got a null score (the caller's count; see `ComponentStats.nulls`). */
  nullCounts: Int32Array;
  /** Per component: how many rollouts raised an error. */
  errorCounts: Int32Array;
  /**
   * Per component (optional): why its values were null — `details.reason` of null scores and
   * `error: <message>` of grader errors — with counts (the pipeline's `BatchColumns.nullReasons`).
   */
  nullReasons?: readonly ReasonCounts[];
  /** Group keys by index, to name flagged groups (default `"<batch>:<index>"`). */
  groupNames?: readonly string[];
  /** Step-level credit facts of the batch (multi-turn rollouts with `credit`); merged over batches. */
  steps?: StepCreditTally;
}

/** Thresholds and tolerances; snake_case so they can sit in a spec's `diagnostics:` section. */
export const diagnoseOptionsSchema = z.strictObject({
  fail_at_most: z
    .number()
    .default(0)
    .describe('A reward ≤ this is a fail; a group whose every reward fails is all_fail (SAGE: no reward > 0).'),
  pass_at_least: z
    .number()
    .default(1)
    .describe('A reward ≥ this is a pass; a group whose every reward passes is all_pass.'),
  tie_tolerance: z
    .number()
    .nonnegative()
    .default(0)
    .describe('A group collapses when max − min of its rewards is ≤ this (0: exact ties).'),
  zero_tolerance: z
    .number()
    .nonnegative()
    .default(1e-9)
    .describe('|advantage| ≤ this counts as a zero advantage.'),
  resolution_tolerance: z
    .number()
    .nonnegative()
    .default(1e-4)
    .describe('Advantages within this relative distance of a cluster\'s smallest value count as one value.'),
  warn_null_rate: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe('Warn when a component is null (or its grader errors) on more than this share of the rollouts, naming its commonest reasons.'),
  spearman_sample: z
    .number()
    .int()
    .min(2)
    .default(100_000)
    .describe('DiagnosticsAccumulator: Spearman is exact up to this many rollouts, then computed on a uniform sample of this size.'),
});
export type DiagnoseOptions = z.infer<typeof diagnoseOptionsSchema>;
export type DiagnoseOptionsInput = z.input<typeof diagnoseOptionsSchema>;

/** Summary statistics of one column; null where undefined (no values; std with fewer than two). */
export interface ColumnStats {
  /** Non-null values. */
  count: number;
  mean: number | null;
  /** Sample std (ddof 1, like torch.std). */
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface ComponentStats extends ColumnStats {
  name: string;
  /** Null scores: the caller's `nullCounts` (errors included or not, as the caller counts them). */
  nulls: number;
  /** Errors raised by the component's grader. */
  errors: number;
  /** nulls ÷ rollouts. */
  null_rate: number | null;
  /** errors ÷ rollouts. */
  error_rate: number | null;
  /** The commonest reasons of its nulls and errors (`details.reason`, `error: <message>`), most frequent first. */
  null_reasons: ReasonCount[];
}

/** A component null (or failing) on more than `warn_null_rate` of the rollouts. */
export interface NullRateWarning {
  component: string;
  /** Null values (errors included) ÷ rollouts. */
  null_rate: number;
  /** Errors ÷ rollouts. */
  error_rate: number;
  nulls: number;
  errors: number;
  rollouts: number;
  /** The threshold it exceeded. */
  warn_null_rate: number;
  /** The commonest reasons, most frequent first. */
  reasons: ReasonCount[];
  /** One line for people: `component "correct" is null on 100.0% of 200 rollouts (0 errors): no answer found ×200`. */
  message: string;
}

/**
 * The diagnostics report (JSON, snake_case). Rates are null when their denominator is 0.
 * Every field is exact across batches except `length_corr.spearman` beyond `spearman_sample`
 * rollouts and the per-batch `resolution` counts (see the fields).
 */
export interface BatchDiagnostics {
  /** Rollouts seen. */
  rollouts: number;
  /** Batches merged into this report (1 for `diagnoseBatch`). */
  batches: number;
  /** Groups with at least one rollout (a group split over batches counts once per batch). */
  groups: number;
  /** Rollouts with a null reward. */
  null_rewards: number;
  /** Reward statistics over non-null rewards. */
  reward: ColumnStats;
  /** collapsed_groups ÷ scored_groups: the share of groups that give GRPO no signal (every reward ties). */
  collapse_rate: number | null;
  /** Groups with ≥ 2 non-null rewards whose rewards all tie (within `tie_tolerance`). */
  collapsed_groups: number;
  /** Groups with ≥ 2 non-null rewards. */
  scored_groups: number;
  /**
   * distinct_advantages ÷ distinct_component_vectors: how much of the component information survives
   * into the advantages (GDPO's argument: GRPO maps different reward patterns to the same advantage).
   * Can exceed 1 (the same vector gets different advantages in different groups). Null without
   * advantages. Across batches: the ratio of the per-batch sums of both counts.
   */
  resolution: number | null;
  /** Distinct advantage values per batch (clustered within `resolution_tolerance`), summed over batches. */
  distinct_advantages: number | null;
  /** Distinct component vectors (exact; the reward when there are no components) per batch, summed over batches. */
  distinct_component_vectors: number;
  /**
   * The same ratio within groups, pooled: Σ_g distinct advantages in g ÷ Σ_g distinct component
   * vectors in g, in [0, 1]. Below 1, some group gives different reward patterns the same advantage
   * (what the policy gradient of that prompt cannot tell apart). Null without advantages.
   */
  group_resolution: number | null;
  /** Share of non-null advantages with |A| ≤ zero_tolerance (null without advantages). */
  zero_advantage_fraction: number | null;
  /** Correlation between completion length and reward over rollouts with both (length bias). */
  length_corr: {
    pearson: number | null;
    /** Average ranks for ties. Exact when `spearman_exact`; else computed on a uniform sample. */
    spearman: number | null;
    spearman_exact: boolean;
    /** Rollouts with both a length and a reward. */
    count: number;
  };
  /** Σ errors ÷ (rollouts × components): the share of grader calls that failed. */
  error_rate: number | null;
  /** Per component, in spec order. */
  components: ComponentStats[];
  /**
   * Components null (or failing) on more than `warn_null_rate` of the rollouts, with their commonest
   * reasons: a reward that cannot judge most of a batch teaches nothing (those rollouts get advantage 0)
   * and usually means a spec/data mismatch (answer format, reference field).
   */
  warnings: NullRateWarning[];
  /** Pearson correlation between components, over rollouts where both are non-null; null when undefined. */
  component_corr: { names: string[]; matrix: (number | null)[][] };
  /** Per-group flags a trainer can act on (SAGE re-rolls all_fail prompts with hints). */
  group_flags: {
    fail_at_most: number;
    pass_at_least: number;
    /** Groups with ≥ 1 non-null reward, all ≤ fail_at_most. */
    all_fail: number;
    /** Groups with ≥ 1 non-null reward, all ≥ pass_at_least. */
    all_pass: number;
    all_fail_groups: string[];
    all_pass_groups: string[];
  };
  /**
   * Step-level credit (only when some batch had multi-turn rollouts with `credit`): steps credited,
   * the share with non-zero credit, and mean step reward and advantage by position in the rollout.
   */
  steps?: StepDiagnostics;
}
