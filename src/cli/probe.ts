import type { Command } from 'commander';
import type { CompiledSpec } from '../spec/compile_core.js';
import { compileSpecFileAsync } from '../spec/load_async.js';
import { SpecError } from '../spec/errors.js';
import { InputFileError } from '../rollout/jsonl.js';
import type { Rollout } from '../rollout/types.js';
import { BUILTIN_SAMPLES, componentsNeedingSamples, probedComponents, probeSpec, type ProbeReport } from '../probe/index.js';
import { readSampleRollouts, UsageError } from './inputs.js';
import { num, renderTable } from './table.js';
import { positiveInt } from './args.js';

export interface ProbeCommandOptions {
  spec: string;
  in?: string;
  json?: boolean;
  maxRollouts: number;
  hugeChars: number;
}

/** One line of a table cell: newlines shown as ⏎, at most `max` characters. */
function cell(s: string, max = 60): string {
  const flat = s.replace(/\r?\n/g, '⏎').replace(/\t/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The human report: a table of findings (or a clean bill), then the samples and notes. */
export function renderProbeReport(spec: string, report: ProbeReport): string {
  const lines: string[] = [];
  const ns = report.samples.length;
  if (report.findings.length === 0) lines.push(`probe "${spec}": nothing beat a plain wrong answer (${report.tried} attempts on ${ns} samples)`);
  else {
    lines.push(`probe "${spec}": ${report.findings.length} strategies beat a plain wrong answer (${report.tried} attempts on ${ns} samples)`);
    lines.push('');
    lines.push(
      renderTable(
        ['component', 'strategy', 'reward', 'baseline', 'gain', 'samples', 'attempts', 'example'],
        report.findings.map((f) => [f.component, f.strategy, num(f.reward), num(f.baseline), num(f.gain), `${f.wins}/${f.samples}`, `${f.attemptsWon}/${f.attempts}`, cell(f.example)]),
      ),
    );
  }
  lines.push('');
  lines.push(`baselines: ${report.samples.map((s) => `${s.id} ${s.baseline === null ? 'null' : num(s.baseline)}${s.right !== null ? ` (right ${num(s.right)})` : ''}`).join(', ')}`);
  const extra: string[] = [];
  if (report.nullRewards > 0) extra.push(`${report.nullRewards} attempts got a null reward (not compared)`);
  if (report.graderErrors > 0) extra.push(`${report.graderErrors} attempts had grader errors`);
  if (extra.length > 0) lines.push(`note: ${extra.join('; ')}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/**
 * `rewardkit probe`: the reward-hacking suite. Loads the spec, reads sample rollouts (or uses the
 * built-in samples when every component can be probed with them), runs {@link probeSpec} and prints
 * the findings. Exit 0 when nothing beats a plain wrong answer, 1 when something does, 2 for usage,
 * input or spec errors.
 */
export async function runProbe(o: ProbeCommandOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let compiled: CompiledSpec;
  try {
    compiled = await compileSpecFileAsync(o.spec);
  } catch (e) {
    if (e instanceof SpecError) {
      err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  try {
    let samples: Rollout[];
    if (o.in !== undefined) samples = await readSampleRollouts(o.in);
    else {
      const need = componentsNeedingSamples(probedComponents(compiled.spec));
      if (need.length > 0) {
        err(
          `error: ${need.map((c) => `component "${c.name}" (grader ${c.grader})`).join(', ')} needs references from your data (tests, databases, calls …): pass sample rollouts with --in FILE.jsonl`,
        );
        return 2;
      }
      samples = [...BUILTIN_SAMPLES];
    }
    const report = await probeSpec(compiled, samples, { maxRollouts: o.maxRollouts, hugeChars: o.hugeChars });
    if (o.json) {
      const findings = report.findings.map((f) => ({
        component: f.component,
        strategy: f.strategy,
        reward: f.reward,
        baseline: f.baseline,
        example: f.example,
        gain: f.gain,
        sample: f.sample,
        wins: f.wins,
        samples: f.samples,
        attempts_won: f.attemptsWon,
        attempts: f.attempts,
      }));
      out(JSON.stringify({ findings, tried: report.tried }));
    } else out(renderProbeReport(compiled.spec.name, report));
    return report.findings.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputFileError) {
      err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    await compiled.close();
  }
}

/** Registers `rewardkit probe`. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description(
      'Try known reward hacks (empty and format-only answers, answer spraying, prompt echoes, huge outputs, unicode tricks, exit-code tricks for code, ' +
        'non-SELECT SQL, judge prompt injection, space-free overlong text) against a spec; report each that beats a plain wrong answer. ' +
        'Exit 0 when none does, 1 when some do, 2 for usage or spec errors. Guide: docs/probe.md',
    )
    .requiredOption('-s, --spec <file>', 'reward spec (.yaml, .yml or .json)')
    .option('-i, --in <file>', 'sample rollouts (.jsonl): a prompt and a reference each, ideally a right completion; without it, built-in samples (math, fact, multiple choice) are used when the spec needs no task data')
    .option('--json', 'print {"findings": [{component, strategy, reward, baseline, example, gain, sample, wins, samples, attempts_won, attempts}], "tried": N}')
    .option('--max-rollouts <n>', 'distinct samples (prompt + reference) probed at most', positiveInt, 8)
    .option('--huge-chars <n>', 'size of the huge-output attempts, in characters', positiveInt, 1_000_000)
    .action(async (opts: ProbeCommandOptions) => {
      process.exitCode = await runProbe(opts);
    });
}
