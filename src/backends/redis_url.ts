/**
 * `redis://` URLs as the server's `--state` and the backends' `cache: redis://…` take them: checked
 * up front with an error naming the setting, and shown without their password in messages and logs.
 * No Redis client is loaded here (ioredis loads only where a URL is in use).
 */

/**
 * `redis://user:secret@host:6379/0` → `redis://host:6379/0` (URLs in messages and logs never carry a password).
 *
 * @example
 * redactRedisUrl('redis://:pw@10.0.0.5:6379/2') // → 'redis://10.0.0.5:6379/2'
 */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** True for a string that starts like a Redis URL (`redis://`, `rediss://`). */
export function isRedisUrl(s: string): boolean {
  return /^rediss?:\/\//i.test(s);
}

/**
 * Checks a `redis://HOST:PORT/DB` (or `rediss://`) URL; throws an Error starting with `setting` for
 * anything else (not a URL, another scheme, a database that is not a number).
 *
 * @example
 * checkRedisUrl('redis://127.0.0.1:6379/0', '--state') // ok
 * checkRedisUrl('http://x', '--state') // throws '--state: "http://x" is not a redis:// URL (expected redis://HOST:PORT/DB)'
 */
export function checkRedisUrl(url: string, setting: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${setting}: "${url}" is not a URL (expected redis://HOST:PORT/DB)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`${setting}: "${redactRedisUrl(url)}" is not a redis:// URL (expected redis://HOST:PORT/DB)`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`${setting}: database "${db}" in "${redactRedisUrl(url)}" is not a number`);
}
