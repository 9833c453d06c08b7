import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sharedData } from '../../../test/shared-data.js';
import { matchScore, toolrlCorrectness, toolrlSchedule, toolrlFormat, toolrlGoldCalls, toolrlLength, toolrlLines } from './toolrl.js';

const block = (...calls: object[]) => `<tool_call>\n${calls.map((c) => JSON.stringify(c)).join('\n')}\n</tool_call>`;
const answer = (...calls: object[]) => `<think>reasoning</think>\n${block(...calls)}`;
const gold = (...calls: object[]) => toolrlGoldCalls(answer(...calls));

describe('ToolRL correctness', () => {
  it('matches the worked example: search(q="x",k=5) vs search(q="x",k=3) → S=3, S_max=4, 1.5', () => {
    const r = toolrlCorrectness(answer({ name: 'search', parameters: { q: 'x', k: 3 } }), gold({ name: 'search', parameters: { q: 'x', k: 5 } }));
    expect(r).toEqual({ score: 1.5, s: 3, sMax: 4 });
  });

  it('gives the maximum on an exact match and the minimum when unreadable', () => {
    const g = gold({ name: 'a', parameters: { x: 1 } }, { name: 'b', parameters: {} });
    expect(toolrlCorrectness(answer({ name: 'a', parameters: { x: 1.0 } }, { name: 'b', parameters: {} }), g).score).toBe(3);
    expect(toolrlCorrectness('<think>t</think>\n<tool_call>\n{"name": "a", "parameters": {"x": 1}}\n\n{"name": "b", "parameters": {}}\n</tool_call>', g).score).toBe(-3);
    expect(toolrlCorrectness('<think>t</think> no tags', g).score).toBe(-3);
    expect(toolrlCorrectness(answer({ parameters: {} }), g).score).toBe(-3);
    expect(toolrlCorrectness(answer({ name: 'a', parameters: [1] }), g).score).toBe(-3);
    // names 1/2, a: keys 1 + value 1, b: unmatched → S = 2.5 of S_max = 4; range ±1 → 2·2.5/4 − 1.
    expect(toolrlCorrectness(answer({ name: 'a', parameters: { x: 1 } }), g, 1).score).toBeCloseTo(0.25, 12);
  });

  it('gives 0 when the gold has no tool call, whatever the response', () => {
    expect(toolrlCorrectness(answer({ name: 'a', parameters: {} }), null).score).toBe(0);
  });

  it('counts names as a multiset and pairs each gold call with its best unused same-named call', () => {
    expect(matchScore(['a', 'a', 'b'], ['a', 'b', 'b'])).toBeCloseTo(2 / 4, 12);
    expect(matchScore(['a', 'b'], ['b', 'a'])).toBe(1);
    expect(matchScore([], ['a'])).toBe(0);
    expect(matchScore([], [])).toBe(1);
    const g = gold({ name: 'f', parameters: { x: 1, y: 2 } }, { name: 'f', parameters: { x: 3, y: 4 } });
    const r = toolrlCorrectness(answer({ name: 'f', parameters: { x: 3, y: 4 } }, { name: 'f', parameters: { x: 1, y: 0 } }), g);
    // names 1; gold 1 takes pred 2 (1 + 1), gold 2 takes pred 1 (1 + 2); S_max = 1 + 3 + 3.
    expect(r.s).toBe(6);
    expect(r.sMax).toBe(7);
  });

  it('is monotone in the number of matching parameter values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.nat(5), (n, right, flip) => {
        const params = Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
        const g = gold({ name: 'f', parameters: params });
        const pred = (ok: boolean[]) => answer({ name: 'f', parameters: Object.fromEntries(Object.entries(params).map(([k, v], i) => [k, ok[i] ? v : -1])) });
        const base = right.slice(0, n);
        const more = base.map((b, i) => b || i === flip % n);
        const a = toolrlCorrectness(pred(base), g).score;
        const b = toolrlCorrectness(pred(more), g).score;
        expect(b).toBeGreaterThanOrEqual(a);
        if (!base[flip % n]) expect(b).toBeGreaterThan(a);
        expect(a).toBeGreaterThanOrEqual(-3);
        expect(b).toBeLessThanOrEqual(3);
      }),
    );
  });

  it('reads the gold as ToolRL does and refuses a gold it cannot read', () => {
    expect(toolrlLines('x')).toMatch(/missing/);
    expect(() => toolrlGoldCalls('<think>I will use <tool_call> tags</think>\n<tool_call>\n{"name": "f", "parameters": {}}\n</tool_call>')).toThrow(/cannot read the gold/);
  });
});

describe('ToolRL format', () => {
  const t = { toolCall: true, response: false };
  it('follows the gold’s blocks', () => {
    expect(toolrlFormat('<think>a</think>\n<tool_call>\n{}\n</tool_call>', t)).toBe(1);
    expect(toolrlFormat('  <think>a</think>\n<tool_call>\n{}\n</tool_call>\n', t)).toBe(1);
    expect(toolrlFormat('<think>a</think><tool_call>\n{}\n</tool_call>', t)).toBe(0);
    expect(toolrlFormat('<think>a</think>\n<tool_call>\n{}\n</tool_call>\n<tool_call>\n{}\n</tool_call>', t)).toBe(0);
    expect(toolrlFormat('<think>a</think>\n<response>hi</response>', { toolCall: false, response: true })).toBe(1);
    expect(toolrlFormat('<think>a</think>\n<response>hi</response><response>x</response>', { toolCall: false, response: true })).toBe(0);
    expect(toolrlFormat('<think>a</think>\n<tool_call>\n{}\n</tool_call>\n<response>hi</response>', { toolCall: true, response: true })).toBe(1);
    expect(toolrlFormat('<think>a</think>\n<tool_call>\n{}\n</tool_call>', { toolCall: true, response: true })).toBe(0);
    expect(toolrlFormat('<think>a\nb</think>', { toolCall: false, response: false })).toBe(1);
    expect(toolrlFormat('<think>a</think> x', { toolCall: false, response: false })).toBe(0);
  });
});

describe('ToolRL length', () => {
  it('is min(1, round(words/512, 2)), 0 without think tags', () => {
    expect(toolrlLength('no tags')).toBe(0);
    expect(toolrlLength(`<think>${'w '.repeat(256)}</think>`)).toBe(0.5);
    expect(toolrlLength(`<think>${'w '.repeat(2000)}</think>`)).toBe(1);
    // 41/512 = 0.080078125 → 0.08; 64·k + 32 words give exact ties, rounded to even like Python.
    expect(toolrlLength(`<think>${'w '.repeat(41)}</think>`)).toBe(0.08);
  });
});

// Data: ToolRL's SFT split (qiancheng0/ToolRL dataset/rlla_4k_raw/rlla_sft.json @ 8cee13e, Apache-2.0),
// in ../shared/data/tool_calls/toolrl/rlla_sft.json.
const file = sharedData('tool_calls/toolrl/rlla_sft.json');
describe.skipIf(file === null)('ToolRL gold outputs (rlla_sft.json)', () => {
  it('all gold calls are readable once the reasoning is set aside', () => {
    const rows: { output: string }[] = JSON.parse(readFileSync(file!, 'utf8'));
    expect(rows).toHaveLength(400);
    for (const r of rows) {
      const after = r.output.slice(r.output.lastIndexOf('</think>'));
      if (after.includes('<tool_call>')) expect(typeof toolrlLines(after)).not.toBe('string');
    }
  });
});

describe('ToolRL reward granularity and dynamic schedule (rlla.py COARSEREWARD / INTERMEDIATEREWARD / SCHEDULEREWARD)', () => {
  const g1 = gold({ name: 'search', parameters: { q: 'x', k: 5 } });
  const p1 = answer({ name: 'search', parameters: { q: 'x', k: 3 } });
  const g2 = gold({ name: 'search', parameters: { q: 'x', k: 5 } }, { name: 'open', parameters: { id: 1 } });
  const p2 = answer({ name: 'search', parameters: { q: 'x', k: 3 } }, { name: 'open', parameters: { id: 1 } });

  it('one wrong value: fine 1.5, intermediate S = 1 (names) of S_max = 2 → 0, coarse −3', () => {
    expect(toolrlCorrectness(p1, g1).score).toBe(1.5);
    expect(toolrlCorrectness(p1, g1, 3, { granularity: 'intermediate' })).toEqual({ score: 0, s: 1, sMax: 2 });
    expect(toolrlCorrectness(p1, g1, 3, { granularity: 'coarse' }).score).toBe(-3);
  });

  it('two calls, one exact: fine S = 5/6 → 2; intermediate S = 1 + 1 of 3 → 1; coarse −3', () => {
    expect(toolrlCorrectness(p2, g2)).toEqual({ score: 2, s: 5, sMax: 6 });
    expect(toolrlCorrectness(p2, g2, 3, { granularity: 'intermediate' }).score).toBeCloseTo(1, 12);
    expect(toolrlCorrectness(p2, g2, 3, { granularity: 'coarse' }).score).toBe(-3);
  });

  it('exact answers get the maximum at every granularity; coarse is order-sensitive as `gt_tools == pd_tools`', () => {
    const exact = answer({ name: 'search', parameters: { q: 'x', k: 5 } }, { name: 'open', parameters: { id: 1 } });
    for (const granularity of ['fine', 'intermediate', 'coarse'] as const) expect(toolrlCorrectness(exact, g2, 3, { granularity }).score).toBe(3);
    const swapped = answer({ name: 'open', parameters: { id: 1 } }, { name: 'search', parameters: { q: 'x', k: 5 } });
    expect(toolrlCorrectness(swapped, g2, 3, { granularity: 'coarse' }).score).toBe(-3);
    expect(toolrlCorrectness(swapped, g2).score).toBe(3);
    // an extra call is not exact
    const extra = answer({ name: 'search', parameters: { q: 'x', k: 5 } }, { name: 'open', parameters: { id: 1 } }, { name: 'open', parameters: { id: 2 } });
    expect(toolrlCorrectness(extra, g2, 3, { granularity: 'coarse' }).score).toBe(-3);
    expect(toolrlCorrectness(extra, g2, 3, { granularity: 'intermediate' }).score).toBeLessThan(3);
  });

  it('dynamic schedule: steps 0, 75, 150, 300', () => {
    expect(toolrlSchedule(3, 0)).toEqual({ correctMin: -2, correctMax: 2, formatMin: -2, formatMax: 2 });
    expect(toolrlSchedule(3, 75)).toEqual({ correctMin: -2.5, correctMax: 2.5, formatMin: -1, formatMax: 1.5 });
    expect(toolrlSchedule(3, 150)).toEqual({ correctMin: -3, correctMax: 3, formatMin: -1, formatMax: 1 });
    expect(toolrlSchedule(3, 300)).toEqual({ correctMin: -3, correctMax: 3, formatMin: -1, formatMax: 1 });
    // step 75, one wrong value: (2.5 − (−2.5))·3/4 − 2.5 = 1.25
    expect(toolrlCorrectness(p1, g1, 2.5, { min: -2.5 }).score).toBeCloseTo(1.25, 12);
  });
});

