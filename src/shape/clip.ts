import { RunningMoments } from './running.js';
import { defineShaper } from './types.js';

/**
 * `clip` — `r ← clip(r, μ − σ, μ + σ)` with a running mean μ and population std σ over every reward
 * seen so far, this batch included. Note that σ is 0 until two rewards have been seen, so a first
 * batch of one reward is clipped to itself. Stateful like {@link meanstdShaper `meanstd`}.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025), as a baseline.
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_clipping`, `RunningStats.clip`).
 *
 * @example
 * # first batch [0, 0, 0, 10]: μ = 2.5, σ = 4.3301 → [0, 0, 0, 6.8301]
 */
export const clipShaper = defineShaper({
  type: 'clip',
  summary: 'Clips rewards to one running std around the running mean (stateful).',
  params: {},
  create() {
    const stats = new RunningMoments();
    return {
      apply(b) {
        stats.update(b.rewards);
        const lo = stats.mean - stats.std;
        const hi = stats.mean + stats.std;
        const r = b.rewards;
        for (let i = 0; i < r.length; i++) {
          const v = r[i];
          if (v < lo) r[i] = lo;
          else if (v > hi) r[i] = hi;
        }
      },
      state: stats,
    };
  },
});
