import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedErrorReward, extractForecastAnswer, forecastGrader, parseForecast, pyFloat } from './forecast.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';

const ans = (v: unknown) => `<think>…</think><answer>${JSON.stringify(v)}</answer>`;

describe('forecast: CastFlow worked examples (mechanics-A §21)', () => {
  // Ground truth [0, 0, 0]: [3, 3, 0] has MSE 6, [6, 0, 0] 12, [6, 6, 0] 24; baseline [4, 2, 2] has MSE 8.
  const g = buildGrader(forecastGrader, { dataset: 'ETTh1' });
  it('maps MSE 0, 6, 12, 24 to 1, 0.3636, 0.1, 0.0333 with U = 12', async () => {
    expect(await scoreOne(g, ans([0, 0, 0]), [0, 0, 0])).toBe(1);
    expect(await scoreOne(g, ans([3, 3, 0]), [0, 0, 0])).toBeCloseTo(0.3636, 4);
    expect(await scoreOne(g, ans([6, 0, 0]), [0, 0, 0])).toBeCloseTo(0.1, 10);
    expect(await scoreOne(g, ans([6, 6, 0]), [0, 0, 0])).toBeCloseTo(0.0333, 4);
  });
  it('adds the clipped contrastive bonus: MSE 6 vs baseline 8 with B = 2 → 0.8636', async () => {
    const [r] = await gradeAll(g, [{ completion: ans([3, 3, 0]), reference: [0, 0, 0], meta: { baseline: [4, 2, 2] } }]);
    expect(r!.score).toBeCloseTo(0.8636, 4);
    expect(r!.details).toMatchObject({ error: 6, baseline_error: 8, relative: 0.5, upper_bound: 12, relative_bound: 2 });
  });
  it('penalises beating nothing: worse than the baseline subtracts up to 0.5', async () => {
    // MSE 6 vs baseline MSE 5.9 (B = 2): (5.9 − 6)/2·5 = −0.25.
    const truth = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const base = [Math.sqrt(59), 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const pred = [Math.sqrt(60), 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const [r] = await gradeAll(g, [{ completion: ans(pred), reference: truth, meta: { baseline: base } }]);
    expect(r!.score).toBeCloseTo(0.3636 - 0.25, 3);
    const [worse] = await gradeAll(g, [{ completion: ans([6, 6, 0]), reference: [0, 0, 0], meta: { baseline: [0, 0, 0] } }]);
    expect(worse!.score).toBeCloseTo(0.0333 - 0.5, 4);
  });
  it('uses the default bounds (U = B = 10) for unknown datasets and meta.dataset over the param', async () => {
    const d = buildGrader(forecastGrader);
    expect(await scoreOne(d, ans([Math.sqrt(30), 0, 0]), [0, 0, 0])).toBeCloseTo(0.1, 10); // MSE 10 = U
    expect(await scoreOne(d, ans([6, 0, 0]), [0, 0, 0], { meta: { dataset: 'ETTh1' } })).toBeCloseTo(0.1, 10);
    expect(await scoreOne(g, ans([Math.sqrt(10.5), 0, 0]), [0, 0, 0], { meta: { dataset: 'ETTm1' } })).toBeCloseTo(0.1, 10); // U 3.5
  });
});

describe('forecast: parse and validation failures (CastFlow penalties)', () => {
  const g = buildGrader(forecastGrader);
  const truth = { '2016-07-01 00:00:00': 1, '2016-07-01 01:00:00': 2, '2016-07-01 02:00:00': 3, '2016-07-01 03:00:00': 4 };
  it('−1 for an answer that is present but unparsable; null (cannot judge) for an empty ground truth', async () => {
    expect(await scoreOne(g, '<answer>I think it goes up</answer>', truth)).toBe(-1);
    expect(await scoreOne(g, '<answer>42</answer>', truth)).toBe(-1);
    expect(await scoreOne(g, ans([1, 2, 3, 4]), [])).toBeNull();
    expect(await scoreOne(g, ans([1, 2, 3, 4]), 'no data')).toBeNull();
  });
  it('longer: max(−0.5 − 0.3·extra/(0.5·n), −0.8); shorter or missing: −0.8', async () => {
    expect(await scoreOne(g, ans([1, 2, 3, 4, 5]), [1, 2, 3, 4])).toBeCloseTo(-0.5 - (0.3 * 1) / 2, 12);
    expect(await scoreOne(g, ans([1, 2, 3, 4, 5, 6, 7]), [1, 2, 3, 4])).toBe(-0.8);
    expect(await scoreOne(g, ans([1, 2, 3]), [1, 2, 3, 4])).toBe(-0.8);
    expect(await scoreOne(g, '', [1, 2, 3, 4])).toBe(-0.8);
    expect(await scoreOne(g, '<answer></answer>', [1, 2, 3, 4])).toBe(-0.8);
  });
  it('−1 when no key is shared or the error is NaN', async () => {
    expect(await scoreOne(g, ans({ a: 1, b: 2, c: 3, d: 4 }), truth)).toBe(-1);
    expect(await scoreOne(g, ans(['nan', 2, 3, 4]), [1, 2, 3, 4])).toBe(-1);
  });
  it('null without a reference', async () => {
    expect(await scoreOne(g, ans([1]), undefined)).toBeNull();
  });
});

describe('forecast: formats CastFlow reads', () => {
  it('parses lists, objects, records, placeholders and timestamp text', () => {
    expect(parseForecast('[1, 2.5, "3"]').size).toBe(0); // not all numbers → read as records, and none is one
    expect([...parseForecast('[1, 2.5, 3]')]).toEqual([['0', 1], ['1', 2.5], ['2', 3]]);
    expect([...parseForecast('[{"2020-01-01": 5}, {"timestamp": "t1", "value": "6"}, {"time": "t2", "v": 7}]')]).toEqual([
      ['2020-01-01', 5],
      ['t1', 6],
      ['t2', 7],
    ]);
    expect([...parseForecast('[1, 2, ..., 5]')]).toEqual([['0', 1], ['1', 2], ['2', 5]]);
    expect([...parseForecast('{"a": 1, "b": "x", "c": " 2e1 "}')]).toEqual([['a', 1], ['c', 20]]);
    expect([...parseForecast('2020-01-01 00:00:00: 1.5\n2020-01-01 01:00:00: -2')]).toEqual([
      ['2020-01-01 00:00:00', 1.5],
      ['2020-01-01 01:00:00', -2],
    ]);
    expect(parseForecast('"just a string"').size).toBe(0);
    expect(parseForecast('').size).toBe(0);
  });
  it('reads float() like Python', () => {
    expect(pyFloat(' 1_000.5 ')).toBe(1000.5);
    expect(pyFloat('-inf')).toBe(-Infinity);
    expect(Number.isNaN(pyFloat('NaN'))).toBe(true);
    expect(pyFloat(true)).toBe(1);
    expect(pyFloat('1e')).toBeNull();
    expect(pyFloat('1__0')).toBeNull();
    expect(pyFloat(null)).toBeNull();
  });
  it('takes the last <answer> block, case-insensitively, else the whole text', () => {
    expect(extractForecastAnswer('<answer>[1]</answer> then <ANSWER> [2] </ANSWER>')).toBe('[2]');
    expect(extractForecastAnswer('  [3] ')).toBe('[3]');
  });
  it('aligns list baselines with timestamps in series order, matches object baselines by key, reads tool output', async () => {
    const g = buildGrader(forecastGrader, { upper_bound: 12, relative_bound: 2 });
    const truth = { '2016-07-01 02:00:00': 0, '2016-07-01 00:00:00': 0, '2016-07-01 01:00:00': 0 };
    const pred = { '2016-07-01 00:00:00': 3, '2016-07-01 01:00:00': 3, '2016-07-01 02:00:00': 0 };
    const base = (b: unknown) => gradeAll(g, [{ completion: ans(pred), reference: truth, meta: { baseline: b } }]).then((r) => r[0]!.details!.baseline_error);
    expect(await base([4, 2, 2])).toBe(8);
    expect(await base({ '2016-07-01 02:00:00': 4, '2016-07-01 00:00:00': 2, '2016-07-01 01:00:00': 2 })).toBe(8);
    expect(await base({ reference_prediction: [0, 0, 0] })).toBe(0);
    expect(await base(JSON.stringify([1, 1, 1]))).toBe(1);
    expect(await base([1, 2])).toBeUndefined(); // wrong length: ignored
    // Index-keyed series longer than 10 are aligned numerically (CastFlow's text sort would pair "10" with the 3rd value).
    const long = Array.from({ length: 12 }, (_, i) => i);
    const [r] = await gradeAll(g, [{ completion: ans(long), reference: long, meta: { baseline: long } }]);
    expect(r!.details!.baseline_error).toBe(0);
  });
  it('contrastive: false ignores the baseline', async () => {
    const g = buildGrader(forecastGrader, { dataset: 'ETTh1', contrastive: false });
    expect(await scoreOne(g, ans([3, 3, 0]), [0, 0, 0], { meta: { baseline: [4, 2, 2] } })).toBeCloseTo(0.3636, 4);
  });
});

describe('forecast: MAE and MASE variants', () => {
  it('mae uses the square-rooted bounds', async () => {
    const g = buildGrader(forecastGrader, { metric: 'mae', dataset: 'ETTh1' });
    // MAE of [√12, √12, √12] vs 0 is √12 = U → 0.1.
    const s = Math.sqrt(12);
    expect(await scoreOne(g, ans([s, -s, s]), [0, 0, 0])).toBeCloseTo(0.1, 10);
    const [r] = await gradeAll(g, [{ completion: ans([1, 1, 1]), reference: [0, 0, 0], meta: { baseline: [2, 2, 2] } }]);
    // MAE 1 vs 2, B = √2: bonus clip(1/√2·5) = 0.5.
    expect(r!.details).toMatchObject({ metric: 'mae', error: 1, baseline_error: 2, relative: 0.5 });
  });
  it('mase scales by the naive forecast’s in-sample MAE on meta.history', async () => {
    const g = buildGrader(forecastGrader, { metric: 'mase' });
    // History 0, 2, 4, 6: naive (lag 1) MAE = 2. Forecast MAE 4 → MASE 2 = U → 0.1.
    const [r] = await gradeAll(g, [{ completion: ans([12, 14]), reference: [8, 10], meta: { history: [0, 2, 4, 6] } }]);
    expect(r!.details).toMatchObject({ metric: 'mase', error: 2 });
    expect(r!.score).toBeCloseTo(0.1, 10);
    const seasonal = buildGrader(forecastGrader, { metric: 'mase', seasonality: 2, upper_bound: 1 });
    // Lag 2 on 0, 1, 0, 1 → naive MAE 0: undefined, an error.
    await expect(gradeAll(seasonal, [{ completion: ans([1]), reference: [1], meta: { history: [0, 1, 0, 1] } }])).rejects.toThrow(/constant|undefined/);
    await expect(gradeAll(g, [{ completion: ans([1]), reference: [1] }])).rejects.toThrow(/meta.history/);
  });
});

describe('forecast: properties (mechanics-A §21 tests)', () => {
  it('the curve is continuous at U, strictly decreasing, and in (0, 1] for valid parses', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 5000, noNaN: true }), (U) => {
        const below = boundedErrorReward(U * (1 - 1e-9), U);
        const above = boundedErrorReward(U * (1 + 1e-9), U);
        expect(boundedErrorReward(U, U)).toBeCloseTo(0.1, 12);
        expect(Math.abs(below - above)).toBeLessThan(1e-6);
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 100, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true }), (U, a, d) => {
        const r1 = boundedErrorReward(a, U);
        const r2 = boundedErrorReward(a + d, U);
        expect(r2).toBeLessThan(r1);
        expect(r1).toBeGreaterThan(0);
        expect(r1).toBeLessThanOrEqual(1);
      }),
    );
  });
  it('the contrastive term stays within ±0.5 and the score within (−0.5, 1.5]', async () => {
    const g = buildGrader(forecastGrader, { dataset: 'ETTh1' });
    const series = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(series, fc.integer({ min: 0, max: 1000 }), async (truth, seed) => {
        const shift = (k: number) => truth.map((v, i) => v + (((seed * (i + 1) * k) % 17) - 8) / 2);
        const [r] = await gradeAll(g, [{ completion: ans(shift(1)), reference: truth, meta: { baseline: shift(3) } }]);
        const d = r!.details as { relative: number; absolute: number };
        expect(Math.abs(d.relative)).toBeLessThanOrEqual(0.5);
        expect(d.absolute).toBeGreaterThan(0);
        expect(r!.score).toBeCloseTo(d.absolute + d.relative, 12);
      }),
      { numRuns: 200 },
    );
  });
  it('rejects unknown params', () => {
    expect(() => buildGrader(forecastGrader, { metrc: 'mse' })).toThrow();
    expect(() => buildGrader(forecastGrader, { metric: 'rmse' })).toThrow();
  });
});
