import { timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '@auditflow/common';
import type { FastifyRequest } from 'fastify';

export interface SenderAuth {
  tokens: readonly string[];
  /** Client certificates verified against INGEST_TLS_CLIENT_CA_FILE count as authentication. */
  clientCertificates: boolean;
  allowUnauthenticated: boolean;
}

/**
 * The API server's audit webhook authenticates with what its kubeconfig
 * carries: a client certificate or a bearer token. Either is enough.
 */
export function authenticateSender(request: FastifyRequest, auth: SenderAuth): void {
  if (auth.allowUnauthenticated) return;
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (auth.clientCertificates && socket.authorized === true) return;
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (token !== undefined && auth.tokens.some((known) => sameSecret(known, token))) return;
  throw new UnauthorizedError(
    auth.clientCertificates ? 'a client certificate signed by the configured CA or a valid bearer token is required' : 'a valid bearer token is required',
  );
}

function sameSecret(known: string, offered: string): boolean {
  const a = Buffer.from(known);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
}
