import { describe, expect, it } from 'vitest';
import { scoreBatch } from './pipeline.js';
import type { CompiledSpec } from './spec/compile.js';
import type { Grader } from './graders/types.js';
import type { Rollout } from './rollout/types.js';

/** A compiled spec built by hand: these tests exercise the flow, not the registries. */
function compiled(graders: Record<string, Grader>): CompiledSpec {
  const names = Object.keys(graders);
  return {
    spec: { name: 't', components: [] } as never,
    source: 't',
    names,
    weights: new Float64Array(names.length).fill(1),
    graders: Object.values(graders),
    combiner: {
      combine(row) {
        let s = 0;
        let any = false;
        for (const v of row) if (v === v) (s += v), (any = true);
        return any ? s : NaN;
      },
    },
    shapers: null,
    estimator: null,
    credit: null,
    steps: null,
    backends: null,
    close: async () => undefined,
  };
}

const rollouts: Rollout[] = [
  { id: 'a', group: 'g1', completion: 'yes', reference: 'yes' },
  { id: 'b', group: 'g1', completion: 'no', reference: 'yes' },
  { id: 'c', group: 'g2', completion: 'boom', reference: 'x' },
];

const equal: Grader = { scope: 'rollout', grade: (s) => (s.completion === s.reference ? 1 : 0) };

describe('scoreBatch', () => {
  it('grades, combines and keeps the input fields and order', async () => {
    const { results, columns } = await scoreBatch(compiled({ ok: equal }), rollouts);
    expect(results.map((r) => [r.id, r.reward, r.components])).toEqual([
      ['a', 1, { ok: 1 }],
      ['b', 0, { ok: 0 }],
      ['c', 0, { ok: 0 }],
    ]);
    expect(results[0]!.reference).toBe('yes');
    expect(Array.from(columns.groupOf)).toEqual([0, 0, 1]);
    expect(columns.groupKeys).toEqual(['g1', 'g2']);
  });

  it('turns a throwing grader into a per-rollout error and a null component, never a 0', async () => {
    const flaky: Grader = {
      scope: 'rollout',
      grade: (s) => {
        if (s.completion === 'boom') throw new Error('cannot parse');
        return 0.5;
      },
    };
    const { results, columns } = await scoreBatch(compiled({ ok: equal, flaky }), rollouts);
    expect(results[2]!.components).toEqual({ ok: 0, flaky: null });
    expect(results[2]!.errors).toEqual([{ component: 'flaky', message: 'cannot parse' }]);
    expect(results[0]!.errors).toBeUndefined();
    expect(results[0]!.reward).toBe(1.5);
    expect(Array.from(columns.errorCounts)).toEqual([0, 1]);
    expect(Array.from(columns.nullCounts)).toEqual([0, 1]);
  });

  it('rejects non-finite scores and wrong return types as errors', async () => {
    const bad: Grader = { scope: 'rollout', grade: (s) => (s.id === 'a' ? NaN : s.id === 'b' ? ('1' as never) : Infinity) };
    const { results } = await scoreBatch(compiled({ bad }), rollouts);
    expect(results.map((r) => r.errors?.[0]?.message)).toEqual([
      'grader returned a non-finite score (NaN)',
      'grader returned string, expected a number, null or {score, details}',
      'grader returned a non-finite score (Infinity)',
    ]);
    expect(results.every((r) => r.reward === null)).toBe(true);
  });

  it('awaits async graders and isolates rejections', async () => {
    const slow: Grader = {
      scope: 'rollout',
      grade: async (s) => {
        await new Promise((r) => setTimeout(r, 5));
        if (s.id === 'b') throw new Error('backend down');
        return { score: 0.25, details: { id: s.id } };
      },
    };
    const { results } = await scoreBatch(compiled({ slow }), rollouts, { details: true });
    expect(results.map((r) => r.components.slow)).toEqual([0.25, null, 0.25]);
    expect(results[1]!.errors).toEqual([{ component: 'slow', message: 'backend down' }]);
    expect(results[0]!.details).toEqual({ slow: { id: 'a' } });
  });

  it('gives group graders whole groups and checks their result count', async () => {
    const seen: string[][] = [];
    const size: Grader = {
      scope: 'group',
      gradeGroup: (ss) => {
        seen.push(ss.map((s) => s.id));
        return ss.map(() => ss.length);
      },
    };
    const { results } = await scoreBatch(compiled({ size }), rollouts);
    expect(seen).toEqual([['a', 'b'], ['c']]);
    expect(results.map((r) => r.components.size)).toEqual([2, 2, 1]);
    const short: Grader = { scope: 'group', gradeGroup: () => [1] };
    const r2 = await scoreBatch(compiled({ short }), rollouts);
    expect(r2.results[0]!.errors?.[0]?.message).toBe('group grader returned 1 results for 2 rollouts');
    expect(r2.results[2]!.components.short).toBe(1);
  });

  it('groups by prompt when no group is given, and overwrites stale output fields', async () => {
    const rs: Rollout[] = [
      { id: 'a', prompt: 'P', completion: 'x', reward: 9, errors: [{ component: 'old', message: 'stale' }], advantage: 3 },
      { id: 'b', prompt: 'Q', completion: 'x' },
      { id: 'c', prompt: 'P', completion: 'x' },
    ];
    const { results, columns } = await scoreBatch(compiled({ ok: equal }), rs);
    expect(Array.from(columns.groupOf)).toEqual([0, 1, 0]);
    expect(results[0]).not.toHaveProperty('errors');
    expect(results[0]).not.toHaveProperty('advantage');
    expect(results[0]!.reward).toBe(0);
  });

  it('counts why components were null (details.reason, error messages) without keeping details', async () => {
    const picky: Grader = {
      scope: 'rollout',
      grade: (s) => {
        if (s.id === 'c' || s.id === 'e') throw new Error(`backend unreachable after ${s.id === 'c' ? 3 : 12} tries`);
        return s.completion === 'yes' ? { score: 1, details: { reason: 'matched' } } : { score: null, details: { reason: 'no answer found' } };
      },
    };
    const bare: Grader = { scope: 'rollout', grade: () => null };
    const many = [...rollouts, { id: 'd', group: 'g2', completion: 'maybe', reference: 'x' }, { id: 'e', group: 'g2', completion: 'x', reference: 'x' }];
    const { results, columns } = await scoreBatch(compiled({ picky, bare }), many);
    expect(results[1]!.details).toBeUndefined();
    // error messages that differ only in a number count as one reason; each rollout keeps its own
    expect(Object.fromEntries(columns.nullReasons[0]!)).toEqual({ 'no answer found': 2, 'error: backend unreachable after N tries': 2 });
    expect(results[4]!.errors).toEqual([{ component: 'picky', message: 'backend unreachable after 12 tries' }]);
    expect(Object.fromEntries(columns.nullReasons[1]!)).toEqual({ 'null, no reason given': 5 });
    expect(Array.from(columns.nullCounts)).toEqual([4, 5]);
  });

  it('scores an empty batch', async () => {
    const { results, columns } = await scoreBatch(compiled({ ok: equal }), []);
    expect(results).toEqual([]);
    expect(columns.groupCount).toBe(0);
  });
});

describe('step-scoped components (scope: step)', () => {
  const spec = async (extra: Record<string, unknown> = {}) => {
    const { parseSpec } = await import('./spec/load.js');
    const { compileSpec } = await import('./spec/compile.js');
    return compileSpec(
      parseSpec({
        components: [
          { name: 'solved', grader: 'exact' },
          { name: 'valid_call', grader: 'regex', pattern: '^call \\w+\\([^)]*\\)', scope: 'step', weight: 0.1 },
          { name: 'polite', grader: 'regex', pattern: 'please', scope: 'step', weight: 0 },
        ],
        ...extra,
      }),
    );
  };
  const rollouts: Rollout[] = [
    { id: 'ok', group: 'g', completion: '7', reference: '7', meta: { word: 'please' }, steps: [{ content: 'call f(1)' }, { content: 'answer 7', reward: 0.5 }] },
    { id: 'bad', group: 'g', completion: '8', reference: '7', meta: { word: 'please' }, steps: [{ content: 'call f(' }, { content: 'call g(2) please' }] },
  ];
  it('grades every step, keeps step components out of the episode reward, and feeds credit with their weighted sum', async () => {
    const c = await spec({ credit: { method: 'gated', threshold: 1 } });
    expect(c.names).toEqual(['solved']);
    expect(c.steps?.names).toEqual(['valid_call', 'polite']);
    const { results } = await scoreBatch(c, rollouts);
    expect(results.map((r) => r.reward)).toEqual([1, 0]);
    expect(results[0]!.components).toEqual({ solved: 1 });
    const s0 = results[0]!.steps!;
    expect(s0.map((s) => s.components)).toEqual([
      { valid_call: 1, polite: 0 },
      { valid_call: 0, polite: 0 },
    ]);
    // G-RA: the solved episode accumulates its step rewards (0.1 from the grader, then the given 0.5
    // plus the outcome 1 on the last step).
    expect(s0.map((s) => s.reward)).toEqual([expect.closeTo(0.1, 12), expect.closeTo(1.5, 12)]);
    // The failed episode's valid call earns no step credit.
    expect(results[1]!.steps!.map((s) => s.components)).toEqual([
      { valid_call: 0, polite: 0 },
      { valid_call: 1, polite: 1 },
    ]);
    expect(results[1]!.steps!.every((s) => s.reward === 0)).toBe(true);
  });
  it('without a credit method, each step carries its components and their weighted sum as reward', async () => {
    const { results } = await scoreBatch(await spec(), rollouts);
    expect(results[1]!.steps!.map((s) => s.reward)).toEqual([0, expect.closeTo(0.1, 12)]);
    expect(results[0]!.steps![1]!.reward).toBe(0.5);
  });
  it('reports a failing step grader on its rollout with the step index and keeps the batch', async () => {
    const c = await spec();
    const throwing = { scope: 'rollout' as const, grade: (s: { completion: string }) => { if (s.completion.includes('g(')) throw new Error('boom'); return 1; } };
    const patched = { ...c, steps: { ...c.steps!, graders: [throwing, c.steps!.graders[1]!] } };
    const { results } = await scoreBatch(patched, rollouts);
    expect(results[1]!.errors).toEqual([{ component: 'valid_call', message: 'steps[1]: boom' }]);
    expect(results[1]!.steps![1]!.components).toEqual({ valid_call: null, polite: 1 });
    expect(results[0]!.errors).toBeUndefined();
  });
  it('rejects a group grader as a step component and a spec with only step components', async () => {
    const { parseSpec } = await import('./spec/load.js');
    const { compileSpec } = await import('./spec/compile.js');
    expect(() => compileSpec(parseSpec({ components: [{ name: 'a', grader: 'exact' }, { name: 'd', grader: 'distinct_n', scope: 'step' }] }))).toThrow(/components\[1\]\.scope.*whole groups/s);
    expect(() => compileSpec(parseSpec({ components: [{ name: 'a', grader: 'exact', scope: 'step' }] }))).toThrow(/scope: rollout/);
  });
});

describe('credit.token_rewards', () => {
  const build = async () => {
    const { parseSpec } = await import('./spec/load.js');
    const { compileSpec } = await import('./spec/compile.js');
    return compileSpec(parseSpec({ components: [{ name: 'solved', grader: 'exact' }], credit: { method: 'gated', threshold: 1, token_rewards: true } }));
  };
  it('puts each step\'s credited reward and advantage on its last response token', async () => {
    const rollouts: Rollout[] = [
      { id: 'a', group: 'g', completion: '7', reference: '7', response_length: 6, steps: [{ reward: 0.1, last_token: 2 }, { reward: 0, last_token: 5 }] },
      { id: 'b', group: 'g', completion: '8', reference: '7', response_length: 3, steps: [{ reward: 0.1, last_token: 0 }, { last_token: 2 }] },
    ];
    const { results } = await scoreBatch(await build(), rollouts);
    expect(results[0]!.token_rewards).toEqual([0, 0, expect.closeTo(0.1, 12), 0, 0, 1]);
    const adv = results[0]!.steps!.map((s) => s.advantage as number);
    expect(results[0]!.token_advantages).toEqual([0, 0, adv[0], 0, 0, adv[1]]);
    expect(results[1]!.token_rewards).toEqual([0, 0, 0]); // G-RA: a failed episode's steps earn nothing
    expect(results[0]!.errors).toBeUndefined();
  });
  it('names the missing last_token or response_length, and a step ending out of order, on the rollout only', async () => {
    const rollouts: Rollout[] = [
      { id: 'a', group: 'g', completion: '7', reference: '7', steps: [{ reward: 0.1, last_token: 2 }] },
      { id: 'b', group: 'g', completion: '7', reference: '7', response_length: 4, steps: [{ reward: 0.1 }] },
      { id: 'c', group: 'g', completion: '7', reference: '7', response_length: 4, steps: [{ last_token: 3 }, { last_token: 1 }] },
      { id: 'd', group: 'g', completion: '7', reference: '7', response_length: 2, steps: [{ last_token: 1 }] },
    ];
    const { results } = await scoreBatch(await build(), rollouts);
    expect(results[0]!.errors).toEqual([{ component: 'credit', message: expect.stringMatching(/^response_length .* is required with credit\.token_rewards/) }]);
    expect(results[1]!.errors).toEqual([{ component: 'credit', message: expect.stringMatching(/^steps\[0\]\.last_token .* is required/) }]);
    expect(results[2]!.errors).toEqual([{ component: 'credit', message: 'step 1 ends at token 1, not after step 0\'s token 3' }]);
    expect(results[3]!.token_rewards).toEqual([0, 1]);
    expect(results.every((r) => r.reward === 1)).toBe(true);
  });
});

describe('slim results', () => {
  it('carry id, group and the scoring fields only, with the same values as full results', async () => {
    const { parseSpec } = await import('./spec/load.js');
    const { compileSpec } = await import('./spec/compile.js');
    const c = compileSpec(parseSpec({ components: [{ name: 'ok', grader: 'exact' }], advantage: { estimator: 'grpo' } }));
    const rollouts: Rollout[] = [
      { id: 'a', group: 'g', prompt: 'p', completion: '1', reference: '1', meta: { x: 1 } },
      { id: 'b', group: 'g', prompt: 'p', completion: '2', reference: '1' },
    ];
    const full = await scoreBatch(c, rollouts, { details: true });
    const slim = await scoreBatch(c, rollouts, { details: true, slim: true });
    expect(slim.results).toEqual(full.results.map((r) => ({ id: r.id, group: r.group, reward: r.reward, components: r.components, advantage: r.advantage, details: r.details })));
    expect(slim.results[0]).not.toHaveProperty('completion');
  });
});

describe('token lengths of a batch', () => {
  it('are the rollout token data first, else an estimate that removing spaces cannot shrink', async () => {
    const g: Grader = { scope: 'rollout', grade: () => 1 };
    const { columns } = await scoreBatch(compiled({ g }), [
      { id: 'a', completion: 'one two three', completion_ids: [5, 6, 7, 8, 9] },
      { id: 'b', completion: 'one two three', response_length: 11 },
      { id: 'c', completion: 'one two three' },
      { id: 'd', completion: 'x'.repeat(300_000) },
    ]);
    expect(Array.from(columns.tokenLengths)).toEqual([5, 11, 3, 74_999]);
  });
});

describe('full results copy the rollout as a spread does', () => {
  it('keys in order, reward and components in place or appended, own __proto__ and symbol keys kept, the input untouched (property)', async () => {
    const fc = await import('fast-check');
    const sym = Symbol('s');
    await fc.assert(
      fc.asyncProperty(
        // Keys outside the rollout contract's typed fields (a rollout is validated before scoring), in any order.
        fc.dictionary(fc.constantFrom('reward', 'components', 'meta', '__proto__', 'constructor', 'toString', 'x'), fc.jsonValue(), { maxKeys: 8 }),
        fc.boolean(),
        async (extra, withSymbol) => {
          // JSON.parse makes own keys (an own __proto__ included), as rollouts read from files have.
          const src = JSON.parse(JSON.stringify({ ...extra, id: 'r', completion: 'yes', reference: 'yes' })) as Rollout;
          if (withSymbol) (src as unknown as Record<symbol, unknown>)[sym] = 1;
          const before = JSON.stringify(src);
          const { results } = await scoreBatch(compiled({ ok: equal }), [src]);
          const out = results[0]!;
          const spread = { ...src, reward: out.reward, components: out.components };
          expect(Reflect.ownKeys(out)).toEqual(Reflect.ownKeys(spread));
          for (const k of Reflect.ownKeys(spread)) expect((out as never)[k]).toEqual((spread as never)[k]);
          expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
          expect(JSON.stringify(src)).toBe(before);
        },
      ),
      { numRuns: 200 },
    );
  });
});
