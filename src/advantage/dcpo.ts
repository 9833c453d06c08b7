import * as z from 'zod';
import { InvalidValueError, checkBatch, defineEstimator, outputFor, zeroNullAdvantages } from './types.js';

/**
 * `dcpo` — ChatShopBuddy's Dynamic Contrastive Policy Optimization ("ChatShopBuddy: Towards Reliable
 * Conversational Shopping Agents via Reinforcement Learning", Cheng et al., arXiv 2603.06065):
 * "dynamic trajectory selection based on reward and reasoning length", sampling K = 16 trajectories
 * per query and training on K/2 contrastive ones [SEC: a paper digest; the paper's equations were not
 * reachable, mechanics-C §4 UNRESOLVED]. **This is the project's reading [INF]**, not a reproduction:
 *
 * 1. Within each group, order the rollouts with a non-null reward by (reward descending, length
 *    ascending): better first, and among equal rewards the shorter first.
 * 2. Keep the first k and the last k of that order, `k = max(1, round(keep·n/2))` (n the group's
 *    non-null rollouts; `keep` 0.5 keeps K/2 of K): the best-and-shortest and the worst-and-longest.
 *    A rollout tied (same reward and length) with the last one kept on either side is kept too, so the
 *    selection does not depend on the order of the rollouts. With 2k ≥ n every rollout is kept.
 * 3. Advantage = GRPO over the kept rollouts, `(r − mean_kept)/(std_kept + eps)` (sample std, verl
 *    numerics; one kept rollout: mean 0, std 1). Rollouts not kept get advantage 0: they are not trained on.
 *
 * Length is the completion's length in tokens (`completionLengths`, which the pipeline fills from
 * `completion_ids`, `response_length` or the tokenizer) — the reading takes the completion length as
 * the "reasoning length". Without lengths every rollout counts as the same length (selection by
 * reward alone). Guarantees: a group whose rewards are all equal gets advantage 0 everywhere (length
 * alone never makes a positive or negative advantage — a policy cannot earn credit by being short
 * without being better); among equal rewards a shorter rollout is never dropped in favour of a longer
 * one at the top, nor a longer one spared at the bottom. Null rewards are neither selected nor
 * counted, and get 0.
 *
 * @example
 * # one group, rewards [1, 1, 0, 0], lengths [100, 50, 80, 120], keep 0.5 → k = 1:
 * # kept: rollout 1 (reward 1, shortest) and rollout 3 (reward 0, longest) → [0, 0.7071, 0, −0.7071]
 */
export const dcpoEstimator = defineEstimator({
  estimator: 'dcpo',
  summary: 'ChatShopBuddy DCPO [INF]: per group keep the top and bottom by (reward desc, length asc), GRPO over the kept, 0 elsewhere.',
  params: {
    keep: z.number().gt(0).lte(1).default(0.5).describe('Fraction of each group kept for training, half from each end of the (reward desc, length asc) order (ChatShopBuddy: K/2 of K = 16 → 0.5).'),
    eps: z.number().nonnegative().default(1e-6).describe('Added to the std of the kept rewards (verl 1e-6).'),
  },
  create(p) {
    return {
      compute(b, dest) {
        checkBatch(b);
        const r = b.rewards;
        const n = r.length;
        const len = b.completionLengths;
        if (len !== undefined) {
          if (len.length !== n) throw new RangeError(`completionLengths has ${len.length} entries for ${n} rollouts`);
          for (let i = 0; i < n; i++) if (r[i] === r[i] && !(len[i]! >= 0 && len[i]! < Infinity)) throw new InvalidValueError(i, 'completion length', len[i]!, 'must be a finite number ≥ 0');
        }
        const out = outputFor(n, dest);
        out.fill(0);
        const members: number[][] = Array.from({ length: b.groupCount }, () => []);
        for (let i = 0; i < n; i++) if (r[i] === r[i]) members[b.groupOf[i]]!.push(i);
        const L = (i: number): number => (len === undefined ? 0 : len[i]!);
        // Better first: higher reward, then shorter.
        const cmp = (a: number, c: number): number => r[c]! - r[a]! || L(a) - L(c);
        for (const idx of members) {
          const m = idx.length;
          if (m === 0) continue;
          idx.sort(cmp);
          const k = Math.max(1, Math.round((p.keep * m) / 2));
          const kept = new Set<number>();
          if (2 * k >= m) for (const i of idx) kept.add(i);
          else {
            const top = idx[k - 1]!;
            const bottom = idx[m - k]!;
            for (const i of idx) if (cmp(i, top) <= 0 || cmp(i, bottom) >= 0) kept.add(i);
          }
          let sum = 0;
          for (const i of kept) sum += r[i]!;
          const c = kept.size;
          const mean = c === 1 ? 0 : sum / c;
          let ss = 0;
          for (const i of kept) ss += (r[i]! - mean) ** 2;
          const std = c === 1 ? 1 : Math.sqrt(ss / (c - 1));
          const den = std + p.eps === 0 ? 1 : std + p.eps;
          for (const i of kept) out[i] = (r[i]! - mean) / den;
        }
        return zeroNullAdvantages(r, out);
      },
    };
  },
});
