import * as z from 'zod';
import { sigmoid } from './math.js';
import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `sigmoid` — `r ← σ(k·r)` (pure), or with `relative: true` the relative sigmoid
 * `(1/M) Σ_j σ(k·(r − ref_j))`, which is exactly {@link parShaper `par`}.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py`, `calculate_sigmoid` /
 * `calculate_relative_sigmoid` (`reward_sigmoid`, `reward_relative`).
 *
 * @example
 * # {type: sigmoid}, reward 0 → 0.5; reward 2 → σ(2) = 0.8808
 */
export const sigmoidShaper = defineShaper({
  type: 'sigmoid',
  summary: 'σ(k·r), or relative to reference rewards (= par).',
  params: {
    relative: z.boolean().default(false).describe('Average σ(k·(r − ref_j)) over reference rewards instead of σ(k·r).'),
    k: z.number().positive().default(1).describe('Sigmoid slope (PAR sigmoid_k).'),
    max_refs: maxRefsParam,
    ...refsParams,
  },
  create(p) {
    const f = (d: number) => sigmoid(p.k * d);
    return {
      apply(b) {
        if (p.relative) mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r, f));
        else mapRewards(b.rewards, f);
      },
    };
  },
});
