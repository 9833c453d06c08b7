/**
 * Tabular softmax policy gradient for the lab: one logit per (state, action), a policy
 * `π(a|s) = softmax(θ[s,·])`, and the REINFORCE update `θ[s,·] += lr · A · (e_a − π(·|s))` averaged
 * over a batch, where the advantage A comes from the project's own estimators (GRPO, Dr.GRPO, RLOO,
 * REINFORCE++, GDPO — `src/advantage/registry.ts`, their real `compute()`) or credit methods.
 * Everything is typed arrays; the policy's probabilities are frozen at the start of a batch
 * ({@link SoftmaxPolicy.beginBatch}) so that every sample of the batch is on-policy for the same θ.
 */
import { buildEstimator, type AdvantageSpecInput } from '../../advantage/registry.js';
import type { AdvantageBatch, Estimator } from '../../advantage/types.js';
import type { Rng } from '../rng.js';

/**
 * A tabular softmax policy over `states × actions` with an optional action mask (masked actions have
 * probability exactly 0 and never get gradient).
 *
 * @example
 * const pi = new SoftmaxPolicy(1, 3);
 * pi.beginBatch();
 * const a = pi.sample(0, new Rng(1));
 * pi.accumulate(0, a, 1);   // advantage 1 for that action
 * pi.step(0.5);             // θ moves towards a
 */
export class SoftmaxPolicy {
  /** Logits, row-major `[state · actions + action]`. */
  readonly theta: Float64Array;
  /** π(a|s) at the last {@link beginBatch} (or after {@link refresh}). */
  readonly probs: Float64Array;
  private readonly grad: Float64Array;
  private readonly mask: Uint8Array;
  private count = 0;

  /**
   * @param states number of states (≥ 1)
   * @param actions number of actions (≥ 1)
   * @param init optional initial logits (length states·actions), e.g. a reference policy's
   * @param allowed optional mask (1 = allowed), one entry per action or per (state, action)
   */
  constructor(
    readonly states: number,
    readonly actions: number,
    init?: ArrayLike<number>,
    allowed?: ArrayLike<number>,
  ) {
    if (!(Number.isInteger(states) && states >= 1)) throw new RangeError(`SoftmaxPolicy: states must be an integer ≥ 1, got ${states}`);
    if (!(Number.isInteger(actions) && actions >= 1)) throw new RangeError(`SoftmaxPolicy: actions must be an integer ≥ 1, got ${actions}`);
    const n = states * actions;
    this.theta = new Float64Array(n);
    if (init !== undefined) {
      if (init.length !== n) throw new RangeError(`SoftmaxPolicy: init has ${init.length} logits for ${states}×${actions}`);
      this.theta.set(init);
    }
    this.mask = new Uint8Array(n).fill(1);
    if (allowed !== undefined) {
      if (allowed.length === actions) for (let i = 0; i < n; i++) this.mask[i] = allowed[i % actions] ? 1 : 0;
      else if (allowed.length === n) for (let i = 0; i < n; i++) this.mask[i] = allowed[i] ? 1 : 0;
      else throw new RangeError(`SoftmaxPolicy: allowed has ${allowed.length} entries; need ${actions} or ${n}`);
      for (let s = 0; s < states; s++) {
        let any = 0;
        for (let a = 0; a < actions; a++) any |= this.mask[s * actions + a];
        if (!any) throw new RangeError(`SoftmaxPolicy: state ${s} has no allowed action`);
      }
    }
    this.probs = new Float64Array(n);
    this.grad = new Float64Array(n);
    this.refresh();
  }

  /** Recomputes {@link probs} from θ (masked softmax per state). */
  refresh(): void {
    const A = this.actions, th = this.theta, p = this.probs, m = this.mask;
    for (let s = 0; s < this.states; s++) {
      const o = s * A;
      let max = -Infinity;
      for (let a = 0; a < A; a++) if (m[o + a] && th[o + a] > max) max = th[o + a];
      let z = 0;
      for (let a = 0; a < A; a++) z += p[o + a] = m[o + a] ? Math.exp(th[o + a] - max) : 0;
      for (let a = 0; a < A; a++) p[o + a] /= z;
    }
  }

  /** Freezes π for a batch and clears the gradient buffer. */
  beginBatch(): void {
    this.refresh();
    this.grad.fill(0);
    this.count = 0;
  }

  /** π(a|s) as frozen for the current batch. */
  prob(s: number, a: number): number {
    return this.probs[s * this.actions + a];
  }

  /** Samples an action in state `s` from the frozen π. */
  sample(s: number, rng: Rng): number {
    const A = this.actions, o = s * A, p = this.probs;
    let u = rng.next();
    let last = 0;
    for (let a = 0; a < A; a++) {
      const q = p[o + a];
      if (q > 0) {
        last = a;
        u -= q;
        if (u < 0) return a;
      }
    }
    return last;
  }

  /** Adds `advantage · ∇_θ log π(a|s)` = `advantage · (e_a − π(·|s))` to the gradient buffer. */
  accumulate(s: number, a: number, advantage: number): void {
    if (advantage === 0) return;
    const A = this.actions, o = s * A, p = this.probs, g = this.grad;
    for (let b = 0; b < A; b++) g[o + b] -= advantage * p[o + b];
    g[o + a] += advantage;
  }

  /** Counts one sample (episode) towards the batch mean (call once per rollout). */
  countSample(n = 1): void {
    this.count += n;
  }

  /** θ += lr · gradient / samples counted (plain gradient ascent on the batch mean). */
  step(lr: number): void {
    const k = lr / Math.max(1, this.count);
    const th = this.theta, g = this.grad, m = this.mask;
    for (let i = 0; i < th.length; i++) if (m[i]) th[i] += k * g[i];
    this.refresh();
  }
}

/**
 * A reusable advantage step over a fixed batch shape (`groups × groupSize` rollouts, group-major):
 * fills an {@link AdvantageBatch} and calls the estimator's real `compute()`.
 *
 * @example
 * const adv = new AdvantageStep({ estimator: 'gdpo' }, 4, 8, 3);
 * adv.rewards.set(...); adv.components[0].set(...);
 * const A = adv.compute();
 */
export class AdvantageStep {
  readonly rewards: Float64Array;
  readonly components: Float64Array[];
  readonly weights: Float64Array;
  readonly groupOf: Int32Array;
  readonly out: Float64Array;
  readonly estimator: Estimator;
  private readonly batch: AdvantageBatch;

  constructor(
    spec: AdvantageSpecInput,
    readonly groups: number,
    readonly groupSize: number,
    componentCount = 0,
    weights?: ArrayLike<number>,
  ) {
    const n = groups * groupSize;
    this.estimator = buildEstimator(spec);
    this.rewards = new Float64Array(n);
    this.components = Array.from({ length: componentCount }, () => new Float64Array(n));
    this.weights = new Float64Array(componentCount).fill(1);
    if (weights) this.weights.set(weights);
    this.groupOf = new Int32Array(n);
    for (let i = 0; i < n; i++) this.groupOf[i] = Math.floor(i / groupSize);
    this.out = new Float64Array(n);
    this.batch = { rewards: this.rewards, components: this.components, weights: this.weights, groupOf: this.groupOf, groupCount: groups };
  }

  /** Runs the estimator on the current columns; returns the advantages (reused buffer). */
  compute(): Float64Array {
    return this.estimator.compute(this.batch, this.out);
  }
}
