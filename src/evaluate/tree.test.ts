import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTreePairs, parseTree } from './tree.js';
import { evaluatePreferences } from './preferences.js';
import { runEvalPreferences } from '../cli/eval.js';

const lcp = (a: string, b: string) => {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
};

// Root "Q:" → A (3 leaves), B (2 leaves), C (a leaf). Children's first characters differ, so the
// longest common prefix of a pair is exactly its branching node's path text.
const example = {
  text: 'Q:',
  children: [
    { text: 'A', children: [{ text: 'x', score: 3 }, { text: 'y', score: 1 }, { text: 'z', score: 2 }] },
    { text: 'B', children: [{ text: 'p', score: 0 }, { text: 'q', score: 5 }] },
    { text: 'C', score: 2 },
  ],
};

describe('tree-structured preferences (Topological Perspective; mechanics-B §6)', () => {
  it('makes Σ_v Σ_{i<j} |L_i|·|L_j| pairs: 3·2 + 3·1 + 2·1 at the root, 3 under A, 1 under B = 15', () => {
    const pairs = buildTreePairs(parseTree(example));
    expect(pairs).toHaveLength(11 + 3 + 1);
    expect(pairs.filter((p) => p.depth === 0)).toHaveLength(11);
    expect(pairs.filter((p) => p.depth === 1)).toHaveLength(4);
  });
  it('every pair shares exactly the branching node text as its longest common prefix', () => {
    for (const p of buildTreePairs(parseTree(example))) {
      expect(lcp(p.aText, p.bText)).toBe(p.prefix.length);
      expect(p.aText.startsWith(p.prefix) && p.bText.startsWith(p.prefix)).toBe(true);
    }
    const at = (a: string, b: string) => buildTreePairs(parseTree(example)).find((p) => p.a === a && p.b === b)!;
    expect(at('0.0', '0.1')).toMatchObject({ prefix: 'Q:A', aText: 'Q:Ax', bText: 'Q:Ay', p: 1 });
    expect(at('0.2', '2')).toMatchObject({ prefix: 'Q:', p: 0.5 }); // scores 2 and 2: a tie
    expect(at('1.1', '2')).toMatchObject({ prefix: 'Q:', p: 1 });
  });
  it('on random trees compares every two scored leaves exactly once, at their lowest common ancestor', () => {
    type N = { text: string; children?: N[]; score?: number };
    const node: fc.Memo<N> = fc.memo((d) =>
      d <= 1
        ? (fc.record({ text: fc.string({ maxLength: 3 }), score: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }) as fc.Arbitrary<N>)
        : fc.oneof(fc.record({ text: fc.string({ maxLength: 3 }), score: fc.integer({ min: 0, max: 3 }) }), fc.record({ text: fc.string({ maxLength: 3 }), children: fc.array(node(d - 1), { minLength: 1, maxLength: 4 }) })),
    );
    fc.assert(
      fc.property(node(4), (t) => {
        const root = parseTree(t);
        const pairs = buildTreePairs(root);
        const leaves: string[] = [];
        const walk = (n: ReturnType<typeof parseTree>) => (n.children.length ? n.children.forEach(walk) : n.score !== null && leaves.push(n.id));
        walk(root);
        expect(pairs.length).toBe((leaves.length * (leaves.length - 1)) / 2 || 0);
        expect(new Set(pairs.map((p) => [p.a, p.b].sort().join('|'))).size).toBe(pairs.length);
        for (const p of pairs) expect(lcp(p.aText, p.bText)).toBeGreaterThanOrEqual(p.prefix.length);
      }),
      { numRuns: 200 },
    );
  });
  it('names the bad field', () => {
    expect(() => parseTree({ text: 'a', children: [{ text: 'b', score: 'high' }] })).toThrow('tree.children[0].score: expected a finite number, got "high"');
    expect(() => parseTree({ text: 'a', children: {} })).toThrow('tree.children: expected a list of nodes, got object');
    expect(() => parseTree([1])).toThrow('tree: expected a tree node object, got array');
  });
});

describe('eval preferences with tree rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rk-tree-'));
  const input = join(dir, 'trees.jsonl');
  writeFileSync(input, [JSON.stringify({ id: 't1', prompt: 'Say hi', tree: example }), JSON.stringify({ id: 't2', tree: { text: '', children: [{ text: 'good', score: 1 }, { text: 'bad', score: 0 }] } }), '{"tree": {"children": 3}}'].join('\n') + '\n');
  it('expands trees into comparisons, one group per tree, and writes the decided pairs', async () => {
    const pairsOut = join(dir, 'pairs.jsonl');
    const r = await evaluatePreferences(input, { pairsOut, log: () => {} });
    expect(r.n).toBe(16);
    expect(r.bad_lines).toBe(1);
    expect(r.tree).toMatchObject({ trees: 2, leaves: 8, scored_leaves: 8, pairs: 16, ties: 1, pairs_by_depth: [12, 4], chain_pairs: 3 + 1 });
    expect(r.groups).toMatchObject({ count: 2 });
    // Bradley–Terry orders the leaves of t1 by their scores (q 5 > x 3 > z = C 2 > y 1 > p 0).
    const t1 = r.ranking.filter((x) => x.startsWith('t1/'));
    expect(t1[0]).toBe('t1/1.1');
    expect(t1.at(-1)).toBe('t1/1.0');
    const rows = readFileSync(pairsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(15);
    expect(r.pairs_out).toEqual({ path: pairsOut, written: 15 });
    expect(rows[0]).toEqual({ id: 't1/0.0>0.1', prompt: 'Say hi', chosen: 'Q:Ax', rejected: 'Q:Ay', meta: { tree: 't1', depth: 1, shared_prefix: 3 } });
    expect(rows.find((x) => x.meta.tree === 't2')).toMatchObject({ chosen: 'good', rejected: 'bad' });
  });
  it('prints the tree line', async () => {
    const out: string[] = [];
    expect(await runEvalPreferences({ in: input, quiet: true }, { out: (s) => out.push(s), err: () => {} })).toBe(0);
    expect(out.join('\n')).toContain('trees 2 · scored leaves 8 of 8 · pairs 16 (1 ties; a chain of independent pairs would give 4) · by branching depth 0: 12 · 1: 4');
  });
});
