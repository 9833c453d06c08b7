import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePreferences, findCycles, fitBradleyTerry, parseComparison, PreferenceTable, preferencesResult, winRateReward } from './preferences.js';
import { mulberry32, sigmoid } from './stats.js';

function tableOf(rows: [string, string, number][]): PreferenceTable {
  const t = new PreferenceTable();
  for (const [a, b, p] of rows) t.add(a, b, p);
  return t;
}

describe("DNO's win-rate reward", () => {
  it('gives r = [.7, .25, .55] for P(a≻b) = .8, P(a≻c) = .6, P(b≻c) = .3 (mechanics-B §5)', () => {
    const t = tableOf([
      ['a', 'b', 0.8],
      ['a', 'c', 0.6],
      ['b', 'c', 0.3],
    ]);
    const r = winRateReward(t.winRates());
    expect(r[0]).toBeCloseTo(0.7, 12);
    expect(r[1]).toBeCloseTo(0.25, 12);
    expect(r[2]).toBeCloseTo(0.55, 12);
  });
  it('averages to ½ for complementary preferences, ranks a Condorcet winner first, and is invariant to relabelling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }).chain((K) => fc.tuple(fc.constant(K), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: (K * (K - 1)) / 2, maxLength: (K * (K - 1)) / 2 }))), ([K, ps]) => {
        const rows: [string, string, number][] = [];
        let k = 0;
        for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) rows.push([`i${i}`, `i${j}`, ps[k++]!]);
        const r = winRateReward(tableOf(rows).winRates());
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(K / 2, 9);
        // Relabelling (insert in reverse order) permutes the rewards with the items.
        const t2 = tableOf(rows.slice().reverse());
        const r2 = winRateReward(t2.winRates());
        t2.items.names.forEach((name, i) => expect(r2[i]).toBeCloseTo(r[Number(name.slice(1))]!, 12));
        const res = preferencesResult(tableOf(rows), { input: 'mem', n: rows.length });
        if (res.condorcet_winner) {
          const best = Math.max(...Object.values(res.win_rate).map((x) => x!));
          expect(res.win_rate[res.condorcet_winner]).toBeCloseTo(best, 12);
        }
      }),
    );
  });
});

describe('Bradley–Terry', () => {
  it('recovers known strengths from many comparisons', () => {
    const truth = [1.5, 0.5, 0, -0.5, -1.5];
    const rand = mulberry32(3);
    const t = new PreferenceTable();
    truth.forEach((_, i) => t.items.id(`m${i}`));
    for (let k = 0; k < 40000; k++) {
      const i = Math.floor(rand() * 5);
      let j = Math.floor(rand() * 4);
      if (j >= i) j++;
      t.add(`m${i}`, `m${j}`, rand() < sigmoid(truth[i]! - truth[j]!) ? 1 : 0);
    }
    const fit = fitBradleyTerry(t.winMatrix(), t.countMatrix());
    expect(fit.converged).toBe(true);
    fit.scores.forEach((s, i) => expect(s).toBeCloseTo(truth[i]!, 1));
  });
  it('keeps an item that never wins finite (prior)', () => {
    const fit = fitBradleyTerry(
      tableOf([
        ['a', 'b', 1],
        ['a', 'b', 1],
      ]).winMatrix(),
      tableOf([
        ['a', 'b', 1],
        ['a', 'b', 1],
      ]).countMatrix(),
    );
    expect(fit.scores.every(Number.isFinite)).toBe(true);
    expect(fit.scores[0]).toBeGreaterThan(fit.scores[1]!);
  });
});

describe('preference cycles', () => {
  it('finds rock ≻ scissors ≻ paper ≻ rock and nothing in a transitive order', () => {
    const rps = preferencesResult(
      tableOf([
        ['rock', 'scissors', 1],
        ['scissors', 'paper', 1],
        ['paper', 'rock', 1],
        ['rock', 'lizard', 1],
        ['paper', 'lizard', 1],
        ['scissors', 'lizard', 1],
      ]),
      { input: 'mem', n: 6 },
    );
    expect(rps.transitive).toBe(false);
    expect(rps.cycles.triangles).toBe(1);
    expect(rps.cycles.components).toEqual([['rock', 'scissors', 'paper']]);
    expect(rps.cycles.strongest![0]!.items).toEqual(['rock', 'scissors', 'paper']);
    expect(rps.condorcet_winner).toBeNull();
    expect(rps.ranking[3]).toBe('lizard');

    const order = preferencesResult(
      tableOf([
        ['a', 'b', 0.9],
        ['b', 'c', 0.7],
        ['a', 'c', 0.8],
      ]),
      { input: 'mem', n: 3 },
    );
    expect(order.transitive).toBe(true);
    expect(order.condorcet_winner).toBe('a');
    expect(order.ranking).toEqual(['a', 'b', 'c']);
    expect(order.bradley_terry.direction_disagreements).toBe(0);
  });
  it('counts cyclic triples of large tournaments with bitsets (checked against Σ C(out-degree, 2))', () => {
    const n = 420;
    const rand = mulberry32(5);
    const W = Array.from({ length: n }, () => new Array<number>(n).fill(NaN));
    const C = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const out = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const w = rand() < 0.5 ? 1 : 0;
        W[i]![j] = w;
        W[j]![i] = 1 - w;
        C[i]![j] = C[j]![i] = 1;
        out[w ? i : j]!++;
      }
    const choose = (k: number, r: number) => (r === 2 ? (k * (k - 1)) / 2 : (k * (k - 1) * (k - 2)) / 6);
    const expected = choose(n, 3) - out.reduce((s, d) => s + choose(d, 2), 0);
    const res = findCycles(W, C, W.map((_, i) => `i${i}`));
    expect(res.triangles).toBe(expected);
    expect(res.decided_triples).toBe(choose(n, 3));
    expect(res.strongest).toBeNull();
  });
});

describe('comparison rows and files', () => {
  it('reads winner, probability and chosen/rejected forms', () => {
    expect(parseComparison({ a: 'x', b: 'y', winner: 'b' })).toMatchObject({ a: 'x', b: 'y', p: 0 });
    expect(parseComparison({ a: 'x', b: 'y', winner: 'x' }).p).toBe(1);
    expect(parseComparison({ a: 'x', b: 'y', winner: 'tie' }).p).toBe(0.5);
    expect(parseComparison({ a: 'x', b: 'y', p: 0.3, group: 'g' })).toMatchObject({ p: 0.3, group: 'g' });
    expect(parseComparison({ chosen: 'x', rejected: 'y' })).toMatchObject({ a: 'x', b: 'y', p: 1 });
    expect(() => parseComparison({ a: 'x', b: 'x', winner: 'a' })).toThrow(/itself/);
    expect(() => parseComparison({ a: 'x', b: 'y', winner: 'z' })).toThrow(/winner/);
  });
  it('analyses a file, counts groups with cycles and writes per-group win-rate rewards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-prefs-'));
    const file = join(dir, 'cmp.jsonl');
    const rows = [
      { group: 'g1', a: 'r1', b: 'r2', winner: 'a' },
      { group: 'g1', a: 'r2', b: 'r3', winner: 'a' },
      { group: 'g1', a: 'r3', b: 'r1', winner: 'a' },
      { group: 'g2', a: 'r1', b: 'r2', winner: 'a' },
      { group: 'g2', a: 'r1', b: 'r3', winner: 'tie' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n{"a": 1}\n');
    const out = join(dir, 'rewards.jsonl');
    const res = await evaluatePreferences(file, { out });
    expect(res.n).toBe(5);
    expect(res.bad_lines).toBe(1);
    expect(res.groups).toMatchObject({ count: 2, with_cycles: 1 });
    const written = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(written.filter((w) => w.group === 'g1').map((w) => w.win_rate)).toEqual([0.5, 0.5, 0.5]);
    expect(written.find((w) => w.group === 'g2' && w.item === 'r1').win_rate).toBe(0.75);
  });
});
