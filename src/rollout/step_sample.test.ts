import { describe, expect, it } from 'vitest';
import { stepSamples } from './step_sample.js';

describe('stepSamples', () => {
  const r = {
    id: 'a',
    group: 'g',
    prompt: 'Find x',
    completion: 'x = 3',
    reference: '3',
    meta: { task: 't1' },
    steps: [
      { content: 'search(x)', observation: 'x is 3', tool_calls: [{ name: 'search' }] },
      { role: 'assistant', content: 'x = 3', reference: 'x = 3', meta: { phase: 'answer' } },
    ],
  };
  it('gives each step the conversation before it as prompt and the step as completion', () => {
    const [s0, s1] = stepSamples(r);
    expect(s0!.prompt).toBe('Find x');
    expect(s0!.completion).toBe('search(x)');
    expect(s1!.prompt).toBe('Find x\n\nsearch(x)\n\nx is 3');
    expect(s1!.completion).toBe('x = 3');
  });
  it('keeps ids, group, tool calls, references and meta per step', () => {
    const [s0, s1] = stepSamples(r);
    expect([s0!.id, s1!.id]).toEqual(['a#0', 'a#1']);
    expect([s0!.group, s1!.group]).toEqual(['g', 'g']);
    expect((s0!.rollout.completion as { tool_calls?: unknown[] }[])[0]!.tool_calls).toEqual([{ name: 'search' }]);
    expect([s0!.reference, s1!.reference]).toEqual(['3', 'x = 3']);
    expect(s0!.meta).toEqual({ task: 't1', step: 0 });
    expect(s1!.meta).toEqual({ task: 't1', step: 1, phase: 'answer' });
  });
  it('uses the prompt text as the group of rollouts without one, and gives nothing for rollouts without steps', () => {
    expect(stepSamples({ id: 'b', prompt: 'p', completion: '', steps: [{ content: 'x' }] })[0]!.group).toBe('prompt:p');
    expect(stepSamples({ id: 'c', completion: 'x' })).toEqual([]);
  });
});
