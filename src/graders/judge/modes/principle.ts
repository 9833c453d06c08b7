import * as z from 'zod';
import type { Sample } from '../../../rollout/types.js';
import { ParamError, type GradeOutput, type GroupGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { ModeEnv } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { seededRandom, shuffled } from '../seeded.js';
import { compileTemplate, requireSlots } from '../template.js';
import { byGroup } from '../../by_group.js';
import { scaleScore } from './scale.js';

type Listwise = { scores: Record<string, number>; 'best-to-worst': string[] };

/**
 * The masked names of a k-response group, as RewardAnything writes them.
 *
 * @example
 * maskedNames(3) // → ['model-1', 'model-2', 'model-3']
 */
export function maskedNames(k: number): string[] {
  return Array.from({ length: k }, (_, j) => `model-${j + 1}`);
}

/**
 * The listwise answer (RewardAnything's output JSON): `{"scores": {name: s}, "best-to-worst": [names]}`
 * with every name scored once as an integer in 1..max, the ranking a permutation of the names, and
 * no name ranked above one with a higher score.
 *
 * @example
 * parseAnswer('{"scores": {"model-1": 2, "model-2": 5}, "best-to-worst": ["model-1", "model-2"]}', listwiseFormat(maskedNames(2), 5))
 * // throws JudgeParseError (the ranking contradicts the scores)
 */
export function listwiseFormat(names: readonly string[], max: number): AnswerFormat<Listwise> {
  const score = z.number().int().min(1).max(max);
  const nameEnum = z.enum(names as [string, ...string[]]);
  return answerFormat(
    'listwise_scores',
    z.strictObject({
      scores: z.strictObject(Object.fromEntries(names.map((n) => [n, score]))),
      'best-to-worst': z.array(nameEnum).length(names.length),
    }) as unknown as z.ZodType<Listwise>,
    `Reply with only a JSON object {"scores": {"model-1": s, …}, "best-to-worst": ["model-…", …]}: an integer score from 1 to ${max} for each ` +
      `of the ${names.length} responses (${names.join(', ')}), and every one of them listed once from best to worst (equal scores still in an order); no other text.`,
    (v) => {
      const ranking = v['best-to-worst'];
      if (new Set(ranking).size !== names.length) return 'best-to-worst: must list every response exactly once';
      for (let j = 1; j < ranking.length; j++)
        if (v.scores[ranking[j]!]! > v.scores[ranking[j - 1]!]!)
          return `best-to-worst: ${ranking[j]} (score ${v.scores[ranking[j]!]}) is ranked below ${ranking[j - 1]} (score ${v.scores[ranking[j - 1]!]})`;
      return null;
    },
  );
}

const ADHERENCE_5 = [
  '5 - Follows the principle fully, and the response is excellent.',
  '4 - Follows the principle well, with minor shortcomings.',
  '3 - Follows the principle in its basics.',
  '2 - Follows the principle only in part, missing key aspects.',
  '1 - Does not follow the principle, or goes against it.',
].join('\n');

const adherenceText = (max: number) =>
  max === 5 ? ADHERENCE_5 : `${max} = follows the principle fully; 1 = does not follow it or goes against it; the levels between are partial adherence.`;

const SYSTEM =
  'You judge several responses to the same prompt by how well each one follows a given principle. Adherence to the principle comes ' +
  'before your general preferences, but never reward harmful content. Weigh each response against the principle briefly, score every ' +
  'response on the scale below, using its whole range when the responses differ in quality, and order all responses from best to worst.';

const TEMPLATE = 'Principle:\n{{principle}}\n\nPrompt:\n{{prompt}}\n\nResponses:\n{{responses}}';

/**
 * `principle` mode (RewardAnything, zhuohaoyu/RewardAnything `processing.py`): a GROUP judge. Each
 * group is judged in one listwise call: its completions are shown under masked names `model-1 …
 * model-k`, assigned after a shuffle seeded by (`seed`, group key), so the order is reproducible per
 * group and the mapping never enters the prompt. The judge scores every name 1..N (`scale_max`,
 * default 5, RewardAnything's scale) and ranks them; scores map back to the rollouts and to [0, 1]
 * by (s − 1)/(N − 1). A group of one is judged alone.
 *
 * @example
 * // group [a, b], shuffle gives model-1 = b, model-2 = a; judge answers {"scores": {"model-1": 5, "model-2": 2}, …}
 * // → [{score: 0.25, details: {name: 'model-2', score_raw: 2, rank: 2, …}}, {score: 1, …}]
 */
export function buildPrinciple(env: ModeEnv): GroupGrader {
  const { params } = env;
  if (!params.principle) throw new ParamError('principle', 'is required in principle mode');
  const max = params.scale_max ?? 5;
  const seed = params.seed ?? 42;
  const template = compileTemplate(params.template ?? TEMPLATE, ['prompt', 'reference', 'meta', 'principle', 'responses'], 'template');
  requireSlots(template, ['responses', 'principle'], 'template');
  const system = `${params.system ?? SYSTEM}\n\nScale:\n${params.scale_description ?? adherenceText(max)}`;
  const formats = new Map<number, AnswerFormat<Listwise>>();
  const formatFor = (k: number) => formats.get(k) ?? formats.set(k, listwiseFormat(maskedNames(k), max)).get(k)!;

  async function judgeGroup(members: readonly Sample[], group: string): Promise<GradeOutput[]> {
    const k = members.length;
    const names = maskedNames(k);
    // order[j] = the member shown as names[j].
    const order = shuffled(
      members.map((_, i) => i),
      seededRandom(`principle\0${seed}\0${group}`),
    );
    const format = formatFor(k);
    const messages = judgeMessages({
      system,
      instruction: format.instruction,
      template,
      slot: sampleSlots(members[0]!, {
        principle: params.principle!,
        responses: { data: order.map((i, j) => ({ label: names[j]!, text: members[i]!.completion })) },
      }),
    });
    if ('missing' in messages) return members.map(() => ({ score: null, details: { reason: missingReason(messages.missing) } }));
    const a = await askJudge(env.backend, messages, format, env.call);
    const out = new Array<GradeOutput>(k);
    const rank = new Map(a.value['best-to-worst'].map((n, r) => [n, r + 1]));
    order.forEach((i, j) => {
      const raw = a.value.scores[names[j]!]!;
      out[i] = { score: scaleScore(raw, max), details: { name: names[j], score_raw: raw, rank: rank.get(names[j]!), group_size: k, attempts: a.attempts } };
    });
    return out;
  }

  return { scope: 'group', gradeGroup: (samples) => byGroup(samples, judgeGroup) };
}
