import * as z from 'zod';
import { moments } from '../shape/stats.js';
import { Scratch, checkBatch, defineEstimator, groupCentres, groupStd, outputFor, zeroNullAdvantages } from './types.js';

/**
 * `grpo` — group-relative advantage `A_i = (r_i − mean_g)/(std_g + eps)`.
 *
 * Paper: "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models"
 * (Shao et al., 2024). Numerics [SRC]: verl `compute_grpo_outcome_advantage` — eps 1e-6, `torch.std`
 * (sample, ddof 1), a group of one gets mean 0 and std 1 (so A = r/(1 + eps)). A tied group gives
 * exactly 0. TRL uses eps 1e-4.
 *
 * `scale` is TRL's `scale_rewards` [SRC: TRL `GRPOTrainer`]: `group` divides by the group std,
 * `batch` by the std of every non-null reward in the batch (0 for fewer than two), `none` by nothing
 * (that is `dr_grpo`). `std: population` uses ddof 0 instead.
 *
 * `value_anchor` — VGPO's Adaptive Dual Advantage ("Anchoring Values in Temporal and Group
 * Dimensions for Flow Matching Model Alignment", Shao et al., arXiv 2512.12387; value-anchored group
 * policy optimization). Reading of mechanics-A §15 / C §7 **[INF, unverified: the paper's equations
 * were not reachable]**: `A_i = (r_i − mean_g)/(std_g + eps) + λ·(r_i − anchor)`, the relative
 * (group) term plus an absolute term, added to **every** group, so a collapsed group (std 0, GRPO
 * advantage 0) still says whether its rewards are good or bad in absolute terms. λ = `weight`;
 * `anchor` is a number or `batch_mean` (the mean non-null reward of the batch). The optional
 * `threshold` is the project's variant, off by default: when set, only groups whose std is below it
 * get the absolute term. The per-step form on a trajectory (VGPO's temporal cumulative reward) is
 * the `vgpo` credit method.
 *
 * @example
 * # one group, rewards [1, 0, 0, 1]: mean 0.5, std 0.57735 → [0.866, −0.866, −0.866, 0.866]
 * # value_anchor {anchor: 0.5}: group [1, 1, 1] → [0.5, 0.5, 0.5] instead of [0, 0, 0];
 * # group [1, 0] → [0.7071 + 0.5, −0.7071 − 0.5] = [1.2071, −1.2071]
 */
export const grpoEstimator = defineEstimator({
  estimator: 'grpo',
  summary: 'Group-relative: (r − group mean)/(group std + eps), verl numerics.',
  params: {
    eps: z.number().nonnegative().default(1e-6).describe('Added to the std (verl 1e-6; TRL 1e-4).'),
    std: z.enum(['sample', 'population']).default('sample').describe('Std with ddof 1 (torch.std, verl/TRL) or ddof 0.'),
    scale: z.enum(['group', 'batch', 'none']).default('group').describe('Divide by the group std, the batch std, or nothing (TRL scale_rewards).'),
    value_anchor: z
      .strictObject({
        threshold: z.number().nonnegative().optional().describe('Project variant, off by default: add the absolute term only to groups whose std is below this (unset = every group, the VGPO reading).'),
        weight: z.number().default(1).describe('Weight of the absolute term r − anchor.'),
        anchor: z.union([z.number(), z.literal('batch_mean')]).default(0).describe('Reference reward of the absolute term, or batch_mean.'),
      })
      .optional()
      .describe('VGPO adaptive dual advantage [INF]: add weight·(r − anchor) to the group-relative advantage.'),
  },
  create(p) {
    const ddof = p.std === 'sample' ? 1 : 0;
    const eps = p.eps;
    const scratch = new Scratch();
    return {
      compute(b, dest) {
        checkBatch(b);
        const r = b.rewards;
        const n = r.length;
        const G = b.groupCount;
        const groupOf = b.groupOf;
        const m = groupCentres(r, groupOf, G, scratch.moments(G));
        const den = scratch.f64('den', G);
        let batchDen = 1;
        if (p.scale === 'batch') {
          const bm = moments(r);
          batchDen = (bm.count > 1 ? Math.sqrt(bm.m2 / (bm.count - ddof)) : 0) + eps;
        }
        for (let g = 0; g < G; g++) {
          if (p.scale === 'group') den[g] = groupStd(m, g, ddof) + eps;
          else if (p.scale === 'batch') den[g] = batchDen;
          else den[g] = 1;
          // eps 0 on a tied group: its deviations are exactly 0, keep them 0 rather than 0/0.
          if (den[g] === 0) den[g] = 1;
        }
        const { pivot, shift } = m;
        const out = outputFor(n, dest);
        for (let i = 0; i < n; i++) {
          const g = groupOf[i];
          out[i] = (r[i] - pivot[g] - shift[g]) / den[g];
        }
        const va = p.value_anchor;
        if (va !== undefined) {
          const anchor = va.anchor === 'batch_mean' ? moments(r).mean : va.anchor;
          for (let i = 0; i < n; i++) {
            const g = groupOf[i];
            if (r[i] === r[i] && (va.threshold === undefined || groupStd(m, g, ddof) < va.threshold)) out[i] += va.weight * (r[i] - anchor);
          }
        }
        return zeroNullAdvantages(r, out);
      },
    };
  },
});
