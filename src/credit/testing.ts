/** Test helpers for the credit methods (not part of the public API). */
import { expect } from 'vitest';
import type { Rollout, Step } from '../rollout/types.js';
import { buildStepBatch, type StepBatch, type StepSignalInput } from './types.js';

export interface Ep {
  group?: string;
  outcome: number | null;
  steps?: Step[];
}

/** A step batch from short episode descriptions (group defaults to 'g'), with optional step signals. */
export function batchOf(eps: Ep[], signals?: Record<string, StepSignalInput>): StepBatch {
  const rollouts: Rollout[] = eps.map((e, i) => ({ id: `r${i}`, group: e.group ?? 'g', completion: '', ...(e.steps ? { steps: e.steps } : {}) }));
  return buildStepBatch(rollouts, eps.map((e) => e.outcome), signals).batch;
}

/** `count` steps without rewards (for methods that read signals only). */
export function blankSteps(count: number): Step[] {
  return Array.from({ length: count }, () => ({ role: 'assistant' }));
}

/** Steps with the given rewards (and optional values/potentials, same length). */
export function stepsOf(rewards: (number | undefined)[], values?: number[], potentials?: number[]): Step[] {
  return rewards.map((r, t) => ({
    role: 'assistant',
    ...(r !== undefined ? { reward: r } : {}),
    ...(values ? { value: values[t] } : {}),
    ...(potentials ? { potential: potentials[t] } : {}),
  }));
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-9): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `index ${i}`).toBeNaN();
    else expect(Math.abs(got[i] - want[i]), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
  }
}

/** Steps of rollout i of a per-step column. */
export function stepsOfRollout(b: StepBatch, col: Float64Array, i: number): number[] {
  return Array.from(col.subarray(b.offsets[i], b.offsets[i + 1]));
}
