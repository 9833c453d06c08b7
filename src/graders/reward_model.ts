import * as z from 'zod';
import type { RewardInput } from '../backends/types.js';
import type { ChatMessage } from '../rollout/types.js';
import { ParamError, defineGrader } from './types.js';
import { referenceTexts } from './normalize.js';
import { batchSizeSchema, batchedRewarder, resolveBackend } from './model_calls.js';

/** Token POLAR appends after the candidate; its reward is read at this final token. */
const POLAR_END = '[UNUSED_TOKEN_130]';

/**
 * A prompt, reference or output as POLAR's client lays it out: a string as it is, a chat as its
 * messages' contents joined by "\n".
 */
function polarJoin(value: string | ChatMessage[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return value
    .map((m) => (typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text ?? '').join('') : ''))
    .join('\n');
}

/**
 * POLAR's reward-model input (InternLM/POLAR `src/polar/reward_func.py`): the text
 * `prompt + "\n" + reference + "<|reward|>" + prompt + "\n" + output + "[UNUSED_TOKEN_130]"`
 * (the `pretrain` wrapper drops the two "\n"), split so that `prompt + completion` is that text: the
 * reference half and the second prompt go in `prompt`, the candidate and the end token in
 * `completion`. Send it to a backend whose reward input is the plain concatenation.
 *
 * @example
 * polarInput('2+2?', '4', 'four', 'sft')
 * // → { prompt: '2+2?\n4<|reward|>2+2?\n', completion: 'four[UNUSED_TOKEN_130]' }
 */
export function polarInput(prompt: string, reference: string, output: string, wrapper: 'sft' | 'pretrain'): RewardInput {
  const sep = wrapper === 'sft' ? '\n' : '';
  return { prompt: `${prompt}${sep}${reference}<|reward|>${prompt}${sep}`, completion: `${output}${POLAR_END}` };
}

/**
 * Cooper's VerifyRM input (ZJU-REAL/cooper, mechanics-C §9 [SRC]): the text
 * `<question>{q}</question>\n<reference_answer>{ref}</reference_answer>\n<completion>{c}</completion>`,
 * split so that `prompt + completion` is that text (the candidate and the closing tag in
 * `completion`). Send it to a backend whose reward input is the plain concatenation (the default
 * `{{prompt}}{{completion}}` template of the pooling and classify formats).
 *
 * @example
 * cooperInput('1+1?', '2', 'It is 2.')
 * // → { prompt: '<question>1+1?</question>\n<reference_answer>2</reference_answer>\n<completion>', completion: 'It is 2.</completion>' }
 */
export function cooperInput(question: string, reference: string, output: string): RewardInput {
  return { prompt: `<question>${question}</question>\n<reference_answer>${reference}</reference_answer>\n<completion>`, completion: `${output}</completion>` };
}

/**
 * `reward_model` — the scalar score of a reward-model backend (`reward` op: vLLM `/pooling`,
 * `/classify` or `/score` routes, configured on the backend) for the completion given the prompt.
 *
 * `reference_conditioned: true` makes it a reference-conditioned reward model in the manner of POLAR
 * ("Pre-Trained Policy Discriminators are General Reward Models", Dou et al. 2025): the model sees
 * the reference answer too and scores how close the candidate is to it; a rollout without a text
 * reference then scores `null` with a reason, and a reference list scores the best over its entries.
 * `input_format` says who lays out the text: `fields` (default) sends prompt, completion and (when
 * conditioned) reference as separate fields for the backend's own reward template; `polar` builds
 * POLAR's input itself (see {@link polarInput}; chats are joined by "\n" as POLAR's client does),
 * `polar_pretrain` the same with POLAR's `pretrain` wrapper. Both POLAR formats imply
 * `reference_conditioned`.
 *
 * `input_format: cooper` is Cooper's reference-based reward model VerifyRM ("Cooper: Co-Optimizing
 * Policy and Reward Models in Reinforcement Learning for Large Language Models", arXiv 2508.05613;
 * mechanics-C §9 [SRC]): the model (a one-label sequence classifier) reads {@link cooperInput} and the
 * reward is `r = σ(logit)` ∈ (0, 1) — use `sigmoid: true` with a backend that returns the raw logit
 * (`reward_format: pooling`), or a `classify` backend that already returns the probability.
 * `binarize: true` scores `1[σ > 0.5]` (Cooper's `reward_model.reward_scale`; the released run uses
 * the continuous reward). It implies `reference_conditioned`. A judge's stated probability
 * (`judge` mode `reference`) is only an approximation of this reward.
 *
 * The raw score r is mapped to `scale·r + offset`, then through the logistic function when
 * `sigmoid: true` (defaults: identity), then to 1 above 0.5 and 0 otherwise with `binarize`. Calls are batched: rollouts graded in the same tick share one
 * `reward` call of up to `batch_size` inputs; a failed call makes exactly its rollouts' grades reject
 * with the backend's message (an error on those rollouts, never a default score).
 *
 * @example
 * # spec
 * - {name: rm, grader: reward_model, backend: polar, input_format: polar}
 * # rollout {"prompt": "How many r's in strawberry?", "completion": "3", "reference": "There are 3 r's."}
 * # → POLAR-7B's score for "How many r's in strawberry?\nThere are 3 r's.<|reward|>How many r's in strawberry?\n3[UNUSED_TOKEN_130]"
 * # Cooper: - {name: verify, grader: reward_model, backend: verifyrm, input_format: cooper, sigmoid: true}
 * # logit 1.2 → σ(1.2) = 0.7685 (binarize: true → 1)
 */
export const rewardModelGrader = defineGrader({
  kind: 'reward_model',
  summary: 'Score of a reward-model backend for the completion (optionally conditioned on the reference, as POLAR), with an optional affine/sigmoid mapping.',
  params: {
    backend: z.string().min(1).describe('Name of a reward-model backend in the spec\'s `backends` (needs the `reward` operation).'),
    reference_conditioned: z
      .boolean()
      .optional()
      .describe('Give the reward model the reference answer as well (POLAR-style); rollouts without a reference score null. Default false, true with a POLAR input_format.'),
    input_format: z
      .enum(['fields', 'polar', 'polar_pretrain', 'cooper'])
      .default('fields')
      .describe('`fields` (default): prompt/completion/reference sent as fields, laid out by the backend; `polar`: POLAR\'s sft input text built here; `polar_pretrain`: POLAR\'s pretrain-wrapper text (no newlines); `cooper`: Cooper VerifyRM\'s <question>/<reference_answer>/<completion> text.'),
    scale: z.number().default(1).describe('Multiplier applied to the raw score (default 1).'),
    offset: z.number().default(0).describe('Added to the scaled score (default 0).'),
    sigmoid: z.boolean().default(false).describe('Pass `scale·raw + offset` through the logistic function 1/(1+e^-x), giving (0, 1) (default false; Cooper: σ(logit)).'),
    binarize: z.boolean().default(false).describe('Score 1 when the mapped value is above 0.5, else 0 (Cooper\'s reward_scale; needs sigmoid: true or a probability from a classify backend).'),
    batch_size: batchSizeSchema,
  },
  create(params, ctx) {
    const cooper = params.input_format === 'cooper';
    const polar = params.input_format === 'polar' || params.input_format === 'polar_pretrain';
    if ((polar || cooper) && params.reference_conditioned === false)
      throw new ParamError('reference_conditioned', `input_format ${params.input_format} always shows the reference to the reward model; drop reference_conditioned: false or use input_format: fields.`);
    const conditioned = polar || cooper || params.reference_conditioned === true;
    const wrapper = params.input_format === 'polar_pretrain' ? 'pretrain' : 'sft';
    const backend = resolveBackend(ctx, params.backend, ['reward']);
    const score = batchedRewarder(backend, params.batch_size);
    const { scale, offset } = params;
    const map = (raw: number): number => {
      const v = scale * raw + offset;
      const m = params.sigmoid ? 1 / (1 + Math.exp(-v)) : v;
      return params.binarize ? (m > 0.5 ? 1 : 0) : m;
    };
    return {
      scope: 'rollout',
      async grade(s) {
        if (!conditioned) {
          const raw = await score({ prompt: s.prompt, completion: s.completion });
          return { score: map(raw), details: { raw } };
        }
        const refs = referenceTexts(s.reference);
        if (refs === null) return { score: null, details: { reason: 'no text reference for the reference-conditioned reward model' } };
        const used = refs.filter((r) => r.trim().length > 0);
        if (used.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        const inputs = used.map((ref): RewardInput =>
          polar
            ? polarInput(polarJoin(s.rollout.prompt), ref, polarJoin(s.rollout.completion), wrapper)
            : cooper
              ? cooperInput(polarJoin(s.rollout.prompt), ref, polarJoin(s.rollout.completion))
              : { prompt: s.prompt, completion: s.completion, reference: ref },
        );
        const raws = await Promise.all(inputs.map((i) => score(i)));
        let best = 0;
        raws.forEach((r, i) => {
          if (map(r) > map(raws[best]!)) best = i;
        });
        return { score: map(raws[best]!), details: { raw: raws[best], reference_index: best } };
      },
    };
  },
});
