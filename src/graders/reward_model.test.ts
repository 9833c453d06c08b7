import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { Backend, RewardInput } from '../backends/types.js';
import type { Sample } from '../rollout/types.js';
import { toSample } from '../rollout/sample.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import type { Grader, GraderKind, RolloutGrader } from './types.js';
import { gradeAll } from './harness.js';
import { cooperInput, polarInput, rewardModelGrader } from './reward_model.js';
import { fakeReward, startFakeOpenAIServer } from '../backends/testing/openai_server.js';

function build<S extends z.ZodRawShape>(kind: GraderKind<S>, params: Record<string, unknown>, backends: Backend[]): Grader {
  return kind.create(z.strictObject(kind.params).parse(params) as z.infer<z.ZodObject<S>>, { specDir: '.', name: 't', backends: resolverOf(backends) });
}

function rollout(g: Grader): RolloutGrader {
  if (g.scope !== 'rollout') throw new Error('expected a rollout grader');
  return g;
}

/** A reward model scripted by a function of one input; records every call's inputs. */
function scripted(score: (i: RewardInput) => number) {
  const calls: RewardInput[][] = [];
  const backend = functionBackend('rm', {
    reward: async (inputs) => {
      calls.push(inputs);
      if (inputs.some((i) => i.completion.includes('OUTAGE'))) throw new Error('503 Service Unavailable');
      return { scores: inputs.map(score) };
    },
  });
  return { backend, calls };
}

const sample = (id: string, completion: string, reference?: unknown, prompt = 'Q'): Sample => toSample({ id, completion, reference, prompt });

describe('reward_model', () => {
  it('returns the raw score; the backend sees prompt and completion', async () => {
    const { backend, calls } = scripted((i) => i.completion.length - 2.5);
    const out = await gradeAll(build(rewardModelGrader, { backend: 'rm' }, [backend]), [{ prompt: 'Why?', completion: 'abcd' }]);
    expect(out[0]).toEqual({ score: 1.5, details: { raw: 1.5 } });
    expect(calls).toEqual([[{ prompt: 'Why?', completion: 'abcd' }]]);
  });

  it('affine and sigmoid output mappings', async () => {
    const { backend } = scripted(() => 2);
    const affine = await gradeAll(build(rewardModelGrader, { backend: 'rm', scale: 0.5, offset: -3 }, [backend]), [{ completion: 'x' }]);
    expect(affine[0]!.score).toBe(-2);
    const sig = await gradeAll(build(rewardModelGrader, { backend: 'rm', sigmoid: true }, [backend]), [{ completion: 'x' }]);
    expect(sig[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    const both = await gradeAll(build(rewardModelGrader, { backend: 'rm', sigmoid: true, scale: 0.5, offset: -1 }, [backend]), [{ completion: 'x' }]);
    expect(both[0]!.score).toBe(0.5);
  });

  it('batches the rollouts of one tick, up to batch_size per call; a failed call fails only its rollouts', async () => {
    const { backend, calls } = scripted((i) => Number(i.completion.slice(1)));
    const g = rollout(build(rewardModelGrader, { backend: 'rm', batch_size: 2 }, [backend]));
    const results = await Promise.allSettled(['c1', 'c2', 'OUTAGE', 'c4', 'c5'].map((c, i) => g.grade(sample(`r${i}`, c))));
    expect(calls.map((c) => c.map((i) => i.completion))).toEqual([['c1', 'c2'], ['OUTAGE', 'c4'], ['c5']]);
    expect(results.map((r) => (r.status === 'fulfilled' ? (r.value as { score: number }).score : (r.reason as Error).message))).toEqual([
      1,
      2,
      '503 Service Unavailable',
      '503 Service Unavailable',
      5,
    ]);
  });

  it('a mid-batch outage through the pipeline: errors and null components on the affected rollouts only', async () => {
    const { backend } = scripted(() => 0.25);
    const base = compileSpec(parseSpec({ components: [{ name: 'rm', grader: 'exact' }] }));
    const compiled = { ...base, graders: [build(rewardModelGrader, { backend: 'rm', batch_size: 2 }, [backend])] };
    const rollouts = ['a', 'b', 'OUTAGE', 'd', 'e'].map((completion, i) => ({ id: `r${i}`, prompt: 'Q', completion }));
    const { results } = await scoreBatch(compiled, rollouts);
    expect(results.map((r) => r.components.rm)).toEqual([0.25, 0.25, null, null, 0.25]);
    expect(results.map((r) => r.errors?.[0]?.message ?? null)).toEqual([null, null, '503 Service Unavailable', '503 Service Unavailable', null]);
  });

  it('reference_conditioned: the reference goes to the backend; none → null with a reason; a list → the best', async () => {
    const { backend, calls } = scripted((i) => (i.reference === i.completion ? 1 : -1));
    const g = build(rewardModelGrader, { backend: 'rm', reference_conditioned: true }, [backend]);
    const out = await gradeAll(g, [
      { prompt: 'Q', completion: 'yes', reference: 'yes' },
      { prompt: 'Q', completion: 'yes' },
      { prompt: 'Q', completion: 'yes', reference: ['no', 'yes'] },
      { prompt: 'Q', completion: 'yes', reference: '' },
    ]);
    expect(out.map((o) => o.score)).toEqual([1, null, 1, null]);
    expect(out[1]!.details).toEqual({ reason: 'no text reference for the reference-conditioned reward model' });
    expect(out[2]!.details).toMatchObject({ reference_index: 1 });
    expect(calls.flat()).toContainEqual({ prompt: 'Q', completion: 'yes', reference: 'no' });
  });

  it("POLAR input format: prompt\\nreference<|reward|>prompt\\noutput[UNUSED_TOKEN_130] (pretrain: no newlines)", async () => {
    expect(polarInput('P', 'R', 'O', 'sft')).toEqual({ prompt: 'P\nR<|reward|>P\n', completion: 'O[UNUSED_TOKEN_130]' });
    expect(polarInput('P', 'R', 'O', 'pretrain')).toEqual({ prompt: 'PR<|reward|>P', completion: 'O[UNUSED_TOKEN_130]' });
    const { backend, calls } = scripted(() => 0);
    await gradeAll(build(rewardModelGrader, { backend: 'rm', input_format: 'polar' }, [backend]), [
      {
        prompt: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Count the r in strawberry.' },
        ],
        completion: [{ role: 'assistant', content: '3' }],
        reference: 'There are 3.',
      },
    ]);
    const [input] = calls[0]!;
    expect(input!.prompt + input!.completion).toBe(
      'Be brief.\nCount the r in strawberry.\nThere are 3.<|reward|>Be brief.\nCount the r in strawberry.\n3[UNUSED_TOKEN_130]',
    );
    expect(input!.reference).toBeUndefined();
  });

  it('POLAR claim with a similarity discriminator: the reference itself scores highest', async () => {
    // Mock discriminator: word-overlap (Jaccard) between the reference half and the candidate half.
    const words = (t: string) => new Set(t.toLowerCase().split(/\W+/).filter(Boolean));
    const { backend } = scripted((i) => {
      const text = i.prompt + i.completion;
      const [refHalf, outHalf] = text.split('<|reward|>') as [string, string];
      const ref = words(refHalf.split('\n').slice(1).join('\n'));
      const out = words(outHalf.replace('[UNUSED_TOKEN_130]', '').split('\n').slice(1).join('\n'));
      const inter = [...ref].filter((w) => out.has(w)).length;
      return inter / new Set([...ref, ...out]).size;
    });
    const g = build(rewardModelGrader, { backend: 'rm', input_format: 'polar' }, [backend]);
    const reference = 'There are three r letters in strawberry';
    const out = await gradeAll(
      g,
      [reference, 'There are three r in strawberry', 'three', 'two'].map((completion) => ({ prompt: 'How many r in strawberry?', completion, reference })),
    );
    const scores = out.map((o) => o.score!);
    expect(scores[0]).toBe(1);
    for (const s of scores.slice(1)) expect(s).toBeLessThan(scores[0]!);
    expect(scores[1]).toBeGreaterThan(scores[2]!);
    expect(scores[3]).toBe(0);
  });

  it('a non-finite score is an error, never a number', async () => {
    const { backend } = scripted(() => NaN);
    await expect(rollout(build(rewardModelGrader, { backend: 'rm' }, [backend])).grade(sample('a', 'x'))).rejects.toThrow(/non-finite reward/);
  });

  it('params', () => {
    const { backend } = scripted(() => 0);
    expect(() => build(rewardModelGrader, { backend: 'rm', input_format: 'polar', reference_conditioned: false }, [backend])).toThrow(/reference_conditioned/);
    expect(() => build(rewardModelGrader, { backend: 'enc' }, [backend])).toThrow(/unknown backend "enc"/);
    const enc = functionBackend('enc', { embed: async () => ({ vectors: [] }) });
    expect(() => build(rewardModelGrader, { backend: 'enc' }, [enc])).toThrow(/does not offer reward/);
    expect(() => rewardModelGrader.create(z.strictObject(rewardModelGrader.params).parse({ backend: 'rm' }), { specDir: '.', name: 't' })).toThrow(
      /no `backends` section/,
    );
    expect(() => build(rewardModelGrader, { backend: 'rm', batch_size: 0 }, [backend])).toThrow();
  });

  describe('Cooper VerifyRM (input_format: cooper, σ(logit)) through the fake OpenAI server', () => {
    const verifyText = '<question>1+1?</question>\n<reference_answer>2</reference_answer>\n<completion>It is 2.</completion>';

    it('cooperInput lays out <question>/<reference_answer>/<completion>', () => {
      const i = cooperInput('1+1?', '2', 'It is 2.');
      expect(i.prompt + i.completion).toBe(verifyText);
    });

    it('mechanics-C §9: logit 1.2 → reward σ(1.2) = 0.7685; binarize (reward_scale) → 1; logit −0.3 → 0', async () => {
      const server = await startFakeOpenAIServer();
      const seen: string[] = [];
      server.handle('pooling', (req) => {
        const texts = req.body.input as string[];
        seen.push(...texts);
        return { object: 'list', data: texts.map((t, index) => ({ index, object: 'pooling', data: [t.includes('It is 2.') ? 1.2 : -0.3] })) };
      });
      try {
        const spec = parseSpec({
          backends: { verifyrm: { type: 'openai', base_url: server.baseURL, model: 'verifyrm', reward_format: 'pooling', cache: false } },
          components: [
            { name: 'verify', grader: 'reward_model', backend: 'verifyrm', input_format: 'cooper', sigmoid: true },
            { name: 'verify_bin', grader: 'reward_model', backend: 'verifyrm', input_format: 'cooper', sigmoid: true, binarize: true },
          ],
        });
        const compiled = compileSpec(spec, { specDir: process.cwd() });
        try {
          const rows = [
            { prompt: '1+1?', completion: 'It is 2.', reference: '2' },
            { prompt: '1+1?', completion: 'It is 3.', reference: '2' },
            { prompt: '1+1?', completion: 'It is 2.' },
          ];
          const cont = await gradeAll(compiled.graders[0]!, rows);
          expect(cont[0]!.score).toBeCloseTo(0.7685, 4);
          expect(cont[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-1.2)), 12);
          expect(cont[1]!.score).toBeCloseTo(0.4256, 4);
          expect(cont[2]!.score).toBeNull(); // no reference: cannot judge
          const bin = await gradeAll(compiled.graders[1]!, rows);
          expect(bin.map((o) => o.score)).toEqual([1, 0, null]);
          expect(seen).toContain(verifyText);
          expect(server.counts.pooling).toBeGreaterThan(0);
        } finally {
          await compiled.close();
        }
      } finally {
        await server.close();
      }
    });

    it('a classify backend returns the probability itself: score = σ(r) of the fake model, no sigmoid needed', async () => {
      const server = await startFakeOpenAIServer();
      try {
        const spec = parseSpec({
          backends: { verifyrm: { type: 'openai', base_url: server.baseURL, model: 'verifyrm', reward_format: 'classify', reward_label_index: 1, cache: false } },
          components: [{ name: 'verify', grader: 'reward_model', backend: 'verifyrm', input_format: 'cooper' }],
        });
        const compiled = compileSpec(spec, { specDir: process.cwd() });
        try {
          const [o] = await gradeAll(compiled.graders[0]!, [{ prompt: '1+1?', completion: 'It is 2.', reference: '2' }]);
          expect(o!.score).toBeCloseTo(1 / (1 + Math.exp(-fakeReward(verifyText))), 12);
          expect(server.counts.classify).toBe(1);
        } finally {
          await compiled.close();
        }
      } finally {
        await server.close();
      }
    });

    it('cooper implies the reference; reference_conditioned: false is rejected', () => {
      const { backend } = scripted(() => 0);
      expect(() => build(rewardModelGrader, { backend: 'rm', input_format: 'cooper', reference_conditioned: false }, [backend])).toThrow(/reference_conditioned/);
    });
  });
});
