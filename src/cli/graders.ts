import type { Command } from 'commander';
import { z } from 'zod';
import { graderKinds } from '../graders/registry.js';
import { renderTable } from './table.js';

/** `rewardkit graders [KIND]`: lists grader kinds, or shows one kind's params. */
export function runGraders(kind: string | undefined, out: (s: string) => void = (s) => process.stdout.write(s + '\n')): number {
  if (!kind) {
    out(renderTable(['grader', 'what it scores'], graderKinds.map((k) => [k.kind, k.summary])));
    return 0;
  }
  const k = graderKinds.find((g) => g.kind === kind);
  if (!k) {
    process.stderr.write(`error: unknown grader "${kind}" (known: ${graderKinds.map((g) => g.kind).join(', ')})\n`);
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
    .action((kind?: string) => {
      process.exitCode = runGraders(kind);
    });
}
