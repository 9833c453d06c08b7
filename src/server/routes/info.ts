import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/**
 * Read-only routes: `GET /healthz` (no token needed; 503 while shutting down), `GET /v1/specs`
 * (the served specs, default spec and data_source routes) and `GET /metrics` (Prometheus text).
 */
export function registerInfoRoutes(app: FastifyInstance, ctx: ServerContext, state: { closing: boolean }): void {
  app.get('/healthz', { config: { auth: 'none' } }, async (_req, reply) => {
    if (state.closing) return reply.code(503).send({ status: 'shutting_down' });
    // With --state: still 200 while Redis is away (specs without state are served), but say so.
    if (ctx.state) return { status: 'ok', state: ctx.state.available() ? 'up' : 'unavailable' };
    return { status: 'ok' };
  });

  const described = ctx.specs.describe();
  app.get('/v1/specs', { config: { auth: 'bearer' } }, async () => ({ ...described, scoring: ctx.service.engine.mode }));

  app.get('/metrics', { config: { auth: 'bearer' } }, async (_req, reply) => {
    const text = await ctx.metrics.text();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
