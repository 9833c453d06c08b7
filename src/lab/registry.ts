/**
 * Every lab experiment, by its CLI name (`rewardkit lab list`). Each experiment lives in its own file
 * under `src/lab/experiments/` and is added here.
 */
import type { Experiment } from './types.js';
import { gdpoVsGrpo } from './experiments/gdpo_vs_grpo.js';
import { parGoodhart } from './experiments/par_goodhart.js';
import { graVsDirect } from './experiments/gra_vs_direct.js';
import { speakrlClarify } from './experiments/speakrl_clarify.js';
import { potentialShaping } from './experiments/potential_shaping.js';
import { qdMaze } from './experiments/qd_maze.js';
import { intrinsicOni } from './experiments/intrinsic_oni.js';
import { barfi } from './experiments/barfi.js';
import { epicRegret } from './experiments/epic_regret.js';

/** The lab's experiments, in `lab list` order. */
export const experiments: readonly Experiment[] = [
  gdpoVsGrpo,
  parGoodhart,
  graVsDirect,
  speakrlClarify,
  potentialShaping,
  qdMaze,
  intrinsicOni,
  barfi,
  epicRegret,
];

/** The experiment named `name`, or an error listing the known names. */
export function experimentByName(name: string): Experiment {
  const e = experiments.find((x) => x.name === name);
  if (!e) throw new Error(`unknown lab experiment "${name}"; known: ${experiments.map((x) => x.name).join(', ') || '(none)'}`);
  return e;
}
