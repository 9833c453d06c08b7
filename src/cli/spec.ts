import type { Command } from 'commander';
import { loadSpecFile } from '../spec/load.js';
import { compileSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { specJsonSchema } from '../spec/schema.js';

/**
 * `rewardkit spec check FILE…`: validates specs (schema and params, including regexes, gates and
 * formulas, by building them). Exit 0 when all are valid, 1 otherwise.
 */
export function runSpecCheck(files: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  let failed = 0;
  for (const f of files) {
    try {
      const loaded = loadSpecFile(f);
      const c = compileSpec(loaded.spec, { source: f, specDir: loaded.dir });
      const extras = [c.spec.combine ? `combine ${c.spec.combine.type}` : 'combine weighted_sum', c.estimator ? `advantage ${c.spec.advantage!.estimator}` : null, c.shapers ? `${c.spec.shape!.length} shapers` : null].filter(Boolean);
      out(`ok: ${f} — spec "${c.spec.name}", ${c.names.length} components (${c.names.join(', ')}), ${extras.join(', ')}`);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      failed++;
      err(`error: ${e.message}`);
    }
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
    .action((files: string[]) => {
      process.exitCode = runSpecCheck(files);
    });
  spec
    .command('schema')
    .description('Print the JSON Schema of spec files (for editor completion, e.g. yaml-language-server).')
    .action(() => {
      process.stdout.write(JSON.stringify(specJsonSchema(), null, 2) + '\n');
    });
}
