import { describe, expect, it } from 'vitest';
import { functionBackend } from '../../backends/fake.js';
import type { ChatRequest } from '../../backends/types.js';
import { gradeAll } from '../harness.js';
import { ParamError } from '../types.js';
import { pairSchedule } from './modes/pairwise.js';
import { seededRandom } from './seeded.js';
import { fencedParts, judge, scriptedJudge } from './testing.js';

const userOf = (req: ChatRequest) => req.messages.filter((m) => m.role === 'user').at(-1)!.content;

describe('judge: rubric mode (HeRL)', () => {
  const rubric = [
    { criterion: 'States the final answer', weight: 2 },
    { criterion: 'Shows the steps', weight: 1 },
    { criterion: 'Gives units', weight: 1 },
  ];

  it('weights 2, 1, 1 with verdicts met, unmet, met → 0.75; the request carries the schema and the numbered items', async () => {
    const j = scriptedJudge(() => '{"items": [{"id": 3, "met": true}, {"id": 1, "met": true}, {"id": 2, "met": false}]}');
    const [g] = await gradeAll(judge({ backend: 'judge', mode: 'rubric', rubric }, [j.backend]), [{ prompt: 'How far?', completion: '12 km' }]);
    expect(g!.score).toBe(0.75);
    expect(g!.details).toEqual({
      items: [
        { criterion: 'States the final answer', weight: 2, met: true },
        { criterion: 'Shows the steps', weight: 1, met: false },
        { criterion: 'Gives units', weight: 1, met: true },
      ],
      attempts: 1,
    });
    const req = j.requests[0]!;
    expect(req.temperature).toBe(0);
    expect(req.max_tokens).toBe(1024);
    expect(req.json_schema!.name).toBe('rubric_verdicts');
    expect(req.json_schema!.schema).toMatchObject({ properties: { items: { minItems: 3, maxItems: 3 } } });
    expect(userOf(req)).toContain('1. States the final answer\n2. Shows the steps\n3. Gives units');
    expect(userOf(req)).not.toContain('weight');
    expect(fencedParts(req)).toEqual(new Map([['prompt', 'How far?'], ['completion', '12 km']]));
  });

  it('negative weights: ignored by default (HeRL clamps them to 0), subtracted when met with penalty: subtract', async () => {
    const items = [
      { criterion: 'Correct', weight: 1 },
      { criterion: 'Explains', weight: 1 },
      { criterion: 'Contains an insult', weight: -1 },
    ];
    const answer = () => '{"items": [{"id": 1, "met": true}, {"id": 2, "met": false}, {"id": 3, "met": true}]}';
    const score = async (extra: Record<string, unknown>) =>
      (await gradeAll(judge({ backend: 'judge', mode: 'rubric', rubric: items, ...extra }, [scriptedJudge(answer).backend]), [{ prompt: 'p', completion: 'c' }]))[0]!.score;
    expect(await score({})).toBe(0.5);
    expect(await score({ penalty: 'subtract' })).toBe(0);
  });

  it('without a spec rubric, each rollout\'s meta.rubric is used; absent → null with a reason, malformed → error', async () => {
    const j = scriptedJudge((req) => {
      const n = (userOf(req).match(/^\d+\. /gm) ?? []).length;
      return JSON.stringify({ items: Array.from({ length: n }, (_, k) => ({ id: k + 1, met: k === 0 })) });
    });
    const g = judge({ backend: 'judge', mode: 'rubric' }, [j.backend]);
    const out = await gradeAll(g, [
      { prompt: 'p', completion: 'c', meta: { rubric: ['Is short', 'Is polite'] } },
      { prompt: 'p', completion: 'c', meta: { rubric: [{ criterion: 'Is short', weight: 3 }, { criterion: 'Is polite' }] } },
      { prompt: 'p', completion: 'c' },
    ]);
    expect(out.map((o) => o.score)).toEqual([0.5, 0.75, null]);
    expect(out[2]!.details).toEqual({ reason: 'rollout has no meta.rubric (and the spec gives no rubric)' });
    expect(j.requests).toHaveLength(2);
    await expect(gradeAll(g, [{ prompt: 'p', completion: 'c', meta: { rubric: [{ weight: 2 }] } }])).rejects.toThrow(/^meta\.rubric\[0\]/);
    await expect(gradeAll(g, [{ prompt: 'p', completion: 'c', meta: { rubric: [{ criterion: 'Rude', weight: -1 }] } }])).rejects.toThrow(/positive weight/);
    expect(j.requests).toHaveLength(2);
  });
});

describe('judge: principle mode (RewardAnything)', () => {
  const principle = 'Prefer concise answers.';
  // The judge scores each response by the digit it holds; it sees only masked names.
  const listwise = (req: ChatRequest) => {
    const parts = [...fencedParts(req)].filter(([label]) => label.startsWith('model-'));
    const scores = Object.fromEntries(parts.map(([name, text]) => [name, Number(/\d/.exec(text)![0])]));
    const ranking = Object.keys(scores).sort((a, b) => scores[b]! - scores[a]! || a.localeCompare(b));
    return JSON.stringify({ scores, 'best-to-worst': ranking });
  };

  it('judges the group in one listwise call and maps scores back through the shuffle', async () => {
    const j = scriptedJudge(listwise);
    const g = judge({ backend: 'judge', mode: 'principle', principle }, [j.backend]);
    expect(g.scope).toBe('group');
    const completions = ['answer 1', 'answer 5', 'answer 3', 'answer 2'];
    const out = await gradeAll(g, completions.map((completion, i) => ({ id: `r${i}`, prompt: 'q', group: 'g1', completion })));
    expect(out.map((o) => o.score)).toEqual([0, 1, 0.5, 0.25]);
    expect(j.requests).toHaveLength(1);
    const req = j.requests[0]!;
    const shown = [...fencedParts(req)].filter(([l]) => l.startsWith('model-'));
    expect(shown.map(([l]) => l)).toEqual(['model-1', 'model-2', 'model-3', 'model-4']);
    // The shuffle with seed 42 for group g1 does not show the rollouts in input order…
    expect(shown.map(([, t]) => t)).not.toEqual(completions);
    // …and each rollout's details name the masked label it was shown under.
    out.forEach((o, i) => expect(shown.find(([l]) => l === o.details!.name)![1]).toBe(completions[i]));
    expect(out[1]!.details).toMatchObject({ score_raw: 5, rank: 1, group_size: 4, attempts: 1 });
    expect(userOf(req)).toContain(principle);
    // The mapping stays out of the prompt.
    expect(req.messages.map((m) => m.content).join('\n')).not.toMatch(/\br[0-3]\b/);
  });

  it('the shuffle is reproducible per group and depends on the seed', async () => {
    const shownOrder = async (group: string, seed?: number) => {
      const j = scriptedJudge(listwise);
      const params = { backend: 'judge', mode: 'principle', principle, ...(seed === undefined ? {} : { seed }) };
      await gradeAll(judge(params, [j.backend]), ['a1', 'b2', 'c3', 'd4', 'e5'].map((completion) => ({ prompt: 'q', group, completion })));
      return [...fencedParts(j.requests[0]!)].filter(([l]) => l.startsWith('model-')).map(([, t]) => t);
    };
    const first = await shownOrder('g1');
    expect(await shownOrder('g1')).toEqual(first);
    const others = [await shownOrder('g2'), await shownOrder('g3'), await shownOrder('g1', 7)];
    expect(others.some((o) => o.join() !== first.join())).toBe(true);
  });

  it('a group of one works; the scale is declared by scale_max', async () => {
    const j = scriptedJudge(() => '{"scores": {"model-1": 7}, "best-to-worst": ["model-1"]}');
    const [g] = await gradeAll(judge({ backend: 'judge', mode: 'principle', principle, scale_max: 10 }, [j.backend]), [{ prompt: 'q', completion: 'x' }]);
    expect(g!.score).toBeCloseTo(6 / 9, 12);
    expect(j.requests[0]!.messages[0]!.content).toContain('10 = follows the principle fully');
  });

  it('several groups in one call of gradeGroup get one judge call each', async () => {
    const j = scriptedJudge(listwise);
    const out = await gradeAll(judge({ backend: 'judge', mode: 'principle', principle }, [j.backend]), [
      { prompt: 'q', group: 'a', completion: 'x 5' },
      { prompt: 'q', group: 'b', completion: 'x 1' },
      { prompt: 'q', group: 'a', completion: 'x 3' },
    ]);
    expect(out.map((o) => o.score)).toEqual([1, 0, 0.5]);
    expect(j.requests).toHaveLength(2);
  });
});

describe('judge: reference mode (Cooper)', () => {
  // Correct when the completion's last number equals the reference.
  const verifier = (withProbability: boolean) => (req: ChatRequest) => {
    const parts = fencedParts(req);
    const correct = /(\d+)\D*$/.exec(parts.get('completion')!)?.[1] === parts.get('reference');
    return JSON.stringify(withProbability ? { correct, probability: correct ? 0.9 : 0.2 } : { correct });
  };

  it('binary: 1 when the judge says correct, 0 otherwise; no reference → null with a reason and no call', async () => {
    const j = scriptedJudge(verifier(false));
    const out = await gradeAll(judge({ backend: 'judge', mode: 'reference' }, [j.backend]), [
      { prompt: '6*7?', completion: 'It is 42', reference: '42' },
      { prompt: '6*7?', completion: 'It is 41', reference: '42' },
      { prompt: '6*7?', completion: 'It is 42' },
    ]);
    expect(out.map((o) => o.score)).toEqual([1, 0, null]);
    expect(out[0]!.details).toEqual({ correct: true, attempts: 1 });
    expect(out[2]!.details).toEqual({ reason: 'rollout has no reference' });
    expect(j.requests).toHaveLength(2);
    expect(fencedParts(j.requests[0]!)).toEqual(new Map([['prompt', '6*7?'], ['reference', '42'], ['completion', 'It is 42']]));
  });

  it('probability: the judge\'s p is the score (Cooper\'s σ(logit)); binarize gives 1[p > 0.5]', async () => {
    const rollouts = [
      { prompt: 'q', completion: '42', reference: '42' },
      { prompt: 'q', completion: '7', reference: '42' },
    ];
    const p = await gradeAll(judge({ backend: 'judge', mode: 'reference', verdict: 'probability' }, [scriptedJudge(verifier(true)).backend]), rollouts);
    expect(p.map((o) => o.score)).toEqual([0.9, 0.2]);
    expect(p[0]!.details).toEqual({ correct: true, probability: 0.9, attempts: 1 });
    const b = await gradeAll(judge({ backend: 'judge', mode: 'reference', verdict: 'probability', binarize: true }, [scriptedJudge(verifier(true)).backend]), rollouts);
    expect(b.map((o) => o.score)).toEqual([1, 0]);
  });

  it('a probability that contradicts the verdict is a parse failure', async () => {
    const j = scriptedJudge(() => '{"correct": true, "probability": 0.1}');
    await expect(gradeAll(judge({ backend: 'judge', mode: 'reference', verdict: 'probability' }, [j.backend]), [{ prompt: 'q', completion: 'c', reference: 'r' }])).rejects.toThrow(
      /disagrees with "correct": true/,
    );
    expect(j.requests).toHaveLength(3);
  });
});

describe('judge: scale mode (RoboReward)', () => {
  it('4 on the default 1–5 scale → 0.75, with RoboReward\'s progress rubric shown', async () => {
    const j = scriptedJudge(() => '{"score": 4}');
    const [g] = await gradeAll(judge({ backend: 'judge', mode: 'scale' }, [j.backend]), [{ prompt: 'Stack the blocks', completion: 'Stacked two of three.' }]);
    expect(g).toEqual({ score: 0.75, details: { score_raw: 4, scale_max: 5, attempts: 1 } });
    const user = userOf(j.requests[0]!);
    expect(user).toContain('4 - Near completion');
    expect(user).toContain('1 - No progress');
    expect(j.requests[0]!.json_schema!.schema).toMatchObject({ properties: { score: { type: 'integer', minimum: 1, maximum: 5 } } });
  });

  it('scale_max and scale_description change the range and the text', async () => {
    const j = scriptedJudge(() => '{"score": 10}');
    const [g] = await gradeAll(judge({ backend: 'judge', mode: 'scale', scale_max: 10, scale_description: '10 is perfect.' }, [j.backend]), [{ prompt: 'p', completion: 'c' }]);
    expect(g!.score).toBe(1);
    expect(userOf(j.requests[0]!)).toContain('Scale:\n10 is perfect.');
  });

  it('a custom template reads meta keys; a rollout without the key → null with a reason', async () => {
    const j = scriptedJudge(() => '{"score": 3}');
    const g = judge({ backend: 'judge', mode: 'scale', template: 'Topic {{meta.topic}}\n{{completion}}' }, [j.backend]);
    const out = await gradeAll(g, [{ completion: 'c', meta: { topic: 'biology' } }, { completion: 'c', meta: {} }]);
    expect(out.map((o) => o.score)).toEqual([0.5, null]);
    expect(out[1]!.details).toEqual({ reason: 'rollout has no meta.topic' });
    expect(fencedParts(j.requests[0]!).get('meta.topic')).toBe('biology');
  });
});

describe('judge: pairwise mode', () => {
  // A judge with a fixed preference order: the completion holding the higher digit wins.
  const prefers = (req: ChatRequest) => {
    const parts = fencedParts(req);
    const a = Number(/\d/.exec(parts.get('response A')!)![0]);
    const b = Number(/\d/.exec(parts.get('response B')!)![0]);
    return JSON.stringify({ winner: a > b ? 'A' : b > a ? 'B' : 'tie' });
  };
  const group = (completions: string[]) => completions.map((completion) => ({ prompt: 'q', group: 'g', completion }));

  it('win rates follow the preference order; every pair is judged in both orders', async () => {
    const j = scriptedJudge(prefers);
    const g = judge({ backend: 'judge', mode: 'pairwise' }, [j.backend]);
    expect(g.scope).toBe('group');
    const out = await gradeAll(g, group(['v1', 'v4', 'v2', 'v3']));
    expect(out.map((o) => o.score)).toEqual([0, 1, 1 / 3, 2 / 3]);
    expect(out[3]!.details).toMatchObject({ wins: 4, ties: 0, losses: 2, judgements: 6 });
    expect(j.requests).toHaveLength(12);
  });

  it('both orders cancel a judge that always picks the first response', async () => {
    const j = scriptedJudge(() => '{"winner": "A"}');
    const out = await gradeAll(judge({ backend: 'judge', mode: 'pairwise' }, [j.backend]), group(['v1', 'v4', 'v2']));
    expect(out.map((o) => o.score)).toEqual([0.5, 0.5, 0.5]);
  });

  it('ties are worth ½; allow_tie: false removes "tie" from the schema', async () => {
    const out = await gradeAll(judge({ backend: 'judge', mode: 'pairwise' }, [scriptedJudge(prefers).backend]), group(['v1', 'v1', 'v3']));
    expect(out.map((o) => o.score)).toEqual([0.25, 0.25, 1]);
    const j = scriptedJudge(prefers);
    await gradeAll(judge({ backend: 'judge', mode: 'pairwise', allow_tie: false }, [j.backend]), group(['v1', 'v2']));
    expect(j.requests[0]!.json_schema!.schema).toMatchObject({ properties: { winner: { enum: ['A', 'B'] } } });
  });

  it('both_orders: false judges each pair once; max_pairs bounds the calls and still covers every member', async () => {
    const once = scriptedJudge(prefers);
    const out = await gradeAll(judge({ backend: 'judge', mode: 'pairwise', both_orders: false }, [once.backend]), group(['v1', 'v4', 'v2', 'v3']));
    expect(out.map((o) => o.score)).toEqual([0, 1, 1 / 3, 2 / 3]);
    expect(once.requests).toHaveLength(6);
    const few = scriptedJudge(prefers);
    const capped = await gradeAll(judge({ backend: 'judge', mode: 'pairwise', max_pairs: 4 }, [few.backend]), group(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']));
    expect(few.requests).toHaveLength(8);
    expect(capped.every((o) => o.details!.judgements === 2)).toBe(true);
    // The sample is deterministic: the same group gets the same pairs.
    const again = scriptedJudge(prefers);
    await gradeAll(judge({ backend: 'judge', mode: 'pairwise', max_pairs: 4 }, [again.backend]), group(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']));
    expect(again.requests.map(userOf)).toEqual(few.requests.map(userOf));
  });

  it('pairSchedule: all pairs once when they fit; a truncated schedule spreads comparisons evenly', () => {
    for (let n = 2; n <= 12; n++) {
      const all = pairSchedule(n, 1000, seededRandom(`n${n}`));
      const keys = new Set(all.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`));
      expect(all).toHaveLength((n * (n - 1)) / 2);
      expect(keys.size).toBe(all.length);
      expect(all.every(([a, b]) => a !== b && a >= 0 && b < n)).toBe(true);
      const k = Math.ceil(n / 2);
      const counts = new Array<number>(n).fill(0);
      for (const [a, b] of pairSchedule(n, k, seededRandom(`n${n}`))) counts[a]!++, counts[b]!++;
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(n % 2 === 0 ? 1 : 0);
      expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    }
    expect(pairSchedule(8, 4, seededRandom('s')).flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a group of one, or a member left out by max_pairs → null with the reason', async () => {
    const j = scriptedJudge(prefers);
    const [one] = await gradeAll(judge({ backend: 'judge', mode: 'pairwise' }, [j.backend]), group(['v1']));
    expect(one).toEqual({ score: null, details: { reason: 'group of one: nothing to compare' } });
    expect(j.requests).toHaveLength(0);
    const out = await gradeAll(judge({ backend: 'judge', mode: 'pairwise', max_pairs: 1 }, [j.backend]), group(['v1', 'v2', 'v3']));
    expect(out.filter((o) => o.score === null)).toHaveLength(1);
    expect(out.find((o) => o.score === null)!.details!.reason).toMatch(/^not compared/);
  });
});

describe('judge: think_then_score mode (DeScore)', () => {
  it('a free reasoning call, then a separate constrained call given the reasoning', async () => {
    const j = scriptedJudge((req, call) => (call === 0 ? 'Right result, but the steps are missing.' : '{"score": 4}'));
    const [g] = await gradeAll(judge({ backend: 'judge', mode: 'think_then_score' }, [j.backend]), [{ prompt: 'Solve x+1=2', completion: 'x=1' }]);
    expect(g).toEqual({ score: 0.75, details: { reasoning: 'Right result, but the steps are missing.', score_raw: 4, scale_max: 5, attempts: 2 } });
    const [think, score] = j.requests;
    expect(think!.json_schema).toBeUndefined();
    expect(think!.max_tokens).toBe(2048);
    expect(score!.json_schema!.name).toBe('scale_score');
    expect(fencedParts(score!).get('evaluation')).toBe('Right result, but the steps are missing.');
    expect(fencedParts(score!).get('completion')).toBe('x=1');
  });

  it('an empty reasoning is an error, not a score', async () => {
    const j = scriptedJudge((_req, call) => (call === 0 ? '  ' : '{"score": 5}'));
    await expect(gradeAll(judge({ backend: 'judge', mode: 'think_then_score' }, [j.backend]), [{ prompt: 'p', completion: 'c' }])).rejects.toThrow(/empty evaluation/);
    expect(j.requests).toHaveLength(1);
  });
});

describe('judge: construction', () => {
  const chat = scriptedJudge(() => '{}').backend;
  const paramError = (params: Record<string, unknown>, backends: Parameters<typeof judge>[1] | null = [chat]) => {
    try {
      judge(params, backends ?? undefined);
    } catch (e) {
      expect(e).toBeInstanceOf(ParamError);
      return { param: (e as ParamError).param, message: (e as ParamError).message };
    }
    throw new Error('no error');
  };

  it('the backend is resolved from the spec\'s backends, needing chat', () => {
    expect(paramError({ backend: 'judge', mode: 'scale' }, null)).toEqual({
      param: 'backend',
      message: 'names "judge", but the spec declares no backends (add a `backends:` section)',
    });
    expect(paramError({ backend: 'other', mode: 'scale' })).toEqual({ param: 'backend', message: 'unknown backend "other" (spec backends: judge)' });
    const embedOnly = functionBackend('enc', { embed: async () => ({ vectors: [] }) });
    expect(paramError({ backend: 'enc', mode: 'scale' }, [chat, embedOnly]).message).toMatch(/does not offer chat/);
  });

  it('mode params are checked against the mode', () => {
    expect(paramError({ backend: 'judge', mode: 'scale', rubric: [{ criterion: 'x' }] })).toMatchObject({ param: 'rubric' });
    expect(paramError({ backend: 'judge', mode: 'rubric', max_pairs: 3 })).toMatchObject({ param: 'max_pairs', message: expect.stringMatching(/only to pairwise/) });
    expect(paramError({ backend: 'judge', mode: 'principle' })).toEqual({ param: 'principle', message: 'is required in principle mode' });
    expect(paramError({ backend: 'judge', mode: 'rubric', rubric: [{ criterion: 'x', weight: -1 }] })).toMatchObject({ param: 'rubric' });
    expect(paramError({ backend: 'judge', mode: 'reference', binarize: true })).toMatchObject({ param: 'binarize' });
  });

  it('templates must hold what the mode needs; system takes no placeholders', () => {
    expect(paramError({ backend: 'judge', mode: 'scale', template: 'Rate {{prompt}}' })).toEqual({ param: 'template', message: 'must contain {{completion}}' });
    expect(paramError({ backend: 'judge', mode: 'reference', template: '{{completion}}' })).toEqual({ param: 'template', message: 'must contain {{reference}}' });
    expect(paramError({ backend: 'judge', mode: 'pairwise', template: '{{completion}}' })).toMatchObject({ param: 'template', message: expect.stringMatching(/unknown placeholder \{\{completion\}\}/) });
    expect(paramError({ backend: 'judge', mode: 'scale', template: '{{completion}} {{principle}}' })).toMatchObject({ param: 'template' });
    expect(paramError({ backend: 'judge', mode: 'scale', system: 'Grade {{prompt}}' })).toMatchObject({ param: 'system' });
  });
});
