import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatGrader } from './format.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { ParamError } from './types.js';

const GOOD = '<think>\nThe eggs: 16 - 3 - 4 = 9.\n</think>\n<answer>18</answer>';

describe('format', () => {
  it('accepts the think/answer structure with whitespace around the blocks', async () => {
    const g = buildGrader(formatGrader);
    expect(await scoreOne(g, GOOD)).toBe(1);
    expect(await scoreOne(g, '<think>a</think><answer>b</answer>')).toBe(1);
    expect(await scoreOne(g, '\n  <think>a</think>\n\n<answer>b</answer>\n')).toBe(1);
    expect(await scoreOne(g, '<think></think><answer></answer>')).toBe(1);
    expect(await scoreOne(g, '<think>日本語 😀 < > </thin></think>\u3000<answer>ß</answer>')).toBe(1);
  });

  it('rejects text outside the blocks', async () => {
    const g = buildGrader(formatGrader);
    expect(await scoreOne(g, 'Sure! <think>a</think><answer>b</answer>')).toBe(0);
    expect(await scoreOne(g, '<think>a</think> so <answer>b</answer>')).toBe(0);
    expect(await scoreOne(g, '<think>a</think><answer>b</answer> Done.')).toBe(0);
    expect(await scoreOne(buildGrader(formatGrader, { allow_trailing: true }), '<think>a</think><answer>b</answer> Done.')).toBe(1);
    expect(await scoreOne(buildGrader(formatGrader, { allow_trailing: true }), 'x<think>a</think><answer>b</answer> Done.')).toBe(0);
  });

  it('rejects missing, duplicated, nested and reordered tags', async () => {
    const g = buildGrader(formatGrader);
    for (const bad of [
      '',
      'just an answer',
      '<think>a</think>',
      '<answer>b</answer>',
      '<think>a<answer>b</answer>',
      '<think>a</think><think>again</think><answer>b</answer>',
      '<think>a</think><answer>b</answer><answer>c</answer>',
      '<think><think>a</think></think><answer>b</answer>',
      '<think>a<answer>b</answer></think>',
      '<answer>b</answer><think>a</think>',
      '</think><think>a<answer>b</answer>',
      '<think>a</think><answer>b</think></answer>',
      '<THINK>a</THINK><answer>b</answer>',
    ])
      expect(await scoreOne(g, bad), bad).toBe(0);
  });

  it('lists the checks and gives partial credit', async () => {
    const g = buildGrader(formatGrader, { partial: true });
    const [r] = await gradeAll(g, [{ completion: '<think>\n2+2=4\n</think>\n<answer>4</answer> Done!' }]);
    expect(r).toEqual({
      score: 7 / 8,
      details: {
        checks: {
          '<think> once': true,
          '</think> once': true,
          '<answer> once': true,
          '</answer> once': true,
          order: true,
          'nothing before <think>': true,
          'nothing between </think> and <answer>': true,
          'nothing after </answer>': false,
        },
        passed: 7,
        total: 8,
      },
    });
    expect(await scoreOne(g, '')).toBe(0);
    expect(await scoreOne(g, 'no tags at all')).toBe(0);
    expect(await scoreOne(g, '<think>a</think> b')).toBe(3 / 8); // the two think counts and nothing before <think>
    expect(await scoreOne(g, '<think>a</think><answer>b</answer>')).toBe(1);
  });

  it('handles prefilled templates that open the first tag in the prompt', async () => {
    const g = buildGrader(formatGrader, { prefilled: true });
    expect(await scoreOne(g, 'Some reasoning.\n</think>\n<answer>4</answer>')).toBe(1);
    expect(await scoreOne(g, '</think><answer>4</answer>')).toBe(1);
    expect(await scoreOne(g, '<think>Some reasoning.</think><answer>4</answer>')).toBe(0);
    expect(await scoreOne(g, 'Some reasoning.<answer>4</answer>')).toBe(0);
    const [r] = await gradeAll(buildGrader(formatGrader, { prefilled: true, partial: true }), [{ completion: '<think>x</think><answer>4</answer>' }]);
    expect(r!.details!.checks).toMatchObject({ 'no <think> (prefilled)': false, order: false });
    expect(r!.details!.total).toBe(7);
  });

  it("checks open-r1's newline layout when asked", async () => {
    const g = buildGrader(formatGrader, { newlines: true });
    expect(await scoreOne(g, '<think>\nreasoning\n</think>\n<answer>\n42\n</answer>')).toBe(1);
    expect(await scoreOne(g, '<think>\nreasoning\n</think>\n<answer>\n42\n</answer>\n')).toBe(1);
    expect(await scoreOne(g, '<think>reasoning</think>\n<answer>\n42\n</answer>')).toBe(0);
    expect(await scoreOne(g, '<think>\nreasoning\n</think>\n\n<answer>\n42\n</answer>')).toBe(0);
    expect(await scoreOne(g, '<think>\nreasoning\n</think><answer>\n42\n</answer>')).toBe(0);
    expect(await scoreOne(g, ' <think>\nreasoning\n</think>\n<answer>\n42\n</answer>')).toBe(0);
    expect(await scoreOne(g, '<think>\n</think>\n<answer>\n42\n</answer>')).toBe(0);
    const p = buildGrader(formatGrader, { newlines: true, prefilled: true });
    expect(await scoreOne(p, 'reasoning\n</think>\n<answer>\n42\n</answer>')).toBe(1);
    expect(await scoreOne(p, 'reasoning</think>\n<answer>\n42\n</answer>')).toBe(0);
  });

  it('supports other tag sets', async () => {
    const g = buildGrader(formatGrader, { tags: ['reasoning', 'tool_call', 'response'] });
    expect(await scoreOne(g, '<reasoning>r</reasoning>\n<tool_call>{"name":"f"}</tool_call>\n<response>ok</response>')).toBe(1);
    expect(await scoreOne(g, '<reasoning>r</reasoning>\n<response>ok</response>')).toBe(0);
    const one = buildGrader(formatGrader, { tags: ['think'], allow_trailing: true });
    expect(await scoreOne(one, '<think>r</think>The answer is 4.')).toBe(1);
    expect(await scoreOne(one, '<think>r</think>The <think> tag')).toBe(0);
  });

  it('scans a 1 MB completion full of angle brackets in linear time', async () => {
    const g = buildGrader(formatGrader);
    const inner = '<thin<answe</thinkk<'.repeat(50_000);
    expect(await scoreOne(g, `<think>${inner}</think><answer>x</answer>`)).toBe(1);
    expect(await scoreOne(g, '<'.repeat(1 << 20))).toBe(0);
    expect(await scoreOne(g, '<think>'.repeat(150_000))).toBe(0);
  });

  it('rejects bad tag lists', () => {
    const err = (tags: unknown) => {
      try {
        buildGrader(formatGrader, { tags });
      } catch (e) {
        return e;
      }
      return null;
    };
    expect(err(['<think>'])).toBeInstanceOf(ParamError);
    expect((err(['<think>']) as ParamError).message).toMatch(/is not a tag name/);
    expect((err(['think', 'think']) as ParamError).param).toBe('tags');
    expect(err([''])).toBeInstanceOf(ParamError);
    expect(err([])).not.toBeNull();
  });

  // Pieces of tagged text, so random strings often come close to the format.
  const PIECES = fc.constantFrom('<think>', '</think>', '<answer>', '</answer>', '<', '>', '/', 'a', 'é', ' ', '\n', '<thinking>', '</answer >');
  const CONTENT = '((?:(?!</?think>|</?answer>)[\\s\\S])*)';
  const ORACLE = new RegExp(`^\\s*<think>${CONTENT}</think>\\s*<answer>${CONTENT}</answer>\\s*$`);
  const ORACLE_PREFILLED = new RegExp(`^${CONTENT}</think>\\s*<answer>${CONTENT}</answer>\\s*$`);

  it('agrees with a reference regular expression on random tagged text (property)', async () => {
    const strict = buildGrader(formatGrader);
    const partial = buildGrader(formatGrader, { partial: true });
    const pre = buildGrader(formatGrader, { prefilled: true });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: PIECES, maxLength: 14 }), async (t) => {
        const s = await scoreOne(strict, t);
        const p = (await scoreOne(partial, t))!;
        return s === (ORACLE.test(t) ? 1 : 0) && p >= 0 && p <= 1 && (p === 1) === (s === 1) && (await scoreOne(pre, t)) === (ORACLE_PREFILLED.test(t) ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts any tag-free contents (property)', async () => {
    const g = buildGrader(formatGrader);
    const free = fc.string().filter((x) => !/<\/?(think|answer)>/.test(x));
    await fc.assert(
      fc.asyncProperty(free, free, fc.stringMatching(/^\s*$/), async (a, b, ws) => (await scoreOne(g, `${ws}<think>${a}</think>${ws}<answer>${b}</answer>${ws}`)) === 1),
    );
  });
});
