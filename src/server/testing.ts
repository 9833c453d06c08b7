/**
 * Helpers for the server's tests: fixture paths, a log sink, and small HTTP helpers on fetch and
 * raw sockets (for byte-exact bodies and requests held half-sent).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/server/fixtures, the test specs folder in it, and the repository root. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const SPECS_DIR = join(FIXTURES, 'specs');
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A pino destination that keeps every line. */
export function logSink(): { lines: string[]; write(s: string): boolean; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    write(s: string) {
      lines.push(s);
      return true;
    },
    text() {
      return lines.join('');
    },
  };
}

/** A response: status, headers, parsed JSON body (undefined when not JSON) and raw text. */
export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Sends a request; `body` objects are JSON-encoded, strings sent as they are. */
export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * Starts a POST whose body is sent in two parts: the first now, the rest when `finish()` is called.
 * `done` resolves with the response.
 */
export function halfSent(url: string, path: string, body: string, headers: Record<string, string> = {}): { finish(): void; done: Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> } {
  const u = new URL(url + path);
  const buf = Buffer.from(body);
  const cut = Math.max(1, Math.floor(buf.length / 2));
  let finish!: () => void;
  const done = new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(buf.length), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.write(buf.subarray(0, cut));
    req.flushHeaders();
    finish = () => req.end(buf.subarray(cut));
  });
  return { finish: () => finish(), done };
}

/** Polls `check` until it returns true (state, not time: each poll is a request to the server). */
export async function until(check: () => Promise<boolean>, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Value of one Prometheus sample line (`name{labels}`), or undefined. */
export function metric(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(sample + ' ')) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
