import { DiagnosticsAccumulator } from './accumulator.js';
import type { BatchDiagnostics, DiagnoseInput, DiagnoseOptionsInput } from './types.js';

/**
 * Diagnostics of one batch: collapse rate, resolution, zero-advantage fraction, length bias,
 * per-component statistics and correlations, error rate and per-group all_fail / all_pass flags.
 * Everything is exact (Spearman on all rollouts). See {@link BatchDiagnostics} for every field.
 *
 * @example
 * // GDPO's two groups (1,0),(0,0) | (1,1),(0,0) with GRPO advantages ±0.7071 in both:
 * // distinct_advantages 2, distinct_component_vectors 3 → resolution 0.667 (GDPO: 4/3 = 1.333)
 */
export function diagnoseBatch(input: DiagnoseInput, options: DiagnoseOptionsInput = {}): BatchDiagnostics {
  return new DiagnosticsAccumulator(options, Math.max(2, input.rewards.length)).add(input).result();
}
