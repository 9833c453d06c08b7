import * as z from 'zod';
import type { Sample } from '../rollout/types.js';
import { defineGrader, type GradeOutput } from './types.js';
import { normalizeSchema, normalizeText } from './normalize.js';
import { countNgrams, units } from './tokens.js';

/**
 * Distinct-n of one unit sequence (Li et al. 2016, "A Diversity-Promoting Objective Function for
 * Neural Conversation Models"): distinct n-grams / total n-grams, in (0, 1], 1 when no n-gram repeats;
 * `null` when the sequence has no n-gram.
 *
 * @example
 * distinctN(['a', 'b', 'a', 'b'], 2) // → 2/3 (ab, ba, ab: 2 distinct of 3)
 */
export function distinctN(tokens: readonly string[], n: number): number | null {
  const total = tokens.length - n + 1;
  if (total <= 0) return null;
  return countNgrams(tokens, n).size / total;
}

/**
 * For each sequence of a group, the fraction of its distinct n-grams that no other sequence of the
 * group contains, in [0, 1]; `null` for a sequence without n-grams. A group of one scores 1.
 *
 * @example
 * groupUniqueness([['a', 'b', 'c'], ['a', 'b', 'd']], 2) // → [0.5, 0.5] (bc, bd are unique; ab is shared)
 */
export function groupUniqueness(group: readonly (readonly string[])[], n: number): (number | null)[] {
  const sets = group.map((tokens) => new Set(countNgrams(tokens, n).keys()));
  const docFreq = new Map<string, number>();
  for (const set of sets) for (const g of set) docFreq.set(g, (docFreq.get(g) ?? 0) + 1);
  return sets.map((set) => {
    if (set.size === 0) return null;
    let unique = 0;
    for (const g of set) if (docFreq.get(g) === 1) unique++;
    return unique / set.size;
  });
}

/**
 * `distinct_n` — lexical diversity, a GROUP grader (it sees all completions of a GRPO group). It is
 * rewardkit's reading of MultiRole-R1's lexical (token-level) diversity reward (Y. Wang et al. 2025,
 * "Diversity-Enhanced Reasoning for Subjective Questions", arXiv 2507.20187: GRPO with "diversity as
 * a reward signal in addition to verifiable reward", promoting perspective and lexical diversity).
 * The paper's exact formula could not be checked (its code was not reachable), so the two forms here
 * are the project's reading, not a reproduction:
 * - `mode: group` (default): the fraction of the completion's distinct n-grams that appear in no
 *   other completion of its group — a completion is rewarded for wording its siblings did not use.
 *   Identical completions score 0; a group of one scores 1.
 * - `mode: self`: distinct-n (Li et al. 2016) of the completion alone = unique n-grams / total
 *   n-grams, in (0, 1], 1 when no n-gram repeats; it penalises repetition loops.
 * Units are word tokens (default; see tokens.ts `wordTokens`) or characters. Null rule: a completion
 * with no n-gram (empty, or fewer than n units) has no diversity to reward → 0 (the range's minimum),
 * with `details.reason`; never null. Linear in the group's total length.
 *
 * @example
 * # spec
 * - {name: diversity, grader: distinct_n, n: 2, weight: 0.1}
 * # group ["the cat sat", "the cat ran", "a dog barked"] → [0.5, 0.5, 1]
 */
export const distinctNGrader = defineGrader({
  kind: 'distinct_n',
  summary: 'Lexical diversity of each completion within its group (or distinct-n of the completion alone), in [0, 1].',
  params: {
    mode: z
      .enum(['group', 'self'])
      .default('group')
      .describe('`group` (default): share of the completion\'s distinct n-grams found in no other completion of its group; `self`: distinct n-grams / total n-grams of the completion.'),
    n: z.number().int().min(1).max(50).default(2).describe('n-gram order (default 2).'),
    unit: z
      .enum(['tokens', 'chars'])
      .default('tokens')
      .describe('`tokens` (words, CJK characters and punctuation marks; default) or `chars` (Unicode code points, whitespace included).'),
    normalize: normalizeSchema.prefault({}),
  },
  create(params) {
    const { n, mode } = params;
    const toUnits = (s: Sample): string[] => units(normalizeText(s.completion, params.normalize), params.unit);
    return {
      scope: 'group',
      gradeGroup(samples) {
        const tooShort = { score: 0, details: { reason: `the completion has no ${n}-gram` } };
        if (mode === 'self') return samples.map((s) => distinctN(toUnits(s), n) ?? tooShort);
        // The pipeline passes one group; split anyway so a caller passing several groups gets per-group scores.
        const out: GradeOutput[] = new Array<GradeOutput>(samples.length);
        const byGroup = new Map<string, number[]>();
        samples.forEach((s, i) => {
          const idx = byGroup.get(s.group);
          if (idx) idx.push(i);
          else byGroup.set(s.group, [i]);
        });
        for (const idx of byGroup.values()) {
          const scores = groupUniqueness(idx.map((i) => toUnits(samples[i]!)), n);
          idx.forEach((i, k) => (out[i] = scores[k] ?? tooShort));
        }
        return out;
      },
    };
  },
});
