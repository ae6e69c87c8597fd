import { createHash } from 'node:crypto';
import { ALERT_SCHEMA_VERSION, type Alert, type Enrichment, eventClientIp, eventResource, uuidV5 } from '@auditflow/common';
import type { EventContext } from '../rules/event-context.ts';
import { type FieldRef, type Rule, thresholdOf } from '../rules/rule-set.ts';
import type { Episode } from '../store/window-store.ts';
import { fieldText, type GroupKey } from './group-key.ts';

export interface AlertInput {
  rule: Rule;
  context: EventContext;
  group: GroupKey;
  episode: Episode;
  /** Count of the window that fired (events, distinct values or stages). */
  windowCount: number;
  environment: string;
  /** The id when the caller already derived it; otherwise it is derived here. */
  alertId?: string;
}

const MAX_RESOURCE = 255;

/** Same rule, group and episode anchor give the same id, whoever computes it and however often. */
export function alertIdOf(ruleId: string, group: GroupKey, anchor: number): string {
  return uuidV5(`${ruleId}|${group.text}|${anchor}`);
}

export function fingerprintOf(ruleId: string, group: GroupKey): string {
  return createHash('sha256').update(`${ruleId}|${group.text}`).digest('hex');
}

/**
 * Builds the alert of an episode in the contract of section 1.3 plus the aggregation fields.
 * It is validated where it leaves the service (AlertPublisher), so the many versions that
 * fold into a newer one before publishing are not validated for nothing.
 */
export function buildAlert(input: AlertInput): Alert {
  const { rule, context, group, episode } = input;
  const event = context.event;
  const template = rule.alert;
  const resourceId =
    template.resourceIdField !== undefined
      ? fieldText(context.get(template.resourceIdField.path))
      : template.resourceType === 'FILE'
        ? (eventResource(event) ?? '')
        : event.server_hostname;
  const alert = {
    alert_id: input.alertId ?? alertIdOf(rule.id, group, episode.anchor),
    timestamp: new Date().toISOString(),
    alert_name: template.alertName,
    alert_type: template.alertType,
    severity: template.severity,
    description: renderDescription(input).slice(0, 10_000),
    source_service_name: event.source_service || 'unknown-event-source',
    analysis_rule: { rule_id: rule.id, rule_name: template.ruleName, rule_description: template.ruleDescription },
    triggered_by: {
      actor_type: template.actorType,
      actor_id: fieldText(context.get(template.actorIdField.path)).slice(0, MAX_RESOURCE) || null,
      client_ip: eventClientIp(event) ?? 'N/A',
    },
    impacted_resource: {
      resource_type: template.resourceType,
      resource_id: resourceId.slice(0, MAX_RESOURCE) || null,
      server_hostname: event.server_hostname,
    },
    action_observed: template.actionObserved,
    correlation_id: event.event_id,
    raw_event_data: event,
    metadata: {
      tags: [...template.tags],
      environment: input.environment,
      remediation_guidance: template.remediationGuidance,
      playbook_url: template.playbookUrl,
    },
    schema_version: ALERT_SCHEMA_VERSION,
    fingerprint: fingerprintOf(rule.id, group),
    group_key: group.values,
    count: Math.max(1, episode.count),
    first_seen: new Date(episode.firstSeen).toISOString(),
    last_seen: new Date(episode.lastSeen).toISOString(),
    event_ids: episode.sample.slice(0, 20),
    // Set by the analysis only (the decoder drops a producer's), so it has the contract's shape.
    ...(event['enrichment'] !== undefined ? { enrichment: event['enrichment'] as Enrichment } : {}),
  };
  return alert;
}

function renderDescription(input: AlertInput): string {
  const { rule, context, episode } = input;
  let text = '';
  for (const part of rule.alert.description) {
    if ('text' in part) {
      text += part.text;
      continue;
    }
    text += placeholder(part.field, part.path, input, rule, context, episode);
  }
  return text;
}

function placeholder(name: string, path: readonly string[], input: AlertInput, rule: Rule, context: EventContext, episode: Episode): string {
  switch (name) {
    case 'count':
      return String(episode.count);
    case 'window_count':
      return String(input.windowCount);
    case 'timespan_seconds':
      return rule.kind === 'correlation' ? String(rule.timespanMs / 1000) : '';
    case 'threshold':
      return rule.kind === 'correlation' ? fieldText(thresholdOf(rule.condition)) : '';
    case 'rule_id':
      return rule.id;
    case 'first_seen':
      return new Date(episode.firstSeen).toISOString();
    case 'last_seen':
      return new Date(episode.lastSeen).toISOString();
    case 'resource':
      return eventResource(context.event) ?? '';
    case 'client_ip':
      return eventClientIp(context.event) ?? 'N/A';
    case 'new_values':
      return rule.kind === 'correlation' && rule.firstSeen ? pairsText(rule.firstSeen.fields, context) : '';
    case 'group':
      return pairsText(rule.kind === 'correlation' ? rule.groupBy : rule.suppressionGroupBy, context);
    default:
      return fieldText(context.get(path));
  }
}

/** `user_id=alice, server_hostname=pi-1`: the values an alert is about, named. */
function pairsText(fields: readonly FieldRef[], context: EventContext): string {
  return fields.map((field) => `${field.name}=${fieldText(context.get(field.path))}`).join(', ');
}
