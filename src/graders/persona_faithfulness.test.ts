import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { LogprobRequest } from '../backends/types.js';
import { fakeLogprob, startFakeOpenAIServer } from '../backends/testing/openai_server.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { scoreBatch } from '../pipeline.js';
import { buildGrader, gradeAll } from './harness.js';
import { apcScore, apcTerm, personaFaithfulnessGrader, softmax } from './persona_faithfulness.js';

type Probs = { rel: [number, number]; nli: [number, number, number] };

/**
 * A scripted discriminator LM: one token per label; the probabilities of the statement named in the
 * prompt come from `table` (relevance prompts end in the yes/no question, NLI prompts carry a response).
 */
function discriminator(table: Record<string, Probs>) {
  const requests: LogprobRequest[] = [];
  const backend = functionBackend('nli', {
    logprobs: async (req) => {
      requests.push(req);
      if (req.prompt.includes('FAIL')) throw new Error('model server 500');
      const key = Object.keys(table).find((k) => req.prompt.includes(`Persona statement: ${k}\n`));
      if (!key) throw new Error(`no statement in ${req.prompt}`);
      const p = table[key]!;
      const isNli = req.prompt.includes("Character's response:");
      const labels = isNli ? [' contradicted', ' neutral', ' entailed'] : [' no', ' yes'];
      const probs = isNli ? p.nli : p.rel;
      const i = labels.indexOf(req.continuation);
      if (i < 0) throw new Error(`unexpected label ${req.continuation}`);
      // Unnormalised on purpose (× 0.5): the grader must softmax over the labels.
      return { tokens: [req.continuation], logprobs: [Math.log(probs[i]! * 0.5)] };
    },
  });
  return { backend, requests };
}

const WORKED: Record<string, Probs> = {
  'Alice is a nurse.': { rel: [0.2, 0.8], nli: [0.1, 0.2, 0.7] },
  'Alice hates coffee.': { rel: [0.9, 0.1], nli: [0.6, 0.3, 0.1] },
};
const meta = { character: 'Alice', persona: Object.keys(WORKED) };

describe('apcTerm, apcScore', () => {
  it('mechanics-B §9 worked example: 0.74 + 0.37 = 1.11', () => {
    expect(apcTerm({ relevance: [0.2, 0.8], nli: [0.1, 0.2, 0.7] })).toBeCloseTo(0.74, 14);
    expect(apcTerm({ relevance: [0.9, 0.1], nli: [0.6, 0.3, 0.1] })).toBeCloseTo(0.37, 14);
    expect(apcScore([{ relevance: [0.2, 0.8], nli: [0.1, 0.2, 0.7] }, { relevance: [0.9, 0.1], nli: [0.6, 0.3, 0.1] }])).toBeCloseTo(1.11, 14);
  });

  it('each term is in [0, 1], non-increasing in P(contradicted), non-decreasing in P(entailed) (property)', () => {
    const simplex3 = fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })).map(([a, b, c]) => softmax([a * 5, b * 5, c * 5]) as [number, number, number]);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), simplex3, fc.double({ min: 0, max: 1, noNaN: true }), (yes, nli, shift) => {
        const rel: [number, number] = [1 - yes, yes];
        const t = apcTerm({ relevance: rel, nli });
        expect(t).toBeGreaterThanOrEqual(-1e-12);
        expect(t).toBeLessThanOrEqual(1 + 1e-12);
        // Move mass `shift` of neutral to contradicted: the term cannot rise.
        const m = nli[1] * shift;
        expect(apcTerm({ relevance: rel, nli: [nli[0] + m, nli[1] - m, nli[2]] })).toBeLessThanOrEqual(t + 1e-12);
        // Move it to entailed instead: the term cannot fall.
        expect(apcTerm({ relevance: rel, nli: [nli[0], nli[1] - m, nli[2] + m] })).toBeGreaterThanOrEqual(t - 1e-12);
      }),
    );
  });
});

describe('persona_faithfulness', () => {
  it('scores the worked example through a log-prob backend: APC = 1.11 (sum), 0.555 (mean); relevance asked once per statement and query', async () => {
    const { backend, requests } = discriminator(WORKED);
    const g = buildGrader(personaFaithfulnessGrader, { backend: 'nli' }, 'apc', { backends: resolverOf([backend]) });
    const rows = [
      { prompt: 'Do you drink coffee?', completion: 'Never, I cannot stand it.', meta, group: 'q' },
      { prompt: 'Do you drink coffee?', completion: 'I work night shifts at the hospital.', meta, group: 'q' },
    ];
    const out = await gradeAll(g, rows);
    for (const o of out) expect(o.score).toBeCloseTo(1.11, 12);
    expect(out[0]!.details).toMatchObject({ statements: [{ statement: 'Alice is a nurse.', apc: expect.closeTo(0.74, 12) }, { statement: 'Alice hates coffee.', apc: expect.closeTo(0.37, 12) }] });
    // 2 statements × 2 relevance labels once (shared by both rollouts) + 2 rollouts × 2 statements × 3 NLI labels.
    expect(requests.length).toBe(4 + 12);
    const rel = requests.find((r) => r.continuation === ' yes')!;
    expect(rel.prompt).toContain('Character: Alice\n');
    expect(rel.prompt).toContain('User query: Do you drink coffee?\n');
    const mean = buildGrader(personaFaithfulnessGrader, { backend: 'nli', aggregate: 'mean' }, 'apc', { backends: resolverOf([backend]) });
    expect((await gradeAll(mean, [rows[0]!]))[0]!.score).toBeCloseTo(0.555, 12);
  });

  it('removing irrelevant, non-contradicted statements lowers APC by about their count', async () => {
    const table: Record<string, Probs> = { ...WORKED, 'Alice owns a cat.': { rel: [0.99, 0.01], nli: [0.01, 0.98, 0.01] }, 'Alice was born in May.': { rel: [0.99, 0.01], nli: [0.01, 0.98, 0.01] } };
    const { backend } = discriminator(table);
    const g = buildGrader(personaFaithfulnessGrader, { backend: 'nli' }, 'apc', { backends: resolverOf([backend]) });
    const [full, base] = await gradeAll(g, [
      { prompt: 'Coffee?', completion: 'No.', meta: { persona: Object.keys(table) } },
      { prompt: 'Coffee?', completion: 'No.', meta: { persona: Object.keys(WORKED) } },
    ]);
    expect(full!.score! - base!.score!).toBeCloseTo(2, 1);
  });

  it('null rule: no statements → null; a blank completion → 0 (the floor, no call), never the passive credit a blank reply would collect', async () => {
    const { backend, requests } = discriminator(WORKED);
    const g = buildGrader(personaFaithfulnessGrader, { backend: 'nli' }, 'apc', { backends: resolverOf([backend]) });
    const out = await gradeAll(g, [
      { prompt: 'Coffee?', completion: 'No.' },
      { prompt: 'Coffee?', completion: 'No.', meta: { persona: [] } },
      { prompt: 'Coffee?', completion: 'No.', meta: { persona: [3] } },
      { prompt: 'Coffee?', completion: '  \n', meta },
      { prompt: 'Coffee?', completion: 'No.', meta },
    ]);
    expect(out.slice(0, 3).map((o) => o.score)).toEqual([null, null, null]);
    expect(out[0]!.details!.reason).toMatch(/no meta.persona/);
    expect(out[3]!.score).toBe(0);
    expect(out[4]!.score!).toBeGreaterThan(0);
    expect(requests.every((r) => !r.prompt.includes("response: \n"))).toBe(true);
  });

  it('bad params name the field', () => {
    const { backend } = discriminator(WORKED);
    const ctx = { backends: resolverOf([backend]) };
    expect(() => buildGrader(personaFaithfulnessGrader, { backend: 'nope' }, 'apc', ctx)).toThrow(/unknown backend "nope"/);
    expect(() => buildGrader(personaFaithfulnessGrader, { backend: 'nli', nli_template: '{{statement}} {{query}}' }, 'apc', ctx)).toThrow(/must contain \{\{response\}\}/);
    expect(() => buildGrader(personaFaithfulnessGrader, { backend: 'nli', relevance_template: '{{statement}} {{reply}}' }, 'apc', ctx)).toThrow(/unknown placeholder \{\{reply\}\}/);
    expect(() => buildGrader(personaFaithfulnessGrader, { backend: 'nli', nli_labels: [' a', ' a', ' b'] }, 'apc', ctx)).toThrow(/distinct/);
    expect(() => buildGrader(personaFaithfulnessGrader, { backend: 'nli', relevance_labels: [' no'] }, 'apc', ctx)).toThrow();
  });

  it('through the fake OpenAI server in a spec: the APC the server implies; a failing server is an error on the rollout, not a score', async () => {
    const server = await startFakeOpenAIServer();
    try {
      const spec = parseSpec({
        backends: { nli: { type: 'openai', base_url: server.baseURL, model: 'nli', cache: false, retries: 0 } },
        components: [{ name: 'apc', grader: 'persona_faithfulness', backend: 'nli' }],
      });
      const compiled = compileSpec(spec, { specDir: process.cwd() });
      try {
        const rows = [{ id: 'a', prompt: 'Coffee?', completion: 'No thanks.', meta: { character: 'Alice', persona: ['Alice hates coffee.'] } }];
        const { results } = await scoreBatch(compiled, rows);
        // The fake model gives each one-token label fakeLogprob(label), whatever the context.
        const [no, yes] = softmax([' no', ' yes'].map(fakeLogprob));
        const [con, , ent] = softmax([' contradicted', ' neutral', ' entailed'].map(fakeLogprob));
        expect(results[0]!.components.apc).toBeCloseTo(no! * (1 - con!) + yes! * ent!, 12);
        expect(server.counts.completions).toBe(5); // 2 relevance labels + 3 NLI labels
        server.fail('completions', { kind: 'status', status: 400, message: 'bad request' }, 100);
        const bad = await scoreBatch(compiled, [{ ...rows[0]!, id: 'b', completion: 'Something else.' }]);
        expect(bad.results[0]!.components.apc).toBeNull();
        expect(bad.results[0]!.errors?.[0]).toMatchObject({ component: 'apc' });
      } finally {
        await compiled.close();
      }
    } finally {
      await server.close();
    }
  });
});
