/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port, its files in a folder the
 * test owns. `haveRedisServer` is false where it is not installed (the tests then skip, saying so).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const haveRedisServer = existsSync(REDIS_SERVER);

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** A running redis-server. */
export interface RedisProc {
  port: number;
  url: string;
  child: ChildProcess;
  /** SIGTERM (Redis writes its append-only file before exiting) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server on `port` with its files in `dir`: no snapshots; with `persist`, an append-only
 * file fsynced on every write (a restart in the same `dir` keeps every committed write).
 */
export async function startRedis(port: number, dir: string, opts: { persist?: boolean } = {}): Promise<RedisProc> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--protected-mode', 'no'];
  args.push(...(opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = Date.now();
  while (!out.includes('Ready to accept connections')) {
    if (child.exitCode !== null || Date.now() - t0 > 10_000) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${out.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The built CLI's bin (tests that start `rewardkit` processes run it with `node`). */
export const BIN = new URL('../bin/rewardkit.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

/** A `rewardkit worker` child process with its stderr collected; added to `track` until it exits. */
export interface WorkerProc {
  child: ChildProcess;
  /** Everything it wrote on stderr so far. */
  err: () => string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `rewardkit worker --queue URL --verbose …args` from the project root, `env` added to this process's. */
export function spawnWorker(url: string, args: string[], track: Set<ChildProcess>, env: Record<string, string> = {}): WorkerProc {
  const child = spawn('node', [BIN, 'worker', '--queue', url, '--verbose', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  track.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => (track.delete(child), r(code))));
  return { child, err: () => err, exited };
}

/** Polls `cond` every 25 ms until it holds; throws "timed out waiting for WHAT" after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
