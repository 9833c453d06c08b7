/**
 * Hostile completions against every rule-based grader: long runs of one fragment (spaces, `\`, `{`,
 * digits, `=`, `<answer>`, `\boxed{`, `$`, commas, `1 000`, markdown, tags …) inside the wrappers
 * the graders look for. A grader whose regexes backtrack super-linearly on such text (V8's regex
 * engine backtracks) would stall a whole batch: the original `math` grader took 32 s on
 * `"The answer is 1" + " " × 100,000 + "x"`.
 *
 * This is a stall GUARD, not a timing measurement: the cases run in a child process and the test
 * fails only when one case has not finished within CASE_BUDGET_MS (a linear grader finishes a case
 * in well under a second; a quadratic pattern needs minutes at these sizes), naming the case.
 * Speed is measured by the bench scripts, never asserted here.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { graderKinds } from './registry.js';
import { normalizeText, DEFAULT_NORMALIZE } from './normalize.js';
import { extractForecastAnswer } from './forecast.js';
import { caseText, type RedosCase } from '../../test/redos-worker.js';

const CASE_BUDGET_MS = 20_000;
const SIZE = Number(process.env.REDOS_SIZE ?? 200_000);

/**
 * Kinds graded by a model or an embedding backend: no completion-text regexes of their own to attack
 * (`linear_rm`'s local model tokenises with one alternation of single character classes, linear in
 * the text: src/rm/features.ts).
 */
const MODEL_KINDS = new Set(['judge', 'reward_model', 'embedding_similarity', 'vendi', 'frechet', 'likelihood', 'dpo_implicit', 'persona_faithfulness', 'path_faithfulness', 'persona_rubric', 'token_reward', 'linear_rm']);
/**
 * `code` runs the completion in the sandbox (its text extraction is covered by the code tests);
 * `python` runs the user's grader in sandboxed workers with a per-call time limit.
 */
const SANDBOX_KINDS = new Set(['code', 'python']);
/** The user's own graders (`module`: trusted in-process code; `http`: the user's service): their cost is theirs. */
const USER_KINDS = new Set(['module', 'http']);
/** Composite kinds: they run the kinds listed above, covered there. */
const COMPOSITE_KINDS = new Set(['first_judged', 'hindsight_bonus']);

const TOOL_REF = '<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>';
/** Configurations per rule-based kind: [params, reference]. */
const CONFIGS: Record<string, Array<[Record<string, unknown>, unknown]>> = {
  exact: [[{ normalize: { case: 'lower', whitespace: true, punctuation: true, latex: true, markdown: true } }, 'hello world 1']],
  contains: [[{ whole_word: true, normalize: { case: 'lower', whitespace: true, punctuation: true, latex: true, markdown: true } }, 'hello world']],
  regex: [[{ pattern: '(a|b)+c' }, null]],
  format: [[{ tags: ['think', 'answer'], partial: true }, null]],
  json: [[{}, null]],
  numeric: [[{}, '1000']],
  length: [[{}, null]],
  math: [
    [{}, '1'],
    [{ extract: 'letter' }, 'A'],
    [{ boxed: 'with_final_answer' }, '\\frac{1}{2}'],
  ],
  tool_call: [
    [{}, TOOL_REF],
    [{ mode: 'toolrl' }, TOOL_REF],
  ],
  sql: [
    [{ mode: 'ngram' }, 'SELECT a FROM t WHERE b = 1'],
    [{ mode: 'schema_linking' }, 'SELECT a FROM t WHERE b = 1'],
  ],
  forecast: [[{}, [1, 2, 3]]],
  bleu: [[{}, 'the answer is 1 000']],
  rouge_l: [[{}, 'the answer is 1 000']],
  rouge_n: [[{ n: 2 }, 'the answer is 1 000']],
  nltk_bleu: [[{}, 'the answer is 1 000. Mr. Smith said "no."']],
  gleu: [[{}, 'the answer is 1 000. Mr. Smith said "no."']],
  meteor: [[{}, 'the answer is 1 000. Mr. Smith said "no."']],
  chrf: [[{}, 'the answer is 1 000']],
  edit_distance: [
    [{}, 'the answer is 1 000'],
    [{ metric: 'indel' }, 'the answer is 1 000'],
  ],
  ngram_jaccard: [[{}, 'the answer is 1 000']],
  distinct_n: [[{}, null]],
  pair_penalty: [[{}, { scores: { a: 4, b: 2, c: 5 } }]],
  perspective_diversity: [
    [{}, null],
    [{ measure: 'opinions' }, null],
  ],
  tamper: [[{ paths: ['/srv/reward/spec.yaml'], names: ['compute_reward.py'], disk_check: false }, null]],
};

const FRAGMENTS = [
  ' ', '\n', '\t', '\\', '{', '}', '1', '=', ',', '.', '$', '`', '*', '_', '(', '#', '-', ':',
  '1 000 ', '1,000,', '1 ', '= ', '$ ', '\\ ', ' \n', '**a ', '__a ', '```\n', '``',
  '<answer>', '</answer>', '\\boxed{', '\\text{', '\\frac{', '\\left(', '{,}', 'answer ', 'final answer ',
  '<think>', '</think>\n<response>', '<tool_call>\n', '{"a":', '[1,', '"', 'a1', '1e', '%', 'I hope ',
  // Unicode blanks that a hand-written scanner may treat differently from /\s/ (tamper's shell splitter once looped forever on them).
  '\u00a0', '\ufeff', '\u2028 ',
];
const WRAPPERS: Array<[string, string]> = [
  ['The answer is 1', 'x'],
  ['$', '$'],
  ['final answer is 1', '='],
  ['<answer>', '</answer>'],
  ['\\boxed{', '}'],
  ['', ''],
  ['```json\n', '!'],
  ['<think>', '</think>\n<tool_call>\n'],
  ['Answer: ', '\\text{ cm}'],
];

/**
 * Patterns that were quadratic with a small constant (seconds, not minutes, at 200 KB), run at 1 MB so
 * the budget catches them: markdown bold, the forecast `<answer>` scan, ToolRL's format patterns, and
 * the math cases of the original report.
 */
const DEEP = 1_000_000;
const DEEP_CASES: RedosCase[] = [
  { kind: 'exact', params: CONFIGS['exact']![0]![0], reference: 'x', prefix: '', fragment: '**a ', suffix: '', size: DEEP },
  { kind: 'contains', params: CONFIGS['contains']![0]![0], reference: 'x', prefix: '', fragment: '__a ', suffix: '', size: DEEP },
  { kind: 'forecast', params: {}, reference: [1, 2, 3], prefix: '', fragment: '<answer>', suffix: '', size: DEEP },
  { kind: 'tool_call', params: { mode: 'toolrl' }, reference: TOOL_REF, prefix: '<think>', fragment: '</think>\n<tool_call>\n', suffix: 'x', size: DEEP },
  { kind: 'math', params: {}, reference: '1', prefix: 'The answer is 1', fragment: ' ', suffix: 'x', size: DEEP },
  { kind: 'math', params: {}, reference: '1', prefix: '$', fragment: ' ', suffix: '$', size: DEEP },
  { kind: 'math', params: {}, reference: '1', prefix: 'final answer is 1', fragment: ' ', suffix: '', size: DEEP },
  { kind: 'math', params: { extract: 'letter' }, reference: 'A', prefix: '\\boxed{A', fragment: ' ', suffix: 'x', size: DEEP },
];

/** Every case: each config × each fragment in two wrappers (chosen by position, so all wrappers occur), then the deep cases. */
function hostileCases(): RedosCase[] {
  const cases: RedosCase[] = [...DEEP_CASES];
  for (const [kind, configs] of Object.entries(CONFIGS))
    for (const [params, reference] of configs)
      FRAGMENTS.forEach((fragment, i) => {
        for (const w of [WRAPPERS[i % WRAPPERS.length]!, WRAPPERS[(i + 4) % WRAPPERS.length]!])
          cases.push({ kind, params, reference, prefix: w[0], fragment, suffix: w[1], size: SIZE });
      });
  return cases;
}

const describeCase = (c: RedosCase): string =>
  `${c.kind} ${JSON.stringify(c.params)}: ${JSON.stringify(c.prefix)} + ${JSON.stringify(c.fragment)} × ${c.size} chars + ${JSON.stringify(c.suffix)}`;

interface Outcome {
  stalled: string[];
  errors: string[];
  done: number;
}

/** Runs the cases in a child process; a case still running CASE_BUDGET_MS after it started is recorded, its process killed, and the rest run in a new one. */
function runGuarded(cases: RedosCase[]): Promise<Outcome> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const script = fileURLToPath(new URL('../../test/redos-worker.ts', import.meta.url));
  const out: Outcome = { stalled: [], errors: [], done: 0 };
  return new Promise((resolve, reject) => {
    const startAt = (from: number): void => {
      if (from >= cases.length) return resolve(out);
      const child = fork(script, ['redos-child'], { execArgv: ['--import', tsx], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let timer: NodeJS.Timeout | undefined;
      let current = from;
      let stalled = false;
      child.on('message', (m: { start?: number; done?: number; error?: string }) => {
        if (m.start !== undefined) {
          current = m.start;
          clearTimeout(timer);
          timer = setTimeout(() => {
            stalled = true;
            out.stalled.push(describeCase(cases[current]!));
            child.kill('SIGKILL');
          }, CASE_BUDGET_MS);
        } else if (m.done !== undefined) {
          clearTimeout(timer);
          out.done++;
          if (m.error !== undefined) out.errors.push(`${describeCase(cases[m.done]!)}: ${m.error}`);
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (stalled) startAt(current + 1);
        else if (out.done === cases.length - out.stalled.length) resolve(out);
        else reject(new Error(`hostile-case process exited (${code ?? signal}) during: ${describeCase(cases[current]!)}`));
      });
      child.send({ cases, from });
    };
    startAt(0);
  });
}

describe('hostile completions never stall a rule-based grader', () => {
  it('classifies every registered grader kind (a new kind must be added to the hostile configs)', () => {
    for (const k of graderKinds) expect(k.kind in CONFIGS || MODEL_KINDS.has(k.kind) || SANDBOX_KINDS.has(k.kind) || USER_KINDS.has(k.kind) || COMPOSITE_KINDS.has(k.kind), k.kind).toBe(true);
  });

  it(
    `grades every ~${SIZE / 1000} KB (and 1 MB) hostile completion within ${CASE_BUDGET_MS / 1000} s per case (stall guard, not a timing measurement)`,
    async () => {
      const cases = hostileCases();
      const r = await runGuarded(cases);
      expect(r.stalled, 'cases that stalled').toEqual([]);
      expect(r.errors, 'cases that threw').toEqual([]);
      expect(r.done).toBe(cases.length);
    },
    60 * 60_000,
  );
});

describe('linear rewrites agree with the regexes they replace', () => {
  const pieces = ['*', '**', '_', '__', '`', '```', '\n', ' ', 'a', 'b', '<answer>', '</answer>', '<ANSWER>', '</Answer>', 'x\n', '1'];
  const texts = fc.array(fc.constantFrom(...pieces), { maxLength: 16 }).map((a) => a.join(''));

  it('markdown unwrapping equals the original regex chain', () => {
    const ref = (s: string): string =>
      s
        .replace(/```[^\n]*\n([\s\S]*?)```/g, '$1')
        .replace(/`([^`\n]*)`/g, '$1')
        .replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, '$2')
        .replace(/(\*|_)(?=\S)([^\n*_]*?\S)\1/g, '$2');
    const md = { ...DEFAULT_NORMALIZE, trim: false, markdown: true };
    fc.assert(
      fc.property(texts, (t) => {
        expect(normalizeText(t, md)).toBe(ref(t));
      }),
      { numRuns: 20_000 },
    );
  });

  it('the forecast answer is the last <answer>…</answer>, as the original regex found it', () => {
    const ref = (s: string): string => {
      const all = [...s.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)];
      return all.length > 0 ? all[all.length - 1]![1]!.trim() : s.trim();
    };
    fc.assert(
      fc.property(texts, (t) => {
        expect(extractForecastAnswer(t)).toBe(ref(t));
      }),
      { numRuns: 20_000 },
    );
  });
});
