import * as z from 'zod';
import { checkStepBatch, defineCredit, groupEstimator, groupEstimatorParam, newOutput, signalOf, voidRollout } from './types.js';

/** Average ranks (1-based; ties share the mean of their ranks) of `x`. */
function averageRanks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Array<number>(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Rank consistency of two paired samples: Spearman's ρ (Pearson correlation of average ranks) or
 * Kendall's τ-b. NaN when it is undefined: fewer than two pairs, or either sample constant.
 *
 * @example
 * rankConsistency([0.2, 0.5, 0.9, 0.4], [0, 1, 1, 0], 'spearman') // → 0.894
 */
export function rankConsistency(x: readonly number[], y: readonly number[], kind: 'spearman' | 'kendall'): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`rankConsistency: ${n} vs ${y.length} values`);
  if (n < 2) return NaN;
  if (kind === 'kendall') {
    let nc = 0;
    let nd = 0;
    let tx = 0;
    let ty = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = Math.sign(x[i] - x[j]);
        const dy = Math.sign(y[i] - y[j]);
        if (dx === 0) tx++;
        if (dy === 0) ty++;
        if (dx * dy > 0) nc++;
        else if (dx * dy < 0) nd++;
      }
    }
    const n0 = (n * (n - 1)) / 2;
    const den = Math.sqrt((n0 - tx) * (n0 - ty));
    return den > 0 ? (nc - nd) / den : NaN;
  }
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) ** 2;
    syy += (ry[i] - mean) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * `comam` — credit across cooperating agents with CoMAM's ranking-consistency weights (CoMAM,
 * collaborative memory agents trained in a sequential MDP). Reference: mechanics-B §23 **[TXT/INF]**:
 * the weighting idea is from the paper's text; the consistency measure, clipping and softmax are
 * the reference's readings, not verified against code.
 *
 * Every step names its `agent`. Within each group (rollouts of one query), agent k's local reward on
 * rollout i, `r_k^loc`, is the sum over k's steps of the step signal `local` (default: the steps'
 * given rewards; missing = 0), and the global reward R is the episode reward. Agent k's weight in the
 * group is `w_k = consistency(rank(r_k^loc), rank(R))` over the group's rollouts in which k acts:
 * Spearman's ρ on average ranks (or Kendall's τ-b), then `weights: clip` → clamp to [0, 1], or
 * `softmax` → `exp(ρ_k/τ)/Σ_j exp(ρ_j/τ)` over the agents acting in the group. An undefined
 * correlation (fewer than two rollouts, or a constant local or global reward) counts as 0. An agent
 * whose local reward ranks the rollouts as the outcome does gets the shared reward; one that ranks
 * them the other way (clip) gets none.
 *
 * Agent k's integrated reward is `r_k = r_k^loc + w_k·R`; the step rewards written out are the steps'
 * local rewards plus `w_k·R` on k's last step, so they sum to Σ_k r_k, the return (0 for a rollout
 * without steps). Each agent is trained on its own integrated reward: the advantage of k's steps is
 * the group advantage (GRPO or RLOO) of r_k over the group's rollouts in which k acts.
 *
 * @example
 * # local [0.2, 0.5, 0.9, 0.4] vs global [0, 1, 1, 0] → ρ = 0.894 → w ≈ 0.89; r_k = r_k^loc + 0.894·R
 */
export const comamCredit = defineCredit({
  method: 'comam',
  summary: 'CoMAM: each agent gets its local reward plus the global reward weighted by its rank consistency with it.',
  params: {
    local: z.string().min(1).optional().describe('Step signal with each step’s local reward; default: the step’s given reward.'),
    correlation: z.enum(['spearman', 'kendall']).default('spearman').describe('Rank consistency measure between an agent’s local rewards and the global reward in a group.'),
    weights: z.enum(['clip', 'softmax']).default('clip').describe('clip: w = clamp(ρ, 0, 1); softmax: w = softmax over the group’s agents of ρ/temperature.'),
    temperature: z.number().positive().default(1).describe('softmax: temperature τ.'),
    estimator: groupEstimatorParam,
    eps: z.number().nonnegative().default(1e-6).describe('GRPO: added to the group std (verl 1e-6).'),
  },
  signals: (p) => (p.local === undefined ? [] : [{ param: 'local', signal: p.local }]),
  create(p) {
    const est = groupEstimator(p.estimator, p.eps);
    return {
      compute(b) {
        checkStepBatch(b);
        const L = p.local === undefined ? b.reward : signalOf(b, p.local, 'local');
        const out = newOutput(b);
        const { offsets, agent } = b;
        const n = b.outcome.length;
        const A = b.agents.length;
        const local = new Float64Array(A * n).fill(NaN);
        const last = new Int32Array(A * n).fill(-1);
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          for (let k = offsets[i]; k < offsets[i + 1]; k++) {
            const a = agent[k];
            if (a < 0) throw new RangeError(`rollout ${i}: steps[${k - offsets[i]}] has no agent; comam needs an agent on every step`);
            const v = L[k] === L[k] ? L[k] : 0;
            const x = a * n + i;
            local[x] = local[x] === local[x] ? local[x] + v : v;
            last[x] = k;
          }
        }
        const members: number[][] = Array.from({ length: b.groupCount }, () => []);
        for (let i = 0; i < n; i++) if (b.outcome[i] === b.outcome[i]) members[b.groupOf[i]].push(i);
        const weight = new Float64Array(b.groupCount * Math.max(A, 1));
        const rho = new Float64Array(A);
        const acting = new Uint8Array(A);
        for (let g = 0; g < b.groupCount; g++) {
          for (let a = 0; a < A; a++) {
            const xs: number[] = [];
            const ys: number[] = [];
            for (const i of members[g]) {
              if (last[a * n + i] < 0) continue;
              xs.push(local[a * n + i]);
              ys.push(b.outcome[i]);
            }
            acting[a] = xs.length > 0 ? 1 : 0;
            const c = rankConsistency(xs, ys, p.correlation);
            rho[a] = c === c ? c : 0;
          }
          if (p.weights === 'clip') {
            for (let a = 0; a < A; a++) weight[g * A + a] = Math.min(1, Math.max(0, rho[a]));
          } else {
            let max = -Infinity;
            for (let a = 0; a < A; a++) if (acting[a]) max = Math.max(max, rho[a] / p.temperature);
            let z = 0;
            for (let a = 0; a < A; a++) if (acting[a]) z += Math.exp(rho[a] / p.temperature - max);
            for (let a = 0; a < A; a++) weight[g * A + a] = acting[a] ? Math.exp(rho[a] / p.temperature - max) / z : 0;
          }
        }
        const r = out.reward;
        for (let i = 0; i < n; i++) {
          const s = offsets[i];
          const e = offsets[i + 1];
          const o = b.outcome[i];
          if (o !== o) {
            voidRollout(out, i, s, e);
            continue;
          }
          let ret = 0;
          for (let k = s; k < e; k++) {
            const a = agent[k];
            r[k] = L[k] === L[k] ? L[k] : 0;
            if (last[a * n + i] === k) r[k] += weight[b.groupOf[i] * A + a] * o;
            ret += r[k];
          }
          out.returns[i] = ret;
        }
        const integrated = new Float64Array(n);
        const adv = new Float64Array(A * n);
        for (let a = 0; a < A; a++) {
          for (let i = 0; i < n; i++) {
            const x = a * n + i;
            integrated[i] = last[x] >= 0 ? local[x] + weight[b.groupOf[i] * A + a] * b.outcome[i] : NaN;
          }
          adv.set(est.compute({ rewards: integrated, components: [], weights: new Float64Array(0), groupOf: b.groupOf, groupCount: b.groupCount }), a * n);
        }
        for (let i = 0; i < n; i++) {
          if (b.outcome[i] !== b.outcome[i]) continue;
          for (let k = offsets[i]; k < offsets[i + 1]; k++) out.advantage[k] = adv[agent[k] * n + i];
        }
        return out;
      },
    };
  },
});
