import { CrowdsecSender, type CrowdsecSenderDeps } from '../../response/crowdsec-sender.ts';
import type { OutputConfig } from '../outputs-config.ts';
import { alertmanagerSender } from './alertmanager-sender.ts';
import type { OutputSender } from './notification.ts';
import { ntfySender } from './ntfy-sender.ts';
import { slackSender } from './slack-sender.ts';
import { smtpSender } from './smtp-sender.ts';
import { webhookSender } from './webhook-sender.ts';

export interface SenderSet {
  get(output: string): OutputSender | undefined;
  /** The crowdsec output of that name (undo needs its Local API client). */
  responder(output: string): CrowdsecSender | undefined;
  close(): void;
}

/** `response` is needed once a crowdsec output is configured: its decisions live in the database. */
export function createSenders(outputs: Iterable<OutputConfig>, response?: CrowdsecSenderDeps): SenderSet {
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
      case 'crowdsec':
        if (response === undefined) throw new Error(`output "${output.name}": a crowdsec output needs the response store`);
        senders.set(output.name, new CrowdsecSender(output, response));
        break;
    }
  }
  return {
    get: (name) => senders.get(name),
    responder: (name) => {
      const sender = senders.get(name);
      return sender instanceof CrowdsecSender ? sender : undefined;
    },
    close: () => {
      for (const sender of senders.values()) sender.close?.();
    },
  };
}
