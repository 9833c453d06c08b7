import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dqsToString, extractSql, firstKeyword, hasTopLevelOrderBy, segments, spiderPostprocess } from './lex.js';

describe('segments', () => {
  it('splits code, quotes and comments, and joins back to the input', () => {
    const sql = `SELECT 'it''s' , "col" FROM [t x] -- note\nWHERE \`a\` = 1 /* c */`;
    expect(segments(sql).map((s) => s.kind)).toEqual(['code', 'single', 'code', 'double', 'code', 'bracket', 'code', 'comment', 'code', 'backtick', 'code', 'comment']);
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(segments(s).map((x) => x.text).join('')).toBe(s);
      }),
    );
  });
});

describe('extractSql', () => {
  it('takes the last fenced block, else the whole text', () => {
    expect(extractSql('a\n```sql\nSELECT 1\n```\nthen\n```SQL\nSELECT 2;\n```')).toBe('SELECT 2;');
    expect(extractSql('```\nSELECT 3\n```')).toBe('SELECT 3');
    expect(extractSql('  SELECT 4  ')).toBe('SELECT 4');
    expect(extractSql('<answer>\n```sqlite\nSELECT 5```\n</answer>')).toBe('SELECT 5');
    expect(extractSql('Use ```SELECT 6``` or ```sql SELECT 7```')).toBe('SELECT 7');
    expect(extractSql('```sql\n```')).toBe('');
    expect(extractSql('```sql\nSELECT 8')).toBe('```sql\nSELECT 8');
  });
});

describe('spiderPostprocess', () => {
  it('joins spaced comparison operators outside strings', () => {
    expect(spiderPostprocess("SELECT a FROM t WHERE b ! =  'x ! = y' AND c > = 2 AND d < = 3")).toBe("SELECT a FROM t WHERE b !=  'x ! = y' AND c >= 2 AND d <= 3");
    expect(spiderPostprocess('SELECT 1')).toBe('SELECT 1');
  });
});

describe('firstKeyword', () => {
  it('skips whitespace, comments and parentheses', () => {
    expect(firstKeyword('  -- hi\n /* x */ (select 1)')).toBe('SELECT');
    expect(firstKeyword('with x as (select 1) select * from x')).toBe('WITH');
    expect(firstKeyword("ATTACH DATABASE 'x' AS y")).toBe('ATTACH');
    expect(firstKeyword('"select"')).toBe('');
    expect(firstKeyword('')).toBe('');
  });
});

describe('hasTopLevelOrderBy', () => {
  it('sees ORDER BY of the statement, not of subqueries, strings or comments', () => {
    expect(hasTopLevelOrderBy('SELECT a FROM t ORDER  BY a')).toBe(true);
    expect(hasTopLevelOrderBy('SELECT a FROM t UNION SELECT b FROM u order\nby 1')).toBe(true);
    expect(hasTopLevelOrderBy('SELECT a FROM t WHERE a = (SELECT b FROM u ORDER BY b LIMIT 1)')).toBe(false);
    expect(hasTopLevelOrderBy("SELECT 'order by' FROM t -- order by\n")).toBe(false);
    expect(hasTopLevelOrderBy('SELECT a FROM (SELECT a FROM t)ORDER BY a')).toBe(true);
    expect(hasTopLevelOrderBy('SELECT border_by FROM t')).toBe(false);
  });
});

describe('dqsToString', () => {
  it('turns the named double-quoted token into a string literal', () => {
    expect(dqsToString(`SELECT "name" FROM t WHERE x = "O'Neil" AND y = 'O"Neil'`, `"O'Neil"`)).toBe(`SELECT "name" FROM t WHERE x = 'O''Neil' AND y = 'O"Neil'`);
    expect(dqsToString('SELECT * FROM t WHERE a = "x" OR b = "x"', '"x"')).toBe("SELECT * FROM t WHERE a = 'x' OR b = 'x'");
    expect(dqsToString('SELECT "a""b"', '"a""b"')).toBe(`SELECT 'a"b'`);
  });
});
