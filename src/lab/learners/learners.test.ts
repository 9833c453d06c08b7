import { describe, expect, it } from 'vitest';
import { functionBackend } from '../../backends/fake.js';
import { deceptiveMaze, gridFromAscii } from '../envs/grid.js';
import { goalReward, greedyRollout, mdpOfGrid } from '../envs/tabular_mdp.js';
import { Rng } from '../rng.js';
import { countBonus, judgeLabeller, oniBonus, oniPrompt, parseOniLabel } from './intrinsic.js';
import { noveltyScores, searchMaze } from './novelty.js';
import { qLearning, windowMeans } from './qlearning.js';

describe('Q-learning', () => {
  it('learns the shortest path of a small grid and records extrinsic returns and steps', async () => {
    const g = gridFromAscii('room', ['S....', '.##..', '....G']);
    const m = mdpOfGrid(g);
    const r = goalReward(m);
    const res = await qLearning(m, r, r, new Rng(1), { episodes: 300, horizon: 50, gamma: 0.9, alpha: 0.5, epsilon: 0.1 });
    const roll = greedyRollout(m, res.q, r, 0.9, 50);
    expect(roll).toMatchObject({ steps: 6, reached: true });
    expect(roll.ret).toBeCloseTo(0.9 ** 5, 12);
    expect(res.extReturn.length).toBe(300);
    expect(res.extReturn[299]).toBe(1);
    expect(res.envSteps).toBe(res.steps.reduce((a, b) => a + b, 0));
  });

  it('the training reward drives learning while the extrinsic one is only recorded', async () => {
    const g = gridFromAscii('corridor', ['S...G']);
    const m = mdpOfGrid(g);
    const r = goalReward(m);
    const zero = new Float64Array(r.length);
    const res = await qLearning(m, zero, r, new Rng(2), { episodes: 20, horizon: 30, gamma: 0.9, alpha: 0.5, epsilon: 0.1 });
    expect(Array.from(res.q).every((x) => x === 0)).toBe(true);
    expect(res.extReturn.some((x) => x === 1)).toBe(true);
  });

  it('bonus and episode hooks are called; bad options are named', async () => {
    const m = mdpOfGrid(gridFromAscii('c', ['S.G']));
    const r = goalReward(m);
    let calls = 0;
    let ends = 0;
    await qLearning(m, r, r, new Rng(3), { episodes: 5, horizon: 10, gamma: 0.9, alpha: 1, epsilon: 0, bonus: () => (calls++, 0), onEpisodeEnd: () => void ends++ });
    expect(ends).toBe(5);
    expect(calls).toBeGreaterThanOrEqual(10);
    await expect(qLearning(m, r, r, new Rng(3), { episodes: 0, horizon: 10, gamma: 0.9, alpha: 1, epsilon: 0 })).rejects.toThrow(/episodes must be a positive integer/);
    await expect(qLearning(m, r, r, new Rng(3), { episodes: 1, horizon: 10, gamma: 0.9, alpha: 0, epsilon: 0 })).rejects.toThrow(/alpha must be in \(0, 1\]/);
    await expect(qLearning(m, r.subarray(1), r, new Rng(3), { episodes: 1, horizon: 10, gamma: 0.9, alpha: 1, epsilon: 0 })).rejects.toThrow(/S·A = 12/);
  });

  it('windowMeans averages consecutive windows', () => {
    expect(windowMeans([1, 2, 3, 4, 5], 2)).toEqual([1.5, 3.5, 5]);
  });
});

describe('novelty search and MAP-Elites', () => {
  it('novelty is the mean distance to the k nearest neighbours (mechanics-B §14 worked example: 1.138)', () => {
    const px = Float64Array.from([0, 1, 0, 3]);
    const py = Float64Array.from([0, 0, 1, 3]);
    const out = new Float64Array(1);
    noveltyScores(Float64Array.from([1]), Float64Array.from([1]), px, py, 4, 3, false, out);
    expect(out[0]).toBeCloseTo((1 + 1 + Math.SQRT2) / 3, 12);
    expect(out[0]).toBeCloseTo(1.138, 3);
    // k copies of the point itself: novelty 0; k larger than the archive: the mean over all of it
    noveltyScores(Float64Array.from([2]), Float64Array.from([2]), Float64Array.from([2, 2, 2]), Float64Array.from([2, 2, 2]), 3, 3, false, out);
    expect(out[0]).toBe(0);
    noveltyScores(Float64Array.from([0]), Float64Array.from([0]), Float64Array.from([3, 0]), Float64Array.from([4, 0]), 2, 15, false, out);
    expect(out[0]).toBe(2.5);
  });

  it('every algorithm spends exactly the budget and is deterministic per seed', () => {
    const g = deceptiveMaze(15, 13);
    for (const algorithm of ['objective', 'novelty', 'map-elites'] as const) {
      const o = { algorithm, length: 30, evaluations: 500, population: 20, mutation: 0.05, curvePoints: 5 };
      const a = searchMaze(g, new Rng(7), o);
      const b = searchMaze(g, new Rng(7), o);
      expect(a).toEqual(b);
      expect(a.solvedCurve).toHaveLength(5);
      expect(a.coverageCurve[4]).toBe(a.coverage);
      expect(a.envSteps).toBeLessThanOrEqual(500 * 30);
      expect(a.envSteps).toBeGreaterThan(500);
    }
    expect(() => searchMaze(g, new Rng(1), { algorithm: 'novelty', length: 0, evaluations: 5, population: 2, mutation: 0.1 })).toThrow(/length must be a positive integer/);
  });

  it('objective search stays in the cup while novelty search spreads out (coverage)', () => {
    const g = deceptiveMaze(17, 13);
    const o = { length: 80, evaluations: 3000, population: 50, mutation: 0.03 };
    const obj = searchMaze(g, new Rng(3), { ...o, algorithm: 'objective' });
    const ns = searchMaze(g, new Rng(3), { ...o, algorithm: 'novelty' });
    expect(obj.bestFitness).toBe(-3);
    expect(ns.coverage).toBeGreaterThan(obj.coverage * 1.3);
  });
});

describe('intrinsic rewards', () => {
  it('count bonus is β/√N with lifelong counts', () => {
    const c = countBonus(4, 0.5);
    expect(c.bonus(0, 0, 2)).toBe(0.5);
    expect(c.bonus(0, 0, 2)).toBeCloseTo(0.5 / Math.SQRT2, 12);
    expect(c.bonus(0, 0, 3)).toBe(0.5);
    expect(c.counts[2]).toBe(2);
    expect(() => countBonus(4, -1)).toThrow(/beta must be ≥ 0/);
  });

  it('ONI: unseen messages pay 0 and are queued; labelled ones decay as N_ep^−3 and reset each episode (mechanics-B §15)', async () => {
    // two states × 1 action; (0,0) prints message 0, (1,0) message 1
    const message = Int32Array.from([0, 1]);
    const asked: string[][] = [];
    const oni = oniBonus(message, 1, ['found the key', 'a rat'], 'task', async (_t, ms) => (asked.push([...ms]), ms.map((m) => (m.includes('key') ? 1 : 0))), { coeff: 0.4 });
    expect(oni.bonus(0, 0, 1, 0)).toBe(0);
    expect(oni.bonus(1, 0, 0, 1)).toBe(0);
    await oni.onEpisodeEnd();
    expect(asked).toEqual([['found the key', 'a rat']]);
    expect(oni.bonus(0, 0, 1, 0)).toBe(0.4);
    expect(oni.bonus(0, 0, 1, 1)).toBeCloseTo(0.4 / 8, 12);
    expect(oni.bonus(0, 0, 1, 2)).toBeCloseTo(0.4 / 27, 12);
    expect(oni.bonus(0, 0, 1, 3)).toBeCloseTo(0.4 / 64, 12); // the reference's worked example: 0.4·4^−3 = 0.00625
    expect(oni.bonus(1, 0, 0, 4)).toBe(0);
    // a new episode (t = 0) resets the episodic count
    expect(oni.bonus(0, 0, 1, 0)).toBe(0.4);
    await oni.onEpisodeEnd();
    expect(asked).toHaveLength(1);
    expect(oni.calls()).toBe(1);
  });

  it('judge labels: the first standalone 0/1, anything else null; null pays nothing', async () => {
    expect(parseOniLabel('1')).toBe(1);
    expect(parseOniLabel(' 0\n')).toBe(0);
    expect(parseOniLabel('Answer: 1')).toBe(1);
    expect(parseOniLabel('yes')).toBeNull();
    expect(parseOniLabel('10')).toBeNull();
    expect(parseOniLabel('0.5')).toBeNull();
    const judge = functionBackend('j', { chat: async (req) => ({ text: /event: "[^"]*key/.test(req.messages[0].content) ? '1' : 'maybe' }) });
    const label = judgeLabeller(judge);
    expect(await label('Find the key.', ['You pick up a key.', 'A rat.'])).toEqual([1, null]);
    const oni = oniBonus(Int32Array.from([0]), 1, ['A rat.'], 't', label, { coeff: 1 });
    oni.bonus(0, 0, 0, 0);
    await oni.onEpisodeEnd();
    expect(oni.labels.get(0)).toBeNull();
    expect(oni.bonus(0, 0, 0, 0)).toBe(0);
    expect(oniPrompt('T', 'E')).toContain('Its task: T');
    const broken = judgeLabeller(functionBackend('down', { chat: async () => { throw new Error('503'); } }));
    await expect(broken('t', ['x'])).rejects.toThrow(/ONI judge backend "down" failed to label "x": 503/);
  });
});
