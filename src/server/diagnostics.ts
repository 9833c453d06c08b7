import { diagnoseBatch, type BatchDiagnostics } from '../diagnose/index.js';
import type { ScoredPart } from './service.js';
import { diagnoseInputOf } from '../pipeline.js';

/**
 * Batch diagnostics of one scored part (one spec's rollouts of a request), as `/v1/score` returns
 * them with `diagnostics: true`. Groups formed from the prompt are named after their first
 * rollout's id, so prompt text is never repeated back in `group_flags`. Thresholds come from the
 * spec's `diagnostics:` section; `warnings` lists components null on more than `warn_null_rate`.
 */
export function diagnosePart(part: ScoredPart): BatchDiagnostics {
  const { columns, results } = part.batch;
  const firstOf = new Array<number>(columns.groupCount).fill(-1);
  for (let i = 0; i < columns.groupOf.length; i++) {
    const g = columns.groupOf[i]!;
    if (firstOf[g] === -1) firstOf[g] = i;
  }
  const groupNames = columns.groupKeys.map((key, g) => {
    const r = results[firstOf[g]!];
    return r && r.group === undefined ? `prompt of ${r.id}` : key;
  });
  return diagnoseBatch(diagnoseInputOf(columns, part.entry.compiled.names, groupNames), part.entry.compiled.spec.diagnostics);
}
