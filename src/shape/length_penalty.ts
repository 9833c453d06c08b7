import * as z from 'zod';
import { InvalidValueError } from './columns.js';
import { defineShaper } from './types.js';

/** Number of whitespace-separated words in `s`, without allocating. */
export function wordCount(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

/**
 * `length_penalty` — PAR's length penalty: `r ← r − coef·(L − threshold)` when the completion is
 * longer than `threshold` (L in `unit`s), else unchanged. PAR applies it by default (except with
 * ODIN) with 300 tokens and 0.01 per token.
 *
 * `unit`: `tokens` reads `ShapeBatch.tokenLengths` (an error names the first rollout without one),
 * `chars` reads `ShapeBatch.lengths`, `words` counts whitespace-separated words of the completion.
 *
 * Paper: "Reward Shaping to Mitigate Reward Hacking in RLHF" (Fu et al., 2025).
 * Formula [SRC]: PorUna-byte/PAR `trainers/reward_shaper.py` (`reward_penalize_length`,
 * `gen_valid_len` = 300, `len_penalty` = 0.01; length = the response mask's token count).
 *
 * @example
 * # defaults, a 350-token completion with reward 1.2 → 1.2 − 0.01·50 = 0.7
 */
export const lengthPenaltyShaper = defineShaper({
  type: 'length_penalty',
  summary: 'Subtracts coef·(L − threshold) from completions longer than threshold.',
  params: {
    threshold: z.number().nonnegative().default(300).describe('Length above which the penalty starts (PAR gen_valid_len = 300).'),
    coef: z.number().nonnegative().default(0.01).describe('Penalty per unit of length above the threshold (PAR len_penalty = 0.01).'),
    unit: z.enum(['tokens', 'chars', 'words']).default('tokens').describe('Length unit: tokens (needs token counts), chars or words.'),
  },
  create(p) {
    return {
      apply(b) {
        const r = b.rewards;
        for (let i = 0; i < r.length; i++) {
          if (r[i] !== r[i]) continue;
          let len: number;
          if (p.unit === 'tokens') {
            len = b.tokenLengths === undefined ? NaN : b.tokenLengths[i];
            if (len !== len) {
              throw new InvalidValueError(i, 'token length', 'unknown', 'length_penalty with unit tokens needs token counts (or use unit chars|words)');
            }
          } else if (p.unit === 'chars') {
            len = b.lengths[i];
            if (len !== len) throw new InvalidValueError(i, 'length', 'unknown', 'length_penalty needs the completion length');
          } else {
            const s = b.samples[i];
            if (s === undefined) throw new InvalidValueError(i, 'sample', undefined, 'length_penalty with unit words needs the rollout');
            len = wordCount(s.completion);
          }
          if (len > p.threshold) r[i] -= p.coef * (len - p.threshold);
        }
      },
    };
  },
});
