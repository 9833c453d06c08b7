import { z } from 'zod';
import { denseTurnCredit } from './dense_turn.js';
import { gaeCredit } from './gae.js';
import { gatedCredit } from './gated.js';
import { outcomeCredit } from './outcome.js';
import { potentialCredit } from './potential.js';
import { prorlCredit } from './prorl.js';
import type { Credit, CreditKind } from './types.js';

/** Every credit method, by its `credit: {method: …}` name in the spec. */
export const credits = {
  outcome: outcomeCredit,
  dense_turn: denseTurnCredit,
  gated: gatedCredit,
  potential: potentialCredit,
  gae: gaeCredit,
  prorl: prorlCredit,
} as const;

export type CreditMethod = keyof typeof credits;

function option<const N extends string, S extends z.ZodRawShape>(k: CreditKind<N, S>) {
  return z.strictObject({ method: z.literal(k.method).describe(k.summary), ...k.params });
}

/** The spec's `credit:` section, discriminated on `method`. */
export const creditSchema = z
  .discriminatedUnion('method', [
    option(outcomeCredit),
    option(denseTurnCredit),
    option(gatedCredit),
    option(potentialCredit),
    option(gaeCredit),
    option(prorlCredit),
  ])
  .describe('How the reward of a multi-turn rollout is assigned to its steps.');

export type CreditSpec = z.infer<typeof creditSchema>;
export type CreditSpecInput = z.input<typeof creditSchema>;

/** Builds the credit method of a (parsed or raw) `credit:` section; throws ZodError on bad params. */
export function buildCredit(spec: CreditSpecInput | CreditSpec): Credit {
  const { method, ...params } = creditSchema.parse(spec);
  const kind = credits[method] as CreditKind<string, z.ZodRawShape>;
  return kind.create(params as never);
}
