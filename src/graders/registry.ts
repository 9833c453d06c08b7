import type { GraderKind } from './types.js';
import { exactGrader } from './exact.js';
import { containsGrader } from './contains.js';
import { regexGrader } from './regex.js';
import { formatGrader } from './format.js';
import { jsonGrader } from './json.js';
import { numericGrader } from './numeric.js';
import { lengthGrader } from './length.js';
import { mathGrader } from './math/index.js';
import { toolCallGrader } from './tool_call/index.js';
import { sqlGrader } from './sql/index.js';
import { codeGrader } from './code/index.js';
import { forecastGrader } from './forecast.js';
import { bleuGrader } from './bleu.js';
import { rougeLGrader } from './rouge_l.js';
import { rougeNGrader } from './rouge_n.js';
import { nltkBleuGrader } from './nltk_bleu.js';
import { gleuGrader } from './gleu.js';
import { meteorGrader } from './meteor.js';
import { chrfGrader } from './chrf.js';
import { editDistanceGrader } from './edit_distance.js';
import { ngramJaccardGrader } from './ngram_jaccard.js';
import { distinctNGrader } from './distinct_n.js';
import { judgeGrader } from './judge/index.js';
import { rewardModelGrader } from './reward_model.js';
import { linearRmGrader } from './linear_rm.js';
import { tamperGrader } from './tamper.js';
import { embeddingSimilarityGrader } from './embedding_similarity.js';
import { vendiGrader } from './vendi.js';
import { frechetGrader } from './frechet.js';
import { likelihoodGrader } from './likelihood.js';
import { dpoImplicitGrader } from './dpo_implicit.js';
import { pythonGrader } from './python/index.js';
import { moduleGrader } from './module.js';
import { httpGrader } from './http.js';
import { firstJudgedKind } from './first_judged.js';
import { hindsightBonusKind } from './hindsight_bonus.js';
import { personaFaithfulnessGrader } from './persona_faithfulness.js';
import { pathFaithfulnessGrader } from './path_faithfulness.js';
import { personaRubricGrader } from './persona_rubric.js';
import { tokenRewardGrader } from './token_reward.js';
import { pairPenaltyGrader } from './pair_penalty.js';
import { perspectiveDiversityGrader } from './perspective_diversity.js';

/** Built here so it can look up the other kinds (no import cycle). */
const firstJudgedGrader = firstJudgedKind((kind) => byKind.get(kind));
const hindsightBonusGrader = hindsightBonusKind((kind) => byKind.get(kind));

/**
 * Every grader kind a spec can name in `components[].grader`, in the order `rewardkit graders` lists them.
 * Adding a kind: write `src/graders/<kind>.ts` (or a folder) exporting a {@link GraderKind}, add it here.
 */
export const graderKinds: readonly GraderKind[] = [
  exactGrader,
  containsGrader,
  regexGrader,
  formatGrader,
  jsonGrader,
  numericGrader,
  lengthGrader,
  mathGrader,
  toolCallGrader,
  sqlGrader,
  codeGrader,
  forecastGrader,
  bleuGrader,
  rougeLGrader,
  rougeNGrader,
  nltkBleuGrader,
  gleuGrader,
  meteorGrader,
  chrfGrader,
  editDistanceGrader,
  ngramJaccardGrader,
  distinctNGrader,
  judgeGrader,
  rewardModelGrader,
  linearRmGrader,
  tamperGrader,
  embeddingSimilarityGrader,
  vendiGrader,
  frechetGrader,
  likelihoodGrader,
  dpoImplicitGrader,
  pythonGrader,
  moduleGrader,
  httpGrader,
  firstJudgedGrader,
  hindsightBonusGrader,
  personaFaithfulnessGrader,
  pathFaithfulnessGrader,
  personaRubricGrader,
  tokenRewardGrader,
  pairPenaltyGrader,
  perspectiveDiversityGrader,
] as unknown as GraderKind[];

const byKind = new Map(graderKinds.map((k) => [k.kind, k]));

/** The grader kind named `kind`, or undefined. */
export function graderKind(kind: string): GraderKind | undefined {
  return byKind.get(kind);
}
