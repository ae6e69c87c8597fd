import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '@auditflow/common';
import type { NotificationMetrics } from '../metrics.ts';
import type { Notification, NotificationItem, OutputSender } from '../delivery/outputs/notification.ts';
import type { CrowdsecOutput } from '../delivery/outputs-config.ts';
import { AddressAllowlist, canonicalAddress, unbannableReason } from './address-allowlist.ts';
import { CrowdsecLapiClient, type EnforcingOutput } from './crowdsec-lapi-client.ts';
import type { Decision, ResponseStore } from './response-store.ts';

export interface CrowdsecSenderDeps {
  store: ResponseStore;
  metrics: NotificationMetrics;
  logger: Logger;
}

/** The alert fields a decision reads (the API row JSON). */
interface ResponseAlert {
  alert_id: string;
  correlation_id?: string | null;
  alert_name?: string;
  rule_id?: string | null;
  client_ip?: string | null;
  raw_event_data?: { details?: { ip_address?: unknown } } | null;
}

/**
 * The crowdsec output: each alert the route tree sends here becomes one decision (a ban of its
 * source address for the output's duration), recorded first and, in enforce mode, pushed to
 * the Local API. A retried delivery finds the recorded decision and, before pushing, asks the
 * LAPI whether an earlier attempt already made it, so a ban is made once. Resolutions change
 * nothing: a decision lasts its duration or until undone.
 */
export class CrowdsecSender implements OutputSender {
  readonly #output: CrowdsecOutput;
  readonly #deps: CrowdsecSenderDeps;
  readonly #allowlist: AddressAllowlist;
  readonly #lapi: CrowdsecLapiClient | undefined;
  readonly #actor: string;

  constructor(output: CrowdsecOutput, deps: CrowdsecSenderDeps) {
    this.#output = output;
    this.#deps = deps;
    this.#allowlist = new AddressAllowlist(output.allowlist);
    this.#lapi = isEnforcing(output) ? new CrowdsecLapiClient(output) : undefined;
    this.#actor = `output ${output.name}`;
  }

  /** The client undo uses; undefined in dry-run mode (nothing was pushed). */
  get lapi(): CrowdsecLapiClient | undefined {
    return this.#lapi;
  }

  get output(): CrowdsecOutput {
    return this.#output;
  }

  async send(notification: Notification, signal: AbortSignal): Promise<void> {
    let failure: unknown;
    // Every alert of the group is handled even when one push fails; the retry finds the others done.
    for (const item of notification.items) {
      if (item.kind !== 'firing') continue;
      try {
        await this.#handle(item, signal);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  async #handle(item: NotificationItem, signal: AbortSignal): Promise<void> {
    const alert = item.alert as unknown as ResponseAlert;
    const { store } = this.#deps;
    // Every line about this decision carries the alert's correlation id, like the rest of its trail.
    const logger = this.#deps.logger.child({ correlation_id: alert.correlation_id ?? undefined, alert_id: alert.alert_id, output: this.#output.name });
    const address = sourceAddress(alert);
    const skip = address === undefined ? 'no valid source address on the alert' : (unbannableReason(address) ?? (await this.#allowlisted(address)));
    const mode = this.#output.mode;
    const rule = alert.rule_id ?? alert.alert_name ?? 'unknown rule';
    const { decision, created } = await store.decide(
      {
        id: randomUUID(),
        alertId: alert.alert_id,
        output: this.#output.name,
        mode,
        address: address ?? null,
        durationMs: this.#output.durationMs,
        state: skip !== undefined ? 'skipped' : mode === 'dry-run' ? 'recorded' : 'pending',
        reason: skip ?? null,
        decidedBy: `rule ${rule} via ${this.#actor}`,
      },
      `ban ${address ?? '(none)'} for ${formatDuration(this.#output.durationMs)} (${mode})`,
    );
    if (created) {
      if (decision.state !== 'pending') this.#count(decision.state === 'skipped' ? 'skipped' : 'recorded');
      logger.info(
        { decision_id: decision.id, address, mode, state: decision.state, reason: decision.reason },
        decision.state === 'skipped' ? 'response decision skipped' : 'response decision made',
      );
    }
    if (decision.state === 'pending') await this.#push(decision, rule, logger, signal);
  }

  async #push(decision: Decision, rule: string, logger: Logger, signal: AbortSignal): Promise<void> {
    const { store } = this.#deps;
    const address = decision.address!;
    // Checked again right before the push: a dashboard user may have appeared at the address since.
    const late = await this.#allowlisted(address);
    if (late !== undefined) {
      if (await store.markSkipped(decision, late, this.#actor)) this.#count('skipped');
      logger.info({ decision_id: decision.id, address, reason: late }, 'response decision skipped before the push');
      return;
    }
    const lapi = this.#lapi;
    if (lapi === undefined) {
      // Switched from enforce to dry-run while the push waited: the operator asked for nothing to be
      // pushed, so the decision is recorded as a dry-run one instead of failing the delivery forever.
      const detail = `output "${this.#output.name}" is now dry-run: recorded, not pushed`;
      if (await store.markRecorded(decision, detail, this.#actor)) this.#count('recorded');
      logger.info({ decision_id: decision.id, address }, 'pending response decision recorded: the output is now dry-run');
      return;
    }
    const request = {
      decisionId: decision.id,
      address,
      durationMs: decision.duration_seconds * 1000,
      scenario: `auditflow/${rule}`,
      message: `AuditFlow alert ${decision.alert_id}: ${decision.decided_by}`,
    };
    try {
      const found = await lapi.findBan(request, signal);
      const ban = found ?? (await lapi.keepOneBan(request, await lapi.pushBan(request, signal), signal));
      const pushed = await store.markPushed(decision, ban.lapiAlertId, ban.lapiDecisionIds, this.#actor);
      if (pushed === undefined) {
        // Undone while the push was on its way: take the ban back now.
        for (const id of ban.lapiDecisionIds) await lapi.deleteDecision(id, signal);
        logger.info({ decision_id: decision.id }, 'response decision undone during its push; ban taken back');
        return;
      }
      this.#count('pushed');
      logger.info(
        { decision_id: decision.id, address, lapi_decision_ids: ban.lapiDecisionIds },
        'response decision pushed to the CrowdSec Local API',
      );
    } catch (error) {
      this.#count('push_failed');
      logger.warn({ decision_id: decision.id, address, err: error }, 'response decision push failed; the outbox retries it');
      await store.markPushFailed(decision, (error as Error).message, this.#actor).catch(() => undefined);
      throw error;
    }
  }

  /** `allowlisted: <entry or who>` when the address must never be banned, else undefined. */
  async #allowlisted(address: string): Promise<string | undefined> {
    const entry = this.#allowlist.match(address);
    if (entry !== undefined) return `allowlisted (${entry})`;
    const operator = await this.#deps.store.operatorSeen(address, this.#output.operatorAllowMs);
    return operator === undefined ? undefined : `allowlisted (a dashboard user's address, reported by ${operator})`;
  }

  #count(outcome: string): void {
    this.#deps.metrics.responseDecisions.inc({ output: this.#output.name, mode: this.#output.mode, outcome });
  }
}

/** The source address of an alert: the flattened `client_ip`, else the event's `details.ip_address`. */
export function sourceAddress(alert: ResponseAlert): string | undefined {
  for (const candidate of [alert.client_ip, alert.raw_event_data?.details?.ip_address]) {
    if (typeof candidate !== 'string') continue;
    const address = canonicalAddress(candidate);
    if (address !== undefined && isIP(address) !== 0) return address;
  }
  return undefined;
}

function isEnforcing(output: CrowdsecOutput): output is EnforcingOutput {
  return output.mode === 'enforce' && output.url !== undefined && output.machineId !== undefined && output.password !== undefined;
}

function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
