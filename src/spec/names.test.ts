import { describe, expect, it } from 'vitest';
import { createScorer } from '../index.js';
import { parseSpec, parseSpecText } from './load.js';
import { compileSpec } from './compile.js';
import { SpecError } from './errors.js';
import { findSpecProtoKey, nameRecord, ownValue } from './names.js';
import { buildBackends } from '../backends/config.js';

/** Names that are members of Object.prototype (or its setter) on an ordinary object. */
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** One exact component per name, weights 1, 2, 4, 8, 16: the reward says which components counted. */
const components = PROTO_NAMES.map((name, k) => ({ name, grader: 'exact', weight: 2 ** k }));

function specIssues(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof SpecError) return e.issues;
    throw e;
  }
  throw new Error('expected a SpecError');
}

describe('names are data, never prototype keys', () => {
  it('nameRecord keeps __proto__ as an own key that JSON writes; ownValue reads own keys only', () => {
    const r = nameRecord<number>();
    r['__proto__'] = 1;
    r['constructor'] = 2;
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(r)).toBe('{"__proto__":1,"constructor":2}');
    expect(ownValue({ a: 1 }, 'toString')).toBeUndefined();
    expect(ownValue(JSON.parse('{"__proto__": 3}') as Record<string, number>, '__proto__')).toBe(3);
  });

  it('scores components named __proto__, constructor, toString, hasOwnProperty, valueOf: every one counts and is in the output', async () => {
    const scorer = createScorer({ components });
    const { results } = await scorer.score(
      [
        { id: 'right', completion: '42', reference: '42' },
        { id: 'wrong', completion: '41', reference: '42' },
      ],
      { details: true },
    );
    const [right, wrong] = results;
    expect(right!.reward).toBe(31);
    expect(wrong!.reward).toBe(0);
    for (const name of PROTO_NAMES) {
      expect(Object.hasOwn(right!.components, name), name).toBe(true);
      expect(right!.components[name]).toBe(1);
      expect(wrong!.components[name]).toBe(0);
    }
    // The JSON a trainer reads carries every component as an own key, __proto__ included.
    const json = JSON.parse(JSON.stringify(right)) as { components: Record<string, number> };
    expect(Object.keys(json.components)).toEqual([...PROTO_NAMES]);
    expect(JSON.stringify(right!.components)).toBe('{"__proto__":1,"constructor":1,"toString":1,"hasOwnProperty":1,"valueOf":1}');
  });

  it('combiners find such components by name: formula, gated, hierarchical', async () => {
    const rollouts = [
      { id: 'right', completion: '42', reference: '42' },
      { id: 'wrong', completion: '41', reference: '42' },
    ];
    const cases: [unknown, number][] = [
      [{ type: 'formula', expression: '__proto__ + 10 * constructor + 100 * toString + 1000 * hasOwnProperty + 10000 * valueOf' }, 11111],
      [{ type: 'gated', gate: '__proto__', threshold: 1, levels: [{ gate: 'toString', threshold: 1 }] }, 31],
      [{ type: 'hierarchical', levels: [{ rewards: ['__proto__', 'constructor'], constraints: { toString: 1 }, floor: -1 }, { rewards: ['valueOf'] }] }, 19],
    ];
    for (const [combine, want] of cases) {
      const { results } = await createScorer({ components, combine } as never).score(rollouts);
      expect(results.map((r) => r.reward), JSON.stringify(combine)).toEqual([want, (combine as { type: string }).type === 'hierarchical' ? -1 : 0]);
    }
    // A gate or formula naming a prototype member that is not a component is an unknown component, not Object.prototype.
    const only = [{ name: 'ok', grader: 'exact' }];
    for (const combine of [
      { type: 'formula', expression: 'ok + constructor' },
      { type: 'gated', gate: 'toString', threshold: 1 },
      { type: 'hierarchical', levels: [{ rewards: ['valueOf'] }] },
    ]) {
      const issues = specIssues(() => compileSpec(parseSpec({ components: only, combine })));
      expect(issues[0]!.path, JSON.stringify(combine)).toMatch(/^combine/);
      expect(issues[0]!.message).toMatch(/unknown|names no component|not a component/);
    }
  });

  it('step components and credit signals named like prototype members work', async () => {
    const scorer = createScorer({
      components: [
        { name: 'constructor', grader: 'contains' },
        { name: '__proto__', grader: 'regex', pattern: '^ok', scope: 'step' },
      ],
      credit: { method: 'gated', threshold: 1 },
    } as never);
    const { results } = await scorer.score([{ id: 'a', completion: 'the answer is 42', reference: '42', steps: [{ content: 'ok 1' }, { content: 'no' }] }] as never);
    const r = results[0]!;
    expect(r.components).toEqual({ constructor: 1 });
    const steps = r.steps as { components: Record<string, number> }[];
    expect(steps.map((s) => Object.hasOwn(s.components, '__proto__') && s.components['__proto__'])).toEqual([1, 0]);
  });

  it('a __proto__ key anywhere in a spec is an error naming its path (a backend, a hierarchical constraint)', () => {
    const yaml = `
backends:
  __proto__: {type: openai, base_url: 'http://127.0.0.1:9/v1', model: m, cache: false}
components:
  - {name: j, grader: judge, mode: scale, backend: __proto__}
`;
    expect(specIssues(() => parseSpecText(yaml))).toEqual([{ path: 'backends.__proto__', message: expect.stringMatching(/`__proto__` key is not allowed/) }]);
    const constraint = { components, combine: { type: 'hierarchical', levels: [{ rewards: ['constructor'], constraints: JSON.parse('{"__proto__": 1}') }] } };
    expect(specIssues(() => parseSpec(constraint))[0]!.path).toBe('combine.levels[0].constraints.__proto__');
    expect(specIssues(() => buildBackends(JSON.parse('{"__proto__": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}}'), { specDir: '.' }))[0]!.path).toBe(
      'backends.__proto__',
    );
    expect(findSpecProtoKey({ components: [{ name: '__proto__' }] })).toBeNull();
  });

  it('backends named constructor or toString are found by name', async () => {
    for (const name of ['constructor', 'toString']) {
      const spec = parseSpecText(`
backends:
  ${name}: {type: openai, base_url: 'http://127.0.0.1:9/v1', model: m, cache: false}
components:
  - {name: j, grader: judge, mode: scale, backend: ${name}}
`);
      const compiled = compileSpec(spec);
      expect(compiled.backends!.list.map((b) => b.name)).toEqual([name]);
      expect(Object.keys(compiled.backends!.stats())).toEqual([name]);
      await compiled.close();
    }
    // A grader naming an undeclared backend called like a prototype member: unknown, not Object.prototype.
    const issues = specIssues(() =>
      compileSpec(parseSpecText(`
backends:
  judge: {type: openai, base_url: 'http://127.0.0.1:9/v1', model: m, cache: false}
components:
  - {name: j, grader: judge, mode: scale, backend: toString}
`)),
    );
    expect(issues[0]!.message).toMatch(/toString/);
  });
});
