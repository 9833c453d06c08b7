import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend, LogprobRequest } from '../backends/types.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import type { Grader, GraderKind } from './types.js';
import { gradeAll } from './harness.js';
import { DEFAULT_NEGATIVE_FOLLOW_UPS, DEFAULT_POSITIVE_FOLLOW_UPS, answerLikelihood, likelihoodGrader, rlprReward } from './likelihood.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[]): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir: '.', name: 't', backends: resolverOf(backends) });
}

/**
 * A scripted LM: the continuation is tokenised into characters, and `probs(prompt, continuation)`
 * gives each character's probability. Every request is recorded.
 */
function lm(probs: (prompt: string, continuation: string) => number[]) {
  const requests: LogprobRequest[] = [];
  const backend = functionBackend('lm', {
    logprobs: async (req) => {
      requests.push(req);
      if (req.continuation.includes('FAIL') || req.prompt.includes('FAIL')) throw new Error('model server 500');
      const p = probs(req.prompt, req.continuation);
      return { tokens: [...req.continuation], logprobs: p.map(Math.log) };
    },
  });
  return { backend, requests };
}

/** Reference tokens get [0.5, 0.8] after reasoning and [0.5, 0.6] without it (the reference's worked example). */
const worked = () => lm((prompt) => (prompt.includes('</think>') ? [0.5, 0.8] : [0.5, 0.6]));
const completion = '<think>add them</think><answer>x</answer>';

describe('answerLikelihood, rlprReward', () => {
  it('reduce token log-probs; RLPR Δ with threshold_0', () => {
    const a = answerLikelihood([Math.log(0.5), Math.log(0.8)]);
    expect(a.logprob).toBeCloseTo(-0.916290731874155, 14);
    expect(a.mean_logprob).toBeCloseTo(-0.916290731874155 / 2, 14);
    expect(a.prob).toBeCloseTo(0.4, 14);
    expect(a.mean_prob).toBeCloseTo(0.65, 14);
    expect(rlprReward(0.65, 0.55, 0)).toBeCloseTo(0.1, 14);
    expect(rlprReward(0.5, 0.55, 0)).toBe(0);
    expect(rlprReward(0.65, 0.55, 0.2)).toBe(0);
    expect(() => answerLikelihood([])).toThrow();
  });
});

describe('likelihood: reference-answer variants', () => {
  it('logprob (the likelihood paper: sum) = ln 0.4; the backend sees prompt + reasoning + "<answer> " and scores the reference', async () => {
    const { backend, requests } = worked();
    const [r] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'logprob' }, [backend]), [{ prompt: 'Q: 2+2? ', completion, reference: '44' }]);
    expect(r!.score).toBeCloseTo(-0.9163, 4);
    expect(r!.score).toBeCloseTo(Math.log(0.4), 14);
    expect(requests).toEqual([{ prompt: 'Q: 2+2? <think>add them</think><answer> ', continuation: '44' }]);
    expect(r!.details).toMatchObject({ tokens: 2 });
  });

  it('mean_logprob = ln 0.4 / 2; prob (VeriFree) = 0.40', async () => {
    const { backend } = worked();
    const mean = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'mean_logprob' }, [backend]), [{ completion, reference: '44' }]);
    expect(mean[0]!.score).toBeCloseTo(Math.log(0.4) / 2, 14);
    const p = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'prob' }, [backend]), [{ completion, reference: '44' }]);
    expect(p[0]!.score).toBeCloseTo(0.4, 14);
  });

  it('rlpr: scoreB 0.65 − scoreA 0.55 = 0.10; the baseline is prompt + " " + reference, once per prompt', async () => {
    const { backend, requests } = worked();
    const g = build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]);
    const out = await gradeAll(g, [
      { prompt: 'Q:', completion, reference: '44' },
      { prompt: 'Q:', completion: '<think>other</think><answer>y</answer>', reference: '44' },
    ]);
    for (const r of out) {
      expect(r.score).toBeCloseTo(0.1, 14);
      expect(r.details).toMatchObject({ score_b: expect.closeTo(0.65, 14), score_a: expect.closeTo(0.55, 14) });
    }
    expect(requests.filter((r) => r.prompt === 'Q: ')).toEqual([{ prompt: 'Q: ', continuation: '44' }]);
  });

  it('rlpr: a negative Δ is clamped to 0 (threshold_0); a threshold raises the bar', async () => {
    const { backend } = lm((prompt) => (prompt.includes('</think>') ? [0.5, 0.5] : [0.5, 0.6]));
    const [neg] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]), [{ completion, reference: '44' }]);
    expect(neg!.score).toBe(0);
    expect(neg!.details).toMatchObject({ delta: expect.closeTo(-0.05, 14) });
    const { backend: b2 } = worked();
    const [high] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'rlpr', threshold: 0.2 }, [b2]), [{ completion, reference: '44' }]);
    expect(high!.score).toBe(0);
  });

  it('RLPR reward = 0.9·Δ + 0.1·format through a spec: 0.09 + 0.1 = 0.19, and 0.09 with a bad format', async () => {
    const { backend } = worked();
    const base = compileSpec(
      parseSpec({
        components: [
          { name: 'rlpr', grader: 'exact', weight: 0.9 },
          { name: 'format', grader: 'regex', pattern: '^<think>[\\s\\S]*</think><answer>[\\s\\S]*</answer>$', weight: 0.1 },
        ],
      }),
    );
    const compiled = { ...base, graders: [build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]), base.graders[1]!] };
    const { results } = await scoreBatch(compiled, [
      { id: 'a', prompt: 'Q', completion, reference: '44' },
      { id: 'b', prompt: 'Q', completion: `${completion} trailing`, reference: '44' },
    ]);
    expect(results[0]!.reward).toBeCloseTo(0.19, 14);
    expect(results[1]!.reward).toBeCloseTo(0.09, 14);
  });

  it('VeriFree claim: the probability reward vanishes as 0.9^L while the mean log-prob stays at ln 0.9', async () => {
    const L = 200;
    const { backend } = lm((prompt, cont) => [...cont].map(() => (prompt.includes('careful') ? 0.9 : 0.8)));
    const ref = 'a'.repeat(L);
    const rollouts = [
      { completion: '<think>careful</think><answer>a</answer>', reference: ref },
      { completion: '<think>sloppy</think><answer>a</answer>', reference: ref },
    ];
    const prob = (await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'prob' }, [backend]), rollouts)).map((r) => r.score!);
    const mean = (await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'mean_logprob' }, [backend]), rollouts)).map((r) => r.score!);
    expect(prob[0]).toBeCloseTo(0.9 ** L, 20);
    expect(prob[0]).toBeLessThan(1e-9);
    // The better reasoning is invisible to the probability reward (a gap of ~7e-10) …
    expect(prob[0]! - prob[1]!).toBeLessThan(1e-9);
    // … but an O(1) gap for the mean log-prob: ln 0.9 − ln 0.8.
    expect(mean[0]).toBeCloseTo(Math.log(0.9), 12);
    expect(mean[0]! - mean[1]!).toBeCloseTo(Math.log(0.9 / 0.8), 12);
  });

  it('boxed style: the reasoning stops at \\boxed{, which goes in the context; the closing brace is not scored', async () => {
    const { backend, requests } = worked();
    const [r] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'prob', answer_style: 'boxed' }, [backend]), [
      { prompt: 'P ', completion: '<think>sum</think> so \\boxed{5}', reference: '44' },
    ]);
    expect(r!.score).toBeCloseTo(0.4, 14);
    expect(requests).toEqual([{ prompt: 'P <think>sum</think> so \\boxed{', continuation: '44' }]);
  });

  it('scored_span answer scores the whole answer template (VeriFree-style block), wrapper included', async () => {
    const { backend, requests } = lm((_, cont) => [...cont].map(() => 0.9));
    const g = build(
      likelihoodGrader,
      { backend: 'lm', variant: 'logprob', scored_span: 'answer', answer_template: '<answer> \\boxed{{{reference}}} </answer>' },
      [backend],
    );
    const [r] = await gradeAll(g, [{ prompt: 'P', completion, reference: '7' }]);
    const block = '<answer> \\boxed{7} </answer>';
    expect(requests).toEqual([{ prompt: 'P<think>add them</think>', continuation: block }]);
    expect(r!.score).toBeCloseTo(block.length * Math.log(0.9), 12);
  });

  it('template with {{meta.key}}; several references → the best', async () => {
    const { backend, requests } = lm((_, cont) => (cont === 'good' ? [0.9, 0.9, 0.9, 0.9] : [...cont].map(() => 0.1)));
    const g = build(likelihoodGrader, { backend: 'lm', variant: 'prob', template: '[{{meta.system}}]{{prompt}}|{{reasoning}}' }, [backend]);
    const [r] = await gradeAll(g, [{ prompt: 'Q', completion, reference: ['bad', 'good'], meta: { system: 'S' } }]);
    expect(r!.score).toBeCloseTo(0.9 ** 4, 14);
    expect(r!.details).toMatchObject({ reference_index: 1 });
    expect(requests[0]!.prompt).toBe('[S]Q|<think>add them</think><answer> ');
    await expect(gradeAll(g, [{ prompt: 'Q', completion, reference: 'good' }])).rejects.toThrow(/template: the rollout has no meta.system/);
  });

  it('a completion without an answer: prob 0 and rlpr 0 (as the authors\' code), logprob scored after the whole completion, or missing_answer_score', async () => {
    const { backend, requests } = worked();
    const rollouts = [{ prompt: 'Q', completion: '<think>no answer given</think>', reference: '44' }];
    const p = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'prob' }, [backend]), rollouts);
    expect(p[0]).toEqual({ score: 0, details: { reason: 'answer_pattern does not match the completion' } });
    const rl = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]), rollouts);
    expect(rl[0]).toEqual({ score: 0, details: { reason: 'answer_pattern does not match the completion', score_b: 0, score_a: expect.closeTo(0.55, 14) } });
    const mp = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'mean_prob' }, [backend]), rollouts);
    expect(mp[0]!.score).toBe(0);
    // Only RLPR's baseline was asked for so far.
    expect(requests.map((r) => r.prompt)).toEqual(['Q ']);
    // logprob has no floor: the whole completion is the reasoning (never null, never a free pass).
    const lp = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'logprob' }, [backend]), rollouts);
    const whole = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'logprob', reasoning: 'whole' }, [backend]), rollouts);
    expect(typeof lp[0]!.score).toBe('number');
    expect(lp[0]!.score).toBe(whole[0]!.score);
    expect(lp[0]!.details!.reason).toMatch(/whole completion is the reasoning/);
    const floor = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'logprob', missing_answer_score: -20 }, [backend]), rollouts);
    expect(floor[0]!.score).toBe(-20);
  });

  it('no reference → null with a reason; backend failure → the grade rejects with the backend\'s message', async () => {
    const { backend } = worked();
    const g = build(likelihoodGrader, { backend: 'lm', variant: 'logprob' }, [backend]);
    const out = await gradeAll(g, [
      { completion, reference: undefined },
      { completion, reference: '' },
    ]);
    expect(out.map((o) => [o.score, o.details?.reason])).toEqual([
      [null, 'no text reference to score'],
      [null, 'the reference is empty'],
    ]);
    await expect(gradeAll(g, [{ completion, reference: 'FAIL' }])).rejects.toThrow('model server 500');
    const rl = build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]);
    await expect(gradeAll(rl, [{ prompt: 'FAIL', completion, reference: '44' }])).rejects.toThrow('model server 500');
  });

  it('a failed RLPR baseline is asked again next time (not cached)', async () => {
    let down = true;
    const backend = functionBackend('lm', {
      logprobs: async (req) => {
        if (down && !req.prompt.includes('</think>')) throw new Error('flaky');
        return { tokens: [...req.continuation], logprobs: [...req.continuation].map(() => Math.log(0.5)) };
      },
    });
    const g = build(likelihoodGrader, { backend: 'lm', variant: 'rlpr' }, [backend]);
    await expect(gradeAll(g, [{ prompt: 'Q', completion, reference: '44' }])).rejects.toThrow('flaky');
    down = false;
    expect((await gradeAll(g, [{ prompt: 'Q', completion, reference: '44' }]))[0]!.score).toBe(0);
  });
});

describe('likelihood: follow_up (FLR)', () => {
  /** Per-token probability depends on the utterance and on whether the response was helpful. */
  const flr = (shift = 0) =>
    lm((prompt, cont) => {
      const helpful = prompt.includes('HELPFUL');
      const positive = cont.startsWith('+');
      const p = helpful === positive ? 0.6 : 0.2;
      return [...cont].map(() => Math.exp(Math.log(p) + shift));
    });

  it('mean per-token log-prob of positive minus negative follow-ups after the exchange', async () => {
    const { backend, requests } = flr();
    const g = build(likelihoodGrader, { backend: 'lm', variant: 'follow_up', positive: ['+thanks', '+great'], negative: ['-wrong'] }, [backend]);
    const out = await gradeAll(g, [
      { prompt: 'Q', completion: 'HELPFUL answer' },
      { prompt: 'Q', completion: 'bad answer' },
    ]);
    expect(out[0]!.score).toBeCloseTo(Math.log(0.6) - Math.log(0.2), 12);
    expect(out[1]!.score).toBeCloseTo(Math.log(0.2) - Math.log(0.6), 12);
    expect(requests[0]).toEqual({ prompt: 'QHELPFUL answer\n\nUser: ', continuation: '+thanks' });
  });

  it('antisymmetric when the lists are swapped; invariant to a constant shift of every log-prob', async () => {
    const rollouts = [{ prompt: 'Q', completion: 'HELPFUL' }, { prompt: 'Q', completion: 'meh' }];
    const params = { backend: 'lm', variant: 'follow_up', positive: ['+a', '+bcd'], negative: ['-xy'] };
    const base = (await gradeAll(build(likelihoodGrader, params, [flr().backend]), rollouts)).map((r) => r.score!);
    const swapped = (await gradeAll(build(likelihoodGrader, { ...params, positive: ['-xy'], negative: ['+a', '+bcd'] }, [flr().backend]), rollouts)).map(
      (r) => r.score!,
    );
    const shifted = (await gradeAll(build(likelihoodGrader, params, [flr(-0.7).backend]), rollouts)).map((r) => r.score!);
    base.forEach((b, i) => {
      expect(swapped[i]).toBeCloseTo(-b, 12);
      expect(shifted[i]).toBeCloseTo(b, 12);
    });
  });

  it('default utterances and template; a custom template', async () => {
    const { backend, requests } = flr();
    await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'follow_up' }, [backend]), [{ prompt: 'Q', completion: 'A' }]);
    expect(requests.map((r) => r.continuation)).toEqual([...DEFAULT_POSITIVE_FOLLOW_UPS, ...DEFAULT_NEGATIVE_FOLLOW_UPS]);
    const { backend: b2, requests: r2 } = flr();
    await gradeAll(
      build(likelihoodGrader, { backend: 'lm', variant: 'follow_up', follow_up_template: '<u>{{prompt}}</u><a>{{completion}}</a><u>', positive: ['+'], negative: ['-'] }, [b2]),
      [{ prompt: 'Q', completion: 'A' }],
    );
    expect(r2[0]!.prompt).toBe('<u>Q</u><a>A</a><u>');
  });

  it('property: the reward is antisymmetric for any probabilities', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), async (ps) => {
        const table: Record<string, number> = { '+a': ps[0]!, '+b': ps[1]!, '-c': ps[2]!, '-d': ps[3]! };
        const mk = () => lm((_, cont) => [...cont].map(() => table[cont]!)).backend;
        const r = { prompt: 'Q', completion: 'A' };
        const [x] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'follow_up', positive: ['+a', '+b'], negative: ['-c', '-d'] }, [mk()]), [r]);
        const [y] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'follow_up', positive: ['-c', '-d'], negative: ['+a', '+b'] }, [mk()]), [r]);
        expect(x!.score! + y!.score!).toBeCloseTo(0, 10);
      }),
      { numRuns: 30 },
    );
  });
});

describe('likelihood: params', () => {
  const { backend } = worked();
  const bad = (params: Record<string, unknown>) => () => build(likelihoodGrader, { backend: 'lm', ...params }, [backend]);
  it('variant is required; options of other variants are rejected, naming the param', () => {
    expect(bad({})).toThrow();
    expect(bad({ variant: 'prob', threshold: 0.1 })).toThrow(/threshold only applies to variant rlpr/);
    expect(bad({ variant: 'logprob', positive: ['x'] })).toThrow(/positive only applies to variant follow_up/);
    expect(bad({ variant: 'follow_up', answer_style: 'boxed' })).toThrow(/answer_style does not apply to variant follow_up/);
    expect(bad({ variant: 'follow_up', threshold: 0 })).toThrow(/threshold/);
  });
  it('templates and patterns are checked when the spec loads', () => {
    expect(bad({ variant: 'prob', answer_template: '<answer></answer>' })).toThrow(/exactly once \(found 0\)/);
    expect(bad({ variant: 'prob', answer_template: '{{reference}} {{reference}}' })).toThrow(/found 2/);
    expect(bad({ variant: 'prob', answer_template: '{{prompt}} {{reference}}' })).toThrow(/only \{\{reference\}\}/);
    expect(bad({ variant: 'prob', template: '{{prompt}}{{completion}}' })).toThrow(/unknown placeholder \{\{completion\}\}/);
    expect(bad({ variant: 'rlpr', baseline_template: '{{reasoning}}' })).toThrow(/unknown placeholder \{\{reasoning\}\}/);
    expect(bad({ variant: 'follow_up', follow_up_template: '{{reference}}' })).toThrow(/unknown placeholder/);
    expect(bad({ variant: 'prob', answer_pattern: '(a' })).toThrow(/RE2/);
    expect(() => build(likelihoodGrader, { backend: 'enc', variant: 'prob' }, [functionBackend('enc', { embed: async () => ({ vectors: [] }) })])).toThrow(
      /does not offer logprobs/,
    );
  });
});

describe('likelihood: IGPO through step-scoped components', () => {
  it('mean_prob = exp(mean log-prob); reasoning: whole puts the entire completion before the reference', async () => {
    const { backend, requests } = worked();
    const [r] = await gradeAll(build(likelihoodGrader, { backend: 'lm', variant: 'mean_prob', reasoning: 'whole' }, [backend]), [{ prompt: 'Q ', completion: 'call f()', reference: '44' }]);
    expect(r!.score).toBeCloseTo(Math.sqrt(0.5 * 0.6), 14);
    expect(requests).toEqual([{ prompt: 'Q call f()<answer> ', continuation: '44' }]);
  });
  it('gives each turn the gold answer\'s probability after it, which igpo turns into information-gain credit', async () => {
    // p(gold) rises with the number of observations in the context: 0.2 after turn 0, 0.5 after turn 1.
    const backend = functionBackend('lm', {
      logprobs: async (req) => {
        const seen = (req.prompt.match(/obs/g) ?? []).length + (req.prompt.includes('answer') ? 1 : 0);
        const p = [0.2, 0.5, 0.9][Math.min(seen, 2)]!;
        return { tokens: [req.continuation], logprobs: [Math.log(p)] };
      },
    });
    const spec = parseSpec({
      components: [
        { name: 'solved', grader: 'exact' },
        // Compiled with a stand-in grader (a spec's backends must be real servers or files); the
        // likelihood grader on the scripted LM replaces it below.
        { name: 'p_gold', grader: 'regex', pattern: 'x', scope: 'step', weight: 0 },
      ],
      credit: { method: 'igpo', signal: 'p_gold', prior: 0.1 },
    });
    const compiled = compileSpec(spec);
    const patched = { ...compiled, steps: { ...compiled.steps!, graders: [build(likelihoodGrader, { backend: 'lm', variant: 'mean_prob', reasoning: 'whole', answer_template: ' {{reference}}' }, [backend])] } };
    const rollouts = [
      { id: 'a', group: 'g', completion: '7', reference: '7', steps: [{ content: 'search', observation: 'obs' }, { content: 'answer 7' }] },
      { id: 'b', group: 'g', completion: '8', reference: '7', steps: [{ content: 'search', observation: 'obs' }, { content: 'answer 8' }] },
    ];
    const { results } = await scoreBatch(patched, rollouts);
    // p after turn 0 (context: prompt + "search") = 0.2 → gain 0.2 − 0.1 = 0.1 on turn 0; the last turn earns the outcome.
    expect(results[0]!.steps!.map((s) => s.components)).toEqual([{ p_gold: expect.closeTo(0.2, 12) }, { p_gold: expect.closeTo(0.9, 12) }]);
    expect(results[0]!.steps!.map((s) => s.reward)).toEqual([expect.closeTo(0.1, 12), 1]);
    expect(results[1]!.steps!.map((s) => s.reward)).toEqual([expect.closeTo(0.1, 12), 0]);
    expect(results[0]!.steps![0]!.advantage).toBeGreaterThan(results[1]!.steps![0]!.advantage as number - 1e-12);
  });
  it('a credit method naming a signal that is no step-scoped component is a spec error at its param', () => {
    const spec = parseSpec({ components: [{ name: 'solved', grader: 'exact' }], credit: { method: 'igpo', signal: 'p_gold' } });
    expect(() => compileSpec(spec)).toThrow(/credit\.signal: names "p_gold", which is not a step-scoped component \(add one with scope: step\)/);
  });
});
