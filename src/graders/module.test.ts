import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSpec, loadSpecFile } from '../spec/load.js';
import { compileSpec, compileSpecAsync } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { scoreBatch } from '../pipeline.js';
import { createScorerAsync } from '../index.js';
import { startServer, type RewardServer } from '../server/app.js';
import { call, logSink } from '../server/testing.js';
import { moduleKindsOf, preloadModules, withModuleKinds } from './module.js';
import { specJsonSchema } from '../spec/schema.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * `grader: module` against real module files written to a temporary folder: TypeScript and
 * JavaScript, function and defineGrader exports, load errors as spec errors, call errors per rollout,
 * and the server's worker pool loading the same modules.
 */
let dir: string;
const zodUrl = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;

function write(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rk-module-'));
  // A TypeScript function export (ESM: .mts), with a type annotation a plain import() would choke on.
  write(
    'graders/mine.mts',
    `interface P { word: string }
export function grade(s: { completion: string }, p: P): number {
  return s.completion.includes(p.word) ? 1 : 0;
}
export async function slow(s: { completion: string }): Promise<number | null> {
  await new Promise((r) => setTimeout(r, 5));
  if (s.completion === 'boom') throw new RangeError('async boom');
  return s.completion.length;
}
export function picky(s: { completion: string; reference: unknown }) {
  if (s.completion === 'throw') throw new Error('I refuse');
  if (s.completion === 'string') return 'high';
  if (s.completion === 'nan') return NaN;
  if (s.completion === 'obj') return { score: '1' };
  if (s.completion === 'never') return new Promise(() => {});
  if (s.reference === undefined) return null;
  return { score: 0.5, details: { saw: s.completion } };
}
export function longest(samples: { completion: string }[]) {
  const max = Math.max(...samples.map((s) => s.completion.length));
  return samples.map((s) => (s.completion.length === max ? 1 : 0));
}
export function shortList(samples: unknown[]) { return samples.slice(1).map(() => 1); }
export const notAFunction = 42;
`,
  );
  // A plain .ts file in a folder without "type": "module" (tsx loads it as CommonJS).
  write('graders/plain.ts', `export default function (s: { completion: string }): number { return s.completion === 'yes' ? 1 : 0; }\n`);
  // JavaScript: default export.
  write('graders/len.mjs', `export default (s, p) => Math.min(1, s.completion.length / (p.max ?? 10));\n`);
  // A defineGrader kind (defineGrader is the identity: a plain object is the same thing).
  write(
    'graders/kind.mts',
    `import { z } from ${JSON.stringify(zodUrl)};
export const keyword = {
  kind: 'keyword',
  summary: 'Counts keyword hits, capped.',
  params: {
    words: z.array(z.string().min(1)).min(1).describe('Words to look for.'),
    cap: z.number().int().min(1).default(2).describe('Hits that score 1.'),
  },
  create(p: { words: string[]; cap: number }) {
    if (p.words.includes('forbidden')) throw new Error('bad word list');
    return { scope: 'rollout', grade: (s: { completion: string }) => Math.min(1, p.words.filter((w) => s.completion.includes(w)).length / p.cap) };
  },
};
`,
  );
  write('graders/broken.mjs', `export function grade(s) { return 1 +; }\n`);
  write('graders/throws_on_load.mjs', `throw new Error('cannot start: no config');\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const spec = (components: object[]) => parseSpec({ components }, 'test');

async function score(components: object[], rollouts: { id: string; completion: string; reference?: unknown; group?: string }[]) {
  const c = await compileSpecAsync(spec(components), { specDir: dir });
  try {
    return await scoreBatch(c, rollouts, { details: true });
  } finally {
    await c.close();
  }
}

describe('grader: module — function exports', () => {
  it('a .mts function with params scores each rollout', async () => {
    const { results } = await score([{ name: 'mine', grader: 'module', path: './graders/mine.mts', export: 'grade', params: { word: 'Paris' } }], [
      { id: 'a', completion: 'It is Paris.' },
      { id: 'b', completion: 'It is Lyon.' },
    ]);
    expect(results.map((r) => r.components.mine)).toEqual([1, 0]);
  });

  it('default export: a .ts file without "type": "module" and a .mjs file', async () => {
    const { results } = await score(
      [
        { name: 'plain', grader: 'module', path: 'graders/plain.ts' },
        { name: 'len', grader: 'module', path: 'graders/len.mjs', params: { max: 4 } },
      ],
      [
        { id: 'a', completion: 'yes' },
        { id: 'b', completion: 'no' },
      ],
    );
    expect(results.map((r) => [r.components.plain, r.components.len])).toEqual([
      [1, 0.75],
      [0, 0.5],
    ]);
  });

  it('async results; a rejection is an error on that rollout only, with the module stack line', async () => {
    const { results } = await score([{ name: 'slow', grader: 'module', path: './graders/mine.mts', export: 'slow' }], [
      { id: 'a', completion: 'abc' },
      { id: 'b', completion: 'boom' },
      { id: 'c', completion: 'abcdef' },
    ]);
    expect(results.map((r) => r.components.slow)).toEqual([3, null, 6]);
    const msg = results[1]!.errors![0]!.message;
    expect(msg).toContain('module ./graders/mine.mts export slow: RangeError: async boom');
    expect(msg).toMatch(/\(at mine\.mts:\d+:\d+\)/);
  });

  it('bad results and throws are per-rollout errors naming what was wrong; the rest of the batch is scored', async () => {
    const { results } = await score([{ name: 'p', grader: 'module', path: './graders/mine.mts', export: 'picky', timeout_ms: 200 }], [
      { id: 'ok', completion: 'fine', reference: 'x' },
      { id: 'throw', completion: 'throw', reference: 'x' },
      { id: 'string', completion: 'string', reference: 'x' },
      { id: 'nan', completion: 'nan', reference: 'x' },
      { id: 'obj', completion: 'obj', reference: 'x' },
      { id: 'never', completion: 'never', reference: 'x' },
      { id: 'noref', completion: 'fine' },
    ]);
    const by = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(by.ok!.components.p).toBe(0.5);
    expect(by.ok!.details!.p).toEqual({ saw: 'fine' });
    expect(by.noref!.components.p).toBeNull();
    expect(by.noref!.errors).toBeUndefined();
    const err = (id: string) => by[id]!.errors?.[0]?.message ?? '';
    expect(err('throw')).toMatch(/export picky: Error: I refuse \(at mine\.mts:\d+:\d+\)/);
    expect(err('string')).toContain('returned "high", expected a number, null or {score, details}');
    expect(err('nan')).toContain('returned NaN, expected a finite number');
    expect(err('obj')).toContain('returned {score: "1"}, expected score to be a finite number or null');
    expect(err('never')).toContain('no result within timeout_ms 200 ms');
    for (const id of ['throw', 'string', 'nan', 'obj', 'never']) {
      expect(by[id]!.components.p).toBeNull();
      // an error never pays: the reward of an errored rollout is not above a wrong answer's
      expect(by[id]!.reward === null || by[id]!.reward! <= 0).toBe(true);
    }
  });

  it('takes: group gives the function the whole group; a wrong-length answer errors the group', async () => {
    const rollouts = [
      { id: 'a1', group: 'a', completion: 'xx' },
      { id: 'a2', group: 'a', completion: 'xxxx' },
      { id: 'b1', group: 'b', completion: 'y' },
    ];
    const { results } = await score([{ name: 'longest', grader: 'module', path: './graders/mine.mts', export: 'longest', takes: 'group' }], rollouts);
    expect(results.map((r) => r.components.longest)).toEqual([0, 1, 1]);
    const bad = await score([{ name: 'short', grader: 'module', path: './graders/mine.mts', export: 'shortList', takes: 'group' }], rollouts);
    expect(bad.results.map((r) => r.components.short)).toEqual([null, null, null]);
    expect(bad.results[0]!.errors![0]!.message).toContain('(takes: group) returned 1 results for a group of 2');
  });
});

describe('grader: module — defineGrader kinds', () => {
  it('params are validated by the kind’s zod shape, defaults filled in', async () => {
    const { results } = await score([{ name: 'kw', grader: 'module', path: './graders/kind.mts', export: 'keyword', params: { words: ['a', 'b'] } }], [
      { id: 'x', completion: 'a b' },
      { id: 'y', completion: 'a' },
      { id: 'z', completion: 'none' },
    ]);
    expect(results.map((r) => r.components.kw)).toEqual([1, 0.5, 0]);
  });

  it('bad params are spec errors naming components[i].params.X, all of them', async () => {
    const err = await compileSpecAsync(spec([{ name: 'ok', grader: 'exact' }, { name: 'kw', grader: 'module', path: './graders/kind.mts', export: 'keyword', params: { words: [], cap: 0, extra: 1 } }]), {
      specDir: dir,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SpecError);
    const paths = (err as SpecError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['components[1].params.cap', 'components[1].params.extra', 'components[1].params.words']);
  });

  it("an error thrown by the kind's create is a spec error on params", async () => {
    const err = await compileSpecAsync(spec([{ name: 'kw', grader: 'module', path: './graders/kind.mts', export: 'keyword', params: { words: ['forbidden'] } }]), { specDir: dir }).catch((e) => e);
    expect((err as SpecError).issues[0]).toMatchObject({ path: 'components[0].params' });
    expect((err as SpecError).issues[0]!.message).toContain('bad word list');
  });

  it('moduleKindsOf lists the kinds a spec exports (for `graders --spec` and `spec schema --spec`)', async () => {
    const s = spec([
      { name: 'kw', grader: 'module', path: './graders/kind.mts', export: 'keyword', params: { words: ['a'] } },
      { name: 'fn', grader: 'module', path: './graders/mine.mts', export: 'grade' },
    ]);
    await preloadModules(s, dir);
    const kinds = moduleKindsOf(s, dir);
    expect(kinds.map((k) => [k.index, k.name, k.kind.kind])).toEqual([[0, 'kw', 'keyword']]);
    // The JSON Schema with the kind's params: a spec with bad params for that module fails it, others pass.
    const validate = new Ajv2020({ strict: false }).compile(withModuleKinds(specJsonSchema(), kinds));
    const withParams = (params: object) => ({ components: [{ name: 'kw', grader: 'module', path: './graders/kind.mts', export: 'keyword', params }] });
    expect(validate(withParams({ words: ['a'], cap: 3 }))).toBe(true);
    expect(validate(withParams({ words: [], nope: 1 }))).toBe(false);
    expect(validate({ components: [{ name: 'x', grader: 'module', path: './other.mts', params: { anything: 1 } }] })).toBe(true);
  });
});

describe('grader: module — load errors are spec errors naming the path', () => {
  const issuesOf = async (c: object) => {
    const e = await compileSpecAsync(spec([c]), { specDir: dir }).catch((x) => x);
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  };
  it('missing file', async () => {
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/nope.mts' });
    expect(i).toMatchObject({ path: 'components[0].path' });
    expect(i!.message).toContain('no such file');
  });
  it('missing export, listing the exports there are', async () => {
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/mine.mts', export: 'grad' });
    expect(i).toMatchObject({ path: 'components[0].export' });
    expect(i!.message).toMatch(/has no export "grad" \(its exports: .*grade/);
  });
  it('an export that is neither a function nor a kind', async () => {
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/mine.mts', export: 'notAFunction' });
    expect(i).toMatchObject({ path: 'components[0].export' });
    expect(i!.message).toContain('is number, expected a function');
  });
  it('syntax error', async () => {
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/broken.mjs', export: 'grade' });
    expect(i).toMatchObject({ path: 'components[0].path' });
    // Node says SyntaxError; under vitest the file goes through its bundler, which names a parse failure.
    expect(i!.message).toMatch(/module \.\/graders\/broken\.mjs failed to load: (SyntaxError: Unexpected token|RolldownError: Parse failure)/);
  });
  it('a module that throws while loading', async () => {
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/throws_on_load.mjs' });
    expect(i!.message).toContain('failed to load: Error: cannot start: no config');
  });
  it('an unsupported extension', async () => {
    write('graders/x.py', 'def grade(): pass\n');
    const [i] = await issuesOf({ name: 'm', grader: 'module', path: './graders/x.py' });
    expect(i!.message).toContain('unsupported extension ".py"');
  });
  it('the synchronous compileSpec without a preload says what to call', () => {
    const e = (() => {
      try {
        compileSpec(spec([{ name: 'm', grader: 'module', path: './graders/never-loaded.mjs' }]), { specDir: dir });
      } catch (x) {
        return x as SpecError;
      }
    })();
    expect(e!.issues[0]!.message).toContain('compileSpecAsync');
  });
  it('an edited module is loaded anew', async () => {
    write('graders/edit.mjs', 'export default () => 1;\n');
    const s = spec([{ name: 'e', grader: 'module', path: './graders/edit.mjs' }]);
    const a = await scoreBatch(await compileSpecAsync(s, { specDir: dir }), [{ id: 'a', completion: '' }]);
    write('graders/edit.mjs', 'export default () => 0.25; // edited\n');
    const b = await scoreBatch(await compileSpecAsync(s, { specDir: dir }), [{ id: 'a', completion: '' }]);
    expect([a.results[0]!.reward, b.results[0]!.reward]).toEqual([1, 0.25]);
  });
});

describe('grader: module — spec files, library and server pool', () => {
  let specFile: string;
  let servers: RewardServer[] = [];
  beforeAll(() => {
    specFile = write(
      'specs/mine.yaml',
      `name: mine
components:
  - {name: mine, grader: module, path: ../graders/mine.mts, export: grade, params: {word: Paris}}
  - {name: kw, grader: module, path: ../graders/kind.mts, export: keyword, params: {words: [is]}, weight: 0}
  - {name: picky, grader: module, path: ../graders/mine.mts, export: picky, weight: 0}
`,
    );
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const rollouts = [
    { id: 'a', completion: 'It is Paris.', reference: 'x' },
    { id: 'b', completion: 'throw', reference: 'x' },
    { id: 'c', completion: 'Lyon', reference: 'x' },
  ];

  it('createScorerAsync resolves paths against the spec file', async () => {
    const scorer = await createScorerAsync(specFile);
    const { results } = await scorer.score(rollouts);
    expect(results.map((r) => r.reward)).toEqual([1, 0, 0]);
    expect(results[1]!.errors![0]!.component).toBe('picky');
    expect(loadSpecFile(specFile).dir).toBe(join(dir, 'specs'));
  });

  it('the server grades module specs inline and in its worker pool alike', async () => {
    const inline = await startServer({ specs: [specFile], port: 0, scoring: 'inline', logStream: logSink() });
    servers.push(inline.server);
    const pool = await startServer({ specs: [specFile], port: 0, scoring: 'pool', workers: 1, logStream: logSink() });
    servers.push(pool.server);
    const body = { rollouts, details: true };
    const a = await call(inline.url, 'POST', '/v1/score', body);
    const b = await call(pool.url, 'POST', '/v1/score', body);
    expect(a.status).toBe(200);
    // Same bodies; only the stack line may differ here: vitest's main thread does not apply tsx's
    // source maps, the worker threads do (outside vitest, both do).
    const noLine = (t: string) => t.replace(/\(at mine\.mts:\d+:\d+\)/g, '(at mine.mts:L)');
    expect(noLine(b.text)).toBe(noLine(a.text));
    expect(b.text).toMatch(/I refuse \(at mine\.mts:11:\d+\)/);
    const res = (a.body as { results: { reward: number; errors?: { message: string }[] }[] }).results;
    expect(res.map((r) => r.reward)).toEqual([1, 0, 0]);
    expect(res[1]!.errors![0]!.message).toContain('I refuse');
  }, 120_000);
});
