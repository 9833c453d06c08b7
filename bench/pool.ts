/**
 * The warm sandbox pool (`src/graders/code/pool/`) against a bare `spawn` of python3 and against the
 * cold sandbox path, in the same run:
 * - runs per second of a trivial program (echo one stdin line), three legs alternating round by round
 *   so that background load hits them alike: bare `spawn('python3', [file])` (the baseline, no
 *   sandbox), `runInSandbox` forked from the warm pool, and `runInSandbox` on the cold path (pool off:
 *   a fresh sandbox and interpreter per run). Same concurrency for all (the sandbox pool size, by
 *   default the CPU count);
 * - the median latency of one run at a time, per leg;
 * - Python test cases per second through the `code` grader (all rollouts at once, as the pipeline
 *   grades them): stdin/stdout cases (one process per program, a fresh `__main__` per case),
 *   call-based (`fn_name`) cases (one program process per program), 4 and 12 cases a rollout,
 *   assertion blocks (one program process and one trusted harness process per program), 4 and 12
 *   blocks a rollout, warm vs cold. `CASE_KINDS=stdin,call` keeps the
 *   kinds whose name contains one of the words; `COLD=0` skips the cold path.
 *
 * Needs root (the sandbox does). Run: npx tsx bench/pool.ts   (ROUNDS=n rounds, default 5, of PER_ROUND runs a leg, default 40)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildGrader } from '../src/graders/harness.js';
import { codeGrader, runInSandbox, sandboxConfig, sandboxSupport } from '../src/graders/code/index.js';
import { setWarmPool } from '../src/graders/code/pool/warm.js';
import { toSample } from '../src/rollout/sample.js';
import type { Rollout } from '../src/rollout/types.js';
import { bareRun, pooled } from './spawn.js';

export interface PoolBenchFigure {
  name: string;
  runsPerSecond: number;
  runs: number;
  /** Mean wall time of one run (ms; runs overlap at the pool's concurrency), or the median for one-at-a-time rows. */
  meanMs: number;
  /** Runs/s as a multiple of the baseline measured in the same run: a bare spawn (runs), a run per case (case mode). */
  vsBare?: number;
}

const PROGRAM = 'print(input())\n';

async function sandboxed(n: number, width: number, warm: boolean): Promise<number> {
  setWarmPool(warm);
  const t = performance.now();
  await pooled(n, width, async (i) => {
    const r = await runInSandbox({ language: 'python', code: PROGRAM, stdin: `line ${i}\n`, limits: { timeoutMs: 30_000 } });
    if (r.status !== 'ok' || r.stdout !== `line ${i}\n`) throw new Error(`${warm ? 'warm' : 'cold'}: ${r.status} ${r.message ?? ''} ${r.stderr}`);
  });
  return performance.now() - t;
}

/** Runs/s of the three legs and their one-at-a-time latency. */
export async function benchPool(rounds = 5, perRound = 40): Promise<PoolBenchFigure[]> {
  const sup = sandboxSupport();
  if (!sup.ok) throw new Error(`sandbox unavailable: ${sup.reason}`);
  const cfg = sandboxConfig();
  const width = cfg.concurrency;
  const dir = mkdtempSync(join(tmpdir(), 'rk-bench-pool-'));
  const file = join(dir, 'prog.py');
  writeFileSync(file, PROGRAM);
  const argv = [cfg.python, file];
  const figures: PoolBenchFigure[] = [];
  try {
    // Warm-up: page cache, the sealed root's layout, the zygote's start.
    await bareRun(argv, 'warm\n');
    await sandboxed(2, 1, false);
    await sandboxed(2, 1, true);
    const totals = { bare: 0, warm: 0, cold: 0 };
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      await pooled(perRound, width, async (i) => {
        const out = await bareRun(argv, `line ${i}\n`);
        if (out !== `line ${i}\n`) throw new Error(`bare: unexpected output ${JSON.stringify(out)}`);
      });
      totals.bare += performance.now() - t;
      totals.warm += await sandboxed(perRound, width, true);
      totals.cold += await sandboxed(Math.ceil(perRound / 4), width, false) * 4; // the cold leg is slow: a quarter of the runs, scaled
    }
    const runs = rounds * perRound;
    const label = { bare: 'bare spawn python3 (baseline)', warm: 'runInSandbox, warm pool', cold: 'runInSandbox, cold path' };
    for (const [k, ms] of Object.entries(totals) as [keyof typeof totals, number][])
      figures.push({ name: `python, ${label[k]}`, runs: k === 'cold' ? rounds * Math.ceil(perRound / 4) : runs, runsPerSecond: runs / (ms / 1000), meanMs: (ms * width) / runs, ...(k === 'bare' ? {} : { vsBare: totals.bare / ms }) });

    const single: Record<'bare' | 'warm' | 'cold', number[]> = { bare: [], warm: [], cold: [] };
    for (let i = 0; i < rounds * 4; i++) {
      let t = performance.now();
      await bareRun(argv, 'one\n');
      single.bare.push(performance.now() - t);
      for (const k of ['warm', 'cold'] as const) {
        setWarmPool(k === 'warm');
        t = performance.now();
        const res = await runInSandbox({ language: 'python', code: PROGRAM, stdin: 'one\n', limits: { timeoutMs: 30_000 } });
        if (res.stdout !== 'one\n') throw new Error(`${k}: ${res.status} ${res.message ?? ''}`);
        single[k].push(performance.now() - t);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    for (const [k, xs] of Object.entries(single) as [keyof typeof single, number[]][]) {
      const ms = median(xs);
      figures.push({ name: `python, one at a time, ${label[k]}`, runs: xs.length, runsPerSecond: 1000 / ms, meanMs: ms, ...(k === 'bare' ? {} : { vsBare: median(single.bare) / ms }) });
    }
  } finally {
    setWarmPool(true);
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** Python test cases per second through the `code` grader, warm vs cold, per kind of test. */
export async function benchCases(rollouts = 24): Promise<PoolBenchFigure[]> {
  const width = sandboxConfig().concurrency;
  const kinds: { name: string; completion: (i: number) => string; reference: unknown; cases: number }[] = [
    {
      name: 'stdin/stdout',
      completion: (i) => `\`\`\`python\na, b = map(int, input().split())\nprint(a + b)  # ${i}\n\`\`\``,
      reference: { tests: [1, 2, 3, 4].map((k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) },
      cases: 4,
    },
    {
      // A contest-style solution: fast input, the usual standard-library imports.
      name: 'stdin/stdout, 12 cases, contest imports',
      completion: (i) => `\`\`\`python\nimport sys, math, heapq, bisect, itertools\nfrom collections import defaultdict, deque, Counter\ninput = sys.stdin.readline\n\ndef main():\n    a, b = map(int, input().split())\n    seen = Counter([a, b])\n    print(sum(k * v for k, v in seen.items()))  # ${i}\n\nmain()\n\`\`\``,
      reference: { tests: Array.from({ length: 12 }, (_, k) => ({ input: `${k} ${k + 1}\n`, output: `${2 * k + 1}\n` })) },
      cases: 12,
    },
    {
      name: 'call-based (fn_name)',
      completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``,
      reference: { fn_name: 'add', inputs: ['1\n1', '2\n2', '3\n3', '4\n4'], outputs: ['2', '4', '6', '8'] },
      cases: 4,
    },
    {
      name: 'stdin/stdout, 12 cases',
      completion: (i) => `\`\`\`python\na, b = map(int, input().split())\nprint(a + b)  # ${i}\n\`\`\``,
      reference: { tests: Array.from({ length: 12 }, (_, k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) },
      cases: 12,
    },
    {
      name: 'call-based (fn_name), 12 cases',
      completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``,
      reference: { fn_name: 'add', inputs: Array.from({ length: 12 }, (_, k) => `${k}\n${k}`), outputs: Array.from({ length: 12 }, (_, k) => `${2 * k}`) },
      cases: 12,
    },
    {
      name: 'assertion (program + harness)',
      completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``,
      reference: { assert: ['assert add(1, 1) == 2', 'assert add(2, 2) == 4', 'assert add(3, 3) == 6', 'assert add(4, 4) == 8'] },
      cases: 4,
    },
    {
      name: 'assertion (program + harness), 12 blocks',
      completion: (i) => `\`\`\`python\ndef add(a, b):\n    return a + b  # ${i}\n\`\`\``,
      reference: { assert: Array.from({ length: 12 }, (_, k) => `assert add(${k}, ${k}) == ${2 * k}`) },
      cases: 12,
    },
  ];
  const figures: PoolBenchFigure[] = [];
  const only = (process.env.CASE_KINDS ?? '').split(',').filter((w) => w !== '');
  try {
    for (const k of kinds) {
      if (only.length > 0 && !only.some((w) => k.name.includes(w))) continue;
      const rate: Record<string, number> = {};
      // stdin/stdout kinds: case mode (the default), then a run per case (REWARDKIT_IO_BATCH=0) as its baseline.
      const legs: { warm: boolean; perCase: boolean }[] = [{ warm: true, perCase: false }];
      if (k.name.startsWith('stdin')) legs.push({ warm: true, perCase: true });
      if (process.env.COLD !== '0') legs.push({ warm: false, perCase: false });
      for (const { warm, perCase } of legs) {
        setWarmPool(warm);
        if (perCase) process.env.REWARDKIT_IO_BATCH = '0';
        else delete process.env.REWARDKIT_IO_BATCH;
        const n = warm ? rollouts : Math.max(2, rollouts / 4);
        const g = buildGrader(codeGrader, { language: 'python', timeout: 30 });
        if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
        // Warm-up (the zygote's start), then all rollouts at once.
        await g.grade(toSample({ id: 'w', completion: k.completion(-1), reference: k.reference } as Rollout));
        const t = performance.now();
        const out = await Promise.all(Array.from({ length: n }, (_, i) => g.grade(toSample({ id: `r${i}`, completion: k.completion(i), reference: k.reference } as Rollout))));
        const ms = performance.now() - t;
        const bad = out.find((o) => typeof o !== 'object' || o === null || o.score !== 1);
        if (bad !== undefined) throw new Error(`code grader (${k.name}): a correct program did not score 1: ${JSON.stringify(bad).slice(0, 400)}`);
        const leg = !warm ? 'cold' : perCase ? 'perCase' : 'warm';
        rate[leg] = (n * k.cases) / (ms / 1000);
        const label = !warm ? 'cold path' : perCase ? 'warm pool, a run per case (baseline)' : k.name.startsWith('stdin') ? 'warm pool, case mode' : 'warm pool';
        figures.push({ name: `code grader, python ${k.name} cases, ${label}`, runs: n * k.cases, runsPerSecond: rate[leg]!, meanMs: (ms * width) / (n * k.cases) });
      }
      // Case mode as a multiple of a run per case, measured in the same run.
      if (rate.perCase !== undefined) {
        const f = figures.find((x) => x.name.endsWith(`${k.name} cases, warm pool, case mode`));
        if (f) f.vsBare = rate.warm! / rate.perCase;
      }
    }
  } finally {
    setWarmPool(true);
    delete process.env.REWARDKIT_IO_BATCH;
  }
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const show = (f: PoolBenchFigure, unit = 'runs/s') => {
    const ratio = f.vsBare === undefined ? '' : `  ${f.vsBare.toFixed(2).padStart(5)}× ${unit === 'runs/s' ? 'bare' : 'a run per case'}`;
    console.log(`${f.name.padEnd(60)} ${f.runsPerSecond.toFixed(1).padStart(7)} ${unit}  ${f.meanMs.toFixed(0).padStart(5)} ms/run  (${f.runs})${ratio}`);
  };
  console.log(`warm sandbox pool, trivial echo program; ${cpus().length} CPUs, concurrency ${sandboxConfig().concurrency}, load average ${loadavg()[0]!.toFixed(1)}`);
  for (const f of await benchPool(Number(process.env.ROUNDS ?? 5), Number(process.env.PER_ROUND ?? 40))) show(f);
  if (process.env.CASES !== '0') {
    console.log(`\ncode grader, Python test cases (all rollouts at once); concurrency ${sandboxConfig().concurrency}`);
    for (const f of await benchCases(Number(process.env.ROLLOUTS ?? 24))) show(f, 'cases/s');
  }
  console.log(`load average after: ${loadavg()[0]!.toFixed(1)}`);
}
