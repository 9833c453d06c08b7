/**
 * A sparse-reward key-and-door gridworld with text events, for intrinsic-reward experiments (ONI,
 * count-based exploration).
 *
 * The board is an open W×H grid. The agent starts in the top-left corner; a key lies in one far corner
 * and a locked door in the other. The state is (cell, has key): S = 2·W·H. Walking onto the key picks
 * it up; walking into the door without the key bumps ("The door is locked.") and with it ends the
 * episode with the only extrinsic reward, 1. Some cells carry distractor events (sounds, sights) that
 * say nothing about the task. Every transition that produces an event has its message id in
 * `message[s·4 + a]` (−1 for none): the "messages" an ONI-style judge labels.
 */
import { ACTIONS, MOVES } from './grid.js';
import type { TabularMdp } from './tabular_mdp.js';
import type { Rng } from '../rng.js';

/** The key-door MDP with its event messages. */
export interface KeyDoorMdp extends TabularMdp {
  W: number;
  H: number;
  key: number;
  door: number;
  /** Event message id of (s, a) at `s·4 + a`, −1 for none. */
  message: Int32Array;
  /** Message texts by id. */
  messages: readonly string[];
  /** The task as a sentence, for a judge. */
  task: string;
}

/** Texts of the task events (ids 0..2) and of the distractors (ids 3..). */
export const KEYDOOR_MESSAGES = {
  key: 'You pick up a small brass key.',
  locked: 'The door is locked.',
  open: 'You unlock the door with the key and step through.',
  distractors: [
    'You hear water dripping somewhere.',
    'You step on a creaky floorboard.',
    'You see a faded painting of a ship.',
    'A cold draft brushes past you.',
    'You notice scratch marks on the floor.',
    'A rat scurries into a crack in the wall.',
  ],
};

/**
 * Builds the board: key in the top-right corner, door in the bottom-right, `distractors` distractor
 * cells drawn at random among the other cells (seeded).
 *
 * @example
 * const m = keyDoorGrid(new Rng(1), 12, 12);
 */
export function keyDoorGrid(rng: Rng, W = 12, H = 12, distractors = 12): KeyDoorMdp {
  if (!(Number.isInteger(W) && Number.isInteger(H) && W >= 3 && H >= 3)) throw new RangeError(`keyDoorGrid: W and H must be integers ≥ 3, got ${W}×${H}`);
  const C = W * H;
  const start = 0;
  const key = W - 1;
  const door = C - 1;
  const messages = [KEYDOOR_MESSAGES.key, KEYDOOR_MESSAGES.locked, KEYDOOR_MESSAGES.open, ...KEYDOOR_MESSAGES.distractors];
  // distractor events on entering some cells
  const cellMsg = new Int32Array(C).fill(-1);
  const free: number[] = [];
  for (let c = 0; c < C; c++) if (c !== start && c !== key && c !== door) free.push(c);
  for (let i = 0; i < Math.min(distractors, free.length); i++) {
    const j = i + rng.int(free.length - i);
    [free[i], free[j]] = [free[j], free[i]];
    cellMsg[free[i]] = 3 + rng.int(KEYDOOR_MESSAGES.distractors.length);
  }
  const S = 2 * C;
  const next = new Int32Array(S * ACTIONS);
  const message = new Int32Array(S * ACTIONS).fill(-1);
  const terminal = new Uint8Array(S);
  terminal[C + door] = 1;
  for (let layer = 0; layer < 2; layer++)
    for (let c = 0; c < C; c++) {
      const s = layer * C + c;
      const x = c % W;
      const y = Math.floor(c / W);
      for (let a = 0; a < ACTIONS; a++) {
        const k = s * ACTIONS + a;
        const nx = x + MOVES[a][0];
        const ny = y + MOVES[a][1];
        if (nx < 0 || ny < 0 || nx >= W || ny >= H) {
          next[k] = s;
          continue;
        }
        const c2 = ny * W + nx;
        if (c2 === door) {
          if (layer === 0) {
            next[k] = s;
            message[k] = 1;
          } else {
            next[k] = C + door;
            message[k] = 2;
          }
        } else if (c2 === key && layer === 0) {
          next[k] = C + key;
          message[k] = 0;
        } else {
          next[k] = layer * C + c2;
          message[k] = cellMsg[c2];
        }
      }
    }
  return {
    S,
    A: ACTIONS,
    next,
    terminal,
    start,
    W,
    H,
    key,
    door,
    message,
    messages,
    task: 'Find the key, then open the locked door with it.',
  };
}
