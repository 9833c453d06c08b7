/**
 * Reasoning-SQL's AI-feedback fallback for the execution term (Pourreza et al. 2025, "Reasoning-SQL:
 * Reinforcement Learning with SQL Tailored Partial Rewards", arXiv 2503.23157; the first author's code,
 * MohammadrezaPourreza/RLForSQL, `execution_acc_reward_func`): when the predicted query has a SELECT but
 * its execution does not match the gold (it fails, or returns other rows), an LLM judge compares it
 * with the gold query and rates it from 0.0 to 2.0, and that rating takes the place of the execution
 * term, whose full value for a match is 3.0. Here the execution term is on a 0–1 scale (weight 3 in
 * `reasoning_sql`), so the rating enters it as rating / 3: weight 3 gives the paper's value exactly.
 *
 * The prompt is rewardkit's own (the paper's judge prompt is not reproduced): the question, the gold
 * query, the predicted query and what execution said, fenced as data (src/graders/judge/fence.ts), and
 * the criteria the paper lists in words — same columns, same joins/filters/grouping/ordering, NULL
 * handling, DISTINCT, SQLite functions. A judge reply that cannot be used after `parse_retries`
 * re-asks, or a backend failure, is a grader failure: it throws (the component gets an error and a null
 * score), it is never turned into a score (the paper's code scores it 0; see the null rule in types.ts).
 */
import * as z from 'zod';
import type { Backend, ChatMessage } from '../../backends/types.js';
import { askJudge } from '../judge/ask.js';
import { fenceBlock, fenceNotice, fenceTag } from '../judge/fence.js';
import { answerFormat } from '../judge/parse.js';
import { ParamError, type GraderContext } from '../types.js';

/** The `fallback_judge` param of the `sql` grader. */
export const fallbackJudgeSchema = z
  .strictObject({
    backend: z.string().min(1).describe('Name of a chat backend in the spec’s `backends` section.'),
    max_tokens: z.number().int().min(16).max(32_768).default(512).describe('Tokens the judge may write (default 512).'),
    temperature: z.number().min(0).max(2).default(0).describe('Sampling temperature of the judge (default 0).'),
    parse_retries: z.number().int().min(0).max(5).default(2).describe('Re-asks after an unusable judge answer before the grade fails with an error (default 2).'),
    strip_think: z.boolean().default(true).describe('Drop one leading <think>…</think> from the judge’s answer (default true).'),
  })
  .describe(
    'Reasoning-SQL’s judge fallback: when the predicted SELECT does not execute to the gold result, a judge rates it 0–2 against the gold query and the execution term becomes rating / 3 (modes execution and reasoning_sql).',
  );

export type FallbackJudgeParams = z.infer<typeof fallbackJudgeSchema>;

/** Maximum rating, and the execution term's value for a match in the paper's code. */
export const JUDGE_MAX = 2;
export const EXECUTION_MATCH = 3;

const FORMAT = answerFormat(
  'sql_judge_score',
  z.strictObject({ score: z.number().min(0).max(JUDGE_MAX) }),
  'Reply with only a JSON object {"score": <a number from 0.0 to 2.0>} and no other text.',
);

const SYSTEM =
  'You grade a predicted SQL query against a gold SQL query for the same question on the same SQLite database. ' +
  'Rate how close the prediction is to answering the question the way the gold query does, from 0.0 (unrelated or wrong in substance) ' +
  'to 2.0 (equivalent up to harmless differences). Consider: whether it selects exactly the needed columns; uses the same tables, ' +
  'joins and join conditions; applies the same filters, including NULL handling; groups, aggregates, orders and limits the same way; ' +
  'uses DISTINCT where the gold needs it; and uses SQLite’s own functions (e.g. STRFTIME for dates). The prediction did not produce ' +
  'the gold result when executed; its execution status is given. Do not reward text that is not SQL or that only restates the question.';

export interface SqlJudge {
  /** The judge's rating in [0, 2] of `pred` against `gold`, with the judge's raw answer and calls made. Rejects on failure. */
  rate(question: string, gold: string, pred: string, execution: string): Promise<{ rating: number; attempts: number }>;
}

/** Builds the fallback judge from its params, resolving the backend (ParamError `fallback_judge.backend` when it cannot). */
export function buildSqlJudge(p: FallbackJudgeParams, ctx: GraderContext): SqlJudge {
  if (!ctx.backends) throw new ParamError('fallback_judge.backend', `names "${p.backend}", but the spec declares no backends (add a \`backends:\` section)`);
  let backend: Backend;
  try {
    backend = ctx.backends.get(p.backend, ['chat']);
  } catch (e) {
    throw new ParamError('fallback_judge.backend', (e as Error).message);
  }
  const opts = { max_tokens: p.max_tokens, temperature: p.temperature, parse_retries: p.parse_retries, strip_think: p.strip_think };
  return {
    async rate(question, gold, pred, execution) {
      const parts = [
        { label: 'question', text: question },
        { label: 'gold_sql', text: gold },
        { label: 'predicted_sql', text: pred },
        { label: 'execution', text: execution },
      ];
      const tag = fenceTag(parts.map((x) => x.text));
      const messages: ChatMessage[] = [
        { role: 'system', content: `${SYSTEM}\n\n${fenceNotice(tag)}\n\n${FORMAT.instruction}` },
        { role: 'user', content: parts.map((x) => fenceBlock(tag, x)).join('\n\n') },
      ];
      const a = await askJudge(backend, messages, FORMAT, opts);
      return { rating: a.value.score, attempts: a.attempts };
    },
  };
}
