/**
 * Tabular Q-learning with ε-greedy exploration (Watkins 1989), the learner of the classic shaping and
 * exploration papers (Ng, Harada & Russell 1999 use it for potential-based shaping).
 *
 *   Q(s, a) ← Q(s, a) + α·(r + b − Q(s, a) + γ·max_a' Q(s', a'))     (no bootstrap after a terminal s')
 *
 * where r = `reward[s·A + a]` is the (possibly shaped) training reward and b an optional intrinsic bonus
 * from {@link QLearningOptions.bonus}, called on every step (count-based novelty, ONI-style event
 * labels). Each episode starts at `mdp.start` and ends on a terminal state or after `horizon` steps (a
 * time-out bootstraps as usual). Greedy ties are broken uniformly at random, so zero-initialised tables
 * explore like a random walk until a reward is seen. The extrinsic (true) return of each episode is
 * recorded for learning curves; the training reward is what the agent maximises.
 */
import type { TabularMdp } from '../envs/tabular_mdp.js';
import type { Rng } from '../rng.js';

/** Options of {@link qLearning}. */
export interface QLearningOptions {
  /** Episodes to train. */
  episodes: number;
  /** Step limit of one episode. */
  horizon: number;
  gamma: number;
  /** Learning rate α in (0, 1]. */
  alpha: number;
  /** Exploration rate ε in [0, 1]; with `epsilonEnd`, decays linearly from `epsilon` to it over the episodes. */
  epsilon: number;
  epsilonEnd?: number;
  /** Initial Q value (optimism when > 0). Default 0. */
  qInit?: number;
  /**
   * Intrinsic bonus added to the training reward of the step (s, a) → s2 at step t of episode `ep`.
   * Called once per step, in order, so it may keep counts.
   */
  bonus?: (s: number, a: number, s2: number, t: number, ep: number) => number;
  /** Called at the end of each episode (e.g. to fetch labels for events seen); may be async. */
  onEpisodeEnd?: (ep: number) => void | Promise<void>;
}

/** What {@link qLearning} returns. */
export interface QLearningResult {
  q: Float64Array;
  /** Undiscounted extrinsic return of each training episode. */
  extReturn: Float64Array;
  /** Steps of each training episode. */
  steps: Int32Array;
  /** Environment steps taken in total. */
  envSteps: number;
}

function checkOptions(o: QLearningOptions): void {
  if (!(Number.isInteger(o.episodes) && o.episodes >= 1)) throw new RangeError(`qLearning: episodes must be a positive integer, got ${o.episodes}`);
  if (!(Number.isInteger(o.horizon) && o.horizon >= 1)) throw new RangeError(`qLearning: horizon must be a positive integer, got ${o.horizon}`);
  if (!(o.gamma >= 0 && o.gamma <= 1)) throw new RangeError(`qLearning: gamma must be in [0, 1], got ${o.gamma}`);
  if (!(o.alpha > 0 && o.alpha <= 1)) throw new RangeError(`qLearning: alpha must be in (0, 1], got ${o.alpha}`);
  if (!(o.epsilon >= 0 && o.epsilon <= 1)) throw new RangeError(`qLearning: epsilon must be in [0, 1], got ${o.epsilon}`);
  if (o.epsilonEnd !== undefined && !(o.epsilonEnd >= 0 && o.epsilonEnd <= 1)) throw new RangeError(`qLearning: epsilonEnd must be in [0, 1], got ${o.epsilonEnd}`);
}

/**
 * Trains a Q table on `reward` (the training reward, shaped or not) while recording the extrinsic
 * return `extrinsic` of each episode.
 *
 * @example
 * const m = mdpOfGrid(sparseGoalGrid(new Rng(1), 8, 8));
 * const r = goalReward(m);
 * const res = await qLearning(m, r, r, new Rng(2), { episodes: 200, horizon: 100, gamma: 0.95, alpha: 0.5, epsilon: 0.1 });
 */
export async function qLearning(m: TabularMdp, reward: Float64Array, extrinsic: Float64Array, rng: Rng, o: QLearningOptions): Promise<QLearningResult> {
  checkOptions(o);
  const { S, A, next, terminal } = m;
  if (reward.length !== S * A || extrinsic.length !== S * A) throw new RangeError(`qLearning: reward tables must have S·A = ${S * A} entries`);
  const q = new Float64Array(S * A).fill(o.qInit ?? 0);
  for (let s = 0; s < S; s++) if (terminal[s]) for (let a = 0; a < A; a++) q[s * A + a] = 0;
  const extReturn = new Float64Array(o.episodes);
  const stepsOf = new Int32Array(o.episodes);
  const ties = new Int32Array(A);
  const { gamma, alpha, horizon, bonus } = o;
  const eps0 = o.epsilon;
  const eps1 = o.epsilonEnd ?? o.epsilon;
  let envSteps = 0;
  for (let ep = 0; ep < o.episodes; ep++) {
    const eps = o.episodes > 1 ? eps0 + ((eps1 - eps0) * ep) / (o.episodes - 1) : eps0;
    let s = m.start;
    let ret = 0;
    let t = 0;
    for (; t < horizon; t++) {
      let a: number;
      const base = s * A;
      if (rng.next() < eps) a = rng.int(A);
      else {
        let best = q[base];
        let n = 1;
        ties[0] = 0;
        for (let b = 1; b < A; b++) {
          const v = q[base + b];
          if (v > best) {
            best = v;
            n = 1;
            ties[0] = b;
          } else if (v === best) ties[n++] = b;
        }
        a = n === 1 ? ties[0] : ties[rng.int(n)];
      }
      const k = base + a;
      const s2 = next[k];
      let r = reward[k];
      if (bonus) r += bonus(s, a, s2, t, ep);
      ret += extrinsic[k];
      let target = r;
      if (!terminal[s2]) {
        const b2 = s2 * A;
        let mx = q[b2];
        for (let b = 1; b < A; b++) if (q[b2 + b] > mx) mx = q[b2 + b];
        target += gamma * mx;
      }
      q[k] += alpha * (target - q[k]);
      s = s2;
      if (terminal[s2]) {
        t++;
        break;
      }
    }
    envSteps += t;
    extReturn[ep] = ret;
    stepsOf[ep] = t;
    if (o.onEpisodeEnd) await o.onEpisodeEnd(ep);
  }
  return { q, extReturn, steps: stepsOf, envSteps };
}

/**
 * Mean of `xs` over consecutive windows of `w` (the last window may be shorter): a learning curve of
 * `ceil(n / w)` points.
 */
export function windowMeans(xs: ArrayLike<number>, w: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i += w) {
    let s = 0;
    const e = Math.min(xs.length, i + w);
    for (let j = i; j < e; j++) s += xs[j];
    out.push(s / (e - i));
  }
  return out;
}
