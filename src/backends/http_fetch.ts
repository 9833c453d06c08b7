/**
 * A lean `fetch` on node:http / node:https keep-alive agents, handed to the `openai` client in place of
 * the global (undici) fetch.
 *
 * Why: a judge call's client-side cost is dominated by the HTTP stack, not by the model server. On the
 * reference machine (bench/backend.ts), the openai client over undici's fetch spent about 650 µs of CPU
 * per chat request (client and fake server together), over this fetch about 420 µs — about the cost of
 * a bare undici fetch without the openai client around it. With a server that answers at once, the
 * client's CPU is what bounds throughput.
 *
 * Scope: what the openai client sends for JSON APIs — a string or byte body, a header list, an abort
 * signal — and a response read whole (no streaming; rewardkit never streams). Anything else (a Request
 * object, a streamed or form body) goes to the global fetch. gzip, deflate and br bodies are decoded;
 * redirects are not followed (an API answering 3xx is reported as that status).
 */
import { createRequire } from 'node:module';
import type httpModule from 'node:http';
import type httpsModule from 'node:https';
import zlib from 'node:zlib';

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export interface NodeFetch {
  fetch: typeof globalThis.fetch;
  /** Closes the idle keep-alive connections. */
  close(): void;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      return body;
  }
}

function bodyBytes(body: unknown): string | Uint8Array | undefined | null {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof URLSearchParams) return body.toString();
  return null;
}

/**
 * Makes a fetch with its own keep-alive agents (connections are reused across requests, unlimited in
 * number: the backend's concurrency limit bounds them).
 *
 * @example
 * const lean = createNodeFetch();
 * const client = new OpenAI({ apiKey, baseURL, fetch: lean.fetch, maxRetries: 0 });
 */
export function createNodeFetch(): NodeFetch {
  // Loaded here, not at import: node:https brings TLS and crypto, which `rewardkit score` on a spec
  // without model backends never needs (start-up, bench/startup.ts).
  const req = createRequire(import.meta.url);
  const http = req('node:http') as typeof httpModule;
  const https = req('node:https') as typeof httpsModule;
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

  function leanFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const body = bodyBytes(init.body);
    if (input instanceof Request || body === null) return globalThis.fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    const protocol = url.protocol as 'http:' | 'https:';
    if (protocol !== 'http:' && protocol !== 'https:') return globalThis.fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
      const mod = protocol === 'https:' ? https : http;
      const req = mod.request(url, { method: (init.method ?? 'GET').toUpperCase(), headers, agent: agents[protocol] }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('aborted', () => fail(new TypeError('terminated: the connection closed before the response ended')));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          if (!res.complete) return fail(new TypeError('terminated: the connection closed before the response ended'));
          const status = res.statusCode ?? 0;
          const out = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          let data: Buffer | null = NULL_BODY.has(status) ? null : Buffer.concat(chunks);
          const encoding = out.get('content-encoding') ?? undefined;
          if (data && encoding) {
            try {
              data = decode(data, encoding);
            } catch (e) {
              return fail(new TypeError(`cannot decode a ${encoding} response body`, { cause: e }));
            }
            out.delete('content-encoding');
            out.delete('content-length');
          }
          resolve(new Response(data, { status, statusText: res.statusMessage ?? '', headers: out }));
        });
      });
      function fail(e: unknown): void {
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(e);
      }
      function onAbort(): void {
        fail(signal?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => fail(new TypeError('fetch failed', { cause: e })));
      req.end(body);
    });
  }

  return {
    fetch: leanFetch as typeof globalThis.fetch,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
