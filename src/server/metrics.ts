import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The server's Prometheus metrics, on a registry of its own (two servers in one process do not
 * share counters). Labels never carry request content: routes are route patterns, specs and
 * components are names from the served specs.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly rolloutsScored: Counter<'spec'>;
  readonly graderErrors: Counter<'spec' | 'component' | 'grader'>;
  readonly rejected: Counter<'reason'>;
  readonly prefixMismatch: Counter<'kind'>;
  readonly inflightRequests: Gauge;
  readonly inflightRollouts: Gauge;
  readonly queueDepth: Gauge;
  readonly backendOps: Gauge<'spec' | 'backend' | 'counter'>;

  /**
   * Registers every metric; `queueDepth` and `backendStats` (each served spec's model backends and
   * their counters, as in the main thread) are read at scrape time.
   */
  constructor(queueDepth: () => number, backendStats: () => { spec: string; backend: string; stats: Record<string, number> }[] = () => []) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'rewardkit_' });
    this.requests = new Counter({ name: 'rewardkit_http_requests_total', help: 'HTTP requests by route pattern, method and status.', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'rewardkit_http_request_duration_seconds',
      help: 'Request latency by route pattern (receipt of the request to the end of the response).',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.rolloutsScored = new Counter({ name: 'rewardkit_rollouts_scored_total', help: 'Rollouts scored, by spec.', labelNames: ['spec'], registers });
    this.graderErrors = new Counter({
      name: 'rewardkit_grader_errors_total',
      help: 'Grader errors (a component left null by a failing grader), by spec, component and grader kind.',
      labelNames: ['spec', 'component', 'grader'],
      registers,
    });
    this.rejected = new Counter({
      name: 'rewardkit_rejected_requests_total',
      help: 'Requests turned away before scoring: busy (429), deadline (503), shutting_down (503).',
      labelNames: ['reason'],
      registers,
    });
    this.prefixMismatch = new Counter({
      name: 'rewardkit_openrlhf_prefix_mismatch_total',
      help: '/get_reward queries that did not start with their prompt: offset (prompt found later in the query) or absent (whole query scored).',
      labelNames: ['kind'],
      registers,
    });
    this.inflightRequests = new Gauge({ name: 'rewardkit_inflight_requests', help: 'Scoring requests being handled.', registers });
    this.inflightRollouts = new Gauge({ name: 'rewardkit_inflight_rollouts', help: 'Rollouts being scored.', registers });
    this.queueDepth = new Gauge({
      name: 'rewardkit_queue_depth',
      help: 'Batches waiting for a pool worker (always 0 with inline scoring).',
      registers,
      collect() {
        this.set(queueDepth());
      },
    });
    this.backendOps = new Gauge({
      name: 'rewardkit_backend_ops',
      help: 'Model backend counters since start, by spec and backend: requests, cache_hits, calls, retries, errors, prompt_tokens, completion_tokens (main-thread backends; pool workers keep their own).',
      labelNames: ['spec', 'backend', 'counter'],
      registers,
      collect() {
        for (const { spec, backend, stats } of backendStats()) for (const [counter, v] of Object.entries(stats)) this.set({ spec, backend, counter }, v);
      },
    });
  }

  /** The exposition text for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
