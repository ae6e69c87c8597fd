import { DeliveryError } from '../delivery/outputs/notification.ts';
import type { CrowdsecOutput } from '../delivery/outputs-config.ts';

/** The meta key that carries AuditFlow's decision id on the CrowdSec alert (docs/outputs.md). */
export const DECISION_META_KEY = 'auditflow_decision_id';
/** The `origin` of every decision AuditFlow makes, so `cscli decisions list --origin auditflow` finds them. */
export const DECISION_ORIGIN = 'auditflow';

export interface BanRequest {
  /** AuditFlow's stable decision id (response_decisions.id). */
  decisionId: string;
  address: string;
  durationMs: number;
  /** `auditflow/<rule id>`: shown by `cscli decisions list` and to bouncers. */
  scenario: string;
  message: string;
}

export interface PushedBan {
  lapiAlertId: string;
  lapiDecisionIds: string[];
}

interface LapiAlert {
  id?: number;
  meta?: { key?: string; value?: string }[] | null;
  decisions?: { id?: number }[] | null;
}

/**
 * CrowdSec 1.4 reads the login's user agent as `name/version` (it records the machine's
 * version) and refuses a login whose agent has no `/`, with a misleading "incorrect password".
 */
const USER_AGENT = 'auditflow-notification-service/1';

export type EnforcingOutput = CrowdsecOutput & { url: string; machineId: string; password: string };

/**
 * The Local API as a machine (watcher) sees it, CrowdSec 1.4: `POST /v1/watchers/login` gives a
 * JWT; `POST /v1/alerts` with decisions makes the decisions bouncers then get from
 * `GET /v1/decisions`; `GET /v1/alerts` finds alerts by ip and scenario; `DELETE
 * /v1/decisions/{id}` removes one decision. Every failure is a DeliveryError (retried by the
 * outbox unless `permanent`).
 */
export class CrowdsecLapiClient {
  readonly #output: EnforcingOutput;
  #token: { value: string; expiresAt: number } | undefined;

  constructor(output: EnforcingOutput) {
    this.#output = output;
  }

  /** The ban this decision id already made at the LAPI, if any (a retry after a lost answer). */
  async findBan(request: BanRequest, signal: AbortSignal): Promise<PushedBan | undefined> {
    return (await this.#ours(request, signal))[0];
  }

  /**
   * Leaves exactly one ban for this decision id at the LAPI: the oldest. A push whose answer timed
   * out may still land after the retry looked for it, so the retry's push can make a second alert;
   * the newer ones' decisions are deleted here, after every push, and the kept ban is returned.
   */
  async keepOneBan(request: BanRequest, pushed: PushedBan, signal: AbortSignal): Promise<PushedBan> {
    const ours = await this.#ours(request, signal);
    const [kept, ...extra] = ours.length > 0 ? ours : [pushed];
    for (const ban of extra) for (const id of ban.lapiDecisionIds) await this.deleteDecision(id, signal);
    return kept!;
  }

  /** Every ban carrying this decision id, oldest (lowest LAPI alert id) first. */
  async #ours(request: BanRequest, signal: AbortSignal): Promise<PushedBan[]> {
    const query = new URLSearchParams({ ip: request.address, scenario: request.scenario, limit: '1000' });
    const alerts = (await this.#call('GET', `/v1/alerts?${query}`, undefined, signal)) as LapiAlert[] | null;
    return (alerts ?? [])
      .filter((alert) => alert.meta?.some((m) => m.key === DECISION_META_KEY && m.value === request.decisionId))
      .sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
      .map(pushedBan);
  }

  async pushBan(request: BanRequest, signal: AbortSignal): Promise<PushedBan> {
    const at = new Date().toISOString();
    const duration = `${Math.round(request.durationMs / 1000)}s`;
    const alert = {
      scenario: request.scenario,
      scenario_hash: '',
      scenario_version: '',
      message: request.message,
      events_count: 1,
      start_at: at,
      stop_at: at,
      capacity: 0,
      leakspeed: '0',
      simulated: false,
      events: [],
      source: { scope: 'Ip', value: request.address, ip: request.address },
      meta: [{ key: DECISION_META_KEY, value: request.decisionId }],
      decisions: [
        { duration, origin: DECISION_ORIGIN, scenario: request.scenario, scope: 'Ip', type: 'ban', value: request.address },
      ],
    };
    const ids = (await this.#call('POST', '/v1/alerts', [alert], signal)) as string[] | null;
    const alertId = ids?.[0];
    if (alertId === undefined) throw new DeliveryError('POST /v1/alerts answered no alert id');
    const stored = (await this.#call('GET', `/v1/alerts/${encodeURIComponent(alertId)}`, undefined, signal)) as LapiAlert;
    return pushedBan({ ...stored, id: Number(alertId) });
  }

  async deleteDecision(id: string, signal: AbortSignal): Promise<void> {
    await this.#call('DELETE', `/v1/decisions/${encodeURIComponent(id)}`, undefined, signal);
  }

  async #call(method: string, path: string, body: unknown, signal: AbortSignal, retried = false): Promise<unknown> {
    const token = await this.#login(signal);
    const response = await this.#fetch(method, path, body, { authorization: `Bearer ${token}` }, signal);
    if (response.status === 401 && !retried) {
      // The JWT expired early (a LAPI restart with a new secret): log in again, once.
      this.#token = undefined;
      return this.#call(method, path, body, signal, true);
    }
    return this.#json(method, path, response);
  }

  async #login(signal: AbortSignal): Promise<string> {
    if (this.#token !== undefined && this.#token.expiresAt > Date.now() + 60_000) return this.#token.value;
    const body = { machine_id: this.#output.machineId, password: this.#output.password, scenarios: [] };
    const response = await this.#fetch('POST', '/v1/watchers/login', body, {}, signal);
    // A refused login is retried like an outage: the machine may not be validated yet (`cscli machines validate`).
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new DeliveryError(`login as machine "${this.#output.machineId}" refused (HTTP ${response.status}): check the machine and its password`);
    }
    const answer = (await this.#json('POST', '/v1/watchers/login', response)) as { token?: string; expire?: string };
    if (typeof answer.token !== 'string') throw new DeliveryError('POST /v1/watchers/login answered no token');
    const expiresAt = Date.parse(answer.expire ?? '') || Date.now() + 600_000;
    this.#token = { value: answer.token, expiresAt };
    return answer.token;
  }

  async #fetch(method: string, path: string, body: unknown, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.#output.url}${path}`, {
        method,
        headers: { 'user-agent': USER_AGENT, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#output.timeoutMs)]),
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.#output.timeoutMs} ms` : (cause?.code ?? (error as Error).message);
      throw new DeliveryError(`${method} ${this.#output.url}${path.split('?')[0]}: ${reason}`, false, error);
    }
  }

  async #json(method: string, path: string, response: Response): Promise<unknown> {
    const text = await response.text().catch(() => '');
    const where = `${method} ${path.split('?')[0]}`;
    if (response.status < 200 || response.status >= 300) {
      // A malformed request stays malformed; everything else (outage, overload, auth) may pass.
      const permanent = response.status === 400 || response.status === 422;
      throw new DeliveryError(`${where}: HTTP ${response.status} ${text.slice(0, 200)}`.trim(), permanent);
    }
    try {
      return text === '' ? null : JSON.parse(text);
    } catch {
      throw new DeliveryError(`${where}: the answer is not JSON`);
    }
  }
}

function pushedBan(alert: LapiAlert): PushedBan {
  return {
    lapiAlertId: String(alert.id),
    lapiDecisionIds: (alert.decisions ?? []).map((d) => d.id).filter((id) => id !== undefined).map(String),
  };
}
