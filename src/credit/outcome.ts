import * as z from 'zod';
import { broadcastGroupAdvantage, checkStepBatch, defineCredit, groupEstimator, groupEstimatorParam, newOutput } from './types.js';

/**
 * `outcome` — the baseline of every multi-turn credit method: no step-level credit at all. Each step
 * carries the episode reward, and the advantage of each step is the group-relative advantage of the
 * episode reward (GRPO by default, verl numerics: eps 1e-6, sample std, a group of one gets A = r),
 * broadcast to every step — exactly what an outcome-only GRPO trainer does with a multi-turn rollout.
 * The rollout's return is its episode reward (also for a rollout without steps).
 *
 * Paper: "DeepSeekMath" (Shao et al., 2024) for GRPO; the outcome-broadcast baseline of "A
 * Practitioner's Guide to Multi-turn Agentic Reinforcement Learning" (sparse reward).
 * Reference: mechanics-A §0.1 (GRPO) and §19 (sparse).
 *
 * @example
 * # one group, outcomes [1, 0, 0, 1], two steps each → step advantages [0.866, 0.866], [−0.866, −0.866], …
 */
export const outcomeCredit = defineCredit({
  method: 'outcome',
  summary: 'Outcome broadcast: every step gets the episode reward and its group advantage.',
  params: {
    estimator: groupEstimatorParam,
    eps: z.number().nonnegative().default(1e-6).describe('GRPO: added to the group std (verl 1e-6).'),
  },
  create(p) {
    const est = groupEstimator(p.estimator, p.eps);
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        for (let i = 0; i < b.outcome.length; i++) {
          const o = b.outcome[i];
          for (let k = b.offsets[i]; k < b.offsets[i + 1]; k++) out.reward[k] = o;
        }
        out.returns.set(b.outcome);
        broadcastGroupAdvantage(b, est, out.returns, out.advantage);
        return out;
      },
    };
  },
});
