import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvantageBatch } from '../advantage/batch.js';
import { buildEstimator } from '../advantage/registry.js';
import { DiagnosticsAccumulator } from './accumulator.js';
import { diagnoseBatch } from './diagnose.js';
import type { DiagnoseInput } from './types.js';

interface Rows {
  rewards: (number | null)[];
  groups: (string | number)[];
  components?: (number | null)[][];
  names?: string[];
  lengths?: (number | null)[];
  weights?: number[];
  errors?: number[];
}

function input(r: Rows, estimator?: string): DiagnoseInput {
  const K = r.components?.length ?? 0;
  const { batch, groupKeys } = buildAdvantageBatch({ rewards: r.rewards, groups: r.groups, components: r.components, weights: r.weights });
  const nullCounts = Int32Array.from(batch.components.map((c) => c.filter(Number.isNaN).length));
  return {
    rewards: batch.rewards,
    components: batch.components,
    names: r.names ?? Array.from({ length: K }, (_, k) => `c${k}`),
    advantages: estimator ? buildEstimator({ estimator } as never).compute(batch) : undefined,
    groupOf: batch.groupOf,
    groupCount: batch.groupCount,
    groupNames: groupKeys,
    lengths: Float64Array.from(r.lengths ?? r.rewards.map(() => null), (x) => (x === null ? NaN : x)),
    nullCounts,
    errorCounts: Int32Array.from(r.errors ?? new Array<number>(K).fill(0)),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function pearson(a: number[], b: number[]): number | null {
  if (a.length < 2) return null;
  const ma = mean(a);
  const mb = mean(b);
  let c = 0;
  let va = 0;
  let vb = 0;
  a.forEach((x, i) => {
    c += (x - ma) * (b[i] - mb);
    va += (x - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  });
  return va > 0 && vb > 0 ? c / Math.sqrt(va * vb) : null;
}
function ranks(xs: number[]): number[] {
  return xs.map((x) => xs.filter((y) => y < x).length + (xs.filter((y) => y === x).length + 1) / 2);
}
const closeOrNull = (got: number | null, want: number | null, tol = 1e-9) => {
  if (want === null) expect(got).toBeNull();
  else expect(Math.abs((got as number) - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol);
};

// GDPO's two-group example (reference §1).
const gdpoExample: Rows = { rewards: [1, 0, 2, 0], groups: ['A', 'A', 'B', 'B'], components: [[1, 0, 1, 0], [0, 0, 1, 0]] };

describe('diagnoseBatch', () => {
  it('resolution: GRPO collapses the GDPO example (2 values / 3 vectors), GDPO keeps it (4/3)', () => {
    const grpo = diagnoseBatch(input(gdpoExample, 'grpo'));
    const gdpo = diagnoseBatch(input(gdpoExample, 'gdpo'));
    expect(grpo.distinct_component_vectors).toBe(3);
    expect(grpo.distinct_advantages).toBe(2);
    expect(grpo.resolution).toBeCloseTo(2 / 3, 12);
    expect(gdpo.distinct_advantages).toBe(4);
    expect(gdpo.resolution).toBeCloseTo(4 / 3, 12);
    // within each group both keep every distinction
    expect(grpo.group_resolution).toBe(1);
    expect(gdpo.group_resolution).toBe(1);
    expect(diagnoseBatch(input(gdpoExample)).resolution).toBeNull();
  });

  it('group_resolution drops below 1 when a group gives different vectors the same advantage', () => {
    const d = diagnoseBatch(input({ rewards: [1, 1, 0], groups: [0, 0, 0], components: [[1, 0, 0], [0, 1, 0]] }, 'grpo'));
    expect(d.group_resolution).toBeCloseTo(2 / 3, 12);
  });

  it('collapse rate, zero-advantage fraction and null rewards', () => {
    const d = diagnoseBatch(input({ rewards: [1, 1, 0, 1, null, 2, 5, 0.5, 0.5, 0.5], groups: [0, 0, 1, 1, 2, 2, 3, 4, 4, 4] }, 'grpo'));
    expect(d.scored_groups).toBe(3); // groups 0, 1, 4 (group 2 has one non-null reward, group 3 one rollout)
    expect(d.collapsed_groups).toBe(2);
    expect(d.collapse_rate).toBeCloseTo(2 / 3, 12);
    expect(d.zero_advantage_fraction).toBeCloseTo(5 / 9, 12);
    expect(d.null_rewards).toBe(1);
    expect(d.groups).toBe(5);
    expect(d.rollouts).toBe(10);
    const tol = diagnoseBatch(input({ rewards: [1, 1.05], groups: [0, 0] }), { tie_tolerance: 0.1 });
    expect(tol.collapse_rate).toBe(1);
  });

  it('length correlation: Pearson and Spearman (average ranks for ties) as computed naively', () => {
    const arb = fc.array(fc.record({ r: fc.option(fc.integer({ min: -3, max: 3 }), { freq: 6 }), l: fc.option(fc.integer({ min: 0, max: 50 }), { freq: 6 }) }), { maxLength: 40 });
    fc.assert(
      fc.property(arb, (rows) => {
        const d = diagnoseBatch(input({ rewards: rows.map((x) => x.r), groups: rows.map(() => 0), lengths: rows.map((x) => x.l) }));
        const both = rows.filter((x) => x.r !== null && x.l !== null);
        const L = both.map((x) => x.l as number);
        const R = both.map((x) => x.r as number);
        expect(d.length_corr.count).toBe(both.length);
        closeOrNull(d.length_corr.pearson, pearson(L, R));
        closeOrNull(d.length_corr.spearman, both.length < 2 ? null : pearson(ranks(L), ranks(R)));
        expect(d.length_corr.spearman_exact).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('per-component statistics, correlation matrix (pairwise complete), nulls and error rate', () => {
    const rows: Rows = {
      rewards: [1, 2, 3, 4, 5],
      groups: [0, 0, 0, 1, 1],
      components: [
        [1, 2, null, 4, 6],
        [2, 4, 1, null, 12],
        [7, 7, 7, 7, 7],
      ],
      names: ['a', 'b', 'const'],
      errors: [1, 0, 0],
    };
    const d = diagnoseBatch(input(rows));
    const [a, b, c] = d.components;
    expect(a).toMatchObject({ name: 'a', count: 4, min: 1, max: 6, nulls: 1, errors: 1, null_rate: 0.2, error_rate: 0.2 });
    expect(a.mean).toBeCloseTo(13 / 4, 12);
    expect(a.std).toBeCloseTo(Math.sqrt([1, 2, 4, 6].reduce((s, x) => s + (x - 3.25) ** 2, 0) / 3), 12);
    expect(b.count).toBe(4);
    expect(c).toMatchObject({ mean: 7, std: 0, min: 7, max: 7 });
    expect(d.error_rate).toBeCloseTo(1 / 15, 12);
    expect(d.component_corr.names).toEqual(['a', 'b', 'const']);
    const m = d.component_corr.matrix;
    closeOrNull(m[0][1], pearson([1, 2, 6], [2, 4, 12]));
    expect(m[0][1]).toBe(m[1][0]);
    expect(m[0][0]).toBe(1);
    expect(m[2][2]).toBeNull(); // constant column: undefined correlation
    expect(m[0][2]).toBeNull();
  });

  it('flags all_fail and all_pass groups by name (SAGE trigger), with configurable thresholds', () => {
    const rows: Rows = { rewards: [0, 0, 1, 1, 0, 1, null, -1, 0.5, 0.5], groups: ['q1', 'q1', 'q2', 'q2', 'q3', 'q3', 'q4', 'q5', 'q6', 'q6'] };
    const d = diagnoseBatch(input(rows));
    expect(d.group_flags).toEqual({ fail_at_most: 0, pass_at_least: 1, all_fail: 2, all_pass: 1, all_fail_groups: ['q1', 'q5'], all_pass_groups: ['q2'] });
    const t = diagnoseBatch(input(rows), { fail_at_most: 0.5, pass_at_least: 0.5 });
    expect(t.group_flags.all_fail_groups).toEqual(['q1', 'q5', 'q6']);
    expect(t.group_flags.all_pass_groups).toEqual(['q2', 'q6']);
  });

  it('an empty batch gives zero counts and null rates, and serialises to JSON without loss', () => {
    const d = diagnoseBatch(input({ rewards: [], groups: [], components: [[], []] }, 'grpo'));
    expect(d).toMatchObject({ rollouts: 0, groups: 0, collapse_rate: null, resolution: null, zero_advantage_fraction: null, error_rate: null });
    expect(d.reward).toEqual({ count: 0, mean: null, std: null, min: null, max: null });
    const full = diagnoseBatch(input(gdpoExample, 'gdpo'));
    expect(JSON.parse(JSON.stringify(full))).toEqual(full);
    const keys = JSON.stringify(full).match(/"([^"]+)":/g) ?? [];
    for (const k of keys) expect(k).toMatch(/^"[a-z0-9_]+":$/);
  });

  it('rejects malformed input naming the rollout', () => {
    const i = input({ rewards: [1, 0], groups: [0, 0], lengths: [3, 4] });
    i.lengths[1] = Infinity;
    expect(() => diagnoseBatch(i)).toThrow(/rollout 1: length is Infinity/);
    const j = input({ rewards: [1, 0], groups: [0, 0], components: [[1, 0]] });
    expect(() => diagnoseBatch({ ...j, names: [] })).toThrow(/names/);
  });
});

describe('resolution: GDPO vs GRPO', () => {
  const resolution = (rows: Rows, estimator: string) => diagnoseBatch(input(rows, estimator)).resolution as number;

  it('GDPO ≥ GRPO on random batches of two-rollout groups with binary components (any weights)', () => {
    const arb = fc.integer({ min: 2, max: 4 }).chain((K) =>
      fc.record({
        weights: fc.array(fc.double({ min: 0.1, max: 3, noNaN: true }), { minLength: K, maxLength: K }),
        groups: fc.array(fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: K, maxLength: K }), { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 12 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ weights, groups }) => {
        const vecs = groups.flat();
        const rows: Rows = {
          rewards: vecs.map((v) => v.reduce((s, x, k) => s + weights[k] * x, 0)),
          groups: groups.flatMap((g, i) => g.map(() => i)),
          components: weights.map((_, k) => vecs.map((v) => v[k])),
          weights,
        };
        expect(resolution(rows, 'gdpo')).toBeGreaterThanOrEqual(resolution(rows, 'grpo'));
      }),
      { numRuns: 300 },
    );
  });

  it('GDPO is higher on average over random multi-reward batches (groups of 16, binary components)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    let gdpo = 0;
    let grpo = 0;
    let wins = 0;
    const N = 60;
    for (let t = 0; t < N; t++) {
      const K = 2 + Math.floor(rnd() * 3);
      const groups: number[] = [];
      const comps = Array.from({ length: K }, () => [] as number[]);
      for (let g = 0; g < 6; g++) for (let i = 0; i < 16; i++) {
        groups.push(g);
        comps.forEach((c) => c.push(rnd() < 0.5 ? 1 : 0));
      }
      const rows: Rows = { rewards: groups.map((_, i) => comps.reduce((s, c) => s + c[i], 0)), groups, components: comps };
      const a = resolution(rows, 'gdpo');
      const b = resolution(rows, 'grpo');
      gdpo += a;
      grpo += b;
      if (a >= b) wins++;
    }
    expect(gdpo / N).toBeGreaterThan(1.2 * (grpo / N));
    expect(wins / N).toBeGreaterThan(0.8);
  });

  it('is not a per-batch law: GRPO can score higher by giving one vector different advantages in different groups', () => {
    // Group 1 {(0,0),(1,1),(1,1),(0,0)}, group 2 {(1,1),(0,0),(0,1),(1,0)}: GDPO maps (1,1) and (0,0) to the same
    // values in both groups (consistent), GRPO to ±0.866 in one and ±1.225 in the other.
    const vecs = [[0, 0], [1, 1], [1, 1], [0, 0], [1, 1], [0, 0], [0, 1], [1, 0]];
    const rows: Rows = {
      rewards: vecs.map((v) => v[0] + v[1]),
      groups: [1, 1, 1, 1, 2, 2, 2, 2],
      components: [vecs.map((v) => v[0]), vecs.map((v) => v[1])],
    };
    expect(resolution(rows, 'grpo')).toBeCloseTo(5 / 4, 12);
    expect(resolution(rows, 'gdpo')).toBeCloseTo(3 / 4, 12);
  });
});

describe('DiagnosticsAccumulator', () => {
  const rowsArb = fc.array(
    fc.record({
      r: fc.option(fc.integer({ min: -2, max: 3 }), { freq: 8 }),
      a: fc.option(fc.integer({ min: -1000, max: 1000 }).map((x) => x / 1000), { freq: 5 }),
      b: fc.integer({ min: 0, max: 4 }),
      l: fc.integer({ min: 1, max: 100 }),
      g: fc.integer({ min: 0, max: 5 }),
    }),
    { minLength: 1, maxLength: 60 },
  );

  it('merging batches equals one pass over all rows (statistics, correlations, counts, Spearman under the cap)', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: 1, max: 5 }), (rows, parts) => {
        const toRows = (rs: typeof rows): Rows => ({
          rewards: rs.map((x) => x.r),
          groups: rs.map((x) => x.g),
          components: [rs.map((x) => x.a), rs.map((x) => x.b)],
          lengths: rs.map((x) => x.l),
          errors: [1, 0],
        });
        const whole = diagnoseBatch(input(toRows(rows), 'grpo'));
        const acc = new DiagnosticsAccumulator();
        const size = Math.ceil(rows.length / parts);
        for (let s = 0; s < rows.length; s += size) acc.add(input(toRows(rows.slice(s, s + size)), 'grpo'));
        const merged = acc.result();
        expect(merged.rollouts).toBe(whole.rollouts);
        expect(merged.null_rewards).toBe(whole.null_rewards);
        for (const key of ['count', 'min', 'max'] as const) expect(merged.reward[key]).toBe(whole.reward[key]);
        closeOrNull(merged.reward.mean, whole.reward.mean);
        closeOrNull(merged.reward.std, whole.reward.std);
        closeOrNull(merged.length_corr.pearson, whole.length_corr.pearson);
        closeOrNull(merged.length_corr.spearman, whole.length_corr.spearman);
        merged.components.forEach((c, k) => {
          const w = whole.components[k];
          expect([c.count, c.nulls, c.min, c.max]).toEqual([w.count, w.nulls, w.min, w.max]);
          expect(c.errors).toBe(w.errors * Math.ceil(rows.length / size)); // one error per batch given
          closeOrNull(c.mean, w.mean);
          closeOrNull(c.std, w.std);
        });
        merged.component_corr.matrix.forEach((row, k) => row.forEach((v, j) => closeOrNull(v, whole.component_corr.matrix[k][j])));
      }),
      { numRuns: 150 },
    );
  });

  it('approximates Spearman on a uniform sample beyond spearman_sample and says so', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const acc = new DiagnosticsAccumulator({ spearman_sample: 2000 });
    const all: Rows = { rewards: [], groups: [], lengths: [] };
    for (let b = 0; b < 10; b++) {
      const rows: Rows = { rewards: [], groups: [], lengths: [] };
      for (let i = 0; i < 1000; i++) {
        const l = rnd() * 100;
        const r = l / 100 + rnd();
        for (const t of [rows, all]) {
          t.rewards.push(r);
          t.groups.push(i >> 3);
          t.lengths!.push(l);
        }
      }
      acc.add(input(rows));
    }
    const merged = acc.result();
    const exact = diagnoseBatch(input(all));
    expect(merged.length_corr.spearman_exact).toBe(false);
    expect(exact.length_corr.spearman_exact).toBe(true);
    expect(Math.abs((merged.length_corr.spearman as number) - (exact.length_corr.spearman as number))).toBeLessThan(0.05);
    closeOrNull(merged.length_corr.pearson, exact.length_corr.pearson, 1e-9);
    expect(merged.batches).toBe(10);
  });

  it('names groups "<batch>:<index>" without names and rejects a change of components', () => {
    const acc = new DiagnosticsAccumulator();
    const i0 = input({ rewards: [0, 0], groups: [0, 0], components: [[0, 0]] });
    acc.add({ ...i0, groupNames: undefined }).add({ ...i0, groupNames: undefined });
    expect(acc.result().group_flags.all_fail_groups).toEqual(['0:0', '1:0']);
    expect(() => acc.add({ ...i0, names: ['other'] })).toThrow(/components differ/);
  });
});

describe('null-rate warnings', () => {
  const base = (nullReasons?: Map<string, number>[], nulls = [8, 1], errors = [2, 0]): DiagnoseInput => ({
    ...input({ rewards: Array(10).fill(1), groups: Array(10).fill('g'), components: [Array(10).fill(1), Array(10).fill(1)], names: ['correct', 'format'] }),
    nullCounts: Int32Array.from(nulls),
    errorCounts: Int32Array.from(errors),
    ...(nullReasons ? { nullReasons } : {}),
  });
  const reasons = () => [new Map([['no answer found', 6], ['error: timeout', 2]]), new Map([['the completion is empty', 1]])];

  it('names a component null on more than warn_null_rate of the rollouts, with its commonest reasons and counts', () => {
    const d = diagnoseBatch(base(reasons()));
    expect(d.warnings.map((w) => w.component)).toEqual(['correct']);
    const w = d.warnings[0]!;
    expect(w).toMatchObject({ null_rate: 0.8, error_rate: 0.2, nulls: 8, errors: 2, rollouts: 10, warn_null_rate: 0.2 });
    expect(w.reasons).toEqual([
      { reason: 'no answer found', count: 6 },
      { reason: 'error: timeout', count: 2 },
    ]);
    expect(w.message).toBe('component "correct" is null on 80.0% of 10 rollouts (2 errors; warn above 20%): no answer found ×6 · error: timeout ×2');
    expect(d.components[1]!.null_reasons).toEqual([{ reason: 'the completion is empty', count: 1 }]);
  });

  it('follows the warn_null_rate option: exactly at the rate is no warning', () => {
    expect(diagnoseBatch(base(reasons()), { warn_null_rate: 0.8 }).warnings).toEqual([]);
    expect(diagnoseBatch(base(reasons()), { warn_null_rate: 0.05 }).warnings.map((w) => w.component)).toEqual(['correct', 'format']);
    expect(diagnoseBatch(base(undefined, [0, 0], [3, 0])).warnings.map((w) => w.nulls)).toEqual([3]); // errors alone count
  });

  it('merges reason counts over batches', () => {
    const acc = new DiagnosticsAccumulator();
    acc.add(base(reasons()));
    acc.add(base([new Map([['error: timeout', 5]]), new Map()], [5, 0], [5, 0]));
    const d = acc.result();
    expect(d.warnings[0]!.reasons).toEqual([
      { reason: 'error: timeout', count: 7 },
      { reason: 'no answer found', count: 6 },
    ]);
    expect(d.warnings[0]!.null_rate).toBeCloseTo(13 / 20, 12);
  });
});

describe('reason counting', () => {
  it('caps distinct reasons, collapses whitespace and cuts long ones', async () => {
    const { countReason, MAX_REASONS, OTHER_REASONS, MAX_REASON_LENGTH } = await import('./reasons.js');
    const m = new Map<string, number>();
    for (let i = 0; i < MAX_REASONS + 10; i++) countReason(m, `reason ${i}`);
    countReason(m, 'reason 0');
    expect(m.size).toBe(MAX_REASONS + 1);
    expect(m.get(OTHER_REASONS)).toBe(10);
    expect(m.get('reason 0')).toBe(2);
    const w = new Map<string, number>();
    countReason(w, '  no \n answer   found ');
    countReason(w, 'x'.repeat(500));
    expect([...w.keys()].map((k) => k.length)).toEqual(['no answer found'.length, MAX_REASON_LENGTH]);
  });
});
