import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bonGold, correlation, evaluateDownstream, parseDownstreamRow } from './downstream.js';
import { functionSource } from './source.js';
import { renderDownstreamText } from '../cli/eval.js';
import { renderReport, chartIds } from './report.js';

describe('best-of-N gold of the pick', () => {
  it('averages the gold over a tie at the top, never picks a null, and gives the worst gold when all are null', () => {
    expect(bonGold([0.2, 0.9, 0.9], [1, 0, 0.5])).toBe(0.25);
    expect(bonGold([NaN, 0.1, 0], [1, 0.3, 0.9])).toBe(0.3);
    expect(bonGold([NaN, NaN], [1, 0.2])).toBe(0.2);
  });
});

describe('correlation with a Fisher-z interval', () => {
  it('gives r = 0.8 for x = 1..5, y = [1,3,2,5,4] and the interval tanh(atanh r ± 1.96/√(n−3)) (numbers from Python)', () => {
    const p = correlation([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]);
    expect(p.r).toBeCloseTo(0.8, 12);
    expect(p.ci!.low).toBeCloseTo(-0.27964004196935477, 8);
    expect(p.ci!.high).toBeCloseTo(0.9861961933012714, 8);
    const s = correlation([1, 2, 3, 4, 5], [1, 3, 2, 5, 4], 'spearman');
    expect(s.ci!.low).toBeCloseTo(-0.3169591696133841, 8); // se = √(1.06/(n−3))
    expect(correlation([1, 2, 3], [3, 1, 2]).ci).toBeNull();
    expect(correlation([1, 1, 1, 1], [1, 2, 3, 4]).r).toBeNull();
  });
});

describe('eval downstream (Personalized RewardBench: benchmark accuracy vs best-of-N)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-down-'));
  // Item i has a quality; scorer k "knows" items with i mod 5 < k (scores the quality), and reverses the
  // others. Its pairwise accuracy is k/5 and its best-of-N gold is linear in k, so both correlations are 1.
  const pairs = join(dir, 'pairs.jsonl');
  const bon = join(dir, 'bon.jsonl');
  const rows: string[] = [];
  const brows: string[] = [];
  for (let i = 0; i < 20; i++) {
    rows.push(JSON.stringify({ prompt: `p${i}`, chosen: `item=${i} q=0.9`, rejected: `item=${i} q=0.1`, user: `u${i % 2}` }));
    brows.push(JSON.stringify({ prompt: `p${i}`, responses: [`item=${i} q=0.2`, `item=${i} q=0.8`, `item=${i} q=0.5`], gold: [0.2, 0.8, 0.5], user: `u${i % 2}` }));
  }
  writeFileSync(pairs, rows.join('\n') + '\n');
  writeFileSync(bon, brows.join('\n') + '\n{"responses": ["a"], "gold": ["x"]}\n');
  const scorer = (k: number) =>
    functionSource(`knows-${k}`, (r) => {
      const m = /item=(\d+) q=([\d.]+)/.exec(String(r.completion))!;
      const q = Number(m[2]);
      return Number(m[1]) % 5 < k ? q : -q;
    });
  it('reports accuracy k/5, best-of-N gold 0.2 + 0.6·k/5, and Pearson = Spearman = 1 over scorers', async () => {
    const r = await evaluateDownstream(pairs, bon, [1, 2, 3, 4, 5].map(scorer), { log: () => {} });
    for (let k = 1; k <= 5; k++) {
      expect(r.per_scorer[`knows-${k}`]!.accuracy).toBeCloseTo(k / 5, 12);
      expect(r.per_scorer[`knows-${k}`]!.bon).toBeCloseTo(0.2 + (0.6 * k) / 5, 12);
    }
    expect(r.correlations.accuracy.pearson.r).toBeCloseTo(1, 12);
    expect(r.correlations.accuracy.spearman.r).toBeCloseTo(1, 12);
    expect(r.bon_random).toBeCloseTo(0.5, 12);
    expect(r.bon_oracle).toBeCloseTo(0.8, 12);
    expect(r.bad_lines).toBe(1);
    expect(r.user_cells!.pearson.n).toBe(10);
    const text = renderDownstreamText(r);
    expect(text).toContain('eval downstream · 5 scorers · benchmark 20 pairs');
    expect(chartIds(renderReport(r))).toEqual(['downstream-scatter']);
  });
  it('a scorer whose benchmark accuracy does not follow its downstream pick lowers the correlation', async () => {
    // "reversed-bon" is perfect on the pairs but reverses every best-of-N row (quality 0.8 → lowest).
    const odd = functionSource('pairs-only', (r) => {
      const m = /q=([\d.]+)/.exec(String(r.completion))!;
      const q = Number(m[1]);
      return q === 0.9 || q === 0.1 ? q : -q;
    });
    const r = await evaluateDownstream(pairs, bon, [scorer(1), scorer(2), scorer(3), odd], { log: () => {} });
    expect(r.per_scorer['pairs-only']!.accuracy).toBe(1);
    expect(r.per_scorer['pairs-only']!.bon).toBeCloseTo(0.2, 12);
    expect(r.correlations.accuracy.spearman.r!).toBeLessThan(0.5);
  });
  it('reads eval bon rows (correct index → gold 1) and names bad fields', () => {
    expect(Array.from(parseDownstreamRow({ responses: ['a', 'b'], correct: 1 }, 1).gold)).toEqual([0, 1]);
    expect(() => parseDownstreamRow({ responses: ['a', 'b'], gold: [1] }, 1)).toThrow(/^gold: expected one number per response \(2\)/);
    expect(() => parseDownstreamRow({ responses: ['a'], gold: [1], user: 3 }, 1)).toThrow('user: expected a string, got number');
  });
});
