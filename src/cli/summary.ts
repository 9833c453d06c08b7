import type { BatchColumns } from '../pipeline.js';
import { DiagnosticsAccumulator, type BatchDiagnostics, type DiagnoseOptionsInput } from '../diagnose/index.js';
import { num, renderTable } from './table.js';

/** Exact quantile of sorted values (linear interpolation, as numpy's default). */
function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The end-of-run report of `rewardkit score`: the batch diagnostics merged over the whole file
 * (src/diagnose) plus the reward's exact quantiles (all rewards are kept: 8 bytes a rollout).
 */
export class ScoreSummary {
  readonly diagnostics: DiagnosticsAccumulator;
  private rewards = new Float64Array(1024);
  private nRewards = 0;
  rollouts = 0;
  rolloutsWithErrors = 0;

  constructor(
    private readonly names: readonly string[],
    options: DiagnoseOptionsInput = {},
  ) {
    this.diagnostics = new DiagnosticsAccumulator(options);
  }

  add(cols: BatchColumns, rolloutsWithErrors: number): void {
    this.rollouts += cols.rewards.length;
    this.rolloutsWithErrors += rolloutsWithErrors;
    this.diagnostics.add({
      rewards: cols.rewards,
      components: cols.components,
      names: this.names,
      advantages: cols.advantages ?? undefined,
      groupOf: cols.groupOf,
      groupCount: cols.groupCount,
      lengths: cols.tokenLengths,
      nullCounts: cols.nullCounts,
      errorCounts: cols.errorCounts,
      nullReasons: cols.nullReasons,
      groupNames: cols.groupKeys,
      steps: cols.steps,
    });
    for (let i = 0; i < cols.rewards.length; i++) {
      const r = cols.rewards[i]!;
      if (r !== r) continue;
      if (this.nRewards === this.rewards.length) {
        const next = new Float64Array(this.rewards.length * 2);
        next.set(this.rewards);
        this.rewards = next;
      }
      this.rewards[this.nRewards++] = r;
    }
  }

  /** Reward quantiles over the whole run (null when no reward was scored). */
  quantiles() {
    const sorted = this.rewards.slice(0, this.nRewards).sort();
    return { p10: quantile(sorted, 0.1), p25: quantile(sorted, 0.25), median: quantile(sorted, 0.5), p75: quantile(sorted, 0.75), p90: quantile(sorted, 0.9) };
  }

  /**
   * Terminal report: per-component table, reward quantiles, the diagnostics a trainer acts on, and a
   * `warning:` line per component null (or failing) on more than `warn_null_rate` of the rollouts,
   * with its commonest reasons and counts.
   */
  render(d: BatchDiagnostics = this.diagnostics.result()): string {
    const n = (x: number | null | undefined) => (x === null || x === undefined ? '-' : num(x));
    const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
    const rows = d.components.map((c) => [c.name, n(c.mean), n(c.std), n(c.min), n(c.max), String(c.nulls), String(c.errors)]);
    rows.push(['reward', n(d.reward.mean), n(d.reward.std), n(d.reward.min), n(d.reward.max), String(d.null_rewards), '-']);
    const q = this.quantiles();
    const lines = [
      renderTable(['component', 'mean', 'std', 'min', 'max', 'nulls', 'errors'], rows),
      `reward quantiles: p10 ${n(q.p10)} · p25 ${n(q.p25)} · median ${n(q.median)} · p75 ${n(q.p75)} · p90 ${n(q.p90)}`,
      `groups: ${d.groups} · collapsed (all rewards tie) ${pct(d.collapse_rate)} · all fail ${d.group_flags.all_fail} · all pass ${d.group_flags.all_pass}`,
    ];
    if (d.zero_advantage_fraction !== null)
      lines.push(`advantages: zero ${pct(d.zero_advantage_fraction)} · resolution ${n(d.resolution)} (within groups ${n(d.group_resolution)})`);
    lines.push(`length bias: corr(length in tokens, reward) pearson ${n(d.length_corr.pearson)} · spearman ${n(d.length_corr.spearman)} · grader error rate ${pct(d.error_rate)}`);
    if (d.steps) {
      const st = d.steps;
      const shown = st.credit_by_position.slice(0, 6).map((p) => `${p.position === st.fold_at ? `≥${p.position}` : p.position}: ${n(p.mean_advantage)}`);
      const more = st.credit_by_position.length > 6 ? ' …' : '';
      lines.push(
        `steps: ${st.steps} credited (${n(st.mean_steps)} per rollout) · non-zero credit ${pct(st.share_nonzero_credit)} · non-zero step reward ${pct(st.share_nonzero_reward)} · mean advantage by position ${shown.join(', ')}${more}`,
      );
    }
    lines.push(...nullWarningLines(d));
    return lines.join('\n');
  }
}

/**
 * One `warning:` line per component of `d.warnings` (null or failing on more than `warn_null_rate`
 * of the rollouts), naming its commonest reasons with counts, plus what it means for training.
 *
 * @example
 * // warning: component "correct" is null on 100.0% of 200 rollouts (0 errors; warn above 20%): no answer found ×200
 */
export function nullWarningLines(d: Pick<BatchDiagnostics, 'warnings'>): string[] {
  if (d.warnings.length === 0) return [];
  return [
    ...d.warnings.map((w) => `warning: ${w.message}`),
    'warning: a null component could not judge those rollouts: it adds nothing to their reward (on_null), and a rollout whose reward is null gets advantage 0; check the answer format and the reference field before a long run',
  ];
}
