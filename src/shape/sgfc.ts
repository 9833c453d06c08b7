import * as z from 'zod';
import { sigmoid } from './math.js';
import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `sgfc` — "slow growth, fast converge": `r ← (1/M) Σ_j σ(k·((r − shift) − ref_j))`, PAR with the
 * reward shifted down (shift 3 in PAR), so the shaped reward starts on the flat left tail of the
 * sigmoid and saturates late: PAR's counter-example showing that a small initial slope hurts.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_sgfc`, shift hard-coded 3).
 *
 * @example
 * # refs [0.5, 1.5], reward 1.0 → (σ(−2.5) + σ(−3.5)) / 2 = 0.0526
 */
export const sgfcShaper = defineShaper({
  type: 'sgfc',
  summary: 'PAR on the reward shifted down by `shift` (slow growth, fast converge).',
  params: {
    shift: z.number().default(3).describe('Subtracted from the reward before the relative sigmoid (3 in PAR).'),
    k: z.number().positive().default(1).describe('Sigmoid slope (PAR sigmoid_k).'),
    max_refs: maxRefsParam,
    ...refsParams,
  },
  create(p) {
    const f = (d: number) => sigmoid(p.k * d);
    return {
      apply(b) {
        mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r - p.shift, f));
      },
    };
  },
});
