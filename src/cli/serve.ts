import { InvalidArgumentError, type Command } from 'commander';
import type { RewardServer } from '../server/app.js';
import { ServerConfigError, type ServerOptions } from '../server/options.js';
import { positiveInt } from './args.js';

/** Flags of `rewardkit serve`, as commander parses them. */
export interface ServeCommandOptions {
  spec: string[];
  host: string;
  port: number;
  token?: string;
  insecure?: boolean;
  defaultSpec?: string;
  route: Record<string, string>;
  scoring: 'inline' | 'pool' | 'auto';
  workers?: number;
  bodyLimit?: number;
  maxRollouts: number;
  maxInflight: number;
  maxInflightRollouts?: number;
  queueMemory?: number;
  queueTimeout: number;
  sandboxQueueTimeout: number;
  deadline: number;
  maxJsonDepth: number;
  scoreComponent?: string;
  nullReward: number;
  eos?: string[];
  logLevel: string;
  logCompletions?: boolean;
  shutdownTimeout: number;
  python?: string;
  sandboxConcurrency?: number;
  state?: string;
  stateTimeout?: number;
  queue?: string;
  queueWork?: string[];
  queueWait?: number;
  replicaName?: string;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${v}"`);
  return n;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port in [0, 65535], got "${v}"`);
  return n;
}

function finite(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function route(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const at = v.lastIndexOf('=');
  if (at <= 0 || at === v.length - 1) throw new InvalidArgumentError(`expected SOURCE=SPEC, got "${v}"`);
  return { ...prev, [v.slice(0, at)]: v.slice(at + 1) };
}

/** Maps the command's flags onto {@link ServerOptions}. */
export function serveOptions(o: ServeCommandOptions): ServerOptions {
  return {
    specs: o.spec,
    host: o.host,
    port: o.port,
    token: o.token,
    insecure: o.insecure,
    defaultSpec: o.defaultSpec,
    routes: o.route,
    scoring: o.scoring,
    workers: o.workers,
    bodyLimit: o.bodyLimit === undefined ? undefined : Math.round(o.bodyLimit * 1024 * 1024),
    maxRollouts: o.maxRollouts,
    maxInflightRequests: o.maxInflight,
    maxInflightRollouts: o.maxInflightRollouts,
    queueBytes: o.queueMemory === undefined ? undefined : Math.round(o.queueMemory * 1024 * 1024),
    queueTimeoutMs: Math.round(o.queueTimeout * 1000),
    sandboxQueueTimeoutMs: Math.round(o.sandboxQueueTimeout * 1000),
    deadlineMs: Math.round(o.deadline * 1000),
    maxJsonDepth: o.maxJsonDepth,
    logLevel: o.logLevel,
    logCompletions: o.logCompletions,
    openrlhf: { scoreComponent: o.scoreComponent, nullReward: o.nullReward, ...(o.eos ? { stripSuffixes: o.eos } : {}) },
    state: o.state,
    queue: o.queue,
    queueWork: o.queueWork as ServerOptions['queueWork'],
    queueWaitMs: o.queueWait === undefined ? undefined : Math.round(o.queueWait * 1000),
    stateTimeoutMs: o.stateTimeout === undefined ? undefined : Math.round(o.stateTimeout * 1000),
    replicaName: o.replicaName,
  };
}

/**
 * Applies `--python` and `--sandbox-concurrency` to the code sandbox of this process, and (through the
 * environment, read when a worker thread loads the sandbox) to the scoring worker threads started later.
 * Throws {@link ServerConfigError} for a relative or missing interpreter.
 */
export async function configureServeSandbox(o: ServeCommandOptions): Promise<void> {
  if (o.python === undefined && o.sandboxConcurrency === undefined) return;
  const { configureSandbox, toolchainAvailable } = await import('../graders/code/sandbox.js');
  if (o.python !== undefined) {
    if (!o.python.startsWith('/')) throw new ServerConfigError(`--python must be an absolute path, got ${o.python}`);
    configureSandbox({ python: o.python });
    const ok = toolchainAvailable('python');
    if (!ok.ok) throw new ServerConfigError(`--python: ${ok.reason}`);
    process.env.REWARDKIT_SANDBOX_PYTHON = o.python;
  }
  if (o.sandboxConcurrency !== undefined) {
    configureSandbox({ concurrency: o.sandboxConcurrency });
    process.env.REWARDKIT_SANDBOX_CONCURRENCY = String(o.sandboxConcurrency);
  }
}

/**
 * Runs the server until SIGTERM or SIGINT, then drains: in-flight requests finish (up to
 * `--shutdown-timeout` seconds), new ones get 503. Returns the exit code: 0 after a clean drain,
 * 1 when the drain timed out, 2 for a refused configuration (bad spec, non-loopback bind without
 * a token …).
 */
export async function runServe(o: ServeCommandOptions, log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let server: RewardServer;
  let url: string;
  try {
    await configureServeSandbox(o);
    // fastify, pino and prom-client (~45 MB) load only for `serve`, not for every command.
    const { createServer } = await import('../server/app.js');
    server = await createServer(serveOptions(o));
  } catch (e) {
    if (e instanceof ServerConfigError) {
      log(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  try {
    url = await server.listen();
  } catch (e) {
    await server.close().catch(() => {});
    log(`error: cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
    return 1;
  }
  if (o.token !== undefined) log('note: a token given with --token is visible in the process list; prefer the REWARDKIT_TOKEN environment variable');
  const names = server.specs.names();
  log(`rewardkit serving ${names.length} spec${names.length === 1 ? '' : 's'} (${names.join(', ')}) on ${url} — scoring: ${server.engine.mode}${server.options.token ? ', token required' : ''}`);
  if (server.options.state !== undefined) {
    const { redactRedisUrl } = await import('../backends/redis_url.js');
    log(`cross-batch state in Redis at ${redactRedisUrl(server.options.state)} as replica ${server.options.replicaName}`);
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`${signal} received: draining in-flight requests (new requests get 503)`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), o.shutdownTimeout * 1000);
    timer.unref();
  });
  const drained = await Promise.race([server.close().then(() => false), timedOut]);
  clearTimeout(timer);
  if (drained) {
    log(`shutdown timeout (${o.shutdownTimeout} s) passed with requests still in flight; exiting`);
    return 1;
  }
  log('stopped');
  return 0;
}

/** Registers `rewardkit serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve reward specs over HTTP: native API (/v1/score), OpenRLHF (/get_reward), Sandbox Fusion for verl (/run_code), /v1/specs, /healthz, /metrics, /openapi.json, /docs.')
    .option('-s, --spec <file|dir>', 'reward spec file, or a folder of them (repeatable)', collect, [])
    .option('--host <address>', 'address to bind (a non-loopback address needs --token or --insecure)', '127.0.0.1')
    .option('-p, --port <n>', 'port (0: any free port)', port, 8000)
    .option('--token <token>', 'require "Authorization: Bearer <token>" on every route but /healthz (default: $REWARDKIT_TOKEN)')
    .option('--insecure', 'allow a non-loopback bind without a token')
    .option('--default-spec <name>', 'spec for requests that name none (default: the only spec, when one is served)')
    .option('--route <source=spec>', 'send rollouts whose meta.data_source is SOURCE to spec SPEC (repeatable)', route, {})
    .option('--scoring <mode>', 'inline (graders on the event loop), pool (graders in worker threads) or auto (the pool for batches whose measured grading CPU time would stall the event loop)', (v) => {
      if (v !== 'inline' && v !== 'pool' && v !== 'auto') throw new InvalidArgumentError('expected "inline", "pool" or "auto"');
      return v;
    }, 'auto')
    .option('--workers <n>', 'worker threads with --scoring pool or auto (default: the number of CPUs; auto on one CPU scores inline)', positiveInt)
    .option('--body-limit <MiB>', 'largest request body, MiB (413 beyond; default min(480, --queue-memory): a 20,000-query OpenRLHF batch of 18,000-char queries is ~400 MB)', positiveNumber)
    .option('--max-rollouts <n>', 'scoring chunk: larger requests are graded in chunks of at most N rollouts (groups kept whole) and combined as one batch; not a limit', positiveInt, 8192)
    .option('--max-inflight <n>', '/v1/score and /get_reward requests scored at once; the rest wait in a FIFO queue (not rejected)', positiveInt, 64)
    .option('--max-inflight-rollouts <n>', 'queue capacity in rollouts (queued + being scored, all trainer routes); beyond it 503 (/run_code 504) with Retry-After (default: --queue-memory / 2 KiB, at least 32,768)', positiveInt)
    .option('--queue-memory <MiB>', 'queue capacity in request-body bytes held; beyond it 503 (/run_code 504) with Retry-After, before the body is read (default: min(RAM / 8, V8 heap limit / 4))', positiveNumber)
    .option('--queue-timeout <seconds>', 'longest wait in the queue for /v1/score and /get_reward; then 503 with Retry-After', positiveNumber, 120)
    .option('--sandbox-queue-timeout <seconds>', '/run_code: longest wait in the queue (also at most compile_timeout + 8 s, so verl\'s client still gets the answer); then 504, which verl retries', positiveNumber, 60)
    .option('--deadline <seconds>', 'per-request scoring deadline once scoring starts (503 past it)', positiveNumber, 60)
    .option('--max-json-depth <n>', 'deepest JSON nesting accepted (400 beyond)', positiveInt, 64)
    .option('--score-component <name>', "/get_reward: component whose value (clamped to [0,1]) is OpenRLHF's `scores` (default: the reward, clamped)")
    .option('--null-reward <x>', '/get_reward: reward sent for a null reward when no rollout of its group is judged (otherwise the group\'s mean judged reward is sent: advantage 0)', finite, 0)
    .option('--eos <marker>', '/get_reward: end-of-sequence marker stripped from responses (repeatable; replaces the built-in list)', collect)
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug', 'info')
    .option('--log-completions', 'also log completion text (off by default)')
    .option('--python <path>', "Python interpreter of the code sandbox, e.g. a venv's bin/python with the packages a dataset's tests import (its venv and base install are mounted read-only)")
    .option('--sandbox-concurrency <n>', 'sandboxed programs running at once, per scoring thread (default: the number of CPUs)', positiveInt)
    .option('--state <redis-url>', 'keep cross-batch state (running statistics of meanstd/clip/minmax, LaRe, ProRL centring) in Redis at redis://HOST:PORT/DB, updated atomically per batch, so replicas give the rewards of one process (specs with state get 503 while Redis is unreachable; the others are served)')
    .option('--queue <redis-url>', 'send sandboxed programs (code grader test runs, /run_code) and model-backend calls (judges, reward models, embeddings, log-probs; the response cache, limits, retries and deadline stay here) to `rewardkit worker --queue` processes on other machines, through Redis at redis://HOST:PORT/DB (BullMQ), so capacity grows with machines')
    .option('--queue-work <kinds>', 'what --queue sends to workers, comma-separated: sandbox, backends (default: both)', (v) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .option('--queue-wait <seconds>', 'longest wait of a --queue job for a free worker (on top of a program\'s limits, or of a backend\'s timeout_ms for one attempt of a model call)', positiveNumber, 60)
    .option('--state-timeout <seconds>', 'longest wait for one Redis command or connection of --state', positiveNumber, 2)
    .option('--replica-name <name>', 'name of this replica: a `replica` label on every metric (default with --state: HOSTNAME-PID)')
    .option('--shutdown-timeout <seconds>', 'longest wait for in-flight requests on SIGTERM', positiveNumber, 30)
    .action(async (opts: ServeCommandOptions) => {
      if (opts.spec.length === 0) {
        process.stderr.write('error: at least one --spec <file|dir> is required\n');
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runServe(opts);
    });
}
