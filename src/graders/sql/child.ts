/**
 * A query process of the `sql` grader: opens SQLite databases read-only and runs one query at a time
 * on request. It runs apart from the grader so that a runaway query can be stopped for real by
 * killing the process — better-sqlite3 is synchronous and has no interrupt or progress handler, and a
 * terminated worker thread keeps running inside sqlite3_step until the query ends.
 */
import Database from 'better-sqlite3';
import { dqsToString, firstKeyword, READ_KEYWORDS } from './lex.js';
import type { QueryReply, QueryRequest, ReadyMessage } from './protocol.js';

/** SQLite's own memory cap for this process (sorts, hash tables, caches). */
const HEAP_LIMIT_BYTES = 512 * 1024 * 1024;
/** How many double-quoted tokens one query may have rewritten to strings. */
const MAX_DQS_REWRITES = 64;
const DQS_ERROR = /^no such column: ("(?:[^"]|"")*") - should this be a string literal in single-quotes\?$/;

const handles = new Map<string, Database.Database>();

function open(path: string): Database.Database {
  let db = handles.get(path);
  if (!db) {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    if (handles.size === 0) db.pragma(`hard_heap_limit = ${HEAP_LIMIT_BYTES}`);
    handles.set(path, db);
  }
  return db;
}

function prepare(db: Database.Database, sql: string): { stmt: Database.Statement; strings: string[] } {
  const strings: string[] = [];
  let text = sql;
  for (;;) {
    try {
      return { stmt: db.prepare(text), strings };
    } catch (e) {
      const m = DQS_ERROR.exec((e as Error).message);
      if (!m || strings.length >= MAX_DQS_REWRITES) throw e;
      const next = dqsToString(text, m[1]!);
      if (next === text) throw e;
      strings.push(m[1]!);
      text = next;
    }
  }
}

function run(req: QueryRequest): QueryReply {
  const { id } = req;
  try {
    const keyword = firstKeyword(req.sql);
    if (!READ_KEYWORDS.has(keyword))
      return { id, ok: false, kind: 'refused', message: `refused: only SELECT or WITH queries are run (got ${keyword || 'no statement'})` };
    const db = open(req.path);
    let prepared;
    try {
      prepared = prepare(db, req.sql);
    } catch (e) {
      const message = (e as Error).message;
      if (/more than one statement/.test(message)) return { id, ok: false, kind: 'refused', message: 'refused: only one statement is allowed' };
      return { id, ok: false, kind: 'error', message };
    }
    const { stmt, strings } = prepared;
    if (!stmt.reader || !stmt.readonly) return { id, ok: false, kind: 'refused', message: 'refused: not a read-only query' };
    stmt.raw(true).safeIntegers(true);
    const columns = stmt.columns().length;
    if (req.op === 'first') {
      const row = stmt.get() as unknown[] | undefined;
      return { id, ok: true, columns, rows: row ? [row] : [], truncated: false, strings };
    }
    const rows: unknown[][] = [];
    let truncated = false;
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      if (rows.length >= req.maxRows) {
        truncated = true;
        break;
      }
      rows.push(row);
    }
    return { id, ok: true, columns, rows, truncated, strings };
  } catch (e) {
    return { id, ok: false, kind: 'error', message: (e as Error).message };
  }
}

process.on('message', (req: QueryRequest) => {
  process.send!(run(req));
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true } satisfies ReadyMessage);
