import * as z from 'zod';
import { RE2JS, RE2JSException } from 're2js';
import type { Sample } from '../rollout/types.js';
import { defineGrader, ParamError, type Graded } from './types.js';
import { referenceTexts } from './normalize.js';
import { answerLikelihood } from './likelihood.js';
import { continuationLogprobs, resolveBackend } from './model_calls.js';

/** A text cut into steps: each step's [start, end) in the text, blank pieces dropped. */
export type StepSpans = [number, number][];

/**
 * Cuts `text` into steps at every match of `delimiter` (RE2); pieces that are only whitespace are
 * dropped, so leading, trailing and doubled delimiters make no empty steps. A text without a
 * delimiter is one step; a blank text has none.
 *
 * @example
 * splitSteps('a\n\nb\n\n\n\nc\n\n', RE2JS.compile('\\n\\s*\\n')) // → [[0, 1], [3, 4], [8, 9]]
 */
export function splitSteps(text: string, delimiter: RE2JS): StepSpans {
  const out: StepSpans = [];
  const m = delimiter.matcher(text);
  let at = 0;
  const push = (s: number, e: number) => {
    if (text.slice(s, e).trim() !== '') out.push([s, e]);
  };
  while (m.find()) {
    if (m.end() === m.start()) continue; // an empty match cuts nothing
    push(at, m.start());
    at = m.end();
  }
  push(at, text.length);
  return out;
}

/**
 * Which gold step the gold-CoT suffix starts at after the model's first `k` of `K` steps, for a gold
 * CoT of `M` steps: j(k) = min(M − 1, ⌊k·M/K⌋) (0-based), so the model's prefix is matched to the
 * same fraction of the gold path, and the suffix is never empty (after the last model step it is the
 * gold CoT's last step, its conclusion). [INF] — P2S's own alignment is not published beyond the
 * abstract.
 *
 * @example
 * goldSuffixStart(1, 2, 3) // → 1 (suffix: gold steps 2..3)
 * goldSuffixStart(2, 2, 3) // → 2 (suffix: gold step 3)
 */
export function goldSuffixStart(k: number, K: number, M: number): number {
  return Math.min(M - 1, Math.floor((k * M) / K));
}

/**
 * The prefix ends at which PFR is evaluated: every step end when K ≤ `maxPrefixes`, else
 * `maxPrefixes` step ends spread evenly (k_i = ⌈i·K/N⌉, i = 1..N), always including the last.
 *
 * @example
 * prefixEnds(3, 16) // → [1, 2, 3]
 * prefixEnds(10, 4) // → [3, 5, 8, 10]
 */
export function prefixEnds(K: number, maxPrefixes: number): number[] {
  const N = Math.min(K, maxPrefixes);
  const out: number[] = [];
  for (let i = 1; i <= N; i++) out.push(Math.ceil((i * K) / N));
  return out;
}

/**
 * `path_faithfulness` — P2S's Path Faithfulness Reward ("P2S: Probabilistic Process Supervision for
 * General-Domain Reasoning Question Answering", arXiv 2601.20649): a dense process reward from the
 * probability, under a language model (usually the policy itself, a backend with `logprobs`), of a
 * reference reasoning chain — the gold-CoT — continuing from the model's own reasoning prefix.
 *
 * Confirmed by the paper (abstract; mechanics-C §10): the PFR is computed for each reasoning step,
 * from the conditional probability of generating the gold-CoT's suffix given the model's current
 * reasoning prefix, and is combined with any outcome reward. The rest is rewardkit's reading,
 * **[INF]** (mechanics-A §22):
 *
 * - The completion's reasoning (the text before `answer_pattern`'s first match, or all of it with
 *   `reasoning: whole`) and the gold-CoT are both cut into steps at `step_delimiter` (RE2, default a
 *   blank line); blank pieces are dropped. K model steps, M gold steps.
 * - After model step k, the scored continuation is the gold-CoT from gold step j(k) = min(M−1,
 *   ⌊k·M/K⌋) to its end (see {@link goldSuffixStart}: the prefix is matched to the same fraction of
 *   the gold path; after the last step the suffix is the gold conclusion), scored after
 *   `template` (default `{{prompt}}{{prefix}}`, the prompt and the completion up to the end of step k
 *   as the policy wrote it) followed by `separator` (default a blank line).
 * - PFR_k is the suffix's mean token probability (`reduce: mean_prob`, default: RLPR's score, which
 *   P2S extends; in [0, 1]) or its mean token log-probability (`reduce: mean_logprob`).
 * - The reward is the mean of PFR_k over the evaluated prefixes; each PFR_k is in
 *   `details.steps` (`{step: k, end, gold_from, pfr}`, `end` the character offset in the completion
 *   where step k ends, so a trainer can place the dense per-step rewards on its tokens). At most `max_prefixes` prefixes are evaluated (default 16; more steps are sampled
 *   evenly, the last always kept), so a policy cannot multiply the calls by writing many tiny steps.
 *   P2S adds this to an outcome reward, R = R_outcome + λ·PFR: in rewardkit, a second component
 *   (`likelihood` with `variant: rlpr`, say) and the weights of `combine`.
 * - A consequence of the proportional alignment: a completion written as one step is scored on the
 *   gold conclusion alone (an RLPR-like score), while a stepwise one is also scored on the longer gold
 *   suffixes after its early steps. If a policy drifts toward one-block reasoning, require steps with a
 *   `format` or `regex` component.
 *
 * The gold-CoT is the rollout's `reference` (a text, or a list whose best-scoring entry counts), or
 * `meta.<gold_key>` when `gold_key` is set; P2S synthesises and filters it from the question and the
 * gold answer beforehand, which is data preparation, not grading.
 *
 * **Null rule.** No gold-CoT (absent or blank) → null with a reason. With `mean_prob`, a completion
 * without an answer (`answer_pattern` does not match, under `reasoning: before_answer`) or with no
 * reasoning steps scores the floor 0 without a call. `mean_logprob` has no floor (as `likelihood`'s
 * log-prob variants): without an answer the whole completion is the reasoning, and a completion with
 * no steps is judged as an empty path (the whole gold-CoT after the prompt alone) — a judgement,
 * never null. A backend failure rejects the rollout's grade with the backend's message.
 *
 * @example
 * # spec
 * - {name: pfr, grader: path_faithfulness, backend: policy, weight: 0.5}
 * # reference (gold-CoT) "A\n\nB\n\nC"; reasoning "x\n\ny": after "x" the suffix "B\n\nC" is scored,
 * # after "x\n\ny" the suffix "C"; mean token probabilities 0.5 and 0.9 → PFR = 0.7
 */
export const pathFaithfulnessGrader = defineGrader({
  kind: 'path_faithfulness',
  summary: 'P2S path faithfulness: per reasoning step, the probability of the gold-CoT\'s suffix after the completion\'s prefix, averaged over steps (log-prob backend).',
  params: {
    backend: z.string().min(1).describe('Backend (in the spec\'s `backends`, offering `logprobs`) that scores the gold-CoT suffix: the policy, or any scoring model.'),
    reduce: z
      .enum(['mean_prob', 'mean_logprob'])
      .default('mean_prob')
      .describe('PFR_k per prefix: the suffix\'s mean token probability (`mean_prob`, default, in [0, 1]) or mean token log-probability (`mean_logprob`).'),
    step_delimiter: z.string().min(1).default('\\n\\s*\\n').describe('RE2 regex cutting the reasoning and the gold-CoT into steps (default a blank line).'),
    reasoning: z
      .enum(['before_answer', 'whole'])
      .default('before_answer')
      .describe('The reasoning: `before_answer` (default) the completion before answer_pattern\'s first match; `whole` the entire completion.'),
    answer_pattern: z.string().min(1).default('<answer>').describe('RE2 regex locating the completion\'s answer (default `<answer>`); the reasoning is the text before its first match.'),
    gold_key: z.string().min(1).optional().describe('Meta key holding the gold-CoT (default: the rollout\'s `reference`).'),
    template: z.string().min(1).default('{{prompt}}{{prefix}}').describe('Context before the separator and the gold suffix: {{prompt}}, {{prefix}} (the completion up to the end of the step) (default `{{prompt}}{{prefix}}`).'),
    separator: z.string().default('\n\n').describe('Text between the prefix and the gold suffix, part of the context (default a blank line).'),
    max_prefixes: z.number().int().min(1).max(256).default(16).describe('Most prefixes scored per rollout (default 16); with more steps, prefix ends are sampled evenly, the last always kept.'),
  },
  create(params, ctx) {
    const backend = resolveBackend(ctx, params.backend, ['logprobs']);
    const compile = (src: string, param: string) => {
      try {
        return RE2JS.compile(src);
      } catch (e) {
        if (e instanceof RE2JSException) throw new ParamError(param, `invalid RE2 regular expression (no lookaround, no backreferences): ${e.message}`);
        throw e;
      }
    };
    const delimiter = compile(params.step_delimiter, 'step_delimiter');
    const answer = compile(params.answer_pattern, 'answer_pattern');
    if (delimiter.matcher('').find()) throw new ParamError('step_delimiter', 'must not match the empty string');
    const slots = [...params.template.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1]!);
    const bad = slots.find((s) => s !== 'prompt' && s !== 'prefix');
    if (bad !== undefined) throw new ParamError('template', `unknown placeholder {{${bad}}}: use {{prompt}} and {{prefix}}`);
    if (!slots.includes('prefix')) throw new ParamError('template', 'must contain {{prefix}}');
    const context = (prompt: string, prefix: string) => params.template.replace(/\{\{\s*(prompt|prefix)\s*\}\}/g, (_, n: string) => (n === 'prompt' ? prompt : prefix)) + params.separator;
    const mean = params.reduce === 'mean_prob';
    const pfrOf = (lps: number[]) => {
      const a = answerLikelihood(lps);
      return mean ? a.mean_prob : a.mean_logprob;
    };

    const goldsOf = (s: Sample): string[] | null => {
      if (params.gold_key !== undefined) {
        const v = s.meta[params.gold_key];
        return typeof v === 'string' ? [v] : null;
      }
      return referenceTexts(s.reference);
    };

    const scoreGold = async (s: Sample, reasoning: string, steps: StepSpans, gold: string): Promise<Graded & { score: number }> => {
      const goldSteps = splitSteps(gold, delimiter);
      const M = goldSteps.length;
      const K = steps.length;
      const suffix = (j: number) => gold.slice(goldSteps[j]![0], goldSteps[M - 1]![1]);
      if (K === 0) {
        const pfr = pfrOf(await continuationLogprobs(backend, context(s.prompt, ''), suffix(0)));
        return { score: pfr, details: { steps: [], gold_steps: M, reason: 'no reasoning steps: the gold-CoT scored after the prompt alone' } };
      }
      const ends = prefixEnds(K, params.max_prefixes);
      const pfr = await Promise.all(
        ends.map(async (k) => pfrOf(await continuationLogprobs(backend, context(s.prompt, reasoning.slice(0, steps[k - 1]![1])), suffix(goldSuffixStart(k, K, M))))),
      );
      const score = pfr.reduce((a, b) => a + b, 0) / pfr.length;
      return { score, details: { steps: ends.map((k, i) => ({ step: k, end: steps[k - 1]![1], gold_from: goldSuffixStart(k, K, M) + 1, pfr: pfr[i] })), model_steps: K, gold_steps: M } };
    };

    return {
      scope: 'rollout',
      async grade(s) {
        const all = goldsOf(s);
        const golds = (all ?? []).filter((g) => splitSteps(g, delimiter).length > 0);
        if (golds.length === 0)
          return { score: null, details: { reason: all === null ? `no gold-CoT (${params.gold_key ? `meta.${params.gold_key}` : 'reference'} is not text)` : 'the gold-CoT is blank' } };
        let reasoning = s.completion;
        let reason: string | undefined;
        if (params.reasoning === 'before_answer') {
          const m = answer.matcher(s.completion);
          if (m.find()) reasoning = s.completion.slice(0, m.start());
          else reason = 'answer_pattern does not match the completion';
        }
        if (reason !== undefined && mean) return { score: 0, details: { reason } };
        // mean_logprob has no floor to pay: without an answer, the whole completion is the reasoning.
        const steps = splitSteps(reasoning, delimiter);
        if (steps.length === 0) {
          reason ??= 'the completion has no reasoning steps';
          if (mean) return { score: 0, details: { reason } };
        }
        const graded = await Promise.all(golds.map((g) => scoreGold(s, reasoning, steps, g)));
        let best = 0;
        graded.forEach((g, i) => {
          if (g.score > graded[best]!.score) best = i;
        });
        const out = graded[best]!;
        return { score: out.score, details: { ...out.details, ...(golds.length > 1 ? { reference_index: best } : {}), ...(reason ? { reason } : {}) } };
      },
    };
  },
});
