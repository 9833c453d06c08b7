import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGrader, gradeAll, scoreOne } from '../harness.js';
import { ParamError } from '../types.js';
import { mathGrader } from './index.js';
import { parseAnswerRegion } from '../answer.js';

describe('math grader', () => {
  const g = buildGrader(mathGrader);

  it('scores the documented example', async () => {
    expect(await scoreOne(g, '… so $f(-2)+f(-1)+f(0)=\\boxed{\\dfrac{14}{3}}$.', '\\frac{28}{6}')).toBe(1);
  });

  it('reads command names that are Object.prototype keys as any unknown command', async () => {
    // `\foo 2` reads as 2 (an unknown command is dropped); a name such as `toString` must not be
    // found on a plain object's prototype and taken for a known function or accent.
    expect(await scoreOne(g, '$\\foo 2$', '2')).toBe(1);
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])
      expect(await scoreOne(g, `$\\${name} 2$`, '2'), name).toBe(1);
  });

  it('still accepts symbolic_fallback (older specs), which has no effect: integrals are read either way', async () => {
    for (const symbolic_fallback of [true, false]) {
      const old = buildGrader(mathGrader, { symbolic_fallback });
      expect(await scoreOne(old, 'So it is $\\boxed{\\frac{1}{3}}$.', '\\int_0^1 x^2\\,dx')).toBe(1);
    }
  });

  it('scores 1 for equivalent, 0 for different answers', async () => {
    expect(await scoreOne(g, 'Thus the distance is $\\boxed{3\\sqrt{13}}$.', '\\sqrt{117}')).toBe(1);
    expect(await scoreOne(g, 'Thus the distance is $\\boxed{3\\sqrt{14}}$.', '\\sqrt{117}')).toBe(0);
    expect(await scoreOne(g, 'The answer is 42.', 42)).toBe(1);
    expect(await scoreOne(g, 'The answer is 42.', '41')).toBe(0);
  });

  it('extracts the reference from a full solution the same way', async () => {
    expect(await scoreOne(g, 'I get $\\boxed{2}$', 'So there are $\\boxed{2}$ values.')).toBe(1);
  });

  it('accepts any of several references; null without one', async () => {
    expect(await scoreOne(g, '\\boxed{7}', ['6', '7'])).toBe(1);
    expect(await scoreOne(g, '\\boxed{7}', undefined)).toBeNull();
    expect(await scoreOne(g, '\\boxed{7}', { answer: 7 })).toBeNull();
  });

  it('gives 0 with details when the answer cannot be read (null only when asked)', async () => {
    const [r] = await gradeAll(g, [{ completion: 'I am not sure.', reference: '5' }]);
    expect(r!.score).toBe(0);
    expect(r!.details).toMatchObject({ reason: 'no answer found', reference: '5' });
    const [u] = await gradeAll(g, [{ completion: 'So it is $\\zzz{1}$.', reference: '5' }]);
    expect(u!.score).toBe(0);
    expect(u!.details).toMatchObject({ reason: 'answer did not parse', extracted: '\\zzz{1}' });
    const opt = buildGrader(mathGrader, { on_parse_failure: 'null' });
    expect(await scoreOne(opt, 'I am not sure.', '5')).toBeNull();
    expect(await scoreOne(opt, '<answer>5', '5')).toBeNull();
  });

  it('says when the reference itself cannot be read', async () => {
    const [r] = await gradeAll(g, [{ completion: '\\boxed{1}', reference: '' }]);
    expect(r!.score).toBeNull();
    expect(r!.details).toMatchObject({ reason: 'reference has no answer' });
  });

  it('grades multiple-choice letters with extract: letter', async () => {
    const mc = buildGrader(mathGrader, { extract: 'letter' });
    expect(await scoreOne(mc, "Let's think. It's not A, therefore I think it's B", 'B')).toBe(1);
    expect(await scoreOne(mc, 'The answer is (C).', '(A) Cecile')).toBe(0);
    expect(await scoreOne(mc, 'Answer: E', 'E')).toBe(1);
    expect(await scoreOne(mc, 'no idea', 'B')).toBe(0);
    const five = buildGrader(mathGrader, { extract: 'letter', letters: 'ABCDE' });
    expect(await scoreOne(five, 'Answer: E', 'D')).toBe(0);
  });

  it('applies precision and strictness params', async () => {
    expect(await scoreOne(g, '\\boxed{0.33}', '\\frac{1}{3}')).toBe(0);
    expect(await scoreOne(buildGrader(mathGrader, { precision: 2 }), '\\boxed{0.33}', '\\frac{1}{3}')).toBe(1);
    expect(await scoreOne(buildGrader(mathGrader, { strict: false }), '$\\boxed{f(y)}$', '$f(x)$')).toBe(1);
    expect(await scoreOne(buildGrader(mathGrader, { allow_set_relation: true }), '$-2 \\le x \\le 7$', '$x \\in [-2,7]$')).toBe(1);
  });

  it('scores 0 with reason timeout past the time limit (Math-Verify: timeouts are False)', async () => {
    const slow = buildGrader(mathGrader, { timeout_ms: 1 });
    const [r] = await gradeAll(slow, [{ completion: '$\\boxed{\\sum_{k=1}^{99999} \\cos(k)}$', reference: '$\\sum_{k=1}^{99999} \\sin(k)$' }]);
    expect(r!.score).toBe(0);
    expect(r!.details).toMatchObject({ reason: 'timeout', limit_ms: 1 });
  });

  it('reads an integer answer in any common wrapping, and rejects its neighbour (property)', async () => {
    const wraps = [
      (s: string) => `The answer is $\\boxed{${s}}$.`,
      (s: string) => `Thus we get **${s}**.`,
      (s: string) => `Work: 3 + 4 = 7.\n#### ${s}`,
      (s: string) => `Final Answer: The final answer is $${s}$. I hope it is correct.`,
      (s: string) => `${s}`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -99_999_999, max: 99_999_999 }), fc.nat({ max: wraps.length - 1 }), fc.boolean(), async (n, w, commas) => {
        const text = commas && Math.abs(n) >= 1000 ? n.toLocaleString('en-US') : String(n);
        expect(await scoreOne(g, wraps[w]!(text), String(n))).toBe(1);
        expect(await scoreOne(g, wraps[w]!(String(n + 1)), String(n))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('validates params', () => {
    expect(() => buildGrader(mathGrader, { precison: 3 })).toThrow();
    expect(() => buildGrader(mathGrader, { letters: 'ABC' })).toThrow(ParamError);
    expect(() => buildGrader(mathGrader, { extract: 'letter', letters: 'A1' })).toThrow();
    expect(() => buildGrader(mathGrader, { timeout_ms: 0 })).toThrow();
  });
});

// Math-Verify's known failures (its issues #14, #21, #41, #60, #76), fixed here.
describe('math grader: Math-Verify regressions', () => {
  const g = buildGrader(mathGrader);

  it('does not call tiny different values equal', async () => {
    expect(await scoreOne(g, '\\boxed{2e-10}', '1e-10')).toBe(0);
    expect(await scoreOne(g, 'The answer is 0.0000002', '0.0000001')).toBe(0);
    expect(await scoreOne(g, '$\\boxed{\\frac{1}{2^{98}}}$', '\\frac{1}{2^{99}}')).toBe(0);
    expect(await scoreOne(g, '\\boxed{1.0e-10}', '1e-10')).toBe(1);
  });

  it('does not accept equations with different right-hand sides', async () => {
    expect(await scoreOne(g, '3x + 4y + 14=0', '3*x-1*y+13=0')).toBe(0);
    expect(await scoreOne(g, '$\\boxed{x = 2}$', 'x = 1')).toBe(0);
    expect(await scoreOne(g, '$\\boxed{n=1, 2, 3}$', '$n=2, 3, 4$')).toBe(0);
    expect(await scoreOne(g, '$\\boxed{y = 2x + 1}$', '$y = 2x + 3$')).toBe(0);
  });

  it('reads \\sqrt(2) as the square root of 2', async () => {
    expect(await scoreOne(g, '$4\\sqrt(2)$', '$4$')).toBe(0);
    expect(await scoreOne(g, '$4\\sqrt(2)$', '$4\\sqrt{2}$')).toBe(1);
    expect(await scoreOne(g, '$\\boxed{\\sqrt(8)}$', '2\\sqrt{2}')).toBe(1);
  });

  it('extracts **73** as 73', async () => {
    const text = 'Right: 122 + 294 + 489 = 905\n\n✅ Consistent!\n\nSo answer is consistent.\n\nThus, the number of residents who own all four of the things is **73**.\n\n---\n\n✅ Final Answer: **73**';
    expect(await scoreOne(g, text, '73')).toBe(1);
    expect(await scoreOne(g, text, '234')).toBe(0);
  });

  it('does not cut a \\mathrm{e} answer down to its first number (Math-Verify accepts 1 + 1/e for 1 - 1/e)', async () => {
    expect(await scoreOne(g, '$1 + \\frac{1}{\\mathrm{e}}$', '$1 - \\frac{1}{\\mathrm{e}}$')).toBe(0);
    expect(await scoreOne(g, '$1 - \\frac{1}{e}$', '$1 - \\frac{1}{\\mathrm{e}}$')).toBe(1);
  });
});

// Numbers as Math-Verify's number extraction reads them (its tests/test_all.py `test_number_extraction`
// and the thousands/decimal-comma cases there), with the grader's default `extract: auto`.
describe('math grader: numbers as Math-Verify reads them', () => {
  const m = buildGrader(mathGrader);
  it('reads space and thin-space thousands, plain and in LaTeX', async () => {
    for (const c of ['1 000', '1\u2009000', '1\u202f000', '$1\\,000$', '$1\\ 000$', '\\boxed{1 000}', 'The answer is 1 000.', '<answer>1 000</answer>'])
      expect(await scoreOne(m, c, '1000'), c).toBe(1);
    expect(await scoreOne(m, '1 000 000', '1000000')).toBe(1);
    expect(await scoreOne(m, '1 001', '1000')).toBe(0);
  });
  it('reads a decimal comma where the comma cannot be a thousands separator', async () => {
    expect(await scoreOne(m, '1000,99', '1000.99')).toBe(1);
    expect(await scoreOne(m, '1.22', '1,22')).toBe(1);
    expect(await scoreOne(m, '1,22', '1.22')).toBe(1);
    expect(await scoreOne(m, '0.111', '0,111')).toBe(1);
    expect(await scoreOne(m, '1,000', '1000')).toBe(1);
    expect(await scoreOne(m, '7,425,000', '7425000')).toBe(1);
    expect(await scoreOne(m, '1,23', '1.22')).toBe(0);
  });
  it('keeps the list reading of an ambiguous comma too', async () => {
    // A reference `-2,1` may be two roots: `\boxed{-2, 1}` is right, and so is -2.1 as Math-Verify reads it.
    expect(await scoreOne(m, '\\boxed{-2, 1}', '-2,1')).toBe(1);
    expect(await scoreOne(m, '-2,1', '-2.1')).toBe(1);
    expect(await scoreOne(m, '\\boxed{-2, 3}', '-2,1')).toBe(0);
  });
});

describe('math grader: answer regions', () => {
  const m = buildGrader(mathGrader);
  it('does not pay a hedged answer ("A or B") in any extraction mode; a list reference accepts the list', async () => {
    for (const extract of ['auto', 'expr', 'latex']) {
      const h = buildGrader(mathGrader, { extract });
      const latex = extract === 'expr' ? [] : ['\\boxed{64} or \\boxed{81}', '\\boxed{64 \\text{ or } 81}', '$x = 64$ or $x = 81$', '\\boxed{64 \\text{ (or 81)}}'];
      for (const c of ['The answer is 64 or 81.', 'Final answer: 64, 81', '**Answer:** **64** or **81**', 'The answer is $64$ or $81$.', ...latex])
        for (const ref of ['64', '81']) expect(await scoreOne(h, c, ref), `${extract}: ${c} vs ${ref}`).toBe(0);
    }
    expect(await scoreOne(m, 'The answer is 64 or 81.', '64, 81')).toBe(1);
    expect(await scoreOne(m, 'The answer is 64, which is a square.', '64')).toBe(1);
    expect(await scoreOne(m, '\\boxed{64 \\text{ (in base 10)}}', '64')).toBe(1);
    // A qualifier or a second answer in the unit text, a word in a list: not a unit to drop.
    for (const c of ['\\boxed{64 \\text{ or more}}', '\\boxed{64 \\text{ (or \\frac{1}{2})}}', '\\boxed{64, \\text{none}}', 'The answer is 64 or 8\\sqrt{2}.', 'Answer: 64^\\circ or 81'])
      expect(await scoreOne(m, c, '64'), c).toBe(0);
    expect(await scoreOne(m, 'The answer is \\$64.', '64')).toBe(1);
  });
  it('reads the R1 answer tag: right 1, wrong 0, no answer 0 — never null', async () => {
    const r1 = (a: string) => `<think>Let me add 11 and 22. That is 33.</think>\n<answer>${a}</answer>`;
    const out = await gradeAll(m, [r1('33'), r1('34'), r1('I am not sure'), '<think>33'].map((completion) => ({ completion, reference: '33' })));
    expect(out.map((o) => o.score)).toEqual([1, 0, 0, 0]);
    expect(out[0]!.details).toMatchObject({ region: 'answer_tag', extracted: '33' });
    expect(out[3]!.details).toMatchObject({ region: 'auto', reason: expect.stringMatching(/unclosed <think>/) });
  });
  it('runs its own extraction inside the region', async () => {
    for (const a of ['33', '\\boxed{33}', 'The answer is 33.', '$33$', 'The final answer is $\\boxed{33}$. I hope it is correct.'])
      expect(await scoreOne(m, `<think>maybe 32</think><answer>${a}</answer>`, '33'), a).toBe(1);
  });
  it('does not read a draft answer in the reasoning', async () => {
    expect(await scoreOne(m, '<think>\\boxed{33}</think> I do not know.', '33')).toBe(0);
  });
  it('takes the spec-level region, and the component’s own over it', async () => {
    const tagged = buildGrader(mathGrader, {}, 'c', { answer: parseAnswerRegion({ tag: 'final' }) });
    expect(await scoreOne(tagged, '<answer>1</answer><final>33</final>', '33')).toBe(1);
    const own = buildGrader(mathGrader, { answer: 'auto' }, 'c', { answer: parseAnswerRegion({ tag: 'final' }) });
    expect(await scoreOne(own, '<answer>1</answer><final>33</final>', '33')).toBe(0);
  });
  it('still says when the reference is unusable, whatever the answer', async () => {
    const [r] = await gradeAll(m, [{ completion: '<answer>', reference: '' }]);
    expect(r!.score).toBeNull();
  });

  it('keeps a number’s exponent: 2e3 is not 2, and an exponent too large to evaluate is a wrong answer, not an error', async () => {
    const g = buildGrader(mathGrader);
    // The text comparison once read `2e3` as `2` (the exponent was dropped from the extracted text).
    expect(await scoreOne(g, 'The answer is 2e3', '2')).toBe(0);
    expect(await scoreOne(g, '#### 2e3', '2')).toBe(0);
    expect(await scoreOne(g, 'The answer is 2e3', '2000')).toBe(1);
    expect(await scoreOne(g, 'The answer is 2.5e-3', '0.0025')).toBe(1);
    // |exponent| > 10,000 threw a TypeError out of the grader; now it reads as its text.
    expect(await scoreOne(g, '1E20000', '7')).toBe(0);
    expect(await scoreOne(g, 'The answer is 1e20000 or 7', '7')).toBe(0);
    expect(await scoreOne(g, '1e20000', '1E20000')).toBe(1);
    expect(await scoreOne(g, 'The answer is 7', '1e20000')).toBe(0);
  });
});
