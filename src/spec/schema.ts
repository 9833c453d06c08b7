import * as z from 'zod';
import { graderKinds } from '../graders/registry.js';
import { componentSchemaOf, specSchemaOf } from './schema_of.js';
import { backendsSectionSchema } from '../backends/config.js';
import { creditSchema } from '../credit/registry.js';
import { shapeSchema } from '../shape/registry.js';

export { componentBase, componentNameSchema } from './schema_of.js';

/** One entry of `components`: `{name, grader, weight?, …the grader's params}`, any grader kind. */
export const componentSchema = componentSchemaOf(graderKinds);

/** The whole spec (every grader kind; see schema_of.ts for how it is assembled). */
export const specSchema = specSchemaOf(graderKinds, { backends: backendsSectionSchema, credit: creditSchema, shape: shapeSchema });

export type SpecInput = z.input<typeof specSchema>;
export type Spec = z.output<typeof specSchema>;

/** The JSON Schema (draft 2020-12) of spec files, for editors (`rewardkit spec schema`). */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
