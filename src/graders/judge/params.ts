import * as z from 'zod';
import type { Backend } from '../../backends/types.js';
import type { CallOptions } from './ask.js';

export const JUDGE_MODES = ['rubric', 'principle', 'reference', 'scale', 'pairwise', 'think_then_score', 'score', 'label'] as const;
export type JudgeMode = (typeof JUDGE_MODES)[number];

/** One rubric item (HeRL): a criterion the judge marks met or unmet, and its weight. */
export const rubricItemSchema = z.strictObject({
  criterion: z.string().trim().min(1).describe('What the response must do (or, with a negative weight, must not do), in one sentence.'),
  weight: z
    .number()
    .finite()
    .default(1)
    .describe('Weight of the item (default 1). Negative = a penalty item: ignored by `penalty: ignore` (HeRL), subtracted when met by `penalty: subtract`.'),
});

export type RubricItem = z.infer<typeof rubricItemSchema>;

/** One chat turn of `messages` (score and label modes): a user or assistant message, a template. */
export const chatTurnSchema = z.strictObject({
  role: z.enum(['user', 'assistant']).describe('user or assistant (instructions for the judge go in `system`).'),
  content: z.string().min(1).describe('The message, a template: {{prompt}}, {{completion}}, {{reference}}, {{meta.<key>}} (each filled value is fenced as data).'),
});

/**
 * The `judge` params. Mode-specific params carry no zod default so that `create` can reject one given
 * to a mode it does not apply to; their defaults are applied by the mode.
 */
export const judgeParams = {
  backend: z.string().min(1).describe('Name of a chat backend in the spec\'s `backends` section.'),
  mode: z
    .enum(JUDGE_MODES)
    .describe(
      'rubric: weighted share of rubric items met (HeRL); principle: listwise 1–N scores of the whole group against a principle (RewardAnything); ' +
        'reference: correct or not given the reference answer (Cooper); scale: one 1–N score mapped to [0, 1] (RoboReward); ' +
        'pairwise: win rate in pairwise comparisons within the group; think_then_score: free reasoning, then a separate constrained score call (DeScore); ' +
        'score: a number in `range`, clamped to it (OpenAI score_model); label: 1 when the judge\'s label is one of `passing_labels`, else 0 (OpenAI label_model).',
    ),
  template: z
    .string()
    .min(1)
    .optional()
    .describe('User message template replacing the mode\'s default; placeholders {{prompt}}, {{completion}}, {{reference}}, {{meta.<key>}} and the mode\'s own (see the judge README).'),
  system: z.string().min(1).optional().describe('System message replacing the mode\'s default (no placeholders). The fence notice and the answer format are always appended.'),
  max_tokens: z.number().int().min(16).max(131_072).default(1024).describe('Token limit of each judge answer (default 1024).'),
  temperature: z.number().min(0).max(2).default(0).describe('Sampling temperature of the judge (default 0).'),
  parse_retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe('Re-asks after an unusable answer (prose, out of range, missing items) before the rollout gets an error (default 2).'),
  strip_think: z
    .boolean()
    .default(false)
    .describe('Drop one leading <think>…</think> block from answers (reasoning models served without a reasoning parser); otherwise it is a parse failure.'),
  rubric: z
    .array(rubricItemSchema)
    .min(1)
    .max(200)
    .optional()
    .describe('rubric mode: the items [{criterion, weight}]. When omitted, each rollout\'s meta.rubric (same shape, or a list of strings) is used.'),
  penalty: z
    .enum(['ignore', 'subtract'])
    .optional()
    .describe('rubric mode, items with a negative weight: `ignore` (default; HeRL counts them with weight 0) or `subtract` (|weight| taken off when met; score clamped at 0).'),
  principle: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('principle mode (required): the natural-language principle responses are judged by; pairwise mode: what "better" means (default: helpful, correct and clear).'),
  scale_max: z
    .number()
    .int()
    .min(2)
    .max(100)
    .optional()
    .describe('principle, scale, think_then_score: the top of the integer 1..N scale (default 5); a score s maps to (s − 1)/(N − 1).'),
  scale_description: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('principle, scale, think_then_score: what each level of the scale means (default: a 1–5 progress rubric after RoboReward; a 1–5 adherence rubric in principle mode).'),
  verdict: z
    .enum(['binary', 'probability'])
    .optional()
    .describe('reference mode: `binary` (default) scores 1 correct / 0 not; `probability` asks also for the probability p that the answer is correct and scores p (a chat judge\'s approximation of Cooper\'s σ(logit); the paper\'s reward is reward_model with input_format: cooper).'),
  binarize: z.boolean().optional().describe('reference mode with `verdict: probability`: score 1[p > 0.5] instead of p (Cooper\'s reward_scale).'),
  both_orders: z.boolean().optional().describe('pairwise mode: judge each pair in both orders to cancel position bias (default true).'),
  allow_tie: z.boolean().optional().describe('pairwise mode: the judge may answer "tie" (worth ½ to each; default true).'),
  max_pairs: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe('pairwise mode: at most this many pairs per group (default 64); in bigger groups a balanced set of pairs is drawn with `seed`.'),
  seed: z
    .number()
    .int()
    .optional()
    .describe('principle and pairwise modes: seed of the per-group shuffle of masked names and of the pair sample (default 42).'),
  reasoning_max_tokens: z
    .number()
    .int()
    .min(16)
    .max(131_072)
    .optional()
    .describe('think_then_score mode: token limit of the free reasoning call (default 2048).'),
  messages: z
    .array(chatTurnSchema)
    .min(1)
    .max(64)
    .optional()
    .describe('score and label modes: the chat shown to the judge, in order, instead of the single `template` user message (at least one user message; OpenAI grader `input` messages convert to this).'),
  range: z
    .tuple([z.number().finite(), z.number().finite()])
    .optional()
    .describe('score mode: [min, max] of the score (default [0, 1]); an answer outside it is clamped to it, as OpenAI\'s score_model truncates to its range.'),
  labels: z
    .array(z.string().min(1))
    .min(1)
    .max(200)
    .optional()
    .describe('label mode (required): the labels the judge chooses one of; any other answer is unusable (re-asked, then an error).'),
  passing_labels: z
    .array(z.string().min(1))
    .min(1)
    .max(200)
    .optional()
    .describe('label mode (required): the labels that score 1 (a subset of `labels`); every other label scores 0.'),
  sampling_seed: z
    .number()
    .int()
    .optional()
    .describe('score and label modes: sampling seed sent with every request (OpenAI sampling_params.seed); default none.'),
};

export type JudgeParams = z.infer<z.ZodObject<typeof judgeParams>>;

/** What every mode's builder receives. */
export interface ModeEnv {
  backend: Backend;
  params: JudgeParams;
  call: CallOptions;
}

/** The params that only some modes take, and which. */
export const MODE_PARAMS: Readonly<Record<string, readonly JudgeMode[]>> = {
  rubric: ['rubric'],
  penalty: ['rubric'],
  principle: ['principle', 'pairwise'],
  scale_max: ['principle', 'scale', 'think_then_score'],
  scale_description: ['principle', 'scale', 'think_then_score'],
  verdict: ['reference'],
  binarize: ['reference'],
  both_orders: ['pairwise'],
  allow_tie: ['pairwise'],
  max_pairs: ['pairwise'],
  seed: ['principle', 'pairwise'],
  reasoning_max_tokens: ['think_then_score'],
  messages: ['score', 'label'],
  range: ['score'],
  labels: ['label'],
  passing_labels: ['label'],
  sampling_seed: ['score', 'label'],
};
