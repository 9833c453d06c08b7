import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `centered` — `r ← (1/M) Σ_j (r − ref_j)`: the reward minus the mean of the prompt's reference
 * rewards. Centred but unbounded (PAR's ablation of the centring principle without the sigmoid).
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py`, `calculate_centered` (`reward_centered`).
 *
 * @example
 * # refs [0.5, 1.5], reward 1.0 → ((1 − 0.5) + (1 − 1.5)) / 2 = 0
 */
export const centeredShaper = defineShaper({
  type: 'centered',
  summary: 'Reward minus the mean of the prompt\'s reference rewards.',
  params: { max_refs: maxRefsParam, ...refsParams },
  create(p) {
    const f = (d: number) => d;
    return {
      apply(b) {
        mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r, f));
      },
    };
  },
});
