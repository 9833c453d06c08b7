import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { LogprobRequest } from '../backends/types.js';
import { logSoftmax, referenceForward, referenceTokenize, tempTinyModel } from '../backends/testing/tiny_model.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import { buildGrader, gradeAll } from './harness.js';
import { goldSuffixStart, pathFaithfulnessGrader, prefixEnds, splitSteps } from './path_faithfulness.js';

/** A scripted LM over characters: `probs(prompt, continuation)` gives one probability per character. */
function lm(probs: (prompt: string, continuation: string) => number) {
  const requests: LogprobRequest[] = [];
  const backend = functionBackend('policy', {
    logprobs: async (req) => {
      requests.push(req);
      if (req.prompt.includes('FAIL')) throw new Error('model server 500');
      return { tokens: [...req.continuation], logprobs: [...req.continuation].map(() => Math.log(probs(req.prompt, req.continuation))) };
    },
  });
  return { backend, requests };
}

const build = (backend: ReturnType<typeof lm>['backend'], params: Record<string, unknown> = {}) =>
  buildGrader(pathFaithfulnessGrader, { backend: 'policy', ...params }, 'pfr', { backends: resolverOf([backend]) });

describe('splitSteps, goldSuffixStart, prefixEnds', () => {
  it('cut at blank lines, blank pieces dropped', () => {
    const d = RE2JS.compile('\\n\\s*\\n');
    expect(splitSteps('a\n\nb\n\n\n\nc\n\n', d)).toEqual([[0, 1], [3, 4], [8, 9]]);
    expect(splitSteps('\n\n  \n\n', d)).toEqual([]);
    expect(splitSteps('one step', d)).toEqual([[0, 8]]);
  });

  it('the suffix is matched to the same fraction of the gold path and never empty', () => {
    expect([1, 2].map((k) => goldSuffixStart(k, 2, 3))).toEqual([1, 2]);
    expect([1, 2, 3].map((k) => goldSuffixStart(k, 3, 3))).toEqual([1, 2, 2]);
    expect([1, 2, 3, 4, 5, 6].map((k) => goldSuffixStart(k, 6, 2))).toEqual([0, 0, 1, 1, 1, 1]);
    for (let K = 1; K < 20; K++) for (let M = 1; M < 20; M++) for (let k = 1; k <= K; k++) expect(goldSuffixStart(k, K, M)).toBeLessThanOrEqual(M - 1);
    expect(prefixEnds(3, 16)).toEqual([1, 2, 3]);
    expect(prefixEnds(10, 4)).toEqual([3, 5, 8, 10]);
  });
});

describe('path_faithfulness (P2S PFR, [INF] reading)', () => {
  const completion = 'x\n\ny\n\n<answer>C</answer>';
  const gold = 'A\n\nB\n\nC';

  it('worked example: after "x" the suffix "B\\n\\nC" (p 0.5), after "x\\n\\ny" the suffix "C" (p 0.9) → PFR = 0.7', async () => {
    const { backend, requests } = lm((prompt) => (prompt.endsWith('y\n\n') ? 0.9 : 0.5));
    const [r] = await gradeAll(build(backend), [{ prompt: 'Q? ', completion, reference: gold }]);
    expect(r!.score).toBeCloseTo(0.7, 14);
    expect(requests).toEqual([
      { prompt: 'Q? x\n\n', continuation: 'B\n\nC' },
      { prompt: 'Q? x\n\ny\n\n', continuation: 'C' },
    ]);
    expect(r!.details).toMatchObject({ model_steps: 2, gold_steps: 3, steps: [{ step: 1, end: 1, gold_from: 2, pfr: 0.5 }, { step: 2, end: 4, gold_from: 3, pfr: 0.9 }] });
    const [l] = await gradeAll(build(backend, { reduce: 'mean_logprob' }), [{ prompt: 'Q? ', completion, reference: gold }]);
    expect(l!.score).toBeCloseTo((Math.log(0.5) + Math.log(0.9)) / 2, 14);
  });

  it('a path that follows the gold-CoT earns more than one that wanders off (an LM that predicts the gold when its prefix is on the path)', async () => {
    const goldSteps = ['Find the speed.', 'Speed is distance over time.', 'So 60 km/h.'];
    // The LM predicts gold text well exactly when the prefix already contains the gold steps before it.
    const { backend } = lm((prompt, cont) => {
      const first = goldSteps.findIndex((g) => cont.startsWith(g));
      const onPath = goldSteps.slice(0, first).every((g) => prompt.includes(g));
      return onPath ? 0.9 : 0.2;
    });
    const faithful = `${goldSteps[0]}\n\n${goldSteps[1]}\n\n<answer>60</answer>`;
    const wandering = 'I like trains.\n\nTrains are loud.\n\n<answer>60</answer>';
    const out = await gradeAll(build(backend), [
      { prompt: 'Q ', completion: faithful, reference: goldSteps.join('\n\n') },
      { prompt: 'Q ', completion: wandering, reference: goldSteps.join('\n\n') },
    ]);
    expect(out[0]!.score!).toBeGreaterThan(out[1]!.score!);
  });

  it('null rule: no gold-CoT → null; no answer or no reasoning → 0 with mean_prob, without a call; a reference list scores its best entry', async () => {
    const { backend, requests } = lm(() => 0.5);
    const g = build(backend);
    const out = await gradeAll(g, [
      { prompt: 'Q', completion },
      { prompt: 'Q', completion, reference: '  \n\n ' },
      { prompt: 'Q', completion: 'x\n\ny (no answer)', reference: gold },
      { prompt: 'Q', completion: '<answer>C</answer>', reference: gold },
      { prompt: 'Q', completion: '', reference: gold },
    ]);
    expect(out.map((o) => o.score)).toEqual([null, null, 0, 0, 0]);
    expect(out[2]!.details!.reason).toMatch(/answer_pattern does not match/);
    expect(requests).toEqual([]);
    const { backend: b2 } = lm((_, cont) => (cont.startsWith('good') ? 0.8 : 0.1));
    const [best] = await gradeAll(build(b2), [{ prompt: 'Q', completion, reference: ['bad\n\nbad', 'good\n\ngood'] }]);
    expect(best!.score).toBeCloseTo(0.8, 14);
    expect(best!.details).toMatchObject({ reference_index: 1 });
  });

  it('mean_logprob has no floor: no answer → the whole completion is the reasoning; no steps → the gold after the prompt alone', async () => {
    const { backend, requests } = lm(() => 0.5);
    const g = build(backend, { reduce: 'mean_logprob' });
    const out = await gradeAll(g, [
      { prompt: 'Q ', completion: 'x\n\ny', reference: gold },
      { prompt: 'Q ', completion: '<answer>C</answer>', reference: gold },
    ]);
    expect(out[0]!.score).toBeCloseTo(Math.log(0.5), 14);
    expect(out[1]!.score).toBeCloseTo(Math.log(0.5), 14);
    expect(requests.map((r) => r.prompt)).toEqual(['Q x\n\n', 'Q x\n\ny\n\n', 'Q \n\n']);
  });

  it('a policy writing hundreds of tiny steps costs at most max_prefixes calls', async () => {
    const { backend, requests } = lm(() => 0.5);
    const many = Array.from({ length: 300 }, (_, i) => `s${i}`).join('\n\n');
    const [r] = await gradeAll(build(backend, { max_prefixes: 8 }), [{ prompt: 'Q', completion: `${many}\n\n<answer>1</answer>`, reference: gold }]);
    expect(requests.length).toBe(8);
    expect(r!.details).toMatchObject({ model_steps: 300 });
    expect(requests.at(-1)!.continuation).toBe('C');
  });

  it('bad params name the field; a backend failure is an error on the rollout in a spec, never a score', async () => {
    const { backend } = lm(() => 0.5);
    expect(() => build(backend, { step_delimiter: '(' })).toThrow(/invalid RE2/);
    expect(() => build(backend, { step_delimiter: 'x*' })).toThrow(/empty string/);
    expect(() => build(backend, { template: '{{prompt}}' })).toThrow(/must contain \{\{prefix\}\}/);
    expect(() => build(backend, { template: '{{prefix}}{{query}}' })).toThrow(/unknown placeholder \{\{query\}\}/);
    const g = build(backend);
    await expect(gradeAll(g, [{ prompt: 'FAIL', completion, reference: gold }])).rejects.toThrow(/model server 500/);
  });

  it('on a real model (tiny GGUF through llama.cpp): the PFR equals the mean, over prefixes, of the gold suffix\'s mean token probability from an independent forward pass', async () => {
    const tiny = tempTinyModel({ seed: 5 });
    try {
      const spec = parseSpec({
        backends: { policy: { type: 'gguf', path: tiny.path, cache: false } },
        components: [{ name: 'pfr', grader: 'path_faithfulness', backend: 'policy' }],
      });
      const compiled = compileSpec(spec, { specDir: tiny.dir });
      try {
        const row = { id: 'a', prompt: 'Q: speed?\n', completion: 'd=120\n\nt=2\n\n<answer>60</answer>', reference: 'v=d/t\n\nv=120/2\n\nv=60' };
        const { results } = await scoreBatch(compiled, [row]);
        const ref = (prompt: string, cont: string) => {
          const p = [tiny.model.bos, ...referenceTokenize(tiny.model, prompt)];
          const c = referenceTokenize(tiny.model, cont);
          const { logits } = referenceForward(tiny.model, [...p, ...c]);
          return c.reduce((a, t, i) => a + Math.exp(logSoftmax(logits[p.length - 1 + i]!)[t]!), 0) / c.length;
        };
        const want = (ref('Q: speed?\nd=120\n\n', 'v=120/2\n\nv=60') + ref('Q: speed?\nd=120\n\nt=2\n\n', 'v=60')) / 2;
        expect(results[0]!.errors).toBeUndefined();
        expect(results[0]!.components.pfr).toBeCloseTo(want, 4);
      } finally {
        await compiled.close();
      }
    } finally {
      tiny.cleanup();
    }
  });
});
