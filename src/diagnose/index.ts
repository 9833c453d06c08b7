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
} from './types.js';
