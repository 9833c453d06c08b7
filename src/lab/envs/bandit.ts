/**
 * Multi-armed and contextual bandits with several binary reward components: pulling arm `a` in
 * context `c` draws each component k independently as Bernoulli(p[c, a, k]). A multi-armed bandit is
 * the one-context case. The "joint" reward of a pull is 1 when every component is 1 (what a user of
 * a multi-reward objective wants: correct AND well-formatted AND short), its expectation Π_k p[c,a,k].
 */
import type { Rng } from '../rng.js';

/**
 * @example
 * const b = new MultiRewardBandit(['correct', 'format'], 1, 2, [0.1, 0.9, 0.5, 0.5]);
 * const out = [new Float64Array(1), new Float64Array(1)];
 * b.pull(0, 1, new Rng(3), out, 0); // out[0][0], out[1][0] ∈ {0, 1}
 * b.expectedJoint(0, 1); // 0.25
 */
export class MultiRewardBandit {
  /** Success probabilities, `[(c · arms + a) · K + k]`. */
  readonly p: Float64Array;

  constructor(
    readonly componentNames: readonly string[],
    readonly contexts: number,
    readonly arms: number,
    probs: ArrayLike<number>,
  ) {
    const K = componentNames.length;
    if (K < 1) throw new RangeError('MultiRewardBandit: componentNames must name at least one component');
    if (!(Number.isInteger(contexts) && contexts >= 1)) throw new RangeError(`MultiRewardBandit: contexts must be an integer ≥ 1, got ${contexts}`);
    if (!(Number.isInteger(arms) && arms >= 1)) throw new RangeError(`MultiRewardBandit: arms must be an integer ≥ 1, got ${arms}`);
    if (probs.length !== contexts * arms * K) throw new RangeError(`MultiRewardBandit: probs has ${probs.length} entries; need contexts·arms·components = ${contexts * arms * K}`);
    for (let i = 0; i < probs.length; i++) {
      const v = probs[i];
      if (!(v >= 0 && v <= 1)) throw new RangeError(`MultiRewardBandit: probs[${i}] is ${v}; must be in [0, 1]`);
    }
    this.p = Float64Array.from(probs);
  }

  get components(): number {
    return this.componentNames.length;
  }

  /** Draws every component of one pull into `out[k][at]`. */
  pull(c: number, a: number, rng: Rng, out: readonly Float64Array[], at: number): void {
    const K = this.componentNames.length;
    const o = (c * this.arms + a) * K;
    for (let k = 0; k < K; k++) out[k][at] = rng.next() < this.p[o + k] ? 1 : 0;
  }

  /** E[component k] of arm a in context c. */
  expected(c: number, a: number, k: number): number {
    return this.p[(c * this.arms + a) * this.componentNames.length + k];
  }

  /** P(every component is 1) for arm a in context c. */
  expectedJoint(c: number, a: number): number {
    const K = this.componentNames.length;
    const o = (c * this.arms + a) * K;
    let j = 1;
    for (let k = 0; k < K; k++) j *= this.p[o + k];
    return j;
  }

  /** Σ_a π(a|c) · f(c, a) averaged over contexts, for a policy's probabilities `[c · arms + a]`. */
  policyValue(probs: ArrayLike<number>, f: (c: number, a: number) => number): number {
    let total = 0;
    for (let c = 0; c < this.contexts; c++) {
      let v = 0;
      for (let a = 0; a < this.arms; a++) v += probs[c * this.arms + a] * f(c, a);
      total += v;
    }
    return total / this.contexts;
  }
}
