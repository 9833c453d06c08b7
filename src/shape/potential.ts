import * as z from 'zod';
import { InvalidValueError } from './columns.js';
import type { Step } from '../rollout/types.js';
import { defineShaper } from './types.js';

/**
 * Shaped return of one trajectory: `G + Σ_{t<T} γ^t·(γ·Φ(s_{t+1}) − Φ(s_t))`, summed step by step
 * (not in telescoped form), with Φ(s_t) = `potentials[t]` and Φ(s_T) = `terminal`. By telescoping it
 * equals `G + γ^T·Φ(s_T) − Φ(s_0)`.
 */
export function shapedReturn(base: number, potentials: ArrayLike<number>, gamma: number, terminal: number): number {
  const T = potentials.length;
  let g = base;
  let disc = 1;
  for (let t = 0; t < T; t++) {
    const next = t + 1 < T ? potentials[t + 1] : terminal;
    g += disc * (gamma * next - potentials[t]);
    disc *= gamma;
  }
  return g;
}

/**
 * `potential` — potential-based reward shaping (Ng, Harada & Russell, "Policy invariance under reward
 * transformations: theory and application to reward shaping", ICML 1999) for multi-turn rollouts
 * whose `steps` carry `potential`: each step's reward gains `F_t = γ·Φ(s_{t+1}) − Φ(s_t)`, and the
 * rollout's reward becomes the shaped return.
 *
 * Reading of the data: step t is taken in state s_t, so `steps[t].potential` = Φ(s_t); the state
 * after the last step is terminal with Φ = `terminal_potential` (0, which keeps the optimal policy
 * unchanged). The original return G is the rollout's reward (`base: reward`) or the discounted sum
 * of `steps[t].reward` (`base: steps`; missing step rewards count 0). The shaped return is
 * `G + Σ_t γ^t F_t = G + γ^T·Φ(s_T) − Φ(s_0)`, so within a group that shares s_0 (same prompt) and
 * Φ(s_T) = 0, group-relative estimators give the same advantages as without shaping: the per-step
 * F_t matter for per-step credit (see `shapedReturn` for reuse). Rollouts without potentials keep
 * their reward; a null reward stays null. Formula [SRC, textbook]: reference mechanics-A §0.6.
 *
 * @example
 * # potentials [0, 0.5, 1], terminal 0, γ = 1: F = [0.5, 0.5, −1]; reward 1 → 1 + 0 − Φ(s_0) = 1
 */
export const potentialShaper = defineShaper({
  type: 'potential',
  summary: 'Potential-based shaping r + γΦ(s′) − Φ(s) over steps; the reward becomes the shaped return.',
  params: {
    gamma: z.number().gt(0).lte(1).default(1).describe('Discount γ of the shaping term and of the step return.'),
    terminal_potential: z.number().default(0).describe('Φ of the terminal state after the last step (0 keeps the optimal policy).'),
    base: z.enum(['reward', 'steps']).default('reward').describe('Original return: the rollout reward, or the discounted sum of steps[t].reward.'),
    potential_key: z.string().default('potential').describe('Step key holding Φ(s_t).'),
  },
  create(p) {
    const phi: number[] = [];
    return {
      apply(b) {
        const r = b.rewards;
        for (let i = 0; i < r.length; i++) {
          if (r[i] !== r[i]) continue;
          const steps: Step[] | undefined = b.samples[i]?.rollout.steps;
          if (!Array.isArray(steps) || steps.length === 0) continue;
          phi.length = 0;
          let missing = -1;
          for (let t = 0; t < steps.length; t++) {
            const v = steps[t]?.[p.potential_key];
            if (v === undefined || v === null) {
              if (missing < 0) missing = t;
              continue;
            }
            if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidValueError(i, `steps[${t}].${p.potential_key}`, v);
            phi.push(v);
          }
          if (phi.length === 0) continue;
          if (missing >= 0) {
            throw new InvalidValueError(i, `steps[${missing}].${p.potential_key}`, 'missing', 'every step needs a potential once one step has one');
          }
          let base = r[i];
          if (p.base === 'steps') {
            base = 0;
            let disc = 1;
            for (let t = 0; t < steps.length; t++) {
              const v = steps[t]?.reward;
              if (v !== undefined && v !== null) {
                if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidValueError(i, `steps[${t}].reward`, v);
                base += disc * v;
              }
              disc *= p.gamma;
            }
          }
          r[i] = shapedReturn(base, phi, p.gamma, p.terminal_potential);
        }
      },
    };
  },
});
