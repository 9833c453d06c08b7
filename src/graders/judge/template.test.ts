import { describe, expect, it } from 'vitest';
import { ParamError } from '../types.js';
import { compileTemplate, renderTemplate, requireSlots } from './template.js';

const ALL = ['prompt', 'completion', 'reference', 'meta', 'rubric'];

describe('judge templates', () => {
  it('splits literals and placeholders, spaces inside braces allowed', () => {
    const t = compileTemplate('Q: {{prompt}}\nA: {{ completion }}!', ALL, 'template');
    expect(t.parts).toEqual([{ literal: 'Q: ' }, { slot: 'prompt' }, { literal: '\nA: ' }, { slot: 'completion' }, { literal: '!' }]);
    expect([...t.slots]).toEqual(['prompt', 'completion']);
    expect(renderTemplate(t, (s) => s.toUpperCase())).toBe('Q: PROMPT\nA: COMPLETION!');
  });

  it('accepts meta.<key> and dotted paths when the mode offers meta', () => {
    expect([...compileTemplate('{{meta.topic}} {{meta.a.b_c}}', ALL, 'template').slots]).toEqual(['meta.topic', 'meta.a.b_c']);
    expect(() => compileTemplate('{{meta.topic}}', ['completion'], 'template')).toThrow(ParamError);
  });

  it('an unknown placeholder is a ParamError naming the param and the offered placeholders', () => {
    let err: unknown;
    try {
      compileTemplate('Rate {{answer}}', ALL, 'template');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).param).toBe('template');
    expect((err as ParamError).message).toContain('unknown placeholder {{answer}}');
    expect((err as ParamError).message).toContain('{{meta.<key>}}');
    expect(() => compileTemplate('{{meta}}', ALL, 'template')).toThrow(/unknown placeholder \{\{meta\}\}/);
    expect(() => compileTemplate('{{}}', ALL, 'template')).toThrow(ParamError);
  });

  it('substituted values are never re-scanned for placeholders', () => {
    const t = compileTemplate('[{{completion}}] [{{prompt}}]', ALL, 'template');
    const out = renderTemplate(t, (s) => (s === 'completion' ? '{{prompt}} {{rubric}}' : 'P'));
    expect(out).toBe('[{{prompt}} {{rubric}}] [P]');
  });

  it('single braces and JSON examples stay literal', () => {
    const t = compileTemplate('Answer {"score": n} for {{completion}}', ALL, 'template');
    expect(renderTemplate(t, () => 'x')).toBe('Answer {"score": n} for x');
  });

  it('requireSlots names the missing placeholders', () => {
    const t = compileTemplate('{{prompt}}', ALL, 'template');
    expect(() => requireSlots(t, ['completion', 'rubric'], 'template')).toThrow('must contain {{completion}} and {{rubric}}');
    expect(() => requireSlots(t, ['prompt'], 'template')).not.toThrow();
  });
});
