import type { Command } from 'commander';
import { loadSpecFile } from '../spec/load.js';
import { compileSpec, type CompiledSpec } from '../spec/compile.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SpecError } from '../spec/errors.js';
import { specJsonSchema } from '../spec/schema.js';

/**
 * `rewardkit spec check FILE…`: validates specs (schema and params, including regexes, gates and
 * formulas, by building them) and checks that the model files of `gguf` backends exist. Prints one
 * line per spec: its rollout components, step components, combiner, estimator, shapers, credit and
 * backends. Exit 0 when all are valid, 1 otherwise.
 */
export async function runSpecCheck(files: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let failed = 0;
  for (const f of files) {
    let c: CompiledSpec;
    try {
      const loaded = loadSpecFile(f);
      const missing = Object.entries(loaded.spec.backends ?? {}).flatMap(([name, b]) =>
        b.type === 'gguf' && !existsSync(resolve(loaded.dir, b.path)) ? [{ path: `backends.${name}.path`, message: `no model file at ${resolve(loaded.dir, b.path)}` }] : [],
      );
      try {
        c = compileSpec(loaded.spec, { source: f, specDir: loaded.dir });
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
    await c.close();
  }
  return failed > 0 ? 1 : 0;
}

/** Registers `rewardkit spec check` and `rewardkit spec schema`. */
export function registerSpec(program: Command): void {
  const spec = program.command('spec').description('Check spec files or print the spec JSON Schema.');
  spec
    .command('check')
    .description('Validate one or more spec files; exit 0 if all are valid, 1 if not.')
    .argument('<files...>', 'spec files (.yaml, .yml, .json)')
    .action(async (files: string[]) => {
      process.exitCode = await runSpecCheck(files);
    });
  spec
    .command('schema')
    .description('Print the JSON Schema of spec files (for editor completion, e.g. yaml-language-server).')
    .action(() => {
      process.stdout.write(JSON.stringify(specJsonSchema(), null, 2) + '\n');
    });
}
