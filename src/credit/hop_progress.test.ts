import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hopLabel, reconstructProgress } from './hop_progress.js';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose, stepsOf } from './testing.js';

describe('hop_progress (Robo-Dopamine hop labels, progress reconstruction, policy-invariant shaping)', () => {
  it('hop labels of mechanics-B §20: hop(0.2 → 0.6) = 0.5, hop(0.6 → 0.3) = −0.5; frame-index form as the authors’ data script', () => {
    expect(hopLabel(0.2, 0.6)).toBeCloseTo(0.5, 12);
    expect(hopLabel(0.6, 0.3)).toBeCloseTo(-0.5, 12);
    expect(hopLabel(0.4, 0.4)).toBe(0);
    // format_score_tag(first 1, before 3, after 7, last 11): 100·4/8 = +50.0%; (before 7 → after 4): 100·(−3)/6 = −50.0%
    expect(hopLabel(3, 7, 1, 11)).toBeCloseTo(0.5, 12);
    expect(hopLabel(7, 4, 1, 11)).toBeCloseTo(-0.5, 12);
    expect(hopLabel(11, 11, 1, 11)).toBe(0);
  });

  it('incremental reconstruction inverts the hop labels and stays in [0, 1] (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }), (phis) => {
        const hops = phis.map((q, t) => hopLabel(t === 0 ? 0 : phis[t - 1]!, q));
        for (const h of hops) expect(Math.abs(h)).toBeLessThanOrEqual(1 + 1e-12);
        const back = reconstructProgress(hops, 'incremental');
        back.forEach((x, t) => {
          expect(x).toBeGreaterThanOrEqual(-1e-12);
          expect(x).toBeLessThanOrEqual(1 + 1e-12);
          expect(Math.abs(x - phis[t]!)).toBeLessThanOrEqual(1e-9);
        });
      }),
    );
    expectClose(reconstructProgress([0.3, 4 / 7, 1], 'incremental'), [0.3, 0.7, 1]);
    expectClose(reconstructProgress([0.3, 0.7, 1], 'forward'), [0.3, 0.7, 1]);
    expectClose(reconstructProgress([-0.7, -0.3, 0], 'backward'), [0.3, 0.7, 1]);
    // Clamped to [−1, 1] as the authors clamp the parsed score.
    expectClose(reconstructProgress([2, -5], 'forward'), [1, -1]);
  });

  it('reference worked example: Φ = [0, .3, .7, 1], γ = 0.99, r = [0, 0, 1] → shaped [0.297, 0.393, 1.29]; return − original = 0.9703', () => {
    const b = batchOf([{ outcome: 1, steps: blankSteps(3) }], { grm: [[30, (100 * 4) / 7, 100]] });
    const out = buildCredit({ method: 'hop_progress', signals: [{ signal: 'grm' }], scale: 100, gamma: 0.99, whiten: false }).compute(b);
    expectClose(out.reward, [0.297, 0.393, 1.29]);
    const original = 0.99 ** 2 * 1;
    expectClose([out.returns[0]! - original], [0.99 ** 3]); // = 0.970299 (the reference rounds to 0.9703)
  });

  it('multi-perspective fusion: the three modes’ progress is averaged', () => {
    // incremental says [0.5, 1]; forward says [0.2, 0.8]; backward says [0.5, 0.9] → mean [0.4, 0.9]
    const b = batchOf([{ outcome: 0, steps: blankSteps(2) }], { inc: [[0.5, 1]], fwd: [[0.2, 0.8]], bwd: [[-0.5, -0.1]] });
    const out = buildCredit({
      method: 'hop_progress',
      signals: [{ signal: 'inc' }, { signal: 'fwd', mode: 'forward' }, { signal: 'bwd', mode: 'backward' }],
      whiten: false,
    }).compute(b);
    expectClose(out.reward, [0.4, 0.5]);
  });

  it('hostile: hovering near the goal earns nothing (the semantic trap), oscillation pays back what it gained', () => {
    // A: reaches 0.9 and hovers for 6 steps; B: finishes (Φ 1) in 2 steps. Raw per-step progress would pay A ≈ 6.
    const hover = [0.9, 0, 0, 0, 0, 0];
    const finish = [0.5, 1];
    const b = batchOf([{ outcome: 0, steps: blankSteps(hover.length) }, { outcome: 0, steps: blankSteps(finish.length) }], { grm: [hover, finish] });
    const out = buildCredit({ method: 'hop_progress', signals: [{ signal: 'grm' }], whiten: false }).compute(b);
    expectClose(out.returns, [0.9, 1]);
    const rawA = reconstructProgress(hover, 'incremental').reduce((s, x) => s + x, 0);
    expect(rawA).toBeGreaterThan(5);
    // Oscillation: up 0.5, back down to 0 (hop −1), up 0.5 again — ends where a single 0.5 step ends.
    const osc = batchOf([{ outcome: 0, steps: blankSteps(3) }, { outcome: 0, steps: blankSteps(1) }], { grm: [[0.5, -1, 0.5], [0.5]] });
    const o = buildCredit({ method: 'hop_progress', signals: [{ signal: 'grm' }], whiten: false }).compute(osc);
    expectClose(o.returns, [0.5, 0.5]);
    // terminal: zero — strict invariance, the shaped return equals the original return.
    const z = buildCredit({ method: 'hop_progress', signals: [{ signal: 'grm' }], terminal: 'zero', gamma: 0.9, whiten: false }).compute(
      batchOf([{ outcome: 1, steps: stepsOf([0.2, 0]) }], { grm: [[0.4, 0.5]] }),
    );
    expectClose(z.returns, [0.2 + 0.9 * 1]);
  });

  it('null semantics: a missing hop never pays more than a judged regress; null outcomes are voided', async () => {
    const mk = (h: (number | null)[]) => batchOf([{ outcome: 0, steps: blankSteps(h.length) }], { grm: [h] });
    const credit = (on_missing?: 'min' | 'zero' | 'error') => buildCredit({ method: 'hop_progress', signals: [{ signal: 'grm' }], whiten: false, ...(on_missing ? { on_missing } : {}) });
    const missing = credit().compute(mk([0.5, null])).returns[0]!;
    for (const judged of [-1, -0.5, 0, 0.5]) expect(missing).toBeLessThanOrEqual(credit().compute(mk([0.5, judged])).returns[0]! + 1e-12);
    expect(credit('zero').compute(mk([0.5, null])).returns[0]).toBeCloseTo(0.5, 12);
    expect(() => credit('error').compute(mk([0.5, null]))).toThrow(/rollout 0: steps\[1\] has no hop for signal "grm"/);
    const v = credit().compute(batchOf([{ outcome: null, steps: blankSteps(2) }, { outcome: 1, steps: blankSteps(1) }], { grm: [[0.5, 0.5], [1]] }));
    expect(v.returns[0]).toBeNaN();
    expect(v.advantage[0]).toBe(0);
    expect(() => credit().compute(batchOf([{ outcome: 1, steps: blankSteps(1) }], { other: [[1]] }))).toThrow(/credit\.signals\[0\]\.signal is "grm"/);
  });
});
