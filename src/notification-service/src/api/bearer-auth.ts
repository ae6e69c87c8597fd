import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError, AfForbiddenError } from '@auditflow/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * What a token may do. Every route that needs one declares it as the route
 * option `config: { scope }`; routes without a scope (probes, /metrics,
 * /openapi.json) are open.
 * - read: GET routes (open without a token unless API_READ_REQUIRES_TOKEN)
 * - ack: acknowledge, resolve, reopen
 * - admin: silences and outputs
 */
export const TOKEN_SCOPES = ['read', 'ack', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token line without scopes (the format before scopes existed) may do what it could then: read and change statuses. */
export const PLAIN_TOKEN_SCOPES: readonly TokenScope[] = ['read', 'ack'];

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: TokenScope;
  }
  interface FastifyRequest {
    /** The token that authorised the request, when one did. */
    apiToken?: { name: string; scopes: readonly TokenScope[] };
  }
}

export interface ApiToken {
  token: string;
  /** Shown in logs and the audit trail; never the secret. */
  name: string;
  scopes: readonly TokenScope[];
}

export class ForbiddenError extends AfForbiddenError {}

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens in
 * constant time: both sides are hashed to equal-length digests and every
 * token is compared, so neither the length nor the position of a match leaks.
 * With no token configured nothing is accepted (there is no built-in token).
 */
export class BearerAuth {
  readonly #tokens: { digest: Buffer; token: ApiToken }[];
  readonly #readRequiresToken: boolean;

  constructor(tokens: readonly ApiToken[], options: { readRequiresToken?: boolean } = {}) {
    this.#tokens = tokens.filter((t) => t.token !== '').map((token) => ({ digest: digest(token.token), token }));
    this.#readRequiresToken = options.readRequiresToken ?? false;
  }

  get configured(): boolean {
    return this.#tokens.length > 0;
  }

  /** Whether a route of this scope answers without a token. */
  isOpen(scope: TokenScope | undefined): boolean {
    return scope === undefined || (scope === 'read' && !this.#readRequiresToken);
  }

  /** The token the header carries; throws UnauthorizedError unless it is a configured one. */
  verify(header: string | undefined): ApiToken {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
    const presented = digest(match?.[1] ?? '');
    let found: ApiToken | undefined;
    for (const known of this.#tokens) {
      if (timingSafeEqual(known.digest, presented)) found ??= known.token;
    }
    if (!match || found === undefined) throw new UnauthorizedError('a valid bearer token is required');
    return found;
  }

  /** Throws unless the header carries a token with `scope`. */
  authorize(header: string | undefined, scope: TokenScope): ApiToken {
    const token = this.verify(header);
    if (!token.scopes.includes(scope)) throw new ForbiddenError(scope);
    return token;
  }
}

/**
 * Enforces every route's `config.scope` before anything else about the
 * request is looked at (an onRequest hook added before the routes).
 */
export function registerScopeEnforcement(app: FastifyInstance, auth: BearerAuth): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const scope = request.routeOptions.config.scope;
    if (auth.isOpen(scope) || scope === undefined) return;
    try {
      const token = auth.authorize(request.headers.authorization, scope);
      request.apiToken = { name: token.name, scopes: token.scopes };
    } catch (error) {
      // RFC 6750 section 3: which scope was missing, or that the token was not accepted.
      reply.header(
        'www-authenticate',
        error instanceof ForbiddenError
          ? `Bearer realm="auditflow", error="insufficient_scope", scope="${scope}"`
          : 'Bearer realm="auditflow"',
      );
      throw error;
    }
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
