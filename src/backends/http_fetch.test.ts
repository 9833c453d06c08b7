import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from './http_fetch.js';

let server: Server;
let url: string;
const seen: { method: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body });
      const path = req.url!;
      if (path === '/gzip') {
        const z = gzipSync(JSON.stringify({ ok: 'gzip' }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': z.length });
        return res.end(z);
      }
      if (path === '/br') {
        const z = brotliCompressSync(JSON.stringify({ ok: 'br' }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
        return res.end(z);
      }
      if (path === '/empty') {
        res.writeHead(204);
        return res.end();
      }
      if (path === '/hang') return;
      if (path === '/cut') {
        res.writeHead(200, { 'content-length': 100 });
        res.write('{"partial":');
        return setTimeout(() => res.socket!.destroy(), 5);
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-multi': 'a', 'retry-after': '3' });
      res.end(JSON.stringify({ echo: body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('createNodeFetch', () => {
  it('sends method, headers and body; returns status, headers and body', async () => {
    const { fetch, close } = createNodeFetch();
    const r = await fetch(`${url}/x`, { method: 'post', headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer k' }), body: '{"a":"é"}' });
    expect(r.status).toBe(201);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(await r.json()).toEqual({ echo: '{"a":"é"}' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', headers: { authorization: 'Bearer k', 'content-length': '10' } });
    close();
  });

  it('decodes gzip and br bodies; a 204 has no body', async () => {
    const { fetch, close } = createNodeFetch();
    expect(await (await fetch(`${url}/gzip`)).json()).toEqual({ ok: 'gzip' });
    expect(await (await fetch(`${url}/br`)).json()).toEqual({ ok: 'br' });
    const r = await fetch(`${url}/empty`);
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    close();
  });

  it('rejects on abort (before and during), a cut body and a refused connection', async () => {
    const { fetch, close } = createNodeFetch();
    const ctl = new AbortController();
    const p = fetch(`${url}/hang`, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fetch(`${url}/x`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fetch(`${url}/cut`)).rejects.toThrow(/terminated/);
    await expect(fetch('http://127.0.0.1:1/')).rejects.toThrow(/fetch failed/);
    close();
  });
});
