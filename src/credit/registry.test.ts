import { describe, expect, it } from 'vitest';
import { ParamError } from '../graders/types.js';
import { buildCredit, creditSchema, credits, signalParams, signalsOf, type CreditSpecInput } from './registry.js';
import { batchOf } from './testing.js';

/** The smallest spec of each method (the signal-reading ones name signal "s"). */
const minimal: Record<string, CreditSpecInput> = {
  dense_turn: { method: 'dense_turn', max_total_rewards: 3 },
  igpo: { method: 'igpo', signal: 's' },
  oprl: { method: 'oprl', signal: 's' },
  spa: { method: 'spa', features: ['s'], executable_bonus: 0 },
  lare: { method: 'lare', factors: ['s'] },
  comam: { method: 'comam' },
  hop_progress: { method: 'hop_progress', signals: [{ signal: 's' }] },
  clarify: { method: 'clarify', ask: 's', needed: 's' },
};

describe('credit registry', () => {
  it('parses every method with its defaults and every method runs on a one-step batch', () => {
    expect(creditSchema.parse({ method: 'gae' })).toEqual({ method: 'gae', gamma: 1, lambda: 0.95, outcome: 'last_step', whiten: true, token_rewards: false });
    expect(creditSchema.parse({ method: 'gated', threshold: 0.5 })).toMatchObject({ method: 'gated', threshold: 0.5, estimator: 'grpo' });
    expect(creditSchema.parse({ method: 'oprl', signal: 'q' })).toMatchObject({ step_weight: 1, estimator: 'rloo', step_norm: 'batch_max', step_baseline: 'first_step' });
    expect(Object.keys(credits).sort()).toEqual(
      ['clarify', 'comam', 'dense_turn', 'gae', 'gated', 'hop_progress', 'igpo', 'lare', 'oprl', 'outcome', 'potential', 'prorl', 'renorm', 'rest_mcts', 'spa', 'vgpo'],
    );
    for (const m of Object.keys(credits)) {
      const spec = minimal[m] ?? ({ method: m } as CreditSpecInput);
      const b = batchOf([{ outcome: 1, steps: [{ reward: 0, value: 0, potential: 0, agent: 'a' }] }], { s: [0.5] });
      const out = buildCredit(spec).compute(b);
      expect(out.reward.length, m).toBe(1);
      expect(out.advantage.length, m).toBe(1);
      expect(out.returns.length, m).toBe(1);
      expect(Number.isFinite(out.advantage[0]), m).toBe(true);
    }
  });

  it('every method gives each step of a null-outcome rollout advantage exactly 0 (it does not move the policy)', () => {
    for (const m of Object.keys(credits)) {
      const spec = minimal[m] ?? ({ method: m } as CreditSpecInput);
      const step = (r: number) => ({ reward: r, value: 0.5, potential: 0.25, agent: 'a' });
      const b = batchOf(
        [
          { outcome: 1, steps: [step(0.2), step(0.4)] },
          { outcome: null, steps: [step(0.9), step(0.9), step(0.9)] },
          { outcome: 0, steps: [step(0.1)] },
        ],
        { s: [0.5, 0.6, 0.7, 0.8, 0.9, 0.3] },
      );
      const out = buildCredit(spec).compute(b);
      expect(Array.from(out.advantage.subarray(2, 5)), m).toEqual([0, 0, 0]);
      expect(out.returns[1], m).toBeNaN();
      for (const k of [0, 1, 5]) expect(Number.isFinite(out.advantage[k]), `${m} step ${k}`).toBe(true);
    }
  });

  it('lists the signals a spec names, with their param paths', () => {
    expect(signalParams({ method: 'spa', features: ['judge', 'tool_ok'] })).toEqual([
      { param: 'features[0]', signal: 'judge' },
      { param: 'features[1]', signal: 'tool_ok' },
    ]);
    expect(signalsOf({ method: 'igpo', signal: 'p_gold' })).toEqual(['p_gold']);
    expect(signalsOf({ method: 'rest_mcts', quality: 'q', distance: 'm' })).toEqual(['q', 'm']);
    expect(signalsOf({ method: 'renorm' })).toEqual([]);
    expect(signalsOf({ method: 'renorm', process: 'ppr' })).toEqual(['ppr']);
    expect(signalsOf({ method: 'lare', factors: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(signalsOf({ method: 'comam', local: 'recall' })).toEqual(['recall']);
    expect(signalsOf({ method: 'gae' })).toEqual([]);
  });

  it('rejects unknown methods, unknown keys and bad params, naming them', () => {
    expect(() => buildCredit({ method: 'nope' } as never)).toThrow();
    expect(() => buildCredit({ method: 'gae', lamda: 0.9 } as never)).toThrow(/lamda/);
    expect(() => buildCredit({ method: 'dense_turn' } as never)).toThrow(/max_total_rewards/);
    expect(() => buildCredit({ method: 'potential', gamma: 0 })).toThrow(/gamma/);
    expect(() => buildCredit({ method: 'igpo' } as never)).toThrow(/signal/);
    expect(() => buildCredit({ method: 'spa', features: [] })).toThrow(/features/);
    const dup = (() => {
      try {
        buildCredit({ method: 'spa', features: ['a', 'b', 'a'] });
      } catch (e) {
        return e;
      }
    })();
    expect(dup).toBeInstanceOf(ParamError);
    expect((dup as ParamError).param).toBe('features[2]');
    expect(() => buildCredit({ method: 'oprl', signal: 's', std_norm: true })).toThrow(/std_norm applies to estimator grpo only/);
    expect(() => buildCredit({ method: 'lare', factors: ['a'], k: 1 })).toThrow(/rrd_unbiased needs k ≥ 2/);
    expect(() => buildCredit({ method: 'comam', temperature: 0 })).toThrow(/temperature/);
  });

  it('a method whose signal is missing from the batch names the param and the signal', () => {
    const b = batchOf([{ outcome: 1, steps: [{}] }], { judge: [0.5] });
    expect(() => buildCredit({ method: 'igpo', signal: 'p_gold' }).compute(b)).toThrow(
      /credit\.signal is "p_gold"; names no step signal of the batch \(signals: judge\)/,
    );
    expect(() => buildCredit({ method: 'spa', features: ['judge', 'tool'] }).compute(b)).toThrow(/credit\.features\[1\] is "tool"/);
    expect(() => buildCredit({ method: 'rest_mcts', quality: 'q' }).compute(batchOf([{ outcome: 1, steps: [{}] }]))).toThrow(/credit\.quality is "q"; .*signals: none/);
  });
});
