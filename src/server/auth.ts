import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';
import type { AuthMode } from './context.js';

/**
 * Bearer-token check in constant time (both sides hashed to 32 bytes first, so neither the token's
 * length nor a common prefix shows in the timing).
 */
export class TokenAuth {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = createHash('sha256').update(token).digest();
  }

  /** True when `candidate` equals the token. */
  matches(candidate: string): boolean {
    return timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest);
  }

  /**
   * Throws 401 unless the request carries the token: `Authorization: Bearer T`, or (mode `query`)
   * `?token=T`.
   */
  check(mode: AuthMode, authorization: string | undefined, queryToken: unknown): void {
    if (mode === 'none') return;
    const challenge = { 'www-authenticate': 'Bearer realm="rewardkit"' };
    if (authorization !== undefined) {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
      if (!m) throw new HttpError(401, 'malformed Authorization header: expected "Bearer <token>"', 'headers.authorization', challenge);
      if (!this.matches(m[1]!)) throw new HttpError(401, 'invalid token', 'headers.authorization', challenge);
      return;
    }
    if (mode === 'query' && typeof queryToken === 'string') {
      if (!this.matches(queryToken)) throw new HttpError(401, 'invalid token', 'query.token', challenge);
      return;
    }
    throw new HttpError(
      401,
      mode === 'query' ? 'missing token: send "Authorization: Bearer <token>" or ?token=<token>' : 'missing token: send "Authorization: Bearer <token>"',
      'headers.authorization',
      challenge,
    );
  }
}
