import * as z from 'zod';
import { RE2JS, RE2JSException } from 're2js';
import { ParamError, defineGrader } from './types.js';
import { referenceTexts } from './normalize.js';
import { cosine } from './linalg.js';
import { batchSizeSchema, batchedEmbedder, resolveBackend } from './model_calls.js';

/**
 * The text of the last match of `re` in `text`: capture group 1 when the pattern has groups, else
 * the whole match; `null` when it does not match.
 *
 * @example
 * lastMatch(RE2JS.compile('<answer>([\\s\\S]*?)</answer>'), 'x <answer>4</answer>') // → '4'
 */
export function lastMatch(re: RE2JS, text: string): string | null {
  const m = re.matcher(text);
  let found: string | null = null;
  while (m.find()) found = re.groupCount() > 0 ? (m.group(1) ?? '') : (m.group(0) ?? '');
  return found;
}

/**
 * `embedding_similarity` — semantic similarity of the completion to the reference: the cosine of
 * their embeddings from an encoder backend (`embed` op), the form of reward used for free-text
 * targets where exact or n-gram overlap is too strict (e.g. "Shaping Explanations", which rewards an
 * explanation by its encoder similarity to a reference explanation). A reference list scores the
 * best (maximum) cosine over the references.
 *
 * The whole completion is embedded by default; with `answer_pattern` (an RE2 regex) only its last
 * match is (capture group 1 when the pattern has one). Both texts are trimmed. `output: cosine` gives
 * the cosine in [−1, 1]; `output: unit` maps it to [0, 1] as (cos + 1)/2.
 *
 * Null rule: `null` with a reason in details only for no (text) reference or an empty reference; a
 * completion (or extracted answer) that is empty, or an `answer_pattern` that does not match, is no
 * answer → the range's minimum (−1 for `cosine`, 0 for `unit`) with the reason. A backend failure, vectors
 * of different dimensions or a zero vector reject the rollout's grade (an error, never a number).
 * Embedding calls are batched: rollouts graded in the same tick share one `embed` call of up to
 * `batch_size` distinct texts (a reference shared by a group is embedded once per call).
 *
 * @example
 * # spec
 * - {name: meaning, grader: embedding_similarity, backend: encoder, output: unit}
 * # completion embeds to [1, 0], reference to [1, 1] → cos 0.7071 → unit 0.8536
 */
export const embeddingSimilarityGrader = defineGrader({
  kind: 'embedding_similarity',
  summary: "Cosine similarity of the completion's embedding to the reference's (best over several), in [-1, 1] or [0, 1].",
  params: {
    backend: z.string().min(1).describe('Name of an embedding backend in the spec\'s `backends` (needs the `embed` operation).'),
    answer_pattern: z
      .string()
      .optional()
      .describe('RE2 regex selecting the text to embed: its last match, capture group 1 if it has groups (default: the whole completion).'),
    output: z
      .enum(['cosine', 'unit'])
      .default('cosine')
      .describe('`cosine` (default): the cosine in [-1, 1]; `unit`: (cos + 1)/2 in [0, 1].'),
    batch_size: batchSizeSchema,
  },
  create(params, ctx) {
    const backend = resolveBackend(ctx, params.backend, ['embed']);
    let pattern: RE2JS | null = null;
    if (params.answer_pattern !== undefined) {
      try {
        pattern = RE2JS.compile(params.answer_pattern);
      } catch (e) {
        if (e instanceof RE2JSException) throw new ParamError('answer_pattern', `invalid RE2 regular expression (no lookaround, no backreferences): ${e.message}`);
        throw e;
      }
    }
    const embed = batchedEmbedder(backend, params.batch_size);
    const unit = params.output === 'unit';
    return {
      scope: 'rollout',
      async grade(s) {
        const all = referenceTexts(s.reference);
        if (all === null) return { score: null, details: { reason: 'no text reference to compare with' } };
        const refs = all.map((r) => r.trim()).filter((r) => r.length > 0);
        if (refs.length === 0) return { score: null, details: { reason: 'the reference is empty' } };
        // Null rule: no answer is the range's minimum (cosine −1, unit 0), never null.
        const lowest = unit ? 0 : -1;
        let text: string | null = s.completion;
        if (pattern) {
          text = lastMatch(pattern, s.completion);
          if (text === null) return { score: lowest, details: { reason: 'answer_pattern does not match the completion' } };
        }
        text = text.trim();
        if (text.length === 0) return { score: lowest, details: { reason: pattern ? 'the extracted answer is empty' : 'the completion is empty' } };
        const [mine, ...theirs] = await Promise.all([embed(text), ...refs.map((r) => embed(r))]);
        let best = -Infinity;
        let bestIndex = 0;
        theirs.forEach((v, i) => {
          const c = cosine(mine!, v);
          if (c > best) {
            best = c;
            bestIndex = i;
          }
        });
        return { score: unit ? (best + 1) / 2 : best, details: { cosine: best, reference_index: bestIndex } };
      },
    };
  },
});
