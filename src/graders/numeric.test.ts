import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { numericGrader } from './numeric.js';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { sharedData } from '../../test/shared-data.js';

describe('numeric', () => {
  it('scores the extracted number against a number or string reference', async () => {
    const g = buildGrader(numericGrader);
    expect(await scoreOne(g, 'So she makes $18 a day.\n#### 18', '18')).toBe(1);
    expect(await scoreOne(g, 'So she makes $18 a day.\n#### 18', 18)).toBe(1);
    expect(await scoreOne(g, 'So she makes $18 a day.\n#### 18', 19)).toBe(0);
    expect(await scoreOne(g, 'The answer is \\boxed{\\frac{1}{4}}', '0.25')).toBe(1);
    expect(await scoreOne(g, 'We need 1,000 bricks.', '1000')).toBe(1);
    expect(await scoreOne(g, 'We need 1 000 bricks.', '1,000')).toBe(1);
    expect(await scoreOne(g, 'it is 18.0', '$18.00')).toBe(1);
    expect(await scoreOne(g, 'Result: -3', '-3')).toBe(1);
    expect(await scoreOne(g, 'Result: 3', '-3')).toBe(0);
  });

  it('reports what it extracted', async () => {
    const g = buildGrader(numericGrader);
    const [r] = await gradeAll(g, [{ completion: 'She earns 9 * 2 = $18 a day.\n#### 18', reference: '18' }]);
    expect(r).toEqual({ score: 1, details: { extracted: '18', value: 18, method: 'gsm8k', reference: 18, region: 'whole' } });
    const [p] = await gradeAll(g, [{ completion: 'It grew by 50%', reference: 'work\n#### 50' }]);
    expect(p).toEqual({ score: 1, details: { extracted: '50%', value: 50, percent: true, method: 'last_number', reference: 50, region: 'whole' } });
  });

  it('applies absolute and relative tolerance', async () => {
    expect(await scoreOne(buildGrader(numericGrader), '3.1415926', '3.1415927')).toBe(1); // 1e-7 ≤ 1e-6
    expect(await scoreOne(buildGrader(numericGrader), '3.14', '3.1416')).toBe(0);
    expect(await scoreOne(buildGrader(numericGrader, { tolerance: 0.01 }), '3.14', '3.1416')).toBe(1);
    expect(await scoreOne(buildGrader(numericGrader, { tolerance: 0 }), '0.30000000000000004', 0.3)).toBe(0);
    const rel = buildGrader(numericGrader, { tolerance: 0, rel_tolerance: 0.01 });
    expect(await scoreOne(rel, '1005', '1000')).toBe(1);
    expect(await scoreOne(rel, '1011', '1000')).toBe(0);
    expect(await scoreOne(rel, '0', '0')).toBe(1);
  });

  it('reads percents as configured', async () => {
    const strip = buildGrader(numericGrader);
    expect(await scoreOne(strip, 'It grew by 50%.', '50')).toBe(1);
    expect(await scoreOne(strip, 'It grew by 50%.', '0.5')).toBe(0);
    const divide = buildGrader(numericGrader, { percent: 'divide' });
    expect(await scoreOne(divide, 'It grew by 50%.', '0.5')).toBe(1);
    expect(await scoreOne(divide, 'It grew by 50%.', '50')).toBe(0);
    expect(await scoreOne(divide, 'It grew by 0.5', '50%')).toBe(1);
    const either = buildGrader(numericGrader, { percent: 'either' });
    expect(await scoreOne(either, 'It grew by 50%.', '0.5')).toBe(1);
    expect(await scoreOne(either, 'It grew by 50%.', '50')).toBe(1);
    expect(await scoreOne(either, 'It grew by 50%.', '5')).toBe(0);
  });

  it('honours the extraction mode', async () => {
    const text = 'The answer is 7. \\boxed{8} and finally 9';
    expect(await scoreOne(buildGrader(numericGrader, { extract: 'boxed' }), text, 8)).toBe(1);
    expect(await scoreOne(buildGrader(numericGrader, { extract: 'answer_is' }), text, 7)).toBe(1);
    expect(await scoreOne(buildGrader(numericGrader, { extract: 'last_number' }), text, 9)).toBe(1);
    expect(await scoreOne(buildGrader(numericGrader, { extract: 'gsm8k' }), text, 9)).toBe(0);
  });

  it('gives 0 (or null) when nothing is extractable, null without a numeric reference', async () => {
    const g = buildGrader(numericGrader);
    const [empty] = await gradeAll(g, [{ completion: '', reference: '5' }]);
    expect(empty).toEqual({ score: 0, details: { extracted: null, reference: 5, region: 'auto', reason: 'no answer: the response is empty' } });
    const [words] = await gradeAll(g, [{ completion: 'no idea', reference: '5' }]);
    expect(words).toEqual({ score: 0, details: { extracted: null, reference: 5, region: 'whole', reason: 'no number in the answer' } });
    expect(await scoreOne(buildGrader(numericGrader, { on_missing: 'null' }), 'no idea', '5')).toBeNull();
    expect(await scoreOne(g, '5', undefined)).toBeNull();
    expect(await scoreOne(g, '5', null)).toBeNull();
    const [notNumber] = await gradeAll(g, [{ completion: '5', reference: '\\sqrt{2}' }]);
    expect(notNumber).toEqual({ score: null, details: { reason: 'the reference is not a number' } });
    expect(await scoreOne(g, '5', { value: 5 })).toBeNull();
  });

  it('accepts any of several references', async () => {
    const g = buildGrader(numericGrader);
    expect(await scoreOne(g, 'it is 0.5', ['1/2', 'half'])).toBe(1);
    expect(await scoreOne(g, 'it is 0.6', ['1/2', 0.5])).toBe(0);
  });

  it('reuses the parsed reference only while it is the same reference', async () => {
    const g = buildGrader(numericGrader);
    const out = await gradeAll(g, [
      { completion: '1', reference: '1' },
      { completion: '1', reference: '1' },
      { completion: '1', reference: '2' },
      { completion: '2', reference: '2' },
    ]);
    expect(out.map((o) => o.score)).toEqual([1, 1, 0, 1]);
  });

  it('handles unicode and a 1 MB completion', async () => {
    const g = buildGrader(numericGrader);
    expect(await scoreOne(g, 'Der Preis beträgt 12 €. ✅', 12)).toBe(1);
    expect(await scoreOne(g, 'ab'.repeat(512 * 1024) + ' so 77', 77)).toBe(1);
  });

  it('rejects bad params', () => {
    expect(() => buildGrader(numericGrader, { tolerance: -1 })).toThrow();
    expect(() => buildGrader(numericGrader, { extract: 'first' })).toThrow();
    expect(() => buildGrader(numericGrader, { tolerence: 1 })).toThrow();
  });

  it('scores 1 exactly for the right integer and 0 for any other (property)', async () => {
    const g = buildGrader(numericGrader);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 1, max: 1000 }), async (n, d) => {
        const text = `Step one.\nThe total is ${n.toLocaleString('en-US')}.`;
        return (await scoreOne(g, text, String(n))) === 1 && (await scoreOne(g, text, n + d)) === 0;
      }),
    );
  });
});

// GSM8K test split, openai/grade-school-math grade_school_math/data/test.jsonl (MIT), read in place.
const gsm8k = sharedData('math_data/gsm8k_test.jsonl');
describe.skipIf(gsm8k === null)('numeric on GSM8K gold answers', () => {
  const rows = gsm8k === null ? [] : readFileSync(gsm8k, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { answer: string });
  const goldNumber = (answer: string) => answer.slice(answer.lastIndexOf('####') + 4).trim();

  it('has the 1,319 rows', () => {
    expect(rows.length).toBe(1319);
  });

  it('scores every gold solution 1 against its own #### answer', async () => {
    const g = buildGrader(numericGrader);
    const asText = await gradeAll(g, rows.map((r) => ({ completion: r.answer, reference: goldNumber(r.answer) })));
    const asSolution = await gradeAll(g, rows.map((r) => ({ completion: r.answer, reference: r.answer })));
    const asNumber = await gradeAll(g, rows.map((r) => ({ completion: r.answer, reference: Number(goldNumber(r.answer).replace(/,/g, '')) })));
    for (const out of [asText, asSolution, asNumber]) expect(out.filter((o) => o.score !== 1)).toEqual([]);
  });

  it('scores 0 against a different row whose number differs', async () => {
    const g = buildGrader(numericGrader);
    const pairs = rows
      .map((r, i) => ({ completion: r.answer, reference: rows[(i + 1) % rows.length]!.answer }))
      .filter((p) => goldNumber(p.completion).replace(/,/g, '') !== goldNumber(p.reference).replace(/,/g, ''));
    expect(pairs.length).toBeGreaterThan(1200);
    const out = await gradeAll(g, pairs);
    expect(out.filter((o) => o.score !== 0)).toEqual([]);
  });

  it('finds the gold number without the #### marker, as the last number of the solution', async () => {
    // Dropping the "#### n" line leaves the worked solution; its last number is the answer in most rows.
    const g = buildGrader(numericGrader);
    const out = await gradeAll(g, rows.map((r) => ({ completion: r.answer.slice(0, r.answer.lastIndexOf('####')), reference: r.answer })));
    const right = out.filter((o) => o.score === 1).length;
    expect(right / rows.length).toBeGreaterThan(0.9);
  });
});

// MATH-500 (PRM800K split of the MATH data, MIT): solutions end in \boxed{…}.
const math500 = sharedData('math_data/math500_test.jsonl');
describe.skipIf(math500 === null)('numeric on MATH-500 solutions', () => {
  it('scores the solution 1 against its answer for every numeric answer', async () => {
    const rows = readFileSync(math500!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { solution: string; answer: string });
    const g = buildGrader(numericGrader);
    const out = await gradeAll(g, rows.map((r) => ({ completion: r.solution, reference: r.answer })));
    const numeric = out.filter((o) => o.score !== null);
    expect(numeric.length).toBeGreaterThan(350); // answers like \sqrt{2} or (3, \frac{\pi}{2}) are not numbers: null
    expect(numeric.filter((o) => o.score !== 1)).toEqual([]);
  });
});
