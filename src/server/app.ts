import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import './context.js';
import type { ServerContext } from './context.js';
import { TokenAuth } from './auth.js';
import { AutoEngine, InlineEngine, PoolEngine, type ScoringEngine } from './engine.js';
import { HttpError } from './errors.js';
import { parseJsonBody } from './json.js';
import { Admission } from './limits.js';
import { sandboxConfig } from '../graders/code/sandbox.js';
import { ServerMetrics } from './metrics.js';
import { ServerConfigError, resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';
import { ScoreService } from './service.js';
import { preloadSpecFiles, SpecSet } from './specs.js';
import type { SharedState } from './state.js';
import { registerScoreRoute } from './routes/score.js';
import { registerOpenRlhfRoute } from './routes/openrlhf.js';
import { registerRunCodeRoute } from './routes/run_code.js';
import { registerInfoRoutes } from './routes/info.js';
import { registerOpenApiRoutes } from './routes/openapi.js';

/**
 * The reward server: fastify with the routes of routes/*.ts, token auth, JSON-only bodies with size
 * and depth limits, admission by capacity (a bounded FIFO queue in front of scoring, 503/504 with
 * `Retry-After` only when it is full or a wait passes its deadline: limits.ts), Prometheus metrics, pino access logs
 * that carry request ids and never request content, and a graceful close that lets in-flight
 * requests finish.
 */

/** A built server. `listen()` binds `options.host:options.port`; `close()` drains and stops. */
export interface RewardServer {
  readonly app: FastifyInstance;
  readonly options: ResolvedOptions;
  readonly specs: SpecSet;
  readonly metrics: ServerMetrics;
  readonly engine: ScoringEngine;
  readonly logger: Logger;
  /** Starts listening; resolves to the base URL (`http://127.0.0.1:8000`). */
  listen(): Promise<string>;
  /**
   * Graceful stop: new requests get 503, requests in flight finish, idle connections close, then
   * the worker pool stops. Safe to call twice.
   */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the server (specs loaded and compiled, pool started) without listening. Throws {@link ServerConfigError}. */
export async function createServer(input: ServerOptions): Promise<RewardServer> {
  const options = resolveOptions(input);
  // `--queue`: sandboxed programs (graders/code/remote.ts) and model-backend calls (backends/remote.ts)
  // go to `rewardkit worker`s on other machines. Connected before the specs compile, since their
  // backends are built to send jobs; the pool's threads, started below, read the queue from the
  // environment and connect themselves.
  let remote: { close(): Promise<void> } | null = null;
  if (options.queue !== undefined) {
    const queue = options.queue;
    const work = options.queueWork;
    const { connectRemoteSandbox } = await import('../graders/code/remote.js');
    const { setRemoteRunner } = await import('../graders/code/sandbox.js');
    const { connectRemoteBackends, setRemoteBackends } = await import('../backends/remote.js');
    let sandbox: Awaited<ReturnType<typeof connectRemoteSandbox>> | null = null;
    let backends: Awaited<ReturnType<typeof connectRemoteBackends>> | null = null;
    try {
      if (work.includes('sandbox')) sandbox = await connectRemoteSandbox(queue, { waitMs: options.queueWaitMs });
      if (work.includes('backends')) backends = await connectRemoteBackends(queue, { waitMs: options.queueWaitMs });
    } catch (e) {
      await sandbox?.close();
      throw new ServerConfigError((e as Error).message);
    }
    if (sandbox) setRemoteRunner((req) => sandbox.run(req));
    setRemoteBackends(backends);
    process.env.REWARDKIT_QUEUE = queue;
    process.env.REWARDKIT_QUEUE_WORK = work.join(',');
    process.env.REWARDKIT_QUEUE_WAIT_MS = String(options.queueWaitMs);
    remote = {
      async close() {
        setRemoteRunner(null);
        setRemoteBackends(null);
        delete process.env.REWARDKIT_QUEUE;
        delete process.env.REWARDKIT_QUEUE_WORK;
        await Promise.allSettled([sandbox?.close(), backends?.close()]);
      },
    };
  }

  let specs: SpecSet;
  try {
    await preloadSpecFiles(options.specs);
    specs = new SpecSet(options.specs, { defaultSpec: options.defaultSpec, routes: options.routes });
  } catch (e) {
    await remote?.close();
    throw e;
  }
  if (options.openrlhf.scoreComponent !== undefined && !specs.entries.some((e) => e.compiled.names.includes(options.openrlhf.scoreComponent!))) {
    await remote?.close();
    throw new ServerConfigError(`OpenRLHF score component "${options.openrlhf.scoreComponent}" is not a component of any served spec`);
  }

  const logger = pino(
    {
      level: options.logLevel,
      base: { pid: process.pid },
      // Belt and braces: these never reach a log line through our code, but a stray object must not leak them.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token'], censor: '[redacted]' },
    },
    options.logStream ?? pino.destination({ fd: 1, sync: false }),
  );

  const engine: ScoringEngine =
    options.scoring === 'pool'
      ? new PoolEngine(specs.entries, options.workers)
      : options.scoring === 'auto' && options.workers >= 2
        ? new AutoEngine(() => new PoolEngine(specs.entries, options.workers))
        : new InlineEngine();
  const metrics = new ServerMetrics(
    () => engine.queueDepth(),
    () => specs.entries.flatMap((e) => Object.entries(e.compiled.backends?.stats() ?? {}).map(([backend, stats]) => ({ spec: e.name, backend, stats: { ...stats } }))),
  );
  const admission = new Admission(
    {
      capacity: { queueBytes: options.queueBytes, queueRollouts: options.maxInflightRollouts },
      maxRunning: options.maxInflightRequests,
      sandboxRunning: options.sandboxRunning ?? (() => sandboxConfig().concurrency),
      waitMs: options.queueTimeoutMs,
      sandboxWaitMs: options.sandboxQueueTimeoutMs,
    },
    metrics,
  );
  if (options.replicaName !== undefined) metrics.setReplica(options.replicaName);
  // `--state`: specs with cross-batch state keep it in Redis (state.ts; ioredis loads only then).
  let shared: SharedState | null = null;
  const stateful = new Set<number>();
  if (options.state !== undefined) {
    const { SharedState, statefulParts } = await import('./state.js');
    for (const e of specs.entries) if (statefulParts(e).length > 0) stateful.add(e.index);
    metrics.enableState();
    shared = new SharedState({ url: options.state, timeoutMs: options.stateTimeoutMs, leaseMs: options.stateLeaseMs, replica: options.replicaName!, metrics, logger });
    await shared.connect();
  }
  const service = new ScoreService(specs, engine, admission.score, metrics, options.deadlineMs, options.maxRollouts, shared, stateful);
  const ctx: ServerContext = { options, specs, service, metrics, admission, state: shared };
  const auth = options.token !== undefined ? new TokenAuth(options.token) : null;
  const state = { closing: false };

  const idPrefix = randomBytes(3).toString('hex');
  let idCounter = 0;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines would carry the URL (and a ?token=); the onResponse hook logs instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : `${idPrefix}-${(++idCounter).toString(36)}`;
    },
  });
  app.decorateRequest('rolloutCount', 0);
  app.decorateRequest('admitted', null);
  app.decorateRequest('gone', null);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimit }, (req, body, done) => {
    try {
      // A body sent without Content-Length (chunked) counts against the queue's bytes once read.
      if (req.admitted && req.headers['content-length'] === undefined) req.admitted.add(Buffer.byteLength(body as string));
      done(null, parseJsonBody(body as string, options.maxJsonDepth));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const config = req.routeOptions.config;
    if (state.closing && req.routeOptions.url !== '/healthz') throw new HttpError(503, 'server is shutting down', '', { 'retry-after': '5', connection: 'close' });
    if (auth) auth.check(config.auth ?? 'bearer', req.headers.authorization, (req.query as Record<string, unknown> | undefined)?.token);
    if (config.scoring) {
      // Admission by capacity: the body's bytes are counted before it is read (503 — /run_code 504 —
      // when the queue cannot hold them); the run slot is taken in the route, after validation.
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > options.bodyLimit) throw new HttpError(413, `request body larger than the ${options.bodyLimit} byte limit`, '');
      const ticket = admission.bytes.admit(Number.isFinite(length) && length > 0 ? length : 0, req.routeOptions.url === '/run_code' ? 504 : 503);
      req.admitted = ticket;
      const gone = new AbortController();
      req.gone = gone.signal;
      reply.raw.once('close', () => {
        ticket.release();
        if (!reply.raw.writableFinished) gone.abort(new Error('the client closed the connection'));
      });
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ route, method: req.method, status: String(status) });
    metrics.latency.observe({ route }, seconds);
    req.log.info({ method: req.method, route, status, ms: Math.round(reply.elapsedTime * 10) / 10, rollouts: req.rolloutCount }, 'request');
  });

  // While draining, every response closes its connection, so keep-alive clients do not hold the close up.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (state.closing) reply.header('connection', 'close');
    return payload;
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, path: 'url' });
  });

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      reply.code(err.status).headers(err.headers).send(err.body());
      return;
    }
    const status = err.statusCode ?? 500;
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        reply.code(413).send({ error: `request body larger than the ${options.bodyLimit} byte limit`, path: '' });
        return;
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        reply.code(415).send({ error: `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json`, path: 'headers.content-type' });
        return;
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        reply.code(400).send({ error: 'empty request body: expected a JSON object', path: '' });
        return;
    }
    if (status >= 400 && status < 500) {
      reply.code(status).send({ error: err.message, path: '' });
      return;
    }
    // Unexpected: log the error's kind and stack frames; its message only when completions may be logged.
    const frames = (err.stack ?? '').split('\n').slice(1).join('\n');
    req.log.error({ err: { type: err.name, ...(options.logCompletions ? { message: err.message } : {}), stack: frames } }, 'internal error');
    reply.code(500).send({ error: `internal error (request ${req.id})`, path: '' });
  });

  registerScoreRoute(app, ctx);
  registerOpenRlhfRoute(app, ctx);
  registerRunCodeRoute(app, ctx);
  registerInfoRoutes(app, ctx, state);
  registerOpenApiRoutes(app, ctx);

  let closed: Promise<void> | null = null;
  return {
    app,
    options,
    specs,
    metrics,
    engine,
    logger,
    async listen() {
      await engine.ready();
      await app.listen({ host: options.host, port: options.port, backlog: 8192, listenTextResolver: (address) => `listening on ${address}` });
      const addr = app.server.address();
      if (addr === null || typeof addr === 'string') return String(addr);
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `http://${host}:${addr.port}`;
    },
    close() {
      closed ??= (async () => {
        state.closing = true;
        admission.startClosing();
        await app.close();
        await engine.close();
        await shared?.close();
        await remote?.close();
        await Promise.allSettled(specs.entries.map((e) => e.compiled.close()));
        logger.flush?.();
      })();
      return closed;
    },
  };
}

/** {@link createServer} then `listen()`; resolves to the server and its URL. */
export async function startServer(input: ServerOptions): Promise<{ server: RewardServer; url: string }> {
  const server = await createServer(input);
  try {
    const url = await server.listen();
    return { server, url };
  } catch (e) {
    await server.close().catch(() => {});
    throw e;
  }
}
