export { DiagnosticsAccumulator, distinctRows, distinctValues } from './accumulator.js';
export { diagnoseBatch } from './diagnose.js';
export {
  diagnoseOptionsSchema,
  type BatchDiagnostics,
  type ColumnStats,
  type ComponentStats,
  type DiagnoseInput,
  type DiagnoseOptions,
  type DiagnoseOptionsInput,
  type NullRateWarning,
} from './types.js';
export { countReason, formatReasons, reasonOfError, reasonOfNull, topReasons, type ReasonCount, type ReasonCounts } from './reasons.js';
