import { describe, expect, it } from 'vitest';
import { validateRollout, RolloutError } from './validate.js';
import { toSample, textOf } from './sample.js';

const msg = (v: unknown) => {
  try {
    validateRollout(v);
    return 'valid';
  } catch (e) {
    expect(e).toBeInstanceOf(RolloutError);
    return (e as Error).message;
  }
};

describe('validateRollout', () => {
  it('accepts the contract and keeps unknown keys', () => {
    const r = { id: 'q1-0', group: 'q1', prompt: 'Q', completion: 'A', reference: { any: ['json'] }, meta: { data_source: 'x' }, extra: 1 };
    expect(validateRollout(r)).toBe(r);
  });
  it('accepts chat messages', () => {
    expect(msg({ id: 'a', prompt: [{ role: 'user', content: 'hi' }], completion: [{ role: 'assistant', content: null, tool_calls: [] }] })).toBe('valid');
    expect(msg({ id: 'a', completion: [{ role: 'assistant', content: [{ type: 'text', text: 'x' }] }] })).toBe('valid');
  });
  it('names the field that is wrong', () => {
    expect(msg([1])).toBe('(record): expected a JSON object, got array');
    expect(msg({ completion: 'A' })).toBe('id: is required (a non-empty string)');
    expect(msg({ id: 7, completion: 'A' })).toBe('id: expected a non-empty string, got number');
    expect(msg({ id: 'a' })).toBe('completion: is required (a string or a list of chat messages)');
    expect(msg({ id: 'a', completion: 5 })).toBe('completion: expected a string or a list of chat messages, got number');
    expect(msg({ id: 'a', completion: [{ role: 'assistant', content: 'x' }, { content: 'y' }] })).toBe('completion[1].role: expected a string, got undefined');
    expect(msg({ id: 'a', completion: 'x', group: 3 })).toBe('group: expected a string, got number');
    expect(msg({ id: 'a', completion: 'x', meta: [] })).toBe('meta: expected an object, got array');
    expect(msg({ id: 'a', completion: 'x', steps: [{ reward: 'high' }] })).toBe('steps[0].reward: expected a finite number, got string');
    expect(msg({ id: 'a', completion: 'x', steps: {} })).toBe('steps: expected a list of steps, got object');
  });
});

describe('samples', () => {
  it('joins assistant messages of a chat completion and groups by prompt by default', () => {
    const s = toSample(
      validateRollout({
        id: 'a',
        prompt: [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }],
        completion: [{ role: 'assistant', content: 'one' }, { role: 'tool', content: 'obs' }, { role: 'assistant', content: [{ type: 'text', text: 'two' }] }],
      }),
    );
    expect(s.completion).toBe('one\n\ntwo');
    expect(s.prompt).toBe('S\n\nU');
    expect(s.group).toBe('prompt:S\n\nU');
    expect(toSample({ id: 'b', group: 'g', completion: 'x' }).group).toBe('g');
    expect(textOf([{ role: 'tool', content: 'only' }], 'completion')).toBe('only');
  });
});
