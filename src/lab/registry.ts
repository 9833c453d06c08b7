/**
 * Every lab experiment, by its CLI name (`rewardkit lab list`). Each experiment lives in its own file
 * under `src/lab/experiments/` and is added here.
 */
import type { Experiment } from './types.js';
import { gdpoVsGrpo } from './experiments/gdpo-vs-grpo.js';
import { parGoodhart } from './experiments/par-goodhart.js';
import { graVsDirect } from './experiments/gra-vs-direct.js';
import { speakrlClarify } from './experiments/speakrl-clarify.js';

/** The lab's experiments, in `lab list` order. */
export const experiments: readonly Experiment[] = [
  gdpoVsGrpo,
  parGoodhart,
  graVsDirect,
  speakrlClarify,
];

/** The experiment named `name`, or an error listing the known names. */
export function experimentByName(name: string): Experiment {
  const e = experiments.find((x) => x.name === name);
  if (!e) throw new Error(`unknown lab experiment "${name}"; known: ${experiments.map((x) => x.name).join(', ') || '(none)'}`);
  return e;
}
