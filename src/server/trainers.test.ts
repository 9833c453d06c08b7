import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { FIXTURES, ROOT, until } from './testing.js';
import { openRlhfBurst, openRlhfSample, postJson, rssOf, sandboxFusionLoad, type LoadReport } from './trainers.js';
import { sandboxSupport } from '../graders/code/sandbox.js';

/**
 * Each trainer's call pattern at production size against a real `rewardkit serve` (a child process
 * started with default flags but the spec), with zero errors: the defaults of admission (limits.ts)
 * must absorb them as latency. Sizes from issue 13. No timed assertions: latency and the server's
 * memory are printed for the report, not asserted.
 */

const SPEC = `
name: math
components:
  - {name: correct, grader: numeric}
advantage: {estimator: grpo}
`;

let proc: ChildProcess;
let url: string;
let dir: string;
let stderr = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rk-trainers-'));
  writeFileSync(join(dir, 'math.yaml'), SPEC);
  proc = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'serve-cli.ts'), 'serve', '--spec', join(dir, 'math.yaml'), '--port', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, REWARDKIT_TOKEN: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c) => (stderr += c));
  await until(async () => /on (http:\/\/\S+)/.test(stderr) || /error:/.test(stderr), 'the server to start', 3000);
  const m = /on (http:\/\/\S+)/.exec(stderr);
  if (!m) throw new Error(stderr);
  url = m[1]!;
}, 60_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('close', r));
    proc.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function report(name: string, r: LoadReport): void {
  const mem = rssOf(proc.pid!);
  console.log(
    `${name}: ${r.ok}/${r.calls} ok, ${r.failed} failed; attempts by status ${JSON.stringify(r.attempts)}; latency ms p50 ${r.latency.p50.toFixed(0)} p90 ${r.latency.p90.toFixed(0)} p99 ${r.latency.p99.toFixed(0)} max ${r.latency.max.toFixed(0)}; wall ${(r.wallMs / 1000).toFixed(1)} s; server RSS ${mem.nowMb} MB (peak ${mem.peakMb} MB)${r.errors.length ? `; errors: ${r.errors.join(' | ')}` : ''}`,
  );
}

describe('trainers at production size', () => {
  it('OpenRLHF per-sample client: 8,000 concurrent POST /get_reward, one query each (5 tries 1 s apart) → every reward, no 429/503', async () => {
    const samples = Array.from({ length: 8000 }, (_, i) => openRlhfSample(i));
    const r = await openRlhfBurst(url, samples, (i, body) => Array.isArray(body.rewards) && body.rewards.length === 1 && body.rewards[0] === (i % 2 === 0 ? 1 : 0));
    report('OpenRLHF burst (8,000 × 1 query)', r);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(8000);
    // Not even one retry was needed: the queue held every request.
    expect(Object.keys(r.attempts)).toEqual(['200']);
  }, 600_000);

  it('OpenRLHF whole-batch client: one POST /get_reward with 20,000 queries → 200 with 20,000 rewards', async () => {
    const samples = Array.from({ length: 20_000 }, (_, i) => openRlhfSample(i, 2000));
    const body = { query: samples.map((s) => s.prompt + s.response), prompts: samples.map((s) => s.prompt), labels: samples.map((s) => s.label) };
    const agent = new Agent({ keepAlive: false });
    const x = await postJson(agent, `${url}/get_reward`, body);
    const mem = rssOf(proc.pid!);
    console.log(`OpenRLHF batch (20,000 queries, ${(JSON.stringify(body).length / 1e6).toFixed(0)} MB): ${x.status} in ${(x.ms / 1000).toFixed(1)} s; server RSS ${mem.nowMb} MB (peak ${mem.peakMb} MB)`);
    expect(x.status).toBe(200);
    expect(x.body.rewards).toHaveLength(20_000);
    expect(x.body.rewards.every((v: number, i: number) => v === (i % 2 === 0 ? 1 : 0))).toBe(true);
  }, 600_000);

  it('TRL: POST /v1/score with 16,384 rollouts (groups of 16) → 200', async () => {
    const rollouts = Array.from({ length: 16_384 }, (_, i) => {
      const s = openRlhfSample(Math.floor(i / 16) * 16 + (i % 2));
      return { id: `t${i}`, group: `q${Math.floor(i / 16)}`, prompt: s.prompt, completion: s.response, reference: s.label };
    });
    const agent = new Agent({ keepAlive: false });
    const x = await postJson(agent, `${url}/v1/score`, { rollouts });
    const mem = rssOf(proc.pid!);
    console.log(`TRL batch (16,384 rollouts): ${x.status} in ${(x.ms / 1000).toFixed(1)} s; server RSS ${mem.nowMb} MB (peak ${mem.peakMb} MB)`);
    expect(x.status).toBe(200);
    expect(x.body.results).toHaveLength(16_384);
    expect(x.body.results.map((r: { reward: number }) => r.reward)).toEqual(rollouts.map((_, i) => (i % 2 === 0 ? 1 : 0)));
    // GRPO over whole groups of 16 (8 right, 8 wrong): advantages ±1-ish, never 0.
    expect(x.body.results.every((r: { advantage: number }) => r.advantage !== 0)).toBe(true);
  }, 600_000);

  const sandbox = sandboxSupport();
  const runs = Number(process.env.RK_FUSION_RUNS ?? 1200);
  it.skipIf(!sandbox.ok)(`verl Sandbox Fusion client: ${runs} /run_code at max_concurrent 100, timeout=10 (retries 504 only) → zero errors`, async () => {
    // 100 samples × 12 test cases: each case is one run of the sample's program with the case's stdin.
    const programs = Array.from({ length: runs }, (_, i) => ({ code: 'import sys\nn = int(sys.stdin.read())\nprint(sum(range(n)))\n', stdin: String(i) }));
    const r = await sandboxFusionLoad(url, programs, (i, body) => body.status === 'Success' && body.run_result?.stdout === `${(i * (i - 1)) / 2}\n`);
    report(`Sandbox Fusion (${runs} runs, 100 concurrent)`, r);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(runs);
  }, 900_000);
});
