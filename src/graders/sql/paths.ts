import { realpathSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

/** Thrown when a database name cannot be used: not a plain name, missing, or outside the folder. */
export class DatabasePathError extends Error {
  override name = 'DatabasePathError';
}

const resolved = new Map<string, string>();

/**
 * Path of database `db` in a Spider-layout folder (`<root>/<db>/<db>.sqlite`), confined to `root`:
 * `db` must be a plain name (no `/`, `\`, `..`, NUL, absolute path), and the file's real path —
 * symlinks resolved — must lie inside the real `root`. Results are cached per (root, db).
 *
 * @example
 * resolveDatabase('/data/spider/database', 'concert_singer') // → '/data/spider/database/concert_singer/concert_singer.sqlite'
 */
export function resolveDatabase(root: string, db: string): string {
  const key = `${root}\u0000${db}`;
  const hit = resolved.get(key);
  if (hit !== undefined) return hit;
  if (db === '' || db === '.' || db === '..' || /[/\\\u0000]/.test(db) || isAbsolute(db))
    throw new DatabasePathError(`database name ${JSON.stringify(db)} is not a plain folder name`);
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    throw new DatabasePathError(`databases folder not found: ${root}`);
  }
  const file = join(rootReal, db, `${db}.sqlite`);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new DatabasePathError(`database ${JSON.stringify(db)} not found: ${file}`);
  }
  if (!real.startsWith(rootReal + sep)) throw new DatabasePathError(`database ${JSON.stringify(db)} resolves outside the databases folder`);
  resolved.set(key, real);
  return real;
}
