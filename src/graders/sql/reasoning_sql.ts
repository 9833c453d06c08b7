/**
 * Pieces of the Reasoning-SQL reward ("Reasoning-SQL: Reinforcement Learning with SQL Tailored Partial
 * Rewards for Reasoning-Enhanced Text-to-SQL", Pourreza et al. 2025, arXiv 2503.23157), read from the
 * first author's training code (MohammadrezaPourreza/RLForSQL `grpo_training_llm_partial_reward.py`).
 */

/** Weights of the Reasoning-SQL terms. */
export interface ReasoningSqlWeights {
  execution: number;
  syntax: number;
  schema_linking: number;
  ngram: number;
  format: number;
}

/**
 * The code's magnitudes as weights on 0–1 terms: execution accuracy 3 (its EX term returns 3.0),
 * syntax 1, schema linking 1, n-gram 1, format 1 (the XML-count term itself tops out at 0.5).
 * GRPOTrainer sums the terms with no reward_weights, so the maximum is 3 + 1 + 1 + 1 + 0.5 = 6.5.
 */
export const REASONING_SQL_WEIGHTS: ReasoningSqlWeights = { execution: 3, syntax: 1, schema_linking: 1, ngram: 1, format: 1 };

const count = (s: string, sub: string) => s.split(sub).length - 1;
const chars = (s: string) => [...s].length;

/**
 * The code's `xmlcount_reward_func` (from the GRPO recipe it builds on): +0.125 for exactly one each
 * of `<reasoning>\n`, `\n</reasoning>\n`, `\n<answer>\n`, `\n</answer>`, minus 0.001 per character
 * after the answer. Kept as written, quirks included: the `\n<answer>\n` term subtracts the length of
 * what follows the last `\n</answer>\n` — the whole text when there is none — so the full 0.5 needs
 * the completion to end with `\n</answer>\n`.
 *
 * @example
 * xmlCount('<reasoning>\nr\n</reasoning>\n<answer>\nSELECT 1\n</answer>\n') // → 0.5
 */
export function xmlCount(text: string): number {
  let c = 0;
  if (count(text, '<reasoning>\n') === 1) c += 0.125;
  if (count(text, '\n</reasoning>\n') === 1) c += 0.125;
  if (count(text, '\n<answer>\n') === 1) {
    c += 0.125;
    c -= chars(text.split('\n</answer>\n').at(-1)!) * 0.001;
  }
  if (count(text, '\n</answer>') === 1) {
    c += 0.125;
    c -= (chars(text.split('\n</answer>').at(-1)!) - 1) * 0.001;
  }
  return c;
}
