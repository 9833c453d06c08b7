/**
 * Token-level rewards from a token-level signal: TGDPO's induced token rewards and loss weights,
 * T-REG's contrastive self-generated token rewards, and the dense `token_rewards` a trainer receives
 * (`credit.token_rewards: {signal: …}`). Pure functions on typed arrays.
 */

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} vs ${b.length} tokens (both sides must score the same tokens)`);
}

/**
 * TGDPO's token reward (dvlab-research/TGDPO, `train/tgdpo/trainer.py`): r_t = β·(log π_RM(y_t) −
 * log π_ref(y_t)), the per-token log-ratio of a previously DPO-trained model π_RM against its reference,
 * times β (the paper's induced token reward β·r̂_t). Summed over tokens it is the sequence's DPO
 * implicit reward.
 *
 * @example
 * tgdpoTokenRewards([-1, -2], [-3, -1], 0.1) // → Float64Array [0.2, -0.1]
 */
export function tgdpoTokenRewards(lpModel: ArrayLike<number>, lpRef: ArrayLike<number>, beta: number): Float64Array {
  checkSameLength(lpModel, lpRef, 'tgdpoTokenRewards');
  const out = new Float64Array(lpModel.length);
  for (let t = 0; t < out.length; t++) out[t] = beta * (lpModel[t]! - lpRef[t]!);
  return out;
}

/**
 * TGDPO's per-token weights of the policy log-ratio in the DPO loss: 1 + α·r_t on the chosen
 * response, 1 − α·r_t on the rejected one (r_t = β·r̂_t from {@link tgdpoTokenRewards}; the authors'
 * default α = 0.5). A chosen token with a high reward may move further from the reference; a rejected
 * token with a high reward is pushed down less. α = 0 gives weight 1 everywhere: plain DPO.
 *
 * @example
 * tgdpoTokenWeights([0.2, -0.1], 0.5, 'chosen')   // → Float64Array [1.1, 0.95]
 * tgdpoTokenWeights([0.1, 0.3], 0.5, 'rejected')  // → Float64Array [0.95, 0.85]
 */
export function tgdpoTokenWeights(tokenRewards: ArrayLike<number>, alpha: number, side: 'chosen' | 'rejected'): Float64Array {
  const s = side === 'chosen' ? alpha : -alpha;
  const out = new Float64Array(tokenRewards.length);
  for (let t = 0; t < out.length; t++) out[t] = 1 + s * tokenRewards[t]!;
  return out;
}

/** −log σ(z), computed without overflow for large |z|. */
export function negLogSigmoid(z: number): number {
  return z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
}

/** One preference pair at token level: the policy's log-ratio ρ_t = log π_θ(y_t) − log π_ref(y_t) and the token rewards r_t of each side. */
export interface TokenPair {
  rhoChosen: ArrayLike<number>;
  rewardChosen: ArrayLike<number>;
  rhoRejected: ArrayLike<number>;
  rewardRejected: ArrayLike<number>;
}

/**
 * TGDPO's sigmoid loss for one pair (`loss_type == "sigmoid"` in the authors' trainer):
 * z = Σ_t β·(1 + α·r_t^w)·ρ_t^w − Σ_t β·(1 − α·r_t^l)·ρ_t^l, loss = −log σ(z), with r_t = β·r̂_t
 * the token rewards. α = 0 is exactly the DPO loss. Worked example (mechanics-B §11): β 0.1, α 0.5,
 * ρ^w [0.5, −0.2], r̂^w [2, −1], ρ^l [−0.3, 0.4], r̂^l [1, 3] → z = 0.036 − 0.0055 = 0.0305, loss 0.6780
 * (DPO: z 0.02, loss 0.6832).
 *
 * @example
 * tgdpoLoss({ rhoChosen: [0.5, -0.2], rewardChosen: [0.2, -0.1], rhoRejected: [-0.3, 0.4], rewardRejected: [0.1, 0.3] }, 0.1, 0.5)
 * // → { z: 0.0305, zChosen: 0.036, zRejected: 0.0055, loss: 0.6780 }
 */
export function tgdpoLoss(pair: TokenPair, beta: number, alpha: number): { z: number; zChosen: number; zRejected: number; loss: number } {
  checkSameLength(pair.rhoChosen, pair.rewardChosen, 'tgdpoLoss (chosen)');
  checkSameLength(pair.rhoRejected, pair.rewardRejected, 'tgdpoLoss (rejected)');
  let zw = 0;
  for (let t = 0; t < pair.rhoChosen.length; t++) zw += beta * (1 + alpha * pair.rewardChosen[t]!) * pair.rhoChosen[t]!;
  let zl = 0;
  for (let t = 0; t < pair.rhoRejected.length; t++) zl += beta * (1 - alpha * pair.rewardRejected[t]!) * pair.rhoRejected[t]!;
  const z = zw - zl;
  return { z, zChosen: zw, zRejected: zl, loss: negLogSigmoid(z) };
}

/** How T-REG's contrastive log-ratios become token rewards (see {@link contrastiveTokenRewards}). */
export type ContrastiveNormalize = 'sigmoid' | 'max_abs' | 'none';

/**
 * T-REG's self-generated token rewards by contrastive prompting ("T-REG: Preference Optimization with
 * Token-Level Reward Regularization", Zhou et al., ACL 2025): the same model scores the response's
 * tokens after a prompt asking for a better response and after one asking for a worse response;
 * Δ_t = log p_better(y_t) − log p_worse(y_t). Normalised **[INF]** (the authors' code was not
 * available): `sigmoid` (default) σ(Δ_t) − ½, in (−½, ½), per token, sign kept; `max_abs`
 * Δ_t / max_s |Δ_s|, in [−1, 1] (0 when every Δ is 0); `none` Δ_t.
 *
 * @example
 * contrastiveTokenRewards([-0.5, -2], [-1, -1], 'none')    // → Float64Array [0.5, -1]
 * contrastiveTokenRewards([-0.5, -2], [-1, -1], 'max_abs') // → Float64Array [0.5, -1]
 * contrastiveTokenRewards([0], [0], 'sigmoid')             // → Float64Array [0]
 */
export function contrastiveTokenRewards(lpBetter: ArrayLike<number>, lpWorse: ArrayLike<number>, normalize: ContrastiveNormalize): Float64Array {
  checkSameLength(lpBetter, lpWorse, 'contrastiveTokenRewards');
  const out = new Float64Array(lpBetter.length);
  let maxAbs = 0;
  for (let t = 0; t < out.length; t++) {
    const d = lpBetter[t]! - lpWorse[t]!;
    out[t] = d;
    if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
  }
  if (normalize === 'sigmoid') for (let t = 0; t < out.length; t++) out[t] = 1 / (1 + Math.exp(-out[t]!)) - 0.5;
  else if (normalize === 'max_abs' && maxAbs > 0) for (let t = 0; t < out.length; t++) out[t] = out[t]! / maxAbs;
  return out;
}

/**
 * T-REG's objective in rewardkit's reading **[INF]**: L = L_DPO + λ·L_reg, where L_DPO = −log σ(β·Σρ^w
 * − β·Σρ^l) and L_reg = ½·(mean_t (β·ρ_t^w − r_t^w)² + mean_t (β·ρ_t^l − r_t^l)²) pulls the policy's
 * token-level implicit rewards β·ρ_t toward the self-generated token rewards r_t. λ = 0 is DPO.
 *
 * @example
 * tregLoss({ rhoChosen: [0.5, -0.2], rewardChosen: [0.05, 0], rhoRejected: [-0.3, 0.4], rewardRejected: [0, 0.04] }, 0.1, 0)
 * // → { dpo: 0.6832, reg: 0.000325, loss: 0.6832 }
 */
export function tregLoss(pair: TokenPair, beta: number, lambda: number): { dpo: number; reg: number; loss: number } {
  const dpo = tgdpoLoss(pair, beta, 0).loss;
  const side = (rho: ArrayLike<number>, r: ArrayLike<number>) => {
    checkSameLength(rho, r, 'tregLoss');
    if (rho.length === 0) return 0;
    let s = 0;
    for (let t = 0; t < rho.length; t++) s += (beta * rho[t]! - r[t]!) ** 2;
    return s / rho.length;
  };
  const reg = 0.5 * (side(pair.rhoChosen, pair.rewardChosen) + side(pair.rhoRejected, pair.rewardRejected));
  return { dpo, reg, loss: dpo + lambda * reg };
}

/**
 * The dense token rewards a trainer receives with `credit.token_rewards: {signal, weight}`:
 * `base[t] + weight·signal[t]`, where `base` is the sparse placement (each step's credited reward on
 * its last token, or the rollout's reward on its last token when it has no steps) and `signal` the
 * token-level signal on the same tokens. NaN in `base` (a null step reward) stays NaN.
 *
 * @example
 * addTokenSignal(Float64Array.of(0, 0, 1), [0.1, -0.2, 0.05], 2) // → Float64Array [0.2, -0.4, 1.1]
 */
export function addTokenSignal(base: Float64Array, signal: ArrayLike<number>, weight: number): Float64Array {
  if (signal.length !== base.length) throw new RangeError(`the token signal has ${signal.length} tokens for a response of ${base.length}`);
  const out = new Float64Array(base.length);
  for (let t = 0; t < base.length; t++) out[t] = base[t]! + weight * signal[t]!;
  return out;
}
