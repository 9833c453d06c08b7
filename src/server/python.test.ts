import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startServer, type RewardServer } from './app.js';
import { ROOT, SPECS_DIR, logSink } from './testing.js';
import { sandboxSupport } from '../graders/code/sandbox.js';

/** Runs the Python clients' unittest suite (stdlib only, the machine's python3) against a real server. */
function runPython(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['-m', 'unittest', '-v', 'test_rewardkit_client'],
      { cwd: join(ROOT, 'clients', 'python'), env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('Python clients (verl naive/batch/dapo/prime/reward loop, TRL sync/async/per-component, verifiers Rubric, OpenRLHF body, Sandbox Fusion body)', () => {
  let server: RewardServer;
  let url: string;
  const token = 'py-token-51d2';

  beforeAll(async () => {
    // A 32 MiB body limit (the default is sized from memory, up to 480 MiB) so the client's
    // over-the-limit split can be tested with a 40 MB batch.
    ({ server, url } = await startServer({ specs: [SPECS_DIR], port: 0, token, defaultSpec: 'exact', routes: { 'openai/gsm8k': 'exact' }, bodyLimit: 32 << 20, logStream: logSink() }));
  });
  afterAll(async () => {
    await server.close();
  });

  it('passes the unittest suite against the running server', async () => {
    const sandbox = sandboxSupport().ok ? '1' : '0';
    const r = await runPython({ REWARDKIT_TEST_URL: url, REWARDKIT_TEST_TOKEN: token, REWARDKIT_TEST_SANDBOX: sandbox });
    expect(r.out).toMatch(/^OK( \(skipped=\d+\))?$/m);
    expect(r.code, r.out).toBe(0);
    const ran = Number(/Ran (\d+) tests/.exec(r.out)?.[1]);
    expect(ran).toBeGreaterThanOrEqual(55);
    if (sandbox === '1') expect(r.out).not.toMatch(/skipped/);
  }, 180_000);
});
