import type { SlackOutput } from '../outputs-config.ts';
import { alertLink, groupStatus, type OutputSender, post, summaryLine } from './notification.ts';

const COLOUR: Record<string, string> = { CRITICAL: '#b71c1c', HIGH: '#e65100', MEDIUM: '#f9a825', LOW: '#1565c0' };

/**
 * A Slack incoming webhook message: `text` (what Slack and Mattermost show in notifications) and
 * one attachment per alert, the format both accept.
 */
export function slackSender(output: SlackOutput): OutputSender {
  return {
    send: (notification, signal) => {
      const status = groupStatus(notification);
      const first = notification.items[0]!.alert;
      const title = notification.items.length === 1 ? summaryLine(first) : `${notification.items.length} alerts: ${summaryLine(first)} and more`;
      const body = {
        text: `${status === 'resolved' ? ':white_check_mark:' : ':rotating_light:'} ${title}`,
        attachments: notification.items.map(({ alert }) => {
          const link = alertLink(output.linkUrl, alert);
          return {
            fallback: summaryLine(alert),
            color: alert.status === 'resolved' ? '#2e7d32' : (COLOUR[alert.severity.toUpperCase()] ?? '#616161'),
            title: summaryLine(alert),
            ...(link === undefined ? {} : { title_link: link }),
            text: alert.description ?? '',
            fields: [
              { title: 'Rule', value: alert.rule_id ?? '-', short: true },
              { title: 'Host', value: alert.server_hostname ?? '-', short: true },
              { title: 'User', value: alert.actor_id ?? '-', short: true },
              { title: 'Count', value: String(alert.count), short: true },
            ],
            ts: Math.floor(Date.parse(alert.last_seen) / 1000),
          };
        }),
      };
      return post(output, output.url, JSON.stringify(body), { 'content-type': 'application/json' }, signal);
    },
  };
}
