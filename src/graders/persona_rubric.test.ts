import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionBackend, resolverOf } from '../backends/fake.js';
import type { ChatRequest } from '../backends/types.js';
import { buildGrader, gradeAll } from './harness.js';
import { ParamError } from './types.js';
import { fencedParts, scriptedJudge } from './judge/testing.js';
import { seededRandom } from './judge/seeded.js';
import { indexPrototypes, mixPrototypeScore, nearestNeighbors, personaRubricGrader, rubricScore } from './persona_rubric.js';

const dir = mkdtempSync(join(tmpdir(), 'rk-persona-rubric-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chain = (items: [number, number][]) => JSON.stringify({ persona: 'Busy engineer who wants short answers.', rubric: items.map(([weight, score], i) => ({ criterion: `c${i}`, weight, score })) });

/** The worked example's judge (scale 1–5): the user's chains by seed, and one chain per neighbour history. */
const SELF: Record<number, string> = {
  0: chain([[0.5, 5], [0.5, 3]]), // 4 → 0.75
  1: chain([[1, 3]]), // 3 → 0.5
  2: chain([[2, 5]]), // 5 → 1
  3: chain([[3, 4], [1, 4]]), // 4 → 0.75
};
const NEIGHBOR: Record<string, string> = { 'likes detail': chain([[1, 2]]), 'likes jokes': chain([[1, 3]]), 'far away': chain([[1, 5]]) };

function workedJudge() {
  return scriptedJudge((req: ChatRequest) => {
    const h = fencedParts(req).get('history')!;
    if (h === 'prefers brevity') return SELF[req.seed!]!;
    return NEIGHBOR[h] ?? 'not json';
  });
}

const EMB: Record<string, number[]> = {
  'prefers brevity': [1, 0.05],
  'likes detail': [1, 0.1],
  'likes jokes': [0.9, 0.2],
  'far away': [0.1, 1],
  'other cluster': [0, 1],
};
function encoder() {
  const seen: string[] = [];
  const backend = functionBackend('enc', {
    embed: async (texts) => {
      seen.push(...texts);
      return { vectors: texts.map((t) => EMB[t] ?? [0.5, 0.5]) };
    },
  });
  return { backend, seen };
}

const protoFile = join(dir, 'protos.json');
writeFileSync(
  protoFile,
  JSON.stringify({
    prototypes: [
      {
        id: 'brief',
        members: [
          { user: 'u1', history: 'prefers brevity', embedding: [1, 0.05] }, // the user: never their own neighbour
          { user: 'n1', history: 'likes detail', embedding: [1, 0.1] },
          { user: 'n2', history: 'likes jokes' }, // embedded on first use
          { user: 'n3', history: 'far away', embedding: [0.1, 1] },
        ],
      },
      { id: 'other', centroid: [0, 1], members: [{ user: 'm1', history: 'other cluster', embedding: [0, 1] }] },
    ],
  }),
);

const row = { prompt: 'Explain DNS.', completion: 'DNS maps names to IP addresses.', meta: { user: 'u1', user_history: 'prefers brevity' } };

describe('rubricScore, mixPrototypeScore, nearestNeighbors', () => {
  it('weighted overall score on the 1..N scale, mapped to [0, 1]', () => {
    expect(rubricScore([{ weight: 0.6, score: 9 }, { weight: 0.4, score: 4 }], 10)).toBeCloseTo(6 / 9, 14);
    expect(rubricScore([{ weight: 0.5, score: 5 }, { weight: 0.5, score: 3 }], 5)).toBeCloseTo(0.75, 14);
  });

  it('the authors\' mix: (1−λ)·self + λ·neighbours, renormalised over the sides with a score; λ = 0 is the individual score', () => {
    expect(mixPrototypeScore(0.75, 0.375, 0.5)).toBeCloseTo(0.5625, 14);
    expect(mixPrototypeScore(0.75, 0.375, 0)).toBe(0.75);
    expect(mixPrototypeScore(0.75, null, 0.5)).toBe(0.75);
    expect(mixPrototypeScore(null, 0.375, 0.5)).toBe(0.375);
    expect(mixPrototypeScore(0.75, 0.375, 1)).toBe(0.375);
    expect(mixPrototypeScore(null, null, 0.5)).toBeNull();
  });

  it('nearest prototype by centroid cosine, then its most similar members, the user excluded', () => {
    const index = indexPrototypes([
      { id: 'a', members: [{ user: 'x', history: 'hx', embedding: [3, 4] }, { user: 'y', history: 'hy', embedding: [1, 0] }] },
      { id: 'b', centroid: [0, -1], members: [{ user: 'z', history: 'hz', embedding: [0, -1] }] },
    ]);
    const near = nearestNeighbors([1, 0.1], index, 5, 'y');
    expect(near.prototype).toBe('a');
    expect(near.members.map((m) => m.user)).toEqual(['x']);
    expect(nearestNeighbors([0, -2], index, 1).prototype).toBe('b');
    expect(() => nearestNeighbors([1, 0, 0], index, 1)).toThrow(/dimensions differ/);
  });
});

describe('persona_rubric (P-GenRM)', () => {
  it('worked example: self chains 0.75, 0.5, 1, 0.75 → 0.75; neighbours 0.25, 0.5 → 0.375; λ 0.5 → 0.5625; λ 0 → 0.75', async () => {
    const j = workedJudge();
    const enc = encoder();
    const ctx = { backends: resolverOf([j.backend, enc.backend]), specDir: dir };
    const g = buildGrader(personaRubricGrader, { backend: 'judge', embed_backend: 'enc', prototypes: 'protos.json', neighbors: 2, scale_max: 5 }, 'personal', ctx);
    const [r] = await gradeAll(g, [row]);
    expect(r!.score).toBeCloseTo(0.5625, 14);
    expect(r!.details).toMatchObject({ self: 0.75, self_scores: [0.75, 0.5, 1, 0.75], prototype: 'brief', neighbors: ['n1', 'n2'], neighbor_scores: [0.25, 0.5], neighbor_mean: 0.375 });
    // 4 seeded self chains at temperature 1 + 2 neighbour chains; the completion is fenced data.
    expect(j.requests.length).toBe(6);
    expect(j.requests.slice(0, 4).map((q) => [q.seed, q.temperature])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
    expect(fencedParts(j.requests[0]!).get('completion')).toBe(row.completion);
    expect(enc.seen.sort()).toEqual(['likes jokes', 'prefers brevity']);

    const j0 = workedJudge();
    const g0 = buildGrader(personaRubricGrader, { backend: 'judge', embed_backend: 'enc', prototypes: protoFile, neighbors: 2, scale_max: 5, prototype_weight: 0 }, 'personal', { backends: resolverOf([j0.backend, enc.backend]) });
    expect((await gradeAll(g0, [row]))[0]!.score).toBe(0.75);
    const jSelf = workedJudge();
    const gSelf = buildGrader(personaRubricGrader, { backend: 'judge', scale_max: 5 }, 'personal', { backends: resolverOf([jSelf.backend]) });
    const [self] = await gradeAll(gSelf, [row]);
    expect(self!.score).toBe(0.75);
    expect(jSelf.requests.length).toBe(4);
  });

  it('individual-level scaling: the spread of the score over responses of equal worth falls with the number of chains', async () => {
    // Each chain is a fair 1..5 die seeded by (response, seed): every response has the same expected score.
    const noisy = scriptedJudge((req) => {
      const c = fencedParts(req).get('completion')!;
      return chain([[1, 1 + Math.floor(seededRandom(`${c}/${req.seed}`)() * 5)]]);
    });
    const rows = Array.from({ length: 200 }, (_, i) => ({ ...row, completion: `answer ${i}` }));
    const variance = async (samples: number) => {
      const g = buildGrader(personaRubricGrader, { backend: 'judge', samples, scale_max: 5 }, 'p', { backends: resolverOf([noisy.backend]) });
      const xs = (await gradeAll(g, rows)).map((o) => o.score!);
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length;
    };
    const v1 = await variance(1);
    const v8 = await variance(8);
    expect(v1).toBeGreaterThan(0.05); // a die on 0, .25, .5, .75, 1: variance 0.125
    expect(v8).toBeLessThan(v1 / 4); // ≈ v1 / 8
  });

  it('null rule: no history → null, a blank completion → 0, both without a call; a meta placeholder the rollout lacks → null', async () => {
    const j = workedJudge();
    const g = buildGrader(personaRubricGrader, { backend: 'judge', scale_max: 5, template: '{{history}} {{meta.lang}} {{completion}}' }, 'p', { backends: resolverOf([j.backend]) });
    const out = await gradeAll(g, [
      { prompt: 'Q', completion: 'A' },
      { prompt: 'Q', completion: 'A', meta: { user_history: '  ' } },
      { prompt: 'Q', completion: ' \n', meta: { user_history: 'prefers brevity', lang: 'en' } },
      { prompt: 'Q', completion: 'A', meta: { user_history: 'prefers brevity' } },
    ]);
    expect(out.map((o) => o.score)).toEqual([null, null, 0, null]);
    expect(out[3]!.details!.reason).toBe('rollout has no meta.lang');
    expect(j.requests).toEqual([]);
  });

  it('an unusable chain is dropped (the authors\' rule); none usable is an error, never a score; a backend failure is an error', async () => {
    let n = 0;
    const flaky = scriptedJudge((req) => (req.seed === 1 ? 'I think it is good' : chain([[1, 5]])));
    const g = buildGrader(personaRubricGrader, { backend: 'judge', scale_max: 5, parse_retries: 0 }, 'p', { backends: resolverOf([flaky.backend]) });
    const [r] = await gradeAll(g, [row]);
    expect(r!.score).toBe(1);
    expect(r!.details).toMatchObject({ self_scores: [1, null, 1, 1] });

    const broken = scriptedJudge(() => '{"score": 10}');
    const gb = buildGrader(personaRubricGrader, { backend: 'judge', scale_max: 5, parse_retries: 1 }, 'p', { backends: resolverOf([broken.backend]) });
    await expect(gradeAll(gb, [row])).rejects.toThrow(/no usable evaluation chain in 4 samples/);
    expect(broken.requests.length).toBe(8);

    const down = scriptedJudge(() => {
      n++;
      throw new Error('HTTP 503');
    });
    const gd = buildGrader(personaRubricGrader, { backend: 'judge' }, 'p', { backends: resolverOf([down.backend]) });
    await expect(gradeAll(gd, [row])).rejects.toThrow(/HTTP 503/);
    expect(n).toBeGreaterThan(0);

    const encDown = functionBackend('enc', { embed: async () => { throw new Error('encoder offline'); } });
    const ge = buildGrader(personaRubricGrader, { backend: 'judge', embed_backend: 'enc', prototypes: protoFile }, 'p', { backends: resolverOf([workedJudge().backend, encDown]) });
    await expect(gradeAll(ge, [row])).rejects.toThrow(/encoder offline/);
  });

  it('bad params name the field', () => {
    const ctx = { backends: resolverOf([workedJudge().backend, encoder().backend]), specDir: dir };
    const b = (p: Record<string, unknown>) => () => buildGrader(personaRubricGrader, { backend: 'judge', ...p }, 'p', ctx);
    const fails = (p: Record<string, unknown>, param: string, msg: RegExp) => {
      try {
        b(p)();
      } catch (e) {
        expect(e).toBeInstanceOf(ParamError);
        expect((e as ParamError).param).toBe(param);
        expect((e as Error).message).toMatch(msg);
        return;
      }
      throw new Error(`expected a ParamError on ${param}`);
    };
    fails({ temperature: 0 }, 'temperature', /must be > 0 when samples > 1/);
    expect(b({ temperature: 0, samples: 1 })).not.toThrow();
    fails({ prototypes: 'protos.json' }, 'embed_backend', /required with `prototypes`/);
    fails({ embed_backend: 'enc' }, 'embed_backend', /only applies with `prototypes`/);
    fails({ prototypes: 'missing.json', embed_backend: 'enc' }, 'prototypes', /cannot read/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ prototypes: [{ id: 'p', members: [{ user: 'a' }] }] }));
    fails({ prototypes: 'bad.json', embed_backend: 'enc' }, 'prototypes', /prototypes\.0\.members\.0\.history/);
    fails({ template: '{{prompt}} {{completion}}' }, 'template', /must contain \{\{history\}\}/);
    fails({ system: 'Judge {{completion}}' }, 'system', /no placeholders/);
  });
});
