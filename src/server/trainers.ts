/**
 * Load drivers that call the server the way the trainers' own clients do, for the trainer-scale
 * tests (trainers.test.ts) and the burst bench (bench/server.ts --burst). Plain `node:http` with a
 * keep-alive agent and one socket per concurrent request, as aiohttp and requests open them.
 *
 * - OpenRLHF per-sample client: one `POST /get_reward` per sample, all at once, each retried up to
 *   5 tries 1 s apart on any failure (status ≠ 200 or a connection error);
 * - verl Sandbox Fusion client (`call_sandbox_api`): `POST /run_code` with
 *   `compile_timeout`/`run_timeout`, a request timeout of compile + run + 10 s, retried on 504 only
 *   (3 tries, 1 s then 2 s apart); anything else is an `api_error` (scored −1 by verl).
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';

/** One HTTP exchange: status (0 = connection error or client timeout), parsed body, latency. */
export interface Exchange {
  status: number;
  body: any;
  ms: number;
  error?: string;
}

/** Posts JSON with `agent`; never rejects (errors and timeouts come back as status 0). */
export function postJson(agent: Agent, url: string, body: unknown, timeoutMs = 600_000): Promise<Exchange> {
  const u = new URL(url);
  const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const t0 = performance.now();
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    const done = (x: Omit<Exchange, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...x, ms: performance.now() - t0 });
    };
    const req = httpRequest(
      { agent, host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(data.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          done({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (e) => done({ status: 0, body: undefined, error: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error(`client timeout after ${timeoutMs} ms`));
    });
    req.on('error', (e) => done({ status: 0, body: undefined, error: e.message }));
    req.end(data);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Latency percentiles (ms) of a list. */
export function percentiles(ms: number[]): { p50: number; p90: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.length ? s[s.length - 1]! : NaN };
}

/** Outcome of a driven load. */
export interface LoadReport {
  /** Calls made by the trainer (samples, or sandbox runs). */
  calls: number;
  /** Calls whose final answer was usable (200 with the expected shape). */
  ok: number;
  /** Calls that failed after the client's retries. */
  failed: number;
  /** HTTP attempts by status (0 = connection error / client timeout), retries included. */
  attempts: Record<string, number>;
  /** End-to-end latency per call (retries and waits included), ms. */
  latency: { p50: number; p90: number; p99: number; max: number };
  wallMs: number;
  /** A few failure messages. */
  errors: string[];
}

function tally(attempts: Record<string, number>, x: Exchange): void {
  attempts[String(x.status)] = (attempts[String(x.status)] ?? 0) + 1;
}

/**
 * OpenRLHF's per-sample remote reward client: `samples` concurrent `POST /get_reward` with one
 * query each (`{query: [prompt + response], prompts: [prompt], labels: [label]}`), each tried up to
 * 5 times 1 s apart. `check` says whether a 200 body is the right answer for sample i.
 */
export async function openRlhfBurst(
  url: string,
  samples: { prompt: string; response: string; label: string }[],
  check: (i: number, body: any) => boolean,
  o: { tries?: number; retryMs?: number } = {},
): Promise<LoadReport> {
  const tries = o.tries ?? 5;
  const agent = new Agent({ keepAlive: true, maxSockets: samples.length, maxFreeSockets: samples.length });
  const attempts: Record<string, number> = {};
  const lat: number[] = [];
  const errors: string[] = [];
  let ok = 0;
  const t0 = performance.now();
  await Promise.all(
    samples.map(async (s, i) => {
      const start = performance.now();
      for (let t = 0; t < tries; t++) {
        const x = await postJson(agent, `${url}/get_reward`, { query: [s.prompt + s.response], prompts: [s.prompt], labels: [s.label] });
        tally(attempts, x);
        if (x.status === 200 && check(i, x.body)) {
          ok++;
          lat.push(performance.now() - start);
          return;
        }
        if (errors.length < 5) errors.push(`sample ${i} try ${t + 1}: ${x.status} ${x.error ?? JSON.stringify(x.body).slice(0, 200)}`);
        if (t < tries - 1) await sleep(o.retryMs ?? 1000);
      }
    }),
  );
  agent.destroy();
  return { calls: samples.length, ok, failed: samples.length - ok, attempts, latency: percentiles(lat), wallMs: performance.now() - t0, errors };
}

/**
 * verl's Sandbox Fusion client: `concurrency` workers (verl's `max_concurrent` semaphore) taking
 * `programs` from a shared list in order; each program is one `POST /run_code` with
 * `compile_timeout = run_timeout = timeout`, a request timeout of compile + run + 10 s, retried
 * on 504 only (3 tries, 1 s then 2 s apart). `check` says whether a 200 body is the right answer.
 */
export async function sandboxFusionLoad(
  url: string,
  programs: { code: string; stdin?: string }[],
  check: (i: number, body: any) => boolean,
  o: { concurrency?: number; timeoutS?: number } = {},
): Promise<LoadReport> {
  const concurrency = o.concurrency ?? 100;
  const timeoutS = o.timeoutS ?? 10;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const attempts: Record<string, number> = {};
  const lat: number[] = [];
  const errors: string[] = [];
  let ok = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < programs.length; i = next++) {
      const p = programs[i]!;
      const body = { compile_timeout: timeoutS, run_timeout: timeoutS, code: p.code, stdin: p.stdin ?? null, memory_limit_MB: 1024, language: 'python', files: {}, fetch_files: [] };
      const start = performance.now();
      let good = false;
      for (let t = 0; t < 3; t++) {
        const x = await postJson(agent, `${url}/run_code`, body, (2 * timeoutS + 10) * 1000);
        tally(attempts, x);
        if (x.status === 504) {
          if (t < 2) await sleep(1000 * (t + 1));
          continue;
        }
        if (x.status === 200 && check(i, x.body)) good = true;
        else if (errors.length < 5) errors.push(`program ${i}: ${x.status} ${x.error ?? JSON.stringify(x.body).slice(0, 300)}`);
        break;
      }
      if (good) {
        ok++;
        lat.push(performance.now() - start);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { calls: programs.length, ok, failed: programs.length - ok, attempts, latency: percentiles(lat), wallMs: performance.now() - t0, errors };
}

/** A synthetic OpenRLHF sample: a GSM8K-like prompt, a response ending in a boxed answer, and its label. */
export function openRlhfSample(i: number, responseChars = 400): { prompt: string; response: string; label: string } {
  const a = (i * 7919) % 1000;
  const b = (i * 104729) % 997;
  const prompt = `<|im_start|>user\nQuestion ${i}: what is ${a} + ${b}? Put the final answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n`;
  const right = i % 2 === 0;
  const step = `We add ${a} and ${b} step by step. `;
  const reasoning = step.repeat(Math.ceil(responseChars / step.length)).slice(0, responseChars);
  return { prompt, response: `${reasoning} The answer is \\boxed{${right ? a + b : a + b + 1}}.<|im_end|>`, label: String(a + b) };
}

/** Peak and current RSS of a process, MB (VmHWM, VmRSS from /proc). */
export function rssOf(pid: number): { peakMb: number; nowMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { peakMb: Math.round(kb('VmHWM') / 1024), nowMb: Math.round(kb('VmRSS') / 1024) };
}
