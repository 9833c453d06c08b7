import type { ResolvedOptions } from './options.js';
import type { SpecSet } from './specs.js';
import type { ScoreService } from './service.js';
import type { ServerMetrics } from './metrics.js';
import type { Admission } from './limits.js';
import type { SharedState } from './state.js';

/** What every route needs: settings, specs, the scoring service, metrics and admission (limits.ts). */
export interface ServerContext {
  options: ResolvedOptions;
  specs: SpecSet;
  service: ScoreService;
  metrics: ServerMetrics;
  admission: Admission;
  /** `--state`: the shared state store (state.ts), else null. */
  state: SharedState | null;
}

/**
 * How a route authenticates when the server has a token: `bearer` (Authorization header), `query`
 * (header, or `?token=` for trainers whose HTTP client cannot send headers), `none` (/healthz).
 */
export type AuthMode = 'bearer' | 'query' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** A trainer route: its body bytes count against the admission queue's capacity (503 beyond it). */
    scoring?: boolean;
  }
  interface FastifyRequest {
    /** Rollouts in the request, for the access log (never their content). */
    rolloutCount: number;
    /** The request's admission (trainer routes): its body bytes held in the queue's budget. */
    admitted: { release(): void; add(bytes: number): void } | null;
    /** Trainer routes: aborts when the client closes its connection before the response is sent. */
    gone: AbortSignal | null;
  }
}
