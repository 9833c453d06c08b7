import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import * as z from 'zod';
import { defineGrader, ParamError } from '../types.js';
import { PythonPool } from './pool.js';

export { PythonPool, type CallResult, type PythonPoolOptions } from './pool.js';

/**
 * `python` — the user's Python function, with OpenAI's python grader semantics:
 * `grade(sample, item) -> float`, where `sample = {"output_text": <completion text>, "output_json":
 * <the completion parsed as JSON, or None when it is not valid JSON>}` and `item` is the rollout as
 * read (`id`, `prompt`, `completion`, `reference`, `meta`, `group` and any other keys). The source is
 * given inline (`source:`) or as a file (`path:`, resolved against the spec's directory).
 *
 * **Score:** the number `grade` returns (an int/float/bool or any `numbers.Real`, e.g. numpy's
 * float64; bool counts 1/0), not clamped. A call that raises (the message is the traceback's last
 * line and the line of the source: `ZeroDivisionError: division by zero (grader.py, line 4)`), runs
 * past `timeout_ms`, or returns anything else (a string, `None`, NaN, ±inf) is an **error** for that
 * rollout — never a silent 0 — and the rest of the batch is scored. `on_error: zero` turns such errors
 * into a score of 0 with `details.error` instead (e.g. when the function itself runs the completion's
 * code and a hostile completion could otherwise escape judgement by crashing it). A source that does
 * not compile, defines no `grade` or raises at load is an error on every rollout.
 *
 * **Where it runs — untrusted code, sandboxed:** a pool of long-lived Python workers, each a
 * sandboxed process (src/graders/code/sandbox.ts: fresh namespaces, random uid, sealed read-only
 * root with only the interpreter and its stdlib/venv, private `/tmp`, no network, rlimits). The
 * source is compiled once per worker; calls are sent in batches of up to `batch_size` over a pipe.
 * The interpreter is the sandbox's (`configureSandbox({python: '/path/to/venv/bin/python'})` for a
 * venv with the user's imports). `memory_mb` is each worker's address-space limit.
 *
 * **Isolation between calls** (`isolation:`): with `worker` (the default, fastest) calls in one worker
 * share the module: state the code keeps at module level (a cache, a counter, a monkeypatch) persists
 * across the calls that worker serves, until the worker is recycled (`recycle_after` calls, 10 min,
 * `idle_ms` idle, or any crash) — unlike OpenAI, which runs each call in isolation; and anything the
 * function runs (including `exec` of a completion) shares the worker and could lie about that
 * worker's other results. A call that hangs is killed with its worker (the others' calls are re-run,
 * each alone) and the pool starts a new one. With `call`, each call runs in a child forked from the
 * loaded worker, without the worker's pipes: what it changes dies with it, it can only report its own
 * score, and a hang or exit ends only that child (about a fork per call: thousands of calls/s, not
 * tens of thousands). Either way the sandbox protects the host; it cannot protect a score from the
 * grading function's own code.
 *
 * @example
 * # spec
 * - name: parity
 *   grader: python
 *   source: |
 *     def grade(sample, item):
 *         return float(sample["output_text"].strip() == str(item["reference"]))
 * # rollout {"completion": " 42", "reference": 42} → 1
 * # rollout {"completion": "41", "reference": 42} → 0
 */
export const pythonGrader = defineGrader({
  kind: 'python',
  summary: 'Your Python grade(sample, item) -> float (OpenAI python grader), in sandboxed long-lived workers.',
  params: {
    source: z.string().min(1).optional().describe('Python source defining grade(sample, item) -> float (inline). Exactly one of source/path.'),
    path: z.string().min(1).optional().describe('Python file defining grade(sample, item) -> float, relative to the spec file. Exactly one of source/path.'),
    timeout_ms: z.number().int().positive().max(600_000).default(2000).describe('Time limit of one grade call, ms (the call is an error past it).'),
    memory_mb: z.number().int().min(64).max(65_536).default(512).describe('Address-space limit of each worker process, MiB.'),
    workers: z.number().int().positive().max(256).optional().describe('Worker processes at most (default: the number of CPUs).'),
    batch_size: z.number().int().positive().max(65_536).default(256).describe('Calls sent to a worker in one message at most.'),
    recycle_after: z.number().int().positive().default(100_000).describe('A worker is replaced after this many calls.'),
    idle_ms: z.number().int().positive().default(1000).describe('A worker with nothing to do for this long exits, freeing its sandbox slot, ms.'),
    isolation: z
      .enum(['worker', 'call'])
      .default('worker')
      .describe('worker: calls in one worker share the loaded module (fast). call: each call runs in a process forked from the loaded worker, as OpenAI runs each call in isolation (slower: a fork per call).'),
    on_error: z.enum(['error', 'zero']).default('error').describe('A call that raises, times out or returns a non-number: an error (null score) or a score of 0 with details.error.'),
  },
  create(params, ctx) {
    if ((params.source === undefined) === (params.path === undefined)) throw new ParamError(params.source === undefined ? 'source' : 'path', 'give exactly one of source (inline Python) or path (a .py file)');
    let source = params.source;
    let filename = '<source>';
    if (params.path !== undefined) {
      const file = resolve(ctx.specDir, params.path);
      try {
        source = readFileSync(file, 'utf8');
      } catch (e) {
        throw new ParamError('path', `cannot read ${file}: ${(e as Error).message}`);
      }
      filename = basename(file);
    }
    const pool = new PythonPool({
      source: source!,
      filename,
      timeoutMs: params.timeout_ms,
      memoryMb: params.memory_mb,
      workers: params.workers ?? Math.max(1, availableParallelism()),
      batchSize: params.batch_size,
      recycleAfter: params.recycle_after,
      idleMs: params.idle_ms,
      isolation: params.isolation,
    });
    const zero = params.on_error === 'zero';
    return {
      scope: 'rollout',
      async grade(s) {
        const r = await pool.call(s.completion, s.rollout);
        if ('score' in r) return r.score;
        if (zero) return { score: 0, details: { error: r.error } };
        throw new Error(r.error);
      },
      close: () => pool.close(),
      /** The worker pool (diagnostics and tests). */
      pool,
    };
  },
});
