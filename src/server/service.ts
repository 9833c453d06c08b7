import type { BatchResult } from '../pipeline.js';
import type { ComponentError, Rollout } from '../rollout/types.js';
import { RolloutError, validateRollout } from '../rollout/validate.js';
import type { ScoringEngine } from './engine.js';
import { HttpError, kindOf } from './errors.js';
import { withDeadline, type AdmissionLane } from './limits.js';
import { groupPieces, replayPieces, type GradeReply } from './grading.js';
import { Slicer } from './slicer.js';
import type { ScoreOptions } from '../pipeline.js';
import type { ServerMetrics } from './metrics.js';
import type { SpecEntry, SpecSet } from './specs.js';
import type { SharedState } from './state.js';

/**
 * Scoring shared by every scoring route: route rollouts to specs, wait for a run slot in the
 * admission queue (limits.ts), score each spec's part as one batch (groups and advantages as the
 * CLI computes them for one batch) under the request deadline — a part larger than one scoring
 * chunk is graded chunk by chunk (whole groups) and then combined over the whole part, so it still
 * is one batch — count metrics, and shape slim per-rollout results in request order.
 */

/** One rollout's result as the server returns it (the rollout itself is not echoed back). */
export interface SlimResult {
  id: string;
  reward: number | null;
  components: Record<string, number | null>;
  advantage?: number | null;
  details?: Record<string, unknown>;
  errors?: ComponentError[];
  /** Per step, for rollouts with `steps` when the spec has `credit` or step-scoped components. */
  steps?: SlimStep[];
  /** With `credit.token_rewards`: the step rewards and advantages on the response's tokens. */
  token_rewards?: (number | null)[];
  token_advantages?: (number | null)[];
}

/** One step's result: its credited `reward` and `advantage`, and its step-scoped components. */
export interface SlimStep {
  reward: number | null;
  advantage?: number | null;
  components?: Record<string, number | null>;
  details?: Record<string, unknown>;
}

function slimSteps(steps: readonly Record<string, unknown>[], details: boolean): SlimStep[] {
  return steps.map((s) => {
    const out: SlimStep = { reward: typeof s.reward === 'number' ? s.reward : null };
    if ('advantage' in s) out.advantage = s.advantage as number | null;
    if (s.components !== undefined) out.components = s.components as Record<string, number | null>;
    if (details && s.details !== undefined) out.details = s.details as Record<string, unknown>;
    return out;
  });
}

/** One spec's part of a request, scored. */
export interface ScoredPart {
  entry: SpecEntry;
  /** Request indices of this part's rollouts, in batch order. */
  indices: number[];
  batch: BatchResult;
}

/** What {@link ScoreService.score} returns: slim results and each spec's scored batch (for diagnostics). */
export interface ScoreOutcome {
  /** In request order. */
  results: SlimResult[];
  parts: ScoredPart[];
}

/**
 * Checks a request's `rollouts` value against the rollout contract. Throws 422 (wrong type, empty,
 * a rollout breaking the contract — path `rollouts[i].field`). There is no count limit: large
 * batches are scored in chunks, and the body's byte limit bounds a request.
 */
export function validateRollouts(v: unknown, path = 'rollouts'): Rollout[] {
  if (v === undefined) throw new HttpError(422, 'is required (a list of rollouts)', path);
  if (!Array.isArray(v)) throw new HttpError(422, `expected a list of rollouts, got ${kindOf(v)}`, path);
  if (v.length === 0) throw new HttpError(422, 'empty batch: send at least one rollout', path);
  for (let i = 0; i < v.length; i++) {
    try {
      validateRollout(v[i]);
    } catch (e) {
      if (e instanceof RolloutError) {
        const field = e.field === '(record)' ? '' : `.${e.field}`;
        const msg = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
        throw new HttpError(422, msg, `${path}[${i}]${field}`);
      }
      throw e;
    }
  }
  return v as Rollout[];
}

/** Runs batches through the engine; one instance per server. */
export class ScoreService {
  constructor(
    readonly specs: SpecSet,
    readonly engine: ScoringEngine,
    private readonly lane: AdmissionLane,
    private readonly metrics: ServerMetrics,
    private readonly deadlineMs: number,
    /** Scoring chunk, rollouts (`--max-rollouts`). */
    private readonly chunk: number,
    /** `--state`: where specs with cross-batch state keep it (state.ts); null keeps it in this process. */
    private readonly state: SharedState | null = null,
    /** Spec indices whose state goes to {@link state}. */
    private readonly stateful: ReadonlySet<number> = new Set(),
  ) {}

  /**
   * Scores validated rollouts: one batch per spec (`specName`, else routing), after waiting in the
   * admission queue. Throws HttpError 422, or 503 (queue full, wait deadline, scoring deadline).
   * `gone` (the client closed its connection) takes a waiting request out of the queue and stops
   * the grading of a running one.
   */
  async score(
    rollouts: Rollout[],
    specName: string | undefined,
    opts: { details?: boolean; parts?: { entry: SpecEntry; indices: number[] }[]; gone?: AbortSignal | null } = {},
  ): Promise<ScoreOutcome> {
    const n = rollouts.length;
    const parts = opts.parts ?? this.specs.partition(rollouts, specName);
    const release = await this.lane.enter(n, undefined, opts.gone);
    // Aborted at the deadline, or when the client goes away: the engine stops grading (see ScoringEngine.score).
    const abort = new AbortController();
    opts.gone?.addEventListener('abort', () => abort.abort(opts.gone!.reason), { once: true });
    let work: Promise<BatchResult[]>;
    try {
      work = Promise.all(
        parts.map((p) => this.scorePart(p.entry, p.indices.length === n ? rollouts : p.indices.map((i) => rollouts[i]!), { details: opts.details, slim: true }, abort.signal)),
      );
    } catch (e) {
      release();
      throw e;
    }
    const batches = await withDeadline(work, this.deadlineMs, this.metrics, release, abort);
    const results = new Array<SlimResult>(n);
    const scored: ScoredPart[] = [];
    parts.forEach((p, j) => {
      const batch = batches[j]!;
      scored.push({ entry: p.entry, indices: p.indices, batch });
      this.count(p.entry, batch);
      const rs = batch.results;
      const stepped = p.entry.compiled.credit !== null || p.entry.compiled.steps !== null;
      for (let m = 0; m < rs.length; m++) {
        const r = rs[m]!;
        const out: SlimResult = { id: r.id, reward: r.reward, components: r.components };
        if (r.advantage !== undefined) out.advantage = r.advantage;
        if (opts.details && r.details) out.details = r.details;
        if (r.errors) out.errors = r.errors;
        if (stepped && Array.isArray(r.steps)) out.steps = slimSteps(r.steps as Record<string, unknown>[], opts.details === true);
        if (Array.isArray(r.token_rewards)) {
          out.token_rewards = r.token_rewards as (number | null)[];
          out.token_advantages = r.token_advantages as (number | null)[];
        }
        results[p.indices[m]!] = out;
      }
    });
    return { results, parts: scored };
  }

  /**
   * One spec's part as one batch: straight to the engine up to one chunk; beyond, graded chunk by
   * chunk (whole groups, one after another so a huge request does not take every worker at once)
   * and replayed over the whole part (grading.ts), so results equal one batch.
   */
  private async scorePart(entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal: AbortSignal): Promise<BatchResult> {
    if (this.state !== null && this.stateful.has(entry.index)) return this.scoreShared(this.state, entry, rollouts, opts, signal);
    if (rollouts.length <= this.chunk) return this.engine.score(entry, rollouts, opts, signal);
    const pieces = groupPieces(rollouts, this.chunk);
    const replies: GradeReply[] = [];
    for (const idx of pieces) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('scoring was cancelled');
      replies.push(await this.engine.grade(entry, idx.map((i) => rollouts[i]!), opts.details === true, signal));
    }
    this.metrics.chunks.inc(pieces.length);
    return replayPieces(entry.compiled, rollouts, pieces, replies, opts, (c) => new Slicer(10, signal).spec(c));
  }

  /**
   * A part of a spec whose cross-batch state is shared (`--state`): graded first, chunk by chunk as
   * {@link scorePart} does, with no lock held; then combined, shaped, credited and given advantages
   * as one atomic step on the shared state (state.ts), so the rewards are those of the committed update.
   */
  private async scoreShared(state: SharedState, entry: SpecEntry, rollouts: Rollout[], opts: ScoreOptions, signal: AbortSignal): Promise<BatchResult> {
    state.assertAvailable(entry);
    const pieces = groupPieces(rollouts, this.chunk);
    const replies: GradeReply[] = [];
    for (const idx of pieces) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('scoring was cancelled');
      replies.push(await this.engine.grade(entry, idx.length === rollouts.length ? rollouts : idx.map((i) => rollouts[i]!), opts.details === true, signal));
    }
    if (pieces.length > 1) this.metrics.chunks.inc(pieces.length);
    return state.run(entry, signal, () => replayPieces(entry.compiled, rollouts, pieces, replies, opts, (c) => new Slicer(10, signal).spec(c)));
  }

  /** Metrics of one scored batch: rollouts per spec, grader errors per component, nulls and their reasons. */
  private count(entry: SpecEntry, batch: BatchResult): void {
    this.metrics.rolloutsScored.inc({ spec: entry.name }, batch.results.length);
    this.metrics.recordNulls(entry.name, entry.compiled.names, batch.columns, entry.compiled.spec.diagnostics?.warn_null_rate ?? 0.2);
    const ec = batch.columns.errorCounts;
    for (let k = 0; k < ec.length; k++) {
      if (ec[k]! > 0) this.metrics.graderErrors.inc({ spec: entry.name, component: entry.compiled.names[k]!, grader: entry.graderKinds[k]! }, ec[k]!);
    }
  }
}
