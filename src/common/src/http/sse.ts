import type { ServerResponse } from 'node:http';

/** One server-sent event. */
export interface SseEvent {
  event?: string | undefined;
  id?: string | undefined;
  data: string;
}

/** Sent every keep-alive interval so proxies do not close an idle stream. */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

/** Reconnect hint to browsers, in milliseconds. */
export const SSE_RETRY_MS = 5000;

/**
 * The one writer of text/event-stream in the platform (the notification
 * service's hub and the dashboard's pass-through): the same headers, the same
 * opening and the same framing.
 *
 * `Last-Event-ID` is not honoured anywhere: events are not kept for replay,
 * ids of different replicas are not comparable, and a reconnecting client
 * re-reads the list instead. Proxies therefore do not forward it.
 */
export function startEventStream(response: ServerResponse, headers: Record<string, string> = {}): void {
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store, no-transform',
    'x-content-type-options': 'nosniff',
    // Proxies such as ingress-nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  response.write(`retry: ${SSE_RETRY_MS}\n: connected\n\n`);
}

/** The event's wire form; every line of `data` gets its own `data:` field, so newlines survive. */
export function formatSseEvent(event: SseEvent): string {
  let out = '';
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  return `${out}data: ${event.data.split('\n').join('\ndata: ')}\n\n`;
}
