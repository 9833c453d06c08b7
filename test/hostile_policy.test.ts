/**
 * A hostile-policy audit of the rule-based graders (session 8): completions that try to earn reward
 * without doing the task, each asserted to score what an honest grader gives — a spray, a hedge or a
 * trick never pays more than a wrong answer, and a right answer written with invisible characters
 * still reads right. What hostile.test.ts, integrity_audit.test.ts, null_answers.test.ts,
 * null_rule.test.ts, answer.test.ts and redos.test.ts already cover is not repeated here.
 *
 * Holes found and fixed in this audit (each has its cases below):
 * - `math` with `extract: letter` paid a hedge: `A B C D`, `Answer: A or B`, `(A)(B)(C)(D)` read A,
 *   four `\boxed{}` letters read the last one → now no answer (0, reason `hedged answer: …`).
 * - `numeric` paid a hedge: `The answer is 1 or 2` read 1, `1 or 2` / `x = 1 or x = 2` read 2,
 *   `between 1 and 100` read 100 → now 0 (`####` and the last `\boxed{}` keep verl's reading).
 * - `numeric` read the exponent of a trailing unit as the answer: `<answer>25 m^2</answer>` → 2.
 * - `numeric` compared integers of more than 15 digits as doubles: 10^29 + 1 = 10^29.
 * - `numeric` and `math` read `1\u200b8` as 8 and `\boxed{3\u200b}`, `\boxed{\u200e3}`, `\boxed{３}` as
 *   no/another answer → invisible format characters are dropped, full-width digits read as ASCII.
 * - `normalize.punctuation` merged numbers: `1/2` = `12`, `5-10` = `510`, `−5` = `5` → a mark between two
 *   digits is kept and U+2212 is a minus sign.
 * - `math` fell back to the last number inside a `\boxed{}` that does not parse: `\boxed{3 \lor 5}`,
 *   `\boxed{3 \to 5}`, `\boxed{3 & 5}` paid 5 → the box is the answer given (0).
 * - `math` with `extract: letter` read the article `a` as choice A (`The answer is a multiple of 3, so (D)`).
 * - `math` with `extract: letter` read the pronoun `i`/`I` as choice I when I is a choice (MMLU-Pro A–J, or
 *   the letters extended up to a reference I): `Answer: i think it is (B)`, `I pick (B).`, `I’m sure it is
 *   (B)` read I (paid 1 against a reference I); `(B), I think` and `B, a safe choice` were hedges (0
 *   against B) → the pronoun and the article are prose (session 9).
 * - `math` read a hedge in a box as its last value when the box was written so that its own brace scan
 *   lost it: `\boxed{\} 3 \lor 5}` (an escaped brace closed the box), `\boxed{3 \text{ or } \boxed{5}}`
 *   (the inner box read alone), `\boxed{3 \to 5` (unclosed) paid 5 → one box scan for math, numeric and
 *   the `last_boxed` region (`boxes.ts`, cases in boxes.test.ts; session 9).
 * - `code` stdin/stdout cases in one process: a program could read the runner's nonce and forge case end
 *   markers — print the answer, forge "exit 0", then crash (every other case passed), or take over the
 *   case loop and answer every case from one run that exits 1 (all passed) → each case runs in a process
 *   forked by a supervisor that never runs program code, frames the output and takes the status from
 *   the kernel (session 9).
 * - `math` compared decimals beyond a double's range as equal: `1e400` = `1e401` = `1e999` (all ∞),
 *   `1e-400` = `1e-401` → compared by exact value.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useEnv } from './env.js';
import { buildGrader, gradeAll } from '../src/graders/harness.js';
import type { Grader, Graded } from '../src/graders/types.js';
import { mathGrader } from '../src/graders/math/index.js';
import { numericGrader } from '../src/graders/numeric.js';
import { exactGrader } from '../src/graders/exact.js';
import { containsGrader } from '../src/graders/contains.js';
import { regexGrader } from '../src/graders/regex.js';
import { jsonGrader } from '../src/graders/json.js';
import { formatGrader } from '../src/graders/format.js';
import { toolCallGrader } from '../src/graders/tool_call/index.js';
import { sqlGrader } from '../src/graders/sql/index.js';
import { codeGrader } from '../src/graders/code/index.js';
import { sandboxSupport } from '../src/graders/code/sandbox.js';
import { loadSpecFile } from '../src/spec/load.js';
import { compileSpec } from '../src/spec/compile.js';
import { scoreBatch } from '../src/pipeline.js';
import { EXAMPLES } from './examples.js';

async function grade(g: Grader, completion: string, reference: unknown): Promise<Graded> {
  const [r] = await gradeAll(g, [{ completion, reference, group: 'g' }]);
  return r!;
}
async function score(g: Grader, completion: string, reference: unknown): Promise<number | null> {
  return (await grade(g, completion, reference)).score;
}

/** Scores of `completion` against each reference, as `completion → [scores]` lines for a readable diff. */
async function table(g: Grader, rows: Array<[string, unknown]>): Promise<string[]> {
  const out: string[] = [];
  for (const [c, ref] of rows) out.push(`${JSON.stringify(c)} vs ${JSON.stringify(ref)} → ${JSON.stringify(await score(g, c, ref))}`);
  return out;
}
const expectAll = async (g: Grader, rows: Array<[string, unknown]>, want: number) => {
  const got = await table(g, rows);
  expect(got).toEqual(got.map((l) => l.replace(/→ .*$/, `→ ${want}`)));
};

describe('answer spraying: several candidates never pay', () => {
  const math = buildGrader(mathGrader, {});
  const numeric = buildGrader(numericGrader, {});

  it('math: no completion offering two values pays for both (separators × wrappers × value pairs, all extract modes)', async () => {
    const graders = { auto: math, expr: buildGrader(mathGrader, { extract: 'expr' }), latex: buildGrader(mathGrader, { extract: 'latex' }), withFinal: buildGrader(mathGrader, { boxed: 'with_final_answer' }), numeric };
    const seps = [' or ', ', ', '; ', ' and ', ' \\lor ', ' \\vee ', ' \\text{ or } ', ' \\quad ', ' / ', ' | ', ' \\\\ ', ' & ', ' \\mid ', ' \\to ', ' = ', ' \\neq ', ' \\pm ', ' \\cup ', '$ or $', '$, $', ' (or ', '\n', ' \\implies ', ' \\equiv ', ' \\sim ', ' \\le ', ' \\in ', ' \\circ ', ' \\setminus ', ' : ', '}{', ')(', '], ['];
    const wrappers = [
      (x: string) => `\\boxed{${x}}`,
      (x: string) => `The answer is ${x}.`,
      (x: string) => `<answer>${x}</answer>`,
      (x: string) => `Final answer: $${x}$`,
      (x: string) => `The final answer is ${x}. I hope it is correct.`,
      (x: string) => `**Answer:** ${x}`,
      (x: string) => `#### ${x}`,
    ];
    const both: string[] = [];
    for (const [name, g] of Object.entries(graders))
      for (const sep of seps)
        for (const w of wrappers)
          for (const [a, b] of [['3', '5'], ['-3', '3'], ['\\frac{1}{2}', '2']]) {
            const c = w(a + sep + b);
            if ((await score(g, c, a)) === 1 && (await score(g, c, b)) === 1) both.push(`${name}: ${JSON.stringify(c)}`);
          }
    expect(both).toEqual([]);
  });

  it('math: a set, interval or relation wider than the reference is wrong; several boxes, answer tags or a draft in <think> do not add chances', async () => {
    await expectAll(
      math,
      [
        ['\\boxed{1, 2, 3}', '1, 3'],
        ['\\boxed{\\{1, 2, 3\\}}', '\\{1, 3\\}'],
        ['\\boxed{x = 1, 2, 3}', 'x = 1, 3'],
        ['\\boxed{[0, 10]}', '[1, 3]'],
        ['\\boxed{(0, 10)}', '(1, 3)'],
        ['\\boxed{\\mathbb{R}}', '[1, 3]'],
        ['\\boxed{(-\\infty, \\infty)}', '3'],
        ['\\boxed{x > 0}', 'x > 1'],
        ['\\boxed{1 \\le x \\le 100}', '3'],
        ['\\boxed{\\pm 3}', '3'],
        ['\\boxed{3 \\pm 2}', '5'],
        ['\\boxed{1, 2}', '2'],
        ['\\boxed{1} \\boxed{2}', '2'],
        ['\\boxed{2} \\boxed{1}', '2'],
        ['The answer is 1 or 2', '1'],
        ['$x = 1, 2, 3, 4$', '3'],
        ['between 1 and 100', '50'],
        ['<answer>1</answer><answer>2</answer>', '1'],
        ['<think><answer>2</answer></think><answer>1</answer>', '2'],
        ['\\boxed{0 = 0}', 'y = 2x + 1'],
        ['\\boxed{y = y}', 'y = 2x + 1'],
        ['\\boxed{x = x}', 'x = 3'],
        ['\\boxed{\\text{any real number}}', '3'],
        ['\\boxed{\\mathbb{R}}', '3'],
        ['\\boxed{x \\in \\mathbb{R}}', '3'],
        // An unreadable box fell back to its last number (was 1 for each).
        ['\\boxed{3 \\lor 5}', '5'],
        ['\\boxed{3 \\vee 5}', '5'],
        ['\\boxed{3 \\to 5}', '5'],
        ['\\boxed{3 \\mid 5}', '5'],
        ['\\boxed{3 & 5}', '5'],
        ['\\boxed{3 \\\\ 5}', '5'],
        ['\\boxed{\\begin{cases} 3 \\\\ 5 \\end{cases}}', '5'],
        ['\\boxed{3 \\text{ (or } 5)}', '5'],
        ['\\boxed{\\sout{3} 5}', '5'],
      ],
      0,
    );
    // A box that parses is read as before, and an answer stated after an unreadable box still counts.
    await expectAll(math, [['\\boxed{\\max(3, 5)}', '5'], ['\\boxed{3 \\lor 5}. So the answer is 5.', '5'], ['$\\boxed{\\frac{14}{3}}$', '\\frac{28}{6}']], 1);
  });

  it('math, extract: letter — a hedge between letters is no answer (was: the first or last letter)', async () => {
    const mc = buildGrader(mathGrader, { extract: 'letter' });
    const hedges = [
      'A B C D',
      'A or B',
      'A, B, C, D',
      '(A)(B)(C)(D)',
      'Answer: A B C D',
      'The answer is A and B',
      'The final answer is A, B, C or D',
      'Answer: (A) or (B) or (C) or (D)',
      '**A** **B** **C** **D**',
      'answer: all of them (A, B, C, D)',
      '<answer>A B C D</answer>',
      '<answer>A, D</answer>',
      '<answer>D, A</answer>',
      '\\boxed{A} \\boxed{B} \\boxed{C} \\boxed{D}',
      '\\boxed{A, B, C, D}',
    ];
    for (const ref of ['A', 'B', 'C', 'D']) await expectAll(mc, hedges.map((h) => [h, ref]), 0);
    expect((await grade(mc, 'Answer: A or B', 'A')).details).toMatchObject({ reason: expect.stringMatching(/^hedged answer/) });
    // A hedge is read, so it is a wrong answer even where unreadable answers are skipped (null would beat a wrong answer's negative advantage).
    expect(await score(buildGrader(mathGrader, { extract: 'letter', on_parse_failure: 'null' }), 'Answer: A or B', 'A')).toBe(0);
    // Committed answers still read (Math-Verify's letter cases and prose around one letter).
    await expectAll(
      mc,
      [
        ["The answer is for sure D, it can't be A or B", 'D'],
        ["D. it can't be A or B", 'D'],
        ['It is not A, so the answer is (C).', 'C'],
        ['(D) Alina', 'D'],
        ['Alina and the answer is\n(C) Cecile', 'C'],
        ['I think A. No, D.', 'D'],
        ['<answer>A</answer><answer>D</answer>', 'D'],
        ['\\boxed{B} because \\boxed{B} is right', 'B'],
        ['Answer: B. A is wrong and so is C.', 'B'],
        ['The answer is (B)', 'B'],
        ['The answer is a (B)', 'B'], // was A: the article read as a choice
        ['The answer is a multiple of 3, so (D).', 'D'], // was A
      ],
      1,
    );
  });

  it('math, extract: letter — the pronoun I (i think, I pick, I’m) is not choice I; a genuine I still reads (MMLU-Pro has A–J)', async () => {
    const ten = buildGrader(mathGrader, { extract: 'letter', letters: 'ABCDEFGHIJ' });
    const auto = buildGrader(mathGrader, { extract: 'letter' }); // A–D, extended up to the reference letter
    const prose = [
      'i think the answer is B',
      'so i pick (B)',
      'Answer: i think it is (B)', // was I
      'I pick (B).', // was I
      'I’m sure it is (B)', // was I
      'Answer: I’d say (B)', // was I
      'The answer is (B), i believe', // was a hedge (0 for B)
      '(B), I think', // was a hedge
      'The answer is B, a safe choice', // was a hedge with the article
      'I would go with B.',
      '**Answer:** i am fairly sure it is **B**',
    ];
    for (const g of [ten, auto]) {
      await expectAll(g, prose.map((c) => [c, 'I']), 0);
      await expectAll(g, prose.map((c) => [c, 'B']), 1);
    }
    const genuine = ['(I)', 'Answer: I', 'answer: I', 'The answer is (I).', 'The answer is I', '\\boxed{I}', 'I. Paris', 'The final answer is I. I hope it is correct.', 'Answer: I think it is I', 'i', '(i)', 'Answer: i'];
    for (const g of [ten, auto]) await expectAll(g, genuine.map((c) => [c, 'I']), 1);
    // Sprays with I or i still score 0 whichever letter is the reference.
    const sprays = ['I or J', 'Answer: I and J', 'i, j', 'I J', 'Answer: (H) or (I)', 'i or b', 'Answer: B or I think C', 'H, I'];
    for (const ref of ['B', 'C', 'H', 'I', 'J']) await expectAll(ten, sprays.map((c) => [c, ref]), 0);
  });

  it('numeric: a hedge scores 0 whichever of its values is the reference (was: the first or last value paid)', async () => {
    const rows: Array<[string, unknown]> = [];
    for (const [c, refs] of [
      ['The answer is 1 or 2', ['1', '2']],
      ['1 or 2', ['1', '2']],
      ['x = 1 or x = 2', ['1', '2']],
      ['The answer is x = 1 or x = 2.', ['1', '2']],
      ['between 1 and 100', ['1', '100']],
      ['$5 or $7', ['5', '7']],
      ['The answer is $5, or $7.', ['5', '7']],
      ['The answer is 5 \\text{ or } 7', ['5', '7']],
      ['The answer is 50% or 70%', ['50', '70']],
      ['<answer>17 or 18</answer>', ['17', '18']],
      ['\\boxed{5 \\text{ or } 7}', ['5', '7']],
      ['\\boxed{1, 2}', ['1', '2']],
    ] as Array<[string, string[]]>)
      for (const r of refs) rows.push([c, r]);
    await expectAll(numeric, rows, 0);
    expect((await grade(numeric, 'The answer is 1 or 2', '1')).details).toMatchObject({ reason: expect.stringMatching(/^hedged answer/), method: 'answer_is' });
    expect(await score(buildGrader(numericGrader, { on_missing: 'null' }), 'The answer is 1 or 2', '1')).toBe(0);
    expect(await score(buildGrader(mathGrader, { on_parse_failure: 'null' }), 'The answer is 1 or 2', '1')).toBe(0);
    // Committed answers next to an "or" in the working still read; verl's `####` and last-box readings are kept.
    await expectAll(
      numeric,
      [
        ['The answer is 5 or more.', '5'],
        ['She has 5 apples or so. The answer is 7.', '7'],
        ['So 12 - 5 = 7. She picks 3 or 4 more... total is 7', '7'],
        ['The difference between 12 and 5 is 7', '7'],
        ['#### 5 or 7', '5'],
        ['\\boxed{5} \\boxed{7}', '7'],
      ],
      1,
    );
  });
});

describe('invisible and look-alike characters', () => {
  const math = buildGrader(mathGrader, {});
  const numeric = buildGrader(numericGrader, {});

  it('a right answer written with zero-width or bidi characters or full-width digits reads right (math and numeric; was 0)', async () => {
    const rows: Array<[string, unknown]> = [
      ['\\boxed{3\u200b}', '3'],
      ['\\boxed{\u200e3}', '3'],
      ['\\boxed{３}', '3'],
      ['<answer>1\u200b8</answer>', '18'],
      ['<answer>１８</answer>', '18'],
      ['The answer is \u2066 42 \u2069.', '42'],
      ['\\boxed{\ufeff\\frac{1}{2}}', '0.5'],
    ];
    await expectAll(math, rows, 1);
    await expectAll(numeric, rows, 1);
  });

  it('a wrong answer split by an invisible character is not read as its last piece (numeric read `1\u200b8` as 8)', async () => {
    await expectAll(numeric, [['<answer>1\u200b8</answer>', '8'], ['<answer>1\u200b8</answer>', '1']], 0);
    await expectAll(math, [['<answer>1\u200b8</answer>', '8'], ['\\boxed{1\u200b8}', '1']], 0);
  });

  it('look-alike letters and digits from other scripts are not the reference', async () => {
    const exact = buildGrader(exactGrader, { normalize: { case: 'lower' } });
    await expectAll(exact, [['Pаris', 'Paris'], ['Рaris', 'Paris']], 0); // Cyrillic а, Р
    await expectAll(numeric, [['<answer>١٨</answer>', '18'], ['<answer>𝟏𝟖</answer>', '18']], 0); // Arabic-Indic, mathematical bold: no number read
    await expectAll(buildGrader(mathGrader, { extract: 'letter' }), [['Answer: Ａ', 'A'], ['\\boxed{Ⅾ}', 'D']], 0);
  });
});

describe('numeric edge cases', () => {
  const math = buildGrader(mathGrader, {});
  const numeric = buildGrader(numericGrader, {});

  it('math: decimals beyond a double compare by value (1e400 was equal to 1e401 and 1e999)', async () => {
    await expectAll(math, [['\\boxed{1e999}', '1e400'], ['\\boxed{1e400}', '1e401'], ['\\boxed{1e-400}', '1e-401'], ['\\boxed{1e400}', '-1e400'], ['\\boxed{1.1e-400}', '1e-400']], 0);
    await expectAll(math, [['\\boxed{1e400}', '1e400'], ['\\boxed{1e400}', '10^{400}'], ['\\boxed{1.0000001e-400}', '1e-400'], ['\\boxed{0.0}', '0'], ['\\boxed{2e308}', '2 \\times 10^{308}']], 1);
  });

  it('NaN, infinities, hex, huge exponents, percent and locale separators never pay a different value', async () => {
    await expectAll(
      numeric,
      [
        ['\\boxed{0x10}', '16'],
        ['<answer>1.000</answer>', '1000'],
        ['<answer>NaN</answer>', '0'],
        ['<answer>Infinity</answer>', '1'],
        ['<answer>1e400</answer>', '1'],
        ['<answer>50%</answer>', '0.5'],
        ['<answer>1/0</answer>', '0'],
        ['<answer>\\frac{1}{0}</answer>', '1'],
        ['<answer>123456789012345678901234567890</answer>', '123456789012345678901234567891'], // was 1: equal as doubles
        ['<answer>-12345678901234567</answer>', '-12345678901234568'],
      ],
      0,
    );
    await expectAll(numeric, [['<answer>123,456,789,012,345,678,901</answer>', '123456789012345678901'], ['#### 12345678901234567', '12345678901234567']], 1);
    await expectAll(
      math,
      [
        ['\\boxed{0x10}', '16'],
        ['\\boxed{1.000}', '1000'],
        ['\\boxed{\\frac{1}{0}}', '\\infty'],
        ['\\boxed{\\frac{0}{0}}', '0'],
        ['\\boxed{\\infty}', '3'],
        ['\\boxed{NaN}', '3'],
        ['\\boxed{10^{500}}', '10^{400}'],
        ['\\boxed{1000!}', '1001!'],
      ],
      0,
    );
    // The reading of separators is the documented one: 1,000 is a thousand, 1,5 a decimal comma.
    await expectAll(numeric, [['<answer>1,000</answer>', '1000'], ['<answer>1,5</answer>', '1.5'], ['<answer>50%</answer>', '50']], 1);
  });

  it('numeric: the exponent of a trailing unit is not the answer (`<answer>25 m^2</answer>` read 2)', async () => {
    await expectAll(numeric, [['The answer is 5 m^2.', '2'], ['The answer is 12 km (not 13).', '13'], ['<answer>25 m^2</answer>', '2'], ['The acceleration is 9.8 m/s^{2}', '2']], 0);
    await expectAll(numeric, [['<answer>25 m^2</answer>', '25'], ['The acceleration is 9.8 m/s^{2}', '9.8'], ['so the volume is 5 cm^3', '5']], 1);
  });
});

describe('format-only and empty answers', () => {
  it('empty, blank, LaTeX-empty and phantom answers score 0 in the answer-reading graders (contains is a substring check: see below)', async () => {
    const blanks = ['<answer></answer>', '<answer> \u00a0\n</answer>', '\\boxed{}', '\\boxed{ }', '\\boxed{\\phantom{3}}', '\\boxed{\\text{}}', '\\boxed{\\hphantom{3}}', '<answer>$$</answer>', '<think>3</think>', '<think>3'];
    for (const [name, g, ref] of [
      ['math', buildGrader(mathGrader, {}), '3'],
      ['numeric', buildGrader(numericGrader, {}), '3'],
      ['exact', buildGrader(exactGrader, { normalize: { latex: true } }), '3'],
    ] as Array<[string, Grader, string]>) {
      const got = await table(g, blanks.map((b) => [b, ref]));
      expect(got, name).toEqual(got.map((l) => l.replace(/→ .*$/, '→ 0')));
    }
  });

  it('exact with punctuation: true never merges two numbers into the reference (1/2 was 12, 5-10 was 510, −5 was 5)', async () => {
    const g = buildGrader(exactGrader, { normalize: { punctuation: true } });
    await expectAll(g, [['1/2', '12'], ['5-10', '510'], ['−5', '5'], ['10^3', '103'], ['2:30', '230']], 0);
    await expectAll(g, [['−5', '-5'], ['-5.', '-5'], ['3.14!', '3.14'], ['1,000.', '1,000'], ['"Paris"', 'Paris']], 1);
  });

  it('format pays the tag structure only: an empty-tags completion is not paid more than a wrong answer in the bundled GSM8K spec', async () => {
    const loaded = loadSpecFile(join(EXAMPLES, 'gsm8k.yaml'));
    const compiled = compileSpec(loaded.spec, { source: 'gsm8k.yaml', specDir: loaded.dir });
    try {
      const wrong = '<think>\n9 * 2 = 18\n</think>\n<answer>19</answer>';
      const hostile = [
        '<think></think><answer></answer>',
        '<think>\n</think>\n<answer> </answer>',
        '<think>\n9 * 2 = 18\n</think>\n<answer>17 or 18</answer>',
        '<think>\n18\n</think>\n<answer>the answer is 17 or 18</answer>',
        '<think>\n#### 18\n</think>\n<answer>\\boxed{17 \\text{ or } 18}</answer>',
        '<think>\n\\boxed{18}\n</think>\n<answer></answer>',
        '<think>\n9 * 2 = 18\n</think>\n<answer>between 1 and 100</answer>',
      ];
      const { results } = await scoreBatch(compiled, [wrong, ...hostile].map((completion, i) => ({ id: `r${i}`, group: `g${i}`, completion, reference: '18' })));
      const w = results[0]!.reward!;
      const over = results.slice(1).filter((r) => r.reward === null || r.reward > w).map((r) => `${r.id}: ${r.reward} ${JSON.stringify(r.components)}`);
      expect(over, `wrong answer: ${w}`).toEqual([]);
    } finally {
      await compiled.close();
    }
  });

  it('format: the documented open-r1/TRL reading (empty blocks pass the format check; correctness is another component)', async () => {
    const f = buildGrader(formatGrader, {});
    expect(await score(f, '<think></think><answer></answer>', undefined)).toBe(1);
    expect(await score(f, '<think>x</think><answer>1</answer><answer>2</answer>', undefined)).toBe(0);
    expect(await score(f, '<think>x</think><think>y</think><answer>1</answer>', undefined)).toBe(0);
  });
});

describe('regex and contains', () => {
  it('regex with a group reads the first match: later matches add no chances', async () => {
    const g = buildGrader(regexGrader, { pattern: 'Answer: (\\w+)', group: 1 });
    expect(await score(g, 'Answer: London\nAnswer: Paris', 'Paris')).toBe(0);
  });

  it('contains is a substring check by definition (QA has-answer): a list that names the reference pays; whole_word stops glued look-alikes', async () => {
    // Documented behaviour, kept: use exact/math/numeric for a committed answer.
    expect(await score(buildGrader(containsGrader, {}), 'Paris, London or Berlin', 'Paris')).toBe(1);
    const ww = buildGrader(containsGrader, { whole_word: true });
    await expectAll(ww, [['Parisian', 'Paris'], ['Paris\u0301', 'Paris'], ['<think>Paris</think> London', 'Paris']], 0);
  });
});

describe('json', () => {
  const ref = { tool: 'get_forecast', arguments: { city: 'Paris', days: 3, unit: 'celsius' } };
  const good = JSON.stringify(ref);
  const loaded = loadSpecFile(join(EXAMPLES, 'tool_json.yaml'));
  const run = async (completions: Record<string, string>) => {
    const compiled = compileSpec(loaded.spec, { source: 'tool_json.yaml', specDir: loaded.dir });
    try {
      const { results } = await scoreBatch(
        compiled,
        Object.entries(completions).map(([id, completion]) => ({ id, group: id, completion, reference: ref })),
      );
      return Object.fromEntries(results.map((r) => [r.id, r.reward]));
    } finally {
      await compiled.close();
    }
  };

  it('tool_json.yaml: __proto__ keys, Infinity, deep nesting, arrays of candidates, a right call only in <think> or before a wrong fenced block → no match', async () => {
    const got = await run({
      good,
      proto: '{"tool":"get_forecast","arguments":{"city":"Paris","days":3,"unit":"celsius","__proto__":{"x":1}}}',
      protoOnly: '{"tool":"get_forecast","__proto__":{"arguments":{"city":"Paris","days":3,"unit":"celsius"}}}',
      inf: '{"tool":"get_forecast","arguments":{"city":"Paris","days":1e400,"unit":"celsius"}}',
      deepArray: '['.repeat(100_000) + ']'.repeat(100_000),
      deepObject: '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
      candidates: `[${good},${good.replace('Paris', 'Berlin')}]`,
      wrongThenRight: `${good.replace('Paris', 'Berlin')} ${good}`,
      fencedWrong: '```json\n' + good.replace('Paris', 'Berlin') + '\n```\n' + good,
      thinkRight: `<think>${good}</think>${good.replace('Paris', 'Berlin')}`,
      zeroWidth: good.replace('Paris', 'Par\u200bis'),
    });
    expect(got.good).toBe(1.5);
    for (const k of ['proto', 'protoOnly', 'inf', 'deepArray', 'deepObject', 'candidates']) expect(got[k], k).toBe(0);
    for (const k of ['wrongThenRight', 'fencedWrong', 'thinkRight', 'zeroWidth']) expect(got[k], k).toBe(0.5); // valid, not the reference
  });

  it('duplicate keys: the last one wins, as JSON.parse, Python json.loads and most consumers read it (one answer, not two)', async () => {
    const g = buildGrader(jsonGrader, { match_reference: true });
    expect(await score(g, '{"city": "Berlin", "city": "Paris"}', { city: 'Paris' })).toBe(1);
    expect(await score(g, '{"city": "Paris", "city": "Berlin"}', { city: 'Paris' })).toBe(0);
  });
});

describe('tool_call', () => {
  const ref = [{ name: 'search', arguments: { q: 'paris', k: 3 } }];
  const call = (name: string, args: Record<string, unknown>) => JSON.stringify({ name, arguments: args });

  it('bfcl_ast: extra calls, extra or missing arguments, look-alike names, wrong types, __proto__ arguments → 0', async () => {
    const g = buildGrader(toolCallGrader, {});
    await expectAll(
      g,
      [
        [`[${call('search', { q: 'paris', k: 3 })}, ${call('search', { q: 'london', k: 3 })}]`, ref],
        [`<tool_call>${call('search', { q: 'london', k: 3 })}</tool_call><tool_call>${call('search', { q: 'paris', k: 3 })}</tool_call>`, ref],
        [call('search', { q: 'paris', k: 3, extra: 1 }), ref],
        [call('search', { q: 'paris' }), ref],
        [call('ѕearch', { q: 'paris', k: 3 }), ref], // Cyrillic ѕ
        [call('search\u200b', { q: 'paris', k: 3 }), ref],
        [call('Search', { q: 'paris', k: 3 }), ref],
        [call('search', { q: 'paris', k: '3' }), ref],
        [call('search', { q: 'paris', k: true }), ref],
        [call('search', { q: ['paris'], k: 3 }), ref],
        ['{"name": "search", "arguments": {"q": "paris", "k": 3, "__proto__": {"k": 4}}}', ref],
        ['{"name": "search", "arguments": {"__proto__": {"q": "paris", "k": 3}}}', ref],
        ['{"name": "search", "name": "x", "arguments": {"q": "paris", "k": 3}}', ref],
      ],
      0,
    );
  });

  it('partial: spraying calls never beats the one right call', async () => {
    const g = buildGrader(toolCallGrader, { mode: 'partial' });
    const right = await score(g, call('search', { q: 'paris', k: 3 }), ref);
    const spray = await score(g, `[${['paris', 'london', 'rome', 'berlin'].map((q) => call('search', { q, k: 3 })).join(',')}]`, ref);
    expect(right).toBe(1);
    expect(spray).toBeLessThan(0.5);
  });
});

const dbRoot = mkdtempSync(join(tmpdir(), 'rk-hostile-sql-'));
afterAll(() => rmSync(dbRoot, { recursive: true, force: true }));

describe('sql', () => {
  mkdirSync(join(dbRoot, 'shop'));
  const dbFile = join(dbRoot, 'shop', 'shop.sqlite');
  const db = new Database(dbFile);
  db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, price REAL); INSERT INTO p VALUES (1,'a',10),(2,'b',600),(3,'c',700);");
  db.close();
  const ref = { sql: 'SELECT name FROM p WHERE price > 500', db: 'shop' };

  it('statements that write, attach, change pragmas, load extensions or run several statements are refused (0) and the database is unchanged', async () => {
    const g = buildGrader(sqlGrader, { mode: 'execution', databases: dbRoot, timeout_ms: 3000 });
    const hostile = [
      'SELECT name FROM p WHERE price > 500; DELETE FROM p',
      'DELETE FROM p; SELECT name FROM p WHERE price > 500',
      "WITH x AS (SELECT 1) UPDATE p SET name = 'b'",
      'WITH x AS (SELECT 1) DELETE FROM p',
      "ATTACH DATABASE '/tmp/x.db' AS x",
      'PRAGMA query_only = OFF',
      "SELECT load_extension('/tmp/x')",
      "SELECT readfile('/etc/passwd')",
      '/* x */ DELETE FROM p',
      "INSERT INTO p VALUES (9,'z',1) RETURNING name",
      "VACUUM INTO '/tmp/rk-out.db'",
      'CREATE TEMP TABLE t AS SELECT 1',
      'BEGIN',
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT n FROM r',
      'SELECT sql FROM sqlite_master',
    ];
    await expectAll(g, hostile.map((s) => ['```sql\n' + s + '\n```', ref]), 0);
    expect(await score(g, '```sql\nSELECT name FROM p WHERE price > 500\n```', ref)).toBe(1);
    const after = new Database(dbFile, { readonly: true });
    expect((after.prepare('SELECT count(*) AS c FROM p').get() as { c: number }).c).toBe(3);
    after.close();
  });
});

describe.skipIf(!sandboxSupport().ok)('code harness: tricks not in hostile.test.ts / integrity_audit.test.ts', () => {
  const g = buildGrader(codeGrader, { timeout: 5 });
  const py = (s: string) => '```python\n' + s + '\n```';
  const ASSERT = { assert: ['assert add(2, 3) == 5', 'assert add(-1, 8) == 7'] };
  const IO = { tests: [{ input: '2 3\n', output: '5\n' }, { input: '-1 8\n', output: '7\n' }] };

  it('rebinding assert names, __debug__, a BaseException subclass, reading env/argv/stdin//proc for the tests → 0; the honest program → 1', async () => {
    const tricks = [
      'import builtins\nbuiltins.__debug__ = False\ndef add(a, b):\n    return 0',
      'import builtins\nbuiltins.AssertionError = type("X", (BaseException,), {})\nAssertionError = None\ndef add(a, b):\n    return 0',
      'class E(BaseException):\n    pass\ndef add(a, b):\n    raise E()',
      'import os\nENV = " ".join(os.environ.values())\ndef add(a, b):\n    return 5 if "== 5" in ENV else 0',
      'import sys\nARGV = " ".join(sys.argv)\ndef add(a, b):\n    return 5 if "5" in ARGV else 0',
      'import sys\ntry:\n    DATA = sys.stdin.read()\nexcept Exception:\n    DATA = ""\ndef add(a, b):\n    return 5 if "5" in DATA else 0',
      'import os\nS = b""\nfor p in os.listdir("/proc"):\n    try:\n        S += open(f"/proc/{p}/cmdline", "rb").read()\n    except Exception:\n        pass\ndef add(a, b):\n    return 5 if b"== 5" in S else 0',
    ];
    await expectAll(g, tricks.map((t) => [py(t), ASSERT]), 0);
    expect(await score(g, py('def add(a, b):\n    return a + b'), ASSERT)).toBe(1);
  }, 120_000);

  it('stdin/stdout: printing every expected output, or NUL bytes around them, is a wrong answer', async () => {
    await expectAll(g, [[py('print(5)\nprint(7)'), IO], [py('import os\nos.write(1, b"5\\n\\x00\\x00")\nprint(7)'), IO]], 0);
    expect(await score(g, py('a, b = map(int, input().split())\nprint(a + b)'), IO)).toBe(1);
  }, 120_000);
});

/**
 * stdin/stdout cases of one Python program run in one sandboxed process (`runIoCases`). Each case
 * must be judged as a run of its own: the program may write anything on its stdout, and it can read
 * everything its process holds (the runner's source, frames, globals, gc objects, /proc), yet it must
 * not be able to end a case, set a case's exit status or move output between cases.
 */
for (const batch of ['1', '0'] as const) {
  // 1: the supervisor (one sandbox, a forked process per case); 0: a sandboxed run per case (the default).
  describe.skipIf(!sandboxSupport().ok)(`code harness: stdin/stdout case boundaries cannot be forged (REWARDKIT_IO_BATCH=${batch})`, () => {
    useEnv('REWARDKIT_IO_BATCH', batch);
    const g = buildGrader(codeGrader, { timeout: 5 });
    const py = (s: string) => '```python\n' + s + '\n```';
    const IO4 = { tests: [1, 2, 3, 4].map((k) => ({ input: `${k} ${k + 1}\n`, output: `${2 * k + 1}\n` })) };
    const statuses = async (src: string) => (await grade(g, py(src), IO4)).details!.statuses;
    // Everything a program can find of the runner: its source, the frames above it, gc objects.
    const FIND = [
      'import sys, os, gc, re, binascii',
      'def runner_globals():',
      '    f = sys._getframe()',
      '    while f is not None:',
      '        if any(k.startswith("_rk") or k.startswith("_RK") for k in f.f_globals):',
      '            return f.f_globals',
      '        f = f.f_back',
      '    return {}',
      'def separators():',
      '    seps = set()',
      '    try:',
      '        for m in re.finditer(rb"[0-9a-f]{32}", open(sys.argv[0], "rb").read()):',
      '            seps.add(b"\\x00" + m.group(0))',
      '    except Exception:',
      '        pass',
      '    for o in gc.get_objects():',
      '        if isinstance(o, dict):',
      '            for v in list(o.values()):',
      '                if isinstance(v, bytes) and len(v) == 33 and v[:1] == b"\\x00":',
      '                    seps.add(v)',
      '    return seps',
      'def forge(text):',
      '    g = runner_globals()',
      '    if callable(g.get("_rk_mark")):',
      '        g["_rk_mark"](text)',
      '    else:',
      '        for s in separators():',
      '            os.write(1, s + text.encode() + b"\\n")',
      'a, b = map(int, sys.stdin.readline().split())',
    ].join('\n');

    it('a program that crashes after its output cannot forge an exit-0 end marker (was: every other case passed)', async () => {
      // Each run prints the right answer, then ends with an error: as runs of their own, every case fails.
      expect(await statuses(`${FIND}\nprint(a + b, flush=True)\nforge("E0")\nraise ValueError("crash after the output")`)).toEqual([-2, -2, -2, -2]);
      expect(await statuses(`${FIND}\nprint(a + b, flush=True)\nforge("E0")\nos._exit(1)`)).toEqual([-2, -2, -2, -2]);
    }, 120_000);

    it('a program cannot take over the case loop: end its case, read the next input itself, and exit 1 at the end (was: every case passed)', async () => {
      const src = [
        FIND,
        'print(a + b, flush=True)',
        'g = runner_globals()',
        'req = g.get("_rk_req")',
        'while req is not None:',
        '    forge("E0")',
        '    line = req.readline()',
        '    if not line:',
        '        break',
        '    a, b = map(int, binascii.a2b_base64(line).split())',
        '    print(a + b, flush=True)',
        'sys.exit(1)',
      ].join('\n');
      expect(await statuses(src)).toEqual([-2, -2, -2, -2]);
    }, 120_000);

    it('a program cannot reach the process that reports its cases: no trace, no /proc descriptors or memory, no signal that passes', async () => {
      // The right answer only when every way in fails.
      const probe = [
        'import os, sys, ctypes',
        'a, b = map(int, sys.stdin.readline().split())',
        'leak = []',
        'pp = os.getppid()',
        'for path in (f"/proc/{pp}/fd/1", f"/proc/{pp}/fd/0", f"/proc/{pp}/mem"):',
        '    try:',
        '        os.close(os.open(path, os.O_RDWR if path.endswith("mem") else os.O_WRONLY))',
        '        leak.append(path)',
        '    except OSError:',
        '        pass',
        'try:',
        '    libc = ctypes.CDLL(None, use_errno=True)',
        '    libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)',
        '    if libc.ptrace(16, pp, None, None) == 0:',
        '        leak.append("ptrace")',
        'except Exception:',
        '    pass',
        'for fd in range(3, 64):',
        '    try:',
        '        os.fstat(fd)',
        '        leak.append(f"fd {fd}")',
        '    except OSError:',
        '        pass',
        'print(leak if leak else a + b)',
      ].join('\n');
      expect(await statuses(probe)).toEqual([1, 1, 1, 1]);
      // Killing or stopping whatever runs the cases fails the case (a run of its own could not do it).
      expect(await statuses('import os, signal\na, b = map(int, input().split())\nprint(a + b, flush=True)\nos.kill(os.getppid(), signal.SIGKILL if a % 2 else signal.SIGTERM)')).toEqual([-2, -2, -2, -2]);
    }, 120_000);

    it('what a case leaves running (a process, a daemon thread) ends with it and never writes into a later case', async () => {
      const src = [
        'import os, sys, threading, time',
        'a, b = map(int, input().split())',
        'def spam():',
        '    time.sleep(0.3)',
        '    while True:',
        '        os.write(1, b"garbage\\n")',
        '        time.sleep(0.01)',
        'if a == 1:',
        '    if os.fork() == 0:',
        '        os.setsid()',
        '        spam()',
        '    threading.Thread(target=spam, daemon=True).start()',
        'time.sleep(0.5 if a > 1 else 0)',
        'print(a + b)',
      ].join('\n');
      expect(await statuses(src)).toEqual([1, 1, 1, 1]);
    }, 120_000);
  });
}
