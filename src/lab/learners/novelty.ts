/**
 * Direct policy search over open-loop action sequences in a gridworld: objective-only evolution,
 * novelty search (Lehman & Stanley 2011) and MAP-Elites (Mouret & Clune 2015) — the quality-diversity
 * loop of "Learning in Sparse Rewards settings through Quality-Diversity algorithms" (Paolo 2021).
 *
 * A genome is a sequence of `length` moves (a Uint8Array, genomes stored back to back in one array). It
 * is played from the start cell; a blocked move leaves the agent in place and the run stops on the goal.
 * Its behaviour descriptor b(x) is the final cell (x, y); its fitness (the objective) is minus the
 * Euclidean distance from the final cell to the goal, and it "solves" the task when it reaches the goal.
 *
 * - **objective**: (μ + λ) evolution — λ offspring by mutating tournament-picked parents, the best μ of
 *   parents and offspring by fitness survive.
 * - **novelty**: the same loop, ranked by novelty nov(x) = mean distance from b(x) to its k nearest
 *   neighbours in the archive ∪ population ∪ offspring (mechanics-B §14; k = 15; with fewer points, the
 *   mean over all of them). The `archiveAdd` most novel offspring of each generation join the archive.
 * - **map-elites**: an archive with one elite per niche (the final cell); each step mutates a uniformly
 *   picked elite and keeps the child if its niche is empty or it is fitter than the niche's elite.
 *
 * Every algorithm spends exactly `evaluations` genome evaluations; the result records when the task was
 * first solved and how many distinct final cells were found (coverage).
 */
import { ACTIONS, xyOf, type Grid } from '../envs/grid.js';
import type { Rng } from '../rng.js';

/** The search algorithms. */
export type SearchAlgorithm = 'objective' | 'novelty' | 'map-elites';

/** Options of {@link searchMaze}. */
export interface SearchOptions {
  algorithm: SearchAlgorithm;
  /** Moves per genome. */
  length: number;
  /** Genome evaluations in total (the budget). */
  evaluations: number;
  /** Population size μ (= offspring per generation λ) of objective and novelty search; initial batch of MAP-Elites. */
  population: number;
  /** Per-move probability of redrawing the move on mutation. */
  mutation: number;
  /** Neighbours of the novelty score. Default 15. */
  k?: number;
  /** Offspring added to the novelty archive per generation. Default 5. */
  archiveAdd?: number;
  /** Tournament size of parent selection. Default 3. */
  tournament?: number;
  /**
   * What the novelty algorithm ranks by: `novelty` (default) or `objective` (the broken variant:
   * "novelty search" that ranks by fitness is objective search).
   */
  noveltyScore?: 'novelty' | 'objective';
  /** Niches of MAP-Elites: `cell` (default: one per final cell) or `single` (one niche: an elitist hill-climber). */
  niches?: 'cell' | 'single';
  /** Points of the progress curves (solved, coverage), evenly spaced over the budget. Default 20. */
  curvePoints?: number;
}

/** What {@link searchMaze} returns. */
export interface SearchResult {
  /** Evaluation count at which the goal was first reached (1-based), or −1. */
  solvedAt: number;
  /** Best fitness found (−distance to goal). */
  bestFitness: number;
  /** Distinct final cells found over the run. */
  coverage: number;
  /** Per curve point: 1 if solved by then, and the coverage by then. */
  solvedCurve: number[];
  coverageCurve: number[];
  envSteps: number;
}

/**
 * Plays genome `i` of `genomes` (moves `length` each) from the start; returns the final cell.
 * `steps` accumulates the moves played.
 */
function play(g: Grid, genomes: Uint8Array, i: number, length: number, steps: { n: number }): number {
  let s = g.start;
  const base = i * length;
  for (let t = 0; t < length; t++) {
    s = g.next[s * ACTIONS + genomes[base + t]];
    if (s === g.goal) {
      steps.n += t + 1;
      return s;
    }
  }
  steps.n += length;
  return s;
}

/** Fitness of a final cell: −Euclidean distance to the goal. */
function fitnessOf(g: Grid, s: number): number {
  const [x, y] = xyOf(g, s);
  const [gx, gy] = xyOf(g, g.goal);
  return -Math.hypot(x - gx, y - gy);
}

/**
 * Novelty of each query point against `pts` (x, y pairs, `n` points): mean distance to its k nearest
 * neighbours, the point itself excluded once when `selfIn` (it is among `pts`).
 */
export function noveltyScores(qx: Float64Array, qy: Float64Array, px: Float64Array, py: Float64Array, n: number, k: number, selfIn: boolean, out: Float64Array): void {
  const kk = Math.min(k, n - (selfIn ? 1 : 0));
  const best = new Float64Array(Math.max(1, kk));
  for (let q = 0; q < qx.length; q++) {
    if (kk <= 0) {
      out[q] = 0;
      continue;
    }
    // the k smallest squared distances by insertion (k is small); square roots of those k only
    best.fill(Infinity);
    let skipped = !selfIn;
    const x = qx[q];
    const y = qy[q];
    for (let j = 0; j < n; j++) {
      const dx = x - px[j];
      const dy = y - py[j];
      const d = dx * dx + dy * dy;
      if (!skipped && d === 0) {
        skipped = true;
        continue;
      }
      if (d >= best[kk - 1]) continue;
      let p = kk - 1;
      while (p > 0 && best[p - 1] > d) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = d;
    }
    let s = 0;
    for (let j = 0; j < kk; j++) s += Math.sqrt(best[j]);
    out[q] = s / kk;
  }
}

function checkOptions(o: SearchOptions): void {
  const posInt = (n: number) => Number.isInteger(n) && n >= 1;
  if (!posInt(o.length)) throw new RangeError(`searchMaze: length must be a positive integer, got ${o.length}`);
  if (!posInt(o.evaluations)) throw new RangeError(`searchMaze: evaluations must be a positive integer, got ${o.evaluations}`);
  if (!posInt(o.population)) throw new RangeError(`searchMaze: population must be a positive integer, got ${o.population}`);
  if (!(o.mutation > 0 && o.mutation <= 1)) throw new RangeError(`searchMaze: mutation must be in (0, 1], got ${o.mutation}`);
}

/**
 * Runs one search on grid `g` with seeded randomness.
 *
 * @example
 * const r = searchMaze(deceptiveMaze(), new Rng(1), { algorithm: 'novelty', length: 60, evaluations: 5000, population: 50, mutation: 0.05 });
 * r.solvedAt // evaluation at which the goal was first reached, or −1
 */
export function searchMaze(g: Grid, rng: Rng, o: SearchOptions): SearchResult {
  checkOptions(o);
  const L = o.length;
  const E = o.evaluations;
  const points = o.curvePoints ?? 20;
  const steps = { n: 0 };
  const seen = new Uint8Array(g.W * g.H);
  let coverage = 0;
  let evals = 0;
  let solvedAt = -1;
  let bestFitness = -Infinity;
  const solvedCurve: number[] = [];
  const coverageCurve: number[] = [];
  let nextMark = Math.ceil(E / points);
  /** Book-keeping of one evaluation of the genome that ended in cell `s`. */
  const record = (s: number): number => {
    evals++;
    if (!seen[s]) {
      seen[s] = 1;
      coverage++;
    }
    if (s === g.goal && solvedAt < 0) solvedAt = evals;
    const f = fitnessOf(g, s);
    if (f > bestFitness) bestFitness = f;
    while (evals >= nextMark && solvedCurve.length < points) {
      solvedCurve.push(solvedAt > 0 ? 1 : 0);
      coverageCurve.push(coverage);
      nextMark = Math.ceil((E * (solvedCurve.length + 1)) / points);
    }
    return f;
  };
  const mutateInto = (src: Uint8Array, i: number, dst: Uint8Array, j: number) => {
    for (let t = 0; t < L; t++) dst[j * L + t] = rng.next() < o.mutation ? rng.int(ACTIONS) : src[i * L + t];
  };
  if (o.algorithm === 'map-elites') runMapElites();
  else runEvolution(o.algorithm === 'novelty' && (o.noveltyScore ?? 'novelty') === 'novelty');
  return { solvedAt, bestFitness, coverage, solvedCurve, coverageCurve, envSteps: steps.n };

  function runEvolution(byNovelty: boolean): void {
    const N = o.population;
    const k = o.k ?? 15;
    const addPerGen = o.archiveAdd ?? 5;
    const tour = o.tournament ?? 3;
    // parents at 0..N−1, offspring at N..2N−1 of one buffer
    let pool = new Uint8Array(2 * N * L);
    let next = new Uint8Array(2 * N * L);
    const cell = new Int32Array(2 * N);
    const fit = new Float64Array(2 * N);
    const score = new Float64Array(2 * N);
    const bx = new Float64Array(2 * N);
    const by = new Float64Array(2 * N);
    const cap = Math.ceil(E / N) * addPerGen + 1;
    const ax = new Float64Array(cap + 2 * N);
    const ay = new Float64Array(cap + 2 * N);
    let archive = 0;
    const order = new Int32Array(2 * N);
    const evalAt = (i: number) => {
      const s = play(g, pool, i, L, steps);
      cell[i] = s;
      fit[i] = record(s);
      const [x, y] = xyOf(g, s);
      bx[i] = x;
      by[i] = y;
    };
    for (let i = 0; i < N * L; i++) pool[i] = rng.int(ACTIONS);
    for (let i = 0; i < N && evals < E; i++) evalAt(i);
    let have = Math.min(N, evals);
    const scoreAll = (n: number) => {
      if (!byNovelty) {
        for (let i = 0; i < n; i++) score[i] = fit[i];
        return;
      }
      // reference set: archive then the current individuals
      for (let i = 0; i < n; i++) {
        ax[archive + i] = bx[i];
        ay[archive + i] = by[i];
      }
      noveltyScores(bx.subarray(0, n), by.subarray(0, n), ax, ay, archive + n, k, true, score);
    };
    scoreAll(have);
    while (evals < E) {
      // offspring
      const lambda = Math.min(N, E - evals);
      for (let j = 0; j < lambda; j++) {
        let p = rng.int(have);
        for (let t = 1; t < tour; t++) {
          const c = rng.int(have);
          if (score[c] > score[p]) p = c;
        }
        mutateInto(pool, p, pool, have + j);
      }
      for (let j = 0; j < lambda; j++) evalAt(have + j);
      const n = have + lambda;
      scoreAll(n);
      if (byNovelty) {
        // the most novel offspring join the archive
        for (let j = 0; j < lambda; j++) order[j] = have + j;
        const off = Array.from(order.subarray(0, lambda)).sort((a, b) => score[b] - score[a]);
        for (let j = 0; j < Math.min(addPerGen, lambda); j++) {
          ax[archive] = bx[off[j]];
          ay[archive] = by[off[j]];
          archive++;
        }
      }
      // survivors: the best N of parents + offspring by score (ties: earlier first)
      const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
      const keep = Math.min(N, n);
      for (let j = 0; j < keep; j++) {
        const i = idx[j];
        next.set(pool.subarray(i * L, (i + 1) * L), j * L);
      }
      const c2 = new Int32Array(keep);
      const s2 = new Float64Array(keep);
      const f2 = new Float64Array(keep);
      const x2 = new Float64Array(keep);
      const y2 = new Float64Array(keep);
      for (let j = 0; j < keep; j++) {
        c2[j] = cell[idx[j]];
        s2[j] = score[idx[j]];
        f2[j] = fit[idx[j]];
        x2[j] = bx[idx[j]];
        y2[j] = by[idx[j]];
      }
      cell.set(c2);
      score.set(s2);
      fit.set(f2);
      bx.set(x2);
      by.set(y2);
      [pool, next] = [next, pool];
      have = keep;
    }
  }

  function runMapElites(): void {
    const single = o.niches === 'single';
    const niches = single ? 1 : g.W * g.H;
    const elite = new Uint8Array(niches * L);
    const eliteFit = new Float64Array(niches).fill(-Infinity);
    const filled: number[] = [];
    const child = new Uint8Array(L);
    const consider = (genome: Uint8Array) => {
      const s = play(g, genome, 0, L, steps);
      const f = record(s);
      const niche = single ? 0 : s;
      if (f > eliteFit[niche]) {
        if (eliteFit[niche] === -Infinity) filled.push(niche);
        eliteFit[niche] = f;
        elite.set(genome, niche * L);
      }
    };
    for (let i = 0; i < o.population && evals < E; i++) {
      for (let t = 0; t < L; t++) child[t] = rng.int(ACTIONS);
      consider(child);
    }
    while (evals < E) {
      const p = filled[rng.int(filled.length)];
      mutateInto(elite, p, child, 0);
      consider(child);
    }
  }
}
