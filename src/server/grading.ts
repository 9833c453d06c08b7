import { scoreBatch, type BatchResult, type ScoreOptions } from '../pipeline.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { Grader } from '../graders/types.js';
import type { Rollout } from '../rollout/types.js';
import { groupKey, textOf } from '../rollout/sample.js';
import { countReason } from '../diagnose/reasons.js';

/**
 * Grading apart from the rest of the flow. A batch can be graded in pieces of whole groups — pool
 * slices, or the chunks of a request larger than one scoring chunk — and then combined, shaped and
 * given advantages once over the whole batch by replaying the graded values: results equal one
 * `scoreBatch` over the batch (same numbers, errors, details and null reasons).
 */

/**
 * Per component (spec order): the values (NaN = null), the error message per rollout (only when
 * any), and the details per rollout (only when asked and any).
 */
export interface GradeReply {
  columns: Float64Array[];
  errors: (Record<number, string> | null)[];
  details: (Record<number, Record<string, unknown>> | null)[];
  /** Per component: why values were null, with counts (see `BatchColumns.nullReasons`). */
  reasons: Map<string, number>[];
}

/**
 * A grade-only copy of a compiled spec: no shapers (running state belongs to the whole batch), no
 * estimator, no credit, no step components (steps are graded and credited over the whole batch).
 */
export function gradeOnly(compiled: CompiledSpec): CompiledSpec {
  return { ...compiled, shapers: null, estimator: null, credit: null, steps: null };
}

/** Grades `rollouts` with a grade-only spec (see {@link gradeOnly}) and returns the columns as a {@link GradeReply}. */
export async function gradeRollouts(graded: CompiledSpec, rollouts: readonly Rollout[], withDetails: boolean): Promise<GradeReply> {
  const { results, columns } = await scoreBatch(graded, rollouts, { details: withDetails });
  const names = graded.names;
  const errors: (Record<number, string> | null)[] = names.map(() => null);
  const details: (Record<number, Record<string, unknown>> | null)[] = names.map(() => null);
  const indexOf = new Map(names.map((n, k) => [n, k]));
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.errors)
      for (const e of r.errors) {
        const k = indexOf.get(e.component)!;
        (errors[k] ??= {})[i] = e.message;
      }
    if (withDetails && r.details)
      for (const [name, d] of Object.entries(r.details)) {
        const k = indexOf.get(name)!;
        (details[k] ??= {})[i] = d as Record<string, unknown>;
      }
  }
  return { columns: columns.components, errors, details, reasons: columns.nullReasons };
}

/**
 * Cuts `n` rollouts into pieces of whole groups (as the pipeline groups them: `group`, else the
 * prompt), each up to about `size` rollouts (a group larger than `size` is one piece), at most
 * `maxPieces` pieces when given (balanced by count). Indices ascend within each piece.
 */
export function groupPieces(rollouts: readonly Rollout[], size: number, maxPieces = Infinity): number[][] {
  const n = rollouts.length;
  const count = Math.max(1, Math.min(maxPieces, Math.ceil(n / size)));
  if (count <= 1) return [rollouts.map((_, i) => i)];
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const r = rollouts[i]!;
    const key = groupKey(r, r.group === undefined ? textOf(r.prompt, 'prompt') : '');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const target = n / count;
  const out: number[][] = [[]];
  for (const members of groups.values()) {
    const last = out[out.length - 1]!;
    if (last.length > 0 && last.length + members.length > target && out.length < count) out.push([...members]);
    else for (const i of members) last.push(i);
  }
  return out.map((x) => x.sort((a, b) => a - b));
}

/** Grader that replays graded values for the rollout it is asked about. */
function replayGrader(
  index: ReadonlyMap<Rollout, number>,
  col: Float64Array,
  errors: (string | undefined)[] | null,
  details: (Record<string, unknown> | undefined)[] | null,
): Grader {
  return {
    scope: 'rollout',
    grade(s) {
      const i = index.get(s.rollout)!;
      const msg = errors?.[i];
      if (msg !== undefined) throw new Error(msg);
      const v = col[i]!;
      const score = v === v ? v : null;
      const d = details?.[i];
      return d !== undefined ? { score, details: d } : score;
    },
  };
}

/**
 * Scores the whole batch from its pieces' grades: `pieces[p]` are the batch indices graded in
 * `replies[p]`. Combining, shaping, advantages and steps run once over the whole batch; the null
 * reasons are the graders' own (merged). `wrap` may wrap the replayed spec (the slicer).
 */
export async function replayPieces(
  compiled: CompiledSpec,
  rollouts: Rollout[],
  pieces: readonly number[][],
  replies: readonly GradeReply[],
  opts: ScoreOptions,
  wrap: (c: CompiledSpec) => CompiledSpec = (c) => c,
): Promise<BatchResult> {
  const n = rollouts.length;
  const K = compiled.names.length;
  const cols = Array.from({ length: K }, () => new Float64Array(n));
  const errs: ((string | undefined)[] | null)[] = new Array(K).fill(null);
  const dets: ((Record<string, unknown> | undefined)[] | null)[] = new Array(K).fill(null);
  pieces.forEach((idx, p) => {
    const rep = replies[p]!;
    for (let k = 0; k < K; k++) {
      const src = rep.columns[k]!;
      const dst = cols[k]!;
      for (let j = 0; j < idx.length; j++) dst[idx[j]!] = src[j]!;
      const e = rep.errors[k];
      if (e) {
        const to = (errs[k] ??= new Array(n));
        for (const j in e) to[idx[Number(j)]!] = e[j];
      }
      const d = rep.details[k];
      if (d) {
        const to = (dets[k] ??= new Array(n));
        for (const j in d) to[idx[Number(j)]!] = d[j];
      }
    }
  });
  const index = new Map<Rollout, number>();
  for (let i = 0; i < n; i++) index.set(rollouts[i]!, i);
  const replay: CompiledSpec = { ...compiled, graders: cols.map((c, k) => replayGrader(index, c, errs[k]!, dets[k]!)) };
  const result = await scoreBatch(wrap(replay), rollouts, opts);
  // The graders saw the null reasons (the replay sees details only when asked): use theirs.
  result.columns.nullReasons = Array.from({ length: K }, (_, k) => {
    const merged = new Map<string, number>();
    for (const rep of replies) for (const [reason, count] of rep.reasons[k] ?? []) countReason(merged, reason, count);
    return merged;
  });
  return result;
}
