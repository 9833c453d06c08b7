/**
 * `rewardkit serve --python PATH --sandbox-concurrency N`: a venv's interpreter serves `/run_code`
 * python requests (the packages installed in the venv import), the pool takes the given size, and a
 * bad interpreter is refused at start (exit 2 with the reason).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunCodeRequest, runFusion } from '../graders/code/fusion.js';
import { configureSandbox, sandboxConfig, sandboxSupport } from '../graders/code/sandbox.js';
import { configureServeSandbox, runServe, type ServeCommandOptions } from './serve.js';

const base: ServeCommandOptions = {
  spec: ['/nonexistent.yaml'], host: '127.0.0.1', port: 0, route: {}, scoring: 'inline', bodyLimit: 32, maxRollouts: 8192, maxInflight: 64,
  maxInflightRollouts: 65536, deadline: 60, maxJsonDepth: 64, nullReward: 0, logLevel: 'fatal', shutdownTimeout: 1, queueTimeout: 120, sandboxQueueTimeout: 60,
};

describe('serve --python / --sandbox-concurrency', () => {
  const before = sandboxConfig();
  afterAll(() => {
    configureSandbox({ python: before.python, concurrency: before.concurrency });
    delete process.env.REWARDKIT_SANDBOX_PYTHON;
    delete process.env.REWARDKIT_SANDBOX_CONCURRENCY;
  });

  it('refuses a relative or missing interpreter (exit 2, saying why)', async () => {
    const lines: string[] = [];
    expect(await runServe({ ...base, python: 'venv/bin/python' }, (s) => lines.push(s))).toBe(2);
    expect(lines.join('\n')).toMatch(/--python must be an absolute path, got venv\/bin\/python/);
    lines.length = 0;
    expect(await runServe({ ...base, python: '/nonexistent/bin/python' }, (s) => lines.push(s))).toBe(2);
    expect(lines.join('\n')).toMatch(/--python: python needs \/nonexistent\/bin\/python \(not found\)/);
    configureSandbox({ python: before.python });
  });

  it('sets the pool size for this process and, through the environment, for scoring threads', async () => {
    await configureServeSandbox({ ...base, sandboxConcurrency: 3 });
    expect(sandboxConfig().concurrency).toBe(3);
    expect(process.env.REWARDKIT_SANDBOX_CONCURRENCY).toBe('3');
  });

  const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
  if (!sandboxSupport().ok || python === undefined) console.log(`serve.test: venv case skipped, ${sandboxSupport().reason ?? 'no system python3'}`);
  it.skipIf(!sandboxSupport().ok || python === undefined)("a venv's interpreter runs /run_code python, with the venv's packages", async () => {
    const dir = mkdtempSync('/var/tmp/rk-serve-venv-');
    chmodSync(dir, 0o755);
    try {
      execFileSync(python!, ['-m', 'venv', '--without-pip', join(dir, 'v')], { stdio: 'ignore' });
      const lib = join(dir, 'v', 'lib');
      for (const d of readdirSync(lib)) writeFileSync(join(lib, d, 'site-packages', 'rk_venv_pkg.py'), 'ANSWER = 42\n');
      await configureServeSandbox({ ...base, python: join(dir, 'v', 'bin', 'python') });
      expect(process.env.REWARDKIT_SANDBOX_PYTHON).toBe(join(dir, 'v', 'bin', 'python'));
      const r = await runFusion(parseRunCodeRequest({ code: 'import sys, rk_venv_pkg\nprint(rk_venv_pkg.ANSWER, sys.prefix != sys.base_prefix)', language: 'python' }));
      expect(r.run_result, JSON.stringify(r)).toMatchObject({ status: 'Finished', return_code: 0, stdout: '42 True\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
