import * as z from 'zod';
import {
  baseStepRewards,
  checkStepBatch,
  defineCredit,
  discountedReturns,
  newOutput,
  outcomeParam,
  signalOf,
  stepAdvantage,
  stepAdvantageParam,
  whitenParam,
} from './types.js';

/**
 * `clarify` — SpeakRL's clarification reward, per turn ("SpeakRL: Synergizing Reasoning, Speaking,
 * and Acting in Language Models with Reinforcement Learning", Acikgoz et al., arXiv 2512.13159; the
 * agent "balances asking with acting": it is rewarded for asking the right clarification question when
 * one is needed, and task completion improves "without increasing conversation turns").
 * **The paper's reward equations and weights were not reachable: this is the reading of
 * mechanics-B §22 [INF]**, with the guards below added by the project.
 *
 * Each step (turn) of a multi-turn rollout carries two step signals from step-scoped graders:
 * `ask` (≥ 0.5: the turn asks the user a clarifying question; below: it acts or answers) and `needed`
 * (≥ 0.5: the question asks for information the task needs and the user has not given yet, e.g. a
 * missing slot). Turn t's reward is
 *
 *   r_t = r_given,t − λ_turn + ask_t·( needed_t·λ_ask·[success ∧ among the first `max_rewarded_asks` needed asks]
 *                                     − (1 − needed_t)·λ_over )
 *
 * plus, with `outcome: last_step`, the task reward R_task (the episode outcome) on the last turn.
 * Advantages as the other step-reward methods (`reward_to_go` whitened, or the group advantage of the
 * return).
 *
 * Guards against a hostile policy (each a test): always asking does not pay — every turn costs
 * λ_turn, an unneeded question costs λ_over more, and at most `max_rewarded_asks` needed questions
 * earn λ_ask, so asking the same missing slot again and again (or a `needed` grader fooled into
 * saying yes) nets −λ_turn per extra turn; the ask bonus is paid only when the episode's outcome
 * reaches `success` (asking well and then failing the task earns nothing for the asking). With every
 * slot given, asking then acting scores λ_over + λ_turn below acting at once; with a slot missing,
 * asking it then acting correctly beats guessing whenever guessing fails. Null semantics: a turn
 * without an `ask` value counts as an unneeded question (the worst reading: −λ_over), an asking turn
 * without a `needed` value as unneeded; a null outcome voids the rollout (advantage 0).
 *
 * @example
 * # credit {method: clarify, ask: asks, needed: fills_slot}; defaults λ_ask 0.2, λ_over 0.2, λ_turn 0.05
 * # slot missing: [ask (needed), act] with outcome 1 → r = [0.15, 0.95], return 1.1; guessing [act] fails → −0.05
 * # nothing missing: [ask (unneeded), act] → [−0.25, 0.95] = 0.7 < acting at once 0.95
 */
export const clarifyCredit = defineCredit({
  method: 'clarify',
  summary: 'SpeakRL clarification reward per turn [INF]: +λ_ask for a needed question (capped, on success), −λ_over for an unneeded one, −λ_turn per turn, task reward last.',
  params: {
    ask: z.string().min(1).describe('Step signal: ≥ 0.5 when the turn asks the user a clarifying question (e.g. a step-scoped regex for a question to the user).'),
    needed: z.string().min(1).describe('Step signal: ≥ 0.5 when the question asks for information the task needs and the user has not given (e.g. a step-scoped judge or a contains grader on the missing slots).'),
    ask_bonus: z.number().nonnegative().default(0.2).describe('λ_ask: reward of a needed clarifying question (paid on success, for at most max_rewarded_asks questions) [INF].'),
    over_ask_penalty: z.number().nonnegative().default(0.2).describe('λ_over: penalty of a question that was not needed [INF].'),
    turn_cost: z.number().nonnegative().default(0.05).describe('λ_turn: cost of every turn, so that extra turns never pay for themselves [INF].'),
    max_rewarded_asks: z.number().int().nonnegative().default(1).describe('At most this many needed questions per rollout earn λ_ask (later ones only cost λ_turn).'),
    success: z.number().default(1).describe('The ask bonus is paid only when the episode outcome (task reward) is at least this.'),
    gamma: z.number().gt(0).lte(1).default(1).describe('Discount γ of the return.'),
    outcome: outcomeParam,
    advantage: stepAdvantageParam,
    whiten: whitenParam,
  },
  signals: (p) => [
    { param: 'ask', signal: p.ask },
    { param: 'needed', signal: p.needed },
  ],
  create(p) {
    const advantage = stepAdvantage(p.advantage, p.gamma, p.whiten);
    return {
      compute(b) {
        checkStepBatch(b);
        const out = newOutput(b);
        const r = baseStepRewards(b, p.outcome, out.reward);
        const ask = signalOf(b, p.ask, 'ask');
        const needed = signalOf(b, p.needed, 'needed');
        const { offsets } = b;
        const n = b.outcome.length;
        for (let i = 0; i < n; i++) {
          const o = b.outcome[i]!;
          if (o !== o) continue;
          const paid = o >= p.success;
          let rewarded = 0;
          for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
            r[k] -= p.turn_cost;
            const a = ask[k]!;
            if (a === a && a < 0.5) continue; // acts
            const nd = needed[k]!;
            if (a === a && nd === nd && nd >= 0.5) {
              if (paid && rewarded < p.max_rewarded_asks) {
                r[k] += p.ask_bonus;
                rewarded++;
              }
            } else r[k] -= p.over_ask_penalty;
          }
        }
        discountedReturns(b, r, p.gamma, out.returns, b.outcome);
        if (p.outcome === 'ignore') for (let i = 0; i < n; i++) if (offsets[i + 1] === offsets[i] && out.returns[i] === out.returns[i]) out.returns[i] = 0;
        advantage(b, r, out.returns, out.advantage);
        return out;
      },
    };
  },
});
