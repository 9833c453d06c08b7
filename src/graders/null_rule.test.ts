/**
 * The null rule (types.ts, `Graded`), checked over every grader kind in the registry: a completion
 * whose answer is missing, unreadable or unparseable scores the kind's floor (0, or its minimum) —
 * never null, never above a plain wrong answer — and a rollout without a reference scores null.
 */
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sharedData } from '../../test/shared-data.js';
import { buildGrader, gradeAll } from './harness.js';
import { graderKinds } from './registry.js';
import type { GraderKind } from './types.js';
import { sandboxSupport } from './code/sandbox.js';

interface Case {
  params: Record<string, unknown>;
  reference: unknown;
  /** A readable but wrong answer. */
  wrong: string;
  /** What an answer-less completion must score (the kind's floor). `'penalty'`: any of the kind's own failure penalties, all below `wrong`. */
  floor: number | 'penalty';
  /** The kind takes a reference (so no reference → null). */
  needsReference: boolean;
  /** Extra answer-less completions specific to the kind. */
  extra?: string[];
  /**
   * Similarity and diversity kinds read any text as an answer (prose is a poor answer, not a missing
   * one; an edit distance always finds shared characters): only an empty completion is answer-less.
   */
  textual?: boolean;
}

const sqlDb = sharedData('text2sql/database/department_store/department_store.sqlite');
const sqlDatabases = sqlDb === null ? null : dirname(dirname(sqlDb));
const goldSql = { sql: 'SELECT product_name FROM products WHERE product_price > 500', db: 'department_store' };

/** One representative setting per kind. Text references use letters no garbage below contains. */
const CASES: Record<string, Case | { skip: string }> = {
  exact: { params: {}, reference: 'Paris', wrong: 'London', floor: 0, needsReference: true },
  contains: { params: {}, reference: 'Paris', wrong: 'London', floor: 0, needsReference: true },
  regex: { params: { pattern: 'Answer: (\\w+)', group: 1 }, reference: 'Paris', wrong: 'Answer: London', floor: 0, needsReference: true },
  format: { params: {}, reference: undefined, wrong: '<think>a</think>\n<answer>b</answer> trailing', floor: 0, needsReference: false },
  json: { params: { match_reference: true }, reference: { a: 1 }, wrong: '{"a": 2}', floor: 0, needsReference: true },
  numeric: { params: {}, reference: '42', wrong: '41', floor: 0, needsReference: true },
  length: { skip: 'owned by the tokens/length helper (src/graders/length.ts); not a correctness grader' },
  math: { params: {}, reference: '42', wrong: '41', floor: 0, needsReference: true },
  tool_call: { params: {}, reference: [{ name: 'search', arguments: { q: 'x' } }], wrong: '{"name": "search", "arguments": {"q": "y"}}', floor: 0, needsReference: true },
  sql:
    sqlDatabases === null
      ? { params: { mode: 'ngram' }, reference: goldSql, wrong: 'SELECT product_id FROM staff', floor: 0, needsReference: true }
      : { params: { mode: 'execution', databases: sqlDatabases }, reference: goldSql, wrong: 'SELECT product_name FROM products WHERE product_price > 900', floor: 0, needsReference: true },
  code: sandboxSupport().ok
    ? { params: { timeout: 5 }, reference: { tests: [{ input: '2\n', output: '4\n' }] }, wrong: '```python\nprint(5)\n```', floor: 0, needsReference: true }
    : { skip: `the code sandbox is unavailable here: ${sandboxSupport().reason ?? ''}` },
  forecast: { params: {}, reference: [1, 2, 3], wrong: '<answer>[100, 200, 300]</answer>', floor: 'penalty', needsReference: true },
  bleu: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  rouge_l: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  rouge_n: { params: { n: 2 }, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  nltk_bleu: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  gleu: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  meteor: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  chrf: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  edit_distance: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  ngram_jaccard: { params: {}, reference: 'the cat sat on the mat', wrong: 'a dog ran in the park today', floor: 0, needsReference: true, textual: true },
  distinct_n: { params: { mode: 'self' }, reference: undefined, wrong: 'the the the the', floor: 0, needsReference: false, textual: true, extra: ['one'] },
  pair_penalty: { params: {}, reference: { scores: { a: 4, b: 2, c: 5 } }, wrong: '{"scores": {"a": 5, "b": 3, "c": 1}}', floor: 0, needsReference: true },
  perspective_diversity: { params: {}, reference: undefined, wrong: 'the the the the', floor: 0, needsReference: false, textual: true },
  http: { skip: "the user's service: the null rule is its own (documented); malformed answers and failed requests are errors, never a score (http.test.ts)" },
  module: { skip: "user code: the null rule is the module's own (documented); its bad results are errors, never a score (module.test.ts)" },
  judge: { skip: 'model-backed: a judge rates whatever it is shown; its parse failures are errors (judge/hostile.test.ts)' },
  first_judged: { skip: 'composite: each entry keeps its own null rule; an answer-less completion scores the first rule grader\'s floor (first_judged.test.ts)' },
  hindsight_bonus: { skip: 'composite: the inner grader\'s null rule; r null stays null, rewrites come from meta (hindsight_bonus.test.ts)' },
  reward_model: { skip: 'model-backed: scores any text; null only without a reference for reference-conditioned models (reward_model.test.ts)' },
  tamper: { skip: 'a check every rollout can take (an empty one is clean, 1); it never abstains and pays nothing by itself: it is a gate (tamper.test.ts)' },
  linear_rm: { skip: 'a learned score of any text, never null: an empty completion scores the bias (src/rm/train.test.ts)' },
  embedding_similarity: { skip: 'model-backed: no answer scores the cosine minimum (embedding_similarity.test.ts)' },
  vendi: { skip: 'model-backed group kind: an empty completion scores the lowest of its group (vendi.test.ts)' },
  frechet: { skip: 'model-backed group kind: an empty completion scores the lowest of its group (frechet.test.ts)' },
  likelihood: { skip: 'model-backed (tested in likelihood.test.ts): prob/mean_prob score 0 for a missing answer, rlpr its floor, logprob/mean_logprob the reference after the whole completion' },
  dpo_implicit: { skip: 'model-backed: the implicit reward is unbounded; an empty completion has no tokens to score' },
  persona_faithfulness: { skip: 'model-backed: no persona statements → null; a blank completion scores 0 without a call (persona_faithfulness.test.ts)' },
  path_faithfulness: { skip: 'model-backed (path_faithfulness.test.ts): no gold-CoT → null; mean_prob scores 0 without an answer or steps, mean_logprob has no floor (as likelihood)' },
  persona_rubric: { skip: 'model-backed judge: no user history → null; a blank completion scores 0 without a call; unusable chains are errors, never a score (persona_rubric.test.ts)' },
  token_reward: { skip: 'model-backed (token_reward.test.ts): an empty completion scores t_reg\'s floor; tgdpo and normalize: none are unbounded (null, as dpo_implicit)' },
  python: { skip: "the user's function decides what an answer-less completion scores; its failures are errors, or 0 with on_error: zero (python/python.test.ts)" },
};

/** Completions with no readable answer: empty, blank, prose, truncated, empty or unclosed tags, binary noise. */
const NO_ANSWER = [
  '',
  '   \n\t',
  'I am not sure.',
  '<think>still thinking about it',
  '<think>the answer is 42, Paris, {"a": 1}</think>',
  '<answer></answer>',
  '<answer>   </answer>',
  '<answer>42',
  '\u0000\u0001\u0002',
];
/** What a textual kind (similarity, diversity) cannot read as any answer. */
const EMPTY = ['', '   \n\t', '\n'];
/** Garbage from characters none of the references above use (no digits, no letters of "Paris"/"the cat sat on the mat"). */
const garbage = fc.string({ unit: fc.constantFrom('#', '@', '~', '!', ' ', '\n', 'x', 'y', 'z', 'q', 'j', 'k', '<', '>', '/', '`'), maxLength: 40 });

async function score(kind: GraderKind, c: Case, completion: string, reference: unknown): Promise<number | null> {
  const g = buildGrader(kind, c.params);
  const [r] = await gradeAll(g, [{ completion, reference, group: 'g' }]);
  return r!.score;
}

describe('the null rule over every grader kind', () => {
  it('has a case or a reason for every kind in the registry', () => {
    for (const k of graderKinds) expect(CASES[k.kind], `add ${k.kind} to CASES`).toBeDefined();
  });

  for (const kind of graderKinds) {
    const c = CASES[kind.kind];
    if (c === undefined) continue;
    if ('skip' in c) {
      it.skip(`${kind.kind}: ${c.skip}`, () => {});
      continue;
    }
    describe(kind.kind, () => {
      it('a plain wrong answer is readable (the comparison below means something)', async () => {
        const s = await score(kind, c, c.wrong, c.reference);
        expect(s).not.toBeNull();
      });

      it('answer-less completions score the floor: never null, never above a wrong answer', async () => {
        const wrong = (await score(kind, c, c.wrong, c.reference))!;
        for (const completion of [...(c.textual ? EMPTY : NO_ANSWER), ...(c.extra ?? [])]) {
          const s = await score(kind, c, completion, c.reference);
          expect(s, JSON.stringify(completion)).not.toBeNull();
          expect(s!, JSON.stringify(completion)).toBeLessThanOrEqual(wrong);
          if (c.floor === 'penalty') expect(s!, JSON.stringify(completion)).toBeLessThan(0);
          else expect(s, JSON.stringify(completion)).toBe(c.floor);
        }
      });

      it.skipIf(c.textual === true)('garbage scores the floor (property)', async () => {
        const wrong = (await score(kind, c, c.wrong, c.reference))!;
        await fc.assert(
          fc.asyncProperty(garbage, async (completion) => {
            const s = await score(kind, c, completion, c.reference);
            expect(s).not.toBeNull();
            expect(s!).toBeLessThanOrEqual(wrong);
            if (c.floor === 'penalty') expect(s!).toBeLessThan(0);
            else expect(s).toBe(c.floor);
          }),
          { numRuns: kind.kind === 'sql' ? 15 : kind.kind === 'code' ? 8 : 60 },
        );
      });

      if (c.needsReference) {
        it('no reference → null (cannot judge), whatever the completion', async () => {
          for (const completion of ['', c.wrong, 'garbage #@~']) expect(await score(kind, c, completion, undefined)).toBeNull();
        });
      }
    });
  }
});
