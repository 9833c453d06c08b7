/**
 * `python` grader throughput: calls per second of a trivial `grade(sample, item)` through the grader
 * (a pool of long-lived sandboxed workers, batches of 256 calls a message), against, in the same run:
 * - one bare `spawn` of the interpreter per call (no sandbox; the call's sample/item on stdin),
 * - one sandboxed run per call (`runInSandbox`, what a worker-less design would cost),
 * - the same function called in-process by Python (a loop in one interpreter: the ceiling of one core);
 * and the grader with `isolation: call` (each call in a process forked from the loaded worker).
 * The grader and the spawn legs alternate round by round so that background load hits them alike.
 *
 * Needs root (the sandbox does). Run: npx tsx bench/python_grader.ts
 * (ROUNDS=n rounds, default 3; CALLS=n grader calls a round, default 50000; SPAWNS=n per-call runs a round, default 100; FORKED=n isolation: call calls a round, default 3000)
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { buildGrader } from '../src/graders/harness.js';
import { bareRun, pooled } from './spawn.js';
import { pythonGrader } from '../src/graders/python/index.js';
import { PY_WORKER } from '../src/graders/python/worker.js';
import { runInSandbox, sandboxConfig, sandboxSupport } from '../src/graders/code/sandbox.js';
import { toSample } from '../src/rollout/sample.js';
import type { Rollout } from '../src/rollout/types.js';
import type { RolloutGrader } from '../src/graders/types.js';

const SOURCE = `def grade(sample, item):
    return 1.0 if sample["output_text"].strip() == item["reference"] else 0.0
`;

/** One call as a standalone program: the sample/item arrive as JSON on stdin, the score is printed. */
const ONE_CALL = `import json, sys
${SOURCE}
text, item = json.loads(sys.stdin.read())
try:
    output_json = json.loads(text)
except Exception:
    output_json = None
print(grade({"output_text": text, "output_json": output_json}, item))
`;

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CALLS = Number(process.env.CALLS ?? 50_000);
const SPAWNS = Number(process.env.SPAWNS ?? 100);
const FORKED = Math.min(CALLS, Number(process.env.FORKED ?? 3000));
const WIDTH = availableParallelism();

function rollouts(n: number): Rollout[] {
  return Array.from({ length: n }, (_, i) => ({ id: `q${i % 500}-${i}`, group: `q${i % 500}`, prompt: `What is ${i % 97} + ${i % 89}?`, completion: String((i % 97) + (i % 89) + (i % 3 === 0 ? 1 : 0)), reference: String((i % 97) + (i % 89)) }));
}



/** The function in-process: one interpreter loops over the same calls (sample dicts built per call, as the worker does). */
function inProcess(python: string, rs: Rollout[]): number {
  const prog = `import json, sys, time
${SOURCE}
calls = json.loads(sys.stdin.read())
loads = json.loads
t = time.perf_counter()
s = 0.0
for text, item in calls:
    try:
        oj = loads(text)
    except Exception:
        oj = None
    s += grade({"output_text": text, "output_json": oj}, item)
dt = time.perf_counter() - t
print(len(calls) / dt)
`;
  const out = execFileSync(python, ['-c', prog], { input: JSON.stringify(rs.map((r) => [r.completion, r])), encoding: 'utf8', maxBuffer: 1 << 26 });
  return Number(out.trim());
}

async function main(): Promise<void> {
  const sup = sandboxSupport();
  if (!sup.ok) {
    console.log(`skipped: ${sup.reason}`);
    return;
  }
  const python = sandboxConfig().python;
  const rs = rollouts(CALLS);
  const samples = rs.map(toSample);
  const g = buildGrader(pythonGrader, { source: SOURCE, workers: WIDTH }) as RolloutGrader & { close(): Promise<void> };
  // Warm-up: start the workers (and build the sealed root) outside the timed rounds.
  let t = performance.now();
  await Promise.all(samples.slice(0, 2000).map((s) => g.grade(s)));
  const coldMs = performance.now() - t;

  const gc = buildGrader(pythonGrader, { source: SOURCE, workers: WIDTH, isolation: 'call' }) as RolloutGrader & { close(): Promise<void> };
  await Promise.all(samples.slice(0, 100).map((s) => gc.grade(s)));
  const legs = { grader: [] as number[], forked: [] as number[], spawn: [] as number[], sandboxRun: [] as number[], inProcess: [] as number[] };
  const input = JSON.stringify([rs[0]!.completion, rs[0]]);
  for (let round = 0; round < ROUNDS; round++) {
    t = performance.now();
    const scores = await Promise.all(samples.map((s) => g.grade(s)));
    legs.grader.push(CALLS / ((performance.now() - t) / 1000));
    const want = rs.map((r) => (r.completion === r.reference ? 1 : 0));
    if (scores.some((s, i) => s !== want[i])) throw new Error('grader returned a wrong score');

    t = performance.now();
    const fs = await Promise.all(samples.slice(0, FORKED).map((s) => gc.grade(s)));
    legs.forked.push(FORKED / ((performance.now() - t) / 1000));
    if (fs.some((s, i) => s !== want[i])) throw new Error('grader (isolation: call) returned a wrong score');

    t = performance.now();
    await pooled(SPAWNS, WIDTH, async () => {
      const out = await bareRun([python, '-c', ONE_CALL], input);
      if (out.trim() !== '0.0' && out.trim() !== '1.0') throw new Error(`bare spawn printed ${out}`);
    });
    legs.spawn.push(SPAWNS / ((performance.now() - t) / 1000));

    t = performance.now();
    await pooled(SPAWNS, WIDTH, async () => {
      const r = await runInSandbox({ language: 'python', code: ONE_CALL, stdin: input });
      if (r.status !== 'ok') throw new Error(`sandbox run: ${r.status} ${r.message}`);
    });
    legs.sandboxRun.push(SPAWNS / ((performance.now() - t) / 1000));

    legs.inProcess.push(inProcess(python, rs));
  }
  await g.close();
  await gc.close();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`python grader bench — ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(2)}, ${python}, ${ROUNDS} rounds, worker source ${PY_WORKER.length} B`);
  console.log(`cold start (sealed root + ${WIDTH} workers + first 2000 calls): ${coldMs.toFixed(0)} ms`);
  console.log(`| leg | calls/s (median of ${ROUNDS}) | rounds |`);
  console.log('|---|---:|---|');
  console.log(`| python grader: ${WIDTH} sandboxed workers, batches of 256 (${CALLS} calls a round) | ${fmt(med(legs.grader))} | ${legs.grader.map(fmt).join(', ')} |`);
  console.log(`| python grader, isolation: call (a fork per call; ${FORKED} calls a round) | ${fmt(med(legs.forked))} | ${legs.forked.map(fmt).join(', ')} |`);
  console.log(`| one bare spawn of python per call (${WIDTH} at a time, ${SPAWNS} calls) | ${fmt(med(legs.spawn))} | ${legs.spawn.map(fmt).join(', ')} |`);
  console.log(`| one sandboxed run per call (runInSandbox, ${WIDTH} at a time, ${SPAWNS} calls) | ${fmt(med(legs.sandboxRun))} | ${legs.sandboxRun.map(fmt).join(', ')} |`);
  console.log(`| the function in-process in Python (one core, ${CALLS} calls) | ${fmt(med(legs.inProcess))} | ${legs.inProcess.map(fmt).join(', ')} |`);
  console.log(`grader vs bare spawn: ×${(med(legs.grader) / med(legs.spawn)).toFixed(0)}; grader vs in-process (one core): ${(med(legs.grader) / med(legs.inProcess)).toFixed(2)}`);
}

await main();
