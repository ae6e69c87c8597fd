import { RuleNotFoundError, ValidationError } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { alertIdOf } from '../engine/alert-builder.ts';
import type { AnalysisEngine } from '../engine/analysis-engine.ts';
import { groupKeyFromPairs, scopeOf } from '../engine/group-key.ts';
import { meetsCondition, type Rule, thresholdOf } from '../rules/rule-set.ts';
import type { WindowStore } from '../store/window-store.ts';
import { memberTag } from '../store/window-store.ts';

/** GET /rules and GET /rules/:id/state: what is loaded, and where a group stands against it. */
export function registerRuleRoutes(app: FastifyInstance, engine: AnalysisEngine, store: WindowStore): void {
  app.get('/rules', async () => ({
    file: engine.rules.fileName,
    rules: engine.rules.rules.map((rule) => describeRule(rule, engine)),
  }));

  app.get<{ Params: { id: string }; Querystring: { group?: string } }>('/rules/:id/state', async (request) => {
    const rule = engine.rules.byId.get(request.params.id);
    if (!rule) throw new RuleNotFoundError(request.params.id);
    const pairs = parseGroup(request.query.group);
    const fields = rule.kind === 'correlation' ? [...rule.groupBy, ...(rule.firstSeen?.fields ?? [])] : rule.suppressionGroupBy;
    for (const name of pairs.keys()) {
      if (!fields.some((field) => field.name === name)) {
        throw new ValidationError(`rule ${rule.id} groups by ${fields.map((f) => f.name).join(', ') || 'nothing'}; '${name}' is not one of them`);
      }
    }
    const group = groupKeyFromPairs(fields, pairs);
    if (rule.kind === 'correlation' && rule.firstSeen) {
      // The combination is known only when every field was given.
      const complete = fields.every((field) => pairs.has(field.name));
      const state = await store.readFirstSeen(rule.id, complete ? group.text : undefined);
      const until = state.learningStart === undefined ? undefined : state.learningStart + rule.firstSeen.learningMs;
      return {
        rule_id: rule.id,
        group_key: group.values,
        first_seen: {
          learning_started: state.learningStart === undefined ? null : new Date(state.learningStart).toISOString(),
          learning_until: until === undefined ? null : new Date(until).toISOString(),
          values: state.size,
          max_values: rule.firstSeen.maxValues,
          combination_last_seen: state.lastSeen === undefined ? null : new Date(state.lastSeen).toISOString(),
        },
        window: null,
        suppression: null,
      };
    }
    const span = rule.kind === 'correlation' ? rule.timespanMs : 0;
    const state = await store.readState(scopeOf(rule.id, group), span);
    const cooldownMs = engine.cooldownMsOf(rule);
    return {
      rule_id: rule.id,
      group_key: group.values,
      window: rule.kind === 'correlation' ? windowView(rule, state.entries, state.watermark) : null,
      suppression: state.episode
        ? {
            alert_id: alertIdOf(rule.id, group, state.episode.anchor),
            count: state.episode.count,
            first_seen: new Date(state.episode.firstSeen).toISOString(),
            last_seen: new Date(state.episode.lastSeen).toISOString(),
            cooldown_seconds: cooldownMs / 1000,
            open_until: new Date(state.episode.lastSeen + cooldownMs).toISOString(),
            event_ids: state.episode.sample,
          }
        : null,
    };
  });
}

function windowView(rule: Extract<Rule, { kind: 'correlation' }>, entries: { member: string; ts: number }[], watermark: number | undefined) {
  let current: number;
  if (rule.type === 'event_count') current = entries.length;
  else if (rule.type === 'value_count') current = new Set(entries.map((e) => memberTag(e.member))).size;
  else current = new Set(entries.map((e) => memberTag(e.member))).size;
  const threshold = rule.type === 'event_count' || rule.type === 'value_count' ? thresholdOf(rule.condition) : rule.sources.length;
  return {
    type: rule.type,
    timespan_seconds: rule.timespanMs / 1000,
    watermark: watermark === undefined ? null : new Date(watermark).toISOString(),
    current,
    threshold: threshold ?? null,
    condition: rule.condition ?? null,
    meets_condition: rule.condition ? meetsCondition(current, rule.condition) : current >= rule.sources.length,
    entries: entries.length,
  };
}

function describeRule(rule: Rule, engine: AnalysisEngine) {
  const common = {
    id: rule.id,
    name: rule.name ?? null,
    title: rule.title,
    description: rule.description,
    status: rule.status ?? null,
    level: rule.level,
    tags: rule.tags,
    alerts: rule.alerts,
    line: rule.line,
    cooldown_seconds: engine.cooldownMsOf(rule) / 1000,
    alert: {
      alert_name: rule.alert.alertName,
      alert_type: rule.alert.alertType,
      severity: rule.alert.severity,
      rule_name: rule.alert.ruleName,
      action_observed: rule.alert.actionObserved,
      resource_type: rule.alert.resourceType,
    },
  };
  if (rule.kind === 'detection') {
    return { ...common, kind: 'detection', detection: rule.detection, suppression_group_by: rule.suppressionGroupBy.map((f) => f.name) };
  }
  return {
    ...common,
    kind: 'correlation',
    correlation: {
      type: rule.type,
      rules: rule.sources,
      group_by: rule.groupBy.map((f) => f.name),
      timespan_seconds: rule.timespanMs / 1000,
      condition: rule.condition ?? null,
      field: rule.valueField?.name ?? null,
      first_seen: rule.firstSeen
        ? {
            fields: rule.firstSeen.fields.map((f) => f.name),
            learning_period_seconds: rule.firstSeen.learningMs / 1000,
            forget_after_seconds: rule.firstSeen.forgetAfterMs === undefined ? null : rule.firstSeen.forgetAfterMs / 1000,
            max_values: rule.firstSeen.maxValues,
          }
        : null,
    },
  };
}

/** `user_id=alice,server_hostname=web-01` into a map; values may be URL-encoded. */
function parseGroup(text: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  if (text === undefined || text.trim() === '') return pairs;
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) throw new ValidationError(`group must be name=value pairs separated by commas, got '${part}'`);
    let value = part.slice(at + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new ValidationError(`group value '${value}' is not valid URL encoding`);
    }
    pairs.set(part.slice(0, at).trim(), value);
  }
  return pairs;
}
