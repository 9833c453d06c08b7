import * as z from 'zod';
import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `tanh` — `r ← tanh(r)` (pure), or with `relative: true` `(1/M) Σ_j tanh(r − ref_j)`, bounded in
 * (−1, 1). PAR's tanh ablation (no slope parameter in PAR).
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py`, `calculate_tanh` /
 * `calculate_relative_tanh` (`reward_tanh`, `reward_relative`).
 *
 * @example
 * # {type: tanh, relative: true}, refs [0.5, 1.5], reward 1.0 → (tanh(0.5) + tanh(−0.5)) / 2 = 0
 */
export const tanhShaper = defineShaper({
  type: 'tanh',
  summary: 'tanh(r), or the mean of tanh(r − ref_j) over reference rewards.',
  params: {
    relative: z.boolean().default(false).describe('Average tanh(r − ref_j) over reference rewards instead of tanh(r).'),
    max_refs: maxRefsParam,
    ...refsParams,
  },
  create(p) {
    const f = Math.tanh;
    return {
      apply(b) {
        if (p.relative) mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r, f));
        else mapRewards(b.rewards, f);
      },
    };
  },
});
