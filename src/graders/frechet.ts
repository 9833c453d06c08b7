import { readFileSync } from 'node:fs';
import { byGroup } from './by_group.js';
import { extname, resolve } from 'node:path';
import * as z from 'zod';
import type { Sample } from '../rollout/types.js';
import { ParamError, defineGrader, type GradeOutput } from './types.js';
import { nuclearNorm, traceSqrtProduct } from './linalg.js';
import { batchSizeSchema, batchedEmbedder, resolveBackend } from './model_calls.js';

/**
 * A reference set's Gaussian, kept in the form the distance needs: its mean, its covariance factor
 * Rh ((m−1)×d, Σ = RhᵀRh, the sample covariance with ddof 1) and Tr Σ. Rh holds Helmert contrasts of
 * the rows rather than the m centred rows: the same Σ without the centred rows' structural null
 * vector, whose zero singular value would otherwise cost √ε accuracy in the cross term.
 */
export interface FrechetReference {
  dim: number;
  mean: Float64Array;
  /** (rows)×dim, row-major. */
  factor: Float64Array;
  /** m − 1 (0 for a single reference vector: a point mass). */
  rows: number;
  trace: number;
  /** Σ (dim×dim), built on first use by the small-dimension route. */
  cov?: Float64Array;
}

function checkDims(vectors: readonly (readonly number[])[], dim: number, what: string): void {
  for (const v of vectors) if (v.length !== dim) throw new Error(`${what} embeddings have different dimensions (${dim} and ${v.length})`);
}

/**
 * Helmert contrasts of k rows of width w (row-major), scaled by `scale`: the k − 1 rows
 * (x₁ + … + x_r − r·x_{r+1}) / √(r(r+1)), an orthonormal basis of the contrasts, so their scatter
 * ΣhhᵀΣ equals the rows' centred scatter Σ(x − x̄)(x − x̄)ᵀ. Rows should be centred first (it keeps
 * the running sums small).
 */
function helmert(rows: Float64Array, k: number, w: number, scale: number): Float64Array {
  const out = new Float64Array(Math.max(0, k - 1) * w);
  const sum = new Float64Array(w);
  for (let r = 1; r < k; r++) {
    const f = scale / Math.sqrt(r * (r + 1));
    for (let c = 0; c < w; c++) {
      sum[c]! += rows[(r - 1) * w + c]!;
      out[(r - 1) * w + c] = (sum[c]! - r * rows[r * w + c]!) * f;
    }
  }
  return out;
}

/** The rows of `vectors` at `members`, centred on their mean, row-major; and that mean. */
function centredRows(vectors: readonly (readonly number[])[], members: readonly number[], dim: number): { rows: Float64Array; mean: Float64Array } {
  const k = members.length;
  const mean = new Float64Array(dim);
  for (const i of members) for (let c = 0; c < dim; c++) mean[c]! += vectors[i]![c]! / k;
  const rows = new Float64Array(k * dim);
  members.forEach((i, r) => {
    for (let c = 0; c < dim; c++) rows[r * dim + c] = vectors[i]![c]! - mean[c]!;
  });
  return { rows, mean };
}

/** Σ = FᵀF for a factor F of `rows`×d. */
function gram(factor: Float64Array, rows: number, d: number): Float64Array {
  const cov = new Float64Array(d * d);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < d; i++) {
      const x = factor[r * d + i]!;
      if (x === 0) continue;
      for (let j = i; j < d; j++) cov[i * d + j]! += x * factor[r * d + j]!;
    }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i]!;
  return cov;
}

/**
 * Fits the Gaussian of a reference set of vectors (at least one; a single vector is a point mass,
 * Σ = 0).
 *
 * @example
 * fitReference([[-1], [0], [1]]) // → mean [0], trace 1 (variance 1)
 */
export function fitReference(vectors: readonly (readonly number[])[]): FrechetReference {
  const m = vectors.length;
  if (m === 0) throw new Error('the reference set is empty');
  const dim = vectors[0]!.length;
  checkDims(vectors, dim, 'reference');
  const { rows, mean } = centredRows(vectors, vectors.map((_, i) => i), dim);
  const factor = helmert(rows, m, dim, m > 1 ? 1 / Math.sqrt(m - 1) : 0);
  let trace = 0;
  for (const x of factor) trace += x * x;
  return { dim, mean, factor, rows: m - 1, trace };
}

/**
 * Fréchet distances of subsets of a group of vectors to a reference Gaussian. The group's products
 * with the reference's covariance factor are computed once, so a subset of k vectors costs
 * O(k·d + k²·m + min(k, m)³) for m reference vectors whatever the embedding dimension d (or O(k·d² + d³)
 * when d is the smallest of the three).
 */
export class FrechetGroup {
  private readonly proj: Float64Array;

  constructor(
    private readonly vectors: readonly (readonly number[])[],
    private readonly ref: FrechetReference,
  ) {
    checkDims(vectors, ref.dim, 'group and reference');
    const { rows: m, dim, factor } = ref;
    this.proj = new Float64Array(vectors.length * m);
    vectors.forEach((x, i) => {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += x[k]! * factor[j * dim + k]!;
        this.proj[i * m + j] = s;
      }
    });
  }

  /**
   * FD between the Gaussian of the vectors at `members` (at least one; one vector is a point mass) and
   * the reference: ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁Σ₂)^½. With Σ₁ = AᵀA and Σ₂ = RhᵀRh (A the
   * subset's Helmert contrasts), the eigenvalues of Σ₁Σ₂ are the squared singular values of A·Rhᵀ, so
   * the cross term is the nuclear norm of that (k−1)×(m−1) matrix and no d×d square root is formed.
   * When d is smaller than both k − 1 and m − 1, the cross term is taken in d dimensions instead
   * (Cholesky of Σ₁, see {@link traceSqrtProduct}). Clamped at 0 against rounding.
   */
  distance(members: readonly number[]): number {
    const k = members.length;
    const { dim, rows: m, mean: mu2 } = this.ref;
    const { rows, mean: mu1 } = centredRows(this.vectors, members, dim);
    let meanTerm = 0;
    for (let c = 0; c < dim; c++) meanTerm += (mu1[c]! - mu2[c]!) ** 2;
    let trace1 = 0;
    for (const x of rows) trace1 += x * x;
    if (k > 1) trace1 /= k - 1;
    let cross = 0;
    if (k > 1 && m > 0) {
      const scale = 1 / Math.sqrt(k - 1);
      let viaDim: number | null = null;
      if (dim < Math.min(k - 1, m)) {
        this.ref.cov ??= gram(this.ref.factor, m, dim);
        viaDim = traceSqrtProduct(gram(helmert(rows, k, dim, scale), k - 1, dim), this.ref.cov, dim);
      }
      if (viaDim !== null) cross = viaDim;
      else {
        const p = new Float64Array(k * m);
        const pbar = new Float64Array(m);
        for (const i of members) for (let j = 0; j < m; j++) pbar[j]! += this.proj[i * m + j]! / k;
        members.forEach((i, r) => {
          for (let j = 0; j < m; j++) p[r * m + j] = this.proj[i * m + j]! - pbar[j]!;
        });
        cross = nuclearNorm(helmert(p, k, m, scale), k - 1, m);
      }
    }
    return Math.max(0, meanTerm + trace1 + this.ref.trace - 2 * cross);
  }
}

/**
 * Fréchet distance between Gaussians fitted to two sets of vectors (sample covariance, ddof 1; a
 * single vector is a point mass): FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), as FID/FAD compute it.
 *
 * @example
 * frechetDistance([[-1], [0], [1]], [[-1], [1], [3]]) // → 2 (N(0, 1) vs N(1, 4): 1 + (1 − 2)²)
 */
export function frechetDistance(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  if (a.length === 0) throw new Error('the first set is empty');
  return new FrechetGroup(a, fitReference(b)).distance(a.map((_, i) => i));
}

export type FrechetPerRollout = 'marginal' | 'group' | 'instance';

/**
 * Per-rollout rewards of one group against the reference. `marginal`: FD(group without the rollout) −
 * FD(group), how much the rollout brings the group's distribution closer to the reference (null for
 * a group of one); `group`: −FD(group) for every rollout; `instance`: −FD of the rollout alone (a
 * point mass: ‖x − μ‖² + Tr Σ_ref).
 *
 * @example
 * frechetRewards([[-1], [0], [1]], fitReference([[-1], [1], [3]]), 'group').rewards // → [-2, -2, -2]
 */
export function frechetRewards(
  vectors: readonly (readonly number[])[],
  ref: FrechetReference,
  perRollout: FrechetPerRollout,
): { distance: number; rewards: (number | null)[] } {
  const g = new FrechetGroup(vectors, ref);
  const all = vectors.map((_, i) => i);
  const distance = g.distance(all);
  if (perRollout === 'group') return { distance, rewards: all.map(() => -distance) };
  if (perRollout === 'instance') return { distance, rewards: all.map((i) => -g.distance([i])) };
  if (vectors.length < 2) return { distance, rewards: all.map(() => null) };
  return { distance, rewards: all.map((i) => g.distance(all.filter((j) => j !== i)) - distance) };
}

/** Reads a reference-texts file: `.jsonl` (a JSON string or `{text}` a line), `.json` (an array of strings) or plain text (one text a line). */
function readReferenceFile(path: string): string[] {
  const raw = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === 'string')) throw new Error('a .json reference file must hold an array of strings');
    return parsed;
  }
  const lines = raw.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (ext !== '.jsonl') return lines;
  return lines.map((line, i) => {
    const v: unknown = JSON.parse(line);
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') return (v as { text: string }).text;
    throw new Error(`line ${i + 1}: expected a JSON string or an object with a string "text"`);
  });
}

/**
 * `frechet` — distance of the group's completions to a reference distribution, a GROUP grader after
 * DRAGON ("DRAGON: Distributional Rewards Optimize Diffusion Generative Models", Bai et al. 2025),
 * whose exemplar rewards use the Fréchet distance (FAD) between embedding Gaussians: the completions
 * and a reference set of texts are embedded by an encoder backend (`embed` op) and
 * FD = ‖μ_g − μ_ref‖² + Tr(Σ_g + Σ_ref − 2(Σ_gΣ_ref)^½), the reward being −FD.
 *
 * The reference texts come from `references` or `references_file` (relative to the spec's directory:
 * `.jsonl` with a JSON string or `{"text": …}` a line, `.json` with an array of strings, anything
 * else one text a line); they are read when the spec loads and embedded once, on first use (a failed
 * embedding is retried with the next batch).
 *
 * `per_rollout` (how the group-level distance becomes one number per rollout):
 * - `marginal` (default): FD(group without the rollout) − FD(group), the decrease of the distance
 *   the rollout brings, so higher is better. This is DRAGON's split of a dataset-level reward by each
 *   sample's marginal contribution, which gives a within-group signal where −FD(group) alone would
 *   give every rollout of a group the same reward (zero GRPO advantage). `null` for a group of one.
 * - `group`: −FD(group) for every rollout.
 * - `instance`: −FD between the rollout alone (a point mass) and the reference set, DRAGON's
 *   instance-to-distribution reward: ‖x − μ_ref‖² + Tr Σ_ref, negated.
 * Covariances are sample covariances (ddof 1, as FID/FAD); a single vector is a point mass (Σ = 0).
 * Empty completions are left out of the group and score its lowest reward (at most 0; the null rule: no answer never beats an answer). A backend failure or
 * differing dimensions reject the group's grades.
 *
 * @example
 * # spec
 * - {name: style, grader: frechet, backend: encoder, references_file: exemplars.jsonl}
 * # 1-D embeddings, group [-1, 0, 1] (N(0,1)), references [-1, 1, 3] (N(1,4)): FD = 1 + (1-2)² = 2;
 * # per_rollout: group → -2 for each rollout
 */
export const frechetGrader = defineGrader({
  kind: 'frechet',
  summary: "Fréchet distance between the group's embedding Gaussian and a reference set's, as each rollout's marginal contribution (or -FD of the group, or of the rollout alone).",
  params: {
    backend: z.string().min(1).describe('Name of an embedding backend in the spec\'s `backends` (needs the `embed` operation).'),
    references: z.array(z.string()).min(1).optional().describe('Reference texts defining the target distribution (or use references_file).'),
    references_file: z
      .string()
      .min(1)
      .optional()
      .describe('File of reference texts, relative to the spec: .jsonl (a JSON string or {"text": …} a line), .json (array of strings) or plain text (one a line).'),
    per_rollout: z
      .enum(['marginal', 'group', 'instance'])
      .default('marginal')
      .describe('`marginal` (default): FD without the rollout minus FD with it; `group`: -FD of the group; `instance`: -FD of the rollout alone.'),
    batch_size: batchSizeSchema,
  },
  create(params, ctx) {
    if ((params.references === undefined) === (params.references_file === undefined))
      throw new ParamError(params.references ? 'references_file' : 'references', 'give exactly one of references and references_file.');
    let texts: string[];
    if (params.references) texts = params.references;
    else {
      const path = resolve(ctx.specDir, params.references_file!);
      try {
        texts = readReferenceFile(path);
      } catch (e) {
        throw new ParamError('references_file', `cannot read reference texts from ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const key = params.references ? 'references' : 'references_file';
    const empty = texts.findIndex((t) => t.trim().length === 0);
    if (empty >= 0) throw new ParamError(key, `reference text ${empty + 1} is empty.`);
    if (texts.length === 0) throw new ParamError(key, 'the reference set has no texts.');
    const backend = resolveBackend(ctx, params.backend, ['embed']);
    const embed = batchedEmbedder(backend, params.batch_size);
    let reference: Promise<FrechetReference> | null = null;
    const getReference = (): Promise<FrechetReference> => {
      if (!reference) {
        const p = Promise.all(texts.map((t) => embed(t.trim()))).then(fitReference);
        p.catch(() => {
          if (reference === p) reference = null;
        });
        reference = p;
      }
      return reference;
    };
    const gradeOne = async (samples: readonly Sample[]): Promise<GradeOutput[]> => {
      const empty = (score: number): GradeOutput => ({ score, details: { reason: 'the completion is empty: scored as the lowest of its group (at most 0)' } });
      const used = samples.flatMap((s, i) => (s.completion.trim().length > 0 ? [i] : []));
      if (used.length === 0) return samples.map(() => empty(0));
      const [ref, vectors] = await Promise.all([getReference(), Promise.all(used.map((i) => embed(samples[i]!.completion.trim())))]);
      const { distance, rewards } = frechetRewards(vectors, ref, params.per_rollout);
      // Null rule: an empty completion scores the lowest reward of its group (at most 0), never null.
      const out: GradeOutput[] = samples.map(() => empty(Math.min(0, ...rewards.filter((r): r is number => r !== null))));
      used.forEach((i, k) => {
        const r = rewards[k]!;
        out[i] = r === null ? { score: null, details: { reason: 'a group of one has no marginal contribution', distance } } : { score: r, details: { distance } };
      });
      return out;
    };
    return {
      scope: 'group',
      gradeGroup: (samples) => byGroup(samples, gradeOne),
    };
  },
});
