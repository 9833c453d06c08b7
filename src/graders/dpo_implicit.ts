import * as z from 'zod';
import { defineGrader } from './types.js';
import { continuationLogprobs, resolveBackend } from './model_calls.js';

/**
 * The DPO implicit reward β·(log π(y|x) − log π_ref(y|x)) from the two models' token log-probs of
 * the same response: summed over tokens, or with `lengthNormalize` each model's mean per token.
 *
 * @example
 * dpoImplicitReward([-4, -6], [-5, -7], 0.1, false) // → 0.1 · (−10 − (−12)) = 0.2
 */
export function dpoImplicitReward(policy: readonly number[], reference: readonly number[], beta: number, lengthNormalize: boolean): number {
  const reduce = (lps: readonly number[]) => {
    const sum = lps.reduce((a, b) => a + b, 0);
    return lengthNormalize ? sum / lps.length : sum;
  };
  return beta * (reduce(policy) - reduce(reference));
}

/**
 * `dpo_implicit` — the implicit reward of a DPO-trained model (Rafailov et al. 2023, "Direct
 * Preference Optimization: Your Language Model is Secretly a Reward Model"):
 * r̂(x, y) = β·(log π_θ(y|x) − log π_ref(y|x)), the log-probabilities of the completion y given the
 * prompt x summed over y's tokens, as RewardBench's DPO inference computes it with a reference model
 * (the partition term β·log Z(x) cancels between responses to the same prompt). `policy` is the DPO
 * model and `reference_model` the model it was trained from (both backends with `logprobs`); `beta`
 * is the β of its training (required, > 0). Example: β 0.1, log π −10, log π_ref −12 → 0.2.
 *
 * `length_normalize: true` divides each model's log-probability by its own token count, the
 * per-token average used by SimPO (Meng et al. 2024, "SimPO: Simple Preference Optimization with a
 * Reference-Free Reward") and RewardBench's reference-free `norm`/`avg` modes; DPO itself, and the
 * form used here by default, sum. An empty completion scores `null` with a reason — an exception to
 * the null rule (types.ts): the implicit reward is unbounded and an empty response has no tokens to
 * score (its log-ratio would be exactly 0, above many real responses); either backend
 * failing rejects the rollout's grade with that backend's message. The prompt is used as text: give
 * it already rendered with the models' chat template.
 *
 * @example
 * # spec
 * - {name: dpo, grader: dpo_implicit, policy: dpo_model, reference_model: sft_model, beta: 0.1}
 * # log π(y|x) = -10, log π_ref(y|x) = -12 → 0.2
 */
export const dpoImplicitGrader = defineGrader({
  kind: 'dpo_implicit',
  summary: 'Implicit reward of a DPO model: beta·(log π(y|x) − log π_ref(y|x)) from two log-prob backends.',
  params: {
    policy: z.string().min(1).describe('Backend (in the spec\'s `backends`, offering `logprobs`) serving the DPO-trained model π.'),
    reference_model: z.string().min(1).describe('Backend (offering `logprobs`) serving the reference model π_ref the DPO model was trained against.'),
    beta: z.number().positive().describe('The DPO β (required, > 0).'),
    length_normalize: z
      .boolean()
      .default(false)
      .describe('Use each model\'s mean token log-prob instead of the sum (SimPO-style; default false, as DPO).'),
  },
  create(params, ctx) {
    const policy = resolveBackend(ctx, params.policy, ['logprobs'], 'policy');
    const reference = resolveBackend(ctx, params.reference_model, ['logprobs'], 'reference_model');
    const { beta, length_normalize: normalize } = params;
    return {
      scope: 'rollout',
      async grade(s) {
        if (s.completion.length === 0) return { score: null, details: { reason: 'the completion is empty' } };
        const [lp, lpRef] = await Promise.all([
          continuationLogprobs(policy, s.prompt, s.completion),
          continuationLogprobs(reference, s.prompt, s.completion),
        ]);
        const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
        return {
          score: dpoImplicitReward(lp, lpRef, beta, normalize),
          details: { logprob_policy: sum(lp), logprob_reference: sum(lpRef), tokens_policy: lp.length, tokens_reference: lpRef.length },
        };
      },
    };
  },
});
