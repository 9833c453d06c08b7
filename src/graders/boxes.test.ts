/**
 * The three readers of `\boxed{}` — math (box spans and box content), numeric (the last box) and the
 * `last_boxed` answer region — read one box the same way (`boxes.ts`). Before session 9 each had its
 * own brace scan: an escaped brace closed math's box early and a box inside a box was read alone, so a
 * hedge in a box paid its last value (`\boxed{\} 3 \lor 5}`, `\boxed{3 \text{ or } \boxed{5}}`).
 */
import { describe, expect, it } from 'vitest';
import { answerRegion, parseAnswerRegion } from './answer.js';
import { boxContent, boxSpans, innermostContent, lastBoxSpan } from './boxes.js';
import { buildGrader, gradeAll } from './harness.js';
import { mathGrader } from './math/index.js';
import { boxedContent } from './math/normalize.js';
import { readAnswer } from './number_extract.js';

const region = parseAnswerRegion('last_boxed');
/** What each reader takes from `text`: numeric's number, the region's text, math's last-box content. */
function readers(text: string): { numeric: string | null; region: string | null; math: string } {
  const n = readAnswer(text, 'boxed');
  const r = answerRegion(text, region);
  return { numeric: n === null || 'hedge' in n ? null : n.text, region: 'missing' in r ? null : r.text, math: boxedContent(text, 'last') };
}

describe('boxes.ts: one box scan for every reader', () => {
  it('outermost boxes, escaped braces, unclosed and brace-less boxes, other commands', () => {
    const spans = (t: string) => boxSpans(t).map((b) => t.slice(b.start, b.end));
    expect(spans('a \\boxed{1} b \\fbox{2}')).toEqual(['\\boxed{1}', '\\fbox{2}']);
    expect(spans('\\boxed{3 \\text{ or } \\boxed{5}} x')).toEqual(['\\boxed{3 \\text{ or } \\boxed{5}}']);
    expect(spans('\\boxed{\\} 3 \\lor 5} x')).toEqual(['\\boxed{\\} 3 \\lor 5}']);
    expect(spans('\\boxed{\\{1,2\\}}')).toEqual(['\\boxed{\\{1,2\\}}']);
    expect(spans('\\boxed{1}}{2}')).toEqual(['\\boxed{1}']);
    expect(spans('\\boxed {5} \\boxed\n{6}')).toEqual(['\\boxed {5}', '\\boxed\n{6}']);
    expect(spans('\\boxed 5 and \\boxed7$')).toEqual(['\\boxed 5', '\\boxed7']);
    expect(spans('\\boxedx{5} \\fboxes')).toEqual([]);
    // A doubled backslash before the command does not hide it (Math-Verify and verl read the box;
    // references often carry a backslash escaped twice).
    expect(spans('\\\\boxed{6}')).toEqual(['\\boxed{6}']);
    expect(spans('\\boxed{4} then \\boxed{5 and more')).toEqual(['\\boxed{4}', '\\boxed{5 and more']);
    expect(lastBoxSpan('\\boxed{5')!.closed).toBe(false);
    const t = '\\boxed{ \\boxed{\\boxed{5}} }';
    const b = lastBoxSpan(t)!;
    expect(boxContent(t, b)).toBe(' 5 ');
    expect(t.slice(...innermostContent(t, b))).toBe('5');
    expect(boxContent('\\boxed{3 \\text{ or } \\fbox{5} \\{x\\}}', lastBoxSpan('\\boxed{3 \\text{ or } \\fbox{5} \\{x\\}}')!)).toBe('3 \\text{ or } 5 \\{x\\}');
  });

  it('the three readers agree on the box (was: numeric and the region read the inner box, math closed at an escaped brace)', () => {
    const rows: Array<[string, { numeric: string | null; region: string | null; math: string }]> = [
      ['\\boxed{5}', { numeric: '5', region: '5', math: '5' }],
      ['\\fbox{5}', { numeric: '5', region: '5', math: '5' }],
      ['\\boxed 5 and 6', { numeric: '5', region: '5', math: '5' }], // region: was none; math: was the rest
      ['\\boxed{\\boxed{5}}', { numeric: '5', region: '5', math: '5' }],
      ['\\boxed{1 \\text{ or } \\boxed{2}}', { numeric: null, region: '1 \\text{ or } \\boxed{2}', math: '1 \\text{ or } 2' }], // was 2, 2, 2
      ['\\boxed{\\} 3 \\lor 5}', { numeric: null, region: '\\} 3 \\lor 5', math: '\\} 3 \\lor 5' }], // math was `\`
      ['\\boxed{1}}{2}', { numeric: '1', region: '1', math: '1' }],
      ['\\boxed{4} \\boxed 5', { numeric: '5', region: '5', math: '4,5' }], // region: was none; math: was 5 alone
      ['\\boxed{4} then \\boxed{5', { numeric: '5', region: null, math: '4,{5' }], // an unclosed box holds the rest of the text
      ['\\text{see \\boxed{5}} \\boxed{6}', { numeric: '6', region: '6', math: '5,6' }],
    ];
    for (const [text, want] of rows) expect(readers(text), text).toEqual(want);
  });

  it('math: a hedge in a box pays nothing however the box is written (was: its last value)', async () => {
    const math = buildGrader(mathGrader, {});
    const tricks = ['\\boxed{\\} 3 \\lor 5}', '\\boxed{\\{ 3 \\lor 5}', '\\boxed{3 \\lor 5 \\{}', '\\boxed{3 \\text{ or } \\boxed{5}}', '\\boxed{\\boxed{3} \\lor 5}', '\\boxed{3 \\to 5'];
    for (const ref of ['3', '5']) {
      const got = await gradeAll(math, tricks.map((completion) => ({ completion, reference: ref, group: 'g' })));
      expect(got.map((g, k) => `${tricks[k]} vs ${ref} → ${g.score}`)).toEqual(tricks.map((t) => `${t} vs ${ref} → 0`));
    }
    const honest = await gradeAll(math, ['\\boxed{5}', '\\boxed 5', '\\boxed{\\boxed{5}}'].map((completion) => ({ completion, reference: '5', group: 'g' })));
    expect(honest.map((g) => g.score)).toEqual([1, 1, 1]);
  });
});
