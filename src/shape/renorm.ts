import * as z from 'zod';
import { InvalidValueError } from './columns.js';
import { allocMoments, groupMoments } from './stats.js';
import type { Step } from '../rollout/types.js';
import { defineShaper, type ShapeBatch } from './types.js';

/**
 * Process rewards p_t of rollout `i` (the numeric `key` of each step that has one): fills `out`,
 * returns how many. Steps without the key are skipped; a non-finite value is an error.
 */
function processRewards(b: ShapeBatch, i: number, key: string, out: number[]): number {
  out.length = 0;
  const steps: Step[] | undefined = b.samples[i]?.rollout.steps;
  if (!Array.isArray(steps)) return 0;
  for (let t = 0; t < steps.length; t++) {
    const step = steps[t];
    // Own keys only: a process_key such as `constructor` must not read Object.prototype.
    const v = step !== null && typeof step === 'object' && Object.hasOwn(step, key) ? step[key] : undefined;
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidValueError(i, `steps[${t}].${key}`, v);
    out.push(v);
  }
  return out.length;
}

/**
 * `renorm` — calibrates per-step process rewards p_t (`steps[t].reward`, e.g. a principle-based PRM's
 * scores in [0, 1]) against the rollout's outcome reward o (the reward so far, e.g. 0/1
 * correctness), and writes the calibrated value as the rollout's reward.
 *
 * Paper: PPR (principle process reward) with ReNorm, Xu et al. 2025, arXiv 2509.25598.
 * **Status [INF] — the project's reading, not verified against the paper.** The paper's code
 * (peiranxu/ppr) and equations could not be read; secondary sources only say ReNorm "calibrates
 * the scale and weight of process versus outcome rewards". Two documented readings:
 * - `mode: shift` (default): `r_t = p_t + o − 1`, so with p ∈ [0,1] and o ∈ {0,1} a correct
 *   rollout's steps are ≥ 0 and an incorrect one's ≤ 0; the rollout reward is `aggregate` (mean or
 *   sum) of r_t. Guarantees: with the same p, no step of an o = 0 rollout outscores the same step of
 *   an o = 1 rollout, and the rollout reward is monotone in o and in every p_t.
 * - `mode: group_norm`: within each group, z-normalise o and the mean process reward P̄ separately
 *   (sample std + eps; a group of one keeps its value, as in verl), then
 *   `r = z(o) + process_weight·z(P̄)`.
 * A rollout with no process rewards keeps o (shift) or gets z(o) (group_norm).
 *
 * @example
 * # shift, mean: p = [0.8, 0.6], o = 1 → 0.7; o = 0 → −0.3
 */
export const renormShaper = defineShaper({
  type: 'renorm',
  summary: 'PPR ReNorm (inferred): calibrates step process rewards against the outcome reward.',
  params: {
    mode: z.enum(['shift', 'group_norm']).default('shift').describe('shift: r_t = p_t + o − 1; group_norm: z(o) + w·z(mean p) within each group.'),
    aggregate: z.enum(['mean', 'sum']).default('mean').describe('shift mode: how the calibrated step rewards become the rollout reward.'),
    process_key: z.string().default('reward').describe('Step key holding the process reward p_t.'),
    process_weight: z.number().default(1).describe('group_norm mode: weight of the normalised process term.'),
    eps: z.number().nonnegative().default(1e-6).describe('group_norm mode: added to the group std.'),
  },
  create(p) {
    const buf: number[] = [];
    return {
      apply(b) {
        const r = b.rewards;
        const n = r.length;
        if (p.mode === 'shift') {
          for (let i = 0; i < n; i++) {
            const o = r[i];
            if (o !== o) continue;
            const m = processRewards(b, i, p.process_key, buf);
            if (m === 0) continue;
            let s = 0;
            for (let t = 0; t < m; t++) s += buf[t] + o - 1;
            r[i] = p.aggregate === 'mean' ? s / m : s;
          }
          return;
        }
        const proc = new Float64Array(n).fill(NaN);
        for (let i = 0; i < n; i++) {
          if (r[i] !== r[i]) continue;
          const m = processRewards(b, i, p.process_key, buf);
          if (m === 0) continue;
          let s = 0;
          for (let t = 0; t < m; t++) s += buf[t];
          proc[i] = s / m;
        }
        const zo = zScores(r, b.groupOf, b.groupCount, p.eps);
        const zp = zScores(proc, b.groupOf, b.groupCount, p.eps);
        for (let i = 0; i < n; i++) {
          if (r[i] !== r[i]) continue;
          r[i] = zo[i] + (zp[i] === zp[i] ? p.process_weight * zp[i] : 0);
        }
      },
    };
  },
});

/** (x − group mean)/(group sample std + eps), a group of one giving x/(1 + eps) as in verl. */
function zScores(x: Float64Array, groupOf: Int32Array, groupCount: number, eps: number): Float64Array {
  const m = groupMoments(x, groupOf, allocMoments(groupCount));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const g = groupOf[i];
    const c = m.count[g];
    if (v !== v) out[i] = NaN;
    else if (c === 1) out[i] = v / (1 + eps);
    else out[i] = (v - m.pivot[g] - m.shift[g]) / (Math.sqrt(m.m2[g] / (c - 1)) + eps);
  }
  return out;
}
