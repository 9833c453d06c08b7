import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The Node flags of the bin's shebang line (`#!/usr/bin/env -S node FLAGS`): what `rewardkit …` runs Node with. */
export const SHEBANG_FLAGS = readFileSync(join(ROOT, 'bin', 'rewardkit.cjs'), 'utf8')
  .split('\n', 1)[0]!
  .replace(/^#!.*?\bnode\b/, '')
  .trim()
  .split(/\s+/)
  .filter(Boolean);

/**
 * Runs `rewardkit ARGS` through the real bin (bin/rewardkit.cjs, the package's bin → dist/, built by `npm test` before the
 * suite and by `npm ci`'s prepare) in a child process, with its shebang's Node flags as the installed command has them
 * (and so with the bundle's V8 code cache, which V8 accepts only under the flags it was made with): real exit codes,
 * stdout and stderr.
 */
export function rewardkit(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [...SHEBANG_FLAGS, join(ROOT, 'bin', 'rewardkit.cjs'), ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
