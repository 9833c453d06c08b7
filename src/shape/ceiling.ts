import * as z from 'zod';
import { defineShaper, mapRewards } from './types.js';

/**
 * `ceiling` — `r ← min(r, max)`: caps the reward (PAR's `reward_ceil`; its runs used 3, 4 and 5),
 * so a reward model that keeps rising on hacked outputs stops paying beyond the cap.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`torch.clamp(reward, max=reward_ceil)`).
 *
 * @example
 * # {type: ceiling, max: 4}: 5.2 → 4, 3.1 → 3.1
 */
export const ceilingShaper = defineShaper({
  type: 'ceiling',
  summary: 'Caps the reward at `max`.',
  params: {
    max: z.number().describe('Largest reward kept; higher rewards become this value.'),
  },
  create(p) {
    const cap = p.max;
    return {
      apply(b) {
        mapRewards(b.rewards, (r) => (r > cap ? cap : r));
      },
    };
  },
});
