import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { buildGrader, gradeAll, scoreOne } from '../harness.js';
import { toolCallGrader } from './index.js';

const q = (k: number) => `{"name": "search", "parameters": {"q": "x", "k": ${k}}}`;
const out = (body: string) => `<think>ok</think>\n<tool_call>\n${body}\n</tool_call>`;

describe('tool_call grader', () => {
  it('toolrl schedule dynamic reads meta.step: step 0 → 3 (format 2 + 1), step 75 → 2.75 (1.5 + 1.25), bad format at 75 → −1 + 1.25', async () => {
    const ref = out(q(5));
    const g = buildGrader(toolCallGrader, { mode: 'toolrl', schedule: 'dynamic' });
    const rows = await gradeAll(g, [
      { completion: out(q(3)), reference: ref, meta: { step: 0 } },
      { completion: out(q(3)), reference: ref, meta: { step: 75 } },
      { completion: `${out(q(3))} trailing`, reference: ref, meta: { step: 75 } },
    ]);
    expect(rows.map((r) => r.score)).toEqual([3, 2.75, 0.25]);
    expect(rows[1]!.details).toMatchObject({ step: 75, correct_range: [-2.5, 2.5], format_range: [-1, 1.5] });
    await expect(gradeAll(g, [{ completion: out(q(3)), reference: ref }])).rejects.toThrow(/meta\.step/);
    const coarse = buildGrader(toolCallGrader, { mode: 'toolrl', granularity: 'coarse' });
    expect(await scoreOne(coarse, out(q(3)), ref)).toBe(-2);
    expect(await scoreOne(coarse, out(q(5)), ref)).toBe(4);
    expect(await scoreOne(buildGrader(toolCallGrader, { mode: 'toolrl', granularity: 'intermediate', part: 'correctness' }), out(q(3)), ref)).toBe(0);
    expect(() => buildGrader(toolCallGrader, { granularity: 'coarse' })).toThrow(/granularity/);
  });

  it('toolrl: the documented example gives 2.5, and each part on its own', async () => {
    const ref = out(q(5));
    expect(await scoreOne(buildGrader(toolCallGrader, { mode: 'toolrl' }), out(q(3)), ref)).toBe(2.5);
    expect(await scoreOne(buildGrader(toolCallGrader, { mode: 'toolrl', part: 'correctness' }), out(q(3)), ref)).toBe(1.5);
    expect(await scoreOne(buildGrader(toolCallGrader, { mode: 'toolrl', part: 'format' }), `${out(q(3))} trailing`, ref)).toBe(0);
    expect(await scoreOne(buildGrader(toolCallGrader, { mode: 'toolrl', correct_max: 1 }), out(q(5)), ref)).toBe(2);
    const long = `<think>${'w '.repeat(256)}</think>\n<tool_call>\n${q(5)}\n</tool_call>`;
    const [g] = await gradeAll(buildGrader(toolCallGrader, { mode: 'toolrl', length: true }), [{ completion: long, reference: ref }]);
    expect(g!.score).toBe(4.5);
    expect(g!.details).toMatchObject({ format: 1, correctness: 3, length: 0.5, s: 4, s_max: 4 });
  });

  it('toolrl: structured references and chat completions', async () => {
    const g = buildGrader(toolCallGrader, { mode: 'toolrl' });
    expect(await scoreOne(g, out(q(5)), [{ name: 'search', arguments: { q: 'x', k: 5 } }])).toBe(4);
    // No call expected: correctness 0, format wants a <response> block.
    expect(await scoreOne(g, '<think>t</think>\n<response>Hi</response>', [])).toBe(1);
    expect(await scoreOne(g, out(q(5)), [])).toBe(0);
    const chat = { completion: [{ role: 'assistant', content: out(q(5)) }], reference: out(q(5)) };
    expect((await gradeAll(g, [chat]))[0]!.score).toBe(4);
    expect(await scoreOne(g, 'anything', undefined)).toBeNull();
  });

  it('bfcl_ast: 1/0 with a reason; no call expected', async () => {
    const g = buildGrader(toolCallGrader);
    const ref = { ground_truth: [{ 'math.factorial': { number: [5] } }], function: [{ name: 'math.factorial', parameters: { type: 'dict', properties: { number: { type: 'integer' } }, required: ['number'] } }] };
    const call = (n: string) => `<tool_call>\n{"name": "math.factorial", "arguments": {"number": ${n}}}\n</tool_call>`;
    expect(await scoreOne(g, call('5'), ref)).toBe(1);
    const [bad] = await gradeAll(g, [{ completion: call('5.0'), reference: ref }]);
    expect(bad).toMatchObject({ score: 0, details: { reason: expect.stringMatching(/expected type int, got float/) } });
    expect(await scoreOne(g, call('5, "x": '), ref)).toBe(0);
    expect(await scoreOne(g, 'I cannot do that.', [])).toBe(1);
    expect(await scoreOne(g, '{"name": "f", "arguments": {"x": }', [])).toBe(1);
    expect(await scoreOne(g, call('5'), [])).toBe(0);
  });

  it('partial: fractional credit', async () => {
    const g = buildGrader(toolCallGrader, { mode: 'partial' });
    const [r] = await gradeAll(g, [{ completion: '[{"name": "f", "arguments": {"a": 1, "b": 3}}]', reference: [{ name: 'f', arguments: { a: 1, b: 2 } }] }]);
    expect(r!.score).toBeCloseTo(5 / 6, 12);
    expect(r!.details).toMatchObject({ source: 'json', pairs: [{ expected: 'f', predicted: 'f', credit: { keys: 1, values: 0.5 } }] });
  });

  it('rejects bad params and toolrl-only params in other modes', () => {
    expect(() => buildGrader(toolCallGrader, { mode: 'ast' })).toThrow();
    expect(() => buildGrader(toolCallGrader, { mode: 'bfcl_ast', part: 'format' })).toThrow(/toolrl only/);
    expect(() => buildGrader(toolCallGrader, { mode: 'partial', correct_max: 1 })).toThrow(/toolrl only/);
    expect(() => buildGrader(toolCallGrader, { mode: 'toolrl', correct_max: 0 })).toThrow();
  });

  it('raises on a malformed reference', async () => {
    await expect(scoreOne(buildGrader(toolCallGrader), '[]', [{ oops: 1 }])).rejects.toThrow(/reference call 0/);
  });
});

// Data: ToolRL's SFT split (qiancheng0/ToolRL dataset/rlla_4k_raw/rlla_sft.json @ 8cee13e, Apache-2.0),
// in ../shared/data/tool_calls/toolrl/rlla_sft.json.
const file = sharedData('tool_calls/toolrl/rlla_sft.json');
describe.skipIf(file === null)('toolrl on ToolRL gold outputs (rlla_sft.json)', () => {
  it("gives ToolRL's maximum to every gold output ToolRL itself can read", async () => {
    const rows: { output: string }[] = JSON.parse(readFileSync(file!, 'utf8'));
    const g = buildGrader(toolCallGrader, { mode: 'toolrl' });
    const tally = { tools: 0, responseOnly: 0, unreadable: 0 };
    for (const r of rows) {
      const think = r.output.slice(0, r.output.indexOf('</think>'));
      if (think.includes('<tool_call>')) {
        // Its reasoning mentions the tag, so ToolRL's split('<tool_call>')[1] lands inside <think>: ToolRL
        // itself fails on these rows (json.loads raises), and the grader reports the reference.
        await expect(scoreOne(g, r.output, r.output)).rejects.toThrow(/cannot read the gold/);
        tally.unreadable++;
      } else if (r.output.includes('<tool_call>')) {
        expect(await scoreOne(g, r.output, r.output)).toBe(4); // format 1 + correctness 3
        tally.tools++;
      } else {
        expect(await scoreOne(g, r.output, r.output)).toBe(1); // format 1; correctness is 0 without gold calls
        tally.responseOnly++;
      }
    }
    expect(tally).toEqual({ tools: 329, responseOnly: 54, unreadable: 17 });
  });
});
