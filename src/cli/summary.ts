import type { BatchColumns } from '../pipeline.js';
import { num, renderTable } from './table.js';

/** Running mean/variance (Welford) with min, max and null count over a stream of values (NaN = null). */
class Stat {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  nulls = 0;
  errors = 0;

  add(col: Float64Array): void {
    for (let i = 0; i < col.length; i++) {
      const x = col[i]!;
      if (x !== x) {
        this.nulls++;
        continue;
      }
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
      if (x < this.min) this.min = x;
      if (x > this.max) this.max = x;
    }
  }

  json() {
    const std = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : this.n === 1 ? 0 : NaN;
    const f = (x: number) => (Number.isFinite(x) ? x : null);
    return { count: this.n, mean: f(this.n ? this.mean : NaN), std: f(std), min: f(this.min), max: f(this.max), nulls: this.nulls, errors: this.errors };
  }
}

/** Exact quantile of sorted values (linear interpolation, as numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Accumulates the end-of-run summary of `rewardkit score` over streamed batches. */
export class ScoreSummary {
  private readonly stats: Stat[];
  private readonly reward = new Stat();
  private rewards = new Float64Array(1024);
  private nRewards = 0;
  rollouts = 0;
  groups = 0;
  rolloutsWithErrors = 0;

  constructor(private readonly names: readonly string[]) {
    this.stats = names.map(() => new Stat());
  }

  add(cols: BatchColumns, rolloutsWithErrors: number): void {
    this.rollouts += cols.rewards.length;
    this.groups += cols.groupCount;
    this.rolloutsWithErrors += rolloutsWithErrors;
    cols.components.forEach((c, k) => {
      this.stats[k]!.add(c);
      this.stats[k]!.errors += cols.errorCounts[k]!;
    });
    this.reward.add(cols.rewards);
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

  /** The summary as JSON: per-component stats and the reward's distribution. */
  json() {
    const sorted = this.rewards.slice(0, this.nRewards).sort();
    const q = (p: number) => (sorted.length ? quantile(sorted, p) : null);
    return {
      rollouts: this.rollouts,
      groups: this.groups,
      rollouts_with_errors: this.rolloutsWithErrors,
      components: Object.fromEntries(this.names.map((n, k) => [n, this.stats[k]!.json()])),
      reward: { ...this.reward.json(), p10: q(0.1), p25: q(0.25), median: q(0.5), p75: q(0.75), p90: q(0.9) },
    };
  }

  /** Terminal table: one row per component and one for the reward, then the reward's quantiles. */
  render(): string {
    const j = this.json();
    const n = (x: number | null) => (x === null ? '-' : num(x));
    const rows = this.names.map((name) => {
      const s = j.components[name]!;
      return [name, n(s.mean), n(s.std), n(s.min), n(s.max), String(s.nulls), String(s.errors)];
    });
    const r = j.reward;
    rows.push(['reward', n(r.mean), n(r.std), n(r.min), n(r.max), String(r.nulls), '-']);
    const table = renderTable(['component', 'mean', 'std', 'min', 'max', 'nulls', 'errors'], rows);
    const dist = `reward quantiles: p10 ${n(r.p10)} · p25 ${n(r.p25)} · median ${n(r.median)} · p75 ${n(r.p75)} · p90 ${n(r.p90)}`;
    return `${table}\n${dist}`;
  }
}
