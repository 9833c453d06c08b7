import * as z from 'zod';
import { clarifyCredit } from './clarify.js';
import { comamCredit } from './comam.js';
import { denseTurnCredit } from './dense_turn.js';
import { gaeCredit } from './gae.js';
import { gatedCredit } from './gated.js';
import { hopProgressCredit } from './hop_progress.js';
import { igpoCredit } from './igpo.js';
import { lareCredit } from './lare.js';
import { oprlCredit } from './oprl.js';
import { outcomeCredit } from './outcome.js';
import { potentialCredit } from './potential.js';
import { prorlCredit } from './prorl.js';
import { renormCredit } from './renorm.js';
import { restMctsCredit } from './rest_mcts.js';
import { spaCredit } from './spa.js';
import { vgpoCredit } from './vgpo.js';
import type { Credit, CreditKind, CreditOutput, SignalRef, StepBatch } from './types.js';

/** Every credit method, by its `credit: {method: …}` name in the spec. */
export const credits = {
  outcome: outcomeCredit,
  dense_turn: denseTurnCredit,
  gated: gatedCredit,
  renorm: renormCredit,
  potential: potentialCredit,
  igpo: igpoCredit,
  spa: spaCredit,
  oprl: oprlCredit,
  prorl: prorlCredit,
  rest_mcts: restMctsCredit,
  lare: lareCredit,
  comam: comamCredit,
  gae: gaeCredit,
  vgpo: vgpoCredit,
  hop_progress: hopProgressCredit,
  clarify: clarifyCredit,
} as const;

export type CreditMethod = keyof typeof credits;

/** Shared by every method: also write the step rewards onto tokens (see `stepsToTokens`), optionally plus a token-level signal. */
const tokenRewardsParam = z
  .union([
    z.boolean(),
    z.strictObject({
      signal: z.string().min(1).describe('A rollout-scoped component whose grader gives one value per response token in `details.token_rewards` (`grader: token_reward`: TGDPO, T-REG).'),
      weight: z.number().finite().default(1).describe('Factor on the signal before it is added to the token rewards (default 1).'),
    }),
  ])
  .default(false)
  .describe(
    'Also give each rollout `token_rewards` (one value per response token: each step\'s credited reward on the step\'s last token, 0 elsewhere) and `token_advantages`, from each step\'s `last_token` (index in the response) and the rollout\'s `response_length` — for trainers that put rewards on tokens (verl token_level_rewards). ' +
      '`{signal, weight}` adds weight × the named component\'s per-token values to every token (TGDPO / T-REG token rewards); a rollout without steps then gets its reward on its last token plus the signal, and no token_advantages.',
  );

function option<const N extends string, S extends z.ZodRawShape>(k: CreditKind<N, S>) {
  return z.strictObject({ method: z.literal(k.method).describe(k.summary), ...k.params, token_rewards: tokenRewardsParam });
}

/** The spec's `credit:` section, discriminated on `method`. */
export const creditSchema = z
  .discriminatedUnion('method', [
    option(outcomeCredit),
    option(denseTurnCredit),
    option(gatedCredit),
    option(renormCredit),
    option(potentialCredit),
    option(igpoCredit),
    option(spaCredit),
    option(oprlCredit),
    option(prorlCredit),
    option(restMctsCredit),
    option(lareCredit),
    option(comamCredit),
    option(gaeCredit),
    option(vgpoCredit),
    option(hopProgressCredit),
    option(clarifyCredit),
  ])
  .describe('How the reward of a multi-turn rollout is assigned to its steps.');

export type CreditSpec = z.infer<typeof creditSchema>;
export type CreditSpecInput = z.input<typeof creditSchema>;

/**
 * A rollout whose outcome is null (the reward cannot judge it) must not move the policy: every one of
 * its steps gets advantage exactly 0, whatever the method (its step rewards and return stay null).
 * Methods compute with NaN for those rollouts, which keeps them out of every group and batch
 * statistic; {@link buildCredit} applies this to every method's output. Returns `out`.
 */
export function zeroNullOutcomeAdvantages(b: StepBatch, out: CreditOutput): CreditOutput {
  const { offsets, outcome } = b;
  for (let i = 0; i < outcome.length; i++) if (outcome[i] !== outcome[i]) out.advantage.fill(0, offsets[i], offsets[i + 1]);
  return out;
}

/**
 * Builds the credit method of a (parsed or raw) `credit:` section; throws ZodError on bad params, or
 * `ParamError` (param path relative to `credit:`) for params that are valid alone but not together.
 * Every step of a rollout with a null outcome gets advantage 0 ({@link zeroNullOutcomeAdvantages}).
 *
 * @example
 * buildCredit({ method: 'gated', threshold: 0.5 }).compute(batch) // → {reward, advantage, returns}
 */
export function buildCredit(spec: CreditSpecInput | CreditSpec): Credit {
  const { method, token_rewards: _t, ...params } = creditSchema.parse(spec);
  const kind = credits[method] as CreditKind<string, z.ZodRawShape>;
  const credit = kind.create(params as never);
  return {
    compute: (b) => zeroNullOutcomeAdvantages(b, credit.compute(b)),
    ...(credit.state ? { state: credit.state } : {}),
  };
}

/**
 * The step signals a (parsed or raw) `credit:` section names, with the param that names each
 * (`features[1]`), in params order — so a spec naming a component that does not exist (or is not
 * step-scoped) can be rejected before any batch: report `credit.<param>`.
 *
 * @example
 * signalParams({ method: 'spa', features: ['judge', 'tool_ok'] })
 * // → [{param: 'features[0]', signal: 'judge'}, {param: 'features[1]', signal: 'tool_ok'}]
 */
export function signalParams(spec: CreditSpecInput | CreditSpec): SignalRef[] {
  const { method, token_rewards: _t, ...params } = creditSchema.parse(spec);
  const kind = credits[method] as CreditKind<string, z.ZodRawShape>;
  return kind.signals ? kind.signals(params as never) : [];
}

/**
 * The distinct step signal names a `credit:` section needs (see {@link signalParams}).
 *
 * @example
 * signalsOf({ method: 'igpo', signal: 'p_gold' }) // → ['p_gold']
 */
export function signalsOf(spec: CreditSpecInput | CreditSpec): string[] {
  return [...new Set(signalParams(spec).map((s) => s.signal))];
}
