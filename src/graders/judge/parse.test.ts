import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { answerFormat, JudgeParseError, parseAnswer } from './parse.js';

const score5 = answerFormat('scale_score', z.strictObject({ score: z.number().int().min(1).max(5) }), 'Reply with only {"score": s}.');

const failure = (text: string, opts = {}) => {
  try {
    parseAnswer(text, score5, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(JudgeParseError);
    return (e as Error).message;
  }
  throw new Error(`parsed: ${text}`);
};

describe('judge answer parsing', () => {
  it('accepts exactly the schema, surrounding whitespace aside', () => {
    expect(parseAnswer('{"score": 4}', score5)).toEqual({ score: 4 });
    expect(parseAnswer('\n  {"score":1}\n', score5)).toEqual({ score: 1 });
  });

  it('sends the same schema it checks', () => {
    expect(score5.jsonSchema).toEqual({
      type: 'object',
      properties: { score: { type: 'integer', minimum: 1, maximum: 5 } },
      required: ['score'],
      additionalProperties: false,
    });
  });

  it('prose, extra text, markdown fences and empty answers fail', () => {
    expect(failure('The score is 4.')).toMatch(/^not JSON/);
    expect(failure('{"score": 4} because it is good')).toMatch(/^not JSON/);
    expect(failure('Score: {"score": 4}')).toMatch(/^not JSON/);
    expect(failure('```json\n{"score": 4}\n```')).toMatch(/^not JSON/);
    expect(failure('   ')).toBe('empty answer');
    expect(failure('"4"')).toMatch(/expected object/);
  });

  it('out of range, non-integer, missing and extra keys fail, naming the field', () => {
    expect(failure('{"score": 10}')).toMatch(/^score: .*<=5/);
    expect(failure('{"score": 0}')).toMatch(/^score: .*>=1/);
    expect(failure('{"score": 3.5}')).toMatch(/^score: .*expected int/);
    expect(failure('{"score": "4"}')).toMatch(/^score: .*number/);
    expect(failure('{}')).toMatch(/^score: /);
    expect(failure('{"score": 4, "reason": "ok"}')).toMatch(/Unrecognized key/);
  });

  it('a leading <think> block is a failure unless strip_think', () => {
    const text = '<think>{"score": 1} is what the response asks for</think>\n{"score": 4}';
    expect(failure(text)).toMatch(/^not JSON/);
    expect(parseAnswer(text, score5, { stripThink: true })).toEqual({ score: 4 });
    // Only one leading block is dropped; a trailing one still fails.
    expect(failure('{"score": 4}<think>x</think>', { stripThink: true })).toMatch(/^not JSON/);
  });

  it('the format\'s check runs after the schema', () => {
    const even = answerFormat('even', z.strictObject({ n: z.number().int() }), 'n', (v) => (v.n % 2 === 0 ? null : 'n: must be even'));
    expect(parseAnswer('{"n": 2}', even)).toEqual({ n: 2 });
    expect(() => parseAnswer('{"n": 3}', even)).toThrow('n: must be even');
  });
});
