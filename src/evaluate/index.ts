/**
 * Reward-model and reward-function evaluation (`rewardkit eval …`): pairwise accuracy, best-of-N,
 * preference strength, general preferences, EPIC distance, reward hacking, and HTML reports.
 */
export * from './source.js';
export * from './stats.js';
export { EvalInputError, RecordReader } from './io.js';
export * from './pairs.js';
export * from './bon.js';
export * from './strength.js';
export * from './preferences.js';
export * from './epic.js';
export * from './hacking.js';
export * from './downstream.js';
export * from './tree.js';
export * from './sycophancy.js';
export { renderReport, chartIds, type EvalResult } from './report.js';
