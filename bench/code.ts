/**
 * `code` sandbox throughput: executions per second of a trivial program (echo one stdin line) in
 * Python and in Node, run with `runInSandbox` (fresh namespaces, private tmpfs, unprivileged uid,
 * rlimits) and — as the baseline, in the same run — spawned bare (`<interpreter> prog` from a temp
 * file, stdin piped, no sandbox). Both sides run with the same concurrency (the CPU count, the
 * sandbox pool's default) and alternate in rounds so that background load hits them alike. Also
 * reports the latency of one run at a time (median, sandbox vs bare spawn: the set-up cost, robust
 * to background load) and the `code` grader on 4-case stdin/stdout rollouts (cases per second).
 *
 * Before/after in one run: COMPARE=<another checkout>/src/graders/code/sandbox.ts adds that
 * version's runInSandbox as a third leg (labelled COMPARE_LABEL), alternating with the other two round by round (e.g. main's,
 * from `git archive main | tar -x -C /tmp/rk-main`), so all three share the machine's load.
 *
 * Then `/run_code` per language ({@link benchLanguages}; LANGS=0 skips it, CODE=0 skips the part above,
 * LANG_ROUNDS=n rounds of 8).
 *
 * Needs root (the sandbox does). Run: npx tsx bench/code.ts   (ROUNDS=n, default 5 rounds of 20 runs)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildGrader } from '../src/graders/harness.js';
import { bareRun, pooled } from './spawn.js';
import { codeGrader, parseRunCodeRequest, runFusion, runInSandbox, sandboxConfig, sandboxSupport, toolchainAvailable, transpileTypeScript, type SandboxLanguage } from '../src/graders/code/index.js';
import { toSample } from '../src/rollout/sample.js';
import type { Rollout } from '../src/rollout/types.js';

export interface CodeBenchFigure {
  name: string;
  runsPerSecond: number;
  runs: number;
  /** Mean wall time of one run, milliseconds (concurrency included: runs overlap); the median for the one-at-a-time rows. */
  meanMs: number;
  /** Runs/s as a fraction of the bare-spawn baseline's runs/s in the same run (sandbox legs only). */
  vsBare?: number;
}

const PROGRAMS: Record<'python' | 'javascript', string> = {
  python: 'print(input())\n',
  javascript: 'process.stdout.write(require("fs").readFileSync(0, "utf8"));\n',
};



type RunFn = typeof runInSandbox;

export async function benchCode(rounds = 5, perRound = 20, compare?: { label: string; run: RunFn }): Promise<CodeBenchFigure[]> {
  const sup = sandboxSupport();
  if (!sup.ok) throw new Error(`sandbox unavailable: ${sup.reason}`);
  const cfg = sandboxConfig();
  const width = cfg.concurrency;
  const dir = mkdtempSync(join(tmpdir(), 'rk-bench-code-'));
  const figures: CodeBenchFigure[] = [];
  try {
    for (const language of ['python', 'javascript'] as const) {
      const file = join(dir, language === 'python' ? 'prog.py' : 'prog.js');
      writeFileSync(file, PROGRAMS[language]);
      const argv = language === 'python' ? [cfg.python, file] : [cfg.node, file];
      const totals: Record<string, number> = { bare: 0, sandbox: 0, ...(compare ? { compare: 0 } : {}) };
      // Warm-up (page cache, first namespace creation, the sealed root's layout).
      await bareRun(argv, 'warm\n');
      await runInSandbox({ language, code: PROGRAMS[language], stdin: 'warm\n' });
      if (compare) await compare.run({ language, code: PROGRAMS[language], stdin: 'warm\n' });
      const sandboxed = async (run: RunFn, name: string) => {
        const t = performance.now();
        await Promise.all(
          Array.from({ length: perRound }, async (_, i) => {
            const res = await run({ language, code: PROGRAMS[language], stdin: `line ${i}\n`, limits: { timeoutMs: 30_000 } });
            if (res.status !== 'ok' || res.stdout !== `line ${i}\n`) throw new Error(`${name} ${language}: ${res.status} ${res.message ?? ''} ${res.stderr}`);
          }),
        );
        return performance.now() - t;
      };
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        await pooled(perRound, width, async (i) => {
          const out = await bareRun(argv, `line ${i}\n`);
          if (out !== `line ${i}\n`) throw new Error(`bare ${language}: unexpected output ${JSON.stringify(out)}`);
        });
        totals.bare += performance.now() - t;
        totals.sandbox! += await sandboxed(runInSandbox, 'sandboxed');
        if (compare) totals.compare! += await sandboxed(compare.run, compare.label);
      }
      // Latency, one run at a time (median; robust to background load): the sandbox's own set-up cost.
      const single: Record<string, number[]> = { bare: [], sandbox: [], ...(compare ? { compare: [] } : {}) };
      for (let i = 0; i < rounds * 4; i++) {
        let t = performance.now();
        await bareRun(argv, 'one\n');
        single.bare!.push(performance.now() - t);
        for (const [kind, run] of [['sandbox', runInSandbox], ...(compare ? [['compare', compare.run]] : [])] as [string, RunFn][]) {
          t = performance.now();
          const res = await run({ language, code: PROGRAMS[language], stdin: 'one\n', limits: { timeoutMs: 30_000 } });
          if (res.stdout !== 'one\n') throw new Error(`${kind} ${language}: ${res.status} ${res.message ?? ''}`);
          single[kind]!.push(performance.now() - t);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      for (const [kind, xs] of Object.entries(single)) {
        const label = kind === 'bare' ? 'bare spawn' : kind === 'sandbox' ? 'runInSandbox' : `runInSandbox (${compare!.label})`;
        const ms = median(xs);
        figures.push({ name: `${language}, one at a time, ${label}`, runs: xs.length, runsPerSecond: 1000 / ms, meanMs: ms, ...(kind === 'bare' ? {} : { vsBare: median(single.bare!) / ms }) });
      }
      const runs = rounds * perRound;
      for (const [kind, ms] of Object.entries(totals)) {
        const label = kind === 'bare' ? 'bare spawn (baseline)' : kind === 'sandbox' ? 'runInSandbox' : `runInSandbox (${compare!.label})`;
        figures.push({ name: `${language}, ${label}`, runs, runsPerSecond: runs / (ms / 1000), meanMs: (ms * width) / runs, ...(kind === 'bare' ? {} : { vsBare: totals.bare! / ms }) });
      }
    }

    // The grader end to end: rollouts with 4 stdin/stdout cases each, all graded at once (as the pipeline does).
    const g = buildGrader(codeGrader, { language: 'python', timeout: 30 });
    if (g.scope !== 'rollout') throw new Error('code is a rollout grader');
    const reference = { tests: [1, 2, 3, 4].map((k) => ({ input: `${k} ${k}\n`, output: `${2 * k}\n` })) };
    const rollouts = Math.max(4, Math.round((rounds * perRound) / 8));
    const t = performance.now();
    const out = await Promise.all(
      Array.from({ length: rollouts }, (_, i) =>
        g.grade(toSample({ id: `r${i}`, completion: `\`\`\`python\na, b = map(int, input().split())\nprint(a + b)  # ${i}\n\`\`\``, reference } as Rollout)),
      ),
    );
    const ms = performance.now() - t;
    if (!out.every((o) => typeof o === 'object' && o !== null && o.score === 1)) throw new Error('code grader: a correct program did not score 1');
    figures.push({ name: 'code grader, python, 4-case rollouts (cases)', runs: rollouts * 4, runsPerSecond: (rollouts * 4) / (ms / 1000), meanMs: (ms * width) / (rollouts * 4) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** One trivial echo program per `/run_code` language, and how to compile and run it bare (no sandbox) in a directory. */
const LANGUAGE_PROGRAMS: { name: string; sandbox: SandboxLanguage; source: string; code: string; bare: (cfg: ReturnType<typeof sandboxConfig>, dir: string) => { compile?: string[]; run: string[] } }[] = [
  { name: 'python', sandbox: 'python', source: 'prog.py', code: 'print(input())\n', bare: (c, d) => ({ run: [c.python, join(d, 'prog.py')] }) },
  { name: 'nodejs', sandbox: 'javascript', source: 'prog.js', code: PROGRAMS.javascript, bare: (c, d) => ({ run: [c.node, join(d, 'prog.js')] }) },
  { name: 'typescript', sandbox: 'javascript', source: 'prog.js', code: 'const s: string = require("fs").readFileSync(0, "utf8");\nprocess.stdout.write(s);\n', bare: (c, d) => ({ run: [c.node, join(d, 'prog.js')] }) },
  { name: 'bash', sandbox: 'bash', source: 'prog.sh', code: 'read -r x; echo "$x"\n', bare: (c, d) => ({ run: [c.bash, join(d, 'prog.sh')] }) },
  { name: 'c', sandbox: 'c', source: 'prog.c', code: '#include <stdio.h>\nint main(void){char s[256]; if(fgets(s,sizeof s,stdin)) fputs(s,stdout); return 0;}\n', bare: (c, d) => ({ compile: [c.gcc, '-std=gnu11', '-O2', '-o', join(d, 'prog'), join(d, 'prog.c'), '-lm'], run: [join(d, 'prog')] }) },
  { name: 'cpp', sandbox: 'cpp', source: 'prog.cpp', code: '#include <iostream>\n#include <string>\nint main(){std::string s; std::getline(std::cin, s); std::cout << s << "\\n";}\n', bare: (c, d) => ({ compile: [c.gxx, '-std=c++17', '-O2', '-o', join(d, 'prog'), join(d, 'prog.cpp'), '-lpthread'], run: [join(d, 'prog')] }) },
  { name: 'java', sandbox: 'java', source: 'Main.java', code: 'import java.io.*;\npublic class Main { public static void main(String[] a) throws IOException { System.out.println(new BufferedReader(new InputStreamReader(System.in)).readLine()); } }\n', bare: (c, d) => ({ compile: [join(c.jdk, 'bin/javac'), '-J-XX:+UseSerialGC', '-J-XX:TieredStopAtLevel=1', '-d', d, join(d, 'Main.java')], run: [join(c.jdk, 'bin/java'), '-XX:+UseSerialGC', '-XX:-UsePerfData', '-cp', d, 'Main'] }) },
  { name: 'go', sandbox: 'go', source: 'prog.go', code: 'package main\nimport ("bufio"; "fmt"; "os")\nfunc main() { s := bufio.NewScanner(os.Stdin); s.Scan(); fmt.Println(s.Text()) }\n', bare: (c, d) => ({ compile: [c.go, 'build', '-o', join(d, 'prog'), join(d, 'prog.go')], run: [join(d, 'prog')] }) },
  { name: 'rust', sandbox: 'rust', source: 'prog.rs', code: 'use std::io::*;\nfn main() { let mut s = String::new(); stdin().read_line(&mut s).unwrap(); print!("{}", s); }\n', bare: (c, d) => ({ compile: [c.rustc, '--edition', '2021', '-O', '-o', join(d, 'prog'), join(d, 'prog.rs')], run: [join(d, 'prog')] }) },
];

/**
 * `/run_code` per language: requests per second through {@link runFusion} (sealed compile phase where
 * the language has one, then the sandboxed run), against the same compile + run spawned bare in a
 * temporary directory (the baseline), same concurrency, alternating round by round. Languages whose
 * toolchain is missing are left out (named in the result).
 */
export async function benchLanguages(rounds = 3, perRound = 8): Promise<{ figures: CodeBenchFigure[]; skipped: string[] }> {
  const cfg = sandboxConfig();
  const width = cfg.concurrency;
  const figures: CodeBenchFigure[] = [];
  const skipped: string[] = [];
  for (const l of LANGUAGE_PROGRAMS) {
    const tool = toolchainAvailable(l.sandbox);
    if (!tool.ok) {
      skipped.push(`${l.name} (${tool.reason})`);
      continue;
    }
    const bareOnce = async (i: number) => {
      // On tmpfs when the host has one, like the sandbox's private /tmp: the same storage for both legs.
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rk-bench-lang-'));
      try {
        let code = l.code;
        if (l.name === 'typescript') {
          const t = await transpileTypeScript(code);
          if (t === null || 'error' in t) throw new Error('typescript: esbuild missing or failed');
          code = t.js;
        }
        writeFileSync(join(dir, l.source), code);
        const cmd = l.bare(cfg, dir);
        if (cmd.compile) await bareRun(cmd.compile, '', { HOME: dir, TMPDIR: dir, GOCACHE: join(dir, '.cache'), GOPATH: join(dir, '.go'), GO111MODULE: 'off', CGO_ENABLED: '0' });
        const out = await bareRun(cmd.run, `line ${i}\n`);
        if (out !== `line ${i}\n`) throw new Error(`bare ${l.name}: unexpected output ${JSON.stringify(out)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const sandboxOnce = async (i: number) => {
      const r = await runFusion(parseRunCodeRequest({ code: l.code, language: l.name, stdin: `line ${i}\n`, compile_timeout: 60, run_timeout: 30 }));
      if (r.status !== 'Success' || r.run_result?.stdout !== `line ${i}\n`) throw new Error(`/run_code ${l.name}: ${JSON.stringify(r).slice(0, 400)}`);
    };
    await bareOnce(0); // warm-up: page cache, the sealed root's layout
    await sandboxOnce(0);
    let bare = 0;
    let sandboxed = 0;
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      await pooled(perRound, width, bareOnce);
      bare += performance.now() - t;
      t = performance.now();
      await pooled(perRound, width, sandboxOnce);
      sandboxed += performance.now() - t;
    }
    const runs = rounds * perRound;
    const phases = l.bare(cfg, '/').compile ? 'compile + run' : 'run';
    figures.push({ name: `${l.name} (${phases}), bare spawn`, runs, runsPerSecond: runs / (bare / 1000), meanMs: (bare * width) / runs });
    figures.push({ name: `${l.name} (${phases}), /run_code sandboxed`, runs, runsPerSecond: runs / (sandboxed / 1000), meanMs: (sandboxed * width) / runs, vsBare: bare / sandboxed });
  }
  return { figures, skipped };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`code sandbox, trivial echo program; ${cpus().length} CPUs, concurrency ${sandboxConfig().concurrency}, load average ${loadavg()[0]!.toFixed(1)}`);
  const other = process.env.COMPARE;
  const compare = other ? { label: process.env.COMPARE_LABEL ?? 'compared', run: ((await import(pathToFileURL(other).href)) as { runInSandbox: RunFn }).runInSandbox } : undefined;
  if (other) console.log(`COMPARE = ${other}`);
  const figures = process.env.CODE === '0' ? [] : await benchCode(Number(process.env.ROUNDS ?? 5), 20, compare);
  for (const f of figures) {
    const ratio = f.vsBare === undefined ? '' : `  ${(f.vsBare * 100).toFixed(0).padStart(3)}% of bare`;
    console.log(`${f.name.padEnd(56)} ${f.runsPerSecond.toFixed(1).padStart(7)} runs/s  ${f.meanMs.toFixed(0).padStart(5)} ms/run  (${f.runs})${ratio}`);
  }
  if (process.env.LANGS !== '0') {
    console.log(`\n/run_code per language, trivial echo program (compile + run where the language compiles); concurrency ${sandboxConfig().concurrency}`);
    const { figures: lf, skipped } = await benchLanguages(Number(process.env.LANG_ROUNDS ?? 3), 8);
    for (const f of lf) {
      const ratio = f.vsBare === undefined ? '' : `  ${(f.vsBare * 100).toFixed(0).padStart(3)}% of bare`;
      console.log(`${f.name.padEnd(56)} ${f.runsPerSecond.toFixed(1).padStart(7)} runs/s  ${f.meanMs.toFixed(0).padStart(5)} ms/run  (${f.runs})${ratio}`);
    }
    for (const s of skipped) console.log(`skipped: ${s}`);
  }
  console.log(`load average after: ${loadavg()[0]!.toFixed(1)}`);
}
