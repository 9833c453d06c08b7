import * as z from 'zod';
import { RE2JS, RE2JSException } from 're2js';
import type { Sample } from '../rollout/types.js';
import { ParamError, defineGrader, type Graded } from './types.js';
import { referenceTexts } from './normalize.js';
import { Lru } from './math/lru.js';
import { continuationLogprobs, resolveBackend } from './model_calls.js';

export type LikelihoodVariant = 'logprob' | 'mean_logprob' | 'prob' | 'mean_prob' | 'rlpr' | 'follow_up';

/** The four reductions of a reference answer's token log-probs the variants use. */
export interface AnswerLikelihood {
  /** Σ log p: the sequence log-probability (Likelihood-Based Reward Designs). */
  logprob: number;
  /** Mean token log p. */
  mean_logprob: number;
  /** exp(Σ log p): the sequence probability (VeriFree). */
  prob: number;
  /** Mean token probability (RLPR's score). */
  mean_prob: number;
  tokens: number;
}

/**
 * Reduces the token log-probs of a reference answer (at least one token).
 *
 * @example
 * answerLikelihood([Math.log(0.5), Math.log(0.8)])
 * // → { logprob: -0.9163, mean_logprob: -0.4581, prob: 0.4, mean_prob: 0.65, tokens: 2 }
 */
export function answerLikelihood(logprobs: readonly number[]): AnswerLikelihood {
  const n = logprobs.length;
  if (n === 0) throw new Error('answerLikelihood needs at least one token');
  let sum = 0;
  let probs = 0;
  for (const lp of logprobs) {
    sum += lp;
    probs += Math.exp(lp);
  }
  return { logprob: sum, mean_logprob: sum / n, prob: Math.exp(sum), mean_prob: probs / n, tokens: n };
}

/**
 * RLPR's reward before the format term: Δ = scoreB − scoreA (mean token probability of the reference
 * after the reasoning, minus the same without reasoning), then its `threshold_t` shaping: Δ < t → 0.
 *
 * @example
 * rlprReward(0.65, 0.55, 0) // → 0.10
 * rlprReward(0.50, 0.55, 0) // → 0
 */
export function rlprReward(scoreB: number, scoreA: number, threshold: number): number {
  const delta = scoreB - scoreA;
  return delta < threshold ? 0 : delta;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)?)\s*\}\}/g;

/** Fills `{{name}}` / `{{meta.key}}` placeholders in one pass (substituted text is never re-scanned). */
type Render = (vars: Record<string, string>, meta: Readonly<Record<string, unknown>>) => string;

/** Checks a template's placeholders against `allowed` (plus `meta.*`) when the spec loads. */
function compileTemplate(template: string, allowed: readonly string[], param: string): Render {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!name.startsWith('meta.') && !allowed.includes(name))
      throw new ParamError(param, `unknown placeholder {{${name}}}: use ${allowed.map((a) => `{{${a}}}`).join(', ')} or {{meta.<key>}}.`);
  }
  return (vars, meta) =>
    template.replace(PLACEHOLDER, (_, name: string) => {
      if (!name.startsWith('meta.')) return vars[name]!;
      const key = name.slice(5);
      if (!Object.hasOwn(meta, key)) throw new Error(`${param}: the rollout has no meta.${key}`);
      const v = meta[key];
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
}

/** Default follow-up utterances (FLR); written for rewardkit, not taken from the paper. */
export const DEFAULT_POSITIVE_FOLLOW_UPS: readonly string[] = [
  "Thanks, that's exactly what I needed.",
  'Great answer, that really helps.',
  'Perfect, that makes it clear.',
];
export const DEFAULT_NEGATIVE_FOLLOW_UPS: readonly string[] = [
  "That's not what I asked.",
  "That's wrong.",
  "This doesn't help me at all.",
];

const STYLES = {
  tag: { pattern: '<answer>[\\s\\S]*?</answer>', template: '<answer> {{reference}} </answer>' },
  boxed: { pattern: '\\\\boxed\\{', template: '\\boxed{{{reference}}}' },
} as const;

const ANSWER_ONLY = ['answer_style', 'answer_pattern', 'answer_template', 'template', 'scored_span', 'missing_answer_score'] as const;
const RLPR_ONLY = ['baseline_template', 'threshold'] as const;
const FOLLOW_UP_ONLY = ['positive', 'negative', 'follow_up_template'] as const;

/**
 * `likelihood` — rewards from a language model's probability of a target text, needing a backend
 * with the `logprobs` op (the policy itself, or any scoring model). Six `variant`s:
 *
 * - `logprob` — log π(a* | prompt, reasoning): the summed log-probability of the reference answer a*
 *   after the prompt and the completion's reasoning with its own answer cut off ("Likelihood-Based
 *   Reward Designs", arXiv 2602.03979: the sum, its recommended reward). Tokens [0.5, 0.8] → ln 0.4.
 * - `mean_logprob` — the same, averaged per token (an option; not the paper's recommendation).
 * - `mean_prob` — exp of the mean token log-prob (the geometric-mean token probability): IGPO's p,
 *   the gold answer's probability after each turn, with `reasoning: whole` on a step-scoped component.
 * - `prob` — exp of the sum, the probability of the reference answer (VeriFree, "Reinforcing General
 *   Reasoning without Verifiers", sail-sg/VeriFree `reward_source: p`). [0.5, 0.8] → 0.40. It
 *   vanishes as 0.9^L for an L-token answer whose tokens each have p = 0.9, while `mean_logprob` stays
 *   at ln 0.9.
 * - `rlpr` — RLPR ("Extrapolating RLVR to General Domains without Verifiers", OpenBMB/RLPR
 *   `reward_manager/prob.py`): scoreB = mean token probability of the reference after the reasoning,
 *   scoreA = the same with no reasoning (context `baseline_template`, default the prompt and one space,
 *   as RLPR's precomputed debiasing score; memoised per prompt and reference), Δ = scoreB − scoreA,
 *   shaped by RLPR's `threshold_0`: Δ < `threshold` (default 0) → 0. [0.5, 0.8] after reasoning
 *   (0.65) against a baseline of 0.55 → 0.10. RLPR adds 0.1·format to 0.9·Δ: in a spec, give this
 *   component weight 0.9 and a `format` component weight 0.1. RLPR's std filters (a group whose reward
 *   std < 1e-6 gets zero advantage; prompts whose std falls below β·EMA(std) are dropped) act on
 *   groups and batches and belong to the advantage/filter stage, not to this grader.
 * - `follow_up` — FLR ("Aligning Language Models Using Follow-up Likelihood as Reward Signal"):
 *   mean over `positive` follow-up utterances of their per-token mean log-prob after the exchange
 *   (`follow_up_template`, default prompt, completion, then "\n\nUser: "), minus the same over
 *   `negative` ones. Swapping the lists negates it; a constant shift of every token log-prob cancels.
 *
 * How the completion is cut: `answer_pattern` (RE2) locates the completion's own answer; the reasoning
 * is everything before its first match. `answer_style: tag` (default) matches `<answer>…</answer>` as
 * VeriFree and RLPR do (a truncated answer without `</answer>` counts as missing, as VeriFree's
 * unfinished rollouts do) and appends `answer_template` `<answer> {{reference}} </answer>` (RLPR's
 * layout: the tag, a space, the reference, a space, the closing tag; RLPR reuses the completion's own
 * whitespace after `<answer>`, one space being its default). RLPR also zeroes completions whose tags
 * are malformed (two `<answer>` tags, say); in rewardkit that is a `format` component's or a gate's
 * job. `answer_style: boxed` matches `\boxed{` and uses `\boxed{{{reference}}}`. Each can be
 * overridden. The scored context is `template` (default `{{prompt}}{{reasoning}}`, the two
 * concatenated as the policy saw them; `{{meta.key}}` allowed) followed by the answer template. `scored_span: reference` (default, RLPR and the likelihood paper) scores
 * only the reference's tokens (the template's opening goes in the context, its closing is not scored);
 * `scored_span: answer` scores the whole filled answer template, wrapper tokens included, as VeriFree
 * scores its answer block. Prompts are used as text: give the prompt already rendered with the
 * model's chat template for faithful numbers.
 *
 * A completion with no answer: `prob` scores 0 (VeriFree sets log p = −∞), `rlpr` scores
 * shaped(0 − scoreA) (RLPR's empty answer mask gives scoreB = 0), `logprob`/`mean_logprob` score
 * the reference after the WHOLE completion (a log-probability has no floor to pay — VeriFree's −∞
 * is not a score — so with no answer to cut off, all of the completion is the reasoning and the
 * reward still says how well the rollout predicts the reference; never null, never a free pass),
 * `mean_prob` scores 0; `missing_answer_score` overrides all of them. No text reference → `null` with a
 * reason; a reference list scores the best of its entries. A backend failure rejects the rollout's
 * grade with the backend's message (an error, never a number).
 *
 * @example
 * # spec
 * - {name: verifree, grader: likelihood, backend: policy, variant: prob}
 * # completion "<think>2+2=4</think><answer>4</answer>", reference "4": the reference's tokens are
 * # scored after "{prompt}<think>2+2=4</think><answer> "; token probabilities [0.5, 0.8] → 0.40
 */
export const likelihoodGrader = defineGrader({
  kind: 'likelihood',
  summary: 'Likelihood of the reference answer after the reasoning (log-prob, mean log-prob, VeriFree probability, RLPR), or of follow-up utterances (FLR).',
  params: {
    backend: z.string().min(1).describe('Name of a backend in the spec\'s `backends` offering `logprobs`.'),
    variant: z
      .enum(['logprob', 'mean_logprob', 'prob', 'mean_prob', 'rlpr', 'follow_up'])
      .describe('`logprob` (sum), `mean_logprob`, `prob` (VeriFree), `mean_prob` (exp of the mean log-prob: IGPO\'s p), `rlpr` (RLPR Δ) of the reference answer, or `follow_up` (FLR).'),
    reasoning: z
      .enum(['before_answer', 'whole'])
      .default('before_answer')
      .describe('What of the completion precedes the reference: `before_answer` (default) the text before answer_pattern\'s first match; `whole` the entire completion, answer or not (IGPO: p(gold answer) after each turn, with a step-scoped likelihood component).'),
    answer_style: z
      .enum(['tag', 'boxed'])
      .optional()
      .describe('Defaults for answer_pattern/answer_template: `tag` (default) `<answer>…</answer>`, `boxed` `\\boxed{…}`.'),
    answer_pattern: z
      .string()
      .optional()
      .describe("RE2 regex locating the completion's answer; the reasoning is the text before its first match."),
    answer_template: z
      .string()
      .optional()
      .describe('The answer appended after the reasoning; must contain {{reference}} once (default by answer_style).'),
    template: z
      .string()
      .optional()
      .describe('Context before the answer: {{prompt}}, {{reasoning}}, {{meta.key}} (default `{{prompt}}{{reasoning}}`).'),
    scored_span: z
      .enum(['reference', 'answer'])
      .optional()
      .describe('`reference` (default): score only the reference tokens; `answer`: score the whole filled answer_template.'),
    missing_answer_score: z
      .number()
      .optional()
      .describe('Score when answer_pattern does not match (default: prob/mean_prob 0, rlpr as its paper, logprob/mean_logprob the reference scored after the whole completion).'),
    baseline_template: z
      .string()
      .optional()
      .describe('rlpr only: context of the no-reasoning baseline, followed by the reference: {{prompt}}, {{meta.key}} (default `{{prompt}} `).'),
    threshold: z.number().optional().describe('rlpr only: Δ below this becomes 0 (default 0, RLPR `threshold_0`).'),
    positive: z.array(z.string().min(1)).min(1).optional().describe('follow_up only: positive follow-up utterances (defaults written for rewardkit).'),
    negative: z.array(z.string().min(1)).min(1).optional().describe('follow_up only: negative follow-up utterances (defaults written for rewardkit).'),
    follow_up_template: z
      .string()
      .optional()
      .describe('follow_up only: the exchange before an utterance: {{prompt}}, {{completion}}, {{meta.key}} (default `{{prompt}}{{completion}}\\n\\nUser: `).'),
  },
  create(params, ctx) {
    const { variant } = params;
    const forbid = (keys: readonly string[], why: string) => {
      for (const k of keys) if ((params as Record<string, unknown>)[k] !== undefined) throw new ParamError(k, `${k} ${why}`);
    };
    if (variant === 'follow_up') forbid(ANSWER_ONLY, 'does not apply to variant follow_up.');
    else forbid(FOLLOW_UP_ONLY, 'only applies to variant follow_up.');
    if (variant !== 'rlpr') forbid(RLPR_ONLY, 'only applies to variant rlpr.');
    const backend = resolveBackend(ctx, params.backend, ['logprobs']);

    if (variant === 'follow_up') {
      const exchange = compileTemplate(params.follow_up_template ?? '{{prompt}}{{completion}}\n\nUser: ', ['prompt', 'completion'], 'follow_up_template');
      const positive = params.positive ?? DEFAULT_POSITIVE_FOLLOW_UPS;
      const negative = params.negative ?? DEFAULT_NEGATIVE_FOLLOW_UPS;
      const meanOver = async (context: string, utterances: readonly string[]) => {
        const means = await Promise.all(utterances.map(async (u) => answerLikelihood(await continuationLogprobs(backend, context, u)).mean_logprob));
        return means.reduce((a, b) => a + b, 0) / means.length;
      };
      return {
        scope: 'rollout',
        async grade(s) {
          const context = exchange({ prompt: s.prompt, completion: s.completion }, s.meta);
          const [pos, neg] = await Promise.all([meanOver(context, positive), meanOver(context, negative)]);
          return { score: pos - neg, details: { positive: pos, negative: neg } };
        },
      };
    }

    const style = STYLES[params.answer_style ?? 'tag'];
    let pattern: RE2JS;
    try {
      pattern = RE2JS.compile(params.answer_pattern ?? style.pattern);
    } catch (e) {
      if (e instanceof RE2JSException) throw new ParamError('answer_pattern', `invalid RE2 regular expression (no lookaround, no backreferences): ${e.message}`);
      throw e;
    }
    const answerTemplate = params.answer_template ?? style.template;
    const parts = answerTemplate.split('{{reference}}');
    if (parts.length !== 2) throw new ParamError('answer_template', `must contain {{reference}} exactly once (found ${parts.length - 1}).`);
    const [open, close] = parts as [string, string];
    const extra = [...answerTemplate.replace('{{reference}}', '').matchAll(PLACEHOLDER)];
    if (extra.length > 0) throw new ParamError('answer_template', `only {{reference}} may appear in answer_template, not {{${extra[0]![1]}}}.`);
    const context = compileTemplate(params.template ?? '{{prompt}}{{reasoning}}', ['prompt', 'reasoning'], 'template');
    const wholeAnswer = params.scored_span === 'answer';
    const threshold = params.threshold ?? 0;
    const baselineContext = compileTemplate(params.baseline_template ?? '{{prompt}} ', ['prompt'], 'baseline_template');
    const baselineDone = new Lru<string, number>(4096);
    const baselineInFlight = new Map<string, Promise<number>>();

    const baseline = (s: Sample, ref: string): Promise<number> => {
      const ctxText = baselineContext({ prompt: s.prompt }, s.meta);
      const key = JSON.stringify([ctxText, ref]);
      const done = baselineDone.get(key);
      if (done !== undefined) return Promise.resolve(done);
      let p = baselineInFlight.get(key);
      if (!p) {
        p = continuationLogprobs(backend, ctxText, ref)
          .then((lps) => {
            const v = answerLikelihood(lps).mean_prob;
            baselineDone.set(key, v);
            return v;
          })
          .finally(() => baselineInFlight.delete(key));
        baselineInFlight.set(key, p);
      }
      return p;
    };

    const scoreOne = async (s: Sample, reasoning: string, ref: string): Promise<Graded & { score: number }> => {
      const before = context({ prompt: s.prompt, reasoning }, s.meta);
      const lps = wholeAnswer
        ? await continuationLogprobs(backend, before, `${open}${ref}${close}`)
        : await continuationLogprobs(backend, before + open, ref);
      const a = answerLikelihood(lps);
      if (variant === 'rlpr') {
        const scoreA = await baseline(s, ref);
        return { score: rlprReward(a.mean_prob, scoreA, threshold), details: { score_b: a.mean_prob, score_a: scoreA, delta: a.mean_prob - scoreA, tokens: a.tokens } };
      }
      const score = variant === 'logprob' ? a.logprob : variant === 'mean_logprob' ? a.mean_logprob : variant === 'mean_prob' ? Math.exp(a.mean_logprob) : a.prob;
      return { score, details: { logprob: a.logprob, mean_logprob: a.mean_logprob, tokens: a.tokens } };
    };

    const pickBest = (graded: (Graded & { score: number })[], nRefs: number): Graded => {
      let best = 0;
      graded.forEach((g, i) => {
        if (g.score > graded[best]!.score) best = i;
      });
      return { score: graded[best]!.score, details: { ...graded[best]!.details, ...(nRefs > 1 ? { reference_index: best } : {}) } };
    };

    return {
      scope: 'rollout',
      async grade(s) {
        const all = referenceTexts(s.reference);
        if (all === null) return { score: null, details: { reason: 'no text reference to score' } };
        const refs = all.filter((r) => r.length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const m = pattern.matcher(s.completion);
        if (params.reasoning === 'whole') {
          const graded = await Promise.all(refs.map((r) => scoreOne(s, s.completion, r)));
          return pickBest(graded, refs.length);
        }
        if (!m.find()) {
          const reason = 'answer_pattern does not match the completion';
          if (params.missing_answer_score !== undefined) return { score: params.missing_answer_score, details: { reason } };
          if (variant === 'prob') return { score: 0, details: { reason } };
          if (variant === 'rlpr') {
            const scoreAs = await Promise.all(refs.map((r) => baseline(s, r)));
            const rewards = scoreAs.map((a) => rlprReward(0, a, threshold));
            const best = rewards.indexOf(Math.max(...rewards));
            return { score: rewards[best]!, details: { reason, score_b: 0, score_a: scoreAs[best] } };
          }
          if (variant === 'mean_prob') return { score: 0, details: { reason } };
          // logprob/mean_logprob have no floor to pay a missing answer: the whole completion is the
          // reasoning, so the reward still says how well the rollout predicts the reference.
          const graded = pickBest(await Promise.all(refs.map((r) => scoreOne(s, s.completion, r))), refs.length);
          return { score: graded.score, details: { ...graded.details, reason: `${reason}: the whole completion is the reasoning` } };
        }
        const reasoning = s.completion.slice(0, m.start());
        return pickBest(await Promise.all(refs.map((r) => scoreOne(s, reasoning, r))), refs.length);
      },
    };
  },
});
