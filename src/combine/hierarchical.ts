import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { defineCombiner } from './types.js';
import { componentIndex, finishSum } from './terms.js';

const levelSchema = z
  .strictObject({
    constraints: z
      .record(z.string(), z.number())
      .default({})
      .describe('Component name → threshold; the level passes when every one is ≥ its threshold (a null one fails).'),
    rewards: z
      .array(z.string())
      .default([])
      .describe('Components whose weighted values count when every lower level passed.'),
    floor: z
      .number()
      .optional()
      .describe("Reward when this level's constraints fail (default: the reward accumulated so far, this level's rewards included)."),
  })
  .describe('One level of the hierarchy (bottom level first).');

/**
 * `hierarchical` — conditional gating of mixed reward types by their logical dependencies, after the
 * Hierarchical Reward Model of ChatShopBuddy ("…HRM conditional gating…", arXiv 2603.06065) and the
 * Gated Aggregation Strategy of SearchLLM (arXiv 2603.10473). Neither paper's exact formula was
 * available; this is the project's reading of them:
 *
 * Levels are walked bottom-up (level 0 first). A level's `rewards` add their weighted values
 * `w_k·c_k` when every lower level passed; then its `constraints` are checked (component ≥ threshold).
 * If one fails, the walk stops and the reward is that level's `floor` if it has one, else the reward
 * accumulated so far (this level's rewards included). Higher levels are never read.
 * - SearchLLM: level 0 holds the bottom-line constraints (grounding, quality, format) with
 *   `floor: R_min`, level 1 the behaviour objectives: `R = Σ w_j b_j` if all `c_k ≥ τ_k`, else `R_min`.
 * - ChatShopBuddy: `R = g_correct·(r_correct + g_quality·(r_persuasive + r_quality)) + r_process` is
 *   level 0 `{rewards: [correct, process], constraints: {correct: 1}}`, level 1
 *   `{constraints: {quality: τ}}`, level 2 `{rewards: [persuasive, quality]}` (with a binary
 *   `correct`, r_correct is 0 exactly when its gate fails).
 *
 * Guarantees: when a level fails, R does not depend on any component first read above it (the
 * subjective scores cannot buy back a failed objective check). A violated bottom line gives
 * R = floor₀, which is ≤ every fully compliant response's R only if floor₀ ≤ the smallest reward a
 * compliant response can get — the combiner cannot check that (it does not know the graders' ranges),
 * so choose floor₀ below it (e.g. floor₀ ≤ 0 for non-negative rewards with non-negative weights).
 *
 * Nulls: a null constraint fails. The on_null policy applies to the rewards that count: `exclude`
 * (default) sums the present ones (a null reward adds 0), `renormalize` rescales among them
 * (warning: can pay for a null); a floor is returned as is. Rewards with weight 0 are not read.
 * Components named in no level's `rewards` do not add to the reward.
 *
 * @example
 * # spec: components grounded, format, robust, aligned (weight 1 each)
 * combine:
 *   type: hierarchical
 *   levels:
 *     - {constraints: {grounded: 1, format: 1}, floor: -1}
 *     - {rewards: [robust, aligned]}
 * # grounded = 1, format = 1, robust = 0.5, aligned = 0.75 → 1.25
 * # grounded = 0 (any robust, aligned) → -1
 */
export const hierarchicalCombiner = defineCombiner({
  type: 'hierarchical',
  summary: 'Ordered levels of constraints and rewards: a level counts only when every lower level passes (HRM / gated aggregation).',
  params: {
    levels: z.array(levelSchema).min(1).describe('Levels, bottom (most basic) first.'),
  },
  create(params, ctx) {
    const rewardIdx: number[] = [];
    const rewardEnd: number[] = [];
    const consIdx: number[] = [];
    const consThr: number[] = [];
    const consEnd: number[] = [];
    const seen = new Map<number, number>();
    params.levels.forEach((level, i) => {
      level.rewards.forEach((name, j) => {
        const k = componentIndex(ctx, `levels.${i}.rewards.${j}`, name);
        const prev = seen.get(k);
        if (prev !== undefined) {
          throw new ParamError(`levels.${i}.rewards.${j}`, `component ${JSON.stringify(name)} is already a reward at level ${prev}`);
        }
        seen.set(k, i);
        if (ctx.weights[k] !== 0) rewardIdx.push(k);
      });
      rewardEnd.push(rewardIdx.length);
      for (const [name, threshold] of Object.entries(level.constraints)) {
        consIdx.push(componentIndex(ctx, `levels.${i}.constraints.${name}`, name));
        consThr.push(threshold);
      }
      consEnd.push(consIdx.length);
    });
    const rIdx = Int32Array.from(rewardIdx);
    const rW = Float64Array.from(rewardIdx, (k) => ctx.weights[k]);
    const rEnd = Int32Array.from(rewardEnd);
    const cIdx = Int32Array.from(consIdx);
    const cThr = Float64Array.from(consThr);
    const cEnd = Int32Array.from(consEnd);
    const hasFloor = Uint8Array.from(params.levels, (l) => (l.floor === undefined ? 0 : 1));
    const floor = Float64Array.from(params.levels, (l) => l.floor ?? 0);
    const nLevels = params.levels.length;
    const policy = params.on_null;

    return {
      combine(row) {
        let sum = 0;
        let absAll = 0;
        let absPresent = 0;
        let nNull = 0;
        let r = 0;
        let c = 0;
        for (let i = 0; i < nLevels; i++) {
          for (; r < rEnd[i]; r++) {
            const v = row[rIdx[r]];
            const a = Math.abs(rW[r]);
            absAll += a;
            if (Number.isNaN(v)) nNull++;
            else {
              sum += rW[r] * v;
              absPresent += a;
            }
          }
          let pass = true;
          for (; c < cEnd[i]; c++) if (!(row[cIdx[c]] >= cThr[c])) pass = false;
          if (!pass) return hasFloor[i] ? floor[i] : finishSum(policy, sum, absAll, absPresent, nNull, r - nNull);
        }
        return finishSum(policy, sum, absAll, absPresent, nNull, r - nNull);
      },
    };
  },
});
