import { RunningRange } from './running.js';
import { defineShaper } from './types.js';

/**
 * `minmax` — `r ← (r − min)/(max − min)` with the running min and max of every reward seen so far,
 * this batch included, so rewards land in [0, 1] relative to history. Stateful like `meanstd`.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025), as a baseline.
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_minmax`, `RunningStats.minmax`).
 * Differences: PAR starts from min = 10000 and max = −10000 (the same once a reward has been seen,
 * unless rewards lie beyond ±10000), and divides 0/0 into NaN when max = min; here that gives 0.
 *
 * @example
 * # first batch [2, 4, 3] → [0, 1, 0.5]; then batch [6] → (6 − 2)/(6 − 2) = 1
 */
export const minmaxShaper = defineShaper({
  type: 'minmax',
  summary: 'Rescales by the running min and max of all rewards seen (stateful).',
  params: {},
  create() {
    const range = new RunningRange();
    return {
      apply(b) {
        range.update(b.rewards);
        const lo = range.min;
        const span = range.max - range.min;
        const r = b.rewards;
        for (let i = 0; i < r.length; i++) if (r[i] === r[i]) r[i] = span > 0 ? (r[i] - lo) / span : 0;
      },
      state: range,
    };
  },
});
