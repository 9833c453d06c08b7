import * as z from 'zod';
import { ParamError, type RolloutGrader } from '../../types.js';
import { askJudge } from '../ask.js';
import { answerFormat, type AnswerFormat } from '../parse.js';
import { rubricItemSchema, type ModeEnv, type RubricItem } from '../params.js';
import { judgeMessages, missingReason, sampleSlots } from '../prompt.js';
import { compileTemplate, requireSlots } from '../template.js';

type Verdicts = { items: { id: number; met: boolean }[] };

/**
 * The answer for an n-item rubric: `{"items": [{"id": 1, "met": true}, …]}`, every id 1..n exactly once.
 *
 * @example
 * parseAnswer('{"items": [{"id": 1, "met": true}]}', rubricFormat(2)) // throws JudgeParseError (2 items expected)
 */
export function rubricFormat(n: number): AnswerFormat<Verdicts> {
  return answerFormat(
    'rubric_verdicts',
    z.strictObject({
      items: z.array(z.strictObject({ id: z.number().int().min(1).max(n), met: z.boolean() })).length(n),
    }),
    `Reply with only a JSON object {"items": [{"id": 1, "met": true}, …]} holding one entry for each of the ${n} rubric items ` +
      '(id = the item\'s number, met = true when the response meets it, false otherwise), and no other text.',
    (v) => {
      const seen = new Set(v.items.map((i) => i.id));
      const missing = Array.from({ length: n }, (_, k) => k + 1).filter((id) => !seen.has(id));
      return missing.length > 0 ? `items: no verdict for item ${missing.join(', ')}` : null;
    },
  );
}

/**
 * HeRL's rubric score (sikelifei/HeRL `rar_implicit.py`): Σ w·met / Σ w over the items with a positive
 * weight. Items with a negative weight are penalty items: with `ignore` (HeRL, which clamps negative
 * weights to 0) they count for nothing; with `subtract` each one met takes |w| off the numerator and
 * the score is clamped to [0, 1]. Throws when no item has a positive weight (HeRL would score 0).
 *
 * @example
 * rubricScore([{ criterion: 'a', weight: 2 }, { criterion: 'b', weight: 1 }, { criterion: 'c', weight: 1 }], [true, false, true], 'ignore') // → 0.75
 */
export function rubricScore(items: readonly RubricItem[], met: readonly boolean[], penalty: 'ignore' | 'subtract'): number {
  let total = 0;
  let gained = 0;
  items.forEach((it, k) => {
    if (it.weight > 0) {
      total += it.weight;
      if (met[k]) gained += it.weight;
    } else if (it.weight < 0 && penalty === 'subtract' && met[k]) gained += it.weight;
  });
  if (!(total > 0)) throw new Error('the rubric has no item with a positive weight');
  return Math.min(1, Math.max(0, gained / total));
}

const metaRubricSchema = z.array(z.union([z.string().trim().min(1).transform((criterion) => ({ criterion, weight: 1 })), rubricItemSchema])).min(1).max(200);

/** `meta.rubric` of a rollout: undefined when absent, items when valid; throws naming the problem otherwise. */
function rolloutRubric(meta: Readonly<Record<string, unknown>>): RubricItem[] | undefined {
  if (!Object.hasOwn(meta, 'rubric') || meta.rubric === null || meta.rubric === undefined) return undefined;
  const r = metaRubricSchema.safeParse(meta.rubric);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`meta.rubric${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message} (expected a list of {criterion, weight} or of strings)`);
  }
  return r.data;
}

const SYSTEM =
  'You are a careful grader. You check a response against a list of rubric items, each item on its own, and decide for every item ' +
  'whether the response meets it. An item is met only when the response clearly does what the item describes; judge what the response ' +
  'actually says, not what it claims about itself.';

const TEMPLATE = 'Check the response to the prompt below against each rubric item.\n\nPrompt:\n{{prompt}}\n\nResponse:\n{{completion}}\n\nRubric items:\n{{rubric}}';

const rubricText = (items: readonly RubricItem[]) => items.map((it, k) => `${k + 1}. ${it.criterion}`).join('\n');

/**
 * `rubric` mode (HeRL): one call per rollout; the judge marks each item met or unmet, and the score is
 * {@link rubricScore}. Items are shown numbered, without their weights. The rubric comes from the
 * params or, when they give none, from the rollout's `meta.rubric` (absent → null with a reason).
 *
 * @example
 * // rubric weights 2, 1, 1; judge answers met, unmet, met → {score: 0.75, details: {items: [...], attempts: 1}}
 */
export function buildRubric(env: ModeEnv): RolloutGrader {
  const { params } = env;
  if (params.rubric && !params.rubric.some((it) => it.weight > 0)) throw new ParamError('rubric', 'needs at least one item with a positive weight');
  const template = compileTemplate(params.template ?? TEMPLATE, ['prompt', 'completion', 'reference', 'meta', 'rubric'], 'template');
  requireSlots(template, ['completion', 'rubric'], 'template');
  const penalty = params.penalty ?? 'ignore';
  const formats = new Map<number, AnswerFormat<Verdicts>>();
  const formatFor = (n: number) => formats.get(n) ?? formats.set(n, rubricFormat(n)).get(n)!;
  return {
    scope: 'rollout',
    async grade(s) {
      const items = params.rubric ?? rolloutRubric(s.meta);
      if (!items) return { score: null, details: { reason: missingReason('meta.rubric (and the spec gives no rubric)') } };
      if (!items.some((it) => it.weight > 0)) throw new Error('meta.rubric: needs at least one item with a positive weight');
      const format = formatFor(items.length);
      const messages = judgeMessages({
        system: params.system ?? SYSTEM,
        instruction: format.instruction,
        template,
        slot: sampleSlots(s, { rubric: rubricText(items) }),
      });
      if ('missing' in messages) return { score: null, details: { reason: missingReason(messages.missing) } };
      const a = await askJudge(env.backend, messages, format, env.call);
      const met = new Array<boolean>(items.length);
      for (const v of a.value.items) met[v.id - 1] = v.met;
      return {
        score: rubricScore(items, met, penalty),
        details: { items: items.map((it, k) => ({ criterion: it.criterion, weight: it.weight, met: met[k] })), attempts: a.attempts },
      };
    },
  };
}
