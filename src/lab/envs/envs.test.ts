import { describe, expect, it } from 'vitest';
import { MultiRewardBandit } from './bandit.js';
import { ASK, EDIT, EMPTY, EpisodeBuffer, NO_SUBMIT, PASS, RESOLVED, RUN_TESTS, SEARCH, SUBMIT, TOOL_ACTIONS, TOOL_DEFAULTS, TOOL_STATES, checkToolConfig, runToolEpisode, toStepBatch, toolStats } from './tooluse.js';
import { CANDIDATES, CompletionScorer, additionPrompts, candidateText } from './completion.js';
import { GOLD_SPEC, PAR_SPEC, PROXY_SPEC } from '../experiments/par_goodhart.js';
import { AdvantageStep, SoftmaxPolicy } from '../learners/softmax.js';
import { buildEstimator } from '../../advantage/registry.js';
import { buildCredit } from '../../credit/registry.js';
import { Rng } from '../rng.js';

/** A policy that always takes the given action per stage (search, edit, submit …), for scripted episodes. */
function scripted(perState: (s: number) => number): SoftmaxPolicy {
  const th = new Float64Array(TOOL_STATES * TOOL_ACTIONS.length).fill(-1e9);
  for (let s = 0; s < TOOL_STATES; s++) th[s * TOOL_ACTIONS.length + perState(s)] = 0;
  const pi = new SoftmaxPolicy(TOOL_STATES, TOOL_ACTIONS.length, th);
  pi.beginBatch();
  return pi;
}

describe('softmax policy gradient', () => {
  it('moves probability towards positive-advantage actions and never onto masked ones', () => {
    const pi = new SoftmaxPolicy(2, 3, undefined, [1, 1, 0]);
    expect(pi.prob(0, 2)).toBe(0);
    expect(pi.prob(0, 0)).toBeCloseTo(0.5, 12);
    pi.beginBatch();
    pi.accumulate(0, 1, 1);
    pi.accumulate(0, 0, -1);
    pi.countSample(2);
    pi.step(1);
    expect(pi.prob(0, 1)).toBeGreaterThan(0.5);
    expect(pi.prob(0, 2)).toBe(0);
    expect(pi.prob(1, 0)).toBeCloseTo(0.5, 12); // state 1 untouched
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) expect(pi.sample(0, r)).not.toBe(2);
    expect(() => new SoftmaxPolicy(1, 2, undefined, [0, 0])).toThrow(/state 0 has no allowed action/);
    expect(() => new SoftmaxPolicy(1, 2, [0])).toThrow(/init has 1 logits/);
  });
  it('the advantage step is the estimator\'s own compute()', () => {
    const step = new AdvantageStep({ estimator: 'gdpo' }, 2, 2, 2);
    step.components[0].set([1, 0, 1, 0]);
    step.components[1].set([0, 0, 1, 0]);
    for (let i = 0; i < 4; i++) step.rewards[i] = step.components[0][i] + step.components[1][i];
    const a = Array.from(step.compute());
    // mechanics-A §1 example: pre-BN A [0.707, −0.707], B [1.414, −1.414] → BN
    expect(a[0]).toBeCloseTo(0.5477, 3);
    expect(a[2]).toBeCloseTo(1.0954, 3);
    const direct = buildEstimator({ estimator: 'gdpo' }).compute({ rewards: step.rewards, components: step.components, weights: step.weights, groupOf: step.groupOf, groupCount: 2 });
    expect(a).toEqual(Array.from(direct));
  });
});

describe('the learner with each of the project\'s estimators', () => {
  it('raises the expected summed reward of a multi-armed bandit with grpo, dr_grpo, rloo, reinforce_pp and gdpo', () => {
    // One context, 4 arms, 2 binary rewards; arm 3 is best on both.
    const b = new MultiRewardBandit(['correct', 'format'], 1, 4, [0.1, 0.2, 0.3, 0.3, 0.2, 0.6, 0.8, 0.9]);
    for (const estimator of ['grpo', 'dr_grpo', 'rloo', 'reinforce_pp', 'gdpo'] as const) {
      const pi = new SoftmaxPolicy(1, 4);
      const step = new AdvantageStep({ estimator }, 4, 8, 2);
      const acts = new Int32Array(32);
      const r = new Rng(11);
      const value = () => b.policyValue(pi.probs, (c, a) => b.expected(c, a, 0) + b.expected(c, a, 1));
      const before = value();
      for (let t = 0; t < 100; t++) {
        pi.beginBatch();
        for (let i = 0; i < 32; i++) {
          acts[i] = pi.sample(0, r);
          b.pull(0, acts[i], r, step.components, i);
          step.rewards[i] = step.components[0][i] + step.components[1][i];
        }
        const A = step.compute();
        for (let i = 0; i < 32; i++) pi.accumulate(0, acts[i], A[i]);
        pi.countSample(32);
        pi.step(1);
      }
      expect(value(), estimator).toBeGreaterThan(before + 0.5);
      expect(pi.prob(0, 3), estimator).toBeGreaterThan(0.8);
    }
  });
});

describe('multi-reward bandit', () => {
  it('draws binary components with the given probabilities and checks its input', () => {
    const b = new MultiRewardBandit(['a', 'b'], 1, 2, [0.2, 1, 0.5, 0]);
    const out = [new Float64Array(20000), new Float64Array(20000)];
    const r = new Rng(9);
    for (let i = 0; i < 20000; i++) b.pull(0, 0, r, out, i);
    expect(out[0].reduce((s, x) => s + x, 0) / 20000).toBeCloseTo(0.2, 1);
    expect(out[1].every((x) => x === 1)).toBe(true);
    expect(b.expectedJoint(0, 0)).toBeCloseTo(0.2, 12);
    expect(b.expectedJoint(0, 1)).toBe(0);
    expect(b.policyValue([0.5, 0.5], (c, a) => b.expected(c, a, 0))).toBeCloseTo(0.35, 12);
    expect(() => new MultiRewardBandit(['a'], 1, 2, [0.2, 1.5])).toThrow(/probs\[1\] is 1.5/);
    expect(() => new MultiRewardBandit(['a'], 1, 2, [0.2])).toThrow(/need contexts·arms·components = 2/);
  });
});

describe('multi-turn tool-use toy', () => {
  const sure = { ...TOOL_DEFAULTS, pSearch: 1, pEdit: 1, pPass: 1 };
  it('search → edit → submit passes; step rewards pay every tool call, not ask or submit', () => {
    const buf = new EpisodeBuffer(4, sure.horizon);
    runToolEpisode(sure, scripted((s) => [SEARCH, EDIT, SUBMIT][Math.floor(s / 3)]), new Rng(1), false, buf);
    expect(buf.code[0]).toBe(PASS);
    expect(buf.turns(0)).toBe(3);
    expect(Array.from(buf.stepReward.subarray(0, 3))).toEqual([0.2, 0.2, 0]);
    expect(buf.outcome[0]).toBe(1);
    // Farming: run_tests forever never submits.
    runToolEpisode(sure, scripted(() => RUN_TESTS), new Rng(1), false, buf);
    expect(buf.code[1]).toBe(NO_SUBMIT);
    expect(buf.turns(1)).toBe(sure.horizon);
    expect(toolStats(buf).farmCalls).toBe(5);
    // Submitting before any patch is an empty submission.
    runToolEpisode(sure, scripted(() => SUBMIT), new Rng(1), false, buf);
    expect(buf.code[2]).toBe(EMPTY);
  });
  it('an ambiguous task resolves by asking; an ask on a clear task is an over-ask', () => {
    const buf = new EpisodeBuffer(400, sure.horizon);
    // ask while ambiguous (clarity 1), then search/edit/submit.
    const asker = scripted((s) => (s % 3 === 1 ? ASK : [SEARCH, EDIT, SUBMIT][Math.floor(s / 3)]));
    runToolEpisode(sure, asker, new Rng(2), true, buf);
    expect(buf.necessaryAsks[0]).toBe(1);
    expect(buf.state[1] % 3).toBe(RESOLVED);
    expect(buf.code[0]).toBe(PASS);
    const overAsker = scripted((s) => (Math.floor(s / 3) === 0 && s % 3 === 0 ? ASK : SEARCH));
    runToolEpisode(sure, overAsker, new Rng(2), false, buf);
    expect(buf.overAsks[1]).toBe(sure.horizon);
    // Guessing on ambiguous tasks passes about 1/options of the time.
    buf.clear();
    const guesser = scripted((s) => [SEARCH, EDIT, SUBMIT][Math.floor(s / 3)]);
    const r = new Rng(4);
    for (let i = 0; i < 400; i++) runToolEpisode(sure, guesser, r, true, buf);
    expect(toolStats(buf).passAmbiguous).toBeGreaterThan(0.25);
    expect(toolStats(buf).passAmbiguous).toBeLessThan(0.42);
  });
  it('its step batch drives the gated credit method: a failed episode gets no step credit', () => {
    const buf = new EpisodeBuffer(2, sure.horizon);
    runToolEpisode(sure, scripted((s) => [SEARCH, EDIT, SUBMIT][Math.floor(s / 3)]), new Rng(1), false, buf);
    runToolEpisode(sure, scripted(() => RUN_TESTS), new Rng(1), false, buf);
    const gated = buildCredit({ method: 'gated', threshold: 0.1 }).compute(toStepBatch(buf, 2));
    expect(Array.from(gated.returns)).toEqual([1.4, 0]);
    const direct = buildCredit({ method: 'gated', threshold: -Number.MAX_VALUE }).compute(toStepBatch(buf, 2));
    expect(direct.returns[1]).toBeCloseTo(2, 12); // 10 farmed calls × 0.2 beat the pass
    expect(direct.returns[1]).toBeGreaterThan(direct.returns[0]);
  });
  it('checks its configuration, naming the field', () => {
    expect(() => checkToolConfig({ ...TOOL_DEFAULTS, pEdit: 2 })).toThrow(/pEdit is 2/);
    expect(() => checkToolConfig({ ...TOOL_DEFAULTS, options: 1 })).toThrow(/options is 1/);
    expect(() => checkToolConfig({ ...TOOL_DEFAULTS, levels: { ...TOOL_DEFAULTS.levels, pass: NaN } })).toThrow(/levels.pass/);
  });
});

describe('completion toy scored by real specs', () => {
  it('the gold spec pays only the right answer; the proxy spec is hackable; PAR bounds it', async () => {
    const prompts = additionPrompts(2);
    expect(candidateText(prompts[0], 'right')).toBe(`${prompts[0].a} + ${prompts[0].b} = ${prompts[0].reference}. <answer>${prompts[0].reference}</answer>`);
    const gold = new CompletionScorer(GOLD_SPEC, prompts);
    const proxy = new CompletionScorer(PROXY_SPEC, prompts);
    const refs = [0.2, 0.7, 1.7, 1.7];
    const par = new CompletionScorer(PAR_SPEC, prompts, () => ({ ref_rewards: refs }));
    try {
      const g = await gold.table(), p = await proxy.table(), s = await par.table();
      const C = CANDIDATES.length, at = (k: string) => CANDIDATES.indexOf(k as never);
      for (let q = 0; q < 2; q++) {
        expect(Array.from(g.subarray(q * C, (q + 1) * C))).toEqual(CANDIDATES.map((k) => (k === 'right' ? 1 : 0)));
        // The hacks beat the right answer on the proxy.
        expect(p[q * C + at('hack_padded_spam')]).toBeGreaterThan(p[q * C + at('right')] + 1);
        expect(p[q * C + at('hack_padded_wrong')]).toBeGreaterThan(p[q * C + at('right')]);
        for (let c = 0; c < C; c++) {
          // PAR is the mean of σ(r − ref) over the refs, in (0, 1), monotone in the proxy.
          const want = refs.reduce((acc, r) => acc + 1 / (1 + Math.exp(-(p[q * C + c] - r))), 0) / refs.length;
          expect(s[q * C + c]).toBeCloseTo(want, 9);
        }
      }
      // The memo scores each distinct text once.
      const n = proxy.scored;
      await proxy.scoreSampled(Int32Array.of(0, 0, 1), Int32Array.of(0, 0, 6), 3, new Float64Array(3));
      expect(proxy.scored).toBe(n);
    } finally {
      await gold.close();
      await proxy.close();
      await par.close();
    }
  });
});
