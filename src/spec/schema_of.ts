import * as z from 'zod';
import type { GraderKind } from '../graders/types.js';
import { combineSchema } from '../combine/registry.js';
import { advantageSchema } from '../advantage/registry.js';
import { diagnoseOptionsSchema } from '../diagnose/index.js';
import { answerRegionSchema } from '../graders/answer.js';

/**
 * The reward spec schema, assembled from the registries: each grader kind contributes one member of the
 * `components[]` union (its params merged into the component object), each combiner, shaper and
 * estimator one member of its union. Unknown keys anywhere are errors.
 *
 * Built for a given list of grader kinds: schema.ts builds it for every kind (the spec JSON Schema, the
 * synchronous loader), the CLI's loader (load_async.ts) for the kinds a spec names — the same member
 * schemas, so a spec parses to the same value and fails with the same issues either way.
 */

/** Component names are identifiers so that formulas and output keys can use them as they are. */
export const componentNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier (letters, digits, underscores; not starting with a digit)')
  .describe('Name of the component: the key in the output `components` and in formulas.');

/** Keys every component has, whatever its grader. */
export const componentBase = {
  name: componentNameSchema,
  weight: z.number().refine(Number.isFinite, 'must be a finite number').default(1).describe('Weight of the component in the combiner (default 1).'),
  description: z.string().optional().describe('Free text for people reading the spec.'),
  scope: z
    .enum(['rollout', 'step'])
    .default('rollout')
    .describe(
      '`rollout` (default): graded once per rollout and combined into the reward. `step`: graded on every step of a multi-turn rollout (the step is the completion, the conversation before it the prompt); its weighted sum is the step reward the `credit` method uses where a step has no given `reward`, and each step-scoped component is also a named signal for credit methods.',
    ),
};

function componentMember(kind: GraderKind) {
  return z
    .strictObject({ ...componentBase, grader: z.literal(kind.kind).describe(kind.summary), ...kind.params })
    .describe(`\`${kind.kind}\`: ${kind.summary}`);
}

/** One entry of `components`: `{name, grader, weight?, …the grader's params}`, for these kinds. */
export function componentSchemaOf(kinds: readonly GraderKind[]) {
  const members = kinds.map(componentMember);
  return members.length === 1 ? members[0]! : z.discriminatedUnion('grader', members as unknown as [ReturnType<typeof componentMember>, ReturnType<typeof componentMember>]);
}

/**
 * The schemas of the sections a spec may leave out whose modules are heavy to import (model backends,
 * shapers, credit methods): schema.ts passes the real ones; the CLI's loader passes the real one for a
 * section the spec has and {@link ABSENT} for one it has not.
 */
export interface SpecSections<B extends z.ZodType, C extends z.ZodType, S extends z.ZodType = z.ZodType> {
  backends: B;
  credit: C;
  /** `shape:` (shape/registry.ts `shapeSchema`). */
  shape: S;
}

/** Stands for a section the spec does not have (any value would be an error; none is given). */
export const ABSENT = z.never();

/** The whole spec, its components restricted to these grader kinds. */
export function specSchemaOf<B extends z.ZodType, C extends z.ZodType, S extends z.ZodType>(kinds: readonly GraderKind[], sections: SpecSections<B, C, S>) {
  return z
    .strictObject({
      name: z.string().min(1).default('reward').describe('Name of the reward (shown in reports and used for routing in the server).'),
      description: z.string().optional().describe('Free text for people reading the spec.'),
      backends: sections.backends
        .optional()
        .describe('Named model backends (an OpenAI-compatible server, an embedded GGUF file) that model graders use with `backend: <name>`.'),
      answer: answerRegionSchema
        .optional()
        .describe(
          'Default answer region for every component whose grader reads one (exact, contains, numeric, math, json, sql, code) and that sets no `answer:` of its own; `regex` and `tool_call` read the whole text unless their component says otherwise. Default `auto`.',
        ),
      components: z.array(componentSchemaOf(kinds)).min(1, 'needs at least one component').describe('The graders, each producing one named component per rollout.'),
      combine: combineSchema.optional().describe('How the components become one reward (default: weighted_sum).'),
      shape: sections.shape.optional().describe('Shapers applied to the reward in order, before the estimator.'),
      advantage: advantageSchema.optional().describe('Estimator turning rewards into advantages; omitted = no `advantage` in the output.'),
      credit: sections.credit
        .optional()
        .describe('Step-level credit assignment for rollouts with `steps`: every output step gets `reward` and `advantage`.'),
      diagnostics: diagnoseOptionsSchema.optional().describe('Thresholds of the batch diagnostics (pass/fail levels for all_pass/all_fail flags, tie and zero tolerances).'),
    })
    .describe('A rewardkit reward spec.');
}

