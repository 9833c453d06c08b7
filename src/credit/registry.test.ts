import { describe, expect, it } from 'vitest';
import { buildCredit, creditSchema, credits } from './registry.js';
import { batchOf } from './testing.js';

describe('credit registry', () => {
  it('parses every method with its defaults', () => {
    expect(creditSchema.parse({ method: 'gae' })).toEqual({ method: 'gae', gamma: 1, lambda: 0.95, outcome: 'last_step', whiten: true });
    expect(creditSchema.parse({ method: 'gated', threshold: 0.5 })).toMatchObject({ method: 'gated', threshold: 0.5, estimator: 'grpo' });
    expect(Object.keys(credits).sort()).toEqual(['dense_turn', 'gae', 'gated', 'outcome', 'potential', 'prorl']);
    for (const m of Object.keys(credits)) {
      const spec = m === 'dense_turn' ? { method: m, max_total_rewards: 3 } : { method: m };
      const out = buildCredit(spec as never).compute(batchOf([{ outcome: 1, steps: [{ reward: 0, value: 0, potential: 0 }] }]));
      expect(out.reward.length, m).toBe(1);
      expect(out.advantage.length, m).toBe(1);
      expect(out.returns.length, m).toBe(1);
    }
  });

  it('rejects unknown methods, unknown keys and bad params', () => {
    expect(() => buildCredit({ method: 'nope' } as never)).toThrow();
    expect(() => buildCredit({ method: 'gae', lamda: 0.9 } as never)).toThrow(/lamda/);
    expect(() => buildCredit({ method: 'dense_turn' } as never)).toThrow(/max_total_rewards/);
    expect(() => buildCredit({ method: 'potential', gamma: 0 })).toThrow(/gamma/);
  });
});
