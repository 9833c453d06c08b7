import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { registerScore } from './score.js';
import { registerSpec } from './spec.js';
import { registerGraders } from './graders.js';
import { registerAdvantages } from './advantages.js';
import { registerServe } from './serve.js';
import { registerEval } from './eval.js';
import { registerProbe } from './probe.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Builds the `rewardkit` command tree (one file per command under src/cli/). */
export function buildProgram(): Command {
  const program = new Command('rewardkit')
    .description('A reward engine for RL post-training: declare a reward spec, grade rollouts, combine, shape, normalise, diagnose.')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  registerScore(program);
  registerSpec(program);
  registerAdvantages(program);
  registerGraders(program);
  registerEval(program);
  registerServe(program);
  registerProbe(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 invalid spec or input, 2 usage error.
 * Unexpected errors print one line (the stack only with REWARDKIT_DEBUG=1) and exit 70.
 */
export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const program = buildProgram();
  try {
    process.exitCode = 0;
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.REWARDKIT_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 70;
  }
}
