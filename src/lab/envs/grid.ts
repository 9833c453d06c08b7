/**
 * Gridworlds for the lab's classic shaping, exploration and quality-diversity experiments.
 *
 * A {@link Grid} is a W×H board of free cells and walls with four moves (up, right, down, left). Moves
 * are deterministic: a move into a wall or off the board leaves the agent where it is. The state is the
 * cell index `y·W + x`; `next[s·4 + a]` is the precomputed successor, so learners step with one typed-array
 * read. Rewards are not part of the grid: each experiment builds its reward as a table over (s, a)
 * (deterministic successors make R(s, a, s') a function of (s, a)), and the goal is absorbing (the
 * episode ends on entering it).
 *
 * Builders (all seeded, all checked to connect start and goal):
 * - {@link sparseGoalGrid} — an open board with scattered walls and a single goal: reward only there.
 * - {@link deceptiveMaze} — the start inside a cup of walls under the goal: the cell closest to the goal
 *   in Euclidean distance is the cup's dead end, and the way out first leads away from the goal.
 * - {@link cycleGrid} — a sparse-goal board with a "coin" cell off the shortest path whose bonus is paid
 *   on every entry: a non-potential bonus that a policy can farm by stepping out and back in.
 */
import type { Rng } from '../rng.js';

/** Moves, in action order: up (y − 1), right, down, left. */
export const MOVES: readonly (readonly [number, number])[] = [
  [0, -1],
  [1, 0],
  [0, 1],
  [-1, 0],
];

/** Number of actions of every grid. */
export const ACTIONS = 4;

/** A deterministic gridworld. */
export interface Grid {
  /** Name for curves and errors. */
  name: string;
  W: number;
  H: number;
  /** 1 = wall, per cell (length W·H). */
  walls: Uint8Array;
  /** Successor of (s, a) at `s·4 + a`. */
  next: Int32Array;
  start: number;
  goal: number;
  /** Optional special cell (the coin of {@link cycleGrid}); −1 if none. */
  special: number;
}

/** Cell index of (x, y). */
export function cellOf(g: Pick<Grid, 'W'>, x: number, y: number): number {
  return y * g.W + x;
}

/** (x, y) of a cell. */
export function xyOf(g: Pick<Grid, 'W'>, s: number): [number, number] {
  return [s % g.W, Math.floor(s / g.W)];
}

/**
 * Builds a grid from an ASCII picture: `#` wall, `S` start, `G` goal, `C` special cell, anything else
 * free. Rows must have equal lengths.
 *
 * @example
 * const g = gridFromAscii('tiny', ['S.#', '..G']); // g.start = 0, g.goal = 5
 */
export function gridFromAscii(name: string, rows: readonly string[]): Grid {
  const H = rows.length;
  if (H === 0) throw new RangeError(`grid ${name}: no rows`);
  const W = rows[0].length;
  const walls = new Uint8Array(W * H);
  let start = -1;
  let goal = -1;
  let special = -1;
  for (let y = 0; y < H; y++) {
    if (rows[y].length !== W) throw new RangeError(`grid ${name}: row ${y} has ${rows[y].length} cells, row 0 has ${W}`);
    for (let x = 0; x < W; x++) {
      const c = rows[y][x];
      const s = y * W + x;
      if (c === '#') walls[s] = 1;
      else if (c === 'S') start = s;
      else if (c === 'G') goal = s;
      else if (c === 'C') special = s;
    }
  }
  if (start < 0 || goal < 0) throw new RangeError(`grid ${name}: needs one S (start) and one G (goal)`);
  return finish({ name, W, H, walls, next: new Int32Array(0), start, goal, special });
}

/** Fills `next` from the walls. */
function finish(g: Grid): Grid {
  const { W, H, walls } = g;
  const next = new Int32Array(W * H * ACTIONS);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const s = y * W + x;
      for (let a = 0; a < ACTIONS; a++) {
        const nx = x + MOVES[a][0];
        const ny = y + MOVES[a][1];
        next[s * ACTIONS + a] = nx < 0 || ny < 0 || nx >= W || ny >= H || walls[ny * W + nx] ? s : ny * W + nx;
      }
    }
  g.next = next;
  return g;
}

/**
 * Shortest-path distance (moves) from every cell to `target` (breadth-first search backwards over the
 * deterministic moves); −1 for cells that cannot reach it and for walls.
 */
export function distancesTo(g: Grid, target: number): Int32Array {
  const S = g.W * g.H;
  const d = new Int32Array(S).fill(-1);
  const queue = new Int32Array(S);
  let head = 0;
  let tail = 0;
  d[target] = 0;
  queue[tail++] = target;
  while (head < tail) {
    const t = queue[head++];
    // predecessors of t: cells s with next(s, a) = t; on a grid these are t's neighbours
    const [x, y] = xyOf(g, t);
    for (let a = 0; a < ACTIONS; a++) {
      const px = x - MOVES[a][0];
      const py = y - MOVES[a][1];
      if (px < 0 || py < 0 || px >= g.W || py >= g.H) continue;
      const s = py * g.W + px;
      if (g.walls[s] || d[s] >= 0 || g.next[s * ACTIONS + a] !== t) continue;
      d[s] = d[t] + 1;
      queue[tail++] = s;
    }
  }
  return d;
}

/**
 * An open W×H board, start in the top-left corner, goal in the bottom-right, and `wallFraction` of the
 * other cells walled at random (redrawn until start and goal connect). The reward of the task is sparse:
 * the goal only.
 *
 * @example
 * const g = sparseGoalGrid(new Rng(1), 10, 10, 0.15);
 */
export function sparseGoalGrid(rng: Rng, W: number, H: number, wallFraction = 0.15, name = `sparse-${W}x${H}`): Grid {
  if (!(W >= 2 && H >= 2)) throw new RangeError(`sparseGoalGrid: W and H must be ≥ 2, got ${W}×${H}`);
  if (!(wallFraction >= 0 && wallFraction < 0.5)) throw new RangeError(`sparseGoalGrid: wallFraction must be in [0, 0.5), got ${wallFraction}`);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const walls = new Uint8Array(W * H);
    const start = 0;
    const goal = W * H - 1;
    for (let s = 0; s < W * H; s++) if (s !== start && s !== goal && rng.next() < wallFraction) walls[s] = 1;
    const g = finish({ name, W, H, walls, next: new Int32Array(0), start, goal, special: -1 });
    if (distancesTo(g, goal)[start] >= 0) return g;
  }
  throw new Error(`sparseGoalGrid: no connected ${W}×${H} board in 1000 draws at wall fraction ${wallFraction}`);
}

/**
 * The deceptive maze: the agent starts inside a cup of walls whose lid lies just under the goal and whose
 * mouth opens away from it. Moving towards the goal ends against the lid, in the cup's dead end at
 * Euclidean distance 3 from the goal; the way out leaves by the mouth, first moving away from the goal
 * (to a distance larger than the start's), round the side and back along the top corridor.
 * `W` odd ≥ 11, `H` ≥ 11; the cup's side walls run from row 2 down to `sideEnd` (default H − 4).
 *
 * ```
 * .......G.......   row 0: goal
 * ...............   row 1: top corridor
 * ...#########...   the lid
 * ...#.......#...
 * ...#...S...#...   start inside the cup (lowest inner row)
 * ...............   the mouth opens downwards
 * ```
 */
export function deceptiveMaze(W = 15, H = 13, sideEnd = H - 4): Grid {
  if (!(W >= 11 && W % 2 === 1 && H >= 11)) throw new RangeError(`deceptiveMaze: W must be odd ≥ 11 and H ≥ 11, got ${W}×${H}`);
  if (!(Number.isInteger(sideEnd) && sideEnd >= 4 && sideEnd <= H - 2)) throw new RangeError(`deceptiveMaze: sideEnd must be an integer in [4, H − 2], got ${sideEnd}`);
  const rows: string[][] = Array.from({ length: H }, () => Array.from({ length: W }, () => '.'));
  const mid = (W - 1) / 2;
  rows[0][mid] = 'G';
  const left = 3;
  const right = W - 4;
  for (let x = left; x <= right; x++) rows[2][x] = '#';
  for (let y = 2; y <= sideEnd; y++) {
    rows[y][left] = '#';
    rows[y][right] = '#';
  }
  rows[sideEnd][mid] = 'S';
  return gridFromAscii(`deceptive-maze-${W}x${H}`, rows.map((r) => r.join('')));
}

/**
 * A sparse-goal board (as {@link sparseGoalGrid}, without walls) with a coin cell `special` one step off
 * the start's shortest path, near the start: the cycle experiment pays a bonus on each entry into it,
 * which a policy can collect again and again by stepping out and back in.
 */
export function cycleGrid(W = 8, H = 8): Grid {
  if (!(W >= 4 && H >= 4)) throw new RangeError(`cycleGrid: W and H must be ≥ 4, got ${W}×${H}`);
  const rows: string[][] = Array.from({ length: H }, () => Array.from({ length: W }, () => '.'));
  rows[0][0] = 'S';
  rows[H - 1][W - 1] = 'G';
  rows[2][0] = 'C';
  return gridFromAscii(`cycle-${W}x${H}`, rows.map((r) => r.join('')));
}

/** Free (non-wall) cells of a grid. */
export function freeCells(g: Grid): Int32Array {
  const out: number[] = [];
  for (let s = 0; s < g.W * g.H; s++) if (!g.walls[s]) out.push(s);
  return Int32Array.from(out);
}
