import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/shared-data.js';
import { spiderPostprocess } from './lex.js';
import { ngramSimilarity, parseSql, schemaItems, schemaLinking, sqlNgrams } from './schema.js';

describe('schema linking', () => {
  it('matches the Reasoning-SQL worked example: recall 1, Jaccard 3/4', () => {
    const gold = 'SELECT name FROM users WHERE age > 30';
    const pred = 'SELECT name, email FROM users WHERE age >= 30';
    expect([...schemaItems(parseSql(gold)!)].sort()).toEqual(['age', 'name', 'users']);
    expect(schemaLinking(pred, gold, 'recall')).toBe(1);
    expect(schemaLinking(pred, gold, 'jaccard')).toBe(0.75);
  });

  it('resolves aliases, ignores *, case and string literals; reads INTERSECT/EXCEPT', () => {
    const p = parseSql('SELECT T1.Name, count(*) FROM Singer AS T1 JOIN concert AS T2 ON T1.id = T2.sid WHERE T2.Year = "2014" INTERSECT SELECT name, 1 FROM singer')!;
    expect([...p.tables].sort()).toEqual(['concert', 'singer']);
    expect([...p.columns].sort()).toEqual(['id', 'name', 'sid', 'year']);
    expect([...p.aliases].sort()).toEqual(['t1', 't2']);
  });

  it('gives 0 for a prediction that does not parse or an empty gold set, null for an unparsable gold', () => {
    expect(schemaLinking('SELEC name FRM users', 'SELECT name FROM users', 'recall')).toBe(0);
    expect(schemaLinking('SELECT 1', 'SELECT 1', 'recall')).toBe(0);
    expect(schemaLinking('SELECT 1', 'SELECT FROM WHERE', 'jaccard')).toBeNull();
  });
});

describe('n-gram similarity', () => {
  it('is Jaccard over bigram sets of normalised tokens, aliases and AS removed', () => {
    expect([...sqlNgrams('SELECT T1.a AS x FROM t AS T1', 2)]).toEqual(['select a', 'a from', 'from t']);
    expect(ngramSimilarity('SELECT a FROM t', 'select  a  from t')).toBe(1);
    expect(ngramSimilarity('SELECT T9.a FROM t AS T9', 'SELECT t.a FROM t')).toBeLessThan(1);
    expect(ngramSimilarity('SELECT a FROM t', 'SELECT b FROM u')).toBe(0);
    // {select a, a from, from t} vs {select a, a from, from u}: 2 shared of 4.
    expect(ngramSimilarity('SELECT a FROM t', 'SELECT a FROM u')).toBe(0.5);
    expect(ngramSimilarity('', '')).toBe(0);
  });
  it('falls back to the raw text when the SQL does not parse', () => {
    expect(sqlNgrams('SELEC a FRM t', 1)).toEqual(new Set(['selec', 'a', 'frm', 't']));
  });
});

// Data: Spider test-suite evaluation examples (taoyds/test-suite-sql-eval evaluation_examples/ @ e97acc5,
// Apache-2.0): 453 aligned lines of gold (SQL<TAB>db) and a model's predictions, in ../shared/data/text2sql/.
const goldFile = sharedData('text2sql/testsuite_gold.txt');
const predFile = sharedData('text2sql/testsuite_predict.txt');
describe.skipIf(goldFile === null || predFile === null)('test-suite gold and predictions', () => {
  const gold = goldFile ? readFileSync(goldFile, 'utf8').split('\n') : [];
  const pred = predFile ? readFileSync(predFile, 'utf8').split('\n') : [];
  const pairs = gold.map((g, i) => [g.split('\t')[0]!.trim(), (pred[i] ?? '').trim()] as const).filter(([g]) => g !== '');

  it('parses every gold and predicted query (gold after Spider’s `! =` clean-up)', () => {
    expect(pairs).toHaveLength(322);
    const raw = pairs.filter(([g]) => parseSql(g) === null).map(([g]) => g);
    expect(raw).toHaveLength(3);
    expect(raw.every((g) => g.includes('! ='))).toBe(true);
    expect(pairs.filter(([g]) => parseSql(spiderPostprocess(g)) === null)).toEqual([]);
    expect(pairs.filter(([, p]) => parseSql(p) === null)).toEqual([]);
  });

  it('scores each gold 1 against itself, and predictions within [0, 1] with Jaccard ≤ recall', () => {
    let exact = 0;
    for (const [g0, p] of pairs) {
      const g = spiderPostprocess(g0);
      for (const m of ['recall', 'jaccard'] as const) expect(schemaLinking(g, g, m)).toBe(1);
      expect(ngramSimilarity(g, g)).toBe(1);
      const recall = schemaLinking(p, g, 'recall')!;
      const jaccard = schemaLinking(p, g, 'jaccard')!;
      expect(recall).toBeGreaterThanOrEqual(0);
      expect(recall).toBeLessThanOrEqual(1);
      expect(jaccard).toBeLessThanOrEqual(recall);
      expect(jaccard).toBe(schemaLinking(g, p, 'jaccard'));
      const ng = ngramSimilarity(p, g);
      expect(ng).toBe(ngramSimilarity(g, p));
      expect(ng).toBeGreaterThanOrEqual(0);
      expect(ng).toBeLessThanOrEqual(1);
      if (g.toLowerCase().replace(/\s+/g, ' ') === p.toLowerCase().replace(/\s+/g, ' ')) {
        exact++;
        expect(recall).toBe(1);
      }
    }
    expect(exact).toBeGreaterThan(0);
  });

  it('ranks the first pair as the data shows: same tables and columns, different case', () => {
    // gold "SELECT * FROM AIRLINES" vs prediction "select * from airlines"
    expect(pairs[0]).toEqual(['SELECT * FROM AIRLINES', 'select * from airlines']);
    expect(schemaLinking(pairs[0]![1], pairs[0]![0], 'jaccard')).toBe(1);
    expect(ngramSimilarity(pairs[0]![1], pairs[0]![0])).toBe(1);
  });
});
