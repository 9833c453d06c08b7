import * as z from 'zod';
import { fittedPoly } from './math.js';
import { maxRefsParam, meanOverRefs, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `fittedpoly` — PAR's polynomial stand-in for the sigmoid: `P(x)` = the degree-5 least-squares fit
 * of σ on 100 points of [−5, 5], clamped to 0 below −5 and 1 above 5. Pure `P(r)` or, with
 * `relative: true`, `(1/M) Σ_j P(r − ref_j)`. PAR uses it to show that the shape, not the exact
 * function, matters. Note P overshoots slightly near ±5 (P(4.99) ≈ 1.0099) and then jumps to the
 * clamp, as in PAR.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py`, `calculate_fitted_poly`. The fit is
 * solved exactly here; PAR's `curve_fit` result differs by < 1e-6 (see `math.ts`).
 *
 * @example
 * # {type: fittedpoly}, reward 1 → P(1) = 0.71886 (σ(1) = 0.73106)
 */
export const fittedpolyShaper = defineShaper({
  type: 'fittedpoly',
  summary: 'Degree-5 polynomial fit of the sigmoid (clamped), pure or relative to reference rewards.',
  params: {
    relative: z.boolean().default(false).describe('Average P(r − ref_j) over reference rewards instead of P(r).'),
    max_refs: maxRefsParam,
    ...refsParams,
  },
  create(p) {
    return {
      apply(b) {
        if (p.relative) mapRewards(b.rewards, (r, i) => meanOverRefs(b, i, p, p.max_refs, r, fittedPoly));
        else mapRewards(b.rewards, fittedPoly);
      },
    };
  },
});
