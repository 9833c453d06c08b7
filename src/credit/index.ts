/** Multi-turn credit assignment: step batches, credit methods, token mapping, ProRL centring, step diagnostics. */
export { buildStepBatch, checkStepBatch, defineCredit, StepFieldError } from './types.js';
export type { Credit, CreditKind, CreditOutput, CreditState, SignalRef, StepBatch, StepSignalInput } from './types.js';
export { buildCredit, creditSchema, credits, signalParams, signalsOf } from './registry.js';
export type { CreditMethod, CreditSpec, CreditSpecInput } from './registry.js';
export { stepsToTokens } from './tokens.js';
export { StepwiseCentring } from './centring.js';
export { rankConsistency } from './comam.js';
export { rrdLoss } from './lare.js';
export { hopLabel, reconstructProgress } from './hop_progress.js';
export type { HopMode } from './hop_progress.js';
export { stepDiagnostics } from './diagnostics.js';
export type { StepDiagnostics, PositionCredit } from './diagnostics.js';
export { addTokenSignal, contrastiveTokenRewards, tgdpoLoss, tgdpoTokenRewards, tgdpoTokenWeights, tregLoss } from './token_rewards.js';
export type { ContrastiveNormalize, TokenPair } from './token_rewards.js';
