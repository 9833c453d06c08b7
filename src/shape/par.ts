import * as z from 'zod';
import { sigmoid } from './math.js';
import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `par` — Preference As Reward: `r ← (1/M) Σ_j σ(k·(r − ref_j))` over the first M reference rewards
 * of the prompt (`meta.ref_rewards`, else the spec's `refs`). The result is a win rate against the
 * references, bounded in (0, 1), monotone in r, invariant to shifting r and all refs together, and
 * steepest near the refs (fast early growth, then saturation).
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025, arXiv 2502.18770).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py`, `calculate_relative_sigmoid`
 * (flags `--reward_sigmoid --reward_relative`, `sigmoid_k` = 1, `reward_maxref` = 10).
 *
 * @example
 * # spec: shape: [{type: par}]
 * # rollout meta.ref_rewards = [0.5, 1.5], reward 1.0 → (σ(0.5) + σ(−0.5)) / 2 = 0.5
 */
export const parShaper = defineShaper({
  type: 'par',
  summary: 'Preference As Reward: mean of σ(k·(r − ref_j)) over reference rewards, in (0, 1).',
  params: {
    k: z.number().positive().default(1).describe('Sigmoid slope (PAR sigmoid_k).'),
    max_refs: maxRefsParam,
    ...refsParams,
  },
  create(p) {
    const f = (d: number) => sigmoid(p.k * d);
    return {
      apply(b) {
        mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r, f));
      },
    };
  },
});
