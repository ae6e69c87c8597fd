import type { OutputConfig } from '../outputs-config.ts';
import { alertmanagerSender } from './alertmanager-sender.ts';
import type { OutputSender } from './notification.ts';
import { ntfySender } from './ntfy-sender.ts';
import { slackSender } from './slack-sender.ts';
import { smtpSender } from './smtp-sender.ts';
import { webhookSender } from './webhook-sender.ts';

export interface SenderSet {
  get(output: string): OutputSender | undefined;
  close(): void;
}

export function createSenders(outputs: Iterable<OutputConfig>): SenderSet {
  const senders = new Map<string, OutputSender & { close?(): void }>();
  for (const output of outputs) {
    switch (output.type) {
      case 'alertmanager':
        senders.set(output.name, alertmanagerSender(output));
        break;
      case 'webhook':
        senders.set(output.name, webhookSender(output));
        break;
      case 'slack':
        senders.set(output.name, slackSender(output));
        break;
      case 'ntfy':
        senders.set(output.name, ntfySender(output));
        break;
      case 'smtp':
        senders.set(output.name, smtpSender(output));
        break;
    }
  }
  return {
    get: (name) => senders.get(name),
    close: () => {
      for (const sender of senders.values()) sender.close?.();
    },
  };
}
