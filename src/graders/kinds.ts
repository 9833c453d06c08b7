import type { GraderKind } from './types.js';

/**
 * The grader kinds by name, each loaded from its own module only when a spec names it: `rewardkit
 * score` with a numeric + format spec loads those two graders, not the SQL parser, the code sandbox or
 * the judge backends (start-up time, issue 12). The same kinds, in the same order, as
 * {@link graderKinds} in registry.ts, which imports them all (for `rewardkit graders`, the JSON Schema,
 * the docs and the synchronous library API); kinds.test.ts checks that the two lists agree.
 * Adding a kind: add it to registry.ts and here.
 */
const LOADERS: Record<string, () => Promise<GraderKind>> = {
  exact: async () => (await import('./exact.js')).exactGrader as unknown as GraderKind,
  contains: async () => (await import('./contains.js')).containsGrader as unknown as GraderKind,
  regex: async () => (await import('./regex.js')).regexGrader as unknown as GraderKind,
  format: async () => (await import('./format.js')).formatGrader as unknown as GraderKind,
  json: async () => (await import('./json.js')).jsonGrader as unknown as GraderKind,
  numeric: async () => (await import('./numeric.js')).numericGrader as unknown as GraderKind,
  length: async () => (await import('./length.js')).lengthGrader as unknown as GraderKind,
  math: async () => (await import('./math/index.js')).mathGrader as unknown as GraderKind,
  tool_call: async () => (await import('./tool_call/index.js')).toolCallGrader as unknown as GraderKind,
  sql: async () => (await import('./sql/index.js')).sqlGrader as unknown as GraderKind,
  code: async () => (await import('./code/index.js')).codeGrader as unknown as GraderKind,
  forecast: async () => (await import('./forecast.js')).forecastGrader as unknown as GraderKind,
  bleu: async () => (await import('./bleu.js')).bleuGrader as unknown as GraderKind,
  rouge_l: async () => (await import('./rouge_l.js')).rougeLGrader as unknown as GraderKind,
  rouge_n: async () => (await import('./rouge_n.js')).rougeNGrader as unknown as GraderKind,
  nltk_bleu: async () => (await import('./nltk_bleu.js')).nltkBleuGrader as unknown as GraderKind,
  gleu: async () => (await import('./gleu.js')).gleuGrader as unknown as GraderKind,
  meteor: async () => (await import('./meteor.js')).meteorGrader as unknown as GraderKind,
  chrf: async () => (await import('./chrf.js')).chrfGrader as unknown as GraderKind,
  edit_distance: async () => (await import('./edit_distance.js')).editDistanceGrader as unknown as GraderKind,
  ngram_jaccard: async () => (await import('./ngram_jaccard.js')).ngramJaccardGrader as unknown as GraderKind,
  distinct_n: async () => (await import('./distinct_n.js')).distinctNGrader as unknown as GraderKind,
  judge: async () => (await import('./judge/index.js')).judgeGrader as unknown as GraderKind,
  reward_model: async () => (await import('./reward_model.js')).rewardModelGrader as unknown as GraderKind,
  linear_rm: async () => (await import('./linear_rm.js')).linearRmGrader as unknown as GraderKind,
  tamper: async () => (await import('./tamper.js')).tamperGrader as unknown as GraderKind,
  embedding_similarity: async () => (await import('./embedding_similarity.js')).embeddingSimilarityGrader as unknown as GraderKind,
  vendi: async () => (await import('./vendi.js')).vendiGrader as unknown as GraderKind,
  frechet: async () => (await import('./frechet.js')).frechetGrader as unknown as GraderKind,
  likelihood: async () => (await import('./likelihood.js')).likelihoodGrader as unknown as GraderKind,
  dpo_implicit: async () => (await import('./dpo_implicit.js')).dpoImplicitGrader as unknown as GraderKind,
  python: async () => (await import('./python/index.js')).pythonGrader as unknown as GraderKind,
  module: async () => (await import('./module.js')).moduleGrader as unknown as GraderKind,
  http: async () => (await import('./http.js')).httpGrader as unknown as GraderKind,
  first_judged: fromRegistry('first_judged'),
  hindsight_bonus: fromRegistry('hindsight_bonus'),
  persona_faithfulness: async () => (await import('./persona_faithfulness.js')).personaFaithfulnessGrader as unknown as GraderKind,
  path_faithfulness: async () => (await import('./path_faithfulness.js')).pathFaithfulnessGrader as unknown as GraderKind,
  persona_rubric: async () => (await import('./persona_rubric.js')).personaRubricGrader as unknown as GraderKind,
  token_reward: async () => (await import('./token_reward.js')).tokenRewardGrader as unknown as GraderKind,
  pair_penalty: async () => (await import('./pair_penalty.js')).pairPenaltyGrader as unknown as GraderKind,
  perspective_diversity: async () => (await import('./perspective_diversity.js')).perspectiveDiversityGrader as unknown as GraderKind,
};

/** Kinds that look up other kinds when built (their inner graders): taken from the full registry. */
function fromRegistry(kind: string): () => Promise<GraderKind> {
  return async () => (await import('./registry.js')).graderKind(kind)!;
}

/** Every grader kind name, in registry order (what `unknown grader` errors list). */
export const graderKindNames: readonly string[] = Object.keys(LOADERS);

/** Whether `kind` names a grader kind (without loading it). */
export function isGraderKindName(kind: string): boolean {
  return Object.hasOwn(LOADERS, kind);
}

/**
 * Loads the named grader kinds (each module once; unknown names are skipped) and returns them by name.
 *
 * @example
 * const kinds = await loadGraderKinds(['numeric', 'format']);
 * kinds.get('numeric')!.summary // → the one line `rewardkit graders` prints
 */
export async function loadGraderKinds(kinds: Iterable<string>): Promise<Map<string, GraderKind>> {
  const names = [...new Set(kinds)].filter(isGraderKindName);
  const loaded = await Promise.all(names.map((k) => LOADERS[k]!()));
  return new Map(names.map((k, i) => [k, loaded[i]!]));
}
