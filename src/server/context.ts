import type { ResolvedOptions } from './options.js';
import type { SpecSet } from './specs.js';
import type { ScoreService } from './service.js';
import type { ServerMetrics } from './metrics.js';
import type { InflightLimiter } from './limits.js';

/** What every route needs: settings, specs, the scoring service, metrics and the limiter. */
export interface ServerContext {
  options: ResolvedOptions;
  specs: SpecSet;
  service: ScoreService;
  metrics: ServerMetrics;
  limiter: InflightLimiter;
}

/**
 * How a route authenticates when the server has a token: `bearer` (Authorization header), `query`
 * (header, or `?token=` for trainers whose HTTP client cannot send headers), `none` (/healthz).
 */
export type AuthMode = 'bearer' | 'query' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** Counted against the in-flight request limit (429 beyond it). */
    scoring?: boolean;
  }
  interface FastifyRequest {
    /** Rollouts in the request, for the access log (never their content). */
    rolloutCount: number;
  }
}
