import type { NtfyOutput } from '../outputs-config.ts';
import { groupStatus, type OutputSender, post, summaryLine } from './notification.ts';

const PRIORITY: Record<string, number> = { CRITICAL: 5, HIGH: 4, MEDIUM: 3, LOW: 2 };

/** ntfy's JSON publishing (`POST <server>/` with the topic in the body), highest severity as priority. */
export function ntfySender(output: NtfyOutput): OutputSender {
  return {
    send: (notification, signal) => {
      const alerts = notification.items.map((item) => item.alert);
      const resolved = groupStatus(notification) === 'resolved';
      const priority = resolved ? 2 : Math.max(...alerts.map((alert) => PRIORITY[alert.severity.toUpperCase()] ?? 3));
      const body = {
        topic: output.topic,
        title: alerts.length === 1 ? summaryLine(alerts[0]!) : `${alerts.length} AuditFlow alerts`,
        message: alerts.map((alert) => `${summaryLine(alert)}${alert.description ? `\n${alert.description}` : ''}`).join('\n\n'),
        priority,
        tags: [resolved ? 'white_check_mark' : 'rotating_light', ...new Set(alerts.map((alert) => alert.severity.toLowerCase()))],
      };
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (output.token !== undefined) headers.authorization = `Bearer ${output.token}`;
      return post(output, `${output.url}/`, JSON.stringify(body), headers, signal);
    },
  };
}
