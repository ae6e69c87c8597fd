import { errorMessage, formatSseEvent, problem, SSE_KEEP_ALIVE, sendProblem, startEventStream, AfTooManyStreamsError, AfBackendUnavailableError } from '@auditflow/common';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { NotificationClient } from '../backend/notification-client.ts';
import { SseParser } from './sse.ts';

export interface StreamRouteOptions {
  client: NotificationClient;
  logger: Logger;
  /** Open browser streams at most; each holds one upstream connection. */
  maxStreams?: number;
  /** @default 15000 */
  keepAliveMs?: number;
}

export interface StreamHub {
  readonly open: number;
  /** Ends every open stream (shutdown). */
  closeAll(): void;
}

/**
 * GET /api/alerts/stream: the notification service's SSE stream passed
 * through event by event. Each browser gets its own upstream connection,
 * aborted the moment the browser goes away, so nothing leaks.
 */
export function registerStreamRoute(app: FastifyInstance, options: StreamRouteOptions): StreamHub {
  const open = new Set<() => void>();
  const maxStreams = options.maxStreams ?? 200;
  const keepAliveMs = options.keepAliveMs ?? 15_000;

  app.get('/api/alerts/stream', { schema: { querystring: Type.Object({}, { additionalProperties: false }) } }, async (_request, reply) => {
    if (open.size >= maxStreams) {
      return sendProblem(reply, problem(503, AfTooManyStreamsError.code, 'too many live connections; retry later'));
    }
    const upstream = new AbortController();
    const res = reply.raw;
    // The response's close (not the request's, which fires once a body-less GET is read)
    // tells that the browser left; it may leave while the upstream is still connecting.
    const abortEarly = (): void => upstream.abort();
    res.once('close', abortEarly);
    // A browser's Last-Event-ID is not forwarded: the service replays nothing (see startEventStream).
    let body: ReadableStream<Uint8Array>;
    try {
      body = await options.client.openStream(upstream.signal);
    } catch (error) {
      res.off('close', abortEarly);
      upstream.abort();
      if (res.destroyed) return reply.hijack();
      return sendProblem(reply, problem(503, AfBackendUnavailableError.code, `live updates are unavailable: ${errorMessage(error)}`));
    }
    res.off('close', abortEarly);
    if (res.destroyed) {
      upstream.abort();
      await body.cancel().catch(() => undefined);
      return reply.hijack();
    }

    reply.hijack();
    // The retry hint is the browser's fallback; the page script backs off itself.
    startEventStream(res);

    const reader = body.getReader();
    const keepAlive = setInterval(() => res.write(SSE_KEEP_ALIVE), keepAliveMs);
    keepAlive.unref();
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      open.delete(close);
      upstream.abort();
      reader.cancel().catch(() => undefined);
      if (!res.writableEnded) res.end();
    };
    open.add(close);
    res.on('close', close);

    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || closed) break;
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          res.write(formatSseEvent(event));
        }
      }
    } catch (error) {
      if (!closed) options.logger.warn({ err: error }, 'upstream alert stream failed');
    } finally {
      close();
    }
  });

  return {
    get open() {
      return open.size;
    },
    closeAll() {
      for (const close of [...open]) close();
    },
  };
}
