/**
 * The reward-design lab: small, seeded environments and learners whose results are claims from the
 * seed papers, checked by statistics over seeds (`rewardkit lab run NAME`).
 *
 * An {@link Experiment} runs `seeds` independent replicates and returns {@link ClaimResult}s, each a
 * statistic with a confidence interval and whether the paper's claimed direction holds, plus the
 * learning {@link Curve}s the HTML report draws. Experiments are deterministic given their seeds.
 */
import type { Backend } from '../backends/types.js';

/** One claim from a paper, checked over seeds. */
export interface ClaimResult {
  /** The claim as a sentence, e.g. "GDPO reaches a higher final joint reward than GRPO". */
  claim: string;
  /** The statistic the claim is decided on (e.g. mean paired difference over seeds). */
  statistic: number;
  /** Its confidence interval (95 % unless `level` says otherwise). */
  ci: [number, number];
  /** Confidence level of `ci`. */
  level: number;
  /** Whether the claim's direction holds (usually: `ci` lies entirely on the claimed side of 0). */
  holds: boolean;
  /** What the statistic is, in words (units, paired over which seeds). */
  statisticName: string;
}

/** A learning curve with a band over seeds (mean and CI per x). */
export interface Curve {
  /** Legend label, e.g. "GRPO". */
  label: string;
  /** Which chart it belongs to (curves with the same `chart` are drawn together). */
  chart: string;
  /** Axis labels. */
  xLabel: string;
  yLabel: string;
  x: number[];
  mean: number[];
  lo: number[];
  hi: number[];
}

/** Options of one run. */
export interface RunOptions {
  /** Number of independent seeds (replicates); each experiment states its default (≥ 10). */
  seeds: number;
  /** First seed; replicate i uses seed `seed0 + i`. Default 1. */
  seed0?: number;
  /**
   * A deliberately broken variant (see {@link Experiment.variants}), e.g. `"no-par"`: the experiment
   * runs with the mechanism removed, so that its claim should fail. Used by tests to show claims can fail.
   */
  variant?: string;
  /** Progress callback: replicates done so far. */
  onProgress?: (done: number, total: number) => void;
  /**
   * A chat backend as a judge (`rewardkit lab run --backend`), for experiments whose claims need one
   * (those with {@link Experiment.judge}); the others ignore it. A failing judge call rejects the run.
   */
  judge?: Backend;
}

/** What one run returns; `rewardkit lab run NAME --json` prints it. */
export interface ExperimentResult {
  experiment: string;
  /** The paper(s) whose claim this reproduces. */
  paper: string;
  seeds: number;
  variant?: string;
  claims: ClaimResult[];
  curves: Curve[];
  /** Environment steps taken over all seeds and arms (for steps/s in BENCHMARKS.md). */
  envSteps: number;
  wallMs: number;
}

/** One experiment of the lab. */
export interface Experiment {
  /** CLI name, kebab-case, e.g. `gdpo-vs-grpo`. */
  name: string;
  /** One line for `lab list`. */
  title: string;
  /** Paper(s), as cited in the README. */
  paper: string;
  /**
   * The README paragraph: the claim, the environment, and what is our reading [INF] versus the
   * paper's exact setup.
   */
  description: string;
  /** Default number of seeds (≥ 10). */
  defaultSeeds: number;
  /** What a judge backend ({@link RunOptions.judge}) adds, in words; absent when the experiment takes none. */
  judge?: string;
  /** Broken variants, name → what is removed; a claim must fail under each. */
  variants: Record<string, string>;
  run(opts: RunOptions): Promise<ExperimentResult>;
}
