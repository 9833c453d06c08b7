import { describe, expect, it } from 'vitest';
import { functionBackend } from '../../backends/fake.js';
import { scoreBatch } from '../../pipeline.js';
import type { Rollout } from '../../rollout/types.js';
import { compileSpec, type CompiledSpec } from '../../spec/compile.js';
import { parseSpec } from '../../spec/load.js';
import type { Grader } from '../types.js';
import { fencedParts, judge, scriptedJudge } from './testing.js';

/** A compiled spec whose components are the given graders (built by hand until the kind is registered). */
function specOf(components: Record<string, Grader>): CompiledSpec {
  const names = Object.keys(components);
  const base = compileSpec(parseSpec({ components: names.map((name) => ({ name, grader: 'exact' })), combine: { type: 'weighted_sum', on_null: 'exclude' } }));
  return { ...base, graders: Object.values(components) };
}

describe('judge through scoreBatch', () => {
  it('a judge failure is an error and a null component on that rollout only; the rest of the batch is scored', async () => {
    const j = scriptedJudge((req) => {
      const c = fencedParts(req).get('completion')!;
      if (c.includes('prose')) return 'Looks good to me!';
      return `{"score": ${c.length % 5 + 1}}`;
    });
    const spec = specOf({ quality: judge({ backend: 'judge', mode: 'scale' }, [j.backend]) });
    const rollouts: Rollout[] = [
      { id: 'a', prompt: 'p', completion: 'abc' },
      { id: 'b', prompt: 'p', completion: 'make it prose' },
      { id: 'c', prompt: 'p', completion: 'abcd' },
    ];
    const { results, columns } = await scoreBatch(spec, rollouts, { details: true });
    expect(results.map((r) => r.components.quality)).toEqual([0.75, null, 1]);
    expect(results[0]!.errors).toBeUndefined();
    expect(results[1]!.errors).toEqual([{ component: 'quality', message: expect.stringMatching(/^judge gave no usable answer in 3 attempts: not JSON/) }]);
    expect(results[1]!.reward).toBeNull();
    expect(Array.from(columns.errorCounts)).toEqual([1]);
    expect(results[2]!.details).toEqual({ quality: { score_raw: 5, scale_max: 5, attempts: 1 } });
  });

  it('a backend outage mid-batch: errors carry the backend\'s message, with a count; scored rollouts keep their scores', async () => {
    let n = 0;
    const flaky = functionBackend('judge', {
      chat: async () => {
        n++;
        if (n === 2 || n === 3) throw new Error('HTTP 502 Bad Gateway');
        return { text: '{"correct": true}' };
      },
    });
    const spec = specOf({ correct: judge({ backend: 'judge', mode: 'reference' }, [flaky]) });
    const rollouts: Rollout[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, prompt: 'q', completion: '42', reference: id === 'e' ? undefined : '42' }));
    const { results, columns } = await scoreBatch(spec, rollouts, { details: true });
    const comps = results.map((r) => r.components.correct);
    expect(comps.filter((c) => c === 1)).toHaveLength(2);
    expect(comps.filter((c) => c === null)).toHaveLength(3);
    expect(results.flatMap((r) => r.errors ?? []).map((e) => e.message)).toEqual(['HTTP 502 Bad Gateway', 'HTTP 502 Bad Gateway']);
    expect(Array.from(columns.errorCounts)).toEqual([2]);
    // No reference is not an error: null with the reason.
    expect(results[4]!.errors).toBeUndefined();
    expect(results[4]!.details).toEqual({ correct: { reason: 'rollout has no reference' } });
  });

  it('group judges see each group once and write back per rollout', async () => {
    const listwise = scriptedJudge((req) => {
      const names = [...fencedParts(req).entries()].filter(([l]) => l.startsWith('model-'));
      const scores = Object.fromEntries(names.map(([l, t]) => [l, Number(t)]));
      const ranking = Object.keys(scores).sort((a, b) => scores[b]! - scores[a]!);
      return JSON.stringify({ scores, 'best-to-worst': ranking });
    });
    const pair = scriptedJudge((req) => {
      const p = fencedParts(req);
      return JSON.stringify({ winner: Number(p.get('response A')) >= Number(p.get('response B')) ? 'A' : 'B' });
    });
    const spec = specOf({
      principle: judge({ backend: 'judge', mode: 'principle', principle: 'Higher is better.' }, [listwise.backend]),
      pairwise: judge({ backend: 'judge', mode: 'pairwise' }, [pair.backend]),
    });
    const rollouts: Rollout[] = [
      { id: 'x1', group: 'x', prompt: 'q', completion: '2' },
      { id: 'y1', group: 'y', prompt: 'q', completion: '5' },
      { id: 'x2', group: 'x', prompt: 'q', completion: '4' },
      { id: 'y2', group: 'y', prompt: 'q', completion: '1' },
      { id: 'x3', group: 'x', prompt: 'q', completion: '3' },
    ];
    const { results } = await scoreBatch(spec, rollouts);
    expect(results.map((r) => r.components.principle)).toEqual([0.25, 1, 0.75, 0, 0.5]);
    expect(results.map((r) => r.components.pairwise)).toEqual([0, 1, 1, 0, 0.5]);
    expect(listwise.requests).toHaveLength(2);
    expect(pair.requests).toHaveLength(2 * 3 + 2 * 1);
  });
});
