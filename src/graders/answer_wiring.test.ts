/**
 * The answer region as each grader reads it (the region logic itself: answer.test.ts), and the
 * spec-level `answer:` default. The three recipes of issue 12: R1 + math/numeric, GSM8K + numeric,
 * exact answers in tags — right > wrong ≥ no answer, never null.
 */
import { describe, expect, it } from 'vitest';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { parseAnswerRegion } from './answer.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { containsGrader } from './contains.js';
import { exactGrader } from './exact.js';
import { jsonGrader } from './json.js';
import { numericGrader } from './numeric.js';
import { regexGrader } from './regex.js';
import { toolCallGrader } from './tool_call/index.js';
import { mathGrader } from './math/index.js';
import type { Grader } from './types.js';

const r1 = (answer: string) => `<think>Paris is the capital; 11 + 22 = 33, maybe 34?</think>\n<answer>${answer}</answer>`;

async function scores(g: Grader, completions: string[], reference: unknown): Promise<(number | null)[]> {
  return (await gradeAll(g, completions.map((completion) => ({ completion, reference })))).map((o) => o.score);
}

describe('answer regions in each grader', () => {
  it('R1 + numeric and math: right 1 > wrong 0 = no answer 0', async () => {
    for (const g of [buildGrader(numericGrader), buildGrader(mathGrader)]) {
      expect(await scores(g, [r1('33'), r1('34'), r1('I am not sure'), '<think>33 surely', r1('')], '33')).toEqual([1, 0, 0, 0, 0]);
      for (const a of ['\\boxed{33}', 'The answer is 33.', '$33$', '33 apples'])
        expect(await scoreOne(g, r1(a), '33'), a).toBe(1);
    }
  });

  it('GSM8K + numeric without tags still reads #### and the last number', async () => {
    const g = buildGrader(numericGrader);
    expect(await scores(g, ['She has 9 * 2 = 18.\n#### 18', 'She has 9 * 2 = 18.\n#### 17', 'No idea.'], '18')).toEqual([1, 0, 0]);
    const [d] = await gradeAll(g, [{ completion: '#### 18', reference: '18' }]);
    expect(d!.details).toMatchObject({ region: 'whole', method: 'gsm8k' });
  });

  it('exact and contains read the tag, not the reasoning', async () => {
    const ex = buildGrader(exactGrader);
    expect(await scores(ex, [r1('Paris'), r1('London'), '<think>Paris</think>'], 'Paris')).toEqual([1, 0, 0]);
    const [d] = await gradeAll(ex, [{ completion: r1('Paris'), reference: 'Paris' }]);
    expect(d!.details).toEqual({ region: 'answer_tag' });
    const co = buildGrader(containsGrader);
    expect(await scores(co, [r1('It is Paris.'), r1('London'), '<think>Paris</think>\nNo idea'], 'Paris')).toEqual([1, 0, 0]);
    // `whole` keeps the old reading when asked.
    expect(await scoreOne(buildGrader(containsGrader, { answer: 'whole' }), '<think>Paris</think>\nNo idea', 'Paris')).toBe(1);
  });

  it('json reads JSON inside <answer> (then its own fenced/balanced extraction)', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    expect(await scores(g, [r1('{"a": 1}'), r1('```json\n{"a": 1}\n```'), r1('{"a": 2}'), '<think>{"a": 1}</think>'], { a: 1 })).toEqual([1, 1, 0, 0]);
  });

  it('regex sees the whole text unless its component asks for a region', async () => {
    const fmt = buildGrader(regexGrader, { pattern: '^<think>[\\s\\S]*</think>\\s*<answer>[\\s\\S]*</answer>$' });
    expect(await scoreOne(fmt, r1('33'))).toBe(1);
    const inside = buildGrader(regexGrader, { pattern: '^\\d+$', answer: 'auto' });
    expect(await scores(inside, [r1('33'), r1('thirty'), '<think>33'], undefined)).toEqual([1, 0, 0]);
    const [d] = await gradeAll(inside, [{ completion: r1('33') }]);
    expect(d!.details).toEqual({ region: 'answer_tag' });
    const grp = buildGrader(regexGrader, { pattern: '(\\w+)', group: 1, answer: { tag: 'answer' } });
    expect(await scoreOne(grp, r1('Paris'), 'Paris')).toBe(1);
    expect(await scoreOne(grp, 'Paris', 'Paris')).toBe(0);
  });

  it('tool_call: OpenAI tool_calls always win; a text region is read only when asked', async () => {
    const ref = [{ name: 'search', arguments: { q: 'x' } }];
    const call = '{"name": "search", "arguments": {"q": "x"}}';
    const whole = buildGrader(toolCallGrader);
    const tagged = buildGrader(toolCallGrader, { answer: 'auto' });
    expect(await scoreOne(whole, `<think>t</think><answer>${call}</answer>`, ref)).toBe(0);
    expect(await scoreOne(tagged, `<think>t</think><answer>${call}</answer>`, ref)).toBe(1);
    expect(await scoreOne(tagged, `<think>${call}</think>`, ref)).toBe(0);
    const chat = {
      completion: [{ role: 'assistant' as const, content: '<answer>nothing</answer>', tool_calls: [{ id: '1', type: 'function' as const, function: { name: 'search', arguments: '{"q": "x"}' } }] }],
      reference: ref,
    };
    expect((await gradeAll(tagged, [chat]))[0]!.score).toBe(1);
    expect(() => buildGrader(toolCallGrader, { mode: 'toolrl', answer: 'auto' })).toThrow(/answer/);
  });

  it('a component region overrides the context default; regex and tool_call ignore it', async () => {
    const ctx = { answer: parseAnswerRegion({ after: 'ANSWER:' }) };
    // The region after "ANSWER:" is " 7 then 9" (last number 9); the whole text has an answer phrase (7).
    expect(await scoreOne(buildGrader(numericGrader, {}, 't', ctx), '12 ANSWER: 7 then 9', '9')).toBe(1);
    expect(await scoreOne(buildGrader(numericGrader, { answer: 'whole' }, 't', ctx), '12 ANSWER: 7 then 9', '9')).toBe(0);
    expect(await scoreOne(buildGrader(regexGrader, { pattern: '^12' }, 't', ctx), '12 ANSWER: 7')).toBe(1);
  });
});

describe('spec-level answer:', () => {
  it('is the default of every component that reads an answer', async () => {
    const spec = parseSpec({
      answer: { after: '####' },
      components: [
        { name: 'n', grader: 'numeric' },
        { name: 'e', grader: 'exact', answer: 'whole' },
        { name: 'f', grader: 'regex', pattern: '^Work' },
      ],
    });
    const c = compileSpec(spec);
    const text = 'Work: 3 + 4 = 7\n#### 7';
    const out = await Promise.all(c.graders.map((g) => gradeAll(g, [{ completion: text, reference: '7' }])));
    expect(out.map(([o]) => o!.score)).toEqual([1, 0, 1]);
    expect(out[0]![0]!.details).toMatchObject({ region: 'after:####' });
    await c.close();
  });

  it('is validated with an error naming it', () => {
    expect(() => parseSpec({ answer: 'last', components: [{ name: 'n', grader: 'numeric' }] })).toThrow(/answer/);
    expect(() => compileSpec(parseSpec({ answer: { regex: '(?=x)' }, components: [{ name: 'n', grader: 'numeric' }] }))).toThrow(/answer\.regex/);
  });
});
