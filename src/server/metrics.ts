import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchColumns } from '../pipeline.js';

/** Distinct `reason` label values kept per spec and component; further ones are counted as `other`. */
const MAX_REASON_LABELS = 20;

/**
 * A null reason as a metric label: the grader's fixed text up to its first `:`, `;`, quote or
 * bracket (what follows is often request content, e.g. a judge's answer), digits as `N`, at most 80
 * characters; `error: ` kept in front of grader errors.
 *
 * @example
 * reasonLabel('error: judge gave no usable answer in 3 attempts: bad JSON; last answer: "…"') // 'error: judge gave no usable answer in N attempts'
 */
export function reasonLabel(reason: string): string {
  const isError = reason.startsWith('error: ');
  const body = (isError ? reason.slice(7) : reason).split(/[:;"'`(\[{\n]/, 1)[0]!.replace(/\d+/g, 'N').trim().slice(0, 80) || 'unspecified';
  return isError ? `error: ${body}` : body;
}

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
  readonly queueWaiting: Gauge<'lane'>;
  readonly queueRunning: Gauge<'lane'>;
  readonly queueRollouts: Gauge;
  readonly queueBytes: Gauge;
  readonly queueWait: Histogram<'lane'>;
  readonly chunks: Counter;
  readonly backendOps: Gauge<'spec' | 'backend' | 'counter'>;
  readonly componentNulls: Counter<'spec' | 'component'>;
  readonly nullReasons: Counter<'spec' | 'component' | 'reason'>;
  readonly nullRate: Gauge<'spec' | 'component'>;
  readonly nullRateWarnings: Counter<'spec' | 'component'>;
  readonly nullRewards: Counter<'spec'>;
  readonly neutralRewards: Counter<'route' | 'kind'>;
  /** With `--state` ({@link enableState}): whether the state store is connected (1/0). */
  stateUp!: Gauge;
  /** With `--state`: state steps by spec and outcome (committed, conflict, unavailable, lost). */
  stateOps!: Counter<'spec' | 'outcome'>;
  /** With `--state`: wait for a spec's state lock. */
  stateLockWait!: Histogram<'spec'>;
  /** Reason labels in use per `spec\0component` (capped at MAX_REASON_LABELS). */
  private readonly reasonLabels = new Map<string, Set<string>>();

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
      help: 'Requests answered without a result: queue_full (503, /run_code 504: the admission queue could not hold the request), queue_timeout (503/504: waited past the queue deadline), deadline (503: scoring passed the per-request deadline), shutting_down (503), client_gone (the client closed its connection while its request waited: dropped from the queue unscored).',
      labelNames: ['reason'],
      registers,
    });
    this.prefixMismatch = new Counter({
      name: 'rewardkit_openrlhf_prefix_mismatch_total',
      help: '/get_reward queries that did not start with their prompt: offset (prompt found later in the query) or absent (whole query scored).',
      labelNames: ['kind'],
      registers,
    });
    this.componentNulls = new Counter({
      name: 'rewardkit_component_nulls_total',
      help: 'Null component values (cannot judge: no usable reference, not applicable, or a grader error), by spec and component.',
      labelNames: ['spec', 'component'],
      registers,
    });
    this.nullReasons = new Counter({
      name: 'rewardkit_component_null_reasons_total',
      help: 'Null component values by reason (the grader\'s details.reason, or error: <message>, cut before any quoted content; at most 20 reasons per component, then other).',
      labelNames: ['spec', 'component', 'reason'],
      registers,
    });
    this.nullRate = new Gauge({
      name: 'rewardkit_component_null_rate',
      help: 'Share of the last scored batch whose component value was null (errors included), by spec and component.',
      labelNames: ['spec', 'component'],
      registers,
    });
    this.nullRateWarnings = new Counter({
      name: 'rewardkit_null_rate_warnings_total',
      help: 'Scored batches in which a component was null on more than the spec\'s diagnostics.warn_null_rate (default 0.2) of the rollouts.',
      labelNames: ['spec', 'component'],
      registers,
    });
    this.nullRewards = new Counter({
      name: 'rewardkit_null_rewards_total',
      help: 'Rollouts whose reward was null (cannot judge; advantage 0), by spec.',
      labelNames: ['spec'],
      registers,
    });
    this.neutralRewards = new Counter({
      name: 'rewardkit_neutral_rewards_total',
      help: 'Reward-only routes: null rewards replaced by a neutral value — group_mean (the mean of the group\'s judged rewards) or no_judged_rollout (the configured fallback, default 0).',
      labelNames: ['route', 'kind'],
      registers,
    });
    this.inflightRequests = new Gauge({ name: 'rewardkit_inflight_requests', help: 'Trainer-route requests admitted and not yet answered (body being read, queued or being scored).', registers });
    this.inflightRollouts = new Gauge({ name: 'rewardkit_inflight_rollouts', help: 'Rollouts being scored (holding a run slot of the score lane).', registers });
    this.queueWaiting = new Gauge({ name: 'rewardkit_queue_waiting', help: 'Requests waiting in the admission queue for a run slot, by lane (score: /v1/score and /get_reward; sandbox: /run_code).', labelNames: ['lane'], registers });
    this.queueRunning = new Gauge({ name: 'rewardkit_queue_running', help: 'Requests holding a run slot, by lane.', labelNames: ['lane'], registers });
    this.queueRollouts = new Gauge({ name: 'rewardkit_queue_rollouts', help: 'Rollouts held by queued and running requests (bounded by --queue-rollouts).', registers });
    this.queueBytes = new Gauge({ name: 'rewardkit_queue_bytes', help: 'Body bytes of trainer-route requests held (bounded by --queue-memory).', registers });
    this.chunks = new Counter({ name: 'rewardkit_scoring_chunks_total', help: 'Chunks graded for requests larger than one scoring chunk (--max-rollouts).', registers });
    this.queueWait = new Histogram({
      name: 'rewardkit_queue_wait_seconds',
      help: 'Time a request waited in the admission queue before its run slot (or before its wait deadline passed), by lane.',
      labelNames: ['lane'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'rewardkit_queue_depth',
      help: 'Batches waiting for a pool worker (always 0 with inline scoring); see rewardkit_queue_waiting for the admission queue.',
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

  /**
   * Names this replica on every metric (a `replica` label on each series), so the metrics of
   * replicas behind one load balancer stay apart after aggregation.
   */
  setReplica(name: string): void {
    this.registry.setDefaultLabels({ replica: name });
  }

  /** Registers the state store's metrics (`serve --state`, see state.ts). */
  enableState(): void {
    const registers = [this.registry];
    this.stateUp = new Gauge({ name: 'rewardkit_state_store_up', help: 'Whether the shared state store (--state redis://…) is connected: 1 yes, 0 no (specs with state then get 503).', registers });
    this.stateOps = new Counter({
      name: 'rewardkit_state_steps_total',
      help: 'Atomic state steps of specs with cross-batch state, by spec and outcome: committed, conflict (another replica committed first: step redone), unavailable (Redis unreachable: 503), lost (state gone or older than seen: 500).',
      labelNames: ['spec', 'outcome'],
      registers,
    });
    this.stateLockWait = new Histogram({
      name: 'rewardkit_state_lock_wait_seconds',
      help: "Wait for a spec's state lock (other replicas' batches of the same spec are being applied), by spec.",
      labelNames: ['spec'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /**
   * Null facts of one scored batch: null values and their reasons per component, the batch's null rate
   * per component, a warning count when it exceeds `warnNullRate`, and null rewards.
   */
  recordNulls(spec: string, names: readonly string[], columns: Pick<BatchColumns, 'rewards' | 'nullCounts' | 'errorCounts' | 'nullReasons'>, warnNullRate: number): void {
    const n = columns.rewards.length;
    if (n === 0) return;
    names.forEach((component, k) => {
      const nulls = Math.max(columns.nullCounts[k] ?? 0, columns.errorCounts[k] ?? 0);
      this.nullRate.set({ spec, component }, nulls / n);
      if (nulls === 0) return;
      this.componentNulls.inc({ spec, component }, nulls);
      if (nulls / n > warnNullRate) this.nullRateWarnings.inc({ spec, component });
      const key = `${spec}\0${component}`;
      let used = this.reasonLabels.get(key);
      if (!used) this.reasonLabels.set(key, (used = new Set()));
      for (const [reason, count] of columns.nullReasons?.[k] ?? []) {
        let label = reasonLabel(reason);
        if (!used.has(label)) {
          if (used.size >= MAX_REASON_LABELS) label = 'other';
          else used.add(label);
        }
        this.nullReasons.inc({ spec, component, reason: label }, count);
      }
    });
    let nullRewards = 0;
    for (let i = 0; i < n; i++) if (columns.rewards[i] !== columns.rewards[i]) nullRewards++;
    if (nullRewards > 0) this.nullRewards.inc({ spec }, nullRewards);
  }

  /** The exposition text for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
