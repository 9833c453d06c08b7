import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The external test data folder `../shared/data/` beside the checkout (see its README).
 * Override with REWARDKIT_SHARED_DATA. Tests read it in place; nothing of it is copied into the project.
 */
export const SHARED_DATA = process.env.REWARDKIT_SHARED_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data');

let folderWarned = false;

/**
 * Path of a file under the shared data folder, or `null` when it is missing outside CI (the caller
 * skips). Under CI (`CI=true`) a missing file throws with a clear message, so the data is never
 * silently untested there. A skip prints one line on stderr per test file: that the folder is
 * missing (once, however many files the test wanted from it), or which file the folder lacks.
 *
 * @example
 * const file = sharedData('math_data/gsm8k_test.jsonl');
 * describe.skipIf(file === null)('gsm8k', () => { … });
 */
export function sharedData(rel: string): string | null {
  const p = join(SHARED_DATA, rel);
  if (existsSync(p)) return p;
  if (process.env.CI === 'true') throw new Error(`shared test data missing: ${p} (expected ../shared/data beside the checkout, or set REWARDKIT_SHARED_DATA)`);
  if (!existsSync(SHARED_DATA)) {
    if (!folderWarned) console.warn(`skipping the tests that need shared test data: ${SHARED_DATA} not found (set REWARDKIT_SHARED_DATA to the folder to run them)`);
    folderWarned = true;
  } else console.warn(`skipping the tests that need ${rel}: not in the shared test data folder ${SHARED_DATA}`);
  return null;
}
