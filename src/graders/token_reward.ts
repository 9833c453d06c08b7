import * as z from 'zod';
import type { Backend } from '../backends/types.js';
import { defineGrader, ParamError } from './types.js';
import { resolveBackend } from './model_calls.js';
import { compileTemplate, renderTemplate, requireSlots } from './judge/template.js';
import { missingReason, sampleSlots } from './judge/prompt.js';
import type { Sample } from '../rollout/types.js';
import { contrastiveTokenRewards, tgdpoTokenRewards } from '../credit/token_rewards.js';

/**
 * The completion's tokens and their log-probs after `prompt`, checked as `continuationLogprobs` does
 * (equal-length arrays, finite numbers, at least one token for a non-empty text).
 */
async function scoredTokens(backend: Backend, prompt: string, continuation: string): Promise<{ tokens: string[]; logprobs: number[] }> {
  const res = await backend.logprobs({ prompt, continuation });
  const { tokens, logprobs } = res ?? {};
  if (!Array.isArray(logprobs) || !Array.isArray(tokens) || logprobs.length !== tokens.length)
    throw new Error(`backend "${backend.name}" returned malformed log-probs (tokens and logprobs must be arrays of equal length)`);
  for (const x of logprobs) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`backend "${backend.name}" returned a non-finite log-prob (${String(x)})`);
  if (logprobs.length === 0 && continuation.length > 0) throw new Error(`backend "${backend.name}" returned no tokens for a non-empty continuation`);
  return { tokens: tokens.map(String), logprobs };
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

const BETTER = '{{prompt}}\n\n(Respond as well as you possibly can: helpful, correct, clear and honest.)\n\n';
const WORSE = '{{prompt}}\n\n(Respond badly: unhelpful, wrong, unclear or dishonest.)\n\n';

const TGDPO_ONLY = ['model', 'reference_model', 'beta'] as const;
const TREG_ONLY = ['backend', 'better_template', 'worse_template', 'normalize'] as const;

/**
 * `token_reward` — a token-level reward signal on the completion's tokens, from log-prob backends, for
 * token-level credit (`credit.token_rewards: {signal: <this component>}` puts it on the trainer's
 * `token_rewards`) and for token-weighted preference losses. `details.token_rewards` holds one value
 * per token and `details.tokens` the backend's tokens; the score is their sequence-level summary.
 *
 * - `variant: tgdpo` — TGDPO ("TGDPO: Harnessing Token-Level Reward Guidance for Enhancing Direct
 *   Preference Optimization", Zhu et al., ICML 2025; [SRC] dvlab-research/TGDPO `train/tgdpo/
 *   trainer.py`): r_t = β·(log π_RM(y_t) − log π_ref(y_t)), the token log-ratio of a DPO-trained model
 *   (`model`) against its reference (`reference_model`), β its training β. Score Σ_t r_t (the
 *   sequence's DPO implicit reward, as `dpo_implicit`). TGDPO weighs the policy's token log-ratios in
 *   the DPO loss by 1 + α·r_t on chosen and 1 − α·r_t on rejected responses (α = 0.5): see
 *   `tgdpoTokenWeights` and `tgdpoLoss` in src/credit/token_rewards.ts. Both backends must tokenize
 *   the completion identically (an error otherwise).
 * - `variant: t_reg` — T-REG ("T-REG: Preference Optimization with Token-Level Reward
 *   Regularization", Zhou et al., ACL 2025): the model (`backend`) scores the completion's tokens after
 *   a prompt asking for a better response (`better_template`) and after one asking for a worse one
 *   (`worse_template`); Δ_t = log p_better(y_t) − log p_worse(y_t), normalised (`normalize`:
 *   `sigmoid` σ(Δ_t) − ½, default; `max_abs`; `none`). Score: the mean token reward. **[INF]** the
 *   templates are rewardkit's and the normalisation a reading (the authors' code was not available);
 *   `tregLoss` gives the regulariser in the same reading.
 *
 * **Token alignment.** The values are on the backend's tokens. A trainer's `token_rewards` must be on
 * the policy's tokens: the pipeline requires the rollout's `response_length` (or `completion_ids`) to
 * equal the signal's length and reports a per-rollout error otherwise. Serve the policy's tokenizer.
 *
 * **Null rule.** An empty completion has no tokens: `t_reg` with a bounded normalisation scores its
 * floor (−½ for `sigmoid`, −1 for `max_abs`); `tgdpo` and `t_reg` with `normalize: none` are
 * unbounded and score null with a reason (as `dpo_implicit`). A backend failure, or two backends that
 * disagree on the tokens, rejects the rollout's grade with the message.
 *
 * @example
 * # spec
 * backends: {rm: {type: openai, base_url: …, model: dpo-model}, sft: {type: openai, base_url: …, model: sft-model}}
 * components:
 *   - {name: tok, grader: token_reward, variant: tgdpo, model: rm, reference_model: sft, beta: 0.1, weight: 0}
 *   - {name: correct, grader: exact}
 * credit: {method: outcome, token_rewards: {signal: tok}}
 * # log π_RM [-1, -2], log π_ref [-3, -1] → details.token_rewards [0.2, -0.1], score 0.1
 */
export const tokenRewardGrader = defineGrader({
  kind: 'token_reward',
  summary: 'Token-level reward signal from log-prob backends: TGDPO (DPO-model vs reference token log-ratio) or T-REG (better- vs worse-prompted token log-ratio).',
  params: {
    variant: z.enum(['tgdpo', 't_reg']).describe('`tgdpo`: β·(log π_RM − log π_ref) per token; `t_reg`: normalised log p(better-prompted) − log p(worse-prompted) per token.'),
    model: z.string().min(1).optional().describe('tgdpo: backend (offering `logprobs`) serving the DPO-trained model π_RM whose token log-ratio is the reward.'),
    reference_model: z.string().min(1).optional().describe('tgdpo: backend (offering `logprobs`) serving π_ref, the model π_RM was trained from.'),
    beta: z.number().positive().optional().describe('tgdpo: the β of π_RM\'s DPO training (required for tgdpo).'),
    backend: z.string().min(1).optional().describe('t_reg: backend (offering `logprobs`) serving the model that scores the completion under both prompts (usually the policy).'),
    better_template: z.string().min(1).optional().describe('t_reg: context asking for a better response, before the completion: {{prompt}}, {{meta.key}} (default: rewardkit\'s instruction after the prompt).'),
    worse_template: z.string().min(1).optional().describe('t_reg: context asking for a worse response, before the completion: {{prompt}}, {{meta.key}} (default: rewardkit\'s instruction after the prompt).'),
    normalize: z.enum(['sigmoid', 'max_abs', 'none']).optional().describe('t_reg: σ(Δ) − ½ per token (`sigmoid`, default), Δ / max|Δ| (`max_abs`), or Δ (`none`).'),
  },
  create(params, ctx) {
    const forbid = (keys: readonly string[], v: string) => {
      for (const k of keys) if ((params as Record<string, unknown>)[k] !== undefined) throw new ParamError(k, `does not apply to variant ${v}`);
    };
    if (params.variant === 'tgdpo') {
      forbid(TREG_ONLY, 'tgdpo');
      for (const k of TGDPO_ONLY) if (params[k] === undefined) throw new ParamError(k, 'is required with variant tgdpo');
      const model = resolveBackend(ctx, params.model!, ['logprobs'], 'model');
      const ref = resolveBackend(ctx, params.reference_model!, ['logprobs'], 'reference_model');
      const beta = params.beta!;
      return {
        scope: 'rollout',
        async grade(s) {
          if (s.completion.length === 0) return { score: null, details: { reason: 'the completion is empty: no tokens to score (the token log-ratio has no floor)' } };
          const [a, b] = await Promise.all([scoredTokens(model, s.prompt, s.completion), scoredTokens(ref, s.prompt, s.completion)]);
          if (!sameTokens(a.tokens, b.tokens))
            throw new Error(`backends "${model.name}" and "${ref.name}" tokenize the completion differently (${a.tokens.length} vs ${b.tokens.length} tokens): token rewards need one tokenization`);
          const r = tgdpoTokenRewards(a.logprobs, b.logprobs, beta);
          let sum = 0;
          for (const x of r) sum += x;
          return { score: sum, details: { tokens: a.tokens, token_rewards: Array.from(r) } };
        },
      };
    }
    forbid(TGDPO_ONLY, 't_reg');
    if (params.backend === undefined) throw new ParamError('backend', 'is required with variant t_reg');
    const backend = resolveBackend(ctx, params.backend, ['logprobs']);
    const better = compileTemplate(params.better_template ?? BETTER, ['prompt', 'meta'], 'better_template');
    const worse = compileTemplate(params.worse_template ?? WORSE, ['prompt', 'meta'], 'worse_template');
    requireSlots(better, ['prompt'], 'better_template');
    requireSlots(worse, ['prompt'], 'worse_template');
    if (better.source === worse.source) throw new ParamError('worse_template', 'must differ from better_template (the contrast would be 0 on every token)');
    const normalize = params.normalize ?? 'sigmoid';
    const floor = normalize === 'sigmoid' ? -0.5 : normalize === 'max_abs' ? -1 : null;
    /** The filled template, or the placeholder the rollout lacks. */
    const render = (t: typeof better, s: Sample): string | { missing: string } => {
      const slots = sampleSlots(s);
      const values = new Map<string, string>();
      for (const slot of t.slots) {
        const v = slots(slot);
        if (v === undefined || typeof v === 'string') return { missing: slot };
        values.set(slot, v.data[0]!.text);
      }
      return renderTemplate(t, (slot) => values.get(slot)!);
    };
    return {
      scope: 'rollout',
      async grade(s) {
        const [bCtx, wCtx] = [render(better, s), render(worse, s)];
        if (typeof bCtx !== 'string') return { score: null, details: { reason: missingReason(bCtx.missing) } };
        if (typeof wCtx !== 'string') return { score: null, details: { reason: missingReason(wCtx.missing) } };
        if (s.completion.length === 0) {
          if (floor === null) return { score: null, details: { reason: 'the completion is empty: no tokens to score (normalize: none has no floor)' } };
          return { score: floor, details: { reason: 'the completion is empty', tokens: [], token_rewards: [] } };
        }
        const [a, b] = await Promise.all([scoredTokens(backend, bCtx, s.completion), scoredTokens(backend, wCtx, s.completion)]);
        if (!sameTokens(a.tokens, b.tokens)) throw new Error(`backend "${backend.name}" tokenized the completion differently after the two prompts (${a.tokens.length} vs ${b.tokens.length} tokens)`);
        const r = contrastiveTokenRewards(a.logprobs, b.logprobs, normalize);
        let sum = 0;
        for (const x of r) sum += x;
        return { score: sum / r.length, details: { tokens: a.tokens, token_rewards: Array.from(r) } };
      },
    };
  },
});
