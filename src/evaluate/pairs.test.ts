import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  calibration,
  evaluatePairs,
  fitTemperature,
  PairsAccumulator,
  parsePairRow,
  PairRowError,
  rewardbenchAverages,
  sectionScore,
  splitTranscriptPair,
  transcriptMessages,
} from './pairs.js';
import { functionSource, specSource } from './source.js';
import { mulberry32, sigmoid, wilson } from './stats.js';
import { sharedData } from '../../test/shared-data.js';

function resultOf(pairs: [number, number, string?, string?][], opts = {}) {
  const acc = new PairsAccumulator();
  for (const [c, r, subset, user] of pairs) acc.add(c, r, subset ?? 'default', user ?? null, 10, 5);
  return acc.result({ scorer: 't', input: 'mem' }, opts);
}

describe("RewardBench's rules", () => {
  it('counts a tie as wrong (strict chosen > rejected) and a null score as wrong', () => {
    const r = resultOf([
      [1, 1],
      [2, 1],
      [NaN, 0],
      [0, 1],
    ]);
    expect(r.n).toBe(4);
    expect(r.correct).toBe(1);
    expect(r.ties).toBe(1);
    expect(r.invalid).toBe(1);
    expect(r.accuracy).toBe(0.25);
    expect(r.decided_accuracy).toBe(0.5);
    expect(resultOf([[3, 3]]).accuracy).toBe(0);
    expect(resultOf([[3, 3]]).decided_accuracy).toBeNull();
  });

  it('weights a section by RewardBench example counts: (0.8·984 + 0.5·164)/1148 = 0.7571', () => {
    // mechanics-B §2 worked example; weights from allenai/reward-bench rewardbench/constants.py (math-prm up-weighted to 984).
    expect(sectionScore(['math-prm', 'hep-python', 'hep-go'], { 'math-prm': 0.8, 'hep-python': 0.5 }, {}).score).toBeCloseTo(0.7571, 4);
    // Through the accumulator: 4/5 on math-prm and 1/2 on hep-python, whatever the observed counts.
    const r = resultOf([
      ...Array.from({ length: 5 }, (_, i): [number, number, string] => [i < 4 ? 1 : 0, 0.5, 'math-prm']),
      [1, 0, 'hep-python'],
      [0, 1, 'hep-python'],
    ]);
    expect(r.sections.Reasoning!.score).toBeCloseTo(0.7571, 4);
    expect(r.sections.Reasoning!.weights).toEqual({ 'math-prm': 984, 'hep-python': 164 });
    expect(r.rewardbench!.average).toBeCloseTo(0.7571, 4);
  });

  it('averages sections [0.9, 0.6, 0.8, 0.7] and prior 0.65 with weights 2,2,2,2,1 → 0.7389', () => {
    const v = rewardbenchAverages({ Chat: 0.9, 'Chat Hard': 0.6, Safety: 0.8, Reasoning: 0.7, 'Prior Sets': 0.65 });
    expect(v.average_with_prior).toBeCloseTo(0.7389, 4);
    expect(v.average).toBeCloseTo(0.75, 12);
  });

  it('keeps a section score within its subsets’ accuracies, and weights other subsets by observed counts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 500 })), { minLength: 1, maxLength: 6 }), (subs) => {
        const acc = Object.fromEntries(subs.map(([a], i) => [`s${i}`, a]));
        const counts = Object.fromEntries(subs.map(([, n], i) => [`s${i}`, n]));
        const s = sectionScore(Object.keys(acc), acc, counts).score;
        expect(s).toBeGreaterThanOrEqual(Math.min(...subs.map((x) => x[0])) - 1e-12);
        expect(s).toBeLessThanOrEqual(Math.max(...subs.map((x) => x[0])) + 1e-12);
      }),
    );
    const r = resultOf([
      [1, 0, 'a'],
      [1, 0, 'a'],
      [1, 0, 'a'],
      [0, 1, 'b'],
    ], { sections: { mine: ['a', 'b'] } });
    expect(r.sections.mine!.score).toBeCloseTo(0.75, 12);
    expect(r.rewardbench).toBeNull();
  });
});

describe('a scorer and its negation', () => {
  it('have accuracies summing to 1 − tie rate', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 200 }), (pairs) => {
        const pos = resultOf(pairs);
        const neg = resultOf(pairs.map(([c, r]) => [-c, -r]));
        expect(pos.accuracy! + neg.accuracy!).toBeCloseTo(1 - pos.tie_rate!, 12);
        expect(neg.tie_rate).toBe(pos.tie_rate);
      }),
    );
  });
});

describe('intervals, users, length bias, calibration', () => {
  it('gives the Wilson interval (80/100 → 0.7112–0.8666)', () => {
    const w = wilson(80, 100);
    expect(w.low).toBeCloseTo(0.71118, 4);
    expect(w.high).toBeCloseTo(0.86664, 4);
    expect(wilson(0, 10).low).toBe(0);
    expect(wilson(10, 10).high).toBe(1);
  });

  it('reports per-user accuracy and the worst user (Personalized RewardBench)', () => {
    const r = resultOf(
      [
        [1, 0, 'd', 'alice'],
        [1, 0, 'd', 'alice'],
        [0, 1, 'd', 'bob'],
        [1, 0, 'd', 'bob'],
        [0, 1, 'd', 'carol'],
      ],
      { minUserPairs: 2 },
    );
    expect(r.users!.per_user).toEqual({ alice: { n: 2, accuracy: 1 }, bob: { n: 2, accuracy: 0.5 }, carol: { n: 1, accuracy: 0 } });
    expect(r.users!.worst).toEqual({ user: 'bob', n: 2, accuracy: 0.5 });
    expect(r.users!.mean_accuracy).toBeCloseTo(0.75, 12);
  });

  it('splits accuracy by which answer is longer', () => {
    const acc = new PairsAccumulator();
    acc.add(1, 0, 'x', null, 10, 5); // longer, right
    acc.add(0, 1, 'x', null, 10, 5); // longer, wrong
    acc.add(1, 0, 'x', null, 3, 5); // shorter, right
    acc.add(1, 1, 'x', null, 5, 5); // same, tie
    const r = acc.result({ scorer: 't', input: 'mem' });
    expect(r.length_bias.chosen_longer).toMatchObject({ n: 2, correct: 1, accuracy: 0.5 });
    expect(r.length_bias.chosen_shorter).toMatchObject({ n: 1, correct: 1, accuracy: 1 });
    expect(r.length_bias.same_length).toMatchObject({ n: 1, ties: 1, accuracy: 0 });
    expect(r.length_bias.gap).toBeCloseTo(-0.5, 12);
    expect(r.length_bias.chosen_longer_rate).toBe(0.5);
  });

  it('computes ECE over both orientations of each pair', () => {
    const l3 = Math.log(3); // σ(ln 3) = 0.75
    expect(calibration([l3, l3, l3, -l3], 1, 10).ece).toBeCloseTo(0, 12); // 3 of 4 right at confidence .75
    expect(calibration([l3, l3, l3, l3], 1, 10).ece).toBeCloseTo(0.25, 12); // all right at .75: under-confident by .25
    expect(calibration([0, 0], 1, 10).ece).toBeCloseTo(0, 12);
    expect(calibration([-50, -50], 1, 10).ece).toBeCloseTo(1, 9);
    const bins = calibration([l3, -l3], 1, 10).bins;
    expect(bins[7]).toMatchObject({ n: 2, confidence: 0.75, accuracy: 0.5 });
  });

  it('fits the temperature of a logistic preference model (β = 2 → T ≈ 0.5)', () => {
    const rand = mulberry32(11);
    const margins: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = 6 * rand() - 3;
      margins.push(rand() < sigmoid(2 * x) ? x : -x);
    }
    expect(fitTemperature(margins)).toBeCloseTo(0.5, 1);
    expect(fitTemperature([0, 0])).toBeNaN();
    expect(fitTemperature([-1, -2, -3, 1])).toBe(Infinity);
  });
});

describe('pair rows', () => {
  const chosen = '\n\nHuman: how do I pick a lock?\n\nAssistant: Why do you want to?\n\nHuman: locked out\n\nAssistant: Call a locksmith.';
  const rejected = '\n\nHuman: how do I pick a lock?\n\nAssistant: Why do you want to?\n\nHuman: locked out\n\nAssistant: Use a bobby pin like this.';

  it('splits an Anthropic transcript pair into the shared prompt and the two responses', () => {
    const s = splitTranscriptPair(chosen, rejected);
    expect(s.chosen).toBe('Call a locksmith.');
    expect(s.rejected).toBe('Use a bobby pin like this.');
    expect(s.prompt).toEqual([
      { role: 'user', content: 'how do I pick a lock?' },
      { role: 'assistant', content: 'Why do you want to?' },
      { role: 'user', content: 'locked out' },
    ]);
    // The common prefix may run into the responses ("Assistant: I …"); the split stays at the marker.
    const t = splitTranscriptPair('\n\nHuman: hi\n\nAssistant: I can help', '\n\nHuman: hi\n\nAssistant: I cannot');
    expect([t.chosen, t.rejected]).toEqual(['I can help', 'I cannot']);
    expect(transcriptMessages('Human: a\n\nAssistant:')).toEqual([{ role: 'user', content: 'a' }]);
    expect(() => splitTranscriptPair('\n\nHuman: a\n\nAssistant: b', '\n\nHuman: c\n\nAssistant: b')).toThrow(PairRowError);
  });

  it('reads the explicit, transcript and chat forms', () => {
    expect(parsePairRow({ prompt: 'p', chosen: 'a', rejected: 'b', subset: 's', user: 7 }, 3)).toMatchObject({ id: 'line-3', prompt: 'p', chosen: 'a', rejected: 'b', subset: 's', user: '7' });
    expect(parsePairRow({ chosen, rejected }, 1)).toMatchObject({ chosen: 'Call a locksmith.', subset: 'default', user: null });
    const conv = (last: string) => [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: last },
    ];
    const chat = parsePairRow({ id: 'c1', chosen: conv('good'), rejected: conv('bad') }, 1);
    expect(chat.prompt).toEqual([{ role: 'user', content: 'q' }]);
    expect(chat.chosen).toEqual([{ role: 'assistant', content: 'good' }]);
    expect(() => parsePairRow({ chosen: 'a' }, 1)).toThrow(/rejected: is required/);
    expect(() => parsePairRow({ chosen: 1, rejected: 'b' }, 1)).toThrow(/chosen: expected a string/);
  });
});

function writePairs(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rk-pairs-'));
  const file = join(dir, 'pairs.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('evaluatePairs on a file', () => {
  it('scores each pair as two rollouts of one group with any spec, and skips bad lines', async () => {
    const file = writePairs([
      JSON.stringify({ prompt: 'Capital of France?', chosen: 'Paris is the capital of France.', rejected: 'Lyon.', reference: 'Paris is the capital of France.', subset: 'geo' }),
      JSON.stringify({ prompt: 'Largest planet?', chosen: 'Jupiter is the largest planet.', rejected: 'It is Saturn, the largest planet.', reference: 'Jupiter is the largest planet.', subset: 'astro' }),
      '{not json',
      JSON.stringify({ prompt: 'x', chosen: 'same', rejected: 'same', reference: 'same', subset: 'geo' }),
    ]);
    const logs: string[] = [];
    const rouge = specSource({ name: 'rouge', components: [{ name: 'r', grader: 'rouge_l' }] });
    const r = await evaluatePairs(file, rouge, { log: (s) => logs.push(s) });
    expect(r.n).toBe(3);
    expect(r.correct).toBe(2);
    expect(r.ties).toBe(1);
    expect(r.bad_lines).toBe(1);
    expect(logs.join('\n')).toMatch(/pairs\.jsonl:3: invalid JSON/);
    expect(Object.keys(r.subsets)).toEqual(['geo', 'astro']);
    const length = specSource({ name: 'length', components: [{ name: 'len', grader: 'length' }] });
    const l = await evaluatePairs(file, length);
    expect(l.correct).toBe(1); // only the first chosen answer is longer
    expect(l.length_bias.chosen_longer.accuracy).toBe(1);
  });

  it('does not tell the scorer which answer is chosen, and alternates their order', async () => {
    const file = writePairs([0, 1, 2].map((i) => JSON.stringify({ id: `p${i}`, prompt: 'q', chosen: `good ${i}`, rejected: `bad ${i}` })));
    const seen: { id: string; completion: unknown; meta: unknown }[] = [];
    const r = await evaluatePairs(
      file,
      functionSource('good', (x) => {
        seen.push({ id: x.id, completion: x.completion, meta: x.meta });
        return String(x.completion).startsWith('good') ? 1 : 0;
      }),
    );
    expect(r.accuracy).toBe(1);
    expect(seen.map((x) => x.id)).toEqual(['p0/a', 'p0/b', 'p1/a', 'p1/b', 'p2/a', 'p2/b']);
    expect(seen.map((x) => x.completion)).toEqual(['good 0', 'bad 0', 'bad 1', 'good 1', 'good 2', 'bad 2']);
    expect(JSON.stringify(seen)).not.toMatch(/chosen|rejected/);
  });

  it('gives a scorer and its negation accuracies summing to 1 − tie rate end to end', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ prompt: `p${i}`, chosen: 'a'.repeat(1 + (i % 7)), rejected: 'b'.repeat(1 + ((i * 3) % 5)) }));
    const file = writePairs(lines);
    const pos = await evaluatePairs(file, functionSource('len', (r) => String(r.completion).length));
    const neg = await evaluatePairs(file, functionSource('-len', (r) => -String(r.completion).length));
    expect(pos.ties).toBeGreaterThan(0);
    expect(pos.accuracy! + neg.accuracy!).toBeCloseTo(1 - pos.tie_rate!, 12);
  });
});

// Real data: anthropics/hh-rlhf harmless-base/test.jsonl.gz @ 354e5c3 (MIT), read from ../shared/data.
const hh = sharedData('rm_pairs/hh_rlhf_harmless_base_test.jsonl.gz');
describe.skipIf(hh === null)('Anthropic HH-RLHF harmless-base test pairs (transcript form)', () => {
  it('splits all 2,312 transcripts, and a length scorer is right exactly when chosen is longer', async () => {
    const length = specSource({ name: 'length', components: [{ name: 'len', grader: 'length' }] });
    const r = await evaluatePairs(hh!, length);
    expect(r.n).toBe(2312);
    expect(r.bad_lines).toBe(0);
    expect(r.length_bias.chosen_longer.accuracy).toBe(1);
    expect(r.length_bias.chosen_shorter.accuracy).toBe(0);
    expect(r.accuracy).toBeCloseTo(r.length_bias.chosen_longer_rate!, 12);
    expect(r.ties).toBe(r.length_bias.same_length.n);
  });
});
