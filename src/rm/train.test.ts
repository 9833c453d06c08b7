import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, pairLoss, pairLossGrad, pairMetrics, trainLinear, type TrainPair } from './train.js';
import { featureTokens, hashedFeatures } from './features.js';
import { rmTrain } from './run.js';
import { mulberry32, sigmoid } from '../evaluate/stats.js';
import { evaluatePairs } from '../evaluate/pairs.js';
import { specSource } from '../evaluate/source.js';
import { runRmTrain } from '../cli/rm.js';
import { sharedData } from '../../test/shared-data.js';

describe('pair losses (Secrets of RLHF II; mechanics-B §3 worked example)', () => {
  it('Δ = 1: plain BT 0.3133, margin 0.5 → 0.4741, label smoothing 0.1 → 0.4133', () => {
    expect(pairLoss(1)).toBeCloseTo(0.3132616875182228, 12);
    expect(pairLoss(1, 0.5)).toBeCloseTo(0.47407698418010663, 12);
    expect(pairLoss(1, 0, 0.1)).toBeCloseTo(0.41326168751822284, 12);
  });
  it('the margin loss is ≥ the plain loss for m > 0 and equal at m = 0; smoothing is minimised at Δ* = logit(1 − α) = 2.197', () => {
    for (const d of [-3, -0.5, 0, 0.7, 4]) {
      expect(pairLoss(d, 0.8)).toBeGreaterThan(pairLoss(d));
      expect(pairLoss(d, 0)).toBe(pairLoss(d));
    }
    const star = Math.log(0.9 / 0.1);
    expect(star).toBeCloseTo(2.1972245773362196, 12);
    expect(pairLossGrad(star, 0, 0.1)).toBeCloseTo(0, 12);
    expect(pairLoss(star - 0.1, 0, 0.1)).toBeGreaterThan(pairLoss(star, 0, 0.1));
    expect(pairLoss(star + 0.1, 0, 0.1)).toBeGreaterThan(pairLoss(star, 0, 0.1));
    // Flipping a pair turns Δ into −Δ: plain BT loss of the flipped pair is −log σ(−Δ).
    expect(pairLoss(-1)).toBeCloseTo(Math.log1p(Math.E), 12);
  });
  it('the gradient matches a finite difference (with margin and smoothing together)', () => {
    for (const [d, m, a] of [[0.3, 0.5, 0.1], [-2, 1, 0.2], [5, 0, 0]] as const) {
      const h = 1e-6;
      expect(pairLossGrad(d, m, a)).toBeCloseTo((pairLoss(d + h, m, a) - pairLoss(d - h, m, a)) / (2 * h), 6);
    }
  });
});

// Synthetic preference: chosen answers use words of one set, rejected answers of another, both padded
// with shared filler words and of random lengths (so length says nothing); 10% of labels are flipped.
const GOOD = ['thanks', 'please', 'glad', 'certainly', 'happy', 'welcome', 'kindly', 'gladly'];
const BAD = ['no', 'whatever', 'ugh', 'stupid', 'go', 'away', 'never', 'nope'];
const FILL = ['the', 'answer', 'is', 'here', 'a', 'question', 'about', 'that', 'it', 'we', 'can', 'see'];
function synth(n: number, seed: number, noise = 0.1): { chosen: string; rejected: string }[] {
  const r = mulberry32(seed);
  const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)]!;
  const text = (set: string[]) => {
    const len = 4 + Math.floor(r() * 12);
    const ws: string[] = [];
    for (let i = 0; i < len; i++) ws.push(r() < 0.25 ? pick(set) : pick(FILL));
    ws[Math.floor(r() * len)] = pick(set);
    return ws.join(' ');
  };
  return Array.from({ length: n }, () => {
    const c = text(GOOD);
    const j = text(BAD);
    return r() < noise ? { chosen: j, rejected: c } : { chosen: c, rejected: j };
  });
}
const F = { dim: 4096, ngrams: [1, 2], lengthFeature: true };
const asPairs = (rows: { chosen: string; rejected: string }[], margin = 0): TrainPair[] => rows.map((x) => ({ chosen: hashedFeatures(x.chosen, F), rejected: hashedFeatures(x.rejected, F), margin }));

describe('trainLinear', () => {
  const train = asPairs(synth(400, 1));
  const heldOut = asPairs(synth(300, 2, 0));
  it('learns the preference: held-out accuracy well above chance (≥ 0.9 on clean held-out pairs)', () => {
    const { w, epochLoss } = trainLinear(train, F.dim, { epochs: 10, seed: 3 });
    expect(epochLoss.at(-1)!).toBeLessThan(epochLoss[0]!);
    expect(pairMetrics(w, heldOut).accuracy).toBeGreaterThanOrEqual(0.9);
  });
  it('is deterministic: the same seed gives the same weights bit for bit; another seed another order', () => {
    const a = trainLinear(train, F.dim, { epochs: 3, seed: 7 }).w;
    const b = trainLinear(train, F.dim, { epochs: 3, seed: 7 }).w;
    const c = trainLinear(train, F.dim, { epochs: 3, seed: 8 }).w;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });
  it('label smoothing α = 0.1 stops the margins near σ(Δ) = 0.9 on separable pairs, where plain BT keeps pushing them towards 1', () => {
    const clean = asPairs(synth(200, 5, 0));
    const meanP = (w: Float64Array) => {
      let s = 0;
      for (const p of clean) s += sigmoid(delta(w, p));
      return s / clean.length;
    };
    const delta = (w: Float64Array, p: TrainPair) => {
      let d = 0;
      p.chosen.index.forEach((k, i) => (d += w[k]! * p.chosen.value[i]!));
      p.rejected.index.forEach((k, i) => (d -= w[k]! * p.rejected.value[i]!));
      return d;
    };
    const plain = trainLinear(clean, F.dim, { epochs: 60, seed: 1, l2: 0 }).w;
    const smooth = trainLinear(clean, F.dim, { epochs: 60, seed: 1, l2: 0, labelSmoothing: 0.1 }).w;
    expect(meanP(plain)).toBeGreaterThan(0.98);
    expect(Math.abs(meanP(smooth) - 0.9)).toBeLessThan(0.03);
  });
  it('a margin m makes the trained Δ larger (the loss asks for Δ > m)', () => {
    const clean = asPairs(synth(200, 5, 0), 0);
    const withM = asPairs(synth(200, 5, 0), 3);
    const med = (w: Float64Array, ps: TrainPair[]) => {
      const d = ps.map((p) => pairMetrics(w, [p], 0, false).loss);
      return d.sort((a, b) => a - b)[d.length >> 1]!;
    };
    const a = trainLinear(clean, F.dim, { epochs: 5, seed: 1 }).w;
    const b = trainLinear(withM, F.dim, { epochs: 5, seed: 1 }).w;
    // Lower plain-BT loss per pair ⇔ larger Δ.
    expect(med(b, clean)).toBeLessThan(med(a, clean));
  });
});

describe('features', () => {
  it('tokenises words, digits and punctuation, lower-cased, and hashes to unit norm plus the length coordinate', () => {
    expect(featureTokens('Hello, World 42!')).toEqual(['hello', ',', 'world', '42', '!']);
    const v = hashedFeatures('a b a b', { dim: 256, ngrams: [1, 2], lengthFeature: true });
    let norm = 0;
    for (let i = 0; i < v.index.length - 1; i++) norm += v.value[i]! ** 2;
    expect(norm).toBeCloseTo(1, 12);
    expect(v.index.at(-1)).toBe(256);
    expect(v.value.at(-1)).toBeCloseTo(Math.log1p(4) / 10, 12);
  });
});

describe('rewardkit rm train → grader linear_rm → eval pairs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-rm-'));
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const trainFile = join(dir, 'train.jsonl');
  const validFile = join(dir, 'valid.jsonl');
  writeFileSync(trainFile, jsonl(synth(400, 11).map((x, i) => ({ prompt: `q${i}`, ...x, strength: { mean: 1 } }))) + '{"chosen": 1}\n');
  writeFileSync(validFile, jsonl(synth(200, 12, 0).map((x, i) => ({ prompt: `v${i}`, ...x }))));
  it('writes a model whose eval pairs accuracy equals the trainer\'s held-out accuracy', async () => {
    const model = join(dir, 'm.json');
    const out: string[] = [];
    const err: string[] = [];
    expect(await runRmTrain({ in: trainFile, out: model, valid: validFile, dim: 4096, ngrams: [1, 2], epochs: 8, json: true, marginField: 'strength.mean' }, { out: (s) => out.push(s), err: (s) => err.push(s) })).toBe(0);
    const r = JSON.parse(out[0]!);
    expect(r).toMatchObject({ command: 'rm train', pairs: { train: 400, valid: 200 }, bad_lines: 1, options: { margin: 'strength.mean' } });
    expect(r.valid.accuracy).toBeGreaterThan(0.9);
    expect(err.join('\n')).toContain('train.jsonl:401: rejected: is required');
    writeFileSync(join(dir, 'spec.yaml'), 'name: linrm\ncomponents:\n  - {name: rm, grader: linear_rm, model: m.json}\n');
    const ev = await evaluatePairs(validFile, specSource(join(dir, 'spec.yaml')));
    expect(ev.accuracy).toBeCloseTo(r.valid.accuracy, 12);
    expect(loadModel(JSON.parse(readFileSync(model, 'utf8'))).features).toEqual({ dim: 4096, ngrams: [1, 2], lengthFeature: true });
  });
  it('a bad model file is a spec error naming the field', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ format: 'rewardkit-linear-rm', version: 1, features: { dim: 1000, ngrams: [1], lengthFeature: true }, bias: 0, weights: { index: [], value: [] } }));
    writeFileSync(join(dir, 'bad.yaml'), 'components:\n  - {name: rm, grader: linear_rm, model: bad.json}\n');
    expect(() => specSource(join(dir, 'bad.yaml'))).toThrow(/model.*features\.dim: expected a power of two/);
    writeFileSync(join(dir, 'missing.yaml'), 'components:\n  - {name: rm, grader: linear_rm, model: nope.json}\n');
    expect(() => specSource(join(dir, 'missing.yaml'))).toThrow(/model.*cannot read/);
    expect(() => loadModel({ format: 'rewardkit-linear-rm', version: 1, features: { dim: 256, ngrams: [1], lengthFeature: false }, bias: 0, weights: { index: [300], value: [1] } })).toThrow('weights.index[0]: expected an integer in [0, 256], got 300');
  });
});

// Real data: anthropics/hh-rlhf harmless-base/test.jsonl.gz @ 354e5c3 (MIT), read from ../shared/data.
const hh = sharedData('rm_pairs/hh_rlhf_harmless_base_test.jsonl.gz');
describe.skipIf(hh === null)('HH-RLHF harmless-base pairs', () => {
  it('a hashed-n-gram BT model trained on 80% beats chance on the held-out 20% (accuracy − 1.96 standard errors > 0.5)', async () => {
    const { result } = await rmTrain(hh!, null, { validFrac: 0.2, seed: 1, epochs: 5 });
    expect(result.pairs.train + result.pairs.valid).toBe(2312);
    const n = result.pairs.valid;
    const p = result.valid!.accuracy;
    expect(p - 1.96 * Math.sqrt((p * (1 - p)) / n)).toBeGreaterThan(0.5);
  }, 60_000);
});
