import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGrader, gradeAll, scoreOne } from './harness.js';
import { FUNCTION_WORDS, perspectiveDiversityGrader, textDiversity } from './perspective_diversity.js';

describe('perspective_diversity (MultiRole-R1 diversity reward)', () => {
  it('Appendix F signals on a worked two-sentence example', () => {
    const d = textDiversity('Is it fair? It depends on who pays.')!;
    // tokens: is it fair | it depends on who pays → N = 8, |V| = 7
    expect(d.lex).toBeCloseTo(7 / 8, 12);
    const H = (6 / 8) * Math.log(8) + (2 / 8) * Math.log(4);
    expect(d.ent).toBeCloseTo(H / Math.log(7), 12);
    expect(d.len).toBeCloseTo(1 / 4, 12); // lengths 3 and 5: σ 1, mean 4
    expect(d.pat).toBeCloseTo(0.5, 12); // one interrogative, one declarative: ln 2 / ln 4
    expect(d.adj).toBeCloseTo(6 / 7, 12); // {is, it, fair} vs {it, depends, on, who, pays}
    expect(d.yule).toBeCloseTo(1 / (1 + (1e4 * (10 - 8)) / 64), 12);
    expect(d.bi).toBe(1);
    expect(d.func).toBeCloseTo((2 * 0.25 * Math.log(4) + 0.5 * Math.log(2)) / Math.log(FUNCTION_WORDS.length), 12); // is, it ×2, on (61 function words)
    expect(FUNCTION_WORDS.length).toBe(61);
    expect(d.combined).toBeCloseTo((d.lex + d.ent + d.len + d.pat + d.adj + d.yule + d.bi + d.func) / 8, 12);
  });

  it('distinct bigrams are 1 without a repeated bigram (mechanics-A §18) and every score lies in [0, 1] (property)', async () => {
    expect(textDiversity('alpha beta gamma delta')!.bi).toBe(1);
    expect(textDiversity('la la la la')!.bi).toBeCloseTo(1 / 3, 12);
    const g = buildGrader(perspectiveDiversityGrader);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', 'b', 'the', ' ', '.', '?', '!', '\n', 'of', 'x'), maxLength: 60 }), async (text) => {
        const s = (await scoreOne(g, text))!;
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        const d = textDiversity(text);
        if (d) for (const v of Object.values(d)) expect(v).toBeLessThanOrEqual(1 + 1e-12);
      }),
      { numRuns: 80 },
    );
  });

  it('opinions: distinct answers across the role segments, over the roles asked for', async () => {
    const g = buildGrader(perspectiveDiversityGrader, { measure: 'opinions' });
    const chain = (answers: string[]) => answers.map((a, i) => `${i ? 'Wait, I need to think from another perspective. ' : ''}As role ${i + 1}, the answer is **${a}. option**.`).join(' ');
    expect(await scoreOne(g, chain(['A', 'B', 'A']))).toBeCloseTo(2 / 3, 12);
    expect(await scoreOne(g, chain(['A', 'B', 'C']))).toBe(1);
    expect(await scoreOne(g, chain(['C']))).toBeCloseTo(1 / 3, 12);
    expect(await scoreOne(g, chain(['A', 'B', 'C', 'D']))).toBe(1);
    expect(await scoreOne(g, '<think>Okay. **(B) hospital**</think> Wait, as a police officer: **(b)**')).toBeCloseTo(1 / 3, 12);
  });

  it('hostile: synonym padding raises the surface measure but never beats a correct answer at the paper’s weights, and adds no perspective', async () => {
    const composite = buildGrader(perspectiveDiversityGrader);
    const opinions = buildGrader(perspectiveDiversityGrader, { measure: 'opinions' });
    const plain = 'As a student, the answer is **A**. It is cheaper.';
    const padded = `${plain} Cheaper, less costly, inexpensive, affordable, economical, budget-friendly, thrifty, low-priced, reasonable, modest.`;
    const dPlain = (await scoreOne(composite, plain))!;
    const dPadded = (await scoreOne(composite, padded))!;
    expect(dPadded).toBeGreaterThan(dPlain); // the paper's surface-metric limitation, documented
    // R = 0.9·acc + 0.1·div: a wrong padded answer stays below a plain correct one.
    expect(0.9 * 0 + 0.1 * dPadded).toBeLessThan(0.9 * 1 + 0.1 * dPlain);
    // Restating one perspective in other words is still one perspective.
    expect(await scoreOne(opinions, padded)).toBe(await scoreOne(opinions, plain));
    // Repeating a wait-segment with the same answer adds nothing either.
    expect(await scoreOne(opinions, `${plain} Wait, as a student again: **A**. Wait, still **A**.`)).toBeCloseTo(1 / 3, 12);
  });

  it('null rule: no words / no answered segment score 0 with a reason, never null; bad patterns are rejected naming the param', async () => {
    for (const measure of ['composite', 'opinions'] as const) {
      const g = buildGrader(perspectiveDiversityGrader, { measure });
      for (const c of ['', '  \n', measure === 'opinions' ? 'I think it depends. Wait, maybe not.' : '... !!! ???']) {
        const [r] = await gradeAll(g, [{ completion: c }]);
        expect(r!.score, `${measure} ${JSON.stringify(c)}`).toBe(0);
        expect(r!.details?.reason).toBeTypeOf('string');
      }
    }
    expect(() => buildGrader(perspectiveDiversityGrader, { measure: 'opinions', answer_pattern: '\\*\\*[A-Z]' })).toThrow(/capture group/);
    expect(() => buildGrader(perspectiveDiversityGrader, { segment_pattern: '(?=wait)' })).toThrow(/lookahead/);
  });
});
