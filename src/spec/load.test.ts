import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec, parseSpecText, loadSpecFile } from './load.js';
import { compileSpec } from './compile.js';
import { SpecError } from './errors.js';
import { specJsonSchema } from './schema.js';

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a SpecError');
}

const comp = (extra: object = {}) => ({ name: 'ok', grader: 'exact', ...extra });

describe('parseSpec', () => {
  it('fills defaults', () => {
    const s = parseSpec({ components: [comp()] });
    expect(s.name).toBe('reward');
    expect(s.components[0]!.weight).toBe(1);
  });
  it('names the path of each problem', () => {
    expect(issues(() => parseSpec({ components: [comp(), { name: 'b', grader: 'nope' }] }))).toEqual([
      expect.stringMatching(/^components\[1\]\.grader: unknown grader "nope" \(known: .*exact/),
    ]);
    expect(issues(() => parseSpec({ components: [comp({ weight: 'x' })] }))).toEqual(['components[0].weight: expected number, received string']);
    expect(issues(() => parseSpec({ components: [comp({ extra: 1 })] }))).toEqual(['components[0].extra: unknown key']);
    expect(issues(() => parseSpec({ components: [comp()], bogus: true }))).toEqual(['bogus: unknown key']);
    expect(issues(() => parseSpec({ components: [] }))).toEqual(['components: needs at least one component']);
    expect(issues(() => parseSpec({ components: [comp(), comp()] }))).toEqual(['components[1].name: duplicate component name "ok" (also components[0])']);
    expect(issues(() => parseSpec({ components: [comp({ name: '2bad' })] }))[0]).toMatch(/^components\[0\]\.name: must be an identifier/);
    expect(issues(() => parseSpec({ components: [{ name: 'x' }] }))[0]).toMatch(/^components\[0\]\.grader: is required/);
    expect(issues(() => parseSpec({ components: [comp()], combine: { type: 'avg' } }))).toEqual([expect.stringMatching(/^combine\.type: expected one of: .*weighted_sum/)]);
    expect(issues(() => parseSpec('components: []'))).toEqual([': expected a mapping at the top level, got string']);
  });
  it('reports YAML syntax errors with line and column', () => {
    expect(issues(() => parseSpecText('components:\n  - {name: a, grader: exact\n'))[0]).toMatch(/^line \d+, column \d+: /);
    expect(issues(() => parseSpecText('name: a\nname: b\ncomponents: []\n'))[0]).toMatch(/^line 2, column 1: Map keys must be unique/);
  });
});

describe('loadSpecFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-spec-'));
  it('loads YAML and JSON', () => {
    writeFileSync(join(dir, 's.yaml'), 'name: t\ncomponents:\n  - {name: ok, grader: exact}\n');
    writeFileSync(join(dir, 's.json'), JSON.stringify({ name: 't', components: [comp()] }));
    expect(loadSpecFile(join(dir, 's.yaml')).spec.name).toBe('t');
    expect(loadSpecFile(join(dir, 's.json')).dir).toBe(dir);
  });
  it('names a missing file and a wrong extension', () => {
    expect(issues(() => loadSpecFile(join(dir, 'missing.yaml')))).toEqual([': no such file']);
    writeFileSync(join(dir, 's.txt'), '');
    expect(issues(() => loadSpecFile(join(dir, 's.txt')))).toEqual([': unsupported extension ".txt" (use .yaml, .yml or .json)']);
  });
});

describe('compileSpec', () => {
  it('reports combiner params that name unknown components with their path', () => {
    const spec = parseSpec({ components: [comp()], combine: { type: 'gated', gate: 'missing', threshold: 1 } });
    expect(issues(() => compileSpec(spec))[0]).toMatch(/^combine\.gate: /);
  });
});

describe('specJsonSchema', () => {
  it('describes components as a union over grader kinds and forbids unknown keys', () => {
    const schema = specJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    const text = JSON.stringify(schema);
    expect(text).toContain('"exact"');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'components', 'combine', 'shape', 'advantage']));
  });
});
