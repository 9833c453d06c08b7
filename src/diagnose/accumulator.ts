import { StepCreditTally } from '../credit/diagnostics.js';
import { assertFiniteOrNull, assertGroups, assertLength } from '../shape/columns.js';
import { CoMoments, Moments, PairReservoir, spearman } from './moments.js';
import { countReason, formatReasons, topReasons, type ReasonCounts } from './reasons.js';
import {
  diagnoseOptionsSchema,
  type BatchDiagnostics,
  type ColumnStats,
  type DiagnoseInput,
  type DiagnoseOptions,
  type DiagnoseOptionsInput,
  type NullRateWarning,
} from './types.js';

/** Distinct values of `x[0..n)`, sorted, counting values within `relTol` of a cluster's first value as one. */
export function distinctValues(x: Float64Array, n: number, relTol: number): number {
  if (n === 0) return 0;
  const v = x.subarray(0, n).sort();
  let count = 1;
  let anchor = v[0];
  for (let i = 1; i < n; i++) {
    if (v[i] - anchor > relTol * Math.max(1, Math.abs(anchor))) {
      count++;
      anchor = v[i];
    }
  }
  return count;
}

/** Σ over groups of the distinct advantage values within the group (clustered as in {@link distinctValues}). */
export function distinctWithinGroups(adv: Float64Array, groupOf: Int32Array, rows: Uint32Array, relTol: number): number {
  const n = rows.length;
  if (n === 0) return 0;
  rows.sort((a, b) => groupOf[a] - groupOf[b] || adv[a] - adv[b]);
  let count = 1;
  let anchor = adv[rows[0]];
  for (let i = 1; i < n; i++) {
    const v = adv[rows[i]];
    if (groupOf[rows[i]] !== groupOf[rows[i - 1]] || v - anchor > relTol * Math.max(1, Math.abs(anchor))) {
      count++;
      anchor = v;
    }
  }
  return count;
}

/** Distinct rows (exact, NaN equal to NaN) among `rows`, over the columns `cols`. */
export function distinctRows(cols: readonly Float64Array[], rows: Uint32Array): number {
  const n = rows.length;
  if (n === 0) return 0;
  const K = cols.length;
  const cmp = (a: number, b: number): number => {
    for (let k = 0; k < K; k++) {
      const x = cols[k][a];
      const y = cols[k][b];
      if (x === y) continue;
      const xn = x !== x;
      const yn = y !== y;
      if (xn && yn) continue;
      if (xn) return 1;
      if (yn) return -1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
  rows.sort(cmp);
  let count = 1;
  for (let i = 1; i < n; i++) if (cmp(rows[i - 1], rows[i]) !== 0) count++;
  return count;
}

function stats(m: Moments): ColumnStats {
  return m.n === 0
    ? { count: 0, mean: null, std: null, min: null, max: null }
    : { count: m.n, mean: m.mean, std: m.std, min: m.min, max: m.max };
}

const rate = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function groupIds(groupOf: Int32Array): Float64Array {
  return Float64Array.from(groupOf);
}

/**
 * Merges the diagnostics of many batches (e.g. a streamed file scored chunk by chunk) into one
 * report. Exact across batches: counts, rates, reward/component/length statistics (Chan's parallel
 * Welford merge), Pearson correlations (merged co-moments). Per batch by nature: collapse (groups
 * are batch-local) and resolution (advantages are computed per batch; the report sums the
 * per-batch distinct counts). Spearman needs global ranks: the accumulator keeps a uniform
 * reservoir sample of `spearman_sample` (length, reward) pairs (100,000 by default) — exact while
 * fewer rollouts were seen, an estimate on that sample beyond (`length_corr.spearman_exact: false`).
 */
export class DiagnosticsAccumulator {
  readonly options: DiagnoseOptions;
  private names: string[] | null = null;
  private rollouts = 0;
  private batches = 0;
  private groups = 0;
  private nullRewards = 0;
  private reward = new Moments();
  private collapsed = 0;
  private scored = 0;
  private distinctAdv = 0;
  private distinctVec = 0;
  private groupDistinctAdv = 0;
  private groupDistinctVec = 0;
  private sawAdvantages = false;
  private advCount = 0;
  private zeroAdv = 0;
  private lengthReward = new CoMoments();
  private reservoir: PairReservoir;
  private comps: Moments[] = [];
  private nulls: number[] = [];
  private errors: number[] = [];
  private reasons: ReasonCounts[] = [];
  private corr: CoMoments[][] = [];
  private allFail: string[] = [];
  private allPass: string[] = [];
  private steps: StepCreditTally | null = null;

  /** `reservoirCap` overrides `spearman_sample` (diagnoseBatch passes the batch size: exact Spearman). */
  constructor(options: DiagnoseOptionsInput = {}, reservoirCap?: number) {
    this.options = diagnoseOptionsSchema.parse(options);
    this.reservoir = new PairReservoir(reservoirCap ?? this.options.spearman_sample);
  }

  /** Adds one batch. Throws on malformed input (lengths, group indices, ±Infinity), naming the rollout. */
  add(input: DiagnoseInput): this {
    if (input.steps) this.steps = this.steps ? this.steps.merge(input.steps) : new StepCreditTally({ foldAt: input.steps.foldAt }).merge(input.steps);
    const { rewards, components, names, groupOf, groupCount, lengths, advantages } = input;
    const n = rewards.length;
    const K = components.length;
    assertGroups(groupOf, groupCount, n);
    assertLength(lengths, n, 'lengths');
    assertFiniteOrNull(rewards, 'reward');
    assertFiniteOrNull(lengths, 'length');
    if (names.length !== K) throw new RangeError(`names has ${names.length} entries for ${K} components`);
    if (input.nullCounts.length !== K || input.errorCounts.length !== K) throw new RangeError(`nullCounts and errorCounts need one entry per component (${K})`);
    if (input.nullReasons !== undefined && input.nullReasons.length !== K) throw new RangeError(`nullReasons needs one entry per component (${K})`);
    components.forEach((c, k) => {
      assertLength(c, n, `component "${names[k]}"`);
      assertFiniteOrNull(c, `component "${names[k]}"`);
    });
    if (advantages !== undefined) {
      assertLength(advantages, n, 'advantages');
      assertFiniteOrNull(advantages, 'advantage');
    }
    if (this.names === null) {
      this.names = [...names];
      this.comps = names.map(() => new Moments());
      this.nulls = names.map(() => 0);
      this.errors = names.map(() => 0);
      this.reasons = names.map(() => new Map());
      this.corr = names.map(() => names.map(() => new CoMoments()));
    } else if (this.names.length !== K || this.names.some((nm, k) => nm !== names[k])) {
      throw new RangeError(`components differ from the first batch's (${this.names.join(', ')})`);
    }
    const o = this.options;
    const batch = this.batches++;
    this.rollouts += n;

    // reward, nulls
    this.reward.addColumn(rewards);
    for (let i = 0; i < n; i++) if (rewards[i] !== rewards[i]) this.nullRewards++;

    // groups: size, min, max, flags
    const size = new Float64Array(groupCount);
    const scoredN = new Float64Array(groupCount);
    const gmin = new Float64Array(groupCount).fill(Infinity);
    const gmax = new Float64Array(groupCount).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const g = groupOf[i];
      size[g]++;
      const r = rewards[i];
      if (r !== r) continue;
      scoredN[g]++;
      if (r < gmin[g]) gmin[g] = r;
      if (r > gmax[g]) gmax[g] = r;
    }
    for (let g = 0; g < groupCount; g++) {
      if (size[g] > 0) this.groups++;
      if (scoredN[g] >= 2) {
        this.scored++;
        if (gmax[g] - gmin[g] <= o.tie_tolerance) this.collapsed++;
      }
      if (scoredN[g] >= 1) {
        const id = input.groupNames?.[g] ?? `${batch}:${g}`;
        if (gmax[g] <= o.fail_at_most) this.allFail.push(id);
        if (gmin[g] >= o.pass_at_least) this.allPass.push(id);
      }
    }

    // advantages: zero fraction, resolution
    const vecCols = K > 0 ? components : [rewards];
    if (advantages !== undefined) {
      this.sawAdvantages = true;
      const vals = new Float64Array(n);
      const rows = new Uint32Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const a = advantages[i];
        if (a !== a || rewards[i] !== rewards[i]) continue;
        if (Math.abs(a) <= o.zero_tolerance) this.zeroAdv++;
        vals[m] = a;
        rows[m] = i;
        m++;
      }
      this.advCount += m;
      const used = rows.subarray(0, m);
      this.distinctVec += distinctRows(vecCols, used);
      this.groupDistinctVec += distinctRows([groupIds(groupOf), ...vecCols], used);
      this.groupDistinctAdv += distinctWithinGroups(advantages, groupOf, used, o.resolution_tolerance);
      this.distinctAdv += distinctValues(vals, m, o.resolution_tolerance);
    } else {
      const rows = new Uint32Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) if (rewards[i] === rewards[i]) rows[m++] = i;
      this.distinctVec += distinctRows(vecCols, rows.subarray(0, m));
    }

    // length bias
    this.lengthReward.add(lengths, rewards);
    for (let i = 0; i < n; i++) {
      const l = lengths[i];
      const r = rewards[i];
      if (l === l && r === r) this.reservoir.add(l, r);
    }

    // components
    for (let k = 0; k < K; k++) {
      this.comps[k].addColumn(components[k]);
      this.nulls[k] += input.nullCounts[k];
      this.errors[k] += input.errorCounts[k];
      const why = input.nullReasons?.[k];
      if (why) for (const [reason, count] of why) countReason(this.reasons[k], reason, count);
      for (let j = k; j < K; j++) this.corr[k][j].add(components[k], components[j]);
    }
    return this;
  }

  /** Components whose null (or error) rate exceeds `warn_null_rate`, in spec order. */
  private warnings(): NullRateWarning[] {
    const n = this.rollouts;
    const limit = this.options.warn_null_rate;
    const out: NullRateWarning[] = [];
    if (n === 0) return out;
    (this.names ?? []).forEach((component, k) => {
      const nulls = Math.max(this.nulls[k], this.errors[k]);
      const errors = this.errors[k];
      if (!(nulls / n > limit)) return;
      const reasons = topReasons(this.reasons[k], 3);
      const pct = `${((nulls / n) * 100).toFixed(1)}%`;
      const why = reasons.length > 0 ? `: ${formatReasons(reasons)}` : '';
      out.push({
        component,
        null_rate: nulls / n,
        error_rate: errors / n,
        nulls,
        errors,
        rollouts: n,
        warn_null_rate: limit,
        reasons,
        message: `component "${component}" is null on ${pct} of ${n.toLocaleString('en-US')} rollouts (${errors.toLocaleString('en-US')} errors; warn above ${(limit * 100).toFixed(0)}%)${why}`,
      });
    });
    return out;
  }

  /** The merged report. */
  result(): BatchDiagnostics {
    const names = this.names ?? [];
    const K = names.length;
    const n = this.rollouts;
    const res = this.reservoir;
    const totalErrors = this.errors.reduce((a, b) => a + b, 0);
    const matrix: (number | null)[][] = names.map((_, k) =>
      names.map((__, j) => {
        const cm = k <= j ? this.corr[k][j] : this.corr[j][k];
        return k === j ? (cm.pearson === null ? null : 1) : cm.pearson;
      }),
    );
    return {
      rollouts: n,
      batches: this.batches,
      groups: this.groups,
      null_rewards: this.nullRewards,
      reward: stats(this.reward),
      collapse_rate: rate(this.collapsed, this.scored),
      collapsed_groups: this.collapsed,
      scored_groups: this.scored,
      resolution: this.sawAdvantages ? rate(this.distinctAdv, this.distinctVec) : null,
      distinct_advantages: this.sawAdvantages ? this.distinctAdv : null,
      distinct_component_vectors: this.distinctVec,
      group_resolution: this.sawAdvantages ? rate(this.groupDistinctAdv, this.groupDistinctVec) : null,
      zero_advantage_fraction: this.sawAdvantages ? rate(this.zeroAdv, this.advCount) : null,
      length_corr: {
        pearson: this.lengthReward.pearson,
        spearman: spearman(res.x, res.y, res.size),
        spearman_exact: res.exact,
        count: this.lengthReward.n,
      },
      error_rate: rate(totalErrors, n * K),
      components: names.map((name, k) => ({
        name,
        ...stats(this.comps[k]),
        nulls: this.nulls[k],
        errors: this.errors[k],
        null_rate: rate(this.nulls[k], n),
        error_rate: rate(this.errors[k], n),
        null_reasons: topReasons(this.reasons[k], 5),
      })),
      warnings: this.warnings(),
      component_corr: { names: [...names], matrix },
      group_flags: {
        fail_at_most: this.options.fail_at_most,
        pass_at_least: this.options.pass_at_least,
        all_fail: this.allFail.length,
        all_pass: this.allPass.length,
        all_fail_groups: [...this.allFail],
        all_pass_groups: [...this.allPass],
      },
      ...(this.steps ? { steps: this.steps.result() } : {}),
    };
  }
}

