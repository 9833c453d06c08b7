import type { Command } from 'commander';
import type { CompiledSpec } from '../spec/compile_core.js';
import { compileLoadedSpec, loadSpecFileAsync } from '../spec/load_async.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SpecError } from '../spec/errors.js';
import { BadLineError, readRolloutBatches } from '../rollout/batches.js';
import { InputFileError } from '../rollout/jsonl.js';
import type { Rollout } from '../rollout/types.js';
import { diagnoseInputOf, scoreBatch } from '../pipeline.js';
import { diagnoseBatch, formatReasons } from '../diagnose/index.js';
import { addBackendOptions } from './inputs.js';
import { renderTable } from './table.js';
import { nullWarningLines } from './summary.js';
import { positiveInt } from './args.js';

/** Options of `rewardkit spec check`. */
export interface SpecCheckOptions {
  /** Grade a sample of this JSONL file of rollouts with each valid spec and print its null table. */
  on?: string;
  /** How many rollouts (the first N of the file) to grade; default 200. */
  sample?: number;
}

/** The first `n` valid rollouts of a JSONL file, and how many lines were skipped as malformed. */
async function firstRollouts(path: string, n: number): Promise<{ rollouts: Rollout[]; badLines: number }> {
  const rollouts: Rollout[] = [];
  let badLines = 0;
  for await (const batch of readRolloutBatches(path, { batchSize: n, onBadLine: () => badLines++ })) {
    for (const r of batch.rollouts) if (rollouts.length < n) rollouts.push(r);
    if (rollouts.length >= n) break;
  }
  return { rollouts, badLines };
}

const pct = (a: number, n: number) => (n > 0 ? `${((a / n) * 100).toFixed(1)}%` : '-');

/**
 * Grades `rollouts` with a compiled spec and renders, per component, its null and error rates and
 * commonest reasons, the null-reward rate, and a `warning:` line per component null on more than the
 * spec's `diagnostics.warn_null_rate` (default 20%).
 */
export async function nullTable(c: CompiledSpec, rollouts: Rollout[]): Promise<{ text: string; warnings: number }> {
  const { columns } = await scoreBatch(c, rollouts);
  const d = diagnoseBatch(diagnoseInputOf(columns, c.names), c.spec.diagnostics);
  const n = d.rollouts;
  const rows = d.components.map((k) => [k.name, pct(Math.max(k.nulls, k.errors), n), pct(k.errors, n), k.null_reasons.length > 0 ? formatReasons(k.null_reasons.slice(0, 3)) : '-']);
  rows.push(['reward', pct(d.null_rewards, n), '-', d.null_rewards > 0 ? 'advantage 0 for these rollouts' : '-']);
  const lines = [renderTable(['component', 'null %', 'error %', 'top reasons'], rows), ...nullWarningLines(d)];
  return { text: lines.join('\n'), warnings: d.warnings.length };
}

/**
 * `rewardkit spec check FILE… [--on ROLLOUTS.jsonl [--sample N]]`: validates specs (schema and
 * params, including regexes, gates and formulas, by building them) and checks that the model files of
 * `gguf` backends exist. Prints one line per spec: its rollout components, step components, combiner,
 * estimator, shapers, credit and backends.
 *
 * With `--on`, each valid spec also grades the first N rollouts of the file (default 200) and prints a
 * table — component, null %, error %, top reasons with counts — and a `warning:` line for each
 * component null (or failing) on more than `diagnostics.warn_null_rate` (default 20%): the check to
 * run before a long training run, catching a spec that cannot read the data's answers.
 *
 * Exit 0 when all specs are valid — also when null-rate warnings were printed (they are findings
 * about the data, printed on stdout, not errors in the spec); 1 when a spec is invalid or the
 * rollouts file cannot be read.
 */
export async function runSpecCheck(
  files: string[],
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  opts: SpecCheckOptions = {},
): Promise<number> {
  let failed = 0;
  let sample: { rollouts: Rollout[]; badLines: number } | null = null;
  if (opts.on !== undefined) {
    try {
      sample = await firstRollouts(opts.on, opts.sample ?? 200);
    } catch (e) {
      if (!(e instanceof InputFileError || e instanceof BadLineError)) throw e;
      err(`error: ${e.message}`);
      return 1;
    }
    if (sample.rollouts.length === 0) {
      err(`error: ${opts.on}: no valid rollout to grade${sample.badLines > 0 ? ` (${sample.badLines} malformed lines)` : ''}`);
      return 1;
    }
  }
  for (const f of files) {
    let c: CompiledSpec;
    try {
      const loaded = await loadSpecFileAsync(f);
      const missing = Object.entries(loaded.spec.backends ?? {}).flatMap(([name, b]) =>
        b.type === 'gguf' && !existsSync(resolve(loaded.dir, b.path)) ? [{ path: `backends.${name}.path`, message: `no model file at ${resolve(loaded.dir, b.path)}` }] : [],
      );
      try {
        c = await compileLoadedSpec(loaded, f);
      } catch (e) {
        if (e instanceof SpecError) throw new SpecError(f, [...missing, ...e.issues]);
        throw e;
      }
      if (missing.length > 0) {
        await c.close();
        throw new SpecError(f, missing);
      }
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      failed++;
      err(`error: ${e.message}`);
      continue;
    }
    const s = c.spec;
    const extras = [
      c.steps ? `step components (${c.steps.names.join(', ')})` : null,
      s.combine ? `combine ${s.combine.type}` : 'combine weighted_sum',
      c.estimator ? `advantage ${s.advantage!.estimator}` : null,
      c.shapers ? `${s.shape!.length} shapers` : null,
      s.credit ? `credit ${s.credit.method}` : null,
      s.backends ? `backends ${Object.entries(s.backends).map(([n, b]) => `${n} (${b.type})`).join(', ')}` : null,
    ].filter(Boolean);
    out(`ok: ${f} — spec "${s.name}", ${c.names.length} components (${c.names.join(', ')}), ${extras.join(', ')}`);
    if (sample) {
      try {
        const bad = sample.badLines > 0 ? ` (${sample.badLines} malformed lines skipped)` : '';
        out(`graded the first ${sample.rollouts.length} rollouts of ${opts.on}${bad}:`);
        out((await nullTable(c, sample.rollouts)).text);
      } finally {
        await c.close();
      }
      continue;
    }
    await c.close();
  }
  return failed > 0 ? 1 : 0;
}

/** Registers `rewardkit spec check`, `spec import`, `spec draft` and `spec schema`. */
export function registerSpec(program: Command): void {
  const spec = program.command('spec').description('Check spec files or print the spec JSON Schema.');
  spec
    .command('check')
    .description(
      'Validate one or more spec files; with --on, grade a sample of rollouts and print each component\'s null %, error % and top reasons, warning about components null on more than diagnostics.warn_null_rate (default 20%). Exit 0 if all specs are valid (warnings included), 1 if not.',
    )
    .argument('<files...>', 'spec files (.yaml, .yml, .json)')
    .option('--on <rollouts>', 'JSONL file of rollouts to grade a sample of with each spec')
    .option('--sample <n>', 'how many rollouts (the first N of the file) to grade', positiveInt, 200)
    .action(async (files: string[], o: { on?: string; sample: number }) => {
      process.exitCode = await runSpecCheck(files, undefined, undefined, { on: o.on, sample: o.sample });
    });
  spec
    .command('import')
    .description('Convert an OpenAI grader definition (string_check, python, multi with calculate_output) into a rewardkit spec; what cannot be converted is an error naming the grader and the field.')
    .argument('<file>', 'the grader JSON ({"type": …} or {"grader": {…}})')
    .option('--out <spec>', 'write the spec here (default: print it)')
    .action(async (file: string, o: { out?: string }) => {
      const { runSpecImport } = await import('./import.js');
      process.exitCode = runSpecImport(file, { out: o.out });
    });
  const draft = spec
    .command('draft')
    .description(
      'Language to Rewards: ask a model (--backend) to write a spec for a task; the draft must compile, use rule-based graders only, survive `probe`, and score right answers above wrong ones on sample rollouts before it is accepted (a rejected draft is sent back with the reason). Exit 0 accepted, 1 rejected or backend failure, 2 usage. Guide: docs/spec-draft.md',
    )
    .argument('<task>', 'the task, in words (e.g. "grade answers to grade-school math word problems")');
  addBackendOptions(draft, 'the model that writes the spec', true)
    .option('--in <rollouts>', 'sample rollouts (.jsonl) with prompt and reference (and ideally a right completion); default: built-in math, fact and multiple-choice samples')
    .option('--out <spec>', 'write the accepted spec here (default: print it)')
    .option('--attempts <n>', 'drafts asked for at most (the first plus corrections)', positiveInt, 3)
    .option('--json', 'print {"accepted", "attempts": [{"attempt", "stage", "error"?}], "spec"?}')
    .action(async (task: string, o: { backend: string; model?: string; apiKeyEnv?: string; in?: string; out?: string; attempts: number; json?: boolean }) => {
      const { runSpecDraft } = await import('./draft.js');
      process.exitCode = await runSpecDraft(task, o);
    });
  spec
    .command('schema')
    .description('Print the JSON Schema of spec files (for editor completion, e.g. yaml-language-server). With --spec, the params of the defineGrader kinds its module components export are in it too.')
    .option('--spec <file>', 'a spec whose `grader: module` kinds (made with defineGrader) add their params to the schema')
    .action(async (o: { spec?: string }) => {
      // The schema of every grader kind: imported here only (`spec check` loads the kinds a spec names).
      const [{ specJsonSchema }, { loadSpecFile }, { moduleKindsOf, preloadModules, withModuleKinds }] = await Promise.all([
        import('../spec/schema.js'),
        import('../spec/load.js'),
        import('../graders/module.js'),
      ]);
      let schema = specJsonSchema();
      if (o.spec !== undefined) {
        try {
          const loaded = loadSpecFile(o.spec);
          await preloadModules(loaded.spec, loaded.dir);
          schema = withModuleKinds(schema, moduleKindsOf(loaded.spec, loaded.dir));
        } catch (e) {
          if (!(e instanceof SpecError)) throw e;
          process.stderr.write(`error: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
      }
      process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
    });
}

