import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createScorer, SpecError, RolloutError } from '../src/index.js';
import { ROOT } from './cli.js';

describe('createScorer (library API)', () => {
  it('scores with a spec file: the README example', async () => {
    const scorer = createScorer(join(ROOT, 'examples', 'gsm8k.yaml'));
    const { results } = await scorer.score([
      { id: 'a', group: 'q1', prompt: 'What is 6 × 7?', completion: '<think>6 × 7 = 42</think><answer>42</answer>', reference: '42' },
      { id: 'b', group: 'q1', prompt: 'What is 6 × 7?', completion: '<think>6 × 7 = 48</think><answer>48</answer>', reference: '42' },
    ]);
    expect(results[0]).toMatchObject({ reward: 1.2, components: { correct: 1, format: 1, overlong: 0 } });
    // GRPO with verl's eps: (1.2 − 0.7) / (0.7071 + 1e-6)
    expect(results[0]!.advantage).toBeCloseTo(0.5 / (Math.SQRT1_2 + 1e-6), 12);
    expect(results[1]!.advantage).toBeCloseTo(-0.5 / (Math.SQRT1_2 + 1e-6), 12);
  });
  it('scores with a spec object, and names bad specs and bad rollouts', async () => {
    const scorer = createScorer({ components: [{ name: 'ok', grader: 'exact', normalize: { case: 'lower' } }] });
    expect((await scorer.score([{ id: 'a', completion: 'Paris', reference: 'paris' }])).results[0]!.reward).toBe(1);
    expect(() => createScorer({ components: [{ name: 'ok', grader: 'exactly' }] })).toThrow(SpecError);
    await expect(async () => scorer.score([{ id: 'a', completion: 'x' }, { id: 'b' }])).rejects.toThrow(RolloutError);
    await expect(async () => scorer.score([{ id: 'a', completion: 'x' }, { id: 'b' }])).rejects.toThrow(/^rollouts\[1\]\.completion: is required/);
  });
});
