import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../rollout/types.js';
import { plain } from './json.js';
import { callsFromText, extractCalls, parseReference, toFunctionDocs } from './parse.js';

const simple = (text: string) => {
  const ex = callsFromText(text);
  return { ...ex, calls: ex.calls.map((c) => ({ name: c.name, args: plain(c.args) })) };
};

describe('callsFromText', () => {
  it('reads Hermes/Qwen <tool_call> blocks, one or several', () => {
    const one = simple('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(one).toEqual({ source: 'tool_call_tags', errors: [], calls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
    const two = simple('x <tool_call>{"name": "a", "arguments": {}}</tool_call>\n<tool_call>\n{"name": "b", "arguments": {"n": 1}}\n</tool_call>');
    expect(two.calls.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('reads one JSON object per line, as ToolRL writes them, and pretty-printed JSON', () => {
    const r = simple('<think>t</think>\n<tool_call>\n{"name": "v", "parameters": {"email": "a@b.c"}}\n{"name": "v", "parameters": {"email": "d@e.f"}}\n</tool_call>');
    expect(r.calls).toEqual([
      { name: 'v', args: { email: 'a@b.c' } },
      { name: 'v', args: { email: 'd@e.f' } },
    ]);
    const pretty = simple('<tool_call>\n{\n  "name": "f",\n  "arguments": {\n    "x": [1, 2]\n  }\n}\n</tool_call>');
    expect(pretty.calls).toEqual([{ name: 'f', args: { x: [1, 2] } }]);
  });

  it('reports unreadable entries and an unclosed last block', () => {
    const r = simple('<tool_call>\n{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {"x": }\n</tool_call>');
    expect(r.calls.map((c) => c.name)).toEqual(['a']);
    expect(r.errors).toHaveLength(1);
    expect(simple('<tool_call>{"name": "a", "argu').errors[0]).toMatch(/tool_call/);
    expect(simple('<tool_call>  </tool_call>').errors).toEqual(['empty <tool_call> block']);
    expect(simple('<tool_call>[1]</tool_call>').errors[0]).toMatch(/JSON object/);
  });

  it('reads plain JSON: a call, a list, {"tool_calls": …}, a fenced block, arguments as a string', () => {
    expect(simple('{"name": "f", "arguments": {"a": 1}}').calls).toEqual([{ name: 'f', args: { a: 1 } }]);
    expect(simple('[{"name": "f", "arguments": {}}, {"name": "g", "parameters": {"b": true}}]').calls).toEqual([
      { name: 'f', args: {} },
      { name: 'g', args: { b: true } },
    ]);
    expect(simple('{"tool_calls": [{"function": {"name": "f", "arguments": "{\\"a\\": 2}"}}]}').calls).toEqual([{ name: 'f', args: { a: 2 } }]);
    expect(simple('Calling:\n```json\n{"name": "f", "arguments": {"a": 3}}\n```').calls).toEqual([{ name: 'f', args: { a: 3 } }]);
    expect(simple('[{"math.factorial": {"number": 5}}]').calls).toEqual([{ name: 'math.factorial', args: { number: 5 } }]);
  });

  it('gives no call for prose, and an error for broken JSON', () => {
    expect(simple('The weather is nice.')).toEqual({ source: 'none', errors: [], calls: [] });
    const broken = simple('{"name": "f", "arguments": {');
    expect(broken.source).toBe('json');
    expect(broken.calls).toEqual([]);
    expect(broken.errors).toHaveLength(1);
  });
});

describe('extractCalls', () => {
  it('prefers the assistant messages’ tool_calls', () => {
    const rollout: Rollout = {
      id: 'r',
      completion: [
        { role: 'assistant', content: '<tool_call>{"name": "ignored", "arguments": {}}</tool_call>', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x": 1.0}' } }] },
        { role: 'tool', content: '42' },
        { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'g', arguments: { y: 'z' } } }] },
      ],
    };
    const ex = extractCalls(rollout, '');
    expect(ex.source).toBe('tool_calls');
    expect(ex.calls.map((c) => [c.name, plain(c.args)])).toEqual([
      ['f', { x: 1 }],
      ['g', { y: 'z' }],
    ]);
  });
  it('falls back to the text when no message has tool_calls', () => {
    const rollout: Rollout = { id: 'r', completion: [{ role: 'assistant', content: 'hi' }] };
    expect(extractCalls(rollout, '<tool_call>{"name": "f", "arguments": {}}</tool_call>').calls).toHaveLength(1);
  });
});

describe('parseReference', () => {
  const r: Rollout = { id: 'r', completion: '' };
  it('reads plain calls, BFCL ground truth, BFCL rows and gold text', () => {
    const plainRef = parseReference([{ name: 'f', arguments: { a: 1 } }], {}, r)!;
    expect(plainRef.calls[0]!.params.get('a')).toEqual({ values: [1], optional: false });
    const bfcl = parseReference([{ f: { a: [1, 2], b: ['x', ''] } }], {}, r)!;
    expect(bfcl.calls[0]!.params.get('a')).toEqual({ values: [1, 2], optional: false });
    expect(bfcl.calls[0]!.params.get('b')!.optional).toBe(true);
    const row = parseReference({ ground_truth: [], function: [{ name: 'f', parameters: { type: 'dict', properties: { a: { type: 'integer' } }, required: ['a'] } }] }, {}, r)!;
    expect(row.calls).toEqual([]);
    expect(row.functions).toEqual([{ name: 'f', properties: { a: { type: 'integer' } }, required: ['a'] }]);
    const text = parseReference('<tool_call>\n{"name": "f", "parameters": {"q": "x"}}\n</tool_call>', {}, r)!;
    expect(text.calls.map((c) => c.name)).toEqual(['f']);
    expect(parseReference('no call needed', {}, r)!.calls).toEqual([]);
    expect(parseReference(undefined, {}, r)).toBeNull();
  });
  it('takes function descriptions from meta or the rollout’s tools, in OpenAI form too', () => {
    const tools = [{ type: 'function', function: { name: 'g', parameters: { type: 'object', properties: { b: { type: 'string' } }, required: [] } } }];
    expect(parseReference([], { tools }, r)!.functions![0]!.name).toBe('g');
    expect(parseReference([], {}, { ...r, tools })!.functions![0]!.properties).toEqual({ b: { type: 'string' } });
    expect(toFunctionDocs('nope')).toBeNull();
  });
  it('throws on a malformed reference', () => {
    expect(() => parseReference([{ nope: 1 }], {}, r)).toThrow(/reference call 0/);
    expect(() => parseReference('<tool_call>{bad</tool_call>', {}, r)).toThrow(/reference/);
    expect(() => parseReference(42, {}, r)).toThrow();
  });
});
