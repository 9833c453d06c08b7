import * as z from 'zod';
import { toDouble } from '../shape/stats.js';
import { grpoEstimator } from './grpo.js';
import { assertFiniteOrNull } from '../shape/columns.js';
import { Scratch, checkComponentShape, defineEstimator, groupCentres, groupStd, outputFor, zeroNullAdvantages, type AdvantageBatch } from './types.js';

/**
 * GDPO's first two steps, before the batch normalisation: `pre_i = Σ_k w_k·(R_ik − mean_g)/(std_g + eps)`
 * (sample std; a group of one: mean 0, std 1). `nullAs` = 0 counts a null component as 0; undefined
 * leaves it out of its statistics and of the sum. Null-reward rows get NaN and are left out.
 */
export function gdpoDecoupledSum(
  b: AdvantageBatch,
  eps: number,
  nullAs: number | undefined,
  out?: Float64Array,
  scratch: Scratch = new Scratch(),
): Float64Array {
  const r = b.rewards;
  const n = r.length;
  const G = b.groupCount;
  const groupOf = b.groupOf;
  const pre = outputFor(n, out);
  const m = scratch.moments(G);
  const scale = scratch.f64('scale', G);
  const off = scratch.f64('off', G);
  for (let k = 0; k < b.components.length; k++) {
    const x = b.components[k];
    const w = b.weights[k];
    groupCentres(x, groupOf, G, m, r, nullAs);
    // A ±Infinity in the column makes its group's m2 non-finite: only then scan it for the error,
    // instead of a separate checking pass over every column.
    for (let g = 0; g < G; g++) if (!Number.isFinite(m.m2[g]) || !Number.isFinite(m.shift[g])) assertFiniteOrNull(x, `component ${k}`);
    for (let g = 0; g < G; g++) {
      // With eps 0 a tied group has std 0 and deviations of exactly 0: keep them 0, not 0·∞.
      const den = groupStd(m, g, 1) + eps;
      scale[g] = den > 0 ? w / den : w;
      off[g] = m.pivot[g] + m.shift[g];
    }
    // The first column writes (starting from r − r: 0, or NaN for a null reward), the others add.
    if (nullAs === undefined) {
      if (k === 0) setSkipNull(pre, r, x, groupOf, off, scale);
      else addSkipNull(pre, x, groupOf, off, scale);
    } else if (k === 0) setFillNull(pre, r, x, groupOf, off, scale, toDouble(nullAs));
    else addFillNull(pre, x, groupOf, off, scale, toDouble(nullAs));
  }
  if (b.components.length === 0) for (let i = 0; i < n; i++) pre[i] = r[i] - r[i];
  return pre;
}

/**
 * Count, mean and m2 of the non-null values, summed about 0: the decoupled sum is a sum of
 * group-centred terms, so its mean is near 0 and no pivot is needed for precision.
 */
function centredMoments(x: Float64Array): { count: number; mean: number; m2: number } {
  let count = 0;
  let s = 0;
  let q = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    count++;
    s += v;
    q += v * v;
  }
  if (count === 0) return { count: 0, mean: NaN, m2: 0 };
  const mean = s / count;
  const m2 = q - s * mean;
  return { count, mean, m2: m2 > 0 ? m2 : 0 };
}

// One small function per variant: V8 optimises a lone typed-array loop best (see shape/stats.ts).

/** pre[i] = (r[i] − r[i]) + (x[i] − off)·scale of i's group; a null x adds nothing. */
function setSkipNull(pre: Float64Array, r: Float64Array, x: Float64Array, groupOf: Int32Array, off: Float64Array, scale: Float64Array): void {
  for (let i = 0; i < pre.length; i++) {
    const v = x[i];
    const g = groupOf[i];
    pre[i] = r[i] - r[i] + (v === v ? (v - off[g]) * scale[g] : 0);
  }
}

/** pre[i] += (x[i] − off)·scale of i's group; a null x adds nothing. Null-reward rows stay NaN. */
function addSkipNull(pre: Float64Array, x: Float64Array, groupOf: Int32Array, off: Float64Array, scale: Float64Array): void {
  for (let i = 0; i < pre.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    const g = groupOf[i];
    pre[i] += (v - off[g]) * scale[g];
  }
}

/** As {@link setSkipNull}, a null x counting as `fill`. */
function setFillNull(pre: Float64Array, r: Float64Array, x: Float64Array, groupOf: Int32Array, off: Float64Array, scale: Float64Array, fill: number): void {
  for (let i = 0; i < pre.length; i++) {
    const x0 = x[i];
    const g = groupOf[i];
    pre[i] = r[i] - r[i] + ((x0 === x0 ? x0 : fill) - off[g]) * scale[g];
  }
}

/** As {@link addSkipNull}, a null x counting as `fill`. */
function addFillNull(pre: Float64Array, x: Float64Array, groupOf: Int32Array, off: Float64Array, scale: Float64Array, fill: number): void {
  for (let i = 0; i < pre.length; i++) {
    const x0 = x[i];
    const g = groupOf[i];
    pre[i] += ((x0 === x0 ? x0 : fill) - off[g]) * scale[g];
  }
}

/**
 * `gdpo` — group reward-decoupled normalisation: normalise each component within its group,
 * take the weighted sum, then normalise over the batch:
 * `Â_ik = (R_ik − mean_g R_·k)/(std_g R_·k + eps)`, `pre_i = Σ_k w_k Â_ik`,
 * `A_i = (pre_i − mean(pre))/(std(pre) + eps)`; std = sample std, eps = 1e-4.
 *
 * GRPO on the summed reward maps groups whose sums are affine images of each other to the same
 * advantages ([1, 0] and [2, 0] both give ±0.7071), erasing which component differed; GDPO keeps
 * that information (there ±0.7071 vs ±1.4142 before the batch normalisation).
 *
 * Paper: GDPO (NVIDIA), multi-reward RL with decoupled group normalisation. Numerics [SRC]:
 * NVlabs/GDPO `trl-GDPO/.../grpo_trainer.py` — `nan_to_num` on the reward matrix (a null component
 * counts as 0; `null_components: skip` instead leaves it out of its component's group statistics and
 * the sum), `torch.std` + 1e-4 per group, weighted `nansum`, batch mean/std + 1e-4. Deviations: a
 * group of one gets mean 0 and std 1 (verl rule, as in the authors' verl version; torch.std would
 * give NaN); a batch with fewer than two non-null rollouts gets 0. As in the authors' code, with
 * fewer than two components GDPO falls back to GRPO on the combined reward with the same eps.
 * GDPO reads the component columns, so shapers (which rewrite the combined reward) do not affect
 * it, except that a null reward still makes the rollout null.
 *
 * @example
 * # two binary components, group A (1,0),(0,0), group B (1,1),(0,0):
 * # pre-BN A [0.7071, −0.7071], B [1.4142, −1.4142] → after BN (sample std 1.2910) [0.5477, −0.5477, 1.0954, −1.0954]
 */
export const gdpoEstimator = defineEstimator({
  estimator: 'gdpo',
  summary: 'Per-component group normalisation, weighted sum, then batch normalisation (multi-reward).',
  params: {
    eps: z.number().nonnegative().default(1e-4).describe('Added to every std (1e-4 in the authors\' code).'),
    null_components: z
      .enum(['zero', 'skip'])
      .default('zero')
      .describe('A null component counts as 0 (authors\' nan_to_num) or is left out of its statistics and the sum.'),
  },
  create(p) {
    const eps = p.eps;
    const fallback = grpoEstimator.create({ eps, std: 'sample', scale: 'group' });
    const nullAs = p.null_components === 'zero' ? 0 : undefined;
    const scratch = new Scratch();
    return {
      compute(b, dest) {
        if (b.components.length < 2) return fallback.compute(b, dest);
        checkComponentShape(b);
        const pre = gdpoDecoupledSum(b, eps, nullAs, dest, scratch);
        const bm = centredMoments(pre);
        const scale = 1 / ((bm.count > 1 ? Math.sqrt(bm.m2 / (bm.count - 1)) : 0) + eps || 1);
        const mean = bm.mean;
        for (let i = 0; i < pre.length; i++) pre[i] = (pre[i] - mean) * scale;
        return zeroNullAdvantages(b.rewards, pre);
      },
    };
  },
});
