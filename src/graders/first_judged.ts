import * as z from 'zod';
import { ParamError, defineGrader, type GradeOutput, type Grader, type GraderContext, type GraderKind, type RolloutGrader } from './types.js';

/** A rollout grader built from an entry, with its kind's name. */
export interface InnerGrader {
  kind: string;
  grader: RolloutGrader & { close?(): Promise<void> };
}

/**
 * Builds the rollout grader an entry `{grader: <kind>, …params}` names, for composite kinds
 * (`first_judged`, `hindsight_bonus`): params validated as a component's are, errors naming
 * `<where>.<param>`; group graders and the composite kind itself are rejected.
 */
export function buildInnerGrader(
  lookup: (kind: string) => GraderKind | undefined,
  entry: Record<string, unknown>,
  where: string,
  ctx: GraderContext,
  self: string,
): InnerGrader {
  const { grader: kindName, ...rest } = entry as { grader: string } & Record<string, unknown>;
  if (kindName === self) throw new ParamError(`${where}.grader`, `${self} cannot nest itself`);
  const kind = lookup(kindName);
  if (kind === undefined) throw new ParamError(`${where}.grader`, `unknown grader kind "${kindName}"`);
  const parsed = z.strictObject(kind.params).safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ParamError([where, ...issue.path.map(String)].join('.'), issue.message);
  }
  let g: Grader;
  try {
    g = kind.create(parsed.data as never, { ...ctx, name: `${ctx.name}.${where}` });
  } catch (e) {
    if (e instanceof ParamError) throw new ParamError(`${where}.${e.param}`, e.message);
    throw e;
  }
  if (g.scope !== 'rollout') throw new ParamError(`${where}.grader`, `grader "${kindName}" grades whole groups; ${self} takes rollout graders only`);
  return { kind: kindName, grader: g };
}

export const entrySchema = z
  .looseObject({
    grader: z.string().min(1).describe('Grader kind of this entry (any rollout-scoped kind); the other keys are its params.'),
  })
  .describe('One grader, as a component without name/weight: `{grader: <kind>, …params}`.');

/**
 * `first_judged` — a hybrid rule-or-model reward: an ordered list of graders, consulted in turn for
 * each rollout; the **first non-null score wins** and the later graders are never called for that
 * rollout. After HARMO's hybrid reward in "Beyond Monolithic Rewards: A Hybrid and Multi-Aspect
 * Reward Optimization for MLLM Alignment" (arXiv 2510.05283; mechanics-A §7, C §6): a rule-based
 * (verifiable) reward where the rule can judge, a model reward only where it abstains,
 * `R = r_rule if r_rule ≠ null else r_model`.
 * **[INF]**: the paper's text and code were not reachable (mechanics-C §6); its gating by the rule's
 * confidence is read here as the rule grader's own null ("cannot judge": no usable reference), and
 * no rescaling between the two graders is assumed — put both on one scale yourself (e.g.
 * `reward_model` with `sigmoid: true` beside a 0/1 rule).
 *
 * Guarantees: a later grader sees only the rollouts every earlier grader left null, so a model
 * backend is never called for a rollout the rule judged. A rule's null comes from the reference
 * (missing or unusable), never from the completion — a completion without an answer scores the
 * rule's 0 and cannot reach the model. A grader that fails (throws) fails the component for that
 * rollout: it does not fall through. All null → null, with each entry's reason.
 * Details: `{judged_by: index, grader: kind, …that grader's details}`.
 *
 * @example
 * # spec
 * - name: correct
 *   grader: first_judged
 *   graders:
 *     - {grader: math}                                            # verifiable rows (with a reference)
 *     - {grader: reward_model, backend: rm, sigmoid: true}        # open-ended rows (no reference)
 * # {"completion": "The answer is 4.", "reference": "4"} → 1 (math; the RM is not called)
 * # {"completion": "A short poem …"}                      → σ(RM logit) (math abstains: no reference)
 */
export function firstJudgedKind(lookup: (kind: string) => GraderKind | undefined) {
  return defineGrader({
    kind: 'first_judged',
    summary: 'Hybrid rule-or-model reward (HARMO): ordered graders, the first non-null score wins; later graders are never called for that rollout.',
    params: {
      graders: z
        .array(entrySchema)
        .min(2)
        .describe('Graders in order of precedence, e.g. a rule grader then a model grader: `[{grader: math}, {grader: reward_model, backend: rm}]`.'),
    },
    create(params, ctx) {
      const built = params.graders.map((entry, k) => buildInnerGrader(lookup, entry, `graders[${k}]`, ctx, 'first_judged'));
      const closers = built.filter((b) => b.grader.close !== undefined);
      const out: RolloutGrader & { close?(): Promise<void> } = {
        scope: 'rollout',
        async grade(s) {
          const reasons: unknown[] = [];
          for (let k = 0; k < built.length; k++) {
            const b = built[k]!;
            const r: GradeOutput = await b.grader.grade(s);
            const g = r === null || typeof r === 'number' ? { score: r } : r;
            if (g.score !== null) return { score: g.score, details: { judged_by: k, grader: b.kind, ...(g.details ?? {}) } };
            reasons.push(g.details?.reason ?? null);
          }
          return { score: null, details: { reason: 'no grader could judge', reasons } };
        },
      };
      if (closers.length > 0) out.close = async () => void (await Promise.all(closers.map((b) => b.grader.close!())));
      return out;
    },
  });
}
