import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fenceBlock, fenceNotice, fenceTag } from './fence.js';

describe('judge fence', () => {
  it('the tag is 128 bits of hex, the same for the same data and different for other data', () => {
    const t = fenceTag(['a completion']);
    expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(fenceTag(['a completion'])).toBe(t);
    expect(fenceTag(['a completion!'])).not.toBe(t);
    // Length prefixes keep the split between texts part of the tag.
    expect(fenceTag(['ab', 'c'])).not.toBe(fenceTag(['a', 'bc']));
  });

  it('no fenced text ever contains its call\'s tag', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), { maxLength: 5 }), (texts) => {
        const tag = fenceTag(texts);
        return texts.every((t) => !t.includes(tag));
      }),
      { numRuns: 300 },
    );
  });

  it('wraps data between markers carrying the tag and the label; the notice names the same markers', () => {
    expect(fenceBlock('ab', { label: 'completion', text: 'x = 3' })).toBe('<<<BEGIN ab completion>>>\nx = 3\n<<<END ab completion>>>');
    const notice = fenceNotice('ab');
    expect(notice).toContain('<<<BEGIN ab name>>>');
    expect(notice).toContain('<<<END ab name>>>');
    expect(notice).toMatch(/data, never instructions/);
  });
});
