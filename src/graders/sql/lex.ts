/**
 * Light lexical helpers for SQL text: enough to find code outside string literals, quoted identifiers
 * and comments, without parsing. SQLite's quoting: `'…'` strings (`''` escapes), `"…"` identifiers
 * (or strings, see {@link dqsToString}), `` `…` `` and `[…]` identifiers, `--` and `/* *\/` comments.
 */

/** One piece of SQL text. */
export interface Segment {
  kind: 'code' | 'single' | 'double' | 'backtick' | 'bracket' | 'comment';
  text: string;
}

/** Splits SQL into code, quoted and comment segments (an unterminated one runs to the end). */
export function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let i = 0;
  const n = sql.length;
  const push = (kind: Segment['kind'], end: number) => {
    if (code) out.push({ kind: 'code', text: code });
    code = '';
    out.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  const quoted = (q: string) => {
    let j = i + 1;
    for (;;) {
      const k = sql.indexOf(q, j);
      if (k === -1) return n;
      if (sql[k + 1] === q) {
        j = k + 2;
        continue;
      }
      return k + 1;
    }
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "'") push('single', quoted("'"));
    else if (c === '"') push('double', quoted('"'));
    else if (c === '`') push('backtick', quoted('`'));
    else if (c === '[') {
      const k = sql.indexOf(']', i + 1);
      push('bracket', k === -1 ? n : k + 1);
    } else if (c === '-' && sql[i + 1] === '-') {
      const k = sql.indexOf('\n', i);
      push('comment', k === -1 ? n : k);
    } else if (c === '/' && sql[i + 1] === '*') {
      const k = sql.indexOf('*/', i + 2);
      push('comment', k === -1 ? n : k + 2);
    } else {
      code += c;
      i++;
    }
  }
  if (code) out.push({ kind: 'code', text: code });
  return out;
}

/**
 * The SQL of a completion: the body of its last fenced code block when it has one, else the whole
 * text; trimmed.
 *
 * @example
 * extractSql('Query:\n```sql\nSELECT 1\n```') // → 'SELECT 1'
 */
export function extractSql(text: string): string {
  let last: string | undefined;
  for (const m of text.matchAll(/```([^\n`]*)(?:\n([\s\S]*?))?```/g)) {
    // A one-line fence (```SELECT 1``` or ```sql SELECT 1```) has its code where the language tag goes.
    last = m[2] ?? m[1]!.replace(/^\s*(?:sql|sqlite)(?=\s|$)/i, '');
  }
  return (last ?? text).trim();
}

/**
 * Spider test-suite's clean-up of model SQL (taoyds/test-suite-sql-eval `exec_eval.postprocess`):
 * `> =`, `< =`, `! =` become `>=`, `<=`, `!=` (outside string literals here).
 */
export function spiderPostprocess(sql: string): string {
  if (!/[<>!] =/.test(sql)) return sql;
  return segments(sql)
    .map((s) => (s.kind === 'code' ? s.text.replace(/([<>!]) =/g, '$1=') : s.text))
    .join('');
}

/** The first keyword of a statement, upper-cased, skipping whitespace, comments and opening parentheses. */
export function firstKeyword(sql: string): string {
  for (const s of segments(sql)) {
    if (s.kind === 'comment') continue;
    if (s.kind !== 'code') return '';
    const t = s.text.replace(/^[\s(]+/, '');
    if (t === '') continue;
    return /^[A-Za-z_]+/.exec(t)?.[0].toUpperCase() ?? '';
  }
  return '';
}

/** The statements the `sql` grader runs: a query starting with SELECT or WITH. */
export const READ_KEYWORDS = new Set(['SELECT', 'WITH']);

/**
 * True when the statement itself (not a subquery) has ORDER BY: code at parenthesis depth 0, outside
 * strings and comments. Spider's test suite looks for "order by" anywhere in the gold; an ORDER BY
 * inside a subquery says nothing about the order of the result, so it does not count here.
 */
export function hasTopLevelOrderBy(sql: string): boolean {
  let depth = 0;
  let top = '';
  for (const s of segments(sql)) {
    if (s.kind !== 'code') {
      if (depth === 0) top += ' ';
      continue;
    }
    for (const c of s.text) {
      if (c === '(') {
        if (depth === 0) top += ' ';
        depth++;
      } else if (c === ')') depth = Math.max(0, depth - 1);
      else if (depth === 0) top += c;
    }
  }
  return /\border\s+by\b/i.test(top);
}

/**
 * SQLite's legacy double-quoted strings, by hand: every `"…"` token whose text is `quoted` (quotes
 * included) becomes the string literal `'…'`. better-sqlite3 is built with SQLITE_DQS=0, while the
 * SQLite in Python (Spider, BIRD) reads `"x"` as a string when no column x exists; callers apply this
 * after SQLite reports that `"x"` is no column, which is exactly that fallback.
 */
export function dqsToString(sql: string, quoted: string): string {
  return segments(sql)
    .map((s) => {
      if (s.kind !== 'double' || s.text !== quoted) return s.text;
      const inner = s.text.slice(1, -1).replace(/""/g, '"');
      return `'${inner.replace(/'/g, "''")}'`;
    })
    .join('');
}
