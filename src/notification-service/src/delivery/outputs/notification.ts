import { AfDeliveryFailedError } from '@auditflow/common/platform';
import type { DeliveryKind } from '../../store/outbox-store.ts';
import type { LabelSource } from '../alert-labels.ts';
import type { OutputConfig } from '../outputs-config.ts';

/** The fields of the API row JSON (docs/api.md) the outputs read. */
export interface AlertRow extends LabelSource {
  alert_id: string;
  timestamp: string;
  description: string | null;
  status: 'open' | 'acknowledged' | 'resolved';
  status_changed_at: string | null;
  count: number;
  first_seen: string;
  last_seen: string;
  fingerprint: string;
}

export interface NotificationItem {
  deliveryId: string;
  kind: DeliveryKind;
  alert: AlertRow;
}

/** Every alert of one group that is due at one output, sent as one message. */
export interface Notification {
  /** Stable for the same set of deliveries, so a receiver can drop a retried copy. */
  id: string;
  groupKey: string;
  items: NotificationItem[];
}

export interface OutputSender {
  send(notification: Notification, signal: AbortSignal): Promise<void>;
}

/** A send that did not succeed; `permanent` (a 4xx other than 408/429) fails the delivery without retries. */
export class DeliveryError extends AfDeliveryFailedError {
  readonly permanent: boolean;
  constructor(message: string, permanent = false, cause?: unknown) {
    super(message, cause === undefined ? {} : { cause });
    this.permanent = permanent;
  }
}

/** An alert is reported resolved once its status is, whatever made the delivery. */
export function isResolved(item: NotificationItem): boolean {
  return item.alert.status === 'resolved';
}

export function groupStatus(notification: Notification): 'firing' | 'resolved' {
  return notification.items.every(isResolved) ? 'resolved' : 'firing';
}

/** One line per alert for chat and mail: `[CRITICAL] Multiple Failed Login Attempts on prod-web-01 (user bob), 3×`. */
export function summaryLine(alert: AlertRow): string {
  const where = [alert.server_hostname ? `on ${alert.server_hostname}` : '', alert.actor_id ? `(user ${alert.actor_id})` : '']
    .filter(Boolean)
    .join(' ');
  const resolved = alert.status === 'resolved' ? 'RESOLVED ' : '';
  return `${resolved}[${alert.severity}] ${alert.alert_name}${where ? ` ${where}` : ''}${alert.count > 1 ? `, ${alert.count}×` : ''}`;
}

export function alertLink(linkUrl: string | undefined, alert: AlertRow): string | undefined {
  return linkUrl === undefined ? undefined : `${linkUrl}/${alert.alert_id}`;
}

/** POSTs a body and throws DeliveryError unless the receiver answers 2xx. */
export async function post(
  output: OutputConfig,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'user-agent': 'auditflow-notification-service', ...headers },
      signal: AbortSignal.any([signal, AbortSignal.timeout(output.timeoutMs)]),
      redirect: 'manual',
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${output.timeoutMs} ms` : describe(error);
    throw new DeliveryError(`POST ${redact(url)}: ${reason}`, false, error);
  }
  const text = await response.text().catch(() => '');
  if (response.status >= 200 && response.status < 300) return;
  const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  throw new DeliveryError(`POST ${redact(url)}: HTTP ${response.status} ${text.slice(0, 200)}`.trim(), permanent);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Errors are stored and shown: a URL whose path is a token (Slack, Mattermost) keeps only its origin. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.split('/').length > 3 ? '/…' : parsed.pathname}`;
  } catch {
    return 'the receiver';
  }
}
