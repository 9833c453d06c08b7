import { describe, expect, it } from 'vitest';
import { buildCredit } from './registry.js';
import { batchOf, blankSteps, expectClose } from './testing.js';

/** One rollout per entry: its turns as [ask, needed] pairs (null = no value) and its task outcome. */
function run(eps: Array<{ turns: Array<[number | null, number | null]>; outcome: number | null }>, params: Record<string, unknown> = {}) {
  const b = batchOf(
    eps.map((e) => ({ outcome: e.outcome, steps: blankSteps(e.turns.length) })),
    { ask: eps.map((e) => e.turns.map((t) => t[0])), needed: eps.map((e) => e.turns.map((t) => t[1])) },
  );
  return buildCredit({ method: 'clarify', ask: 'ask', needed: 'needed', whiten: false, ...params } as never).compute(b);
}

const ASK_NEEDED: [number, number] = [1, 1];
const ASK_UNNEEDED: [number, number] = [1, 0];
const ACT: [number, number] = [0, 0];

describe('clarify (SpeakRL clarification reward per turn, [INF] reading)', () => {
  it('mechanics-B §22: with every slot given, asking lowers R; with a slot missing, asking then acting correctly beats guessing', () => {
    const given = run([
      { turns: [ASK_UNNEEDED, ACT], outcome: 1 },
      { turns: [ACT], outcome: 1 },
    ]);
    expectClose(given.reward, [-0.25, 0.95, 0.95]);
    expectClose(given.returns, [0.7, 0.95]);
    const missing = run([
      { turns: [ASK_NEEDED, ACT], outcome: 1 },
      { turns: [ACT], outcome: 0 },
    ]);
    expectClose(missing.reward, [0.15, 0.95, -0.05]);
    expectClose(missing.returns, [1.1, -0.05]);
    expect(missing.returns[0]!).toBeGreaterThan(missing.returns[1]!);
  });

  it('the reward sits on the asking turn (per-turn credit): reward-to-go is higher before a needed question than before an unneeded one', () => {
    const out = run([
      { turns: [ASK_NEEDED, ACT], outcome: 1 },
      { turns: [ASK_UNNEEDED, ACT], outcome: 1 },
    ]);
    // reward_to_go unwhitened: [1.1, 0.95] and [0.7, 0.95]
    expectClose(out.advantage, [1.1, 0.95, 0.7, 0.95]);
  });

  it('hostile: always asking does not pay — capped bonus, a cost per turn, a penalty per unneeded question', () => {
    // A `needed` grader fooled into saying yes four times: only one question earns the bonus.
    const farm = run([
      { turns: [ASK_NEEDED, ASK_NEEDED, ASK_NEEDED, ASK_NEEDED, ACT], outcome: 1 },
      { turns: [ASK_NEEDED, ACT], outcome: 1 },
    ]);
    expectClose(farm.returns, [0.95, 1.1]);
    expect(farm.returns[0]!).toBeLessThan(farm.returns[1]!);
    // Asking about everything when nothing is missing.
    const nag = run([
      { turns: [ASK_UNNEEDED, ASK_UNNEEDED, ASK_UNNEEDED, ACT], outcome: 1 },
      { turns: [ACT], outcome: 1 },
    ]);
    expectClose(nag.returns, [1 - 0.6 - 0.2, 0.95]);
    // Asking the right question and then failing the task earns nothing for the asking.
    const fail = run([{ turns: [ASK_NEEDED, ACT], outcome: 0 }]);
    expectClose(fail.returns, [-0.1]);
    // A rollout that only ever asks (never acts) and so fails is below a failed guess.
    const onlyAsk = run([
      { turns: [ASK_NEEDED, ASK_NEEDED, ASK_NEEDED], outcome: 0 },
      { turns: [ACT], outcome: 0 },
    ]);
    expect(onlyAsk.returns[0]!).toBeLessThan(onlyAsk.returns[1]!);
  });

  it('null semantics: a turn without an ask value counts as an unneeded question; a null outcome voids the rollout', () => {
    const out = run([
      { turns: [[null, 1], ACT], outcome: 1 },
      { turns: [[1, null], ACT], outcome: 1 },
      { turns: [ASK_NEEDED, ACT], outcome: 1 },
      { turns: [ASK_NEEDED, ACT], outcome: null },
    ]);
    expectClose(out.returns.subarray(0, 3), [0.7, 0.7, 1.1]);
    expect(out.returns[3]).toBeNaN();
    expect(Array.from(out.advantage.subarray(6, 8))).toEqual([0, 0]);
  });

  it('weights, cap and success threshold are params; the GRPO mode broadcasts the group advantage of the return', () => {
    const out = run(
      [
        { turns: [ASK_NEEDED, ASK_NEEDED, ACT], outcome: 0.8 },
        { turns: [ACT], outcome: 0.8 },
      ],
      { ask_bonus: 0.5, turn_cost: 0, max_rewarded_asks: 2, success: 0.8, advantage: 'grpo' },
    );
    expectClose(out.returns, [1.8, 0.8]);
    expect(out.advantage[0]).toBeGreaterThan(0);
    expect(out.advantage[3]).toBeLessThan(0);
  });
});

describe('clarify in a spec: step-scoped graders supply ask and needed', () => {
  it('a question naming the missing slot earns the bonus on its turn; a needless question costs', async () => {
    const { parseSpec } = await import('../spec/load.js');
    const { compileSpec } = await import('../spec/compile.js');
    const { scoreBatch } = await import('../pipeline.js');
    const c = compileSpec(
      parseSpec({
        components: [
          { name: 'booked', grader: 'exact' },
          // weight 0: the signals steer the credit method without adding to the step reward themselves
          { name: 'asks', grader: 'regex', pattern: '\\?\\s*$', scope: 'step', weight: 0 },
          { name: 'fills_slot', grader: 'contains', scope: 'step', weight: 0 },
        ],
        credit: { method: 'clarify', ask: 'asks', needed: 'fills_slot', whiten: false },
      }),
    );
    const rollouts = [
      // The user did not say the date: asking for it (the step's reference names the slot) then booking.
      { id: 'ask', group: 'g', prompt: 'Book me a table for two.', completion: 'booked', reference: 'booked', steps: [{ content: 'For which date?', reference: 'date' }, { content: 'book(date=fri)' }] },
      // Asking something nobody needed, then booking.
      { id: 'nag', group: 'g', prompt: 'Book me a table for two.', completion: 'booked', reference: 'booked', steps: [{ content: 'Do you like food?', reference: 'date' }, { content: 'book(date=fri)' }] },
      // Guessing and failing.
      { id: 'guess', group: 'g', prompt: 'Book me a table for two.', completion: 'failed', reference: 'booked', steps: [{ content: 'book(date=mon)' }] },
    ];
    const { results } = await scoreBatch(c, rollouts);
    expect(results[0]!.steps!.map((s) => s.reward)).toEqual([expect.closeTo(0.15, 12), expect.closeTo(0.95, 12)]);
    expect(() =>
      compileSpec(parseSpec({ components: [{ name: 'booked', grader: 'exact' }, { name: 'asks', grader: 'regex', pattern: '\\?', scope: 'step', weight: 0 }], credit: { method: 'clarify', ask: 'asks', needed: 'slot' } })),
    ).toThrow(/credit\.needed.*"slot"/s);
    expect(results[1]!.steps!.map((s) => s.reward)).toEqual([expect.closeTo(-0.25, 12), expect.closeTo(0.95, 12)]);
    expect(results[2]!.steps!.map((s) => s.reward)).toEqual([expect.closeTo(-0.05, 12)]);
  });
});
