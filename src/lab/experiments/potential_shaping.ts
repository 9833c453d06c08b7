/**
 * `potential-shaping` — potential-based shaping keeps the optimal policy and speeds learning; a
 * non-potential bonus that can be farmed in a cycle changes the learned policy (Ng, Harada & Russell,
 * "Policy invariance under reward transformations", ICML 1999; "Towards better dense rewards in RL
 * applications"; Robo-Dopamine's policy-invariant shaping vs the "semantic trap").
 */
import { rewardTable, shapeTable } from '../../evaluate/epic.js';
import { distancesTo, sparseGoalGrid, xyOf, type Grid } from '../envs/grid.js';
import { goalReward, greedyPolicy, greedyRollout, isOptimalAction, mdpOfGrid, valueIteration, type TabularMdp } from '../envs/tabular_mdp.js';
import { qLearning, windowMeans } from '../learners/qlearning.js';
import { Rng } from '../rng.js';
import { claimOnMean, pairedDiff } from '../stats.js';
import type { Experiment, ExperimentResult, RunOptions } from '../types.js';
import { checkRunOptions, curveOf, forSeeds, subSeed } from '../seeds.js';

const NAME = 'potential-shaping';
const VARIANTS = {
  'no-potential': 'the shaped arm gets the progress bonus λ·Φ̃(s′) itself (not γΦ(s′) − Φ(s)): the optimal policy changes (the claim of invariance fails)',
  'no-shaping': 'the shaped arm gets F = 0: it learns exactly as the plain arm (the speed-up claim fails)',
  'coin-as-potential': 'the coin bonus is paid as potential shaping (Φ = bonus on the coin cell), so it cannot be farmed (the policy-change claim fails)',
};

/** Settings of one run (exported for tests and benchmarks). */
export const POTENTIAL_SHAPING_SETTINGS = {
  W: 10,
  H: 10,
  wallFraction: 0.2,
  gamma: 0.95,
  episodes: 200,
  horizon: 150,
  alpha: 0.5,
  epsilon: 0.1,
  /** Weight λ of the raw progress bonus λ·Φ(s′) of the no-potential variant. */
  lambda: 0.1,
  /** Coin bonus per entry into the coin cell. */
  coin: 0.5,
  /** Episodes per point of the learning curves. */
  window: 10,
};

/** Tabular reward R(s, a, s') of the MDP (S×A×S) from an (s, a) table (only successors matter). */
function fullTable(m: TabularMdp, r: Float64Array) {
  return rewardTable(m.S, m.A, (s, a, s2) => (m.next[s * m.A + a] === s2 ? r[s * m.A + a] : 0));
}

/** An (s, a) table back from a full table, reading each successor. */
function saTable(m: TabularMdp, full: { data: Float64Array }): Float64Array {
  const r = new Float64Array(m.S * m.A);
  for (let s = 0; s < m.S; s++) for (let a = 0; a < m.A; a++) r[s * m.A + a] = full.data[(s * m.A + a) * m.S + m.next[s * m.A + a]];
  return r;
}

/**
 * The potential-shaped reward r + γΦ(s′) − Φ(s), built with the project's tabular shaping
 * (`shapeTable`, evaluate/epic.ts) — Φ of the terminal goal is 0 (Ng et al.'s condition).
 */
export function potentialShaped(m: TabularMdp, r: Float64Array, phi: Float64Array, gamma: number): Float64Array {
  const p = Float64Array.from(phi, (v, s) => (m.terminal[s] ? 0 : v));
  return saTable(m, shapeTable(fullTable(m, r), p, gamma));
}

/**
 * Φ(s) = γ^(d(s) − 1) with d the Manhattan distance to the goal: the optimal value of the sparse goal
 * reward on the same board without walls — an optimistic estimate of V* (walls only lengthen paths), as
 * Ng et al. recommend (Φ ≈ V*). Φ(goal) is set to 0 by the shaping (terminal).
 */
export function manhattanPotential(g: Grid, gamma: number): Float64Array {
  const [gx, gy] = xyOf(g, g.goal);
  const phi = new Float64Array(g.W * g.H);
  for (let s = 0; s < phi.length; s++) {
    const [x, y] = xyOf(g, s);
    phi[s] = gamma ** (Math.abs(x - gx) + Math.abs(y - gy) - 1);
  }
  return phi;
}

/** A free cell for the coin: not start, not goal, reachable, at Manhattan distance 2 from the start if possible. */
function coinCell(g: Grid, rng: Rng): number {
  const d = distancesTo(g, g.goal);
  const [sx, sy] = xyOf(g, g.start);
  const near: number[] = [];
  const any: number[] = [];
  for (let s = 0; s < g.W * g.H; s++) {
    if (g.walls[s] || s === g.start || s === g.goal || d[s] < 0) continue;
    any.push(s);
    const [x, y] = xyOf(g, s);
    if (Math.abs(x - sx) + Math.abs(y - sy) <= 3) near.push(s);
  }
  const pool = near.length > 0 ? near : any;
  return pool[rng.int(pool.length)];
}

/** Fraction of free non-terminal cells that reach the goal where the greedy action of `q` is optimal under `qStar`. */
function agreement(m: TabularMdp, g: Grid, q: Float64Array, qStar: Float64Array): number {
  const d = distancesTo(g, g.goal);
  const pi = greedyPolicy(m, q);
  let n = 0;
  let ok = 0;
  for (let s = 0; s < m.S; s++) {
    if (g.walls[s] || m.terminal[s] || d[s] < 0) continue;
    n++;
    if (isOptimalAction(m, qStar, s, pi[s])) ok++;
  }
  return ok / n;
}

async function run(opts: RunOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const { seeds, seed0 } = checkRunOptions({ name: NAME, variants: VARIANTS }, opts);
  const v = opts.variant;
  const P = POTENTIAL_SHAPING_SETTINGS;
  const agree: number[] = [];
  const aucPlain: number[] = [];
  const aucShaped: number[] = [];
  const finalShaped: number[] = [];
  const finalCoin: number[] = [];
  const curves: Record<'plain' | 'shaped' | 'coin', number[][]> = { plain: [], shaped: [], coin: [] };
  let envSteps = 0;
  await forSeeds(opts, seeds, seed0, async (seed) => {
    const g = sparseGoalGrid(new Rng(subSeed(seed, 0)), P.W, P.H, P.wallFraction);
    const m = mdpOfGrid(g);
    const r = goalReward(m);
    const phi = manhattanPotential(g, P.gamma);
    // the shaped arm: γΦ(s') − Φ(s), or (variants) nothing / the raw progress bonus λ·Φ̃(s')
    let shaped: Float64Array;
    if (v === 'no-shaping') shaped = r;
    else if (v === 'no-potential') shaped = Float64Array.from(r, (x, k) => x + P.lambda * (m.terminal[m.next[k]] ? 0 : phi[m.next[k]]));
    else shaped = potentialShaped(m, r, phi, P.gamma);
    // the coin arm: the shaped reward plus +coin on each entry into the coin cell (farmable), or
    // (variant) the coin as a second potential Φ_c = coin·1[s = coin]
    const coin = coinCell(g, new Rng(subSeed(seed, 1)));
    const pbrs = v === 'no-potential' || v === 'no-shaping' ? potentialShaped(m, r, phi, P.gamma) : shaped;
    let coinR: Float64Array;
    if (v === 'coin-as-potential') {
      const phiC = Float64Array.from(phi, (x, s) => x + (s === coin ? P.coin : 0));
      coinR = potentialShaped(m, r, phiC, P.gamma);
    } else coinR = Float64Array.from(pbrs, (x, k) => x + (m.next[k] === coin && Math.floor(k / m.A) !== coin ? P.coin : 0));

    // (1) invariance, exactly: the optimal policy of the shaped reward is optimal for the true one
    const qStar = valueIteration(m, r, P.gamma);
    agree.push(agreement(m, g, valueIteration(m, shaped, P.gamma), qStar));

    // (2) speed and (3) policy change, learned: Q-learning with the same exploration stream per arm
    const q = { episodes: P.episodes, horizon: P.horizon, gamma: P.gamma, alpha: P.alpha, epsilon: P.epsilon };
    const plain = await qLearning(m, r, r, new Rng(subSeed(seed, 2)), q);
    const sh = await qLearning(m, shaped, r, new Rng(subSeed(seed, 2)), q);
    const co = await qLearning(m, coinR, r, new Rng(subSeed(seed, 2)), q);
    const pb = pbrs === shaped ? sh : await qLearning(m, pbrs, r, new Rng(subSeed(seed, 2)), q);
    envSteps += plain.envSteps + sh.envSteps + co.envSteps + (pb === sh ? 0 : pb.envSteps);
    const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
    aucPlain.push(mean(plain.extReturn));
    aucShaped.push(mean(sh.extReturn));
    finalShaped.push(greedyRollout(m, pb.q, r, P.gamma, P.horizon).ret);
    finalCoin.push(greedyRollout(m, co.q, r, P.gamma, P.horizon).ret);
    curves.plain.push(windowMeans(plain.extReturn, P.window));
    curves.shaped.push(windowMeans(sh.extReturn, P.window));
    curves.coin.push(windowMeans(co.extReturn, P.window));
  });
  const x = curves.plain[0].map((_, k) => (k + 1) * P.window);
  const shapedLabel = v === 'no-potential' ? 'progress bonus λΦ̃(s′) (variant)' : v === 'no-shaping' ? 'no shaping (variant)' : 'potential shaping γΦ(s′) − Φ(s)';
  return {
    experiment: NAME,
    paper: potentialShaping.paper,
    seeds,
    ...(v !== undefined ? { variant: v } : {}),
    claims: [
      claimOnMean(
        'potential-based shaping leaves the optimal policy unchanged',
        'fraction of reachable cells where the optimal action under the shaped reward is optimal under the true reward (value iteration), mean over seeds; holds above 0.999',
        agree,
        'greater',
        0.999,
      ),
      claimOnMean(
        'potential-based shaping speeds learning',
        'mean goal rate over all training episodes (area under the learning curve), shaped − plain, paired by seed',
        pairedDiff(aucShaped, aucPlain),
        'greater',
      ),
      claimOnMean(
        'a farmable non-potential bonus changes the learned policy',
        'discounted true return of the final greedy policy, potential shaping − potential shaping + coin bonus, paired by seed',
        pairedDiff(finalShaped, finalCoin),
        'greater',
      ),
    ],
    curves: [
      curveOf('plain (goal only)', 'goal rate per episode', 'episode', 'goal reached', x, curves.plain),
      curveOf(shapedLabel, 'goal rate per episode', 'episode', 'goal reached', x, curves.shaped),
      curveOf(v === 'coin-as-potential' ? 'shaping + coin as potential (variant)' : 'shaping + farmable coin bonus', 'goal rate per episode', 'episode', 'goal reached', x, curves.coin),
    ],
    envSteps,
    wallMs: performance.now() - t0,
  };
}

/** The experiment (see docs/lab.md). */
export const potentialShaping: Experiment = {
  name: NAME,
  title: 'Potential-based shaping keeps the optimal policy and speeds Q-learning; a farmable bonus changes it',
  paper: 'Ng, Harada & Russell 1999 (Policy invariance under reward transformations); Towards better dense rewards in RL applications; Robo-Dopamine',
  description:
    'Random 10×10 gridworlds with 20% walls and a single goal (reward 1 on entering it, γ = 0.95). Three arms: the sparse reward; ' +
    'the same plus potential-based shaping F = γΦ(s′) − Φ(s) with Φ(s) = γ^(d−1), d the Manhattan distance to the goal (the optimal value on the board without walls, an optimistic estimate of V*; Φ(goal) = 0); ' +
    'the sparse reward plus a bonus of 0.5 on every entry into a "coin" cell near the start. Claims: value iteration on the shaped reward gives a policy optimal for the true one in every cell; ' +
    'ε-greedy Q-learning reaches the goal more often over 200 episodes with shaping; the coin bonus makes the learned greedy policy loop on the coin (lower true return). ' +
    '[INF] Ng et al. show invariance as a theorem and speed-ups on gridworlds with distance-based Φ; our Φ, grid sizes and learning settings are ours, and the coin stands for Robo-Dopamine\'s "semantic trap" of raw progress rewards.',
  defaultSeeds: 10,
  variants: VARIANTS,
  run,
};
