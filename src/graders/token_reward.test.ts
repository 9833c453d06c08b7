import { describe, expect, it } from 'vitest';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { LogprobRequest } from '../backends/types.js';
import { logSoftmax, referenceForward, referenceTokenize, tempTinyModel } from '../backends/testing/tiny_model.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import { buildGrader, gradeAll } from './harness.js';
import { tokenRewardGrader } from './token_reward.js';
import { ParamError } from './types.js';

/** A character-level LM whose token log-probs come from `lp(prompt, char index)`. */
function charLm(name: string, lp: (prompt: string, i: number) => number) {
  const requests: LogprobRequest[] = [];
  const backend = functionBackend(name, {
    logprobs: async (req) => {
      requests.push(req);
      if (req.prompt.includes('FAIL')) throw new Error('model server 500');
      return { tokens: [...req.continuation], logprobs: [...req.continuation].map((_, i) => lp(req.prompt, i)) };
    },
  });
  return { backend, requests };
}

describe('token_reward: tgdpo', () => {
  it('r_t = β·(log π_RM − log π_ref) per token; score Σ r_t (the implicit reward); details carry tokens and token rewards', async () => {
    const rm = charLm('rm', (_, i) => [-1, -2][i]!);
    const ref = charLm('sft', (_, i) => [-3, -1][i]!);
    const g = buildGrader(tokenRewardGrader, { variant: 'tgdpo', model: 'rm', reference_model: 'sft', beta: 0.1 }, 'tok', { backends: resolverOf([rm.backend, ref.backend]) });
    const [r] = await gradeAll(g, [{ prompt: 'Q ', completion: 'ab' }]);
    expect(r!.score).toBeCloseTo(0.1, 14);
    expect(r!.details!.tokens).toEqual(['a', 'b']);
    const tr = r!.details!.token_rewards as number[];
    expect(tr[0]).toBeCloseTo(0.2, 14);
    expect(tr[1]).toBeCloseTo(-0.1, 14);
    expect(rm.requests).toEqual([{ prompt: 'Q ', continuation: 'ab' }]);
  });

  it('an empty completion is null (unbounded, as dpo_implicit); different tokenizations and backend failures are errors', async () => {
    const rm = charLm('rm', () => -1);
    const other = functionBackend('sft', { logprobs: async (req) => ({ tokens: [req.continuation], logprobs: [-1] }) });
    const g = buildGrader(tokenRewardGrader, { variant: 'tgdpo', model: 'rm', reference_model: 'sft', beta: 0.1 }, 'tok', { backends: resolverOf([rm.backend, other]) });
    const [e] = await gradeAll(g, [{ prompt: 'Q', completion: '' }]);
    expect(e!.score).toBeNull();
    await expect(gradeAll(g, [{ prompt: 'Q', completion: 'ab' }])).rejects.toThrow(/tokenize the completion differently \(2 vs 1 tokens\)/);
    const same = buildGrader(tokenRewardGrader, { variant: 'tgdpo', model: 'rm', reference_model: 'rm', beta: 0.1 }, 'tok', { backends: resolverOf([rm.backend]) });
    await expect(gradeAll(same, [{ prompt: 'FAIL', completion: 'ab' }])).rejects.toThrow(/model server 500/);
  });

  it('params: tgdpo needs model, reference_model and beta; t_reg params are refused on tgdpo and the other way round', () => {
    const ctx = { backends: resolverOf([charLm('rm', () => -1).backend]) };
    const fails = (p: Record<string, unknown>, param: string) => {
      try {
        buildGrader(tokenRewardGrader, p, 'tok', ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(ParamError);
        expect((e as ParamError).param).toBe(param);
        return;
      }
      throw new Error(`expected a ParamError on ${param}`);
    };
    fails({ variant: 'tgdpo', model: 'rm', reference_model: 'rm' }, 'beta');
    fails({ variant: 'tgdpo', model: 'rm', reference_model: 'rm', beta: 0.1, normalize: 'none' }, 'normalize');
    fails({ variant: 't_reg', backend: 'rm', beta: 0.1 }, 'beta');
    fails({ variant: 't_reg' }, 'backend');
    fails({ variant: 't_reg', backend: 'rm', better_template: 'x {{prompt}}', worse_template: 'x {{prompt}}' }, 'worse_template');
    fails({ variant: 't_reg', backend: 'rm', better_template: 'no prompt' }, 'better_template');
    fails({ variant: 'tgdpo', model: 'nope', reference_model: 'rm', beta: 0.1 }, 'model');
  });
});

describe('token_reward: t_reg ([INF] templates and normalisation)', () => {
  // The better-prompted model gives the first character p 0.8 and the second 0.2; the worse-prompted one 0.4 each.
  const lm = () => charLm('policy', (prompt, i) => (prompt.includes('as well as you possibly can') ? Math.log([0.8, 0.2][i]!) : Math.log(0.4)));

  it('Δ_t = log p_better − log p_worse: [ln 2, −ln 2] → sigmoid [1/6, −1/6], mean 0; max_abs [1, −1]; none [ln 2, −ln 2]', async () => {
    const { backend, requests } = lm();
    const ctx = { backends: resolverOf([backend]) };
    const row = { prompt: 'Write a haiku.', completion: 'ab' };
    const [s] = await gradeAll(buildGrader(tokenRewardGrader, { variant: 't_reg', backend: 'policy' }, 'tok', ctx), [row]);
    const tr = s!.details!.token_rewards as number[];
    expect(tr[0]).toBeCloseTo(1 / 6, 14); // σ(ln 2) − ½ = 2/3 − 1/2
    expect(tr[1]).toBeCloseTo(-1 / 6, 14);
    expect(s!.score).toBeCloseTo(0, 14);
    expect(requests.map((r) => r.prompt)).toEqual([
      'Write a haiku.\n\n(Respond as well as you possibly can: helpful, correct, clear and honest.)\n\n',
      'Write a haiku.\n\n(Respond badly: unhelpful, wrong, unclear or dishonest.)\n\n',
    ]);
    const [m] = await gradeAll(buildGrader(tokenRewardGrader, { variant: 't_reg', backend: 'policy', normalize: 'max_abs' }, 'tok', ctx), [row]);
    expect(m!.details!.token_rewards).toEqual([1, -1]);
    const [n] = await gradeAll(buildGrader(tokenRewardGrader, { variant: 't_reg', backend: 'policy', normalize: 'none' }, 'tok', ctx), [row]);
    expect((n!.details!.token_rewards as number[])[0]).toBeCloseTo(Math.LN2, 14);
  });

  it('null rule: an empty completion scores the floor (−½ sigmoid, −1 max_abs) or null (none); a missing meta placeholder → null', async () => {
    const { backend, requests } = lm();
    const ctx = { backends: resolverOf([backend]) };
    const score = async (p: Record<string, unknown>, row: Record<string, unknown>) => (await gradeAll(buildGrader(tokenRewardGrader, { variant: 't_reg', backend: 'policy', ...p }, 'tok', ctx), [row as never]))[0]!.score;
    expect(await score({}, { prompt: 'Q', completion: '' })).toBe(-0.5);
    expect(await score({ normalize: 'max_abs' }, { prompt: 'Q', completion: '' })).toBe(-1);
    expect(await score({ normalize: 'none' }, { prompt: 'Q', completion: '' })).toBeNull();
    expect(await score({ better_template: '{{prompt}} as {{meta.persona}}:' }, { prompt: 'Q', completion: 'ab' })).toBeNull();
    expect(requests).toEqual([]);
    // Every non-empty completion scores above the sigmoid floor: no completion does worse than saying nothing.
    expect(await score({}, { prompt: 'Q', completion: 'ab' })).toBeGreaterThan(-0.5);
  });
});

describe('credit.token_rewards: {signal} in the pipeline', () => {
  it('on two real models (tiny GGUFs): the trainer gets r_t = β·(log π_RM − log π_ref) on every token plus the reward on the last, matching an independent forward pass', async () => {
    const rmModel = tempTinyModel({ seed: 11 });
    const refModel = tempTinyModel({ seed: 23 });
    try {
      const spec = parseSpec({
        backends: { rm: { type: 'gguf', path: rmModel.path, cache: false }, sft: { type: 'gguf', path: refModel.path, cache: false } },
        components: [
          { name: 'tok', grader: 'token_reward', variant: 'tgdpo', model: 'rm', reference_model: 'sft', beta: 0.1, weight: 0 },
          { name: 'ok', grader: 'exact' },
        ],
        credit: { method: 'outcome', token_rewards: { signal: 'tok', weight: 2 } },
      });
      const compiled = compileSpec(spec, { specDir: rmModel.dir });
      try {
        const prompt = 'Q: 2+3?\n';
        const completion = 'It is 5';
        const n = referenceTokenize(rmModel.model, completion).length;
        const { results } = await scoreBatch(compiled, [
          { id: 'a', prompt, completion, reference: 'It is 5', response_length: n },
          { id: 'b', prompt, completion, reference: 'It is 5', response_length: n + 1 },
          { id: 'c', prompt, completion, reference: 'It is 5' },
          { id: 'd', prompt, completion, reference: 'It is 5', response_length: n, steps: [{ last_token: 1 }, { last_token: n - 1 }] },
        ]);
        const ref = (m: typeof rmModel.model) => {
          const p = [m.bos, ...referenceTokenize(m, prompt)];
          const c = referenceTokenize(m, completion);
          const { logits } = referenceForward(m, [...p, ...c]);
          return c.map((t, i) => logSoftmax(logits[p.length - 1 + i]!)[t]!);
        };
        const lpRm = ref(rmModel.model);
        const lpRef = ref(refModel.model);
        const want = lpRm.map((x, t) => 2 * 0.1 * (x - lpRef[t]!) + (t === n - 1 ? 1 : 0));
        const got = results[0]!.token_rewards as number[];
        expect(results[0]!.errors).toBeUndefined();
        expect(got.length).toBe(n);
        got.forEach((v, t) => expect(v).toBeCloseTo(want[t]!, 4));
        expect(results[0]!.components.tok).toBeCloseTo(lpRm.reduce((a, x, t) => a + 0.1 * (x - lpRef[t]!), 0), 4);
        expect(results[0]!.reward).toBe(1); // the signal's weight 0 keeps it out of the scalar reward
        // A response length the signal does not match, or none at all, is an error on that rollout only.
        expect(results[1]!.token_rewards).toBeUndefined();
        expect(results[1]!.errors).toEqual([{ component: 'credit', message: `the token signal "tok" has ${n} tokens for a response of ${n + 1}: its backend must tokenize as the policy does` }]);
        expect(results[2]!.errors![0]!.message).toMatch(/response_length or completion_ids .* is required/);
        expect(results[2]!.reward).toBe(1);
        // With steps: outcome credit gives each step the episode reward (1) on its last token, plus the signal everywhere.
        const stepped = results[3]!.token_rewards as number[];
        expect(results[3]!.errors).toBeUndefined();
        stepped.forEach((v, t) => expect(v).toBeCloseTo(2 * 0.1 * (lpRm[t]! - lpRef[t]!) + (t === 1 || t === n - 1 ? 1 : 0), 4));
        expect(results[3]!.token_advantages).toHaveLength(n);
      } finally {
        await compiled.close();
      }
    } finally {
      rmModel.cleanup();
      refModel.cleanup();
    }
  });

  it('the boolean form is unchanged: step rewards on their last tokens', async () => {
    const spec = parseSpec({
      backends: {},
      components: [{ name: 'ok', grader: 'exact' }],
      credit: { method: 'outcome', token_rewards: true },
    });
    const compiled = compileSpec(spec, { specDir: process.cwd() });
    const { results } = await scoreBatch(compiled, [{ id: 'a', completion: 'x', reference: 'x', response_length: 3, steps: [{ last_token: 0 }, { last_token: 2 }] }]);
    expect(results[0]!.token_rewards).toEqual([1, 0, 1]); // outcome credit: each step carries the episode reward
    await compiled.close();
  });

  it('a signal naming no rollout-scoped component is a spec error at credit.token_rewards.signal', () => {
    const spec = parseSpec({ components: [{ name: 'ok', grader: 'exact' }], credit: { method: 'outcome', token_rewards: { signal: 'tok' } } });
    expect(() => compileSpec(spec, { specDir: process.cwd() })).toThrow(/credit\.token_rewards\.signal: names "tok", which is not a rollout-scoped component/);
  });
});
