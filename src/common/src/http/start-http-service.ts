import type { FastifyInstance } from 'fastify';
import type { HealthRegistry } from '../health.ts';
import type { ServiceHandle } from '../service.ts';
import { listen } from './server.ts';

export interface HttpListener {
  /** Key of this listener's URL in the handle's `urls`, e.g. `http` or `metrics`. */
  name: string;
  app: FastifyInstance;
  port: number;
  /** The variable that moves this port, named when the port is busy. */
  variable: string;
  /** Appended to this listener's base URL, e.g. `/metrics` for a metrics-only server. */
  path?: string;
  /** More URLs on the same server, by name: `{ metrics: '/metrics' }`. */
  alsoServes?: Record<string, string>;
  /** `https` when the server was built with TLS; `http` otherwise. */
  scheme?: 'http' | 'https';
}

export interface StartHttpServiceOptions {
  name: string;
  /** The address every listener binds. */
  host: string;
  health: HealthRegistry;
  listeners: readonly HttpListener[];
  /**
   * Binds the service's other listeners (syslog) after the HTTP ones; resolves to their URLs by
   * name. A failure (a busy port is a StartupError naming its variable) closes the HTTP servers
   * and aborts like a busy HTTP port. Close them in `drain`.
   */
  listenOthers?: () => Promise<Record<string, string>>;
  /** Runs when a listener cannot bind, after the servers closed: undo what was started before listening. */
  abort?: () => Promise<void> | void;
  /** Runs on stop after readiness fails and before the servers close: consumers, schedulers, streams. */
  drain?: () => Promise<void> | void;
  /** Runs on stop after the servers closed: what the service itself opened. */
  close?: () => Promise<void> | void;
}

export interface HttpServiceHandle extends ServiceHandle {
  /** The bound port of each listener, by name (a configured 0 becomes the real one). */
  ports: Record<string, number>;
}

/** The host a person can paste into a browser: a wildcard bind is reachable on loopback. */
function shownHost(host: string): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return shown.includes(':') ? `[${shown}]` : shown;
}

/**
 * The start-up and shutdown skeleton every service shares: bind the
 * listeners (a busy port is a StartupError naming its variable), report their
 * URLs, and stop in the order endpoints → work → servers → resources, once.
 */
export async function startHttpService(options: StartHttpServiceOptions): Promise<HttpServiceHandle> {
  const ports: Record<string, number> = {};
  let others: Record<string, string> = {};
  try {
    for (const listener of options.listeners) {
      ports[listener.name] = await listen(listener.app, listener.port, options.host, listener.variable);
    }
    others = (await options.listenOthers?.()) ?? {};
  } catch (error) {
    await Promise.allSettled(options.listeners.map((listener) => listener.app.close()));
    await options.abort?.();
    throw error;
  }
  const urls: Record<string, string> = {};
  for (const listener of options.listeners) {
    const base = `${listener.scheme ?? 'http'}://${shownHost(options.host)}:${ports[listener.name]}`;
    urls[listener.name] = `${base}${listener.path ?? ''}`;
    for (const [name, path] of Object.entries(listener.alsoServes ?? {})) urls[name] = `${base}${path}`;
  }
  Object.assign(urls, others);
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    urls,
    ports,
    stop: () => {
      stopping ??= (async () => {
        // Endpoints drop the instance first, then in-flight work drains, then everything closes.
        options.health.startDraining();
        await options.drain?.();
        for (const listener of options.listeners) await listener.app.close();
        await options.close?.();
      })();
      return stopping;
    },
  };
}
