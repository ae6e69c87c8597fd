import { createHmac } from 'node:crypto';
import type { WebhookOutput } from '../outputs-config.ts';
import { groupStatus, isResolved, type OutputSender, post } from './notification.ts';

export const SIGNATURE_HEADER = 'x-auditflow-signature';
export const TIMESTAMP_HEADER = 'x-auditflow-timestamp';
export const DELIVERY_HEADER = 'x-auditflow-delivery';

/**
 * `v1=` + hex HMAC-SHA256 over `<timestamp>.<body>` (docs/outputs.md has the receiver's recipe).
 * The timestamp is signed with the body, so a captured request cannot be replayed later under a
 * fresh timestamp.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A generic JSON webhook: the group's alerts as the API shows them, signed. */
export function webhookSender(output: WebhookOutput, now: () => Date = () => new Date()): OutputSender {
  return {
    send: (notification, signal) => {
      const body = JSON.stringify({
        version: '1',
        id: notification.id,
        receiver: output.name,
        status: groupStatus(notification),
        group_key: notification.groupKey,
        alerts: notification.items.map((item) => ({
          delivery_id: item.deliveryId,
          status: isResolved(item) ? 'resolved' : 'firing',
          alert: item.alert,
        })),
      });
      const timestamp = Math.floor(now().getTime() / 1000);
      return post(
        output,
        output.url,
        body,
        {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(output.secret, timestamp, body),
          [DELIVERY_HEADER]: notification.id,
        },
        signal,
      );
    },
  };
}
