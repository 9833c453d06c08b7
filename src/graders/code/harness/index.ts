/**
 * The test harness of the `code` grader: assertion blocks and call-based tests are decided by a
 * process the program cannot reach, and the expected values never enter the program's process.
 *
 * **Assertion blocks**: two sandboxed processes are opened at once (Python: one pair for all the
 * blocks of a rollout, run one after another, {@link runAssertCases}; JavaScript: one pair per block,
 * {@link runAssertCase}) —
 * - the *program process* runs a small runner (`python.ts`/`javascript.ts`) that loads the
 *   completion's program, then serves requests on its stdin/stdout (line-framed JSON). The runner
 *   takes fd 1 for the protocol before the program runs; the program's own prints go to stderr;
 * - the *harness process* runs the test block with the real `assert` / `node:assert`. Every name of
 *   the block that the program defines is bound to a proxy: calls, method calls, attribute and item
 *   access, iteration go to the program process, whose answers are plain data (tagged JSON rebuilt
 *   into built-in values) or opaque handles equal only to themselves.
 * This process relays harness stdout → program stdin and program stdout → harness stdin, except the
 * harness's verdict lines (one per block) and start lines (from which each block is timed), which
 * start with a random per-run token the program never sees and are read only from the harness's
 * stdout. A block's verdict is `pass` only when the block ran to its end; a program process that ends
 * early (`os._exit`, `process.exit`, a crash, a kill at its limits) leaves the pending request
 * unanswered, which fails that block (the blocks after it run in a fresh pair).
 *
 * **Call-based tests** (`fn_name`): one program process per program loads it once and answers one
 * call per case ({@link runCallCases}, verl `prime_code` semantics: a wall-clock limit per call); this
 * process sends each call and compares the reply with the expected output itself
 * ({@link resultMatches}). {@link runCallCase} runs a single case in its own process.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { DEFAULT_LIMITS, isMemoryError, openSandboxes, type RunResult, type SandboxLanguage, type SandboxLimits } from '../sandbox.js';
import { framed, warmPoolEnabled } from '../pool/warm.js';
import { javascriptHarness, javascriptRunner } from './javascript.js';
import { pythonHarness, pythonRunner, VERL_PY_PREFIX, VERL_PY_PRELOAD } from './python.js';
import { decodeValue, resultMatches, showValue } from './values.js';

export { decodeValue, parseJsonExact, resultMatches, showValue, type Val } from './values.js';
export { VERL_PY_PREFIX } from './python.js';

/** One interactive sandboxed process (the shape of `sandbox.ts`'s `SandboxSession`). */
export interface ProcessSession {
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly result: Promise<RunResult>;
  kill(): void;
}

/** What a session is opened with (the shape of `sandbox.ts`'s `SessionRequest`). */
export interface ProcessRequest {
  language: SandboxLanguage;
  code: string;
  limits?: Partial<SandboxLimits>;
  /** Modules the warm pool may import ahead (see the sandbox's `SessionRequest.preload`); a hint other openers may ignore. */
  preload?: readonly string[];
}

/** Opens several sessions at once (each its own sandbox). */
export type OpenSessions = (reqs: ProcessRequest[]) => Promise<ProcessSession[]>;

let override: OpenSessions | null = null;

/**
 * Replaces how sessions are opened (tests and embedders); `null` restores the default, the
 * sandbox's `openSandboxes`.
 */
export function setSessionOpener(fn: OpenSessions | null): void {
  override = fn;
}

async function openSessions(reqs: ProcessRequest[]): Promise<ProcessSession[]> {
  return override !== null ? override(reqs) : openSandboxes(reqs);
}

/** Verl status of one test (1 pass, 0 wrong, −1 cannot judge, −2 runtime error, −3 timeout, −4 compile error). */
export type CaseStatus = 1 | 0 | -1 | -2 | -3 | -4;

/** How one harnessed test ended. */
export interface CaseOutcome {
  status: CaseStatus;
  /** One sentence on why, when not passed. */
  reason?: string;
  /** The program's stderr tail. */
  stderr?: string;
  /** The test cannot be judged (a reference the harness cannot run): the component must be null. */
  cannotJudge?: boolean;
  /** For call-based wrong answers: the program's result, shortened. */
  got?: string;
}

/** Reads a stream as lines (without the newline). */
export class LineReader {
  private buf = '';
  private lines: string[] = [];
  private ended = false;
  private waiter: (() => void) | null = null;
  constructor(stream: NodeJS.ReadableStream, onLine?: (line: string) => void) {
    stream.setEncoding?.('utf8');
    stream.on('data', (d: string | Buffer) => {
      this.buf += typeof d === 'string' ? d : d.toString('utf8');
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (onLine) onLine(line);
        else this.lines.push(line);
      }
      this.wake();
    });
    const end = () => {
      if (this.ended) return;
      this.ended = true;
      if (this.buf.length > 0) {
        if (onLine) onLine(this.buf);
        else this.lines.push(this.buf);
        this.buf = '';
      }
      this.wake();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }
  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
  /** Resolves when the stream has ended. */
  async done(): Promise<void> {
    while (!this.ended) await new Promise<void>((r) => (this.waiter = r));
  }
  /** The next line, or null at the end of the stream. */
  async next(): Promise<string | null> {
    for (;;) {
      if (this.lines.length > 0) return this.lines.shift()!;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

const STDERR_KEEP = 1000;
const tail = (s: string) => (s.length <= STDERR_KEEP ? s : `…${s.slice(s.length - STDERR_KEEP)}`);

function sandboxFailure(r: RunResult, what: string): Error {
  return new Error(`code sandbox error (${what}): ${r.message ?? 'unknown'}`);
}

/** The status of a program process that ended (or was stopped at a limit) before it answered. */
function endedOutcome(r: RunResult, when: string): CaseOutcome {
  const stderr = r.stderr ? tail(r.stderr) : undefined;
  switch (r.status) {
    case 'sandbox_error':
      throw sandboxFailure(r, 'program process');
    case 'timeout':
      return { status: -3, reason: r.message ?? 'time limit', stderr };
    case 'compile_error':
      return { status: -4, reason: r.message ?? 'the program does not compile', stderr };
    case 'memory_limit':
    case 'output_limit':
      return { status: -2, reason: r.message ?? r.status, stderr };
    default:
      return {
        status: -2,
        reason: `the program process ended ${when}${r.status === 'ok' ? ' (exit 0)' : r.message ? ` (${r.message})` : ''}`,
        stderr,
      };
  }
}

/** Limits of the harness process: the program's, with room to outlive it and to hold its answers. */
function harnessLimits(l: Partial<SandboxLimits>): Partial<SandboxLimits> {
  const timeoutMs = l.timeoutMs ?? 5000;
  return {
    ...l,
    timeoutMs: timeoutMs + 10_000,
    cpuSeconds: Math.ceil(timeoutMs / 1000) + 10,
    memoryMb: Math.max(512, l.memoryMb ?? 512),
    maxProcesses: Math.max(4, l.maxProcesses ?? 4),
    maxOutputBytes: Math.max(64 << 20, l.maxOutputBytes ?? 0),
  };
}

/** Modules the warm pool may load ahead for a call-based run: verl's, when the prefix starts with verl's. */
function callPreload(language: SandboxLanguage, prefix: string): readonly string[] | undefined {
  return language === 'python' && prefix.startsWith(VERL_PY_PREFIX) ? VERL_PY_PRELOAD : undefined;
}

function runnerSource(language: SandboxLanguage, program: string, prefix: string, moduleName = '__main__'): string {
  const head = prefix === '' || prefix.endsWith('\n') ? prefix : `${prefix}\n`;
  return language === 'python' ? pythonRunner(program, head, moduleName) : javascriptRunner(`${head}${program}`);
}

/**
 * Runs one assertion block against a program in two sandboxed processes (see the module comment)
 * and returns its status. Throws when a sandbox fails (the component becomes an error).
 *
 * @param prefix text run before the program and before the block (e.g. a dataset's `import_prefix`)
 * @param trusted Python: a HumanEval prompt run in the harness first; the helpers it defines (all its
 *   names but `entryPoint`) are the harness's own, not the program's
 */
export async function runAssertCase(
  language: SandboxLanguage,
  program: string,
  block: string,
  limits: Partial<SandboxLimits>,
  prefix = '',
  trusted: { prelude: string; entryPoint: string } | null = null,
): Promise<CaseOutcome> {
  if (language === 'python') {
    const [o] = await runAssertCases(language, program, [block], limits, { prefix, trusted });
    if (!o) throw new Error('code harness: no outcome for the block');
    return o;
  }
  const token = randomBytes(16).toString('hex');
  const fullBlock = prefix ? `${prefix}\n${block}` : block;
  const harnessCode = javascriptHarness(fullBlock, token);
  const [prog, harn] = await openSessions([
    { language, code: runnerSource(language, program, prefix), limits },
    { language, code: harnessCode, limits: harnessLimits(limits) },
  ]);
  prog!.stdin.on('error', () => {});
  harn!.stdin.on('error', () => {});
  let verdict: { verdict: string; message: string } | null = null;
  const progOut = new LineReader(prog!.stdout, (line) => {
    if (verdict === null) harn!.stdin.write(`${line}\n`);
  });
  const harnOut = new LineReader(harn!.stdout, (line) => {
    if (line.startsWith(`${token} `)) {
      if (verdict !== null) return;
      try {
        const v = JSON.parse(line.slice(token.length + 1)) as { verdict: unknown; message: unknown };
        verdict = { verdict: String(v.verdict), message: String(v.message ?? '') };
      } catch {
        verdict = { verdict: 'error', message: 'unreadable verdict' };
      }
      if (verdict.verdict !== 'ended') prog!.kill();
      return;
    }
    if (verdict === null) prog!.stdin.write(`${line}\n`);
  });
  // The program's answers are all relayed once its stdout ends: then the harness sees end-of-file.
  void progOut.done().then(() => harn!.stdin.end());
  await harnOut.done();
  const hr = await harn!.result;
  if (verdict === null || (verdict as { verdict: string }).verdict === 'ended') prog!.kill();
  const pr = await prog!.result;
  const v = verdict as { verdict: string; message: string } | null;
  const stderr = pr.stderr ? tail(pr.stderr) : undefined;
  if (v === null) {
    if (hr.status === 'sandbox_error') throw sandboxFailure(hr, 'harness process');
    if (pr.status !== 'ok' && pr.status !== 'runtime_error') return endedOutcome(pr, 'before the test finished');
    return { status: -2, reason: `the test did not finish (${hr.message ?? hr.status})`, stderr };
  }
  switch (v.verdict) {
    case 'pass':
      return { status: 1 };
    case 'fail':
      return { status: 0, reason: v.message || 'assertion failed', stderr };
    case 'compile_error':
      return { status: -4, reason: `the program does not compile: ${v.message}`, stderr };
    case 'load_error':
      return { status: -2, reason: v.message, stderr };
    case 'ended':
      return endedOutcome(pr, 'before the test finished');
    case 'protocol':
      return { status: -2, reason: `protocol error: ${v.message}`, stderr };
    case 'cannot':
    case 'bad_test':
      return { status: -1, reason: v.message, cannotJudge: true };
    default:
      return { status: -2, reason: v.message || 'the test raised an error', stderr };
  }
}

/**
 * The limits of a batch of items (assertion blocks, call-based or stdin/stdout cases) that one
 * process serves: each item keeps the caller's wall-clock limit (`timeoutMs`, timed by the host, with
 * `limitMessage` when it fires), and a process serving `n` items gets limits that cover its load and
 * every item, and `perItemOutput` bytes of output per item (plus `extraOutput`).
 */
function batchLimits(limits: Partial<SandboxLimits>) {
  const timeoutMs = limits.timeoutMs ?? 5000;
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds ?? timeoutMs / 1000));
  return {
    timeoutMs,
    /** The CPU limit of one case, whole seconds. */
    cpu,
    limitMessage: `killed after the ${timeoutMs} ms wall-clock limit`,
    serving: (n: number, perItemOutput = limits.maxOutputBytes ?? 8 << 20, extraOutput = 0): Partial<SandboxLimits> => ({
      ...limits,
      timeoutMs: timeoutMs * (n + 1) + 2000,
      cpuSeconds: cpu * (n + 1),
      maxOutputBytes: perItemOutput * n + extraOutput,
    }),
  };
}

/**
 * The wall-clock limit of one case (or block) in a batch process: `arm()` starts it again when a case
 * starts, `clear()` stops it when the case answers; if it runs out first, `onLimit` stops the
 * process(es) and `fired` turns true (the case is judged as a run killed at its time limit).
 */
class CaseTimer {
  /** Whether the limit ran out (and `onLimit` ran). */
  fired = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    private readonly ms: number,
    private readonly onLimit: () => void,
  ) {}
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onLimit();
    }, this.ms);
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * The results of a batch in item order (`null` = not run) and whether the batch must stop: `ends`
 * says which result ends it.
 */
class BatchLog<T> {
  readonly out: (T | null)[];
  stop = false;
  constructor(
    n: number,
    private readonly ends: (k: number, r: T) => boolean,
  ) {
    this.out = new Array<T | null>(n).fill(null);
  }
  record(k: number, r: T): void {
    this.out[k] = r;
    if (this.ends(k, r)) this.stop = true;
  }
}

/** A test outcome ends its batch: a compile error, a test that cannot be judged, or (with `stopAtFailure`) any failure. */
const endsBatch =
  (stopAtFailure: boolean | undefined) =>
  (_k: number, o: CaseOutcome): boolean =>
    o.status === -4 || o.cannotJudge === true || (stopAtFailure === true && o.status !== 1);

/** What {@link runAssertCases} is told about how to run. */
export interface AssertBatchOptions {
  /** Text run before the program and before each block (a dataset's `import_prefix`). */
  prefix?: string;
  /** Python: a HumanEval prompt run in the harness before each block (see {@link runAssertCase}). */
  trusted?: { prelude: string; entryPoint: string } | null;
  /** Stop at the first block that does not pass (`scoring: all`); the blocks after it stay `null`. */
  stopAtFailure?: boolean;
}

/** How a harness verdict kind becomes a block's outcome (`ended` needs the program's result). */
function verdictOutcome(v: { verdict: string; message: string }): CaseOutcome | 'ended' {
  switch (v.verdict) {
    case 'pass':
      return { status: 1 };
    case 'fail':
      return { status: 0, reason: v.message || 'assertion failed' };
    case 'compile_error':
      return { status: -4, reason: `the program does not compile: ${v.message}` };
    case 'load_error':
      return { status: -2, reason: v.message };
    case 'ended':
      return 'ended';
    case 'protocol':
      return { status: -2, reason: `protocol error: ${v.message}` };
    case 'cannot':
    case 'bad_test':
      return { status: -1, reason: v.message, cannotJudge: true };
    default:
      return { status: -2, reason: v.message || 'the test raised an error' };
  }
}

/**
 * Runs all the assertion blocks of one program (Python) through ONE program process and ONE
 * harness process, blocks one after another, each with its own verdict (see the module comment for
 * the pair and its guarantees, which are unchanged: the blocks and expected values stay in the
 * harness, verdicts come after a per-run token on the harness's stdout).
 *
 * **State semantics: a fresh program per block**, as verl's Sandbox Fusion path runs `program +
 * assert_case[i]` as its own sandbox run per block. The program is compiled once; the first block
 * uses the namespace of the first load, and before every later block the program process drops its
 * handles and runs the program's top level again in a new module namespace (the dataset's import
 * prefix first), so module globals, classes, caches and closures never carry from one block to the
 * next. What the program changes outside its namespace (patched builtins or standard-library
 * modules, files in its private `/tmp`, processes it leaves) stays for the blocks after it, within
 * this rollout's sandbox only. Each block also runs in a fresh harness namespace (`__main__`,
 * the prompt's helpers re-run). (Call-based cases, {@link runCallCases}, share state: verl's
 * `prime_code` does.)
 *
 * **Limits, verl per-test semantics.** The load has its own wall-clock limit (`limits.timeoutMs`), and
 * so does each block (its reload and its run), timed here from the harness's start line. A block
 * that fails, raises or is judged is independent of the others. A block that hangs (killed at its
 * limit: −3), ends or kills the program process (−2, as {@link runAssertCase}), breaks the protocol
 * (−2) or ends the harness fails alone: the pair is closed and the remaining blocks run in a fresh
 * pair. A compile error (−4) is reported for every block; `stopAtFailure` stops at the first block
 * that does not pass. Outcomes are in block order; `null` = not run. Throws when a sandbox fails.
 */
export async function runAssertCases(
  language: SandboxLanguage,
  program: string,
  blocks: string[],
  limits: Partial<SandboxLimits>,
  opts: AssertBatchOptions = {},
): Promise<(CaseOutcome | null)[]> {
  if (language !== 'python') {
    // JavaScript: one pair per block (the Node harness runs one block per process).
    const log = new BatchLog(blocks.length, endsBatch(opts.stopAtFailure));
    for (let k = 0; k < blocks.length && !log.stop; k++) log.record(k, await runAssertCase(language, program, blocks[k]!, limits, opts.prefix ?? '', opts.trusted ?? null));
    return log.out;
  }
  const log = new BatchLog(blocks.length, endsBatch(opts.stopAtFailure));
  const prefix = opts.prefix ?? '';
  const trusted = opts.trusted ?? null;
  const { timeoutMs, limitMessage, serving } = batchLimits(limits);
  let i = 0;
  const record = (k: number, o: CaseOutcome) => log.record(k, o);
  while (i < blocks.length && !log.stop) {
    const first = i;
    const n = blocks.length - i;
    // One pair serves the remaining blocks: the processes' own limits cover the load and every block
    // (each block is timed here); the output budget is per block, as for one pair per block.
    const progLimits = serving(n);
    const token = randomBytes(16).toString('hex');
    const chunk = blocks.slice(first).map((b) => (prefix ? `${prefix}\n${b}` : b));
    const harnessCode = pythonHarness(chunk, token, trusted?.prelude ?? '', trusted?.entryPoint ?? '', first);
    const [prog, harn] = await openSessions([
      { language, code: runnerSource(language, program, prefix), limits: progLimits },
      { language, code: harnessCode, limits: harnessLimits(progLimits) },
    ]);
    prog!.stdin.on('error', () => {});
    harn!.stdin.on('error', () => {});
    const verdicts = new Map<number, { verdict: string; message: string }>();
    let current = first; // the block being run (or loaded for)
    let killedAtLimit: number | null = null;
    let closed = false; // the relay stops (a fatal verdict, or a block killed at its limit)
    const limit = new CaseTimer(timeoutMs, () => {
      killedAtLimit = current;
      closed = true;
      prog!.kill();
      harn!.kill();
    });
    const progOut = new LineReader(prog!.stdout, (line) => {
      if (!closed) harn!.stdin.write(`${line}\n`);
    });
    const harnOut = new LineReader(harn!.stdout, (line) => {
      if (line.startsWith(`${token} `)) {
        let m: { block?: unknown; start?: unknown; verdict?: unknown; message?: unknown };
        try {
          m = JSON.parse(line.slice(token.length + 1)) as typeof m;
        } catch {
          return;
        }
        const k = m.block;
        if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < first || k >= blocks.length || closed) return;
        if (m.start !== undefined) {
          current = k;
          limit.arm();
          return;
        }
        if (verdicts.has(k)) return;
        const v = { verdict: String(m.verdict), message: String(m.message ?? '') };
        verdicts.set(k, v);
        limit.clear();
        const kind = v.verdict;
        if (kind === 'ended' || kind === 'protocol') {
          closed = true;
          if (kind === 'protocol') prog!.kill();
        } else if (kind !== 'pass' && opts.stopAtFailure) {
          closed = true;
          prog!.kill();
          harn!.kill();
        }
        return;
      }
      if (!closed) prog!.stdin.write(`${line}\n`);
    });
    limit.arm(); // the load
    // The program's answers are all relayed once its stdout ends: then the harness sees end-of-file.
    void progOut.done().then(() => harn!.stdin.end());
    let pr: RunResult;
    let hr: RunResult;
    try {
      await harnOut.done();
      hr = await harn!.result;
      // The harness is done: the program process has nothing left to serve.
      prog!.stdin.end();
      if (killedAtLimit === null && !closed) {
        // An honest runner exits at end-of-file at once; a program that lingers is stopped.
        const t = setTimeout(() => prog!.kill(), 1000);
        pr = await prog!.result;
        clearTimeout(t);
      } else {
        prog!.kill();
        pr = await prog!.result;
      }
    } finally {
      limit.clear();
      prog!.kill();
      harn!.kill();
    }
    if (pr.status === 'sandbox_error' && killedAtLimit === null) throw sandboxFailure(pr, 'program process');
    if (hr.status === 'sandbox_error' && killedAtLimit === null) throw sandboxFailure(hr, 'harness process');
    const stderr = pr.stderr ? tail(pr.stderr) : undefined;
    let k = first;
    let pairEnded = false; // the verdict of block k-1 ended the pair
    for (; k < blocks.length && !log.stop && !pairEnded; k++) {
      const v = verdicts.get(k);
      if (v === undefined) break;
      const o = verdictOutcome(v);
      if (o === 'ended') {
        // The program process ended (or was stopped at its limits) before the block finished.
        record(k, endedOutcome(pr, 'before the test finished'));
        pairEnded = true;
        continue;
      }
      if (o.status !== 1 && !o.cannotJudge && o.stderr === undefined && stderr) o.stderr = stderr;
      record(k, o);
      if (v.verdict === 'protocol') pairEnded = true;
    }
    if (!log.stop && !pairEnded && k < blocks.length) {
      // The pair ended inside block k without its verdict.
      if (killedAtLimit !== null) record(k, { status: -3, reason: limitMessage, stderr });
      else if (pr.status !== 'ok' && pr.status !== 'runtime_error') record(k, endedOutcome(pr, 'before the test finished'));
      else record(k, { status: -2, reason: `the test did not finish (${hr.message ?? hr.status})`, stderr });
      k++;
    }
    i = k;
  }
  return log.out;
}

/** One call-based test: `fn(*args)` must equal `expected`. `args` are JSON texts, one per argument. */
export interface CallCase {
  fn: string;
  args: string[];
  expected: unknown;
}

/**
 * Runs one call-based test: the program process loads the program (after `prefix`, as module
 * `tmp_sol` like verl's `prime_code`: a `__main__` section does not run), calls `fn` —
 * or, when the program defines no such name but a `class Solution`, `Solution().fn` — with the
 * arguments, and replies with the result as plain data; the comparison is made here. Throws when
 * the sandbox fails.
 */
export async function runCallCase(
  language: SandboxLanguage,
  program: string,
  c: CallCase,
  limits: Partial<SandboxLimits>,
  opts: { prefix?: string; floatTolerance?: number } = {},
): Promise<CaseOutcome> {
  const [prog] = await openSessions([{ language, code: runnerSource(language, program, opts.prefix ?? '', 'tmp_sol'), limits, preload: callPreload(language, opts.prefix ?? '') }]);
  prog!.stdin.on('error', () => {});
  const out = new LineReader(prog!.stdout);
  const finish = async (o: CaseOutcome) => {
    prog!.kill();
    const r = await prog!.result;
    if (o.status !== 1 && o.status !== 0 && r.stderr && o.stderr === undefined) o.stderr = tail(r.stderr);
    return o;
  };
  const ended = async () => {
    const r = await prog!.result;
    return endedOutcome(r, 'before it answered');
  };
  const read = async (): Promise<Record<string, unknown> | null | 'garbage'> => {
    const line = await out.next();
    if (line === null) return null;
    try {
      const m = JSON.parse(line) as unknown;
      return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : 'garbage';
    } catch {
      return 'garbage';
    }
  };
  const hello = await read();
  if (hello === null) return ended();
  if (hello === 'garbage' || typeof hello.hello !== 'object' || hello.hello === null) return finish({ status: -2, reason: 'protocol error: no hello from the program process' });
  const h = hello.hello as Record<string, unknown>;
  if ('compile_error' in h) return finish({ status: -4, reason: `the program does not compile: ${String(h.compile_error)}` });
  if ('error' in h) return finish({ status: -2, reason: String(h.error) });
  prog!.stdin.write(`${JSON.stringify({ id: 1, op: 'callfn', name: c.fn, a: c.args.map((j) => ({ j })) })}\n`);
  const rep = await read();
  if (rep === null) return ended();
  if (rep === 'garbage' || rep.id !== 1) return finish({ status: -2, reason: 'protocol error: unreadable reply from the program process' });
  if ('err' in rep) {
    const e = (rep.err ?? {}) as Record<string, unknown>;
    return finish({ status: -2, reason: `${String(e.type ?? 'Error')}: ${String(e.msg ?? '')}`.slice(0, 500) });
  }
  let got;
  try {
    got = decodeValue(rep.ok);
  } catch (e) {
    return finish({ status: -2, reason: `protocol error: ${(e as Error).message}` });
  }
  if (resultMatches(got, c.expected, { language, floatTolerance: opts.floatTolerance ?? 0 })) return finish({ status: 1 });
  return finish({ status: 0, reason: 'wrong answer', got: showValue(got) });
}

/** What {@link runCallCases} is told about how to run. */
export interface CallBatchOptions {
  /** Text run before the program (verl's import prefix). */
  prefix?: string;
  floatTolerance?: number;
  /** Stop at the first case that does not pass (`scoring: all`); the cases after it stay `null`. */
  stopAtFailure?: boolean;
}

/**
 * Runs all the call-based tests of one program as verl's `prime_code`/APPS `testing_util` does: the
 * program is loaded once in its own program process (after `prefix`, as module `tmp_sol`), then
 * each case is one call of `fn` with its own wall-clock limit (`limits.timeoutMs`, as the load
 * itself); module state carries from one call to the next, as in verl. The expected values never
 * enter the program process: each reply (plain data, tagged JSON, answering a request id the
 * program could not guess in advance) is compared here ({@link resultMatches}). A case whose
 * process ends, is killed at the limit or breaks the protocol fails as {@link runCallCase} would
 * (−3 timeout, −2 runtime/protocol error, −4 compile error); the remaining cases then run in a
 * fresh program process. Outcomes are in case order; `null` = not run (`stopAtFailure`, or after a
 * compile error, which every later case would repeat). Throws when the sandbox fails.
 */
export async function runCallCases(
  language: SandboxLanguage,
  program: string,
  cases: CallCase[],
  limits: Partial<SandboxLimits>,
  opts: CallBatchOptions = {},
): Promise<(CaseOutcome | null)[]> {
  const log = new BatchLog(cases.length, endsBatch(opts.stopAtFailure));
  const { out } = log;
  const { timeoutMs, limitMessage, serving } = batchLimits(limits);
  let i = 0;
  const record = (k: number, o: CaseOutcome) => log.record(k, o);
  while (i < cases.length && !log.stop) {
    const n = cases.length - i;
    const first = i;
    // One process serves the remaining cases: its own limits cover the load and every call (each
    // call is timed here); the output budget is per case, as for one run per case.
    const sessionLimits = serving(n);
    const [prog] = await openSessions([{ language, code: runnerSource(language, program, opts.prefix ?? '', 'tmp_sol'), limits: sessionLimits, preload: callPreload(language, opts.prefix ?? '') }]);
    prog!.stdin.on('error', () => {});
    const reader = new LineReader(prog!.stdout);
    const limit = new CaseTimer(timeoutMs, () => prog!.kill());
    const ended = async (when: string): Promise<CaseOutcome> => {
      const r = await prog!.result;
      if (limit.fired && r.status !== 'sandbox_error') return { status: -3, reason: limitMessage, stderr: r.stderr ? tail(r.stderr) : undefined };
      return endedOutcome(r, when);
    };
    const read = async (): Promise<Record<string, unknown> | null | 'garbage'> => {
      const line = await reader.next();
      if (line === null) return null;
      try {
        const m = JSON.parse(line) as unknown;
        return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : 'garbage';
      } catch {
        return 'garbage';
      }
    };
    const stderrOf = async () => {
      const r = await prog!.result;
      return r.stderr ? tail(r.stderr) : undefined;
    };
    // A case that ends this process: the others of the batch go to a fresh one.
    let fatal: CaseOutcome | null = null;
    try {
      limit.arm();
      const hello = await read();
      if (hello === null) fatal = await ended('before it answered');
      else if (hello === 'garbage' || typeof hello.hello !== 'object' || hello.hello === null) fatal = { status: -2, reason: 'protocol error: no hello from the program process' };
      else {
        const h = hello.hello as Record<string, unknown>;
        if ('compile_error' in h) fatal = { status: -4, reason: `the program does not compile: ${String(h.compile_error)}` };
        else if ('error' in h) fatal = { status: -2, reason: String(h.error) };
      }
      if (fatal !== null) {
        // A program that cannot load fails every case the same way (one run per case would repeat it).
        prog!.kill();
        if (fatal.status !== 1 && fatal.stderr === undefined) fatal.stderr = await stderrOf();
        if (fatal.status === -4) {
          record(i, fatal);
          break;
        }
        record(i++, fatal);
        continue;
      }
      for (; i < cases.length && !log.stop; i++) {
        const c = cases[i]!;
        const id = randomInt(1, 2 ** 47);
        prog!.stdin.write(`${JSON.stringify({ id, op: 'callfn', name: c.fn, a: c.args.map((j) => ({ j })) })}\n`);
        limit.arm();
        const rep = await read();
        limit.clear();
        if (rep === null) {
          fatal = await ended('before it answered');
          break;
        }
        if (rep === 'garbage' || rep.id !== id) {
          fatal = { status: -2, reason: 'protocol error: unreadable reply from the program process' };
          break;
        }
        if ('err' in rep) {
          const e = (rep.err ?? {}) as Record<string, unknown>;
          record(i, { status: -2, reason: `${String(e.type ?? 'Error')}: ${String(e.msg ?? '')}`.slice(0, 500) });
          continue;
        }
        let got;
        try {
          got = decodeValue(rep.ok);
        } catch (e) {
          fatal = { status: -2, reason: `protocol error: ${(e as Error).message}` };
          break;
        }
        if (resultMatches(got, c.expected, { language, floatTolerance: opts.floatTolerance ?? 0 })) record(i, { status: 1 });
        else record(i, { status: 0, reason: 'wrong answer', got: showValue(got) });
      }
      if (fatal !== null) {
        prog!.kill();
        if (fatal.stderr === undefined) fatal.stderr = await stderrOf();
        record(i++, fatal);
      }
    } finally {
      limit.clear();
      prog!.kill();
    }
    const r = await prog!.result;
    if (r.status === 'sandbox_error' && !limit.fired) throw sandboxFailure(r, 'program process');
    // Runtime errors' stderr: the process's, shared by its cases (as verl keeps one log per run).
    for (let k = first; k < cases.length; k++) {
      const o = out[k];
      if (o && o.status !== 1 && o.status !== 0 && o.stderr === undefined && r.stderr) o.stderr = tail(r.stderr);
    }
  }
  return out;
}

/** What {@link runIoCases} is told about how to run. */
export interface IoBatchOptions {
  /** Whether case k's result passes (the caller's comparison); with `stopAtFailure`, the first that does not stops the rest. */
  passes?: (k: number, r: RunResult) => boolean;
  stopAtFailure?: boolean;
}


/**
 * The record stream of the compiled case supervisor (`pool/native.ts`, `rk_cases`;
 * `SessionRequest.cases`): `O<n>\n`/`P<n>\n` + n bytes of the current case's stdout/stderr, or a
 * one-line record (`R`, `C`, `U <why>`, `E<code>`, `S<signal> <cpu ms>`, `T`, `Q`, `N`). Anything else is a
 * protocol error (only the supervisor writes this stream; the program's bytes are inside frames).
 */
class CaseRecords {
  private pending: Buffer = Buffer.alloc(0);
  private body = 0;
  private into: Buffer[] = [];
  private out: Buffer[] = [];
  private err: Buffer[] = [];
  readonly records: { line: string; stdout: string; stderr: string }[] = [];
  bad = false;
  push(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    while (!this.bad && this.pending.length > 0) {
      if (this.body > 0) {
        const take = Math.min(this.body, this.pending.length);
        this.into.push(this.pending.subarray(0, take));
        this.body -= take;
        this.pending = this.pending.subarray(take);
        continue;
      }
      const nl = this.pending.indexOf(10);
      if (nl < 0) {
        if (this.pending.length > 512) this.bad = true;
        return;
      }
      const line = this.pending.subarray(0, nl).toString('latin1');
      this.pending = this.pending.subarray(nl + 1);
      const f = /^([OP])(\d{1,10})$/.exec(line);
      if (f) {
        this.body = Number(f[2]);
        this.into = f[1] === 'O' ? this.out : this.err;
      } else if (/^(?:[RCTQN]|E\d{1,3}|S\d{1,3} \d{1,12}|U [\x20-\x7e]{0,400})$/.test(line)) {
        // A record ends the case: the frames so far are its output; the next case starts empty.
        this.records.push({ line, stdout: Buffer.concat(this.out).toString('utf8'), stderr: Buffer.concat(this.err).toString('utf8') });
        this.out = [];
        this.err = [];
      } else this.bad = true;
    }
  }
  /** Output that came after the last record (a case whose record never came). */
  rest(): { stdout: string; stderr: string } {
    return { stdout: Buffer.concat(this.out).toString('utf8'), stderr: Buffer.concat(this.err).toString('utf8') };
  }
}

/**
 * The cases of one Python program through the warm pool's compiled case supervisor (see
 * `CaseRecords`, `pool/native.ts` `rk_cases`): one session, the program compiled once, a process per
 * case forked from the supervisor (the run's uid, not dumpable: a case cannot trace it or reach its
 * memory or descriptors) that takes the run's limits. Every case's input goes at once; the
 * supervisor enforces each case's wall-clock limit and output budget itself (the host's timer is the
 * backstop). Records the results from `first` on in `log` and returns where the caller goes on:
 * `'unavailable'` (case mode is not: run the cases another way), `'compile_error'`, or the index of
 * the first case not judged (the session stopped at a failure, or broke: the case it was at fails).
 */
async function runIoCasesNative(program: string, inputs: string[], first: number, limits: Partial<SandboxLimits>, log: BatchLog<RunResult>): Promise<'unavailable' | 'compile_error' | number> {
  const { timeoutMs, cpu, limitMessage } = batchLimits(limits);
  const perCaseOutput = limits.maxOutputBytes ?? 8 << 20;
  const n = inputs.length - first;
  const framing = n * (48 + 16 * Math.ceil((perCaseOutput + 65536) / 65536));
  const sessionLimits: Partial<SandboxLimits> = { ...limits, timeoutMs: (timeoutMs + 1000) * n + 5000, maxOutputBytes: n * (perCaseOutput + 65536) + framing };
  const [prog] = await openSandboxes([{ language: 'python', code: program, limits: sessionLimits, cases: { wallMs: timeoutMs, outputBytes: perCaseOutput } }]);
  prog!.stdin.on('error', () => {});
  const rec = new CaseRecords();
  let ended = false;
  let waiter: (() => void) | null = null;
  const wake = () => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  prog!.stdout.on('data', (d: Buffer | string) => {
    rec.push(typeof d === 'string' ? Buffer.from(d, 'latin1') : d);
    wake();
  });
  const onEnd = () => {
    ended = true;
    wake();
  };
  prog!.stdout.on('end', onEnd);
  prog!.stdout.on('close', onEnd);
  // The host's backstop: the supervisor ends a case at its limit by itself (record T).
  const limit = new CaseTimer(timeoutMs + 2000, () => prog!.kill());
  const nextRecord = async (): Promise<{ line: string; stdout: string; stderr: string } | null> => {
    for (;;) {
      if (rec.records.length > 0) return rec.records.shift()!;
      if (rec.bad || ended) return null;
      await new Promise<void>((r) => (waiter = r));
    }
  };
  const memoryMessage = `ran out of memory (limit ${limits.memoryMb ?? DEFAULT_LIMITS.memoryMb} MiB)`;
  let i = first;
  try {
    // Every case's input at once, behind the payload: the supervisor reads them as it goes.
    prog!.stdin.write(Buffer.concat(inputs.slice(first).map((x) => framed(Buffer.from(x, 'utf8')))));
    prog!.stdin.end();
    limit.arm();
    const ready = (await nextRecord())?.line ?? null;
    limit.clear();
    if (ready === 'C') {
      const r = await prog!.result;
      log.record(i, { status: 'compile_error', exitCode: 1, signal: null, stdout: '', stderr: r.stderr, wallMs: r.wallMs, message: 'the program does not compile' });
      return 'compile_error';
    }
    if (ready === null || ready.startsWith('U ')) {
      prog!.kill();
      await prog!.result;
      return 'unavailable';
    }
    if (ready !== 'R') throw new Error(`case supervisor: unexpected record ${JSON.stringify(ready)}`);
    for (; i < inputs.length && !log.stop; i++) {
      const t = performance.now();
      limit.arm();
      const got = await nextRecord();
      limit.clear();
      const wallMs = performance.now() - t;
      const m = got?.line ?? null;
      const { stdout, stderr } = got ?? rec.rest();
      const base = { stdout, stderr, wallMs };
      if (m === null) {
        // The stream ended or broke before the case's end record: the case fails (never ok).
        prog!.kill();
        const r = await prog!.result;
        if (r.status === 'sandbox_error' && !limit.fired) throw sandboxFailure(r, 'case supervisor');
        log.record(i, limit.fired ? { ...base, status: 'timeout', exitCode: null, signal: 'SIGKILL', message: limitMessage } : { ...base, status: 'runtime_error', exitCode: null, signal: null, message: rec.bad ? 'the case supervisor’s stream broke' : `the case supervisor ended before the case did${r.message ? ` (${r.message})` : ''}` });
        return i + 1;
      }
      if (m === 'N') {
        // The supervisor's own CPU time is half spent: the rest go on in a fresh session (or, when
        // the compile alone spent it, each on its own).
        await prog!.result;
        return i === first ? 'unavailable' : i;
      }
      if (m === 'T') log.record(i, { ...base, status: 'timeout', exitCode: null, signal: 'SIGKILL', message: limitMessage });
      else if (m === 'Q') log.record(i, { ...base, status: 'output_limit', exitCode: null, signal: 'SIGKILL', message: `more than ${perCaseOutput} bytes of output` });
      else if (m.startsWith('E')) {
        const code = Number(m.slice(1));
        if (code === 0) log.record(i, { ...base, status: 'ok', exitCode: 0, signal: null });
        else if (isMemoryError('python', base.stderr)) log.record(i, { ...base, status: 'memory_limit', exitCode: code, signal: null, message: memoryMessage });
        else log.record(i, { ...base, status: 'runtime_error', exitCode: code, signal: null, message: `exited with code ${code}` });
      } else if (m.startsWith('S')) {
        const [sig, cpuMs] = m.slice(1).split(' ').map(Number) as [number, number];
        const name = SIGNAL_NAMES.get(sig) ?? `signal ${sig}`;
        // As the sandbox reads a run's end: SIGXCPU, or the kernel's SIGKILL at the hard CPU limit.
        if (name === 'SIGXCPU' || (name === 'SIGKILL' && cpuMs >= (cpu + 0.5) * 1000)) log.record(i, { ...base, status: 'timeout', exitCode: null, signal: name, message: `killed at the ${cpu} s CPU-time limit` });
        else if (name === 'SIGXFSZ') log.record(i, { ...base, status: 'runtime_error', exitCode: null, signal: name, message: `wrote a file larger than ${limits.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes} bytes` });
        else log.record(i, { ...base, status: 'runtime_error', exitCode: null, signal: name, message: `killed by ${name}` });
      } else {
        // A record out of place: the stream is not the supervisor's.
        prog!.kill();
        await prog!.result;
        log.record(i, { ...base, status: 'runtime_error', exitCode: null, signal: null, message: 'the case supervisor’s stream broke' });
        return i + 1;
      }
    }
  } finally {
    limit.clear();
    prog!.stdin.end();
  }
  if (i < inputs.length) prog!.kill();
  const r = await prog!.result;
  if (r.status === 'sandbox_error' && !limit.fired && i >= inputs.length) throw sandboxFailure(r, 'case supervisor');
  return i;
}

/** Signal names by number (the host's: the sandbox runs on the same kernel). */
const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([k, v]) => [v, k]));

/**
 * One stdin/stdout case as a run of its own (a session running the program itself): a single case,
 * or every case when case mode is not available (no warm pool or no compiled supervisor, another
 * session opener, or `REWARDKIT_IO_BATCH=0`).
 */
async function runIoAlone(program: string, input: string, limits: Partial<SandboxLimits>): Promise<RunResult> {
  const [s] = await openSessions([{ language: 'python', code: program, limits }]);
  const out: Buffer[] = [];
  s!.stdout.on('data', (d: Buffer | string) => out.push(typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
  s!.stdin.on('error', () => {});
  s!.stdin.end(input);
  const r = await s!.result;
  return { ...r, stdout: Buffer.concat(out).toString('utf8') };
}

/**
 * Runs all the stdin/stdout cases of one Python program, each judged as a run of its own, with the
 * program compiled once: one sandboxed program process per program whose compiled case supervisor
 * (`pool/native.ts`, `rk_cases`; the run's uid, not dumpable) forks one process per case; that
 * process takes the run's limits and runs the program as `__main__` with the case's input on fd 0
 * and its own stdout and stderr. The supervisor imports the standard-library
 * modules the program imports once, ahead (never a module a file of the program would shadow).
 * Each case has its own wall-clock limit (`limits.timeoutMs`), CPU limit and output budget; whatever
 * a case leaves running is killed before the next one starts. Its result is a {@link RunResult} as
 * one run would give (stdout and stderr = that case's, exit code from `sys.exit` or 1 on an
 * exception, `memory_limit` on a `MemoryError`, `timeout` at the CPU or wall-clock limit); the
 * comparison is the caller's. A case's status comes only from the supervisor's records, and the
 * program's bytes only ever inside its frames: a program cannot end a case early, forge an exit
 * status or write into another case's output. A case whose record never comes (the session was
 * stopped or broke, or the case signalled the supervisor) fails — never `ok` — and the rest run in
 * a fresh session. One deviation from a
 * run of its own: files a case writes in the working directory stay for the program's later cases
 * (its own files; never another program's). Without case mode (no warm pool or compiled
 * supervisor, a session opener set with `setSessionOpener`, `REWARDKIT_IO_BATCH=0`) and for a single
 * case, each case is a run of its own. `null` = not run. Throws when the sandbox fails.
 * @example
 * const [a, b] = await runIoCases('print(int(input()) * 2)', ['1\n', '2\n'], { timeoutMs: 2000 });
 * // a.stdout → '2\n', b.status → 'ok'
 */
export async function runIoCases(program: string, inputs: string[], limits: Partial<SandboxLimits>, opts: IoBatchOptions = {}): Promise<(RunResult | null)[]> {
  const log = new BatchLog<RunResult>(inputs.length, (k, r) => r.status === 'compile_error' || (opts.stopAtFailure === true && !(opts.passes?.(k, r) ?? r.status === 'ok')));
  let native = override === null && warmPoolEnabled() && process.env.REWARDKIT_IO_BATCH !== '0';
  let i = 0;
  while (i < inputs.length && !log.stop) {
    if (native && inputs.length - i > 1) {
      const r = await runIoCasesNative(program, inputs, i, limits, log);
      if (r === 'compile_error') break;
      if (r === 'unavailable') native = false;
      else i = r;
      continue;
    }
    // A single case (or every case, when case mode is not available) as a run of its own.
    log.record(i, await runIoAlone(program, inputs[i]!, limits));
    i++;
  }
  return log.out;
}
