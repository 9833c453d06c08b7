/**
 * Finite deterministic MDPs for the lab's tabular learners: states 0..S−1, actions 0..A−1, a successor
 * table, absorbing terminal states, and rewards as tables over (s, a). Exact planning
 * ({@link valueIteration}, {@link policyValues}) gives the optimal policy and the return of any policy,
 * the ground truth the experiments compare learned policies against.
 */
import { ACTIONS, type Grid } from './grid.js';

/** A deterministic MDP. Entering a terminal state ends the episode. */
export interface TabularMdp {
  S: number;
  A: number;
  /** Successor of (s, a) at `s·A + a`. */
  next: Int32Array;
  /** 1 for absorbing terminal states. */
  terminal: Uint8Array;
  start: number;
}

/** The MDP of a grid: its cells as states, its goal terminal. */
export function mdpOfGrid(g: Grid): TabularMdp {
  const S = g.W * g.H;
  const terminal = new Uint8Array(S);
  terminal[g.goal] = 1;
  return { S, A: ACTIONS, next: g.next, terminal, start: g.start };
}

/**
 * A reward table over (s, a) from a function of (s, a, s') with s' the successor: deterministic moves
 * make R(s, a, s') a function of (s, a).
 */
export function rewardOf(m: TabularMdp, f: (s: number, a: number, s2: number) => number): Float64Array {
  const r = new Float64Array(m.S * m.A);
  for (let s = 0; s < m.S; s++) for (let a = 0; a < m.A; a++) r[s * m.A + a] = f(s, a, m.next[s * m.A + a]);
  return r;
}

/** The sparse goal reward: 1 on entering a terminal state, 0 elsewhere. */
export function goalReward(m: TabularMdp): Float64Array {
  return rewardOf(m, (s, _a, s2) => (m.terminal[s2] && !m.terminal[s] ? 1 : 0));
}

/**
 * Optimal action values Q*(s, a) = r(s, a) + γ·max_a' Q*(s', a') (0 after a terminal state) by value
 * iteration until the largest change is below `tol`. Terminal states have Q = 0.
 *
 * @example
 * const q = valueIteration(mdp, goalReward(mdp), 0.95);
 */
export function valueIteration(m: TabularMdp, reward: Float64Array, gamma: number, tol = 1e-10, maxIter = 100_000): Float64Array {
  if (!(gamma >= 0 && gamma < 1)) throw new RangeError(`valueIteration: gamma must be in [0, 1), got ${gamma}`);
  const { S, A, next, terminal } = m;
  const q = new Float64Array(S * A);
  const v = new Float64Array(S);
  for (let it = 0; it < maxIter; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      if (terminal[s]) continue;
      let best = -Infinity;
      for (let a = 0; a < A; a++) {
        const s2 = next[s * A + a];
        const x = reward[s * A + a] + (terminal[s2] ? 0 : gamma * v[s2]);
        q[s * A + a] = x;
        if (x > best) best = x;
      }
      const d = Math.abs(best - v[s]);
      if (d > delta) delta = d;
      v[s] = best;
    }
    if (delta < tol) break;
  }
  return q;
}

/** The greedy policy of action values (lowest index among ties within `eps`). */
export function greedyPolicy(m: TabularMdp, q: Float64Array, eps = 1e-9): Int32Array {
  const pi = new Int32Array(m.S);
  for (let s = 0; s < m.S; s++) {
    let best = 0;
    for (let a = 1; a < m.A; a++) if (q[s * m.A + a] > q[s * m.A + best] + eps) best = a;
    pi[s] = best;
  }
  return pi;
}

/**
 * Whether `a` is optimal in `s` under optimal action values `qStar` (within `eps` of the best).
 */
export function isOptimalAction(m: TabularMdp, qStar: Float64Array, s: number, a: number, eps = 1e-9): boolean {
  let best = -Infinity;
  for (let b = 0; b < m.A; b++) if (qStar[s * m.A + b] > best) best = qStar[s * m.A + b];
  return qStar[s * m.A + a] >= best - eps;
}

/**
 * State values of a deterministic policy under `reward`, V(s) = r(s, π(s)) + γ·V(s'), by iteration
 * (0 at terminal states). A policy that never reaches a terminal state gets its discounted loop value.
 */
export function policyValues(m: TabularMdp, pi: Int32Array, reward: Float64Array, gamma: number, tol = 1e-10, maxIter = 100_000): Float64Array {
  const { S, A, next, terminal } = m;
  const v = new Float64Array(S);
  for (let it = 0; it < maxIter; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      if (terminal[s]) continue;
      const k = s * A + pi[s];
      const s2 = next[k];
      const x = reward[k] + (terminal[s2] ? 0 : gamma * v[s2]);
      const d = Math.abs(x - v[s]);
      if (d > delta) delta = d;
      v[s] = x;
    }
    if (delta < tol) break;
  }
  return v;
}

/**
 * Follows the greedy policy of `q` from `m.start` for at most `horizon` steps (ties: lowest action) and
 * returns the discounted return of `reward` along the way, the steps taken and whether a terminal state
 * was reached.
 */
export function greedyRollout(
  m: TabularMdp,
  q: Float64Array,
  reward: Float64Array,
  gamma: number,
  horizon: number,
): { ret: number; steps: number; reached: boolean } {
  let s = m.start;
  let ret = 0;
  let disc = 1;
  for (let t = 0; t < horizon; t++) {
    let a = 0;
    for (let b = 1; b < m.A; b++) if (q[s * m.A + b] > q[s * m.A + a]) a = b;
    const k = s * m.A + a;
    ret += disc * reward[k];
    disc *= gamma;
    s = m.next[k];
    if (m.terminal[s]) return { ret, steps: t + 1, reached: true };
  }
  return { ret, steps: horizon, reached: false };
}
