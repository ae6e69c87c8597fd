import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@auditflow/common';

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens in
 * constant time: both sides are hashed to equal-length digests and every
 * token is compared, so neither the length nor the position of a match leaks.
 * With no token configured nothing is accepted (there is no built-in token).
 */
export class BearerAuth {
  readonly #digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.filter((token) => token !== '').map(digest);
  }

  get configured(): boolean {
    return this.#digests.length > 0;
  }

  /** Throws UnauthorizedError unless the header carries a configured token. */
  verify(header: string | undefined): void {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
    const presented = digest(match?.[1] ?? '');
    let ok = false;
    for (const known of this.#digests) ok = timingSafeEqual(known, presented) || ok;
    if (!match || !ok) throw new UnauthorizedError('a valid bearer token is required to change alerts');
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
