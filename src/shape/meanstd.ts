import { RunningMoments } from './running.js';
import { defineShaper } from './types.js';

/**
 * `meanstd` — `r ← (r − μ)/σ` with a running mean μ and population std σ over every reward seen so
 * far, this batch included (stats are updated before normalising; σ = 0 counts as 1). The state is
 * per spec entry and can be saved, loaded and reset (`buildShapers`), so a server restarted with the
 * saved state normalises exactly as one long-running process would.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025), as a baseline.
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_meanstd`, `RunningStats`).
 * Difference: PAR shares one `RunningStats` between meanstd, clip and minmax; here each spec entry
 * keeps its own.
 *
 * @example
 * # first batch [1, 2, 3]: μ = 2, σ = √(2/3) = 0.8165 → [−1.2247, 0, 1.2247]
 */
export const meanstdShaper = defineShaper({
  type: 'meanstd',
  summary: 'Normalises by a running mean and std over all rewards seen (stateful).',
  params: {},
  create() {
    const stats = new RunningMoments();
    return {
      apply(b) {
        stats.update(b.rewards);
        const mu = stats.mean;
        const sd = stats.std > 0 ? stats.std : 1;
        const r = b.rewards;
        for (let i = 0; i < r.length; i++) if (r[i] === r[i]) r[i] = (r[i] - mu) / sd;
      },
      state: stats,
    };
  },
});
