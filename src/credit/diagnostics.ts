import type { CreditOutput, StepBatch } from './types.js';

/** Mean credit of the steps at one position (0 = first step of a rollout). */
export interface PositionCredit {
  /** Step index within the rollout; the last bucket (`position = fold_at`) holds every later position too. */
  position: number;
  /** Mean credited step reward (null when no step there has one). */
  mean_reward: number | null;
  /** Mean step advantage (null when no step there has one). */
  mean_advantage: number | null;
  /** Credited steps at this position. */
  count: number;
}

/** Step-level facts of one batch after credit assignment (JSON-ready: null where undefined). */
export interface StepDiagnostics {
  /** Steps that got credit (a non-null advantage). */
  steps: number;
  /** Steps left without credit (their rollout has a null outcome). */
  null_steps: number;
  /** Rollouts with at least one step. */
  rollouts_with_steps: number;
  /** Mean number of steps over the rollouts with steps. */
  mean_steps: number | null;
  /** Share of credited steps whose advantage is not 0 (|A| > zero_tol): how much of the batch carries a learning signal. */
  share_nonzero_credit: number | null;
  /** Share of credited steps whose advantage is > zero_tol. */
  share_positive_credit: number | null;
  /** Share of credited steps whose step reward is not 0 (|r| > zero_tol). */
  share_nonzero_reward: number | null;
  /** Positions at or beyond this one are folded into the last bucket of `credit_by_position`. */
  fold_at: number;
  credit_by_position: PositionCredit[];
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * Step-level diagnostics of a credit method's output on a batch: how many steps got credit, the
 * share with non-zero credit (advantage) and non-zero step reward, and the mean reward and advantage
 * by position in the rollout — positions 0 … `foldAt − 1` each, every later position folded into a
 * last bucket labelled `foldAt` (default 32). Steps of a rollout with a null outcome (advantage 0, no
 * credit) or with a NaN advantage are counted in `null_steps` only.
 *
 * @example
 * stepDiagnostics(batch, buildCredit({ method: 'outcome' }).compute(batch))
 * // → {steps: 6, null_steps: 0, share_nonzero_credit: 1, credit_by_position: [{position: 0, mean_reward: 0.5, mean_advantage: 0, count: 2}, …], …}
 */
export function stepDiagnostics(b: StepBatch, out: CreditOutput, opts: { foldAt?: number; zeroTol?: number } = {}): StepDiagnostics {
  return new StepCreditTally(opts).add(b, out).result();
}

/**
 * The sums behind {@link StepDiagnostics}, added batch by batch (`add`) or merged from other tallies
 * (`merge`, e.g. per-batch tallies into a run's), so that a run's step diagnostics are exact over all
 * its batches, not averages of averages.
 *
 * @example
 * const run = new StepCreditTally();
 * for (const [batch, out] of batches) run.add(batch, out);
 * run.result() // → StepDiagnostics over every batch
 */
export class StepCreditTally {
  readonly foldAt: number;
  private readonly tol: number;
  private readonly sumR: Float64Array;
  private readonly cntR: Float64Array;
  private readonly sumA: Float64Array;
  private readonly cnt: Float64Array;
  private steps = 0;
  private total = 0;
  private nonzero = 0;
  private positive = 0;
  private nonzeroReward = 0;
  private withSteps = 0;
  private top = -1;

  constructor(opts: { foldAt?: number; zeroTol?: number } = {}) {
    this.foldAt = opts.foldAt ?? 32;
    this.tol = opts.zeroTol ?? 1e-12;
    if (!(Number.isInteger(this.foldAt) && this.foldAt >= 1)) throw new RangeError(`foldAt must be an integer ≥ 1, got ${this.foldAt}`);
    const buckets = this.foldAt + 1;
    this.sumR = new Float64Array(buckets);
    this.cntR = new Float64Array(buckets);
    this.sumA = new Float64Array(buckets);
    this.cnt = new Float64Array(buckets);
  }

  /** Adds one batch and its credit output. */
  add(b: StepBatch, out: CreditOutput): this {
    const { offsets } = b;
    const n = offsets.length - 1;
    const total = offsets[n];
    if (out.reward.length !== total || out.advantage.length !== total) {
      throw new RangeError(`credit output has ${out.reward.length} rewards and ${out.advantage.length} advantages for ${total} steps`);
    }
    const { foldAt, tol, sumR, cntR, sumA, cnt } = this;
    this.total += total;
    for (let i = 0; i < n; i++) {
      const s = offsets[i];
      const e = offsets[i + 1];
      if (e > s) this.withSteps++;
      // A null outcome: its steps carry advantage 0 but no credit (they do not move the policy).
      if (b.outcome[i] !== b.outcome[i]) continue;
      for (let k = s; k < e; k++) {
        const a = out.advantage[k];
        if (a !== a) continue;
        const pos = Math.min(k - s, foldAt);
        if (pos > this.top) this.top = pos;
        this.steps++;
        cnt[pos]++;
        sumA[pos] += a;
        if (Math.abs(a) > tol) this.nonzero++;
        if (a > tol) this.positive++;
        const r = out.reward[k];
        if (r === r) {
          sumR[pos] += r;
          cntR[pos]++;
          if (Math.abs(r) > tol) this.nonzeroReward++;
        }
      }
    }
    return this;
  }

  /** Adds another tally's sums (same `foldAt`). */
  merge(o: StepCreditTally): this {
    if (o.foldAt !== this.foldAt) throw new RangeError(`cannot merge step tallies folded at ${o.foldAt} and ${this.foldAt}`);
    for (let p = 0; p <= this.foldAt; p++) {
      this.sumR[p] += o.sumR[p];
      this.cntR[p] += o.cntR[p];
      this.sumA[p] += o.sumA[p];
      this.cnt[p] += o.cnt[p];
    }
    this.steps += o.steps;
    this.total += o.total;
    this.nonzero += o.nonzero;
    this.positive += o.positive;
    this.nonzeroReward += o.nonzeroReward;
    this.withSteps += o.withSteps;
    this.top = Math.max(this.top, o.top);
    return this;
  }

  /** The diagnostics of everything added so far. */
  result(): StepDiagnostics {
    const credit_by_position: PositionCredit[] = [];
    for (let p = 0; p <= this.top; p++) {
      credit_by_position.push({ position: p, mean_reward: orNull(this.sumR[p] / this.cntR[p]), mean_advantage: orNull(this.sumA[p] / this.cnt[p]), count: this.cnt[p] });
    }
    const steps = this.steps;
    return {
      steps,
      null_steps: this.total - steps,
      rollouts_with_steps: this.withSteps,
      mean_steps: orNull(this.total / this.withSteps),
      share_nonzero_credit: orNull(this.nonzero / steps),
      share_positive_credit: orNull(this.positive / steps),
      share_nonzero_reward: orNull(this.nonzeroReward / steps),
      fold_at: this.foldAt,
      credit_by_position,
    };
  }
}
