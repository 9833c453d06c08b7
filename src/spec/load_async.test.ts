import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graderKind, graderKinds } from '../graders/registry.js';
import { graderKindNames, isGraderKindName, loadGraderKinds } from '../graders/kinds.js';
import { loadSpecFile, parseSpec } from './load.js';
import { compileSpecFileAsync, loadSpecFileAsync, parseSpecAsync } from './load_async.js';
import { compileSpecFile } from './compile.js';
import { SpecError } from './errors.js';

/** The verdict of a loader: the parsed spec, or the SpecError's source and issues. */
async function verdict(fn: () => unknown): Promise<unknown> {
  try {
    return { ok: await fn() };
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return { source: e.source, issues: e.issues, message: e.message };
  }
}

const comp = (extra: object = {}) => ({ name: 'ok', grader: 'exact', ...extra });

describe('lazy grader kinds (kinds.ts)', () => {
  it('names the kinds of the registry, in its order, and loads the same objects', async () => {
    expect(graderKindNames).toEqual(graderKinds.map((k) => k.kind));
    const loaded = await loadGraderKinds(graderKindNames);
    for (const name of graderKindNames) expect(loaded.get(name), name).toBe(graderKind(name));
    expect(isGraderKindName('nope')).toBe(false);
    expect(isGraderKindName('__proto__')).toBe(false);
    expect([...(await loadGraderKinds(['numeric', 'nope', 'numeric'])).keys()]).toEqual(['numeric']);
  });
});

describe('parseSpecAsync (the kinds a spec names only)', () => {
  const cases: [string, unknown][] = [
    ['defaults', { components: [comp()] }],
    ['several kinds', { name: 'n', components: [comp(), { name: 'f', grader: 'format', tags: ['think', 'answer'] }, { name: 'm', grader: 'math', weight: 0.5 }] }],
    ['unknown grader', { components: [comp(), { name: 'b', grader: 'nope' }] }],
    ['unknown grader and a bad key elsewhere', { components: [{ name: 'b', grader: 'nope' }, comp({ weight: 'x' })], bogus: 1 }],
    ['missing grader', { components: [{ name: 'x' }] }],
    ['grader not a string', { components: [{ name: 'x', grader: 3 }] }],
    ['grader __proto__', { components: [{ name: 'x', grader: '__proto__' }] }],
    ['bad weight', { components: [comp({ weight: 'x' })] }],
    ['unknown param', { components: [comp({ extra: 1 })] }],
    ['param of another kind', { components: [comp({ tags: ['a'] })] }],
    ['bad param value', { components: [{ name: 'f', grader: 'format', tags: 'think' }] }],
    ['unknown top-level key', { components: [comp()], bogus: true }],
    ['no components', { components: [] }],
    ['components not a list', { components: { a: 1 } }],
    ['component not an object', { components: [1, comp()] }],
    ['duplicate names', { components: [comp(), comp()] }],
    ['duplicate names and a bad param', { components: [comp(), comp({ extra: 1 })] }],
    ['bad name', { components: [comp({ name: '2bad' })] }],
    ['bad combiner', { components: [comp()], combine: { type: 'avg' } }],
    ['bad estimator', { components: [comp()], advantage: { estimator: 'nope' } }],
    ['not a mapping', 'components: []'],
    ['a list', [comp()]],
    ['__proto__ key', JSON.parse('{"components": [{"name": "a", "grader": "exact", "__proto__": {"x": 1}}]}')],
  ];
  it.each(cases)('%s: the same spec or the same errors as parseSpec', async (_, raw) => {
    expect(await verdict(async () => (await parseSpecAsync(raw, 'inline')).spec)).toEqual(await verdict(() => parseSpec(raw, 'inline')));
  });

  it('returns the kinds the spec names', async () => {
    const { kinds } = await parseSpecAsync({ components: [comp(), { name: 'n', grader: 'numeric' }, { name: 'e', grader: 'exact' }] });
    expect([...kinds.keys()].sort()).toEqual(['exact', 'numeric']);
  });
});

describe('loadSpecFileAsync / compileSpecFileAsync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-spec-async-'));
  it('load every example spec as loadSpecFile does, and compile it the same way', async () => {
    const files = readdirSync('examples')
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join('examples', f))
      .concat(readdirSync('examples/eval').filter((f) => f.endsWith('.yaml')).map((f) => join('examples/eval', f)));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      expect(await verdict(async () => { const l = await loadSpecFileAsync(f); return { spec: l.spec, path: l.path, dir: l.dir }; }), f).toEqual(await verdict(() => loadSpecFile(f)));
      const a = await verdict(async () => { const c = await compileSpecFileAsync(f); await c.close(); return [c.names, c.steps?.names, c.graders.map((g) => g.scope), c.spec]; });
      const b = await verdict(async () => { const c = compileSpecFile(f); await c.close(); return [c.names, c.steps?.names, c.graders.map((g) => g.scope), c.spec]; });
      expect(a, f).toEqual(b);
    }
  });
  it('a spec with `shape:` loads the shapers (the section is loaded only when present) as the synchronous loader does', async () => {
    writeFileSync(join(dir, 'shape.yaml'), 'components:\n  - {name: n, grader: numeric}\nshape:\n  - {type: clip}\n  - {type: sigmoid}\n');
    writeFileSync(join(dir, 'bad-shape.yaml'), 'components:\n  - {name: n, grader: numeric}\nshape:\n  - {type: par, k: -1}\n');
    writeFileSync(join(dir, 'no-shape.yaml'), 'components:\n  - {name: n, grader: numeric}\n');
    for (const f of ['shape.yaml', 'bad-shape.yaml', 'no-shape.yaml'].map((f) => join(dir, f))) {
      const a = await verdict(async () => { const c = await compileSpecFileAsync(f); await c.close(); return [c.spec, c.shapers === null]; });
      const b = await verdict(async () => { const c = compileSpecFile(f); await c.close(); return [c.spec, c.shapers === null]; });
      expect(a, f).toEqual(b);
    }
    const c = await compileSpecFileAsync(join(dir, 'shape.yaml'));
    expect(c.shapers).not.toBeNull();
    const rewards = Float64Array.from([0, 0, 0, 10]);
    c.shapers!.apply({ rewards, groupOf: new Int32Array(4), groupCount: 1, lengths: new Float64Array(4), samples: [0, 1, 2, 3].map((i) => ({ id: String(i), prompt: '', completion: '' })) } as never);
    expect(Array.from(rewards).every((r) => r > 0 && r < 1)).toBe(true); // clipped, then squashed by σ
    await c.close();
  });

  it('reports file, YAML and param errors as the synchronous loader does', async () => {
    writeFileSync(join(dir, 'yaml.yaml'), 'name: a\nname: b\ncomponents: []\n');
    writeFileSync(join(dir, 'param.yaml'), "components:\n  - {name: r, grader: regex, pattern: '('}\n");
    writeFileSync(join(dir, 's.txt'), '');
    for (const f of ['missing.yaml', 'yaml.yaml', 's.txt', 'param.yaml'].map((f) => join(dir, f)))
      expect(await verdict(async () => (await compileSpecFileAsync(f)).names), f).toEqual(await verdict(() => compileSpecFile(f).names));
  });
});
