import * as z from 'zod';
import type { Sample } from '../../../rollout/types.js';
import type { GradeOutput, GroupGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import type { ModeEnv } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { seededRandom, shuffled } from '../seeded.js';
import { compileTemplate, requireSlots } from '../template.js';
import { byGroup } from '../../by_group.js';

type Winner = { winner: 'A' | 'B' | 'tie' };

/**
 * The pairwise answer: `{"winner": "A" | "B"}`, or also `"tie"` when ties are allowed.
 *
 * @example
 * parseAnswer('{"winner": "tie"}', pairwiseFormat(false)) // throws JudgeParseError
 */
export function pairwiseFormat(allowTie: boolean): AnswerFormat<Winner> {
  const options = allowTie ? (['A', 'B', 'tie'] as const) : (['A', 'B'] as const);
  return answerFormat(
    'pairwise_winner',
    z.strictObject({ winner: z.enum(options) }) as z.ZodType<Winner>,
    `Reply with only a JSON object {"winner": ${options.map((o) => `"${o}"`).join(' or ')}}${allowTie ? ' ("tie" when neither is better)' : ''}, and no other text.`,
  );
}

/**
 * Which unordered pairs of an n-member group to compare, at most `maxPairs`, each member about
 * equally often. Members are shuffled with `random`, then pairs are taken by distance on that circle
 * (distance 1 first, each round starting with a perfect matching), so a truncated schedule still
 * spreads comparisons over every member. All n(n − 1)/2 pairs when they fit.
 *
 * @example
 * pairSchedule(3, 10, seededRandom('s')).length // → 3
 * pairSchedule(8, 4, seededRandom('s')) // → 4 disjoint pairs covering all 8 members
 */
export function pairSchedule(n: number, maxPairs: number, random: () => number): [number, number][] {
  const ring = shuffled(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
  const pairs: [number, number][] = [];
  for (let d = 1; d <= Math.floor(n / 2) && pairs.length < maxPairs; d++) {
    const starts = Array.from({ length: d * 2 === n ? n / 2 : n }, (_, i) => i);
    const ordered = [...starts.filter((i) => Math.floor(i / d) % 2 === 0), ...starts.filter((i) => Math.floor(i / d) % 2 === 1)];
    for (const i of ordered) {
      if (pairs.length >= maxPairs) break;
      pairs.push([ring[i]!, ring[(i + d) % n]!]);
    }
  }
  return pairs;
}

const SYSTEM =
  'You compare two responses to the same prompt and decide which one is better by the criterion given. Judge only their content: ' +
  'the order in which they are shown and their length are not merits.';

const TEMPLATE = 'Criterion:\n{{principle}}\n\nPrompt:\n{{prompt}}\n\nResponse A:\n{{completion_a}}\n\nResponse B:\n{{completion_b}}';

const DEFAULT_CRITERION = 'Which response answers the prompt more helpfully, correctly and clearly?';

/**
 * `pairwise` mode: a GROUP judge scoring each completion by its win rate against its siblings. Pairs
 * come from {@link pairSchedule} (at most `max_pairs`, drawn with `seed` per group); each pair is
 * judged in both orders (`both_orders`, default) to cancel position bias, or in one order picked by
 * the seeded draw. A win is worth 1, a tie ½, a loss 0; score = points / judgements. A group of one,
 * or a member left out of the schedule, → null with the reason.
 *
 * @example
 * // group [worst, best, middle], a judge that prefers best > middle > worst → scores [0, 1, 0.5]
 */
export function buildPairwise(env: ModeEnv): GroupGrader {
  const { params } = env;
  const seed = params.seed ?? 42;
  const bothOrders = params.both_orders ?? true;
  const maxPairs = params.max_pairs ?? 64;
  const template = compileTemplate(params.template ?? TEMPLATE, ['prompt', 'reference', 'meta', 'principle', 'completion_a', 'completion_b'], 'template');
  requireSlots(template, ['completion_a', 'completion_b'], 'template');
  const format = pairwiseFormat(params.allow_tie ?? true);
  const criterion = params.principle ?? DEFAULT_CRITERION;
  const system = params.system ?? SYSTEM;

  async function judgeGroup(members: readonly Sample[], group: string): Promise<GradeOutput[]> {
    const n = members.length;
    if (n < 2) return members.map(() => ({ score: null, details: { reason: 'group of one: nothing to compare' } }));
    const random = seededRandom(`pairwise\0${seed}\0${group}`);
    const judgements: [number, number][] = [];
    for (const [i, j] of pairSchedule(n, maxPairs, random)) {
      if (bothOrders) judgements.push([i, j], [j, i]);
      else judgements.push(random() < 0.5 ? [i, j] : [j, i]);
    }
    const prepared = judgements.map(([a, b]) =>
      judgeMessages({
        system,
        instruction: format.instruction,
        template,
        slot: sampleSlots(members[0]!, {
          principle: criterion,
          completion_a: { data: [{ label: 'response A', text: members[a]!.completion }] },
          completion_b: { data: [{ label: 'response B', text: members[b]!.completion }] },
        }),
      }),
    );
    const missing = prepared.find((m) => 'missing' in m);
    if (missing && 'missing' in missing) return members.map(() => ({ score: null, details: { reason: missingReason(missing.missing) } }));
    const answers = await Promise.all(prepared.map((m) => askJudge(env.backend, m as Exclude<typeof m, { missing: string }>, format, env.call)));
    const wins = new Float64Array(n);
    const ties = new Float64Array(n);
    const count = new Float64Array(n);
    let attempts = 0;
    answers.forEach((ans, k) => {
      const [a, b] = judgements[k]!;
      count[a]++;
      count[b]++;
      attempts += ans.attempts;
      if (ans.value.winner === 'A') wins[a]++;
      else if (ans.value.winner === 'B') wins[b]++;
      else {
        ties[a]++;
        ties[b]++;
      }
    });
    return members.map((_, i) => {
      if (count[i] === 0) return { score: null, details: { reason: `not compared: max_pairs (${maxPairs}) covers fewer members than the group's ${n}` } };
      const details = { wins: wins[i], ties: ties[i], losses: count[i]! - wins[i]! - ties[i]!, judgements: count[i], group_calls: attempts };
      return { score: (wins[i]! + ties[i]! / 2) / count[i]!, details };
    });
  }

  return { scope: 'group', gradeGroup: (samples) => byGroup(samples, judgeGroup) };
}
