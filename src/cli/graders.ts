import type { Command } from 'commander';
import * as z from 'zod';
import { renderTable } from './table.js';
import { SpecError } from '../spec/errors.js';
import type { GraderKind } from '../graders/types.js';

/**
 * `rewardkit graders [KIND] [--spec S]`: lists grader kinds, or shows one kind's params. `extra` are
 * kinds a spec's `grader: module` components export (listed as `module:<component>`, after the
 * built-in kinds; KIND may name one by component or by its own kind name). `graderKinds`: the registry's
 * (graders/registry.ts), which the command imports when it runs.
 */
export function runGraders(
  kind: string | undefined,
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  extra: readonly { label: string; kind: GraderKind }[] = [],
  graderKinds: readonly GraderKind[],
): number {
  if (!kind) {
    out(
      renderTable(
        ['grader', 'what it scores'],
        [...graderKinds.map((k) => [k.kind, k.summary]), ...extra.map((e) => [e.label, `${e.kind.kind}: ${e.kind.summary}`])],
      ),
    );
    return 0;
  }
  const k = graderKinds.find((g) => g.kind === kind) ?? extra.find((e) => e.label === kind || e.kind.kind === kind)?.kind;
  if (!k) {
    process.stderr.write(`error: unknown grader "${kind}" (known: ${[...graderKinds.map((g) => g.kind), ...extra.map((e) => e.label)].join(', ')})\n`);
    return 1;
  }
  out(`${k.kind}: ${k.summary}\n`);
  const schema = z.toJSONSchema(z.strictObject(k.params), { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string; default?: unknown }> };
  const rows = Object.entries(schema.properties ?? {}).map(([name, p]) => [name, p.default === undefined ? '' : JSON.stringify(p.default), p.description ?? '']);
  out(rows.length ? renderTable(['param', 'default', 'meaning'], rows) : '(no params)');
  return 0;
}

export function registerGraders(program: Command): void {
  program
    .command('graders')
    .description('List the grader kinds, or show the params of one.')
    .argument('[kind]', 'a grader kind')
    .option('--spec <file>', 'also list the kinds (made with defineGrader) that this spec\'s `grader: module` components export')
    .action(async (kind: string | undefined, o: { spec?: string }) => {
      // Every grader kind: imported when the command runs, not when `rewardkit --help` lists the commands.
      const { graderKinds } = await import('../graders/registry.js');
      let extra: { label: string; kind: GraderKind }[] = [];
      if (o.spec !== undefined) {
        const [{ loadSpecFile }, { moduleKindsOf, preloadModules }] = await Promise.all([import('../spec/load.js'), import('../graders/module.js')]);
        try {
          const loaded = loadSpecFile(o.spec);
          await preloadModules(loaded.spec, loaded.dir);
          extra = moduleKindsOf(loaded.spec, loaded.dir).map((m) => ({ label: `module:${m.name}`, kind: m.kind }));
        } catch (e) {
          if (!(e instanceof SpecError)) throw e;
          process.stderr.write(`error: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
      }
      process.exitCode = runGraders(kind, undefined, extra, graderKinds);
    });
}
