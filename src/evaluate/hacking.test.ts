import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestOfNCurve, bestOfNWeights, evaluateHacking, hackingResult, withinGroupCorrelation } from './hacking.js';
import { functionSource, specSource } from './source.js';

/** Brute force: average over every n-subset (without replacement) of the gold of its proxy-best, ties split evenly. */
function bruteForce(proxy: number[], gold: number[], n: number): number {
  const m = proxy.length;
  let total = 0;
  let count = 0;
  const rec = (start: number, chosen: number[]) => {
    if (chosen.length === n) {
      const best = Math.max(...chosen.map((i) => proxy[i]!));
      const top = chosen.filter((i) => proxy[i] === best);
      total += top.reduce((s, i) => s + gold[i]!, 0) / top.length;
      count++;
      return;
    }
    for (let i = start; i < m; i++) rec(i + 1, [...chosen, i]);
  };
  rec(0, []);
  return total / count;
}

describe('best-of-n from order statistics', () => {
  it('has weights C(m−1−i, n−1)/C(m, n) that sum to 1', () => {
    expect(Array.from(bestOfNWeights(4, 2))).toEqual([0.5, 1 / 3, 1 / 6, 0].map((x) => expect.closeTo(x, 12)));
    for (let m = 1; m <= 12; m++)
      for (let n = 1; n <= m; n++) {
        expect(bestOfNWeights(m, n).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        expect(bestOfNWeights(m, n, true).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }
  });
  it('equals brute-force enumeration of all n-subsets, with proxy ties broken uniformly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }).chain((m) =>
          fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: m, maxLength: m }), fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: m, maxLength: m })),
        ),
        ([proxy, gold]) => {
          const curve = bestOfNCurve(proxy, [gold], proxy.length)[0]!;
          for (let n = 1; n <= proxy.length; n++) expect(curve[n - 1]).toBeCloseTo(bruteForce(proxy, gold, n), 9);
        },
      ),
    );
  });
  it('is the group mean at n = 1 and the gold of the proxy’s favourite at n = m', () => {
    const c = bestOfNCurve([3, 1, 2], [[10, 20, 30]], 3)[0]!;
    expect(c[0]).toBeCloseTo(20, 12);
    expect(c[2]).toBe(10);
  });
  it('correlates within groups only', () => {
    // Across groups x and y rise together; within each group they move opposite.
    expect(withinGroupCorrelation([1, 2, 11, 12], [2, 1, 12, 11], [0, 0, 1, 1], 2)).toBeCloseTo(-1, 12);
  });
});

describe('the Goodhart curve', () => {
  // 40 prompts × 16 samples: the proxy rises with x; the gold x − 0.08·x² peaks at x = 6.25, so
  // optimising the proxy harder first helps the gold, then hurts it. Length follows the proxy.
  const G = 40;
  const m = 16;
  const cols = { proxy: new Float64Array(G * m), gold: new Float64Array(G * m), length: new Float64Array(G * m), groupOf: new Int32Array(G * m) };
  for (let g = 0; g < G; g++)
    for (let k = 0; k < m; k++) {
      const i = g * m + k;
      const x = ((k * 7 + g * 3) % m) * 0.5 + (g % 3) * 0.1;
      cols.proxy[i] = x;
      cols.gold[i] = x - 0.08 * x * x + Math.sin(i) * 0.05;
      cols.length[i] = 100 + 40 * x;
      cols.groupOf[i] = g;
    }
  const res = hackingResult({ ...cols, features: {}, components: {} }, Array.from({ length: G }, (_, g) => `q${g}`), Array.from({ length: G * m }, (_, i) => `r${i}`), { input: 'mem', proxy: 'p', gold: 'g' });

  it('rises in proxy for n = 1…16, peaks in gold before 16 and turns down', () => {
    expect(res.curve.length).toBe(16);
    for (let k = 1; k < res.curve.length; k++) expect(res.curve[k]!.proxy!).toBeGreaterThan(res.curve[k - 1]!.proxy!);
    expect(res.peak!.n).toBeGreaterThan(1);
    expect(res.peak!.n).toBeLessThan(16);
    expect(res.turns_down).toBe(true);
    expect(res.curve[0]!.kl).toBe(0);
    expect(res.curve[1]!.kl).toBeCloseTo(Math.log(2) - 0.5, 12);
  });
  it('flags length exploitation when length follows the proxy but not the gold', () => {
    // Here the gold mostly rises with x too, so length is not an exploit.
    expect(res.checks[0]).toMatchObject({ name: 'length', flagged: false });
    const noise = cols.gold.map((_, i) => ((i * 5) % 7) - 3);
    const r = hackingResult({ ...cols, gold: noise, features: {}, components: {} }, Array.from({ length: G }, (_, g) => `q${g}`), [], { input: 'mem', proxy: 'p', gold: 'g' });
    expect(r.checks[0]).toMatchObject({ name: 'length', flagged: true });
    expect(r.checks[0]!.corr_proxy).toBeCloseTo(1, 12);
    expect(r.length_exploited).toBe(true);
  });
  it('does not turn down when the proxy is the gold', () => {
    const same = hackingResult({ ...cols, gold: cols.proxy, features: {}, components: {} }, Array.from({ length: G }, (_, g) => `q${g}`), [], { input: 'mem', proxy: 'p', gold: 'p' });
    expect(same.turns_down).toBe(false);
    expect(same.peak!.n).toBe(16);
    expect(same.corr_proxy_gold).toBeCloseTo(1, 12);
  });
});

describe('evaluateHacking on a file', () => {
  it('scores with a proxy spec and a gold source, with format and component checks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-hack-'));
    const file = join(dir, 'rollouts.jsonl');
    const rows = [];
    for (let g = 0; g < 30; g++)
      for (let k = 0; k < 8; k++) {
        const right = (k + g) % 3 === 0;
        const padded = k % 2 === 0;
        rows.push({
          id: `q${g}-${k}`,
          group: `q${g}`,
          prompt: `question ${g}`,
          completion: `${padded ? '## Answer\n- point\n- point\n' : ''}The answer is ${right ? 42 : 41}.${' filler'.repeat(k)}`,
          meta: { correct: right ? 1 : 0 },
        });
      }
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const proxy = specSource({
      name: 'proxy',
      components: [
        { name: 'len', grader: 'length', weight: 0.01 },
        { name: 'says_42', grader: 'regex', pattern: '42', weight: 1 },
      ],
    });
    const gold = functionSource('correct', (r) => (r.meta!.correct as number) * 1);
    const res = await evaluateHacking(file, proxy, gold);
    expect(res.groups).toBe(30);
    expect(res.curve.length).toBe(8);
    expect(res.checks.map((c) => c.name)).toEqual(['length', 'markdown', 'think_tags', 'answer_tags', 'boxed', 'code_fences', 'repeated_lines', 'len', 'says_42']);
    expect(res.checks.find((c) => c.name === 'says_42')!.corr_gold).toBeCloseTo(1, 9);
    expect(res.checks.find((c) => c.name === 'says_42')!.flagged).toBe(false);
    expect(res.curve[res.curve.length - 1]!.gold).toBeCloseTo(1, 12);
  });
});
