/** Test helpers for environment settings. */
import { afterAll, beforeAll } from 'vitest';

/**
 * Sets `name` to `value` for the tests of the enclosing `describe` block, and restores what it was
 * after them (tests of a file run one after another: another block's setting never overlaps).
 * @example
 * describe('one sandbox per case', () => { useEnv('REWARDKIT_IO_BATCH', '0'); it(…) });
 */
export function useEnv(name: string, value: string): void {
  let was: string | undefined;
  beforeAll(() => {
    was = process.env[name];
    process.env[name] = value;
  });
  afterAll(() => {
    if (was === undefined) delete process.env[name];
    else process.env[name] = was;
  });
}
