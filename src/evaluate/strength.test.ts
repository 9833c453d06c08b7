import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateStrength, preferenceStrength, strengthLabels, strengthResult } from './strength.js';
import { functionSource } from './source.js';
import { EvalInputError } from './io.js';

describe('preference strength (Secrets of RLHF II)', () => {
  it('gives û = 0.70, σ̂ = 0.539 for four margins [0.8, 1.2, −0.2, 1.0] (population std)', () => {
    const { mean, std } = preferenceStrength([[0.8], [1.2], [-0.2], [1.0]]);
    expect(mean[0]).toBeCloseTo(0.7, 12);
    expect(std[0]).toBeCloseTo(0.539, 3);
    expect(std[0]).toBeCloseTo(Math.sqrt(0.29), 12);
  });

  it('labels û < 0 mislabelled, |û| < σ̂ or û = 0 ambiguous, the rest normal', () => {
    const mean = Float64Array.of(-0.1, 0.2, 0.7, 0, NaN);
    const std = Float64Array.of(0.05, 0.5, 0.539, 0, 0);
    expect(strengthLabels(mean, std)).toEqual(['mislabelled', 'ambiguous', 'normal', 'ambiguous', 'invalid']);
    // The paper's alternative: the lowest fraction by û (here half: 2 of 4 valid pairs).
    expect(strengthLabels(mean, std, 0.5).slice(0, 4)).toEqual(['mislabelled', 'ambiguous', 'normal', 'mislabelled']);
  });

  it('summarises buckets, agreement and per-scorer accuracy; std normalisation rescales each scorer', () => {
    const a = Float64Array.of(1, 2, -1, 3);
    const b = Float64Array.of(100, -50, -300, 200);
    const { result } = strengthResult([a, b], ['a', 'b'], { input: 'mem' }, { buckets: 2 });
    expect(result.per_scorer).toMatchObject({ a: { accuracy: 0.75 }, b: { accuracy: 0.5 } });
    expect(result.unanimous_correct).toBe(0.5);
    expect(result.unanimous_wrong).toBe(0.25);
    expect(result.buckets.map((x) => x.n)).toEqual([2, 2]);
    const norm = strengthResult([a, b], ['a', 'b'], { input: 'mem' }, { normalize: 'std' });
    // After normalisation both scorers have unit margin std, so neither dominates û.
    const m = norm.margins.map((c) => Math.sqrt(c.reduce((s, x) => s + x * x, 0) / c.length - (c.reduce((s, x) => s + x, 0) / c.length) ** 2));
    expect(m[0]).toBeCloseTo(1, 12);
    expect(m[1]).toBeCloseTo(1, 12);
  });
});

describe('evaluateStrength on a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-strength-'));
  const file = join(dir, 'pairs.jsonl');
  // Completions carry their own "quality" number; three scorers read it with different noise.
  const rows = [
    { id: 'p0', prompt: 'q', chosen: 'q=5', rejected: 'q=1' },
    { id: 'p1', prompt: 'q', chosen: 'q=1', rejected: 'q=6' },
    { id: 'p2', prompt: 'q', chosen: 'q=3', rejected: 'q=3' },
    { id: 'p3', prompt: 'q', chosen: 'q=9', rejected: 'q=2' },
  ];
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const q = (r: { completion: unknown }) => Number(String(r.completion).slice(2));
  const scorers = [functionSource('s1', (r) => q(r)), functionSource('s2', (r) => q(r) + 0.5), functionSource('s3', (r) => 2 * q(r))];

  it('flags the reversed pair as mislabelled and the tie as ambiguous', async () => {
    const r = await evaluateStrength(file, scorers);
    expect(r.n).toBe(4);
    expect(r.mislabelled.count).toBe(1);
    expect(r.ambiguous.count).toBe(1);
    expect(r.normal).toBe(2);
  });

  it('writes the file with the mislabelled pair flipped, or dropped', async () => {
    const flipped = join(dir, 'flipped.jsonl');
    const r = await evaluateStrength(file, scorers, { out: flipped, action: 'flip' });
    expect(r.out).toMatchObject({ written: 4, flipped: 1, dropped: 0 });
    const out = readFileSync(flipped, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(out[1]).toMatchObject({ id: 'p1', chosen: 'q=6', rejected: 'q=1', strength: { label: 'mislabelled', flipped: true } });
    expect(out[1].strength.mean).toBeGreaterThan(0);
    expect(out[0].strength.margins).toEqual({ s1: 4, s2: 4, s3: 8 });

    const cleaned = join(dir, 'clean.jsonl');
    const c = await evaluateStrength(file, scorers, { out: cleaned, action: 'clean', dropAmbiguous: true });
    expect(c.out).toMatchObject({ written: 2, dropped: 2 });
    expect(readFileSync(cleaned, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['p0', 'p3']);
  });

  it('needs an ensemble', async () => {
    await expect(evaluateStrength(file, scorers.slice(0, 1))).rejects.toThrow(EvalInputError);
  });
});
