import { createTransport } from 'nodemailer';
import type { SmtpOutput } from '../outputs-config.ts';
import { alertLink, DeliveryError, groupStatus, type OutputSender, summaryLine } from './notification.ts';

/**
 * Mail through an SMTP relay (nodemailer). `starttls` requires the upgrade (a relay that does not
 * offer STARTTLS fails the delivery rather than receiving credentials in clear); `tls` is SMTPS.
 */
export function smtpSender(output: SmtpOutput): OutputSender & { close(): void } {
  const transport = createTransport({
    host: output.host,
    port: output.port,
    secure: output.security === 'tls',
    requireTLS: output.security === 'starttls',
    ignoreTLS: output.security === 'none',
    ...(output.username === undefined ? {} : { auth: { user: output.username, pass: output.password ?? '' } }),
    ...(output.ca === undefined ? {} : { tls: { ca: output.ca } }),
    connectionTimeout: output.timeoutMs,
    greetingTimeout: output.timeoutMs,
    socketTimeout: output.timeoutMs,
  });
  return {
    send: async (notification) => {
      const alerts = notification.items.map((item) => item.alert);
      const status = groupStatus(notification);
      const subject = `[AuditFlow ${status.toUpperCase()}] ${alerts.length === 1 ? summaryLine(alerts[0]!) : `${alerts.length} alerts, ${summaryLine(alerts[0]!)}`}`;
      const text = alerts
        .map((alert) => {
          const link = alertLink(output.linkUrl, alert);
          return [
            summaryLine(alert),
            alert.description ?? '',
            `rule: ${alert.rule_id ?? '-'}  host: ${alert.server_hostname ?? '-'}  user: ${alert.actor_id ?? '-'}`,
            `count: ${alert.count}  first seen: ${alert.first_seen}  last seen: ${alert.last_seen}  status: ${alert.status}`,
            link ?? '',
          ]
            .filter(Boolean)
            .join('\n');
        })
        .join('\n\n');
      try {
        await transport.sendMail({
          from: output.from,
          to: output.to,
          subject,
          text,
          messageId: `<${notification.id}@auditflow>`,
          headers: { 'X-AuditFlow-Delivery': notification.id },
        });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        throw new DeliveryError(`SMTP ${output.host}:${output.port}: ${(error as Error).message}`, code !== undefined && code >= 500, error);
      }
    },
    close: () => transport.close(),
  };
}
