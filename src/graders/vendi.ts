import * as z from 'zod';
import { byGroup } from './by_group.js';
import type { Sample } from '../rollout/types.js';
import { defineGrader, type GradeOutput } from './types.js';
import { cosineKernel, symmetricEigenvalues } from './linalg.js';
import { batchSizeSchema, batchedEmbedder, resolveBackend } from './model_calls.js';

/**
 * Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine
 * Learning") of an n×n similarity kernel with unit diagonal (row-major): exp of the Shannon entropy
 * of the eigenvalues of K/n, the effective number of distinct items, in [1, n]. Eigenvalues that
 * round below zero count as zero; the empty set scores 0.
 *
 * @example
 * vendiScore(Float64Array.of(1, 1, 0, 1, 1, 0, 0, 0, 1), 3) // → 1.8899 (two identical items and one orthogonal)
 */
export function vendiScore(kernel: ArrayLike<number>, n: number): number {
  if (n === 0) return 0;
  const scaled = Float64Array.from(kernel, (k) => k / n);
  let entropy = 0;
  for (const lambda of symmetricEigenvalues(scaled, n)) if (lambda > 0) entropy -= lambda * Math.log(lambda);
  return Math.exp(entropy);
}

/** The kernel without row and column `drop`. */
function without(kernel: Float64Array, n: number, drop: number): Float64Array {
  const out = new Float64Array((n - 1) * (n - 1));
  let w = 0;
  for (let i = 0; i < n; i++) {
    if (i === drop) continue;
    for (let j = 0; j < n; j++) if (j !== drop) out[w++] = kernel[i * n + j]!;
  }
  return out;
}

/**
 * Per-rollout Vendi rewards of one group's embeddings. `marginal`: Vendi of the group minus Vendi of
 * the group without the rollout (its contribution to the group's diversity; a near-duplicate of a
 * sibling gets ≤ 0, a lone rollout 1). `group`: the group's Vendi score for every rollout.
 *
 * @example
 * vendiRewards([[1, 0], [1, 0], [0, 1]], 'marginal') // → { vendi: 1.8899, rewards: [-0.1101, -0.1101, 0.8899] }
 */
export function vendiRewards(vectors: readonly (readonly number[])[], perRollout: 'marginal' | 'group'): { vendi: number; rewards: number[] } {
  const n = vectors.length;
  if (n === 0) return { vendi: 0, rewards: [] };
  const kernel = cosineKernel(vectors);
  const vendi = vendiScore(kernel, n);
  if (perRollout === 'group') return { vendi, rewards: vectors.map(() => vendi) };
  return { vendi, rewards: vectors.map((_, i) => vendi - vendiScore(without(kernel, n, i), n - 1)) };
}

/**
 * `vendi` — semantic diversity of a group, a GROUP grader after DRAGON ("DRAGON: Distributional
 * Rewards Optimize Diffusion Generative Models", Bai et al. 2025), which optimises
 * distribution-to-distribution rewards such as the Vendi score. The completions of a group are
 * embedded by an encoder backend (`embed` op), K is their cosine-similarity kernel and the group's
 * Vendi score is exp(−Σ λ log λ) over the eigenvalues λ of K/n: 1 when all completions mean the same,
 * n when they are mutually orthogonal.
 *
 * DRAGON credits a sample of a dataset-level reward by its marginal contribution, so
 * `per_rollout: marginal` (default) rewards each rollout with Vendi(group) − Vendi(group without it):
 * positive when it adds diversity, ≤ 0 for a near-duplicate of a sibling; a group of one scores 1.
 * `per_rollout: group` gives every rollout the group's score (no credit within the group, only across
 * groups). Empty completions are left out of the group and score its lowest reward (at most 0; the null rule: no answer never beats an answer). A backend
 * failure, differing dimensions or a zero vector reject the group's grades. Eigenvalues come from
 * Householder tridiagonalisation and implicit QL (linalg.ts): O(n³) per score, O(n⁴) per group for
 * `marginal`; embedding calls are batched across the groups graded in the same tick.
 *
 * @example
 * # spec
 * - {name: diversity, grader: vendi, backend: encoder, weight: 0.1}
 * # group embeddings [1,0], [1,0], [0,1] → Vendi 1.8899; rewards [-0.1101, -0.1101, 0.8899]
 */
export const vendiGrader = defineGrader({
  kind: 'vendi',
  summary: "Semantic diversity of the group (Vendi score of its embeddings); each rollout's marginal contribution, or the group score.",
  params: {
    backend: z.string().min(1).describe('Name of an embedding backend in the spec\'s `backends` (needs the `embed` operation).'),
    per_rollout: z
      .enum(['marginal', 'group'])
      .default('marginal')
      .describe('`marginal` (default, DRAGON): Vendi of the group minus Vendi without the rollout; `group`: the group\'s Vendi score for every rollout.'),
    batch_size: batchSizeSchema,
  },
  create(params, ctx) {
    const backend = resolveBackend(ctx, params.backend, ['embed']);
    const embed = batchedEmbedder(backend, params.batch_size);
    const gradeOne = async (samples: readonly Sample[]): Promise<GradeOutput[]> => {
      const used = samples.flatMap((s, i) => (s.completion.trim().length > 0 ? [i] : []));
      const vectors = await Promise.all(used.map((i) => embed(samples[i]!.completion.trim())));
      const { vendi, rewards } = vendiRewards(vectors, params.per_rollout);
      // Null rule: an empty completion contributes nothing — it scores the lowest reward of its group
      // (at most 0), never null and never above a judged rollout.
      const floor = Math.min(0, ...rewards);
      const out: GradeOutput[] = samples.map(() => ({ score: floor, details: { reason: 'the completion is empty: scored as the lowest of its group (at most 0)' } }));
      used.forEach((i, k) => (out[i] = { score: rewards[k]!, details: { vendi, n: used.length } }));
      return out;
    };
    return {
      scope: 'group',
      gradeGroup: (samples) => byGroup(samples, gradeOne),
    };
  },
});
