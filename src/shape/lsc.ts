import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { logSigmoid, normalQuantile } from './math.js';
import { refsOf, refsParams } from './refs.js';
import { defineShaper, mapRewards } from './types.js';

/**
 * `lsc` — log-sigmoid-centred: `r ← log σ(r − ref_q)`, where `ref_q = μ + z_q·(s + 1e-5)` is the
 * q-quantile (q = 0.85) of a normal fitted to the prompt's reference rewards (μ their mean, s their
 * sample std, 0 for a single reference; z_q = Φ⁻¹(q)). Always negative; close to 0 only when the
 * reward beats most references.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025), as the LSC baseline.
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_lsc`, `calculate_percentile`,
 * `norm.ppf(0.85, loc=μ, scale=std+1e-5)`). As in PAR, LSC uses every reference reward by default,
 * not the first `reward_maxref`.
 *
 * @example
 * # refs [0.5, 1.5] → μ 1, s 0.7071, ref_q = 1 + 1.03643·0.70712 = 1.7329; reward 1.0 → log σ(−0.7329) = −1.1253
 */
export const lscShaper = defineShaper({
  type: 'lsc',
  summary: 'log σ(r − q-quantile of a normal fitted to the reference rewards).',
  params: {
    quantile: z.number().default(0.85).describe('Quantile of the reference-reward normal to centre on (0 < q < 1).'),
    max_refs: z.number().int().positive().optional().describe('Use at most this many reference rewards (default: all, as in PAR).'),
    ...refsParams,
  },
  create(p) {
    if (!(p.quantile > 0 && p.quantile < 1)) throw new ParamError('quantile', `must lie strictly between 0 and 1, got ${p.quantile}`);
    const z = normalQuantile(p.quantile);
    const maxRefs = p.max_refs ?? Infinity;
    return {
      apply(b) {
        mapRewards(b.rewards, (r, i) => {
          const refs = refsOf(b, i, p);
          const m = Math.min(refs.length, maxRefs);
          let sum = 0;
          for (let j = 0; j < m; j++) sum += refs[j];
          const mean = sum / m;
          let ss = 0;
          for (let j = 0; j < m; j++) ss += (refs[j] - mean) ** 2;
          const sd = m > 1 ? Math.sqrt(ss / (m - 1)) : 0;
          return logSigmoid(r - (mean + z * (sd + 1e-5)));
        });
      },
    };
  },
});
