import { type Alert, assertAlert, type MessageBroker } from '@auditflow/common';

/** An alert version: its id and count are known up front, the alert is built when read. */
export interface AlertVersion {
  readonly alertId: string;
  readonly count: number;
  readonly alert: Alert;
}

interface Slot {
  version: AlertVersion;
  correlationId: string;
  isNew: boolean;
  done: Promise<PublishedAlert>;
}

export interface PublishedAlert {
  /** The version that was sent: the caller's own or a newer one it folded into. */
  version: AlertVersion;
  alert: Alert;
  /** Whether the confirmed message opened the episode (the first publish of its alert id). */
  isNew: boolean;
}

export interface AlertPublisherOptions {
  /**
   * How long an update (a suppressed repeat raising the count) waits before it
   * is published, so every repeat of that moment folds into one message. New
   * alerts never wait. @default 0
   */
  updateLingerMs?: number;
  /** Adds what is known only at publish time (the evidence of the events folded in so far). */
  decorate?: (alert: Alert) => Alert;
}

/**
 * Publishes alert versions with at most one publish in flight per alert id and
 * one waiting behind it, which always holds the newest version (counts only
 * grow). Repeats that arrive while a publish is in flight or lingers fold into
 * the waiting one, so a burst costs a few publishes instead of one per event
 * (Alertmanager's group_interval, on a much shorter scale), and consumers see
 * the versions of an alert in order. Each caller resolves only once a
 * confirmed publish carried its version or a newer one, so acking after it
 * still never loses an alert or an update.
 */
export class AlertPublisher {
  readonly #broker: MessageBroker;
  readonly #queue: string;
  readonly #lingerMs: number;
  readonly #decorate: (alert: Alert) => Alert;
  readonly #waiting = new Map<string, Slot>();
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(broker: MessageBroker, queue: string, options: AlertPublisherOptions = {}) {
    this.#broker = broker;
    this.#queue = queue;
    this.#lingerMs = options.updateLingerMs ?? 0;
    this.#decorate = options.decorate ?? ((alert) => alert);
  }

  publish(version: AlertVersion, correlationId: string, isNew: boolean): Promise<PublishedAlert> {
    const id = version.alertId;
    const waiting = this.#waiting.get(id);
    if (waiting) {
      if (version.count >= waiting.version.count) {
        waiting.version = version;
        waiting.correlationId = correlationId;
      }
      waiting.isNew ||= isNew;
      return waiting.done;
    }
    const previous = this.#inFlight.get(id) ?? Promise.resolve();
    const slot = { version, correlationId, isNew } as Slot;
    slot.done = previous
      .catch(() => undefined)
      .then(async () => {
        if (!slot.isNew && this.#lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#lingerMs));
        // From here on, later versions queue behind this publish instead of joining it.
        this.#waiting.delete(id);
        const sent = slot.version;
        // The contract is checked on what is sent; a violation is a PermanentError that dead-letters the events behind it.
        const alert = assertAlert(this.#decorate(sent.alert));
        await this.#broker.publish(this.#queue, {
          body: alert,
          messageId: alert.alert_id,
          correlationId: slot.correlationId,
        });
        return { version: sent, alert, isNew: slot.isNew };
      });
    this.#waiting.set(id, slot);
    const tracked = slot.done.finally(() => {
      if (this.#inFlight.get(id) === tracked) this.#inFlight.delete(id);
    });
    tracked.catch(() => undefined);
    this.#inFlight.set(id, tracked);
    return slot.done;
  }
}
