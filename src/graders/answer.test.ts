import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { answerRegion, parseAnswerRegion, type RegionResult } from './answer.js';
import { ParamError } from './types.js';

const read = (text: string, region: unknown = 'auto'): RegionResult => answerRegion(text, parseAnswerRegion(region));
const textOf = (r: RegionResult): string | null => ('missing' in r ? null : r.text);

describe('answer regions: auto', () => {
  it('reads the last <answer> of an R1 completion and says so', () => {
    expect(read('<think>2 + 31</think>\n<answer>33</answer>')).toEqual({ text: '33', region: 'answer_tag' });
  });
  it('reads the whole text when there is no tag and no reasoning', () => {
    expect(read('The answer is 33.')).toEqual({ text: 'The answer is 33.', region: 'whole' });
  });
  it('reads the text after </think> when there is no <answer> tag', () => {
    expect(read('<think>maybe 12</think>\nThe answer is 33.')).toEqual({ text: '\nThe answer is 33.', region: 'response' });
  });
  it('ignores an <answer> written inside the reasoning', () => {
    expect(textOf(read('<think>draft: <answer>5</answer></think>\n<answer>7</answer>'))).toBe('7');
    // The only tag is a draft inside <think>: the response (no tag) is read, not the draft.
    expect(read('<think>draft: <answer>5</answer></think>\nI do not know.')).toEqual({ text: '\nI do not know.', region: 'response' });
    expect(read('<think>draft: <answer>5</answer></think>')).toMatchObject({ missing: true, region: 'auto' });
  });
  it('takes the last of several answer tags', () => {
    expect(textOf(read('<answer>5</answer> no wait <answer>7</answer>'))).toBe('7');
  });
  it('takes the innermost last opening of nested tags', () => {
    expect(textOf(read('<answer><answer>5</answer></answer>'))).toBe('5');
  });
  it('treats an unclosed last tag (truncated completion) as missing, even after a closed one', () => {
    const r = read('<answer>5</answer> hmm, actually <answer>3');
    expect(r).toMatchObject({ missing: true, region: 'auto' });
    expect((r as { reason: string }).reason).toMatch(/never closed/);
  });
  it('reads an answer written before the reasoning, and the text around think blocks', () => {
    expect(read('<answer>33</answer>\n<think>\n2 + 31 = 33\n</think>')).toEqual({ text: '33', region: 'answer_tag' });
    expect(read('First 12. <think>or 13</think> So 14.')).toEqual({ text: 'First 12. \n So 14.', region: 'response' });
    expect(read('<think>or 13</think>\nSo 14.')).toEqual({ text: '\nSo 14.', region: 'response' });
    // Nested blocks: all reasoning.
    expect(read('<think>a<think>b</think>c</think> 5')).toEqual({ text: ' 5', region: 'response' });
    // A complete answer before a new, truncated reasoning block still counts.
    expect(textOf(read('<answer>5</answer><think>hmm, or'))).toBe('5');
  });
  it('treats a completion truncated inside its reasoning as missing', () => {
    expect(read('<think>so the answer is 33')).toMatchObject({ missing: true, reason: expect.stringMatching(/unclosed <think>/) });
    // A template that opens <think> in the prompt: the completion starts inside it and closes it.
    expect(textOf(read('so 33</think><answer>33</answer>'))).toBe('33');
  });
  it('treats an empty tag or empty completion as missing', () => {
    expect(read('<answer>  \n</answer>')).toMatchObject({ missing: true });
    expect(read('')).toMatchObject({ missing: true });
    expect(read('<think>a</think>   ')).toMatchObject({ missing: true });
  });
  it('is case-sensitive about tags', () => {
    expect(read('<Answer>5</Answer>')).toEqual({ text: '<Answer>5</Answer>', region: 'whole' });
  });
});

describe('answer regions: the others', () => {
  it('whole reads everything, reasoning included', () => {
    expect(read('<think>x</think><answer>1</answer>', 'whole')).toEqual({ text: '<think>x</think><answer>1</answer>', region: 'whole' });
  });
  it('{tag} reads the last such tag of the response; {tag: think} the reasoning', () => {
    expect(read('<final>1</final><final>2</final>', { tag: 'final' })).toEqual({ text: '2', region: 'tag:final' });
    expect(read('no tag', { tag: 'final' })).toMatchObject({ missing: true, region: 'tag:final' });
    expect(read('<think>plan</think><answer>1</answer>', { tag: 'think' })).toEqual({ text: 'plan', region: 'tag:think' });
  });
  it('{after} reads after the last marker', () => {
    expect(read('#### 3\nno, #### 18', { after: '####' })).toEqual({ text: ' 18', region: 'after:####' });
    expect(read('18', { after: '####' })).toMatchObject({ missing: true });
    expect(read('x ####', { after: '####' })).toMatchObject({ missing: true, reason: expect.stringMatching(/empty/) });
  });
  it('{regex} reads a group of the last match', () => {
    expect(read('Answer: 3. Answer: 18.', { regex: 'Answer: (\\d+)' })).toEqual({ text: '18', region: 'regex' });
    expect(read('Answer: 3', { regex: 'Answer: \\d+' })).toEqual({ text: 'Answer: 3', region: 'regex' });
    expect(read('x=1 y=2', { regex: '(?P<k>[a-z])=(?P<v>\\d)', group: 'v' })).toEqual({ text: '2', region: 'regex' });
    expect(read('nothing', { regex: 'Answer: (\\d+)' })).toMatchObject({ missing: true });
    // Empty matches advance: no infinite loop.
    expect(read('aaa', { regex: 'b*' })).toMatchObject({ missing: true, reason: expect.stringMatching(/empty/) });
  });
  it('{regex} rejects lookaround and missing groups when the spec loads', () => {
    expect(() => parseAnswerRegion({ regex: '(?=a)' })).toThrow(ParamError);
    expect(() => parseAnswerRegion({ regex: '(a)', group: 2 })).toThrow(/group/);
    expect(() => parseAnswerRegion({ regex: '(a)', group: 'b' })).toThrow(/group/);
    expect(() => parseAnswerRegion('last')).toThrow(/answer region/);
    expect(() => parseAnswerRegion({ tag: '<answer>' })).toThrow(ParamError);
  });
  it('last_fenced_block reads the last closed fence without its info line', () => {
    expect(read('```sql\nSELECT 1\n```\nthen\n```sql\nSELECT 2\n```', 'last_fenced_block')).toEqual({ text: 'SELECT 2\n', region: 'last_fenced_block' });
    expect(read('```sql\nSELECT 1\n```\n```sql\nSELECT', 'last_fenced_block')).toMatchObject({ missing: true, reason: expect.stringMatching(/never closed/) });
    expect(read('SELECT 1', 'last_fenced_block')).toMatchObject({ missing: true });
  });
  it('last_boxed reads the last balanced box', () => {
    expect(read('\\boxed{1} then \\boxed{\\frac{1}{2}}.', 'last_boxed')).toEqual({ text: '\\frac{1}{2}', region: 'last_boxed' });
    expect(read('\\fbox{7}', 'last_boxed')).toEqual({ text: '7', region: 'last_boxed' });
    expect(read('\\boxed{\\{1\\}}', 'last_boxed')).toEqual({ text: '\\{1\\}', region: 'last_boxed' });
    expect(read('\\boxed{1} \\boxed{\\frac{1}{2}', 'last_boxed')).toMatchObject({ missing: true });
    expect(read('<think>\\boxed{5}</think> I give up', 'last_boxed')).toMatchObject({ missing: true });
  });
});

describe('answer regions: hostile inputs', () => {
  it('always returns a region or a reason, and a region is a substring of the input', () => {
    const regions: unknown[] = ['auto', 'whole', 'last_fenced_block', 'last_boxed', { tag: 'answer' }, { after: '####' }, { regex: '<a>(.*?)</a>' }];
    const parts = fc.constantFrom('<answer>', '</answer>', '<think>', '</think>', '```', '```sql\n', '\n', '\\boxed{', '{', '}', '####', ' 33 ', 'x', '<a>', '</a>');
    fc.assert(
      fc.property(fc.array(parts, { maxLength: 30 }), fc.constantFrom(...regions), (ps, region) => {
        const text = ps.join('');
        const r = read(text, region);
        if ('missing' in r) expect(r.reason.length).toBeGreaterThan(0);
        else {
          // Without reasoning blocks a region is a substring; with them, the pieces around the blocks joined by newlines.
          if (!text.includes('think>') || region === 'whole') expect(text.includes(r.text)).toBe(true);
          else for (const piece of r.text.split('\n')) expect(text.includes(piece)).toBe(true);
          if (region !== 'whole') {
            expect(r.text.trim()).not.toBe('');
            expect(r.text.includes('<think>')).toBe(false);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('handles megabytes of unclosed tags, fences, braces and markers in one pass each', () => {
    // Correctness only: these inputs would be quadratic for a search restarted at every opening.
    const n = 200_000;
    expect(read('<answer>'.repeat(n))).toMatchObject({ missing: true });
    expect(read('<think>'.repeat(n))).toMatchObject({ missing: true });
    expect(read('```\n'.repeat(n) + 'x', 'last_fenced_block')).toMatchObject({ missing: true });
    expect(read('\\boxed{'.repeat(n), 'last_boxed')).toMatchObject({ missing: true });
    expect(read('a'.repeat(n * 5), { regex: '(a+)+$' })).toMatchObject({ region: 'regex' });
    expect(textOf(read('</answer>'.repeat(n) + '<answer>1</answer>'))).toBe('1');
    expect(textOf(read('</think>'.repeat(n) + '<answer>2</answer>'))).toBe('2');
    expect(textOf(read('<think></think>'.repeat(n) + '<answer>3</answer>'))).toBe('3');
    expect(read('<think>' + '</think>x<think>'.repeat(n))).toMatchObject({ region: 'response' });
  });
});
