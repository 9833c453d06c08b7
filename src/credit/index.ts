/** Multi-turn credit assignment: step batches, credit methods, token mapping, ProRL centring. */
export { buildStepBatch, checkStepBatch, defineCredit, StepFieldError } from './types.js';
export type { Credit, CreditKind, CreditOutput, StepBatch } from './types.js';
export { buildCredit, creditSchema, credits } from './registry.js';
export type { CreditMethod, CreditSpec, CreditSpecInput } from './registry.js';
export { stepsToTokens } from './tokens.js';
export { StepwiseCentring } from './centring.js';
