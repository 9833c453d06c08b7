/**
 * The `math` grader against external data in ../shared/data (read in place, never copied):
 * - math_equiv/math_equiv_cases.jsonl — answer-equivalence cases from the unit tests of
 *   huggingface/Math-Verify tests/ @ 5d148cf (Apache-2.0), huggingface/lighteval
 *   tests/unit/metrics/test_extractive_match.py @ 3fd1526 (MIT), NVIDIA/NeMo-Skills
 *   tests/test_math_equal.py @ 0b012df (Apache-2.0), hendrycks/math modeling/math_equivalence_test.py
 *   @ 985bdc1 (MIT), huggingface/open-r1 tests/test_rewards.py @ 1416fa0 (Apache-2.0);
 *   mathverify_verdicts.jsonl — what Math-Verify 0.8.0 itself returns on them.
 * - math_data/math500_test.jsonl — the MATH-500 split of PRM800K (MATH data, MIT).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { DEFAULT_OPTIONS, type MathOptions, MathVerifier } from './verify.js';

interface Case {
  id: string;
  gold: string;
  prediction: string;
  expected: boolean;
  source: string;
  config: { harness?: string; match_types?: string[]; precision?: number; strict?: boolean; allow_set_relation_comp?: boolean };
}

const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** Grader options equivalent to the upstream harness options a case was written for. */
function optionsFor(c: Case): MathOptions {
  const mt = c.config.match_types ?? ['latex', 'expr'];
  const extract: MathOptions['extract'] = mt.includes('NativeLetters') ? 'letter' : mt.length > 1 ? 'auto' : mt[0] === 'latex' ? 'latex' : 'expr';
  // Math-Verify's test helper (compare_strings) ranks \boxed first; its parse() default and
  // lighteval rank it with "final answer … is".
  const boxed = /parse_verify_default|lighteval/.test(c.config.harness ?? '') ? 'with_final_answer' : 'first';
  return {
    ...DEFAULT_OPTIONS,
    extract,
    precision: c.config.precision ?? 6,
    strict: c.config.strict ?? true,
    allowSetRelation: c.config.allow_set_relation_comp ?? false,
    boxed,
    // A generous limit: verdicts here must not depend on how loaded the test machine is.
    timeoutMs: 10_000,
  };
}

// The Math-Verify cases rewardkit answers differently on purpose. First: Math-Verify cuts both
// `1 ± \frac{1}{\mathrm{e}}` to `1 - \frac{1}{` (unit stripping), fails to parse, and compares the
// leading number 1. rewardkit reads \mathrm{e} as e, so 1 + 1/e is not 1 − 1/e.
// Second: a reference whose \boxed never closes. Its content is the rest of the text (boxes.ts), the
// pair of equations `W(n) = 1 and W(n) = -1`, which does not parse (null: cannot judge). Math-Verify
// reads -1 alone and calls `W(x)=1orW(x)=-1` equal to it.
const DELIBERATE = new Set(['math-verify:test_numina_cases:121:0219', 'math-verify:test_string_extraction:28:0265']);

const casesFile = sharedData('math_equiv/math_equiv_cases.jsonl');
const verdictsFile = sharedData('math_equiv/mathverify_verdicts.jsonl');

describe.skipIf(casesFile === null)('math_equiv_cases.jsonl', () => {
  const cases = casesFile ? readJsonl<Case>(casesFile) : [];
  const verdicts = new Map(verdictsFile ? readJsonl<{ id: string; mathverify: boolean | null }>(verdictsFile).map((v) => [v.id, v.mathverify]) : []);
  const results = cases.map((c) => {
    const v = new MathVerifier(optionsFor(c)).verify(c.gold, c.prediction);
    return { c, got: v.score === 1, v };
  });

  it('agrees with `expected` on ≥ 99% of the Math-Verify cases; reports agreement per source', () => {
    const bySource = new Map<string, { n: number; ok: number; vsMv: number; mvN: number }>();
    for (const { c, got } of results) {
      const s = bySource.get(c.source) ?? { n: 0, ok: 0, vsMv: 0, mvN: 0 };
      s.n++;
      if (got === c.expected) s.ok++;
      const mv = verdicts.get(c.id);
      if (mv !== undefined && mv !== null) {
        s.mvN++;
        if (mv === got) s.vsMv++;
      }
      bySource.set(c.source, s);
    }
    const table = [...bySource].map(([source, s]) => ({
      source,
      cases: s.n,
      agree_expected: `${s.ok}/${s.n} (${((100 * s.ok) / s.n).toFixed(1)}%)`,
      agree_mathverify_0_8: s.mvN ? `${s.vsMv}/${s.mvN} (${((100 * s.vsMv) / s.mvN).toFixed(1)}%)` : '—',
    }));
    console.log('math grader agreement per source\n' + table.map((r) => `${r.source.padEnd(15)} ${String(r.cases).padStart(4)}  expected ${r.agree_expected.padEnd(16)} Math-Verify ${r.agree_mathverify_0_8}`).join('\n'));
    const mv = bySource.get('math-verify')!;
    expect(mv.n).toBe(270);
    expect(mv.ok / mv.n).toBeGreaterThanOrEqual(0.99);
    const disagreements = results.filter((r) => r.c.source === 'math-verify' && r.got !== r.c.expected).map((r) => r.c.id);
    expect(disagreements).toEqual([...DELIBERATE]);
  });

  it('handles every multiple-choice letter case', () => {
    const letters = results.filter((r) => r.c.config.match_types?.includes('NativeLetters'));
    expect(letters.length).toBe(15);
    for (const { c, got, v } of letters) expect(got, `${c.id} ${JSON.stringify(v.details)}`).toBe(c.expected);
  });

  it('gives a verdict (never a timeout) on every case', () => {
    for (const { c, v } of results) expect(v.details['reason'], c.id).not.toBe('timeout');
  });
});

interface Math500Row {
  problem: string;
  solution: string;
  answer: string;
  unique_id: string;
}

/** Whitespace, styling and a leading `x =` removed: two answers that differ here are different answers. */
function roughForm(a: string): string {
  return a
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\\(?:text|mbox)\{[^}]*\}|\\[,!;: ]|\^\\circ|\\left|\\right|\s/g, '')
    .replace(/^[a-z]=/i, '');
}

const math500File = sharedData('math_data/math500_test.jsonl');

describe.skipIf(math500File === null)('MATH-500 solutions', () => {
  const rows = math500File ? readJsonl<Math500Row>(math500File) : [];
  const verifier = new MathVerifier({ ...DEFAULT_OPTIONS, timeoutMs: 10_000 });

  it('scores every reference solution 1.0 against its answer', () => {
    expect(rows.length).toBe(500);
    const failures = rows.map((r) => ({ r, v: verifier.verify(r.answer, r.solution) })).filter((x) => x.v.score !== 1);
    expect(failures.map((f) => `${f.r.unique_id} ${f.r.answer} → ${f.v.score} ${JSON.stringify(f.v.details)}`)).toEqual([]);
  });

  it('scores 500 mismatched pairs (a solution against another problem\'s different answer) 0.0', () => {
    const failures: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      let j = (i + 1) % rows.length;
      while (roughForm(rows[j]!.answer) === roughForm(rows[i]!.answer)) j = (j + 1) % rows.length;
      const v = verifier.verify(rows[j]!.answer, rows[i]!.solution);
      if (v.score !== 0) failures.push(`${rows[i]!.unique_id} vs answer ${rows[j]!.answer} → ${v.score} ${JSON.stringify(v.details)}`);
    }
    expect(failures).toEqual([]);
  });
});
