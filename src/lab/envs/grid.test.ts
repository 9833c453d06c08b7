import { describe, expect, it } from 'vitest';
import { shapedReturn } from '../../shape/potential.js';
import { Rng } from '../rng.js';
import { potentialShaped, manhattanPotential } from '../experiments/potential_shaping.js';
import { ACTIONS, cellOf, cycleGrid, deceptiveMaze, distancesTo, freeCells, gridFromAscii, sparseGoalGrid, xyOf } from './grid.js';
import { keyDoorGrid, KEYDOOR_MESSAGES } from './keydoor.js';
import { goalReward, greedyPolicy, greedyRollout, isOptimalAction, mdpOfGrid, policyValues, rewardOf, valueIteration } from './tabular_mdp.js';

describe('gridworlds', () => {
  it('ASCII grids: walls block, the board edge blocks, start and goal are found', () => {
    const g = gridFromAscii('t', ['S.#', '..G']);
    expect([g.W, g.H, g.start, g.goal]).toEqual([3, 2, 0, 5]);
    // from (1,0): up blocked by the edge, right blocked by the wall, down to (1,1), left to (0,0)
    const s = cellOf(g, 1, 0);
    expect(Array.from(g.next.subarray(s * ACTIONS, s * ACTIONS + 4))).toEqual([s, s, cellOf(g, 1, 1), cellOf(g, 0, 0)]);
    expect(() => gridFromAscii('bad', ['S.', '.'])).toThrow(/row 1 has 1 cells, row 0 has 2/);
    expect(() => gridFromAscii('bad', ['..', '..'])).toThrow(/needs one S/);
  });

  it('sparse grids are seeded and always connect start and goal', () => {
    const a = sparseGoalGrid(new Rng(3), 10, 10, 0.3);
    const b = sparseGoalGrid(new Rng(3), 10, 10, 0.3);
    expect(Array.from(a.walls)).toEqual(Array.from(b.walls));
    for (let seed = 1; seed <= 20; seed++) {
      const g = sparseGoalGrid(new Rng(seed), 8, 8, 0.3);
      expect(distancesTo(g, g.goal)[g.start]).toBeGreaterThanOrEqual(14);
    }
    expect(() => sparseGoalGrid(new Rng(1), 1, 5)).toThrow(/W and H must be ≥ 2/);
    expect(() => sparseGoalGrid(new Rng(1), 5, 5, 0.7)).toThrow(/wallFraction/);
  });

  it('the deceptive maze: the Euclidean-closest reachable dead end is inside the cup, and the way out first moves away from the goal', () => {
    const g = deceptiveMaze(17, 13);
    const [gx, gy] = xyOf(g, g.goal);
    const [sx, sy] = xyOf(g, g.start);
    const euclid = (s: number) => Math.hypot(xyOf(g, s)[0] - gx, xyOf(g, s)[1] - gy);
    // the cell under the lid, straight above the start, is at distance 3 and its shortest path to the goal is long
    const trap = cellOf(g, sx, 3);
    expect(euclid(trap)).toBe(3);
    const d = distancesTo(g, g.goal);
    expect(d[trap]).toBeGreaterThan(15);
    // every path from the start passes through a cell farther from the goal than the start
    const far = euclid(g.start);
    const blocked = gridFromAscii('x', Array.from({ length: g.H }, (_, y) => Array.from({ length: g.W }, (_, x) => {
      const s = cellOf(g, x, y);
      if (s === g.start) return 'S';
      if (s === g.goal) return 'G';
      return g.walls[s] || (euclid(s) > far && s !== g.goal) ? '#' : '.';
    }).join('')));
    expect(distancesTo(blocked, blocked.goal)[blocked.start]).toBe(-1);
    expect(sy).toBe(9);
    expect(() => deceptiveMaze(12, 13)).toThrow(/W must be odd/);
  });

  it('the cycle grid has a coin cell and free cells are listed', () => {
    const g = cycleGrid(6, 6);
    expect(g.special).toBe(cellOf(g, 0, 2));
    expect(freeCells(g).length).toBe(36);
  });

  it('the key-door grid: the door is locked without the key and ends the episode with it', () => {
    const m = keyDoorGrid(new Rng(1), 4, 4, 3);
    const C = 16;
    // walk right along the top row to the key (3,0): moves into the key layer with its message
    const k = 2 * 4 + 1; // from (2,0) right
    expect(m.next[k]).toBe(C + 3);
    expect(m.messages[m.message[k]]).toBe(KEYDOOR_MESSAGES.key);
    // from (3,2) without the key, down into the door: bump, "locked"
    const noKey = (2 * 4 + 3) * 4 + 2;
    expect(m.next[noKey]).toBe(2 * 4 + 3);
    expect(m.messages[m.message[noKey]]).toBe(KEYDOOR_MESSAGES.locked);
    const withKey = (C + 2 * 4 + 3) * 4 + 2;
    expect(m.terminal[m.next[withKey]]).toBe(1);
    expect(m.messages[m.message[withKey]]).toBe(KEYDOOR_MESSAGES.open);
    // the extrinsic reward is the door only
    const r = goalReward(m);
    expect(r.reduce((a, b) => a + b, 0)).toBe(2); // from (3,2) down and from (2,3) right, in the key layer
  });
});

describe('tabular planning and potential-based shaping', () => {
  it('value iteration on a corridor gives γ^(d−1) and the greedy policy walks to the goal', () => {
    const g = gridFromAscii('corridor', ['S...G']);
    const m = mdpOfGrid(g);
    const q = valueIteration(m, goalReward(m), 0.9);
    expect(q[0 * 4 + 1]).toBeCloseTo(0.9 ** 3, 12);
    const pi = greedyPolicy(m, q);
    expect(pi[0]).toBe(1);
    const roll = greedyRollout(m, q, goalReward(m), 0.9, 10);
    expect(roll).toMatchObject({ steps: 4, reached: true });
    expect(roll.ret).toBeCloseTo(0.9 ** 3, 12);
    const v = policyValues(m, pi, goalReward(m), 0.9);
    expect(v[2]).toBeCloseTo(0.9, 12);
    expect(() => valueIteration(m, goalReward(m), 1)).toThrow(/gamma must be in \[0, 1\)/);
  });

  it('shaping with any potential (Φ = 0 at the goal) keeps every optimal action optimal — Ng et al.', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed);
      const g = sparseGoalGrid(rng, 7, 7, 0.2);
      const m = mdpOfGrid(g);
      const r = rewardOf(m, (s, _a, s2) => (s2 === g.goal && s !== g.goal ? 1 : 0) - 0.05 * rng.next());
      const phi = Float64Array.from({ length: m.S }, () => 3 * rng.normal());
      const qStar = valueIteration(m, r, 0.9);
      const qShaped = valueIteration(m, potentialShaped(m, r, phi, 0.9), 0.9);
      const d = distancesTo(g, g.goal);
      for (let s = 0; s < m.S; s++) {
        if (g.walls[s] || m.terminal[s] || d[s] < 0) continue;
        // Q_shaped = Q* − Φ(s): identical preferences
        for (let a = 0; a < 4; a++) expect(qShaped[s * 4 + a]).toBeCloseTo(qStar[s * 4 + a] - phi[s], 8);
        expect(isOptimalAction(m, qStar, s, greedyPolicy(m, qShaped)[s])).toBe(true);
      }
    }
  });

  it('the shaped return of an episode telescopes as the project\'s shapedReturn says: G + γ^T·0 − Φ(s₀)', () => {
    const g = sparseGoalGrid(new Rng(4), 8, 8, 0.15);
    const m = mdpOfGrid(g);
    const r = goalReward(m);
    const phi = manhattanPotential(g, 0.95);
    const shaped = potentialShaped(m, r, phi, 0.95);
    const q = valueIteration(m, r, 0.95);
    // walk the optimal policy, collecting Φ along the way
    let s = m.start;
    const pots: number[] = [];
    let G = 0;
    let Gs = 0;
    let disc = 1;
    for (let t = 0; t < 100 && !m.terminal[s]; t++) {
      const a = greedyPolicy(m, q)[s];
      pots.push(phi[s]);
      G += disc * r[s * 4 + a];
      Gs += disc * shaped[s * 4 + a];
      disc *= 0.95;
      s = m.next[s * 4 + a];
    }
    expect(m.terminal[s]).toBe(1);
    expect(Gs).toBeCloseTo(shapedReturn(G, pots, 0.95, 0), 12);
    expect(Gs).toBeCloseTo(G - phi[m.start], 12);
  });
});
