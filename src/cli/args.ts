/**
 * Parsers for numeric command-line options (commander's `argParser`), shared by every command so a
 * bad value gets the same one-line error everywhere, naming the value: `expected a positive integer, got "x"`.
 */
import { InvalidArgumentError } from 'commander';

/** An integer ≥ 1. @example program.option('--batch-size <n>', 'rollouts per batch', positiveInt) */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

/** An integer ≥ 0. */
export function nonNegInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${v}"`);
  return n;
}

/** Any finite number. */
export function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
}
