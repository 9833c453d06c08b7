import { InvalidArgumentError, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
/**
 * The experiments (their environments and learners, and the library they score with), imported when a
 * `lab` command runs, not when `rewardkit --help` lists the commands (start-up time).
 */
const registry = () => import('../lab/registry.js');
import { renderLabReport } from '../lab/report.js';
import type { Experiment, ExperimentResult } from '../lab/types.js';
import { addBackendOptions, openChatBackend, UsageError, type BackendOptions } from './inputs.js';
import { num, renderTable } from './table.js';

/** Options of {@link runLab} (the flags of `lab run`). */
export interface LabRunOptions extends Partial<BackendOptions> {
  seeds?: number;
  seed0?: number;
  variant?: string;
  json?: boolean;
  report?: string;
}

/** The human summary of one result: a line, then the claims table. */
export function renderLabResult(r: ExperimentResult): string {
  const lines = [`${r.experiment}${r.variant ? ` (variant ${r.variant})` : ''}: ${r.claims.filter((c) => c.holds).length}/${r.claims.length} claims hold · ${r.seeds} seeds · ${(r.wallMs / 1000).toFixed(2)} s · ${Math.round(r.envSteps / Math.max(1e-9, r.wallMs / 1000)).toLocaleString('en-US')} env steps/s`];
  lines.push(
    renderTable(
      ['holds', 'claim', 'statistic', `CI`],
      r.claims.map((c) => [c.holds ? 'yes' : 'NO', c.claim, num(c.statistic), `[${num(c.ci[0])}, ${num(c.ci[1])}]`]),
    ),
  );
  return lines.join('\n');
}

/**
 * `rewardkit lab run NAME|all`: runs the experiment(s), prints each result (a table, or with `json`
 * one JSON object per line: the full {@link ExperimentResult}), writes the HTML report, and returns
 * the exit code: 0 when every claim holds, 1 when one does not or an experiment fails (e.g. its judge
 * backend), 2 for a usage error. With `backend` (`--backend URL|FILE [--model M] [--api-key-env VAR]`,
 * as `spec draft` takes it), the experiments that take a judge ({@link Experiment.judge}) get it.
 */
export async function runLab(name: string, o: LabRunOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const { experimentByName, experiments } = await registry();
  let chosen: Experiment[];
  try {
    chosen = name === 'all' ? [...experiments] : [experimentByName(name)];
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (o.variant !== undefined) {
    if (name === 'all') {
      err('error: --variant needs one experiment (variants differ per experiment; see `rewardkit lab list`)');
      return 2;
    }
    if (!Object.hasOwn(chosen[0].variants, o.variant)) {
      err(`error: --variant: unknown variant "${o.variant}" of ${name}; known: ${Object.keys(chosen[0].variants).join(', ') || '(none)'}`);
      return 2;
    }
  }
  let judge: ReturnType<typeof openChatBackend> | undefined;
  try {
    if (o.backend === undefined) {
      if (o.model !== undefined || o.apiKeyEnv !== undefined) throw new UsageError('--model and --api-key-env go with --backend');
    } else {
      if (!chosen.some((e) => e.judge !== undefined)) {
        throw new UsageError(`--backend: ${name} takes no judge; experiments that do: ${experiments.filter((e) => e.judge !== undefined).map((e) => e.name).join(', ')}`);
      }
      judge = openChatBackend({ backend: o.backend, model: o.model, apiKeyEnv: o.apiKeyEnv }, 'judge');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}`);
    return 2;
  }
  const results: ExperimentResult[] = [];
  try {
    for (const e of chosen) {
      const withJudge = judge !== undefined && e.judge !== undefined;
      let r: ExperimentResult;
      try {
        r = await e.run({ seeds: o.seeds ?? e.defaultSeeds, seed0: o.seed0, variant: o.variant, ...(withJudge ? { judge: judge!.backend } : {}) });
      } catch (x) {
        err(`error: ${e.name}${withJudge ? ` (judge backend ${o.backend})` : ''}: ${x instanceof Error ? x.message : String(x)}`);
        return 1;
      }
      results.push(r);
      out(o.json ? JSON.stringify(r) : renderLabResult(r) + (chosen.length > 1 ? '\n' : ''));
    }
  } finally {
    await judge?.close();
  }
  if (o.report !== undefined) writeFileSync(o.report, renderLabReport(results));
  return results.every((r) => r.claims.every((c) => c.holds)) ? 0 : 1;
}

/** The `lab list --json` value: one object per experiment. */
export async function labListJson(): Promise<{ name: string; title: string; paper: string; defaultSeeds: number; variants: Record<string, string>; judge?: string }[]> {
  const { experiments } = await registry();
  return experiments.map((e) => ({ name: e.name, title: e.title, paper: e.paper, defaultSeeds: e.defaultSeeds, variants: e.variants, ...(e.judge !== undefined ? { judge: e.judge } : {}) }));
}

/** The `lab list` text: one experiment a line with its paper and variants. */
export async function renderLabList(): Promise<string> {
  const { experiments } = await registry();
  return renderTable(
    ['experiment', 'seeds', 'variants', 'title'],
    experiments.map((e) => [e.name, String(e.defaultSeeds), Object.keys(e.variants).join(', '), e.title + (e.judge !== undefined ? ' (--backend: a judge adds claims)' : '')]),
  );
}

function intArg(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

/** Registers `rewardkit lab`. */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('The reward-design lab: seeded toy environments and learners that check papers\' claims over seeds (GDPO vs GRPO, PAR, G-RA, SpeakRL …). Guide: docs/lab.md');
  lab
    .command('list')
    .description('List the experiments, their default seeds and their broken variants.')
    .option('--json', 'print [{name, title, paper, defaultSeeds, variants, judge?}] (judge: what a --backend judge adds)')
    .action(async (opts: { json?: boolean }) => {
      if (opts.json) process.stdout.write(JSON.stringify(await labListJson()) + '\n');
      else process.stdout.write((await renderLabList()) + '\n');
    });
  const run = lab
    .command('run')
    .description('Run an experiment (or `all`) and check its claims. Exit 0 when every claim holds, 1 when one does not, 2 for usage errors.')
    .argument('<name>', 'experiment name (see `lab list`) or `all`')
    .option('--seeds <n>', 'number of seeds (replicates; default: the experiment\'s, ≥ 10)', intArg(2))
    .option('--seed0 <n>', 'first seed (replicate i uses seed0 + i; default 1)', intArg(-2147483648))
    .option('--variant <name>', 'run a deliberately broken variant (the mechanism removed), whose claims should fail')
    .option('--json', 'print each result as one JSON object per line: {"experiment", "paper", "seeds", "variant"?, "claims": [{"claim", "statistic", "ci", "level", "holds", "statisticName"}], "curves", "envSteps", "wallMs"}')
    .option('--report <file>', 'write an HTML report (claims and learning curves with bands)');
  addBackendOptions(run, 'a judge for the experiments that take one (intrinsic-oni: its ONI claim)', false)
    .action(async (name: string, opts: LabRunOptions) => {
      process.exitCode = await runLab(name, opts);
    });
}
