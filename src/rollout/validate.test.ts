import { describe, expect, it } from 'vitest';
import { validateRollout, RolloutError } from './validate.js';
import { toSample, textOf } from './sample.js';
import { readRolloutBatches } from './batches.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  it('checks the token data: completion_ids a list of token ids, response_length a count', () => {
    expect(msg({ id: 'a', completion: 'x', completion_ids: [0, 151643, 7], response_length: 3 })).toBe('valid');
    expect(msg({ id: 'a', completion: 'x', completion_ids: null, response_length: null })).toBe('valid');
    expect(msg({ id: 'a', completion: 'x', completion_ids: [] })).toBe('valid');
    expect(msg({ id: 'a', completion: 'x', completion_ids: '1 2 3' })).toBe('completion_ids: expected a list of token ids (non-negative integers), got string');
    expect(msg({ id: 'a', completion: 'x', completion_ids: { length: 3 } })).toBe('completion_ids: expected a list of token ids (non-negative integers), got object');
    expect(msg({ id: 'a', completion: 'x', completion_ids: [1, 2.5] })).toBe('completion_ids[1]: expected a token id (a non-negative integer), got 2.5');
    expect(msg({ id: 'a', completion: 'x', completion_ids: [1, -1] })).toBe('completion_ids[1]: expected a token id (a non-negative integer), got -1');
    expect(msg({ id: 'a', completion: 'x', completion_ids: ['7'] })).toBe('completion_ids[0]: expected a token id (a non-negative integer), got "7"');
    expect(msg({ id: 'a', completion: 'x', completion_ids: [[1]] })).toBe('completion_ids[0]: expected a token id (a non-negative integer), got array');
    expect(msg({ id: 'a', completion: 'x', response_length: '12' })).toBe('response_length: expected the number of response tokens (a non-negative integer), got "12"');
    expect(msg({ id: 'a', completion: 'x', response_length: 1.5 })).toBe('response_length: expected the number of response tokens (a non-negative integer), got 1.5');
    expect(msg({ id: 'a', completion: 'x', response_length: -3 })).toBe('response_length: expected the number of response tokens (a non-negative integer), got -3');
  });
});

describe('token data in a JSONL file', () => {
  it('skips a line with wrong-typed completion_ids with a message naming the line and the field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rk-val-')), 'r.jsonl');
    const lines = [
      { id: 'a', completion: 'x', completion_ids: [1, 2] },
      { id: 'b', completion: 'x', completion_ids: [1, '2'] },
      { id: 'c', completion: 'x', response_length: 'long' },
      { id: 'd', completion: 'x', response_length: 4 },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const bad: string[] = [];
    const ids: string[] = [];
    for await (const b of readRolloutBatches(file, { batchSize: 10, onBadLine: (line, reason) => bad.push(`${line}: ${reason}`) })) ids.push(...b.rollouts.map((r) => r.id));
    expect(ids).toEqual(['a', 'd']);
    expect(bad).toEqual([
      '2: completion_ids[1]: expected a token id (a non-negative integer), got "2"',
      '3: response_length: expected the number of response tokens (a non-negative integer), got "long"',
    ]);
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
