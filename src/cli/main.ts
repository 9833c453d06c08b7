import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

type Register = (program: Command) => void;

/**
 * The commands, in help order, each loaded from its file only when needed: `rewardkit score …` loads
 * the score command alone, not the evaluation suite or the server (start-up time).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  score: async () => (await import('./score.js')).registerScore,
  spec: async () => (await import('./spec.js')).registerSpec,
  advantages: async () => (await import('./advantages.js')).registerAdvantages,
  graders: async () => (await import('./graders.js')).registerGraders,
  eval: async () => (await import('./eval.js')).registerEval,
  rm: async () => (await import('./rm.js')).registerRm,
  serve: async () => (await import('./serve.js')).registerServe,
  probe: async () => (await import('./probe.js')).registerProbe,
  worker: async () => (await import('./worker.js')).registerWorker,
  lab: async () => (await import('./lab.js')).registerLab,
};

/**
 * Builds the `rewardkit` command tree (one file per command under src/cli/). With `only` (a command
 * name), registers that command alone — enough to run it or show its help; otherwise every command.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('rewardkit')
    .description('A reward engine for RL post-training: declare a reward spec, grade rollouts, combine, shape, normalise, diagnose.')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((n) => COMMANDS[n]!()));
  for (const register of registers) register(program);
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
  // `--version` needs no command: answered before any is loaded (what commander prints for it).
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const program = await buildProgram(argv[2]);
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
