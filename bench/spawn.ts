/**
 * Shared by the sandbox benchmarks: the baseline a user would write instead of a sandbox (a bare
 * `spawn` of the interpreter or binary), and a fixed-width pool of async jobs.
 */
import { spawn } from 'node:child_process';

/**
 * Runs `argv` as a bare child process with `stdin`, resolving with its stdout (rejecting on a non-zero
 * exit). The environment is minimal (`PATH`, `LANG`, plus `env`).
 *
 * @example
 * await bareRun(['/usr/bin/python3', '-c', 'print(input())'], 'hi\n'); // → 'hi\n'
 */
export function bareRun(argv: string[], stdin: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...env } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stdin.on('error', () => {});
    c.stdin.end(stdin);
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}

/**
 * Runs `fn(0) … fn(n − 1)` with at most `width` in flight at once.
 *
 * @example
 * await pooled(100, 2, async (i) => { await bareRun(['/bin/true'], ''); });
 */
export async function pooled(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}
