/** Messages between the `sql` grader and its query processes (see executor.ts and child.ts). */

/** Run `sql` on the database file at `path`: all rows (up to `maxRows`) or only the first. */
export interface QueryRequest {
  id: number;
  path: string;
  sql: string;
  op: 'all' | 'first';
  maxRows: number;
}

/** The answer to a {@link QueryRequest}. */
export type QueryReply =
  | { id: number; ok: true; columns: number; rows: unknown[][]; truncated: boolean; strings: string[] }
  | { id: number; ok: false; kind: 'error' | 'refused'; message: string };

/** Sent once by a query process when it can take requests. */
export interface ReadyMessage {
  ready: true;
}
