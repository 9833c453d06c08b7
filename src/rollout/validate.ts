import type { Rollout } from './types.js';

/** A record that breaks the data contract; `field` names the offending key path (e.g. `completion[1].role`). */
export class RolloutError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RolloutError';
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkMessages(v: unknown[], field: string): void {
  for (let i = 0; i < v.length; i++) {
    const m = v[i];
    const at = `${field}[${i}]`;
    if (!isPlainObject(m)) throw new RolloutError(at, `expected a chat message object {role, content}, got ${kindOf(m)}`);
    if (typeof m.role !== 'string') throw new RolloutError(`${at}.role`, `expected a string, got ${kindOf(m.role)}`);
    const c = m.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c))
      throw new RolloutError(`${at}.content`, `expected a string, a list of content parts or null, got ${kindOf(c)}`);
    if (m.tool_calls !== undefined && !Array.isArray(m.tool_calls))
      throw new RolloutError(`${at}.tool_calls`, `expected a list, got ${kindOf(m.tool_calls)}`);
  }
}

function checkText(v: unknown, field: string, required: boolean): void {
  if (v === undefined) {
    if (required) throw new RolloutError(field, 'is required (a string or a list of chat messages)');
    return;
  }
  if (typeof v === 'string') return;
  if (Array.isArray(v)) return checkMessages(v, field);
  throw new RolloutError(field, `expected a string or a list of chat messages, got ${kindOf(v)}`);
}

const STEP_NUMBERS = ['reward', 'value', 'potential'] as const;

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  return kindOf(v);
}

/**
 * Checks the token data of a rollout: `completion_ids` a list of non-negative integers and
 * `response_length` a non-negative integer (either may be absent or `null`). Throws
 * {@link RolloutError} naming the field (and the first bad element of `completion_ids`).
 */
export function checkTokenData(v: Record<string, unknown>): void {
  const ids = v.completion_ids;
  if (ids !== undefined && ids !== null) {
    if (!Array.isArray(ids)) throw new RolloutError('completion_ids', `expected a list of token ids (non-negative integers), got ${kindOf(ids)}`);
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i];
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new RolloutError(`completion_ids[${i}]`, `expected a token id (a non-negative integer), got ${describe(t)}`);
    }
  }
  const n = v.response_length;
  if (n !== undefined && n !== null && (typeof n !== 'number' || !Number.isInteger(n) || n < 0))
    throw new RolloutError('response_length', `expected the number of response tokens (a non-negative integer), got ${describe(n)}`);
}

/**
 * Checks a parsed JSON value against the rollout contract (ARCHITECTURE.md) and returns it typed.
 * Unknown top-level keys are kept (a scored file can be scored again); known keys must have the right
 * types. Throws {@link RolloutError} naming the field.
 *
 * @example
 * validateRollout({ id: 'q1-0', prompt: 'Q?', completion: 'A', reference: '42' }) // → the same object
 * validateRollout({ completion: 'A' }) // throws "id: is required (a non-empty string)"
 */
export function validateRollout(v: unknown): Rollout {
  if (!isPlainObject(v)) throw new RolloutError('(record)', `expected a JSON object, got ${kindOf(v)}`);
  if (typeof v.id !== 'string' || v.id.length === 0) {
    if (v.id === undefined) throw new RolloutError('id', 'is required (a non-empty string)');
    throw new RolloutError('id', `expected a non-empty string, got ${kindOf(v.id)}`);
  }
  if (v.group !== undefined && typeof v.group !== 'string') throw new RolloutError('group', `expected a string, got ${kindOf(v.group)}`);
  checkText(v.prompt, 'prompt', false);
  checkText(v.completion, 'completion', true);
  if (v.meta !== undefined && !isPlainObject(v.meta)) throw new RolloutError('meta', `expected an object, got ${kindOf(v.meta)}`);
  checkTokenData(v);
  if (v.steps !== undefined) {
    if (!Array.isArray(v.steps)) throw new RolloutError('steps', `expected a list of steps, got ${kindOf(v.steps)}`);
    for (let i = 0; i < v.steps.length; i++) {
      const s = v.steps[i];
      if (!isPlainObject(s)) throw new RolloutError(`steps[${i}]`, `expected an object, got ${kindOf(s)}`);
      for (const k of STEP_NUMBERS) {
        const x = s[k];
        if (x !== undefined && x !== null && (typeof x !== 'number' || !Number.isFinite(x)))
          throw new RolloutError(`steps[${i}].${k}`, `expected a finite number, got ${kindOf(x)}`);
      }
    }
  }
  return v as unknown as Rollout;
}
