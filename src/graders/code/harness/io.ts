/**
 * stdin/stdout cases of a Python program, many per sandbox: one sandboxed *case runner* per
 * program (`iopy.ts`) runs each case as a fresh `python3 prog.py` forked from a template that has
 * never seen an input, in fresh user, pid, mount, IPC and UTS namespaces with a fresh tmpfs `/tmp` and
 * `/dev/shm`, a fresh `/proc`, a fresh session keyring, the case's rlimits and no capability — so a
 * case sees nothing of the previous one (no process, file, IPC object, key, memory) and cannot reach
 * the runner (outside its pid namespace, non-dumpable, no shared descriptor). The runner enforces each
 * case's wall-clock and output limits and frames its report (exit status and CPU time, written by the
 * case's pid 1, which the program cannot reach), stdout and stderr for this process, which compares
 * the output with the expected one here (the expected outputs never enter the sandbox) and judges
 * the ending with the sandbox's own {@link classifyEnding}: the same statuses and messages as one
 * sandboxed run per case.
 *
 * Falls back to one sandboxed run per case ({@link runInSandbox}) for the cases left whenever the
 * runner cannot do a case (a namespace the kernel refuses, a set-up step failing — then for the rest
 * of this process, said once on stderr — or the runner's sandbox ending early).
 */
import { readFileSync } from 'node:fs';
import { classifyEnding, DEFAULT_LIMITS, openSandboxes, remoteRunnerSet, runInSandbox, type RunResult, type SandboxLimits } from '../sandbox.js';
import { LineReader } from './index.js';
import { pythonIoRunner } from './iopy.js';

let broken: string | null = null;

/** Whether stdin/stdout cases are batched (Python, local sandbox, the runner worked so far). @internal */
export function ioBatching(): { on: boolean; reason?: string } {
  if (process.env.REWARDKIT_CASE_BATCH === '0') return { on: false, reason: 'REWARDKIT_CASE_BATCH=0' };
  if (remoteRunnerSet()) return { on: false, reason: 'programs run on remote sandbox workers' };
  if (broken !== null) return { on: false, reason: broken };
  return { on: true };
}

function oomKills(): number | null {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface Frame {
  rep: string;
  out: string;
  err: string;
  killed: 'timeout' | 'output_limit' | null;
  ms: number;
}

/**
 * Runs `program` (Python) on each input, one fresh program per case, and returns one
 * {@link RunResult} per case as {@link runInSandbox} would (`null`: not run). `stop(i, r)` is asked
 * after each case: true ends the batch there (`scoring: all`, a compile error).
 */
export async function runIoCases(program: string, inputs: string[], limits: Partial<SandboxLimits>, stop: (i: number, r: RunResult) => boolean): Promise<(RunResult | null)[]> {
  const out: (RunResult | null)[] = inputs.map(() => null);
  const lim: SandboxLimits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(limits)) if (v !== undefined) (lim as unknown as Record<string, number>)[k] = v as number;
  const cpu = Math.max(1, Math.ceil(lim.cpuSeconds ?? lim.timeoutMs / 1000));
  let i = 0;
  const single = async () => {
    for (; i < inputs.length; i++) {
      const r = await runInSandbox({ language: 'python', code: program, stdin: inputs[i], limits });
      out[i] = r;
      if (stop(i, r)) return;
    }
  };
  while (i < inputs.length) {
    if (!ioBatching().on) {
      await single();
      return out;
    }
    const left = inputs.length - i;
    let source: string;
    try {
      source = pythonIoRunner(program, {
        cpuSoft: cpu,
        cpuHard: cpu + 1,
        addressSpaceBytes: Math.ceil(lim.memoryMb * 1024) * 1024,
        nproc: 2 + Math.floor(lim.maxProcesses),
        fileBytes: Math.max(1, Math.ceil(lim.maxFileBytes / 512)) * 512,
        openFiles: Math.max(16, Math.floor(lim.maxOpenFiles)),
        tmpMb: Math.max(1, Math.ceil(lim.tmpMb)),
      });
    } catch {
      await single();
      return out;
    }
    const maxFrame = Math.ceil(((lim.maxOutputBytes + 4096) * 4) / 3) + 8192;
    const [s] = await openSandboxes([
      {
        language: 'python',
        code: source,
        limits: {
          // The runner outlives every case it runs; each case has the case limits (set in its process).
          timeoutMs: left * (lim.timeoutMs + 6000) + 10_000,
          cpuSeconds: cpu * left + 10,
          memoryMb: Math.max(256, lim.memoryMb),
          maxProcesses: Math.floor(lim.maxProcesses) + 4,
          maxOutputBytes: Math.min(2 ** 40, maxFrame * left + 4096),
          maxFileBytes: lim.maxFileBytes,
          maxOpenFiles: Math.max(64, Math.floor(lim.maxOpenFiles)),
          tmpMb: Math.max(4, Math.ceil((source.length * 2) / (1 << 20)) + 4),
        },
      },
    ]);
    s!.stdin.on('error', () => {});
    const reader = new LineReader(s!.stdout);
    let failed: string | null = null;
    try {
      // Every input at once: the runner holds them (the cases cannot reach it) and prepares each case
      // while the one before runs; a frame comes back per case, in order.
      s!.stdin.write(`N ${left}\n`);
      for (let k = i; k < inputs.length; k++) {
        const input = Buffer.from(inputs[k]!, 'utf8');
        s!.stdin.write(`C ${input.length} ${Math.round(lim.timeoutMs)} ${Math.floor(lim.maxOutputBytes)}\n`);
        s!.stdin.write(input);
      }
      const ready = await reader.next();
      if (ready !== '{"ready": 1}') failed = 'the case runner did not start';
      let oomBefore = oomKills();
      for (; failed === null && i < inputs.length; i++) {
        const line = await reader.next();
        if (line === null) {
          failed = 'the case runner ended';
          break;
        }
        let f: Frame;
        try {
          f = JSON.parse(line) as Frame;
        } catch {
          failed = 'unreadable frame from the case runner';
          break;
        }
        const rep = Buffer.from(f.rep, 'base64').toString('utf8');
        const r = classifyEnding({
          lang: 'python',
          limits: lim,
          cpu,
          stdout: Buffer.from(f.out, 'base64').subarray(0, lim.maxOutputBytes).toString('utf8'),
          stderr: Buffer.from(f.err, 'base64').subarray(0, lim.maxOutputBytes).toString('utf8'),
          wallMs: f.ms,
          killedFor: f.killed,
          report: rep,
          outerCode: 0,
          outerSignal: null,
          oomBefore,
          oomAfter: (oomBefore = oomKills()),
          phase: 'run',
        });
        if (/^setup /m.test(rep)) {
          // The runner could not give this case its namespaces: this machine cannot batch.
          if (broken === null) {
            broken = `case runner set-up failed: ${/^setup (.*)$/m.exec(rep)?.[1] ?? 'unknown'}`;
            process.stderr.write(`rewardkit: stdin/stdout cases run one sandbox each (${broken})\n`);
          }
          failed = broken;
          break;
        }
        out[i] = r;
        if (stop(i, r)) return out;
      }
    } finally {
      s!.stdin.end();
      s!.kill();
    }
    await s!.result;
    if (failed !== null) {
      // The cases left run one sandbox each (their verdicts then come from the proven path).
      await single();
      return out;
    }
  }
  return out;
}
