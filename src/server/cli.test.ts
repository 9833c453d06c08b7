import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, ROOT, SPECS_DIR, call, halfSent, metric, until } from './testing.js';

interface Proc {
  stderr(): string;
  exited: Promise<number>;
  kill(sig: NodeJS.Signals): void;
}

function serve(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'serve-cli.ts'), 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, REWARDKIT_TOKEN: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => (err += c));
  // 'close', not 'exit': 'exit' can fire before the child's stderr has been read to the end.
  const exited = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : -1))));
  return { stderr: () => err, exited, kill: (s) => child.kill(s) };
}

async function urlOf(p: Proc): Promise<string> {
  await until(async () => /on (http:\/\/\S+)/.test(p.stderr()) || /error:/.test(p.stderr()), 'the server to start', 3000);
  const m = /on (http:\/\/\S+)/.exec(p.stderr());
  if (!m) throw new Error(p.stderr());
  return m[1]!;
}

describe('rewardkit serve', () => {
  it('refuses a non-loopback bind without a token (exit 2)', async () => {
    const p = serve(['--spec', SPECS_DIR, '--host', '0.0.0.0', '--port', '0']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/refusing to bind 0\.0\.0\.0 \(not a loopback address\) without a token/);
  });

  it('refuses an invalid spec, naming its path (exit 2)', async () => {
    const p = serve(['--spec', join(SPECS_DIR, 'exact.yaml'), '--spec', join(FIXTURES, 'bad-spec.yaml'), '--port', '0']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/components\[0\]\.grader: unknown grader "nope"/);
  });

  it('requires --spec (exit 2)', async () => {
    const p = serve(['--port', '0']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/at least one --spec/);
  });

  it('takes the token from REWARDKIT_TOKEN and drains in-flight requests on SIGTERM', async () => {
    const p = serve(['--spec', SPECS_DIR, '--default-spec', 'exact', '--port', '0'], { REWARDKIT_TOKEN: 'env-token' });
    const url = await urlOf(p);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(p.stderr()).toMatch(/serving 2 specs \(diverse, exact\) .* scoring: auto, token required/);
    const auth = { authorization: 'Bearer env-token' };
    expect((await call(url, 'GET', '/v1/specs')).status).toBe(401);
    expect((await call(url, 'GET', '/v1/specs', undefined, auth)).status).toBe(200);

    const rollouts = Array.from({ length: 16 }, (_, i) => ({ id: `r${i}`, group: `g${i % 4}`, completion: i % 2 ? '42' : '41', reference: '42' }));
    const held = halfSent(url, '/v1/score', JSON.stringify({ rollouts }), auth);
    await until(async () => metric((await call(url, 'GET', '/metrics', undefined, auth)).text, 'rewardkit_inflight_requests') === 1, 'the held request to be admitted');
    p.kill('SIGTERM');
    await until(async () => p.stderr().includes('SIGTERM received'), 'the signal to be handled');
    held.finish();
    const r = await held.done;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).results).toHaveLength(16);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/stopped/);
  }, 60_000);
});
